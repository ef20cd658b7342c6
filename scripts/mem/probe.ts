// Memory bisection probe (issue #26 item 5): one synchronous loop, reporting RSS, the brk heap's
// RSS (/proc/self/smaps), V8's heap/external counters, live tensors, native wrappers, glibc's
// mallinfo2 (in use vs free inside the heap: fragmentation) and the caching allocator's bytes.
//   node [--expose-gc] bin/run-ts.js scripts/mem/probe.ts MODE STEPS [--gc N] [--yield N] [--numel N]
// MODE: scope | dispose | inplace (randn + dispose) | grad (backward each step) | leaky (scope plus
// one small tensor a step left to the GC) | measure (the `reproducibility measure` loop, numel/4
// pairs) | ops (µs per scoped add at several sizes). --gc N calls gc() every N steps (needs
// --expose-gc), --yield N lets the event loop turn every N steps, --numel the tensor size (8000 =
// the measure command's [4000, 2] float64 at --pairs 2000). Env knobs worth bisecting with:
// PAPERLAB_CPU_CACHE_MIN / PAPERLAB_CPU_CACHE_MB / PAPERLAB_MMAP_THRESHOLD, MALLOC_ARENA_MAX.
import fs from 'node:fs';
import * as torch from '../../src/core/torch/index.ts';
const [mode = 'scope', stepsS = '10000'] = process.argv.slice(2);
const arg = (k: string, d: number) => { const i = process.argv.indexOf(k); return i > 0 ? Number(process.argv[i + 1]) : d; };
const steps = Number(stepsS), gcEvery = arg('--gc', 0), yieldEvery = arg('--yield', 0), numel = arg('--numel', 8000);
const F64 = { dtype: 'float64' as const };
const status = () => { const s = fs.readFileSync('/proc/self/status', 'utf8'); const g = (k: string) => Number(new RegExp(k + ':\\s+(\\d+)').exec(s)![1]) / 1024; return { rss: g('VmRSS'), hwm: g('VmHWM') }; };
const heapSeg = () => { const s = fs.readFileSync('/proc/self/smaps', 'utf8'); const m = /\[heap\]\n(?:.*\n)*?Rss:\s+(\d+)/.exec(s); return m ? Number(m[1]) / 1024 : 0; };
const report = (t: number) => { const m = process.memoryUsage(); const st = status(); console.log(`${mode} t=${t} rssMB=${st.rss.toFixed(0)} hwmMB=${st.hwm.toFixed(0)} brkHeapMB=${heapSeg().toFixed(0)} heapUsedMB=${(m.heapUsed / 2 ** 20).toFixed(1)} externalMB=${(m.external / 2 ** 20).toFixed(1)} abMB=${(m.arrayBuffers / 2 ** 20).toFixed(1)} live=${torch.liveTensors()} ${nstats()}`); };
const nstats = () => { let n: torch.MemoryStats; try { n = torch.memoryStats(); } catch { return ''; } const M = (b: number) => (b / 2 ** 20).toFixed(1); return `wrappers=${n.wrappers} mHeapMB=${M(n.mallocHeap)} mInUseMB=${M(n.mallocInUse)} mFreeMB=${M(n.mallocFree)} mMmapMB=${M(n.mallocMmap)} cacheMB=${M(n.cacheBytes)}`; };
const rows = numel / 2;
let x = torch.randn([rows, 2], F64);
let avg = x.clone();
const t0 = performance.now(), cpu0 = process.cpuUsage();
const cpuMs = () => { const c = process.cpuUsage(cpu0); return (c.user + c.system) / 1000; };
async function main() {
  if (mode === 'ops') {  // per-op time of a scoped add at several sizes (allocator overhead)
    for (const n of [1, 512, 8000, 131072]) {
      const a = torch.randn([n], F64), b = torch.randn([n], F64);
      const reps = Math.max(200, Math.floor(steps * 8000 / Math.max(n, 8000)));
      for (let i = 0; i < 200; i++) torch.scope(() => { a.add(b); });
      const s0 = performance.now(), c0 = process.cpuUsage();
      for (let i = 0; i < reps; i++) torch.scope(() => { a.add(b); });
      const c = process.cpuUsage(c0);
      console.log(`ops n=${n} (${n * 8} B) wallUsPerAdd=${((performance.now() - s0) * 1000 / reps).toFixed(2)} cpuUsPerAdd=${((c.user + c.system) / reps).toFixed(2)}`);
      a.dispose(); b.dispose();
    }
    report(steps);
    return;
  }
  if (mode === 'measure') {  // the reproducibility `measure` command's loop (sgd-avg, quadratic d=2, stochastic δ=√2)
    const R = await import('../../src/modules/reproducibility/index.ts');
    const { measureDeviation } = await import('../../src/modules/reproducibility/harness.ts');
    const { makeOracle } = await import('../../src/modules/reproducibility/oracles.ts');
    const problem = R.makeProblem('quadratic', 2, 0);
    const oracle = makeOracle('stochastic', Math.SQRT2);
    const lr = R.defaultStep(problem, oracle.kind, steps, 0.01);
    const opt = R.makeOptimizer('sgd-avg', lr, 0.05, problem.constants.mu, problem.constants.L);
    const res = measureDeviation(opt, problem, oracle, steps, { pairs: numel / 4, seed: 0, epsilon: 0.01,
      onStep: (t) => {
        if (gcEvery && t % gcEvery === 0) (globalThis as any).gc();
        if (t % Math.max(1, Math.floor(steps / 5)) === 0) report(t);
      } });
    problem.dispose();
    report(steps);
    console.log(`${mode} msPerStep=${((performance.now() - t0) / steps).toFixed(4)} deviation=${res.mean} cpuMsPerStep=${(cpuMs() / steps).toFixed(4)}`);
    return;
  }
  for (let t = 0; t < steps; t++) {
    if (mode === 'scope') {
      const next = torch.scope(() => { const xn = x.add(torch.randn([rows, 2], F64), -0.01); return { x: xn, avg: avg.add(xn.sub(avg), 1 / (t + 1)) }; });
      x.dispose(); avg.dispose(); x = next.x; avg = next.avg;
    } else if (mode === 'leaky') {  // 'scope' plus one small tensor per step left to the GC (not disposed)
      const next = torch.scope(() => { const xn = x.add(torch.randn([rows, 2], F64), -0.01); return { x: xn, avg: avg.add(xn.sub(avg), 1 / (t + 1)) }; });
      x.dispose(); avg.dispose(); x = next.x; avg = next.avg;
      void x.sum();
    } else if (mode === 'dispose') {
      const r = torch.randn([rows, 2], F64); const xn = x.add(r, -0.01); const d = xn.sub(avg); const an = avg.add(d, 1 / (t + 1));
      r.dispose(); d.dispose(); x.dispose(); avg.dispose(); x = xn; avg = an;
    } else if (mode === 'inplace') {  // no new tensors per step except randn
      const r = torch.randn([rows, 2], F64); r.dispose();
    } else if (mode === 'grad') {
      const p = x.clone().requiresGrad_(true);
      torch.scope(() => { const l = p.mul(p).sum(); torch.backward([l]); });
      const g = p.grad!; const xn = torch.noGrad(() => x.sub(g, 0.01)); g.dispose(); p.dispose(); x.dispose(); x = xn;
    } else if (mode === 'nonew') { // JS-only objects: sanity
      const o = { a: new Array(10).fill(t) }; void o;
    }
    if (gcEvery && t % gcEvery === 0) (globalThis as any).gc();
    if (yieldEvery && t % yieldEvery === 0) await new Promise((r) => setImmediate(r));
    if (t % Math.max(1, Math.floor(steps / 5)) === 0) report(t);
  }
  const ms = (performance.now() - t0) / steps;
  report(steps);
  console.log(`${mode} msPerStep=${ms.toFixed(4)} cpuMsPerStep=${(cpuMs() / steps).toFixed(4)}`);
}
await main();
