// CUDA: device round trips, modules and optimizers on the GPU, the mixed-device error, the CUDA
// caching allocator's counters, and the CUDA generator's state (a resumed run with dropout draws
// the same masks as an uninterrupted one). Skips without CUDA (see helpers.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../src/core/torch/index.ts';
import { saveTrainingCheckpoint, restoreTrainingCheckpoint } from '../../src/core/train/index.ts';
import { fakeContext } from '../helpers/context.ts';
import { DEV, SKIP } from './helpers.ts';

const devName = DEV === 'cuda' ? 'cuda:0' : DEV;

test('torchVersion names the GPU and the CUDA versions', { skip: SKIP || (DEV !== 'cuda' ? 'dry run on the CPU' : false) }, () => {
  const v = torch.torchVersion();
  assert.equal(v.cuda, true);
  assert.equal(v.cudaBuild, true);
  assert.ok(v.deviceCount >= 1);
  assert.ok(v.gpu && v.gpu.length > 0, 'GPU name');
  console.log(`# ${v.gpu}; CUDA runtime ${v.cudaRuntime}, driver ${v.cudaDriver}; libtorch ${v.torch}`);
});

test('round trips CPU → device → CPU are exact for every dtype; factories and toTypedArray work on the device', { skip: SKIP }, () => {
  for (const dtype of ['float32', 'float64', 'int64', 'int32', 'uint8', 'bool', 'float16', 'bfloat16'] as const) {
    const c = torch.scope(() => torch.randn([5, 3]).mul(10).to(dtype)).keep();
    const d = c.to(DEV);
    assert.equal(d.device, devName, dtype);
    assert.equal(d.dtype, dtype);
    assert.ok(d.to('cpu').equal(c), dtype);
    assert.deepEqual(Array.from(d.toTypedArray() as ArrayLike<number | bigint>), Array.from(c.toTypedArray() as ArrayLike<number | bigint>), dtype);
  }
  const on = { device: DEV };
  const made = [torch.zeros([3], on), torch.randn([2, 2], on), torch.arange(0, 5, 1, on), torch.tensor([1, 2], on)];
  for (const t of made) {
    assert.equal(t.device, devName);
  }
  assert.deepEqual(torch.arange(0, 4, 1, { device: DEV }).mul(2).toArray(), [0, 2, 4, 6]);
  const h = torch.randn([4], { device: DEV }).half();
  assert.deepEqual([...torch.fromHalfBits(h.rawBits(), [4], 'float16').rawBits()], [...h.rawBits()]);
});

test('a module moved to the device keeps its parameters (an optimizer made before still trains it)', { skip: SKIP }, () => {
  torch.manualSeed(0);
  const m = new torch.nn.Sequential(new torch.nn.Linear(4, 8), new torch.nn.Tanh(), new torch.nn.Linear(8, 1));
  const first = m.parameters()[0]!;
  const opt = new torch.optim.Adam(m.parameters(), { lr: 0.01 });
  m.to(DEV);
  assert.equal(m.parameters()[0], first);
  assert.equal(first.device, devName);
  const x = torch.randn([16, 4], { device: DEV });
  const losses: number[] = [];
  for (let k = 0; k < 20; k++) {
    torch.scope(() => {
      opt.zeroGrad();
      const l = m.forward(x).square().mean();
      l.backward();
      opt.step();
      losses.push(l.item());
    });
  }
  assert.ok(losses[19]! < losses[0]!, 'the loss went down');
  for (const v of Object.values(opt.stateDict().tensors)) assert.equal(v.device, devName, 'optimizer state lives on the device');
  m.to('cpu');
  assert.equal(first.device, 'cpu');
});

test('an op on CPU and device tensors fails naming both devices', { skip: SKIP || (DEV !== 'cuda' ? 'needs two devices' : false) }, () => {
  const a = torch.randn([4, 4]), b = torch.randn([4, 4], { device: 'cuda' });
  for (const f of [() => a.add(b), () => a.matmul(b), () => torch.cat([a, b]), () => new torch.nn.Linear(4, 2).forward(b)]) {
    assert.throws(f, (e: unknown) => e instanceof torch.DeviceMismatchError && /cuda:0/.test((e as Error).message) && /cpu/.test((e as Error).message));
  }
});

test('CUDA memory goes through libtorch\'s caching allocator: memoryAllocated follows tensors, emptyCache releases', { skip: SKIP || (DEV !== 'cuda' ? 'CUDA only' : false) }, () => {
  torch.cuda.synchronize();
  const before = torch.cuda.memoryAllocated();
  const big = torch.zeros([64, 1024, 1024], { device: 'cuda' }); // 256 MiB
  assert.ok(torch.cuda.memoryAllocated() - before >= 256 * 2 ** 20);
  big.dispose();
  assert.ok(torch.cuda.memoryAllocated() - before < 2 ** 20);
  assert.ok(torch.cuda.memoryReserved() >= 256 * 2 ** 20, 'the freed block stays cached');
  torch.cuda.emptyCache();
  assert.ok(torch.cuda.memoryReserved() < 256 * 2 ** 20);
  assert.equal(torch.memoryStats().cacheLiveBlocks >= 0, true);
});

test('the device generator\'s state replays randn and dropout exactly', { skip: SKIP }, () => {
  torch.manualSeed(5);
  torch.cuda.manualSeed(5);
  const s = torch.getRngState(DEV);
  const a = torch.randn([10], { device: DEV }), da = torch.F.dropout(torch.ones([50], { device: DEV }), 0.5, true);
  torch.setRngState(s, DEV);
  const b = torch.randn([10], { device: DEV }), db = torch.F.dropout(torch.ones([50], { device: DEV }), 0.5, true);
  assert.ok(a.equal(b));
  assert.ok(da.equal(db));
});

test('a resumed run on the device draws the same dropout masks as an uninterrupted one (rng.cuda.<i> in the checkpoint)', { skip: SKIP }, () => {
  const build = () => {
    torch.manualSeed(3);
    const m = new torch.nn.Sequential(new torch.nn.Linear(6, 32), new torch.nn.ReLU(), new torch.nn.Dropout(0.5), new torch.nn.Linear(32, 1)).to(DEV);
    return { m, opt: new torch.optim.SGD(m.parameters(), { lr: 0.05 }) };
  };
  torch.manualSeed(11);
  const x = torch.randn([32, 6], { device: DEV }), y = torch.randn([32, 1], { device: DEV });
  const step = (p: ReturnType<typeof build>) => torch.scope(() => {
    p.opt.zeroGrad();
    const l = p.m.forward(x).sub(y).square().mean();
    l.backward();
    p.opt.step();
    return l.item();
  });
  torch.cuda.manualSeed(7); torch.manualSeed(7);
  const full = build();
  torch.cuda.manualSeed(7); torch.manualSeed(7);
  const fullLosses = Array.from({ length: 8 }, () => step(full));
  torch.cuda.manualSeed(7); torch.manualSeed(7);
  const a = build();
  torch.cuda.manualSeed(7); torch.manualSeed(7);
  const ctx = fakeContext({ dir: fs.mkdtempSync(path.join(os.tmpdir(), 'pl-gpu-rng-')) });
  const first = Array.from({ length: 4 }, () => step(a));
  saveTrainingCheckpoint(ctx.checkpoints, 'step-4', { model: a.m, optimizer: a.opt, step: 4 });
  step(a); // lost with the crash
  torch.cuda.manualSeed(99); torch.manualSeed(99); // a scrambled generator
  const b = build();
  const r = restoreTrainingCheckpoint(ctx.checkpoints, { model: b.m, optimizer: b.opt });
  assert.ok(r);
  const rest = Array.from({ length: 4 }, () => step(b));
  assert.deepEqual([...first, ...rest], fullLosses, 'bit-identical losses, dropout masks included');
});
