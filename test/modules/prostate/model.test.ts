// MNet: head shapes, parameter count vs the analytic formula, pooling rule, FMU variants, a
// finite-difference gradient check, the focal + CE losses on hand-worked values, and memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import { MNet, analyticParamCount, FULL_WIDTHS, pool3d, fmu, deepSupervisionScales, ConvBlock } from '../../../src/modules/prostate/model.ts';
import { focalLoss, focalCE, deepSupervisionLoss } from '../../../src/modules/prostate/losses.ts';

torch.manualSeed(0);

test('full-width MNet (6 in, 2 out): parameter count equals the analytic count from the block tables', () => {
  const net = new MNet({});
  const d = net.describe();
  assert.equal(d.total, analyticParamCount({ inChannels: 6, numClasses: 2, widths: FULL_WIDTHS, fmu: 'sub' }));
  assert.equal(d.total, 8_780_608);
  // one block by hand: down11.CB2d = conv 6→32 (1×3×3) + IN + conv 32→32 + IN
  const cb = d.blocks.find((b) => b.name === 'down11')!;
  const cb2d = 6 * 32 * 9 + 32 + 64 + 32 * 32 * 9 + 32 + 64;
  const cb3d = 6 * 32 * 27 + 32 + 64 + 32 * 32 * 27 + 32 + 64;
  assert.equal(cb.params, cb2d + cb3d);
  // heads: bias-free 1×1×1 convs on 32, 48, 48, 64, 64, 80, 80 channels
  const heads = d.blocks.filter((b) => /^out\d$/.test(b.name)).map((b) => b.params);
  assert.deepEqual(heads, [32, 48, 48, 64, 64, 80, 80].map((c) => 2 * c));
  net.dispose();
  // the 'cat' FMU doubles every fused input
  const cat = new MNet({ widths: [4, 6, 8, 10, 12], fmu: 'cat' });
  assert.equal(cat.numParameters(), analyticParamCount({ inChannels: 6, numClasses: 2, widths: [4, 6, 8, 10, 12], fmu: 'cat' }));
  assert.ok(cat.numParameters() > analyticParamCount({ inChannels: 6, numClasses: 2, widths: [4, 6, 8, 10, 12], fmu: 'sub' }));
  cat.dispose();
});

test('forward shapes of the seven heads for a 16×64×64 patch match the worked shape trace and the deep-supervision scales', () => {
  const net = new MNet({ widths: [2, 2, 2, 2, 2] });
  const outs = torch.noGrad(() => net.forward(torch.scope(() => torch.randn([1, 6, 16, 64, 64]))));
  const shapes = outs.map((o) => o.shape.slice(2).join('x'));
  assert.deepEqual(shapes, ['16x64x64', '8x32x32', '16x32x32', '4x16x16', '16x16x16', '4x8x8', '16x8x8']);
  const sc = deepSupervisionScales(16);
  outs.forEach((o, i) => assert.deepEqual(o.shape.slice(2), [16, 64, 64].map((n, a) => n * sc[i]![a]!)));
  outs.forEach((o) => assert.equal(o.shape[1], 2));
  torch.dispose(outs);
  // deep supervision off: one output; Z < 8 keeps every 3-D pooling in-plane
  const one = new MNet({ widths: [2, 2, 2, 2, 2], deepSupervision: false });
  const o1 = torch.noGrad(() => one.forward(torch.scope(() => torch.randn([1, 6, 4, 32, 32]))));
  assert.equal(o1.length, 1);
  assert.deepEqual(o1[0]!.shape, [1, 2, 4, 32, 32]);
  torch.dispose(o1);
  const z8 = torch.zeros([1, 1, 8, 4, 4]), z7 = torch.zeros([1, 1, 7, 4, 4]);
  const p8 = pool3d(z8, 8), p7 = pool3d(z7, 8);
  assert.deepEqual(p8.shape, [1, 1, 4, 2, 2]);
  assert.deepEqual(p7.shape, [1, 1, 7, 2, 2]);
  torch.dispose([z8, z7, p8, p7]);
  assert.throws(() => net.forward(torch.zeros([1, 3, 8, 32, 32])), /6/);
  net.dispose(); one.dispose();
});

test('FMU variants: |a−b|, a+b, concatenation', () => {
  const a = torch.tensor([[1, -2], [3, 4]]), b = torch.tensor([[4, 1], [3, -1]]);
  assert.deepEqual(fmu(a, b, 'sub').toArray(), [3, 3, 0, 5]);
  assert.deepEqual(fmu(a, b, 'sum').toArray(), [5, -1, 6, 3]);
  assert.deepEqual(fmu(a, b, 'cat').shape, [2, 4]);
  assert.throws(() => fmu(a, torch.zeros([3]), 'sub'), /differ/);
});

test('gradient check (float64, widths 2): autograd matches central differences', () => {
  const net = new MNet({ widths: [2, 2, 2, 2, 2], dtype: 'float64' });
  const x = torch.randn([1, 6, 8, 16, 16], { dtype: 'float64' });
  const y = torch.scope(() => torch.rand([1, 8, 16, 16]).gt(0.8).to('int64'));
  const lossOf = () => torch.scope(() => deepSupervisionLoss(net.forward(x), y));
  const l = lossOf();
  l.backward();
  l.dispose();
  const named = Object.fromEntries(net.namedParameters());
  const picks: [string, number][] = [['down11.CB3d.conv1.weight', 5], ['bottleneck5.CB3d.conv2.weight', 13], ['up14.CB2d.norm2.bias', 1], ['out1.weight', 2], ['up23.CB3d.norm1.weight', 0], ['bottleneck2.CB2d.conv1.weight', 4]];
  for (const [name, idx] of picks) {
    const p = named[name]!;
    const g = p.grad!.reshape([-1]).toArray()[idx]!;
    const h = 1e-6;
    const flat = () => p.view([-1]);
    const bump = (d: number) => torch.noGrad(() => torch.scope(() => { const f = flat(); const e = f.narrow(0, idx, 1); e.add_(d); }));
    bump(h); const lp = lossOf(); const vp = lp.item(); lp.dispose();
    bump(-2 * h); const lm = lossOf(); const vm = lm.item(); lm.dispose();
    bump(h);
    const fd = (vp - vm) / (2 * h);
    assert.ok(Math.abs(g) > 1e-4, `${name}[${idx}]: pick a voxel with a non-trivial gradient (got ${g})`);
    assert.ok(Math.abs(fd - g) <= 1e-5 * Math.max(1, Math.abs(g)), `${name}[${idx}]: autograd ${g} vs finite difference ${fd}`);
  }
  net.dispose(); x.dispose(); y.dispose();
});

test('focal and CE losses on a hand-worked voxel; deep supervision of uniform logits equals the single-head value', () => {
  // logits (0, ln 3) → p = (0.25, 0.75); target 1: pt = 1e-5·0.25 + (1 − 1e-5)·0.75 + 1e-5
  const logits = torch.tensor([0, Math.log(3)], { dtype: 'float64' }).reshape([1, 2, 1, 1, 1]);
  const t = torch.tensor([1], { dtype: 'int64' }).reshape([1, 1, 1, 1]);
  const pt = 1e-5 * 0.25 + (1 - 1e-5) * 0.75 + 1e-5;
  const fl = -((1 - pt) ** 2) * Math.log(pt);
  assert.ok(Math.abs(focalLoss(logits, t).item() - fl) < 1e-12);
  assert.ok(Math.abs(focalCE(logits, t).item() - (0.5 * fl + 0.5 * -Math.log(0.75))) < 1e-12);
  // seven heads of zero logits: each head's loss is the same constant, so the weighted mean is too
  const outs = [[16, 64, 64], [8, 32, 32], [16, 32, 32], [4, 16, 16], [16, 16, 16], [4, 8, 8], [16, 8, 8]].map((s) => torch.zeros([1, 2, ...s], { dtype: 'float64' }));
  const y = torch.scope(() => torch.rand([1, 16, 64, 64]).gt(0.5).to('int64'));
  const p0 = 0.5 + 1e-5;
  const c = 0.5 * (-((1 - p0) ** 2) * Math.log(p0)) + 0.5 * Math.LN2;
  assert.ok(Math.abs(deepSupervisionLoss(outs, y).item() - c) < 1e-9);
  torch.dispose([logits, t, outs, y]);
});

test('gradient clipping rescales to the max total norm', () => {
  const p = torch.zeros([2], { dtype: 'float64' }).requiresGrad_();
  const l = torch.scope(() => p.mul(torch.tensor([30, 40], { dtype: 'float64' })).sum());
  l.backward();
  assert.ok(Math.abs(torch.optim.clipGradNorm([p], 12) - 50) < 1e-9);
  const g = p.grad!.toArray();
  assert.ok(Math.abs(Math.hypot(g[0]!, g[1]!) - 12) < 1e-4);
  torch.dispose([p, l]);
});

test('a training step does not leak tensors', () => {
  const net = new MNet({ widths: [2, 2, 2, 2, 2] });
  const opt = new torch.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  const x = torch.randn([1, 6, 8, 16, 16]);
  const y = torch.scope(() => torch.rand([1, 8, 16, 16]).gt(0.9).to('int64'));
  const step = () => torch.scope(() => {
    opt.zeroGrad();
    const l = deepSupervisionLoss(net.forward(x), y);
    l.backward();
    torch.optim.clipGradNorm(net.parameters(), 12);
    opt.step();
  });
  step(); step();
  const before = torch.liveTensors();
  for (let i = 0; i < 3; i++) step();
  assert.equal(torch.liveTensors(), before);
  const cb = new ConvBlock(2, 3, '2d', 'float32');
  assert.deepEqual(cb.conv1.weight.shape, [3, 2, 1, 3, 3]);
  opt.dispose(); net.dispose(); cb.dispose(); torch.dispose([x, y]);
});
