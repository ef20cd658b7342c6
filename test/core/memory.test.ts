// Issue #26 item 5: memory must be bounded by the working set for loops of any length.
// `reproducibility measure --pairs 2000 --budget N` reached 0.74 GB RSS at N = 2,500, 3.1 GB at
// 10,000 and exhausted 24 GB at 100,000 while torch.liveTensors() stayed at 11. Cause: Node 20
// runs N-API finalizers only when the event loop turns, so each disposed tensor's wrapper and
// napi reference stayed allocated for the whole synchronous loop, pinning the holes its freed
// data left in glibc's heap (posix_memalign cannot reuse an exact-size hole). Fixed in
// native/addon.cpp (TensorWrap::destroy, and the caching allocator's 4 KiB floor).
// Each loop runs in a child process (test/core/memory-loop.ts) so its RSS is its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/core/torch/index.ts';

const child = fileURLToPath(new URL('./memory-loop.ts', import.meta.url));

interface LoopResult {
  mode: string; steps: number; rows: number; warmRssMb: number; peakRssMb: number; growthMb: number;
  aborted: boolean; msPerStep: number; liveTensors: number; stats: { wrappers: number; mallocFree: number } | null;
}

function runLoop(mode: string, steps: number, rows: number): LoopResult {
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', child, mode, String(steps), String(rows)], {
    encoding: 'utf8', timeout: 240_000, env: { ...process.env, PAPERLAB_THREADS: '1', OPENBLAS_NUM_THREADS: '1' },
  });
  const r = JSON.parse(out.trim().split('\n').pop()!) as LoopResult;
  console.log(`${mode}: ${r.steps} steps of [${rows}, 2] float64, RSS ${r.warmRssMb.toFixed(0)} MB after warm-up, peak ${r.peakRssMb.toFixed(0)} MB (+${r.growthMb.toFixed(1)} MB), ${r.msPerStep.toFixed(3)} ms/step, wrappers ${r.stats?.wrappers ?? '?'}, liveTensors ${r.liveTensors}`);
  return r;
}

function assertBounded(r: LoopResult, steps: number): void {
  assert.ok(!r.aborted, `${r.mode}: RSS grew past 1 GB after ${r.steps} steps (stopped early)`);
  assert.equal(r.steps, steps);
  assert.ok(r.growthMb < 200, `${r.mode}: peak RSS grew by ${r.growthMb.toFixed(1)} MB over ${steps} steps (limit 200 MB)`);
  // The mechanism itself: disposed tensors leave no native wrapper behind for a finalizer.
  assert.ok(r.stats !== null, 'memoryStats() is missing from the addon');
  assert.ok(r.stats.wrappers < 1000, `${r.mode}: ${r.stats.wrappers} native tensor wrappers still allocated after the loop`);
}

test('reproducibility measure loop: 100,000 SGD-avg steps on [1000, 2] iterates keep peak RSS within 200 MB of warm-up', () => {
  // The command's own loop (measureDeviation over the sgd-avg optimizer, quadratic d = 2,
  // stochastic oracle δ = √2, ε = 0.01) with 500 pairs instead of 2,000 to fit CI time: 16 KB
  // tensors, which grew the heap just as the 64 KB ones did.
  const r = runLoop('measure', 100_000, 1000);
  assertBounded(r, 100_000);
  assert.ok(r.liveTensors < 20, `${r.liveTensors} tensors live after the measurement`);
});

test('plain loops: 100,000 steps of 64 KB tensor ops freed by scope() or by dispose() keep peak RSS within 200 MB', () => {
  for (const mode of ['scope', 'dispose']) {
    const r = runLoop(mode, 100_000, 4000);
    assertBounded(r, 100_000);
    assert.equal(r.liveTensors, 0);
  }
});

test('300,000 steps of one-element ops inside scope(), disposed outside it, and left to the GC keep peak RSS within 64 MB', () => {
  // Issue #27 item 6: JS Tensors are plain objects holding a slot id of the engine's table; a tensor
  // outside every scope is freed by an N-API finalizer on its object. Nothing may accumulate: not the
  // slots, not the JS objects, not pending finalizers (a JS FinalizationRegistry, cleared only by full
  // collections, let RSS grow by 232 MB over these 300,000 steps).
  const r = runLoop('tiny', 300_000, 1);
  assert.ok(!r.aborted, `tiny: RSS grew past 1 GB after ${r.steps} steps (stopped early)`);
  assert.equal(r.steps, 300_000);
  assert.ok(r.growthMb < 64, `tiny: peak RSS grew by ${r.growthMb.toFixed(1)} MB over 300,000 steps (limit 64 MB)`);
  assert.ok(r.liveTensors < 100, `${r.liveTensors} tensors live after the loop and the collector's turns`);
});

test('5,000 synchronous toTypedArray() reads of a 4 MB tensor keep peak RSS within 320 MB', () => {
  // Issue #27 (matmul row): a large result is copied into a cached engine block and handed to V8 as
  // the array's backing store; the block must come back when V8 frees the array, without waiting for
  // the event loop (Node's napi_create_external_arraybuffer finalizers wait for it: 20 GB here).
  const r = runLoop('read', 5000, 1024);
  assert.ok(!r.aborted, `read: RSS grew past 1 GB after ${r.steps} steps (stopped early)`);
  assert.equal(r.steps, 5000);
  assert.ok(r.growthMb < 320, `read: peak RSS grew by ${r.growthMb.toFixed(1)} MB over 5,000 reads of 4 MB (limit 320 MB; measured 53–139 MB)`);
});

test('dispose() and scope() free the native wrapper at once; the disposed tensor still reads as disposed', () => {
  const before = torch.memoryStats();
  const a = torch.ones([3]);
  a.dispose();
  a.dispose(); // a no-op
  assert.equal(a.isDisposed, true);
  assert.equal(a.keep(), a);
  assert.equal(String(a), 'Tensor(disposed)');
  assert.ok(a instanceof torch.Tensor);
  const b = torch.ones([3]);
  assert.throws(() => a.shape, /disposed/);
  assert.throws(() => a.item(), /disposed/);
  assert.throws(() => b.add(a), /disposed/);
  // A scope may return a tensor disposed inside it: the live ones are kept, the scope stack stays balanced.
  let stored: torch.Tensor | null = null;
  const [live, dead] = torch.scope(() => {
    stored = torch.zeros([2]);
    const u = torch.ones([2]);
    u.dispose();
    return [torch.ones([2]), u];
  });
  assert.equal(live!.isDisposed, false);
  assert.equal(dead!.isDisposed, true);
  assert.equal(stored!.isDisposed, true);
  torch.dispose(live, b);
  const after = torch.memoryStats();
  assert.equal(after.liveTensors, before.liveTensors);
  // No wrapper waits for a finalizer (before the fix, each disposed tensor left one until the event loop turned).
  assert.ok(after.wrappers <= before.wrappers, `wrappers ${before.wrappers} -> ${after.wrappers}`);
});
