// Models (shapes, paper parameter counts, full-size smoke forward, LKA/LCAM structure), losses,
// and training (checkpoint/resume equality, no tensor leaks, abort).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import { buildModel, parameterCounts, LargeKernelAttention3d, ConvBlock, Dropout3d, SIANet, SpatiotemporalRefinement } from '../../../src/modules/nowcast/model.ts';
import { FULL, SMALL, TINY } from '../../../src/modules/nowcast/geometry.ts';
import { weightedBce, spatialSmoothness, temporalSmoothness, releasedSmoothness, releasedSmoothnessScaled, RELEASED_SUM_TERMS, nowcastLoss, DEFAULT_LOSS } from '../../../src/modules/nowcast/losses.ts';
import { train, DEFAULT_TRAIN, MemoryDataset, recalibrateBatchNorm, type TrainOptions } from '../../../src/modules/nowcast/train.ts';
import { Rng } from '../../../src/core/rng.ts';
import { fakeContext, tmpDir } from '../../helpers/context.ts';

test('output shapes: SIANet-S y_early/y_final on the 8² block, logits at 48²; baseline-S maps 48² → 48²', () => {
  torch.manualSeed(0);
  const x = torch.randn([2, 4, 4, 48, 48]);
  const s = buildModel({ model: 'sianet', geometry: SMALL, inChannels: 4, startFilters: 4, depth: 4, strHidden: 8 });
  const o = torch.noGrad(() => s.forward(x));
  assert.deepEqual(o.early!.shape, [2, 1, 8, 8, 8]);
  assert.deepEqual(o.final!.shape, [2, 1, 8, 8, 8]);
  assert.deepEqual(o.logits.shape, [2, 1, 8, 48, 48]);
  const u = buildModel({ model: 'unet3d', geometry: SMALL, inChannels: 4, startFilters: 4, depth: 4 });
  assert.deepEqual(torch.noGrad(() => u.forward(x)).logits.shape, [2, 1, 8, 48, 48]);
  // y_early is exactly the head's crop: rows 20…27 of the full-grid head output
  const full = torch.noGrad(() => { s.eval(); const b = (s as SIANet).body.forward(x); return (s as SIANet).head.forward(b); });
  const e2 = torch.noGrad(() => s.forward(x)).early!;
  assert.ok(full.narrow(3, 20, 8).narrow(4, 20, 8).reshape([2, 1, 8, 8, 8]).allclose(e2, 1e-5, 1e-6));
  s.dispose(); u.dispose();
});

/**
 * Closed-form parameter counts of the parts at the full geometry (C input channels, 4 → T slots,
 * start width f, 5 levels, STR width h), counted by hand from the layers: conv weights and biases,
 * BatchNorm weight and bias.
 */
function expectedParts(kind: 'unet3d' | 'sianet', f: number, C = 11, T = 32, h = 64) {
  const outs = [0, 1, 2, 3, 4].map((i) => f * 2 ** i), ins = [C, ...outs.slice(0, 4)];
  // plain block: conv3³ (27·in·out + out) → BN (2·out) → conv3³ (27·out² + out) → BN (2·out)
  // factorised block: conv1×3×3 (9·in·out + out) → BN → conv3×1×1 (3·out² + out) → conv3³ (27·out² + out) → BN
  const block = (i: number, o: number) => (kind === 'unet3d' ? 27 * i * o + 27 * o * o + 6 * o : 9 * i * o + 30 * o * o + 7 * o);
  const encoder = outs.reduce((s, o, k) => s + block(ins[k]!, o), 0);
  // decoder level to width o: ConvTranspose3d 2³ (2o → o: 16·o² + o) → BN (2·o) → block (2o → o)
  const decoder = outs.slice(0, 4).reduce((s, o) => s + 16 * o * o + 3 * o + block(2 * o, o), 0);
  const head = f * 4 * T + T; // 1×1×1 conv from f·tIn channels to T
  if (kind === 'unet3d') return { encoder, decoder, head };
  // STR attention: proj_in 1→h, depthwise 5³ and 7³ (dilation 3), pointwise h→h, proj_out h→1, all with bias
  const strAttention = 2 * h + (125 * h + h) + (343 * h + h) + (h * h + h) + (h + 1);
  // STR refiner: conv3³ 1→h and conv3³ h→h, both WITHOUT bias (the released code's Learnable_Filter), each → BN;
  // two bottlenecks of width w = h/2 (1³, 3³, 1³ convs without bias, BN after each; a projected shortcut from h);
  // conv1³ 4w → 1 without bias
  const w = h / 2;
  const bottleneck = (i: number) => i * w + 2 * w + 27 * w * w + 2 * w + w * 4 * w + 2 * 4 * w + (i !== 4 * w ? i * 4 * w + 2 * 4 * w : 0);
  const strRefiner = 27 * h + 2 * h + 27 * h * h + 2 * h + bottleneck(h) + bottleneck(4 * w) + 4 * w;
  return { encoder, decoder, head, strAttention, strRefiner };
}

test('parameter counts match paper B Table 4 (5.7M/4.6M and 22.6M/17.9M) at start widths 16 and 32, and the released code per part', () => {
  const c = parameterCounts([16, 32]);
  const M = (n: number) => (n / 1e6).toFixed(1);
  assert.equal(M(c[0]!.unet3d), '5.7'); assert.equal(M(c[0]!.sianet), '4.6');
  assert.equal(M(c[1]!.unet3d), '22.6'); assert.equal(M(c[1]!.sianet), '17.9');
  // exact values (conv biases and BatchNorm affine included)
  assert.equal(c[0]!.unet3d, 5654720); assert.equal(c[0]!.sianet, 4638721);
  // SIANet at start width 32: the released code's 17,857,825 (its STR refiner's second conv has no bias)
  const s = c[1]!;
  assert.equal(s.sianet, 17_857_825);
  assert.deepEqual(s.parts.sianet, { encoder: 12_052_352, decoder: 5_575_360, head: 4_128, strAttention: 34_433, strRefiner: 191_552 });
  assert.deepEqual(s.parts.sianet, expectedParts('sianet', 32));
  assert.equal(Object.values(s.parts.sianet).reduce((a, b) => a + b, 0), s.sianet);
  assert.deepEqual(s.parts.unet3d, { encoder: 14_143_584, decoder: 8_447_200, head: 4_128 });
  assert.deepEqual(s.parts.unet3d, expectedParts('unet3d', 32));
  assert.equal(Object.values(s.parts.unet3d).reduce((a, b) => a + b, 0), s.unet3d);
  assert.deepEqual(c[0]!.parts.sianet, expectedParts('sianet', 16));
  // LCAM changes the blocks only: the same head and STR
  assert.deepEqual([s.parts.sianetLcam.head, s.parts.sianetLcam.strAttention, s.parts.sianetLcam.strRefiner], [4_128, 34_433, 191_552]);
});

test('the STR refiner\'s convolutions carry no bias (the released code), its attention\'s do', () => {
  const str = new SpatiotemporalRefinement(8);
  assert.equal(str.c1.bias, null); assert.equal(str.c2.bias, null); assert.equal(str.out.bias, null);
  assert.ok(str.lka.projIn.bias && str.lka.dw5.bias && str.lka.dw7.bias && str.lka.pw.bias && str.lka.projOut.bias);
  str.dispose();
});

test('full-size smoke test: SIANet (252², 32 slots, f = 32) runs one forward pass', () => {
  torch.manualSeed(1);
  const m = buildModel({ model: 'sianet', geometry: FULL, inChannels: 11, startFilters: 32 });
  m.eval();
  const o = torch.noGrad(() => m.forward(torch.randn([1, 11, 4, 252, 252])));
  assert.deepEqual(o.logits.shape, [1, 1, 32, 252, 252]);
  assert.deepEqual(o.early!.shape, [1, 1, 32, 42, 42]);
  assert.ok(o.logits.isfinite().all().item());
  torch.dispose(o);
  m.dispose();
});

test('STR large-kernel attention: the dilated 7³ depthwise conv sees 19³; LCAM groups are independent; Dropout3d drops whole channels', () => {
  const lka = new LargeKernelAttention3d(2, 'float64');
  const x = torch.zeros([1, 2, 25, 25, 25], { dtype: 'float64', requiresGrad: true });
  const y = lka.dw7.forward(x);
  y.at(0, 0, 12, 12, 12).backward();
  const g = x.grad!.at(0, 0).ne(0).nonzero();
  const span = [0, 1, 2].map((d) => { const col = g.at(null, d).toArray(); return Math.max(...col) - Math.min(...col) + 1; });
  assert.deepEqual(span, [19, 19, 19]);
  const blk = new ConvBlock('lcam', 4, 4, 0, { groups: 2, kernels: [3, 5] }, 'float64');
  assert.deepEqual(blk.lcam!.convs.map((c) => c.weight.shape), [[2, 2, 1, 3, 3], [2, 2, 1, 5, 5]]);
  assert.deepEqual(blk.lcam!.convs.map((c) => c.dilation), [[1, 3, 3], [1, 3, 3]]);
  const h = torch.randn([1, 4, 2, 12, 12], { dtype: 'float64' });
  const h2 = h.clone(); h2.at(0, 0).add_(1);
  const a = blk.lcam!.forward(h), b = blk.lcam!.forward(h2);
  assert.ok(a.narrow(1, 2, 2).equal(b.narrow(1, 2, 2)), 'group 1 ignores group 0 channels');
  assert.ok(!a.narrow(1, 0, 2).equal(b.narrow(1, 0, 2)));
  torch.manualSeed(3);
  const d = new Dropout3d(0.5).forward(torch.ones([4, 8, 2, 3, 3]));
  const per = d.reshape([32, 18]);
  for (let i = 0; i < 32; i++) { const v = per.at(i).toArray(); assert.ok(v.every((z) => z === v[0]) && (v[0] === 0 || v[0] === 2)); }
  lka.dispose(); blk.dispose();
});

test('losses: masked weighted BCE conventions, smoothness terms on hand-worked fields, deep supervision', () => {
  const z = torch.tensor([2, -1, 0.5, 3], { dtype: 'float64' }), y = torch.tensor([1, 0, 1, 0], { dtype: 'float64' });
  const m = torch.tensor([false, false, false, true]);
  const sp = (v: number) => Math.log1p(Math.exp(v));
  const l = [4 * sp(-2), sp(-1), 4 * sp(-0.5)];
  assert.ok(Math.abs(weightedBce(z, y, m, 4, 'exclude').item() - (l[0]! + l[1]! + l[2]!) / 3) < 1e-12);
  assert.ok(Math.abs(weightedBce(z, y, m, 4, 'zero').item() - (l[0]! + l[1]! + l[2]! + Math.log(2)) / 4) < 1e-12);
  // constant fields: both smoothness terms vanish; a checkerboard has |P − box(P)| = 4/9 inside
  const c = torch.full([1, 1, 3, 6, 6], 0.3, { dtype: 'float64' });
  assert.ok(spatialSmoothness(c).item() < 1e-15 && temporalSmoothness(c).item() < 1e-15);
  const cb = torch.tensor(Array.from({ length: 36 }, (_, k) => ((Math.floor(k / 6) + (k % 6)) % 2)), { dtype: 'float64', shape: [1, 1, 1, 6, 6] });
  const inner = torch.F.avgPool2d(cb.reshape([1, 1, 6, 6]), 3, { stride: 1 }).sub(cb.reshape([1, 1, 6, 6]).narrow(2, 1, 4).narrow(3, 1, 4)).abs();
  assert.ok(inner.sub(4 / 9).abs().max().item() < 1e-12, 'every interior pixel differs from its 3×3 mean by 4/9');
  assert.ok(spatialSmoothness(cb).item() > 0.3);
  const t = torch.tensor([0, 0.5, 0.25], { dtype: 'float64', shape: [1, 1, 3, 1, 1] });
  assert.ok(Math.abs(temporalSmoothness(t).item() - (0.5 + 0.25) / 2) < 1e-12);
  assert.ok(Math.abs(releasedSmoothness(t).item() - 1e-6 * (0.25 + 0.0625)) < 1e-18);
  // released-scaled: the same 1e-6 per term as summed over the competition's 16 × 252² × 31 terms
  assert.equal(RELEASED_SUM_TERMS, 31_497_984);
  assert.ok(Math.abs(releasedSmoothnessScaled(t).item() - 1e-6 * RELEASED_SUM_TERMS * (0.25 + 0.0625) / 2) < 1e-12);
  const logits = torch.zeros([1, 1, 2, 12, 12], { dtype: 'float64' }), early = torch.full([1, 1, 2, 2, 2], 1, { dtype: 'float64' });
  const tgt = torch.ones([1, 1, 2, 12, 12], { dtype: 'float64' });
  const L = nowcastLoss({ logits, early, final: early }, tgt, null, { ...DEFAULT_LOSS, posWeight: 1, alpha: 0.2 }, 6);
  assert.ok(Math.abs(L.total.item() - (Math.log(2) + 0.2 * sp(-1))) < 1e-12);
  torch.dispose(z, y, m, c, cb, inner, t, logits, early, tgt, L.total);
});

function tinyData(seed: number): MemoryDataset {
  torch.manualSeed(seed);
  const N = 6;
  const x = torch.randn([N, 2, 4, 24, 24]).keep(), y = torch.rand([N, 1, 4, 24, 24]).lt(0.3).to('float32').keep();
  const mask = torch.rand([N, 1, 4, 24, 24]).lt(0.01).keep();
  return new MemoryDataset([{ x, y, mask, cell: 'r/2019', region: 'r', year: 2019 }]);
}

const opts = (steps: number, checkpointEvery: number, dropout = 0): TrainOptions => ({
  ...DEFAULT_TRAIN, model: { model: 'sianet', geometry: TINY, inChannels: 2, startFilters: 2, depth: 2, dropout, strHidden: 4 },
  steps, batchSize: 2, lr: 1e-2, augment: 'policy', evalEvery: 2, checkpointEvery, seed: 4, loss: { ...DEFAULT_LOSS, smooth: 'paper' },
  // the post-training BatchNorm re-estimation (DEFAULT_TRAIN's 8 batches) would end the first half too
  recalibrateBn: 0,
});

/** Every tensor of the two state dicts (parameters and BatchNorm buffers) is exactly equal. */
function assertSameState(a: torch.nn.Module, b: torch.nn.Module, what: string): void {
  const sa = a.stateDict(), sb = b.stateDict();
  assert.deepEqual(Object.keys(sb).sort(), Object.keys(sa).sort());
  for (const k of Object.keys(sa)) assert.ok(sa[k]!.equal(sb[k]!), `${what}: ${k} differs`);
}

test('training: interrupted and resumed from its checkpoint (core training kit) equals the uninterrupted run bit for bit; no tensor leaks', () => {
  const data = tinyData(0);
  // dropout on, so libtorch's generator (saved in the checkpoint) matters as well as the model,
  // the optimiser and the plateau schedule
  const full = train(opts(6, 0, 0.2), data, data);
  const dir = tmpDir();
  const ctx1 = fakeContext({ dir, seed: 4 });
  let ticks = 0;
  ctx1.progress = () => ({ tick: () => { if (++ticks === 3) ctx1.abort.abort(); }, update: () => {}, done: () => {} });
  assert.throws(() => train(opts(6, 2, 0.2), data, data, ctx1), /interrupted/);
  const ctx2 = fakeContext({ dir, seed: 4, resuming: true });
  const resumed = train(opts(6, 2, 0.2), data, data, ctx2);
  assert.equal(resumed.resumedFrom, 3);
  assert.ok(ctx2.logs.some((l) => /resumed model from step 3/.test(l)));
  assertSameState(full.model, resumed.model, 'after resume');
  assert.deepEqual(resumed.losses, full.losses.slice(3));
  assert.equal(resumed.lr, full.lr);
  // the resumed run logged each step once
  assert.deepEqual(ctx2.metrics.rows('train').map((r) => r.step), [1, 2, 3, 4, 5, 6]);
  // live tensors do not grow across training steps
  const before = torch.liveTensors();
  const again = train(opts(3, 0), data, data);
  again.model.dispose();
  assert.ok(torch.liveTensors() - before <= 0, `leaked ${torch.liveTensors() - before} tensors`);
  full.model.dispose(); resumed.model.dispose();
  for (const s of data.sets) torch.dispose(s.x, s.y, s.mask);
});

test('training: N/2 steps, the final checkpoint, then N/2 more in a fresh model and optimiser equals N straight (exactly)', () => {
  const data = tinyData(1);
  const straight = train(opts(8, 0, 0.2), data, data);
  const dir = tmpDir();
  const first = train(opts(4, 0, 0.2), data, data, fakeContext({ dir, seed: 4 }));
  first.model.dispose();
  const second = train(opts(8, 0, 0.2), data, data, fakeContext({ dir, seed: 4, resuming: true }));
  assert.equal(second.resumedFrom, 4);
  assertSameState(straight.model, second.model, 'N/2 + N/2');
  assert.deepEqual(second.losses, straight.losses.slice(4));
  assert.deepEqual(second.valLosses, straight.valLosses.slice(2));
  assert.equal(second.lr, straight.lr);
  // a checkpoint of another model in the same run is not resumed from
  const other = train(opts(8, 0, 0.2), data, data, fakeContext({ dir, seed: 4, resuming: true }), 'baseline');
  assert.equal(other.resumedFrom, null);
  straight.model.dispose(); second.model.dispose(); other.model.dispose();
  for (const s of data.sets) torch.dispose(s.x, s.y, s.mask);
});

test('bad parameters give clear errors', () => {
  assert.throws(() => buildModel({ model: 'sianet', geometry: TINY, inChannels: 2, startFilters: 0 }), /startFilters must be a positive integer/);
  assert.throws(() => buildModel({ model: 'nope' as never, geometry: TINY, inChannels: 2, startFilters: 2 }), /unknown model 'nope'/);
  const data = tinyData(1);
  assert.throws(() => train({ ...opts(2, 0), lr: 0 }, data, null), /lr must be > 0/);
  assert.throws(() => train(opts(2, 0), new MemoryDataset([]), null), /training set is empty/);
  for (const s of data.sets) torch.dispose(s.x, s.y, s.mask);
});

test('recalibrateBatchNorm: running stats become the plain average of batch statistics, dropout off, parameters untouched', () => {
  torch.manualSeed(3);
  class Net extends torch.nn.Module {
    readonly drop = this.child('drop', new Dropout3d(0.9));
    readonly bn = this.child('bn', new torch.nn.BatchNorm3d(2, { momentum: 0.01 }));
    forward(x: torch.Tensor) { return this.bn.forward(this.drop.forward(x)); }
  }
  const net = new Net();
  const x = torch.randn([8, 2, 1, 3, 3]).mul(2).add(5).keep();
  const data = new MemoryDataset([{ x, y: torch.zeros([8, 1, 1, 3, 3]).keep(), mask: torch.zeros([8, 1, 1, 3, 3], { dtype: 'bool' }).keep(), cell: 'c', region: 'r', year: 0 }]);
  const w0 = net.bn.weight!.clone().keep();
  const before = torch.liveTensors();
  recalibrateBatchNorm(net, data, 2, 4, 0);
  assert.equal(torch.liveTensors(), before);
  assert.equal(net.bn.momentum, 0.01, 'momentum restored');
  assert.equal(net.training, true);
  // the two batches are a permutation of the 8 samples split in halves: each batch's mean/unbiased var, averaged
  const sd = net.bn.stateDict();
  const batches = [0, 1].map((k) => torch.scope(() => {
    const order = new Rng(0 * 7919 + 17).permutation(8).slice(4 * k, 4 * k + 4);
    const b = data.batch(order).x;
    return { m: b.mean([0, 2, 3, 4]).keep(), v: b.var([0, 2, 3, 4]).keep() };
  }));
  const m = batches[0]!.m.add(batches[1]!.m).div(2), v = batches[0]!.v.add(batches[1]!.v).div(2);
  assert.ok(sd.running_mean!.allclose(m, 1e-5, 1e-5), `${sd.running_mean!.toArray()} vs ${m.toArray()}`);
  assert.ok(sd.running_var!.allclose(v, 1e-4, 1e-4), `${sd.running_var!.toArray()} vs ${v.toArray()}`);
  assert.ok(net.bn.weight!.equal(w0));
  torch.dispose(x, w0);
});
