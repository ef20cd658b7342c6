// gradcheck in float64: every differentiable op the facade exposes, analytic gradient (autograd
// through the dispatcher) against central finite differences. The hottest ops take the addon's
// unboxed fast paths by default; the ops that have one are checked again with them off (the boxed
// path), so gradcheck covers both (issue #27 item 6; test/core/fastpath.test.ts compares them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/core/torch/index.ts';
import { Tensor } from '../../src/core/torch/index.ts';
import { native } from '../../src/core/torch/native.ts';

const { F } = torch;
const d64 = { dtype: 'float64' as const };

/** max relative error between autograd and central differences of sum(w ⊙ f(inputs)). */
function gradcheck(f: (...xs: Tensor[]) => Tensor, shapes: number[][], o: { positive?: boolean; eps?: number; init?: (i: number) => Tensor } = {}): number {
  return torch.scope(() => {
    torch.manualSeed(7);
    const xs = shapes.map((s, i) => {
      const t = o.init ? o.init(i) : o.positive ? torch.rand(s, d64).add(0.5) : torch.randn(s, d64);
      return t.detach().clone().requiresGrad_();
    });
    const out0 = f(...xs);
    const w = torch.randn(out0.shape, d64);
    const scalar = (ys: Tensor[]) => torch.scope(() => f(...ys).mul(w).sum().item());
    const loss = out0.mul(w).sum();
    const grads = torch.grad(loss, xs, { allowUnused: true });
    const eps = o.eps ?? 1e-6;
    let worst = 0;
    xs.forEach((x, i) => {
      const base = x.detach().toFloat64Array();
      const g = grads[i] ? grads[i]!.toFloat64Array() : new Float64Array(base.length);
      for (let j = 0; j < base.length; j++) {
        const at = (delta: number) => {
          const b = base.slice();
          b[j]! += delta;
          const ys = xs.map((y, k) => (k === i ? torch.tensor(b, { shape: x.shape, dtype: 'float64' }) : y.detach()));
          return scalar(ys);
        };
        const num = (at(eps) - at(-eps)) / (2 * eps);
        const err = Math.abs(num - g[j]!) / Math.max(1, Math.abs(num));
        worst = Math.max(worst, err);
      }
    });
    return worst;
  });
}

type Case = [name: string, f: (...xs: Tensor[]) => Tensor, shapes: number[][], opts?: { positive?: boolean; init?: (i: number) => Tensor }];
const cases: Case[] = [
  // arithmetic
  ['add', (a, b) => a.add(b, 2), [[3, 4], [3, 4]]],
  ['add scalar', (a) => a.add(1.5), [[5]]],
  ['sub', (a, b) => a.sub(b), [[3, 4], [4]]],
  ['mul', (a, b) => a.mul(b), [[3, 4], [3, 4]]],
  ['div', (a, b) => a.div(b), [[3, 4], [3, 4]], { positive: true }],
  ['rsub', (a) => a.rsub(2), [[4]]],
  ['pow tensor', (a, b) => a.pow(b), [[4], [4]], { positive: true }],
  ['pow scalar', (a) => a.pow(3), [[4]]],
  ['neg', (a) => a.neg(), [[4]]],
  ['abs', (a) => a.abs(), [[4]], { init: () => torch.tensor([-1.5, -0.3, 0.7, 2], d64) }],
  ['exp', (a) => a.exp(), [[4]]], ['expm1', (a) => a.expm1(), [[4]]],
  ['log', (a) => a.log(), [[4]], { positive: true }], ['log1p', (a) => a.log1p(), [[4]], { positive: true }],
  ['log2', (a) => a.log2(), [[4]], { positive: true }], ['log10', (a) => a.log10(), [[4]], { positive: true }],
  ['sqrt', (a) => a.sqrt(), [[4]], { positive: true }], ['rsqrt', (a) => a.rsqrt(), [[4]], { positive: true }],
  ['square', (a) => a.square(), [[4]]], ['reciprocal', (a) => a.reciprocal(), [[4]], { positive: true }],
  ['sin', (a) => a.sin(), [[4]]], ['cos', (a) => a.cos(), [[4]]], ['tan', (a) => a.tan().mul(0.1), [[4]], { init: () => torch.tensor([-0.5, 0.1, 0.3, 0.9], d64) }],
  ['atan', (a) => a.atan(), [[4]]], ['atan2', (a, b) => a.atan2(b), [[4], [4]], { positive: true }],
  ['asin', (a) => a.asin(), [[4]], { init: () => torch.tensor([-0.5, 0.1, 0.3, 0.7], d64) }],
  ['acos', (a) => a.acos(), [[4]], { init: () => torch.tensor([-0.5, 0.1, 0.3, 0.7], d64) }],
  ['tanh', (a) => a.tanh(), [[4]]], ['sigmoid', (a) => a.sigmoid(), [[4]]],
  ['relu', (a) => a.relu(), [[4]], { init: () => torch.tensor([-1, -0.2, 0.3, 2], d64) }],
  ['gelu', (a) => a.gelu(), [[4]]], ['gelu tanh', (a) => a.gelu('tanh'), [[4]]], ['silu', (a) => a.silu(), [[4]]],
  ['leakyRelu', (a) => a.leakyRelu(0.1), [[4]], { init: () => torch.tensor([-1, -0.2, 0.3, 2], d64) }],
  ['elu', (a) => a.elu(), [[4]], { init: () => torch.tensor([-1, -0.2, 0.3, 2], d64) }],
  ['softplus', (a) => a.softplus(), [[4]]], ['erf', (a) => a.erf(), [[4]]],
  ['clamp', (a) => a.clamp(-0.5, 0.5), [[4]], { init: () => torch.tensor([-1, -0.2, 0.3, 2], d64) }],
  ['maximum', (a, b) => a.maximum(b), [[4], [4]]], ['minimum', (a, b) => a.minimum(b), [[4], [4]]],
  ['where', (a, b) => torch.where(a.gt(0), a, b), [[5], [5]]],
  // reductions
  ['sum', (a) => a.sum(), [[3, 4]]], ['sum dim', (a) => a.sum(1, true), [[3, 4]]],
  ['mean', (a) => a.mean(0), [[3, 4]]], ['prod', (a) => a.prod(1), [[3, 4]]],
  ['max', (a) => a.max(), [[3, 4]]], ['maxDim', (a) => a.maxDim(1)[0], [[3, 4]]], ['min', (a) => a.min(), [[6]]],
  ['amax', (a) => a.amax(0), [[3, 4]]], ['amin', (a) => a.amin(1), [[3, 4]]],
  ['var', (a) => a.var(1), [[3, 4]]], ['std', (a) => a.std(null), [[3, 4]]],
  ['norm', (a) => a.norm(2, 1), [[3, 4]]], ['logsumexp', (a) => a.logsumexp(1), [[3, 4]]],
  ['cumsum', (a) => a.cumsum(1), [[3, 4]]], ['cumprod', (a) => a.cumprod(0), [[3, 4]]],
  ['softmax', (a) => a.softmax(1), [[3, 4]]], ['logSoftmax', (a) => a.logSoftmax(0), [[3, 4]]],
  ['sort', (a) => a.sort(1)[0], [[3, 4]]], ['topk', (a) => a.topk(2, 1)[0], [[3, 4]]], ['median', (a) => a.median(), [[5]]],
  // shape
  ['reshape', (a) => a.reshape([4, 3]).mul(a.reshape([4, 3])), [[3, 4]]], ['view', (a) => a.view(12).exp(), [[3, 4]]],
  ['permute', (a) => a.permute([2, 0, 1]).exp(), [[2, 3, 4]]], ['transpose', (a) => a.transpose(0, 1).matmul(a), [[3, 4]]],
  ['t', (a) => a.t().exp(), [[3, 4]]], ['T', (a) => a.T.exp(), [[2, 3, 4]]],
  ['squeeze/unsqueeze', (a) => a.unsqueeze(0).squeeze(0).sin(), [[3, 4]]],
  ['flatten', (a) => a.flatten(1).exp(), [[2, 3, 4]]], ['unflatten', (a) => a.unflatten(1, [2, 2]).exp(), [[3, 4]]],
  ['expand', (a) => a.expand([3, 4]).mul(torch.arange(12, undefined, 1, d64).reshape([3, 4])), [[1, 4]]],
  ['repeat', (a) => a.repeat([2, 3]).sin(), [[2, 2]]], ['repeatInterleave', (a) => a.repeatInterleave(2, 0).sin(), [[3]]],
  ['narrow', (a) => a.narrow(1, 1, 2).exp(), [[3, 4]]], ['slice', (a) => a.slice(1, 0, 4, 2).exp(), [[3, 4]]],
  ['select', (a) => a.select(0, 1).exp(), [[3, 4]]], ['at', (a) => a.at(null, [1, 3]).exp(), [[3, 4]]],
  ['indexSelect', (a) => a.indexSelect(1, torch.tensor([0, 2, 2], { dtype: 'int64' })).exp(), [[3, 4]]],
  ['gather', (a) => a.gather(1, torch.tensor([[0, 1], [2, 3], [1, 1]], { dtype: 'int64' })).exp(), [[3, 4]]],
  ['scatter', (a, b) => a.scatter(1, torch.tensor([[0], [2], [3]], { dtype: 'int64' }), b), [[3, 4], [3, 1]]],
  ['scatterAdd', (a, b) => a.scatterAdd(1, torch.tensor([[0, 0], [2, 1], [3, 3]], { dtype: 'int64' }), b), [[3, 4], [3, 2]]],
  ['indexAdd', (a, b) => a.indexAdd(0, torch.tensor([0, 2], { dtype: 'int64' }), b), [[3, 4], [2, 4]]],
  ['index', (a) => a.index([torch.tensor([0, 2], { dtype: 'int64' }), torch.tensor([1, 3], { dtype: 'int64' })]).exp(), [[3, 4]]],
  ['maskedFill', (a) => a.maskedFill(a.gt(0), 0).exp(), [[3, 4]]],
  ['cat', (a, b) => torch.cat([a, b], 1).exp(), [[2, 3], [2, 2]]], ['stack', (a, b) => torch.stack([a, b], 0).exp(), [[2, 3], [2, 3]]],
  ['split', (a) => a.split(2, 1)[1]!.exp(), [[3, 4]]], ['chunk', (a) => a.chunk(2, 0)[0]!.exp(), [[4, 3]]],
  ['unbind', (a) => a.unbind(0)[1]!.exp(), [[3, 4]]], ['flip', (a) => a.flip(1).mul(torch.arange(4, undefined, 1, d64)), [[3, 4]]],
  ['roll', (a) => a.roll(1, 1).mul(torch.arange(4, undefined, 1, d64)), [[3, 4]]],
  ['tril', (a) => a.tril().exp(), [[4, 4]]], ['triu', (a) => a.triu(1).exp(), [[4, 4]]], ['diag', (a) => a.diag().exp(), [[4, 4]]],
  ['diagonal', (a) => a.diagonal().exp(), [[3, 4]]], ['trace', (a) => a.trace(), [[4, 4]]],
  // linear algebra
  ['matmul', (a, b) => a.matmul(b), [[3, 4], [4, 2]]], ['mm', (a, b) => a.mm(b), [[3, 4], [4, 2]]],
  ['bmm', (a, b) => a.bmm(b), [[2, 3, 4], [2, 4, 2]]], ['mv', (a, b) => a.mv(b), [[3, 4], [4]]],
  ['dot', (a, b) => a.dot(b), [[4], [4]]], ['outer', (a, b) => a.outer(b), [[3], [4]]],
  ['einsum', (a, b) => torch.einsum('ij,jk->ik', a, b), [[3, 4], [4, 2]]], ['kron', (a, b) => torch.kron(a, b), [[2, 2], [2, 2]]],
  ['linalg.solve', (a, b) => torch.linalg.solve(a, b), [[3, 3], [3, 2]], { init: (i) => (i === 0 ? torch.eye(3, 3, d64).mul(3).add(torch.randn([3, 3], d64).mul(0.3)) : torch.randn([3, 2], d64)) }],
  ['linalg.inv', (a) => torch.linalg.inv(a), [[3, 3]], { init: () => torch.eye(3, 3, d64).mul(3).add(torch.randn([3, 3], d64).mul(0.3)) }],
  ['linalg.det', (a) => torch.linalg.det(a), [[3, 3]]],
  ['linalg.eigvalsh', (a) => torch.linalg.eigvalsh(a.add(a.t())), [[3, 3]]],
  ['linalg.cholesky', (a) => torch.linalg.cholesky(a.matmul(a.t()).add(torch.eye(3, 3, d64))), [[3, 3]]],
  ['linalg.qr R', (a) => torch.linalg.qr(a)[1], [[4, 3]]],
  ['linalg.norm fro', (a) => torch.linalg.norm(a), [[3, 4]]],
  // nn.functional
  ['linear', (x, w, b) => F.linear(x, w, b), [[2, 3], [4, 3], [4]]],
  ['conv1d', (x, w, b) => F.conv1d(x, w, b, { padding: 1, stride: 2 }), [[1, 2, 7], [3, 2, 3], [3]]],
  ['conv2d', (x, w, b) => F.conv2d(x, w, b, { padding: 1 }), [[1, 2, 4, 4], [3, 2, 3, 3], [3]]],
  ['conv2d groups dilation', (x, w) => F.conv2d(x, w, null, { padding: 2, dilation: 2, groups: 2 }), [[1, 2, 5, 5], [4, 1, 3, 3]]],
  ['conv3d', (x, w, b) => F.conv3d(x, w, b, { padding: 1 }), [[1, 2, 3, 3, 3], [2, 2, 3, 3, 3], [2]]],
  ['convTranspose2d', (x, w, b) => F.convTranspose2d(x, w, b, { stride: 2, padding: 1, outputPadding: 1 }), [[1, 2, 3, 3], [2, 3, 3, 3], [3]]],
  ['convTranspose3d', (x, w) => F.convTranspose3d(x, w, null, { stride: 2 }), [[1, 2, 2, 2, 2], [2, 2, 2, 2, 2]]],
  ['maxPool2d', (x) => F.maxPool2d(x, 2), [[1, 2, 4, 4]]], ['maxPool3d', (x) => F.maxPool3d(x, 2), [[1, 1, 4, 4, 4]]],
  ['maxPool1d', (x) => F.maxPool1d(x, 2), [[1, 2, 6]]],
  ['avgPool2d', (x) => F.avgPool2d(x, 2), [[1, 2, 4, 4]]], ['avgPool3d', (x) => F.avgPool3d(x, 2), [[1, 1, 4, 4, 4]]],
  ['avgPool1d', (x) => F.avgPool1d(x, 2), [[1, 2, 6]]],
  ['adaptiveAvgPool2d', (x) => F.adaptiveAvgPool2d(x, 2), [[1, 2, 5, 5]]], ['adaptiveAvgPool3d', (x) => F.adaptiveAvgPool3d(x, 1), [[1, 2, 3, 3, 3]]],
  ['adaptiveAvgPool1d', (x) => F.adaptiveAvgPool1d(x, 2), [[1, 2, 5]]], ['adaptiveMaxPool2d', (x) => F.adaptiveMaxPool2d(x, 2), [[1, 2, 4, 4]]],
  ['batchNorm train', (x, w, b) => F.batchNorm(x, null, null, w, b, true), [[4, 3, 2, 2], [3], [3]]],
  ['groupNorm', (x, w, b) => F.groupNorm(x, 2, w, b), [[2, 4, 3, 3], [4], [4]]],
  ['layerNorm', (x, w, b) => F.layerNorm(x, [4], w, b), [[3, 4], [4], [4]]],
  ['instanceNorm', (x) => F.instanceNorm(x), [[2, 3, 4, 4]]],
  ['embedding', (w) => F.embedding(w, torch.tensor([0, 2, 2], { dtype: 'int64' })), [[4, 3]]],
  ['mseLoss', (a, b) => F.mseLoss(a, b), [[3, 4], [3, 4]]], ['l1Loss', (a, b) => F.l1Loss(a, b), [[3, 4], [3, 4]]],
  ['smoothL1Loss', (a, b) => F.smoothL1Loss(a, b), [[3, 4], [3, 4]]], ['huberLoss', (a, b) => F.huberLoss(a, b, 'mean', 0.5), [[3, 4], [3, 4]]],
  ['crossEntropy', (a) => F.crossEntropy(a, torch.tensor([0, 2, 1], { dtype: 'int64' })), [[3, 4]]],
  ['crossEntropy smoothing', (a) => F.crossEntropy(a, torch.tensor([0, 2, 1], { dtype: 'int64' }), { labelSmoothing: 0.1 }), [[3, 4]]],
  ['crossEntropy 2d', (a) => F.crossEntropy(a, torch.tensor([[[0, 1], [2, 1]]], { dtype: 'int64' })), [[1, 3, 2, 2]]],
  ['nllLoss', (a) => F.nllLoss(a.logSoftmax(1), torch.tensor([0, 2, 1], { dtype: 'int64' })), [[3, 4]]],
  ['binaryCrossEntropy', (a) => F.binaryCrossEntropy(a.sigmoid(), torch.tensor([0, 1, 1, 0], d64)), [[4]]],
  ['bceWithLogits', (a) => F.binaryCrossEntropyWithLogits(a, torch.tensor([0, 1, 1, 0], d64), { posWeight: torch.tensor([2], d64) }), [[4]]],
  ['klDiv', (a, b) => F.klDiv(a.logSoftmax(1), b.softmax(1), 'sum'), [[2, 3], [2, 3]]],
  ['pad constant', (x) => F.pad(x, [1, 2]).exp(), [[2, 3]]], ['pad reflect', (x) => F.pad(x, [1, 1, 1, 1], 'reflect').exp(), [[1, 1, 3, 3]]],
  ['pad replicate', (x) => F.pad(x, [1, 1, 1, 1, 1, 1], 'replicate').exp(), [[1, 1, 2, 2, 2]]],
  ['interpolate nearest', (x) => F.interpolate(x, { scaleFactor: 2 }).exp(), [[1, 1, 2, 2]]],
  ['interpolate bilinear', (x) => F.interpolate(x, { size: [5, 5], mode: 'bilinear', alignCorners: true }), [[1, 1, 3, 3]]],
  ['interpolate trilinear', (x) => F.interpolate(x, { scaleFactor: 2, mode: 'trilinear' }), [[1, 1, 2, 2, 2]]],
  ['interpolate linear', (x) => F.interpolate(x, { size: [5], mode: 'linear' }), [[1, 1, 3]]],
  ['interpolate bicubic', (x) => F.interpolate(x, { size: [4, 4], mode: 'bicubic' }), [[1, 1, 3, 3]]],
  ['gridSample 2d', (x, g) => F.gridSample(x, g.tanh().mul(0.8), { alignCorners: true }), [[1, 2, 4, 4], [1, 3, 3, 2]]],
  ['gridSample 3d', (x, g) => F.gridSample(x, g.tanh().mul(0.8), { alignCorners: false }), [[1, 1, 3, 3, 3], [1, 2, 2, 2, 3]]],
  ['affineGrid', (t) => F.affineGrid(t, [1, 1, 3, 3]), [[1, 2, 3]]],
  ['pixelShuffle', (x) => F.pixelShuffle(x, 2).exp(), [[1, 4, 2, 2]]], ['pixelUnshuffle', (x) => F.pixelUnshuffle(x, 2).exp(), [[1, 1, 4, 4]]],
  ['cosineSimilarity', (a, b) => F.cosineSimilarity(a, b), [[3, 4], [3, 4]]], ['cdist', (a, b) => F.cdist(a, b), [[3, 2], [4, 2]]],
  ['normalize', (x) => F.normalize(x), [[3, 4]]], ['unfold', (x) => F.unfold(x, 2), [[1, 2, 3, 3]]],
  ['attention', (q, k, v) => F.scaledDotProductAttention(q, k, v), [[1, 3, 4], [1, 5, 4], [1, 5, 2]]],
];

test('gradcheck float64: every differentiable facade op matches central differences', () => {
  const failures: string[] = [];
  for (const [name, f, shapes, o] of cases) {
    const err = gradcheck(f, shapes, o);
    if (!(err < 1e-6)) failures.push(`${name}: ${err.toExponential(2)}`);
  }
  assert.deepEqual(failures, [], 'ops whose gradient disagrees with finite differences');
  assert.ok(cases.length >= 140, `covered ${cases.length} ops`);
});

test('gradcheck float64: the ops with fast paths, again through the generic boxed path', () => {
  const fastOps = new Set(['add', 'add scalar', 'sub', 'mul', 'div', 'neg', 'abs', 'exp', 'log', 'sqrt', 'tanh', 'sigmoid', 'relu', 't', 'matmul', 'mm', 'sum', 'pow scalar']);
  const subset = cases.filter(([name]) => fastOps.has(name));
  assert.equal(subset.length, fastOps.size);
  const was = native.setFastPaths(false);
  try {
    const h0 = native.fastPathHits();
    const failures = subset.map(([name, f, shapes, o]) => [name, gradcheck(f, shapes, o)] as const).filter(([, err]) => !(err < 1e-6));
    assert.deepEqual(failures, [], 'ops whose boxed-path gradient disagrees with finite differences');
    assert.equal(native.fastPathHits(), h0, 'a fast path ran while they were off');
  } finally {
    native.setFastPaths(was);
  }
});

test('gradcheck float64: nn modules w.r.t. input and every parameter', () => {
  torch.manualSeed(3);
  const cases: [torch.nn.Module, number[]][] = [
    [new torch.nn.Linear(3, 2, true, d64), [2, 3]],
    [new torch.nn.Conv2d(2, 2, 3, { padding: 1, dtype: 'float64' }), [1, 2, 3, 3]],
    [new torch.nn.ConvTranspose2d(2, 1, 2, { stride: 2, dtype: 'float64' }), [1, 2, 2, 2]],
    [new torch.nn.GroupNorm(2, 4, { dtype: 'float64' }), [2, 4, 2, 2]],
    [new torch.nn.LayerNorm(4, { dtype: 'float64' }), [3, 4]],
    [new torch.nn.BatchNorm2d(2, { dtype: 'float64' }), [3, 2, 2, 2]],
    [new torch.nn.MultiheadAttention(4, 2, d64), [1, 3, 4]],
  ];
  for (const [m, shape] of cases) {
    torch.scope(() => {
      const x = torch.randn(shape, d64).requiresGrad_();
      const w = torch.randn(m.forward(x).shape, d64);
      const f = () => torch.scope(() => m.forward(x).mul(w).sum().item());
      const targets = [x, ...m.parameters()];
      const grads = torch.grad(m.forward(x).mul(w).sum(), targets);
      let worst = 0;
      targets.forEach((t, i) => {
        const g = grads[i]!.toFloat64Array();
        const flat = t.detach().reshape(-1);
        for (let j = 0; j < g.length; j++) {
          const old = flat.at(j).item();
          const set = (v: number) => torch.noGrad(() => torch.scope(() => { flat.at(j).fill_(v); }));
          set(old + 1e-6); const up = f();
          set(old - 1e-6); const down = f();
          set(old);
          worst = Math.max(worst, Math.abs((up - down) / 2e-6 - g[j]!) / Math.max(1, Math.abs(g[j]!)));
        }
      });
      assert.ok(worst < 1e-6, `${m.constructor.name}: gradient error ${worst}`);
    });
    m.dispose();
  }
});

test('double backward: the gradient of a gradient is exact (HVP of x³ is 6x·v)', () => {
  torch.scope(() => {
    const x = torch.tensor([0.5, -1.2, 2], { dtype: 'float64', requiresGrad: true });
    const v = torch.tensor([1, 2, 3], d64);
    const [g] = torch.grad(x.pow(3).sum(), [x], { createGraph: true });
    const [hv] = torch.grad(g!.mul(v).sum(), [x]);
    assert.deepEqual(hv!.toArray().map((a) => +a.toFixed(12)), [3, -14.4, 36]);
  });
});
