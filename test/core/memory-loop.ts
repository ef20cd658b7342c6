// Child process of test/core/memory.test.ts (and a standalone probe): runs one long synchronous
// loop and prints one JSON line with its RSS growth after warm-up.
//   node --import tsx test/core/memory-loop.ts measure|scope|dispose STEPS [ROWS]
// measure: the `reproducibility measure` loop (SGD-avg, quadratic d = 2, stochastic oracle δ = √2,
//          ε = 0.01) through the module's API, ROWS/2 pairs, so [ROWS, 2] float64 iterates.
// scope / dispose: a plain loop of [ROWS, 2] float64 ops, freed by scope() or by dispose().
// tiny: one-element ops (issue #27 item 6: tensors are slots of the engine's table, JS objects hold
//       their ids): per step two ops inside scope(), one outside it disposed, and one outside it
//       left to the garbage collector (FinalizationRegistry), with an await every 1,000 steps so
//       the collector's callbacks can run.
// read: toTypedArray() of a [ROWS, 1024] float32 tensor per step, in a synchronous loop (large
//       results are buffers over the engine's cached blocks, given back when V8 frees them).
// Peak RSS is the kernel's VmHWM, reset at the end of warm-up (/proc/self/clear_refs), so it
// counts every transient between samples; a loop that passes `abortMb` of growth stops early.
import fs from 'node:fs';
import * as torch from '../../src/core/torch/index.ts';

const [mode = 'measure', stepsArg = '100000', rowsArg = '4000'] = process.argv.slice(2);
const steps = Number(stepsArg), rows = Number(rowsArg);
const warmup = Math.min(5000, Math.floor(steps / 10));
const abortMb = 1024;
const MB = 2 ** 20;

function status(): { rss: number; hwm: number } {
  const s = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}
// null on an addon built before memoryStats() existed (to show the test failing there)
function nativeStats(): torch.MemoryStats | null { try { return torch.memoryStats(); } catch { return null; } }
let resetHwm = false;
let warmRss = NaN, maxRss = 0;
const t0 = performance.now();
let tWarm = t0;
function done(t: number, aborted: boolean): never {
  const st = status();
  const peak = resetHwm ? Math.max(st.hwm, maxRss) : maxRss;
  const ms = (performance.now() - tWarm) / Math.max(1, t - warmup);
  const out = { mode, steps: t, rows, warmRssMb: warmRss / MB, peakRssMb: peak / MB, growthMb: (peak - warmRss) / MB,
    hwmReset: resetHwm, aborted, msPerStep: ms, liveTensors: torch.liveTensors(), stats: nativeStats() };
  console.log(JSON.stringify(out));
  process.exit(0);
}
function sample(t: number): void {
  if (t === warmup) {
    try { fs.writeFileSync('/proc/self/clear_refs', '5'); resetHwm = true; } catch { resetHwm = false; }
    warmRss = status().rss;
    maxRss = warmRss;
    tWarm = performance.now();
  } else if (t > warmup && t % 500 === 0) {
    const rss = status().rss;
    if (rss > maxRss) maxRss = rss;
    if (rss - warmRss > abortMb * MB) done(t, true);
  }
}

const F64 = { dtype: 'float64' as const };
if (mode === 'measure') {
  const R = await import('../../src/modules/reproducibility/index.ts');
  const { measureDeviation } = await import('../../src/modules/reproducibility/harness.ts');
  const { makeOracle } = await import('../../src/modules/reproducibility/oracles.ts');
  const problem = R.makeProblem('quadratic', 2, 0);
  const oracle = makeOracle('stochastic', Math.SQRT2);
  const lr = R.defaultStep(problem, oracle.kind, steps, 0.01);
  const opt = R.makeOptimizer('sgd-avg', lr, 0.05, problem.constants.mu, problem.constants.L);
  measureDeviation(opt, problem, oracle, steps, { pairs: rows / 2, seed: 0, epsilon: 0.01, onStep: sample });
  problem.dispose();
} else if (mode === 'scope' || mode === 'dispose') {
  const a = torch.randn([rows, 2], F64), b = torch.randn([rows, 2], F64);
  let x = a.clone();
  for (let t = 1; t <= steps; t++) {
    if (mode === 'scope') {
      const next = torch.scope(() => x.mul(0.5).add(a).sub(b.mul(0.25)));
      x.dispose();
      x = next;
    } else {
      const u = x.mul(0.5), v = b.mul(0.25), w = u.add(a);
      const next = w.sub(v);
      u.dispose(); v.dispose(); w.dispose(); x.dispose();
      x = next;
    }
    sample(t);
  }
  torch.dispose(a, b, x);
} else if (mode === 'tiny') {
  const s = torch.ones([1]);
  for (let t = 1; t <= steps; t++) {
    torch.scope(() => s.add(s).mul(2));
    s.mul(3).dispose();
    s.add(1); // not disposed: freed by the GC's finalizer
    if (t % 1000 === 0) await new Promise((r) => setImmediate(r));
    sample(t);
  }
  s.dispose();
  // let the last ones go: collect and turn the loop until the finalizers have run
  for (let i = 0; i < 50 && torch.liveTensors() > 0; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 10));
  }
} else if (mode === 'read') {
  // toTypedArray() of a [ROWS, 1024] float32 tensor in a synchronous loop, the arrays dropped at once
  const m = torch.randn([rows, 1024]);
  let sum = 0;
  for (let t = 1; t <= steps; t++) {
    const a = m.toTypedArray() as Float32Array;
    sum += a[t % a.length]!;
    sample(t);
  }
  m.dispose();
  if (!Number.isFinite(sum)) throw new Error('read: non-finite values');
} else {
  throw new Error(`unknown mode ${mode}`);
}
done(steps, false);
