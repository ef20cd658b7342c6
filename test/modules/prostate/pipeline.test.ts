// End to end on phantoms: SSL restoration loss falls, a width-reduced detector trained on phantoms
// beats chance and frozen random weights on held-out phantoms, and the CLI path
// train → detect → evaluate writes real files; an interrupted train run resumes exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../../src/core/torch/index.ts';
import { runCommand, resumeRun } from '../../../src/core/runner.ts';
import '../../../src/modules/prostate/commands.ts';
import { MNet } from '../../../src/modules/prostate/model.ts';
import { writePhantomDataset } from '../../../src/modules/prostate/phantoms.ts';
import { loadPrepared } from '../../../src/modules/prostate/data.ts';
import { pretrainSSL } from '../../../src/modules/prostate/pretrain.ts';
import { runPipeline } from '../../../src/modules/prostate/pipeline.ts';
import { readNifti } from '../../../src/modules/prostate/nifti.ts';
import { loadCase } from '../../../src/modules/prostate/picai.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prostate-e2e-'));
const dataset = (name: string, cases: number, seed: number) => {
  const root = path.join(tmp, name);
  const r = writePhantomDataset(root, { cases, dims: [32, 32, 8], seed, lesionVoxels: [30, 120], positiveRate: 0.5 });
  return { root, ...r };
};

test('SSL: restoration MSE on held-out phantom cubes drops by at least 30%', async () => {
  const { root, keys } = dataset('ssl', 6, 5);
  const cases = loadPrepared(root, keys);
  torch.manualSeed(1);
  const net = new MNet({ widths: [4, 6, 8, 10, 12], numClasses: 3, deepSupervision: false });
  const r = await pretrainSSL(net, cases.slice(2), cases.slice(0, 2), {
    epochs: 3, batchesPerEpoch: 4, batch: 4, cube: [8, 32, 32], cubesPerCase: 2, seed: 1, patience: 10,
    ssl: { shuffleBoxes: 300, bezierSamples: 5000 },
  }, null);
  const drop = 1 - r.bestVal / r.initialVal;
  console.log(`# SSL held-out restoration MSE ${r.initialVal.toFixed(4)} → ${r.bestVal.toFixed(4)} (${(100 * drop).toFixed(1)}% lower)`);
  assert.ok(drop >= 0.3, `MSE fell only ${(100 * drop).toFixed(1)}%`);
  torch.dispose(r.best);
  net.dispose();
});

test('a width-reduced Z-nnMNet trained on phantoms beats chance and frozen random weights on held-out phantoms', async () => {
  const { root, keys } = dataset('detect', 24, 1);
  const train = keys.slice(0, 16), test = keys.slice(16);
  const pos = test.filter((k) => Array.from(loadCase(root, k).label!.data).some((v) => v > 0)).length;
  assert.ok(pos > 0 && pos < test.length, 'held-out set holds both classes');
  torch.manualSeed(0);
  // [recon] lr 0.05 (paper 0.01) compresses 125,000 iterations into 60 for CI
  const r = await runPipeline(root, train, test, {
    widths: [4, 6, 8, 10, 12], variant: 'mesh', zonal: true, fmu: 'sub',
    train: { iterations: 60, iterationsPerEpoch: 10, batch: 2, patch: [8, 32, 32], lr: 0.05, seed: 0 },
    pretrain: null, inferPatch: [8, 32, 32], mirrorTTA: false, baselines: true,
  }, null);
  const f = (m: { auroc: number; AP: number; score: number }) => `AUROC ${m.auroc.toFixed(3)} AP ${m.AP.toFixed(3)} score ${m.score.toFixed(3)}`;
  console.log(`# trained: ${f(r.metrics)} | frozen random: ${f(r.randomMetrics!)} | intensity threshold: ${f(r.thresholdMetrics!)}`);
  assert.ok(r.metrics.auroc >= 0.8, `AUROC ${r.metrics.auroc}`);
  assert.ok(r.metrics.AP >= 0.5, `AP ${r.metrics.AP}`);
  const rand = Number.isFinite(r.randomMetrics!.score) ? r.randomMetrics!.score : 0;
  assert.ok(r.metrics.score > rand + 0.2, `score ${r.metrics.score} vs frozen random ${rand}`);
  for (const d of r.detections) assert.ok(d.detection.every((v) => v >= 0 && v <= 1));
  r.net.dispose();
});

test('CLI path: train (resumable, exact resume) → detect (NIfTI/MHA + PNG) → evaluate (metrics JSON, curves)', async () => {
  const root = path.join(tmp, 'runs');
  const params = { cases: 6, phantomShape: '8x32x32', patch: '8x32x32', widthMult: 0.0625, iterations: 6, iterationsPerEpoch: 3, checkpointEvery: 2, fold: 0 };
  const full = await runCommand('prostate', 'train', params, { root, seed: 3 });
  assert.equal(full.run.status, 'done');
  const dir = full.run.dir;
  for (const f of ['model.safetensors', 'model.json', 'metrics.json', 'train_loss.png', 'checkpoints/final.safetensors', 'checkpoints/best.safetensors', 'validation.csv']) assert.ok(fs.existsSync(path.join(dir, f)), f);
  const metrics = JSON.parse(fs.readFileSync(path.join(dir, 'metrics.json'), 'utf8'));
  for (const k of ['auroc', 'AP', 'score', 'num_cases', 'num_lesions', 'lesion_results', 'case_pred', 'case_target']) assert.ok(k in metrics, k);

  // interrupt at iteration 3, resume, and compare with the uninterrupted run
  const ac = new AbortController();
  await assert.rejects(runCommand('prostate', 'train', params, {
    root, seed: 3, signal: ac.signal,
    onEvent: (e) => { if (e.type === 'metric' && e.table === 'train' && e.row.iteration === 3) ac.abort(); },
  }), /interrupted/);
  const { RunStore } = await import('../../../src/core/runs.ts');
  const store = new RunStore(root);
  const interrupted = store.list().find((r) => r.status === 'interrupted')!;
  store.close();
  assert.ok(interrupted, 'an interrupted run is recorded');
  const resumed = await resumeRun(interrupted.id, { root });
  assert.equal(resumed.run.status, 'done');
  const a = torch.loadSafetensors(path.join(dir, 'model.safetensors')).tensors;
  const b = torch.loadSafetensors(path.join(resumed.run.dir, 'model.safetensors')).tensors;
  assert.deepEqual(Object.keys(b).sort(), Object.keys(a).sort());
  for (const k of Object.keys(a)) assert.ok(a[k]!.equal(b[k]!), `resumed weights differ at ${k}`);
  torch.dispose([a, b]);
  const log = fs.readFileSync(path.join(resumed.run.dir, 'log.txt'), 'utf8');
  assert.match(log, /resuming from checkpoint 'last' \(iteration 3\)/);

  // detect on the phantoms written by the train run, then evaluate the maps it wrote
  const data = path.join(dir, 'phantoms');
  const det = await runCommand('prostate', 'detect', { data, model: dir, format: 'mha' }, { root });
  const detDir = path.join(det.run.dir, 'detections');
  const maps = fs.readdirSync(detDir).filter((f) => f.endsWith('_detection_map.mha'));
  assert.equal(maps.length, 6);
  assert.equal(fs.readdirSync(path.join(det.run.dir, 'png')).filter((f) => f.endsWith('.png')).length, 6);
  const ev = await runCommand('prostate', 'evaluate', { data, detections: detDir, bootstrap: 20 }, { root });
  const m = JSON.parse(fs.readFileSync(path.join(ev.run.dir, 'metrics.json'), 'utf8'));
  assert.equal(m.num_cases, 6);
  assert.ok(fs.existsSync(path.join(ev.run.dir, 'curves.json')));
  // a NIfTI detection map opens with our reader and lies on the T2W grid
  // a two-member ensemble (the same model twice gives the same maps as one member)
  const d2 = await runCommand('prostate', 'detect', { data, model: `${path.join(dir, 'model.safetensors')},${resumed.run.dir}`, fold: 0, png: false }, { root });
  const nii = fs.readdirSync(path.join(d2.run.dir, 'detections')).find((f) => f.endsWith('_detection_map.nii.gz'))!;
  const v = readNifti(path.join(d2.run.dir, 'detections', nii));
  assert.deepEqual(v.dims, [32, 32, 8]);
  // bad parameters and inputs are named
  await assert.rejects(runCommand('prostate', 'detect', { data, model: path.join(tmp, 'missing') }, { root }), /missing.*does not exist/);
  await assert.rejects(runCommand('prostate', 'train', { ...params, patch: '8x32' }, { root }), /patch/);
  const desc = await runCommand('prostate', 'describe', {}, { root });
  assert.equal((desc.summary as { matches: boolean }).matches, true);
});
