import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../../src/core/torch/index.ts';
import { runCommand, resumeRun, RunInterrupted } from '../../../src/core/runner.ts';
import '../../../src/modules/cartoon/commands.ts';
import { CartoonTrainer, DEFAULT_TRAIN, loadModel, trainOptions } from '../../../src/modules/cartoon/train.ts';
import { PRESETS } from '../../../src/modules/cartoon/config.ts';
import { fakeContext } from '../../helpers/context.ts';
import { SyntheticSource, planarToTensor } from '../../../src/modules/cartoon/data.ts';
import { makeScene } from '../../../src/modules/cartoon/scenes.ts';
import { Rng } from '../../../src/core/rng.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cartoon-train-'));
const tiny = { size: 32, channels: 8, scenes: 5, batch: 5, stage1Steps: 12, stage2Steps: 4, lr: 2e-3, checkpointEvery: 4 };

test('two-stage training: losses logged, critic and colour losses decrease, stage 2 moves only the abstraction unit', async () => {
  const { run, summary } = await runCommand('cartoon', 'train', tiny, { root, seed: 3 });
  assert.equal(run.status, 'done');
  const rows = fs.readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 16);
  assert.deepEqual(rows.map((r) => r.stage), [...Array(12).fill(1), ...Array(4).fill(2)]);
  for (const r of rows) for (const k of ['d', 'adv', 'content', 'tv', 'color', 'paired']) assert.ok(Number.isFinite(r[k]), `${k} at step ${r.step}`);
  const mean = (k: string, a: number, b: number) => rows.slice(a, b).reduce((s, r) => s + r[k], 0) / (b - a);
  assert.ok(mean('color', 9, 12) < mean('color', 0, 3), `colour loss ${mean('color', 0, 3)} → ${mean('color', 9, 12)}`);
  assert.ok(mean('d', 9, 12) < mean('d', 0, 3), `critic loss ${mean('d', 0, 3)} → ${mean('d', 9, 12)}`);
  assert.ok(mean('paired', 9, 12) < mean('paired', 0, 3));
  assert.ok(rows.slice(12).every((r) => r.color === 0), 'stage 2 trains with L_texture only');
  assert.ok(fs.existsSync(path.join(run.dir, 'losses.png')));
  // stage 2 changed the abstraction unit only: compare the stage-1-end checkpoint with the final model
  const s1 = torch.loadSafetensors(path.join(run.dir, 'checkpoints', 'step-000012.safetensors')).tensors;
  const { model, info } = loadModel((summary as { model: string }).model);
  assert.equal(info.abstractionOn, true);
  assert.equal(info.steps, 16);
  for (const [k, v] of Object.entries(model.stateDict())) {
    const same = s1[`model.G.${k}`]!.equal(v);
    assert.equal(same, !k.startsWith('controller.abstraction.'), `${k} ${same ? 'unchanged' : 'changed'}`);
  }
  torch.dispose(s1);
  model.dispose();
});

test('an interrupted training run resumes from its checkpoint and ends bit for bit like an uninterrupted one', async () => {
  const ac = new AbortController();
  let id = '';
  let metrics = 0;
  const params = { ...tiny, scenes: 3, stage1Steps: 4, stage2Steps: 2, checkpointEvery: 2 };
  await assert.rejects(runCommand('cartoon', 'train', params, {
    root, seed: 5, signal: ac.signal,
    onEvent: (e) => { if (e.type === 'start') id = e.run.id; if (e.type === 'metric' && ++metrics === 3) ac.abort(); },
  }), RunInterrupted);
  const resumed = await resumeRun(id, { root });
  assert.equal(resumed.run.status, 'done');
  const full = await runCommand('cartoon', 'train', params, { root, seed: 5 });
  const a = loadModel(path.join(resumed.run.dir, 'model.safetensors')).model, b = loadModel(path.join(full.run.dir, 'model.safetensors')).model;
  const sa = a.stateDict(), sb = b.stateDict();
  let maxDiff = 0;
  torch.scope(() => { for (const k of Object.keys(sa)) maxDiff = Math.max(maxDiff, sa[k]!.sub(sb[k]!).abs().max().item()); });
  assert.equal(maxDiff, 0, `resumed vs uninterrupted weights differ by ${maxDiff}`);
  a.dispose(); b.dispose();
});

test('resume is bit-identical: 6 steps straight = 3 steps + checkpoint + restore into a fresh trainer + 3 steps', () => {
  const o = trainOptions({ ...PRESETS.quick, stage1Steps: 4, stage2Steps: 2, channels: 4, discWidth: 4 });
  const src = new SyntheticSource(32, 3, 1);
  const seed = 9;
  torch.manualSeed(11);
  const straight = new CartoonTrainer(o);
  while (straight.step < 6) straight.advance(src, seed);
  const ctx = fakeContext({ seed });
  torch.manualSeed(11);
  const first = new CartoonTrainer(o);
  while (first.step < 3) first.advance(src, seed);
  first.save(ctx.checkpoints);
  first.dispose();
  torch.manualSeed(12); // other initial weights: everything must come from the checkpoint
  const resumed = new CartoonTrainer(o);
  const r = resumed.restore(ctx.checkpoints);
  assert.equal(r?.tag, 'step-000003');
  assert.equal(resumed.step, 3);
  while (resumed.step < 6) resumed.advance(src, seed); // crosses into stage 2
  torch.noGrad(() => torch.scope(() => {
    for (const [name, a, b] of [['G', straight.G, resumed.G], ['D', straight.D, resumed.D]] as const) {
      const sa = a.stateDict(), sb = b.stateDict();
      for (const k of Object.keys(sa)) assert.ok(sa[k]!.equal(sb[k]!), `${name}.${k} differs after resume`);
    }
    for (const [name, a, b] of [['G', straight.optG, resumed.optG], ['D', straight.optD, resumed.optD], ['A', straight.optA, resumed.optA]] as const) {
      const sa = a.stateDict(), sb = b.stateDict();
      assert.deepEqual(sb.scalars, sa.scalars, `optimizer ${name} step counts`);
      for (const k of Object.keys(sa.tensors)) assert.ok(sa.tensors[k]!.equal(sb.tensors[k]!), `optimizer ${name} ${k} differs after resume`);
    }
  }));
  assert.equal(resumed.G.controller.abstractionOn, straight.G.controller.abstractionOn);
  straight.dispose(); resumed.dispose();
});

test('training steps do not leak native tensors; a bad model file gives a clear error', () => {
  const src = new SyntheticSource(32, 4, 1);
  const tr = new CartoonTrainer({ ...DEFAULT_TRAIN, batch: 5, model: { channels: 4 }, discWidth: 4 });
  const step = (t: number) => {
    const rng = CartoonTrainer.stepRng(0, t);
    const lvs = tr.levelsFor(rng, t < 3 ? 1 : 2);
    const b = tr.drawBatch(src, rng, lvs);
    tr.trainStep(b, rng, lvs, t < 3 ? 1 : 2);
    torch.dispose(b);
  };
  for (let t = 0; t < 6; t++) step(t); // every branch and optimizer slot exists now
  const live = torch.liveTensors();
  for (let t = 6; t < 9; t++) step(t % 6);
  assert.equal(torch.liveTensors(), live);
  tr.dispose();
  const bad = path.join(root, 'bad.safetensors');
  fs.writeFileSync(bad, Buffer.from([1, 2, 3]));
  assert.throws(() => loadModel(bad), /bad\.safetensors/);
  assert.throws(() => loadModel(path.join(root, 'missing.safetensors')), /no such model file/);
  void planarToTensor; void makeScene; void Rng;
});

test('trains from folders of user photos (real PNG/JPEG) and cartoons (PNG written here), unpaired', async () => {
  const { writeImage } = await import('../../../src/core/io/image.ts');
  const { renderCartoon, lineWidth } = await import('../../../src/modules/cartoon/scenes.ts');
  const fixtures = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../fixtures/cartoon');
  const photos = path.join(root, 'photos'), cartoons = path.join(root, 'cartoons');
  fs.mkdirSync(photos); fs.mkdirSync(cartoons);
  for (const f of ['astronaut.png', 'chelsea.jpg']) fs.copyFileSync(path.join(fixtures, f), path.join(photos, f));
  const rng = new Rng(8);
  for (let i = 0; i < 2; i++) {
    const t = planarToTensor([renderCartoon(makeScene(rng, 48), 1, lineWidth(1, 48))]);
    await writeImage(path.join(cartoons, `c${i}.png`), t);
    t.dispose();
  }
  const { run, summary } = await runCommand('cartoon', 'train', { ...tiny, photos, cartoons, stage1Steps: 2, stage2Steps: 1, checkpointEvery: 10 }, { root, seed: 2 });
  assert.equal(run.status, 'done');
  const rows = fs.readFileSync(path.join(run.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 3);
  assert.ok(rows.every((r) => r.paired === 0), 'no paired loss without pairs');
  assert.match(String((summary as { data: string }).data), /photos/);
  await assert.rejects(runCommand('cartoon', 'train', { ...tiny, photos }, { root }), /--cartoons/);
  await assert.rejects(runCommand('cartoon', 'train', { ...tiny, photos: path.join(root, 'none'), cartoons }, { root }), /not a folder/);
});

test('[ours] photo augmentation of the procedural pool: deterministic, in range, photos and maps change, paired targets do not', () => {
  torch.noGrad(() => torch.scope(() => {
    const plain = new SyntheticSource(32, 3, 5), aug = new SyntheticSource(32, 3, 5, { augment: true });
    const lv = { level: 2, ks: 3, ka: 2 };
    const a = aug.batch(new Rng(1), 4, lv), a2 = aug.batch(new Rng(1), 4, lv), p = plain.batch(new Rng(1), 4, lv);
    assert.deepEqual(a.photo.toArray(), a2.photo.toArray());
    assert.ok(a.photo.min().item() >= 0 && a.photo.max().item() <= 1);
    assert.ok(a.photo.sub(p.photo).abs().mean().item() > 0.005, 'augmentation left the photos unchanged');
    assert.ok(a.map.sub(p.map).abs().max().item() > 0, 'the colour map did not follow the tone change');
    assert.deepEqual(a.paired!.toArray(), p.paired!.toArray());
  }));
});
