// Devices in the facade, tested where every machine can: on the CPU and on libtorch's `meta`
// device (shapes and dtypes without data). What needs a GPU is in test/gpu/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../src/core/torch/index.ts';
import { PaperlabError, UsageError } from '../../src/core/errors.ts';
import { runCommand } from '../../src/core/runner.ts';
import { RunStore } from '../../src/core/runs.ts';
import { z } from 'zod';
import { registerModule, defineCommand } from '../../src/core/registry.ts';

const hasCuda = torch.cuda.isAvailable();

// A command that says where its tensors go (no plots, no files: the test needs only the engine)
registerModule({
  name: 'devprobe', title: 'device probe', description: 'test-only',
  commands: [defineCommand({
    name: 'where', description: 'where tensors go', params: z.object({}),
    run: async (_p, ctx) => {
      await new Promise((r) => setTimeout(r, 1)); // across an await too
      return { ctx: ctx.device, zeros: torch.zeros([2]).device, fromArray: torch.tensor([1, 2]).device, linear: new torch.nn.Linear(2, 2).weight.device };
    },
  })],
});


test('every factory takes a device: meta tensors have the shape and dtype, no data', () => {
  const d = { device: 'meta' };
  const made: [string, torch.Tensor, number[], string][] = [
    ['zeros', torch.zeros([2, 3], d), [2, 3], 'float32'],
    ['ones', torch.ones([4], { ...d, dtype: 'float64' }), [4], 'float64'],
    ['full', torch.full([2], 7, d), [2], 'float32'],
    ['empty', torch.empty([1, 2, 3], d), [1, 2, 3], 'float32'],
    ['randn', torch.randn([5], d), [5], 'float32'],
    ['rand', torch.rand([5], { ...d, dtype: 'float16' }), [5], 'float16'],
    ['randint', torch.randint(0, 9, [3], d), [3], 'int64'],
    ['arange', torch.arange(0, 10, 2, d), [5], 'int64'],
    ['linspace', torch.linspace(0, 1, 11, d), [11], 'float32'],
    ['logspace', torch.logspace(0, 1, 3, 10, d), [3], 'float32'],
    ['eye', torch.eye(3, 4, d), [3, 4], 'float32'],
    ['scalar', torch.scalar(2, d), [], 'float32'],
    ['tensor', torch.tensor([[1, 2], [3, 4]], d), [2, 2], 'float32'],
    ['tensor(typed)', torch.tensor(new Float64Array(6), { shape: [2, 3], ...d }), [2, 3], 'float64'],
    ['zerosLike', torch.zerosLike(torch.ones([2, 2]), d), [2, 2], 'float32'],
    ['onesLike', torch.onesLike(torch.ones([3]), { ...d, dtype: 'bfloat16' }), [3], 'bfloat16'],
    ['fullLike', torch.fullLike(torch.ones([3]), 2, d), [3], 'float32'],
  ];
  for (const [name, t, shape, dtype] of made) {
    assert.equal(t.device, 'meta', name);
    assert.deepEqual(t.shape, shape, name);
    assert.equal(t.dtype, dtype, name);
    assert.ok(t.isMeta && !t.isCuda, name);
  }
  assert.equal(torch.randperm(6, { device: 'cpu' }).device, 'cpu'); // (libtorch 1.13 has no meta randperm)
  assert.equal(torch.zeros([2]).device, 'cpu');
  assert.equal(torch.zeros([2], { device: 'cpu' }).device, 'cpu');
  assert.throws(() => torch.zeros([2], d).toTypedArray(), /meta/i, 'a meta tensor has no data to copy');
});

test('Tensor.to takes a device, a dtype, or both; to() the same place is the same data', () => {
  const x = torch.randn([3, 4]);
  const m = x.to('meta');
  assert.equal(m.device, 'meta');
  assert.equal(m.dtype, 'float32');
  const both = x.to({ device: 'meta', dtype: 'float64' });
  assert.equal(both.device, 'meta');
  assert.equal(both.dtype, 'float64');
  assert.equal(x.to('float64').device, 'cpu');
  assert.ok(x.to('cpu').isSameTensor(x), "to('cpu') of a CPU tensor is the tensor itself, as torch");
  assert.ok(x.cpu().isSameTensor(x));
  const copy = x.to({ device: 'cpu', copy: true });
  assert.ok(!copy.isSameTensor(x) && copy.equal(x));
  // autograd flows through a device/dtype copy
  const w = torch.randn([3], { requiresGrad: true });
  w.to('float64').mul(2).sum().backward();
  assert.deepEqual(w.grad!.toArray(), [2, 2, 2]);
  assert.equal(String(m), 'Tensor(shape=[3,4], dtype=float32, device=meta)');
});

test('shape logic runs on meta tensors: matmul, broadcasting, reductions, a Linear/MLP forward', () => {
  const a = torch.randn([8, 5, 3], { device: 'meta' });
  const b = torch.randn([3, 7], { device: 'meta' });
  assert.deepEqual(a.matmul(b).shape, [8, 5, 7]);
  assert.deepEqual(a.add(torch.ones([5, 1], { device: 'meta' })).shape, [8, 5, 3]);
  assert.deepEqual(a.sum(1).shape, [8, 3]);
  assert.deepEqual(a.softmax(-1).shape, [8, 5, 3]);
  torch.manualSeed(0);
  const mlp = new torch.nn.Sequential(new torch.nn.Linear(3, 16), new torch.nn.Tanh(), new torch.nn.Linear(16, 2)).to('meta');
  assert.equal(mlp.device, 'meta');
  const y = mlp.forward(a);
  assert.deepEqual(y.shape, [8, 5, 2]);
  assert.equal(y.device, 'meta');
});

// (libtorch 1.13's meta kernels of cat and mm do not check devices, so elementwise ops stand for all
// here; on CUDA every kernel checks: test/gpu/device.test.ts)
test('ops on two devices fail with a DeviceMismatchError naming both devices', () => {
  const c = torch.randn([2, 3]);
  const m = torch.randn([2, 3], { device: 'meta' });
  for (const f of [() => c.add(m), () => m.mul(c), () => c.sub(m), () => c.maximum(m), () => c.lt(m)]) {
    assert.throws(f, (e: unknown) => {
      assert.ok(e instanceof torch.DeviceMismatchError, String(e));
      assert.ok(e instanceof PaperlabError);
      assert.deepEqual([...e.devices!].sort(), ['cpu', 'meta']);
      assert.match(e.message, /aten::\w+.*two devices, (cpu and meta|meta and cpu)/);
      return true;
    });
  }
  // the other wording libtorch uses (a CUDA kernel's argument check) is understood too
  const e = new torch.DeviceMismatchError('aten::mm: Expected all tensors to be on the same device, but got mat2 is on cpu, different from other tensors on cuda:0 (when checking argument in method wrapper_CUDA_mm)');
  assert.deepEqual(e.devices, ['cpu', 'cuda:0']);
  assert.match(e.message, /^aten::mm: tensors on two devices, cpu and cuda:0/);
  // a model on one device, data on another: the layer's op names both
  const ln = new torch.nn.LayerNorm([3]).to('meta');
  assert.throws(() => ln.forward(c), torch.DeviceMismatchError);
});

test('Module.to keeps parameter identity where libtorch allows it: an optimizer made before still trains the model', () => {
  torch.manualSeed(1);
  const lin = new torch.nn.Linear(4, 1);
  const w = lin.weight, bias = lin.bias!;
  const opt = new torch.optim.SGD(lin.parameters(), { lr: 0.1 });
  lin.to('float64'); // as module.double(): param.data = param.data.to(...) (set_data)
  assert.equal(lin.weight, w, 'same parameter object');
  assert.equal(w.dtype, 'float64');
  assert.ok(w.requiresGrad && w.isLeaf);
  const before = w.toArray();
  const x = torch.randn([8, 4], { dtype: 'float64' });
  lin.forward(x).square().mean().backward();
  assert.equal(w.grad!.dtype, 'float64');
  opt.step();
  assert.notDeepEqual(w.toArray(), before, 'the optimizer made before the move updated the moved parameter');
  assert.equal(bias.dtype, 'float64');
  // gradients move along
  lin.to('float32');
  assert.equal(w.grad!.dtype, 'float32');
  // meta cannot share a CPU parameter's storage type: new parameters, fields repointed (as torch)
  lin.to('meta');
  assert.notEqual(lin.weight, w);
  assert.equal(lin.weight.device, 'meta');
  assert.ok(lin.weight.requiresGrad);
  assert.deepEqual(lin.parameters().map((p) => p.device), ['meta', 'meta']);
});

test('Module.to moves buffers (integer ones change device, not dtype)', () => {
  const bn = new torch.nn.BatchNorm2d(3);
  bn.to({ device: 'meta', dtype: 'float64' });
  const bufs = Object.fromEntries(bn.namedBuffers());
  assert.equal(bufs.running_mean!.device, 'meta');
  assert.equal(bufs.running_mean!.dtype, 'float64');
  if (bufs.num_batches_tracked) assert.equal(bufs.num_batches_tracked.dtype, 'int64');
  assert.equal(bn.weight!.dtype, 'float64');
});

test("optimizer state loads onto the parameters' device and dtype (torch.optim's load_state_dict)", () => {
  torch.manualSeed(2);
  const src = new torch.nn.Linear(3, 2);
  const opt = new torch.optim.Adam(src.parameters(), { lr: 0.01 });
  src.forward(torch.randn([4, 3])).sum().backward();
  opt.step();
  const sd = opt.stateDict();
  const dst = new torch.nn.Linear(3, 2).to({ device: 'meta', dtype: 'float64' });
  const opt2 = new torch.optim.Adam(dst.parameters(), { lr: 0.01 });
  opt2.loadStateDict(sd);
  const loaded = opt2.stateDict().tensors;
  assert.ok(Object.keys(loaded).length >= 4);
  for (const [k, t] of Object.entries(loaded)) {
    assert.equal(t.device, 'meta', k);
    assert.equal(t.dtype, 'float64', k);
  }
});

test('torch.cuda answers without CUDA, and the version says what the build has', { skip: hasCuda ? 'a CUDA device is present (test/gpu covers it)' : false }, () => {
  assert.equal(torch.cuda.isAvailable(), false);
  assert.equal(torch.cuda.deviceCount(), 0);
  assert.equal(torch.cuda.memoryAllocated(), 0);
  assert.equal(torch.cuda.memoryReserved(), 0);
  torch.cuda.synchronize();
  torch.cuda.manualSeed(3);
  torch.cuda.emptyCache();
  const v = torch.torchVersion();
  assert.equal(v.cuda, false);
  assert.equal(v.deviceCount, 0);
  assert.equal(v.gpu, null);
  assert.equal(typeof v.cudaBuild, 'boolean');
  assert.throws(() => torch.getRngState('cuda'), /no CUDA device is available/);
});

test('resolveDevice: auto is the CPU without CUDA; cuda without it is a UsageError; unknown names are refused', () => {
  assert.equal(torch.resolveDevice('cpu'), 'cpu');
  assert.equal(torch.resolveDevice('meta'), 'meta');
  assert.equal(torch.resolveDevice('auto'), hasCuda ? 'cuda' : 'cpu');
  assert.equal(torch.resolveDevice(undefined), hasCuda ? 'cuda' : 'cpu');
  assert.throws(() => torch.resolveDevice('gpu'), (e: unknown) => e instanceof UsageError && /'gpu' is not a device/.test((e as Error).message));
  if (!hasCuda) {
    for (const d of ['cuda', 'cuda:0', 'CUDA:1']) {
      assert.throws(() => torch.resolveDevice(d), (e: unknown) => e instanceof UsageError && e.exitCode === 2 && /no CUDA device is available/.test((e as Error).message));
    }
  }
});

test('runs: the device is resolved before the run exists and stored in the run record', { skip: hasCuda ? 'needs a machine without CUDA' : false }, async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-dev-'));
  const p = {};
  await assert.rejects(runCommand('devprobe', 'where', p, { root, device: 'cuda' }), (e: unknown) => e instanceof UsageError && /no CUDA device/.test((e as Error).message));
  const store = new RunStore(root);
  assert.equal(store.list({}).length, 0, 'no run was created for a refused device');
  store.close();
  const r = await runCommand('devprobe', 'where', p, { root, device: 'cpu' });
  assert.equal(r.run.device, 'cpu');
  const again = new RunStore(root);
  assert.equal(again.get(r.run.id).device, 'cpu');
  again.close();
  assert.equal(JSON.parse(fs.readFileSync(path.join(r.run.dir, 'run.json'), 'utf8')).device, 'cpu');
  assert.match(fs.readFileSync(path.join(r.run.dir, 'log.txt'), 'utf8'), /device=cpu/);
  const prev = process.env.PAPERLAB_DEVICE;
  process.env.PAPERLAB_DEVICE = 'cuda:3';
  try {
    await assert.rejects(runCommand('devprobe', 'where', p, { root }), /PAPERLAB_DEVICE cuda:3: no CUDA device/);
  } finally {
    if (prev === undefined) delete process.env.PAPERLAB_DEVICE; else process.env.PAPERLAB_DEVICE = prev;
  }
});

test("a run's device is the factories' default while it runs (every module's tensors follow --device), and only then", async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-dev-'));
  const r = await runCommand('devprobe', 'where', {}, { root, device: 'meta' });
  assert.deepEqual(r.summary, { ctx: 'meta', zeros: 'meta', fromArray: 'meta', linear: 'meta' });
  assert.equal(r.run.device, 'meta');
  assert.equal(torch.getDefaultDevice(), 'cpu', 'restored after the run');
  assert.equal(torch.zeros([1]).device, 'cpu');
  assert.throws(() => torch.setDefaultDevice('tpu'), UsageError);
});
