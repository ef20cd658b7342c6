// Engine behaviour: layouts, memory under scope(), errors, threads, seeds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import * as torch from '../../src/core/torch/index.ts';
import { op } from '../../src/core/torch/index.ts';
import { loadAddon, MISSING_LIBTORCH } from '../../src/core/torch/native.ts';

const maxAbs = (a: torch.Tensor, b: torch.Tensor) => torch.scope(() => a.sub(b).abs().max().item());

test('conv2d float32: nn.Conv2d forward and gradients equal raw aten::conv2d and an independent im2col computation (NCHW)', () => {
  torch.scope(() => {
    torch.manualSeed(1);
    const conv = new torch.nn.Conv2d(3, 5, [3, 2], { padding: [1, 0], stride: [1, 2] });
    // Non-square, distinct sizes everywhere so any layout mix-up changes the result.
    const x = torch.randn([2, 3, 7, 6]).requiresGrad_();
    const y = conv.forward(x);
    assert.deepEqual(y.shape, [2, 5, 7, 3]);
    const raw = op('aten::conv2d')(x, conv.weight, conv.bias, [1, 2], [1, 0], [1, 1], 1) as torch.Tensor;
    assert.equal(maxAbs(y, raw), 0);
    // im2col: unfold patches [N, C*kh*kw, L] then a matmul with the flattened weight.
    const xp = torch.F.pad(x, [0, 0, 1, 1]);
    const cols = torch.F.unfold(xp, [3, 2], { stride: [1, 2] });
    const ref = conv.weight.reshape([5, -1]).matmul(cols).add(conv.bias!.reshape([1, 5, 1])).reshape([2, 5, 7, 3]);
    assert.ok(maxAbs(y, ref) < 1e-5, `im2col differs by ${maxAbs(y, ref)}`);
    const w = torch.randn(y.shape);
    const g1 = torch.grad(y.mul(w).sum(), [x, conv.weight, conv.bias!]);
    const g2 = torch.grad(raw.mul(w).sum(), [x, conv.weight, conv.bias!]);
    const g3 = torch.grad(ref.mul(w).sum(), [x, conv.weight, conv.bias!]);
    for (let i = 0; i < 3; i++) {
      assert.equal(maxAbs(g1[i]!, g2[i]!), 0);
      assert.ok(maxAbs(g1[i]!, g3[i]!) < 1e-4, `grad ${i} differs from im2col by ${maxAbs(g1[i]!, g3[i]!)}`);
    }
    conv.dispose();
  });
});

test('conv3d float32: nn.Conv3d equals raw aten::conv3d and a sum of shifted conv2d slices (NCDHW)', () => {
  torch.scope(() => {
    torch.manualSeed(2);
    const conv = new torch.nn.Conv3d(2, 3, [3, 1, 1], { padding: [1, 0, 0] });
    const x = torch.randn([1, 2, 4, 5, 6]).requiresGrad_();
    const y = conv.forward(x);
    const raw = op('conv3d')(x, conv.weight, conv.bias, [1, 1, 1], [1, 0, 0], [1, 1, 1], 1) as torch.Tensor;
    assert.equal(maxAbs(y, raw), 0);
    // A depth-only kernel: out[d] = Σ_k W[:, :, k] · x[d + k − 1] (1×1 spatial), built by hand.
    const xpad = torch.F.pad(x, [0, 0, 0, 0, 1, 1]);
    const slices: torch.Tensor[] = [];
    for (let d = 0; d < 4; d++) {
      let acc = conv.bias!.reshape([1, 3, 1, 1]);
      for (let k = 0; k < 3; k++) {
        const wk = conv.weight.select(2, k).reshape([3, 2]);
        acc = acc.add(torch.einsum('oc,nchw->nohw', wk, xpad.select(2, d + k)));
      }
      slices.push(acc);
    }
    const ref = torch.stack(slices, 2);
    assert.ok(maxAbs(y, ref) < 1e-5);
    const w = torch.randn(y.shape);
    const [ga] = torch.grad(y.mul(w).sum(), [x]);
    const [gb] = torch.grad(ref.mul(w).sum(), [x]);
    assert.ok(maxAbs(ga!, gb!) < 1e-5);
    conv.dispose();
  });
});

test('10,000 allocate/compute iterations under scope() keep RSS bounded and live tensors return to start', () => {
  const start = torch.liveTensors();
  const x = torch.randn([256, 256]).keep(); // 256 KiB per temporary
  const rss = () => process.memoryUsage().rss;
  for (let i = 0; i < 500; i++) torch.scope(() => { x.mul(2).add(1).tanh().sum(); });
  const before = rss();
  for (let i = 0; i < 10_000; i++) torch.scope(() => { x.mul(2).add(1).tanh().sum(); });
  const growth = rss() - before;
  x.dispose();
  assert.equal(torch.liveTensors(), start);
  // 10,000 × 3 × 256 KiB ≈ 7.5 GiB would be allocated in total; bounded means tens of MiB at most.
  assert.ok(growth < 64 * 1024 * 1024, `RSS grew by ${(growth / 1048576).toFixed(1)} MiB`);
});

test('scope(): returned tensors survive (moved to the enclosing scope), everything else is freed; keep() escapes', () => {
  const start = torch.liveTensors();
  let kept!: torch.Tensor;
  const out = torch.scope(() => {
    const inner = torch.scope(() => {
      const a = torch.ones([3]);
      kept = torch.ones([2]).keep();
      return { a, list: [a.add(1)] };
    });
    assert.equal(inner.a.isDisposed, false);
    return inner.list[0]!;
  });
  assert.deepEqual(out.toArray(), [2, 2, 2]);
  assert.equal(kept.isDisposed, false);
  out.dispose(); kept.dispose();
  assert.equal(torch.liveTensors(), start);
  assert.throws(() => torch.scope(() => { const t = torch.ones([1]); t.dispose(); return t.add(1); }), /disposed/);
  assert.equal(torch.liveTensors(), start);
});

test('errors: a wrong-shape matmul is a JS Error naming the op; the process survives', () => {
  torch.scope(() => {
    assert.throws(() => torch.randn([3, 4]).matmul(torch.randn([5, 6])), (e: Error) =>
      e instanceof Error && /aten::matmul/.test(e.message) && /3x4 and 5x6/.test(e.message) && !/Exception raised from/.test(e.message));
    assert.throws(() => torch.F.conv2d(torch.randn([1, 3, 8, 8]), torch.randn([4, 2, 3, 3])), /aten::conv2d: .*channels/);
    assert.throws(() => torch.tensor(new Float32Array(5), { shape: [2, 3] }), /5 elements but shape \[2, 3\] needs 6/);
    assert.throws(() => op('aten::add.Tensor')(torch.ones([1]), 'x'), /argument 'other' must be a Tensor/);
    assert.equal(torch.ones([2]).add(1).sum().item(), 4); // still alive
  });
});

test('NaN loss guard: assertFinite names the problem', () => {
  torch.scope(() => {
    const l = torch.tensor([1, Number.NaN]).sum();
    assert.throws(() => torch.assertFinite(l, 'training loss'), /training loss is not finite \(NaN or Inf\)/);
    torch.assertFinite(torch.tensor([1, 2]).sum());
  });
});

test('missing libtorch: loading the addon fails with one message saying how to get libtorch', () => {
  assert.throws(() => loadAddon('/nonexistent/paperlab_torch.node'), (e: Error) => e.message.startsWith(MISSING_LIBTORCH) && /apt-get install -y libtorch-dev/.test(e.message));
  // A file that exists but is no loadable library (as when libtorch.so is gone) gives the same advice.
  const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pl-')), 'paperlab_torch.node');
  fs.writeFileSync(fake, 'not a shared object');
  assert.throws(() => loadAddon(fake), (e: Error) => e.message.startsWith(MISSING_LIBTORCH) && /loading .* failed/.test(e.message));
});

test('seeds: manualSeed makes randn, dropout and init repeat exactly', () => {
  torch.scope(() => {
    const draw = () => {
      torch.manualSeed(42);
      return [torch.randn([4]).toArray(), torch.F.dropout(torch.ones([8]), 0.5, true).toArray(), new torch.nn.Linear(2, 2).weight.toArray()];
    };
    assert.deepEqual(draw(), draw());
  });
});

test('dtypes round-trip through typed arrays; int64 arithmetic stays integral', () => {
  torch.scope(() => {
    assert.deepEqual(torch.tensor(new Float64Array([1.5, 2.25]), { shape: [2] }).toArray(), [1.5, 2.25]);
    assert.equal(torch.tensor(new Float64Array([1.5])).dtype, 'float64');
    assert.equal(torch.tensor(new Int32Array([3])).dtype, 'int32');
    const i = torch.arange(5);
    assert.equal(i.dtype, 'int64');
    assert.equal(i.add(2).dtype, 'int64');
    assert.deepEqual(i.mul(3).toArray(), [0, 3, 6, 9, 12]);
    assert.equal(torch.tensor([true, false, true]).dtype, 'bool');
    assert.deepEqual(torch.tensor([[1, 2], [3, 4]]).tolist(), [[1, 2], [3, 4]]);
    assert.equal(torch.tensor([1, 2, 3], { dtype: 'uint8' }).sum().item(), 6);
  });
});

test('toTypedArray of large tensors (buffers over engine blocks) is a copy, for every dtype, and survives the tensor', () => {
  // Above 64 KiB the array's buffer is an engine block handed to V8 (native TToArray): it must still
  // be a copy (no aliasing either way) and outlive the tensor it came from.
  const n = 100_000;
  const kinds = [['float32', Float32Array], ['float64', Float64Array], ['int32', Int32Array], ['int64', BigInt64Array],
    ['uint8', Uint8Array], ['int16', Int16Array], ['int8', Int8Array], ['bool', Uint8Array]] as const;
  for (const [dtype, Ctor] of kinds) {
    const t = torch.arange(n).remainder(100).to(dtype);
    const a = t.toTypedArray();
    assert.ok(a instanceof Ctor, `${dtype}: ${a.constructor.name}`);
    assert.equal(a.length, n);
    assert.equal(a.byteOffset, 0);
    const expect = (i: number) => dtype === 'bool' ? (i % 100 ? 1 : 0) : i % 100;
    for (const i of [0, 1, 99, 12_345, n - 1]) assert.equal(Number(a[i]), expect(i), `${dtype}[${i}]`);
    t.fill_(dtype === 'bool' ? 0 : 7);
    assert.equal(Number(a[12_345]), expect(12_345), `${dtype}: the array changed with the tensor`);
    if (a instanceof BigInt64Array) a[1] = 0n; else a[1] = 0;
    assert.notEqual(t.at(1).item(), 0, `${dtype}: the tensor changed with the array`);
    t.dispose();
    assert.equal(Number(a[99]), expect(99), `${dtype}: the array lost its data with the tensor`);
  }
  const h = torch.ones([70_000], { dtype: 'float16' }).toTypedArray();
  assert.ok(h instanceof Float32Array && h[69_999] === 1, 'float16 reads as float32');
  const wide = torch.randn([256, 256]);
  assert.deepEqual(Array.from((wide.t().toTypedArray() as Float32Array).subarray(0, 3)), [0, 1, 2].map((j) => wide.at(j).at(0).item()), 'non-contiguous: row-major copy');
  wide.dispose();
});

test('threads: setNumThreads changes libtorch\'s intra-op pool', () => {
  const n = torch.getNumThreads();
  torch.setNumThreads(2);
  assert.equal(torch.getNumThreads(), 2);
  torch.setNumThreads(n);
  assert.throws(() => torch.setNumThreads(0), /threads must be >= 1/);
});

test('optimizers follow PyTorch update rules (SGD momentum/Nesterov, Adam) on a known quadratic', () => {
  // f(p) = ½‖p‖², grad = p. SGD momentum μ: v1 = g0, p1 = p0 − lr·v1; v2 = μ v1 + g1; p2 = p1 − lr v2.
  torch.scope(() => {
    const p = torch.tensor([1, -2], { dtype: 'float64', requiresGrad: true }).keep();
    const opt = new torch.optim.SGD([p], { lr: 0.1, momentum: 0.9 });
    const step = () => torch.scope(() => { opt.zeroGrad(); p.pow(2).sum().mul(0.5).backward(); opt.step(); });
    step(); step();
    // p1 = 0.9 p0; v2 = 0.9 p0 + 0.9 p0 = 1.8 p0; p2 = 0.9 p0 − 0.18 p0 = 0.72 p0
    assert.deepEqual(p.toArray().map((v) => +v.toFixed(12)), [0.72, -1.44]);
    const q = torch.tensor([1, -2], { dtype: 'float64', requiresGrad: true }).keep();
    const adam = new torch.optim.Adam([q], { lr: 0.01 });
    torch.scope(() => { adam.zeroGrad(); q.pow(2).sum().mul(0.5).backward(); adam.step(); });
    // First Adam step moves each coordinate by lr·sign(g) (bias-corrected m/√v = g/|g|).
    assert.deepEqual(q.toArray().map((v) => +v.toFixed(6)), [0.99, -1.99]);
    opt.dispose(); adam.dispose(); p.dispose(); q.dispose();
  });
});

test('install: a LIBTORCH folder without libtorch stops the build with a message naming the folder', async () => {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['native/find-libtorch.cjs'], { encoding: 'utf8', env: { ...process.env, LIBTORCH: '/nonexistent/libtorch' } });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /LIBTORCH=\/nonexistent\/libtorch does not hold include\/ATen\/ATen.h/);
  const ok = spawnSync(process.execPath, ['native/find-libtorch.cjs'], { encoding: 'utf8', env: { ...process.env, LIBTORCH: '' } });
  assert.equal(ok.status, 0, ok.stderr);
  assert.ok(JSON.parse(ok.stdout).include.length === 2);
});

test('Module.to(dtype) converts parameters and buffers and keeps fields like Linear.weight usable', () => {
  torch.manualSeed(0);
  const m = new torch.nn.Sequential(new torch.nn.Linear(3, 2), new torch.nn.BatchNorm1d(2));
  const before = m.stateDict()['0.weight']!.toArray();
  m.to('float64');
  const lin = m.layers[0] as torch.nn.Linear;
  assert.equal(lin.weight.dtype, 'float64');
  assert.equal(lin.weight.isDisposed, false);
  assert.ok(lin.weight.isSameTensor(m.stateDict()['0.weight']));
  assert.deepEqual(lin.weight.toArray().map((v) => Math.fround(v)), before);
  torch.scope(() => assert.deepEqual(m.forward(torch.randn([4, 3], { dtype: 'float64' })).shape, [4, 2]));
  assert.equal(m.stateDict()['1.running_var']!.dtype, 'float64');
  torch.scope(() => {
    const a = torch.zeros([2, 3], { dtype: 'float64' });
    a.addr_(torch.tensor([1, 2], { dtype: 'float64' }), torch.tensor([1, 0, -1], { dtype: 'float64' }), 2);
    assert.deepEqual(a.tolist(), [[2, 0, -2], [4, 0, -4]]);
  });
  m.dispose();
});

test('clipGradNorm scales gradients to the max norm and returns the norm before', () => {
  torch.scope(() => {
    const a = torch.tensor([3, 0], { dtype: 'float64', requiresGrad: true });
    const b = torch.tensor([0, 4], { dtype: 'float64', requiresGrad: true });
    a.add(b).mul(torch.tensor([3, 4], { dtype: 'float64' })).sum().backward(); // grads (3,4) and (3,4): norm √50
    const n = torch.optim.clipGradNorm([a, b], 1);
    assert.ok(Math.abs(n - Math.sqrt(50)) < 1e-12);
    const g = [...a.grad!.toArray(), ...b.grad!.toArray()];
    assert.ok(Math.abs(Math.hypot(...g) - 1) < 1e-6);
  });
});
