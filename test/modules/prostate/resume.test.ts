// Both loops resume bit for bit through the core training kit: N steps straight equal N/2 steps,
// an interruption (which writes the 'last' checkpoint), and N/2 more in a fresh network and
// optimizer restored from it — parameters exactly equal, not merely close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../../src/core/torch/index.ts';
import { fakeContext, type FakeContext } from '../../helpers/context.ts';
import { MNet, type MNetConfig } from '../../../src/modules/prostate/model.ts';
import { writePhantomDataset } from '../../../src/modules/prostate/phantoms.ts';
import { loadPrepared, toNetCases } from '../../../src/modules/prostate/data.ts';
import { trainDetector, type TrainOptions } from '../../../src/modules/prostate/train.ts';
import { pretrainSSL, type PretrainOptions } from '../../../src/modules/prostate/pretrain.ts';

torch.setNumThreads(1);
const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'prostate-resume-')), 'data');
const ds = writePhantomDataset(root, { cases: 6, dims: [32, 32, 8], seed: 4, lesionVoxels: [30, 120], positiveRate: 0.5 });
const prepared = loadPrepared(root, ds.keys);

/** Aborts the context once `table` has logged a row whose `key` is `at` (as Ctrl-C would between steps). */
function abortAt(ctx: FakeContext, table: string, key: string, at: number): void {
  const log = ctx.metrics.log.bind(ctx.metrics);
  ctx.metrics.log = (row, name) => { log(row, name); if (name === table && row[key] === at) ctx.abort.abort(); };
}

function assertSameWeights(a: MNet, b: MNet): void {
  const sa = a.stateDict(), sb = b.stateDict();
  assert.deepEqual(Object.keys(sb), Object.keys(sa));
  for (const k of Object.keys(sa)) assert.ok(sa[k]!.equal(sb[k]!), `weights differ at ${k}`);
}

test('trainDetector: 6 iterations straight = 3, interrupted, then 3 more in a fresh network restored from the checkpoint', async () => {
  const cfg: Partial<MNetConfig> = { widths: [4, 4, 4, 4, 4] };
  const cases = toNetCases(prepared.slice(0, 4)), val = toNetCases(prepared.slice(4));
  const o: Partial<TrainOptions> = { iterations: 6, iterationsPerEpoch: 2, batch: 2, patch: [8, 32, 32], lr: 0.02, seed: 5, checkpointEvery: 100 };
  torch.manualSeed(1);
  const straight = new MNet(cfg);
  const a = await trainDetector(straight, cases, o, fakeContext(), val);

  torch.manualSeed(1);
  const first = new MNet(cfg);
  const ctx1 = fakeContext();
  abortAt(ctx1, 'train', 'iteration', 3);
  await assert.rejects(trainDetector(first, cases, o, ctx1, val), /interrupted/);
  first.dispose();

  torch.manualSeed(99); // a different initialisation: everything must come from the checkpoint
  const resumed = new MNet(cfg);
  const ctx2 = fakeContext({ dir: ctx1.dir, resuming: true });
  const b = await trainDetector(resumed, cases, o, ctx2, val);
  assert.ok(ctx2.logs.some((l) => l === "resuming from checkpoint 'last' (iteration 3)"), ctx2.logs.join('\n'));
  assertSameWeights(straight, resumed);
  assert.deepEqual(b.losses, a.losses.slice(3));
  assert.equal(b.valDiceMA, a.valDiceMA);
  assert.deepEqual(ctx2.metrics.rows('train').map((r) => r.loss), a.losses, 'every iteration logged once');
  straight.dispose(); resumed.dispose();
});

test('pretrainSSL: 3 epochs straight = 1, interrupted, then 2 more in a fresh network; the best weights and history carry over', async () => {
  const cfg: Partial<MNetConfig> = { widths: [4, 4, 4, 4, 4], numClasses: 3, deepSupervision: false };
  const o: Partial<PretrainOptions> = {
    epochs: 3, batchesPerEpoch: 2, batch: 2, cube: [8, 32, 32], cubesPerCase: 2, seed: 2, patience: 10,
    ssl: { shuffleBoxes: 50, bezierSamples: 1000 },
  };
  torch.manualSeed(1);
  const straight = new MNet(cfg);
  const a = await pretrainSSL(straight, prepared.slice(2), prepared.slice(0, 2), o, fakeContext());

  torch.manualSeed(1);
  const first = new MNet(cfg);
  const ctx1 = fakeContext();
  abortAt(ctx1, 'pretrain', 'epoch', 1);
  await assert.rejects(pretrainSSL(first, prepared.slice(2), prepared.slice(0, 2), o, ctx1), /interrupted/);
  first.dispose();

  torch.manualSeed(99);
  const resumed = new MNet(cfg);
  const ctx2 = fakeContext({ dir: ctx1.dir, resuming: true });
  const b = await pretrainSSL(resumed, prepared.slice(2), prepared.slice(0, 2), o, ctx2);
  assert.ok(ctx2.logs.includes("resuming from checkpoint 'last' (epoch 1)"), ctx2.logs.join('\n'));
  assertSameWeights(straight, resumed);
  assert.equal(b.initialVal, a.initialVal);
  assert.equal(b.bestVal, a.bestVal);
  assert.deepEqual(b.history, a.history);
  for (const k of Object.keys(a.best)) assert.ok(a.best[k]!.equal(b.best[k]!), `best weights differ at ${k}`);
  torch.dispose([a.best, b.best]);
  straight.dispose(); resumed.dispose();
});
