// End to end at fixture size, as a user arrives with the releases: the images release layout
// (<patient>/<case>_{t2w,adc,hbv}.mha), a picai_labels checkout and the official-style splits →
// train → detect (with the run's model.safetensors and with its training checkpoint) → evaluate
// the picai_eval way → compare two algorithms; and `demo` leads to `detect`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../../src/core/runner.ts';
import '../../../src/modules/prostate/commands.ts';
import { loadSafetensors } from '../../../src/core/torch/index.ts';
import { readImage } from '../../../src/modules/prostate/picai.ts';

const REL = 'test/fixtures/prostate/release';
const MAPS_DIR = 'test/fixtures/prostate/picai_eval/test-maps';
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prostate-e2e-'));

function sameMaps(a: string, b: string): void {
  const fa = fs.readdirSync(a).filter((f) => f.includes('_detection_map')).sort();
  assert.deepEqual(fa, fs.readdirSync(b).filter((f) => f.includes('_detection_map')).sort());
  for (const f of fa) assert.deepEqual(readImage(path.join(a, f)).data, readImage(path.join(b, f)).data, f);
}

test('release layout → train (official splits, fold 0) → detect (model and checkpoint) → evaluate --detections --labels → compare-algorithms', async () => {
  const data = { data: `${REL}/images`, labels: `${REL}/picai_labels`, splits: `${REL}/splits/picai_nnunet/splits.json` };
  const tr = await runCommand('prostate', 'train', {
    ...data, fold: 0, iterations: 10, iterationsPerEpoch: 5, widthMult: 0.125, patch: '8x32x32', lr: 0.05, augment: false, checkpointEvery: 5,
  }, { root, seed: 0 });
  assert.equal(tr.run.status, 'done');
  const s = tr.summary as { trainCases: number; testCases: number };
  assert.deepEqual([s.trainCases, s.testCases], [8, 2]);
  const model = path.join(tr.run.dir, 'model.safetensors');
  const meta = JSON.parse(loadSafetensors(model).metadata.paperlab!) as { config: { widths: number[] }; zonal: boolean };
  assert.ok(meta.config.widths.length === 5 && meta.zonal, 'the architecture travels in the safetensors __metadata__');

  const det = await runCommand('prostate', 'detect', { ...data, model, png: false }, { root });
  assert.equal((det.summary as { cases: number }).cases, 10);
  const ck = await runCommand('prostate', 'detect', { ...data, model: path.join(tr.run.dir, 'checkpoints', 'final.safetensors'), png: false }, { root });
  assert.equal(ck.run.status, 'done');
  sameMaps(path.join(det.run.dir, 'detections'), path.join(ck.run.dir, 'detections'));
  // the loop's 'best' checkpoint (weights alone, by online validation Dice) is taken too
  const best = await runCommand('prostate', 'detect', { ...data, fold: 0, model: path.join(tr.run.dir, 'checkpoints', 'best.safetensors'), png: false }, { root });
  assert.equal((best.summary as { cases: number }).cases, 2);

  const ev = await runCommand('prostate', 'evaluate', { detections: path.join(det.run.dir, 'detections'), labels: `${REL}/picai_labels`, bootstrap: 20 }, { root });
  const m = ev.summary as { num_cases: number; num_lesions: number; auroc: number; AP: number };
  assert.deepEqual([m.num_cases, m.num_lesions], [10, 5], 'every case, the AI-labelled one included; the unlabelled case negative');
  assert.ok(m.auroc >= 0 && m.auroc <= 1 && m.AP >= 0 && m.AP <= 1);
  const report = JSON.parse(fs.readFileSync(path.join(ev.run.dir, 'metrics.json'), 'utf8')) as { lesion_results: Record<string, unknown>; ci: unknown };
  assert.equal(Object.keys(report.lesion_results).length, 10);
  assert.ok(report.ci);
  // the held-out cases of fold 0 of the official splits, as train evaluated them
  const ev0 = await runCommand('prostate', 'evaluate', {
    detections: path.join(det.run.dir, 'detections'), labels: `${REL}/picai_labels`, splits: data.splits, fold: 0, bootstrap: 0,
  }, { root });
  assert.equal((ev0.summary as { num_cases: number }).num_cases, 2);
  await assert.rejects(runCommand('prostate', 'evaluate', { detections: MAPS_DIR, labels: MAPS_DIR, splits: data.splits }, { root }), /--splits needs --fold/);

  const cmp = await runCommand('prostate', 'compare-algorithms', {
    a: path.join(det.run.dir, 'detections'), b: path.join(ck.run.dir, 'detections'), labels: `${REL}/picai_labels`, iterations: 2000,
  }, { root });
  const c = cmp.summary as { method: string; metrics: Record<string, { diff: number; p_two_sided: number }> };
  assert.equal(c.method, 'exact');
  for (const v of Object.values(c.metrics)) { assert.equal(v.diff, 0); assert.equal(v.p_two_sided, 1); }
  assert.ok(fs.existsSync(path.join(cmp.run.dir, 'comparison.json')));
});

test('demo writes model.safetensors; detect takes it, and its training checkpoint, directly', async () => {
  const demo = await runCommand('prostate', 'demo', { cases: 10, iterations: 8 }, { root, seed: 0 });
  assert.equal(demo.run.status, 'done');
  const phantoms = path.join(demo.run.dir, 'phantoms');
  const a = await runCommand('prostate', 'detect', { data: phantoms, model: demo.run.dir, fold: 0, png: false }, { root });
  const b = await runCommand('prostate', 'detect', { data: phantoms, model: path.join(demo.run.dir, 'checkpoints', 'final.safetensors'), fold: 0, png: false }, { root });
  assert.equal(a.run.status, 'done');
  assert.equal(b.run.status, 'done');
  sameMaps(path.join(a.run.dir, 'detections'), path.join(b.run.dir, 'detections'));
  // a checkpoint whose record is missing is refused with a clear error, not "unexpected keys optim.*"
  const lone = path.join(root, 'lone.safetensors');
  fs.copyFileSync(path.join(demo.run.dir, 'checkpoints', 'final.safetensors'), lone);
  await assert.rejects(runCommand('prostate', 'detect', { data: phantoms, model: lone, png: false }, { root }), /lone\.safetensors: no 'paperlab' entry in the safetensors __metadata__/);
});

test('ablation on the release fixture writes each row\'s detector (models/<variant>.safetensors) for detect', async () => {
  const data = { data: `${REL}/images`, labels: `${REL}/picai_labels`, splits: `${REL}/splits/picai`, fold: 1 };
  const ab = await runCommand('prostate', 'ablation', { ...data, variants: ['no-zonal'], iterations: 4, patch: '8x32x32' }, { root, seed: 0 });
  assert.equal(ab.run.status, 'done');
  const model = path.join(ab.run.dir, 'models', 'no-zonal.safetensors');
  const det = await runCommand('prostate', 'detect', { ...data, model, png: false }, { root });
  assert.equal((det.summary as { cases: number }).cases, 2, 'fold 1 of the ds-config folder holds out two cases');
});
