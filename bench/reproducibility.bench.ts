// reproducibility: the deviation sweep (averaged SGD on a quadratic with a flat direction, 2,000
// run pairs vectorized as one [4000, d] batch, budgets T = 100, 200, 400 with η = D²/(εT)) against
// the same computation in PyTorch and in NumPy, float64. Both sides run as long-lived child
// processes timed in interleaved blocks (BenchHelper.interleave), with the helper's thread count:
// ours is `serve` below (through bench/serve.ts), the reference bench/reproducibility_ref.py.
// `randn` times the Gaussian noise alone on both sides (libtorch's generator, one [4000, d] draw
// per step): the part of the sweep no op count can remove while the numbers stay PyTorch's.
import * as torch from '../src/core/torch/index.ts';
import { median, type BenchHelper } from './helper.ts';
import type { Served } from './serve.ts';
import { spectrumQuadratic, stochasticGradient, sgdAveraged, measureDeviation, sgdQuadraticDeviation } from '../src/modules/reproducibility/index.ts';

const d = 10, R = 2000, eps = 0.05, delta = 0.1, Ts = [100, 200, 400];
const problem = () => spectrumQuadratic({ eigenvalues: Array.from({ length: d }, (_, i) => i / (d - 1)), seed: 0, D: 1 });

/** Our workloads (run in the child process); hello carries the means of one sweep for the checks below. */
export function serve(): Served {
  const p = problem();
  const D = p.constants.D;
  const sweep = () => Ts.map((T) => measureDeviation(sgdAveraged((D * D) / (eps * T)), p, stochasticGradient(delta), T, { pairs: R, seed: 1 }).mean);
  const randn = () => {
    for (const T of Ts) {
      torch.manualSeed(1);
      for (let t = 0; t < T; t++) torch.randn([2 * R, d], { dtype: 'float64' }).dispose();
    }
  };
  return { hello: { threads: torch.getNumThreads(), means: sweep() }, fns: { sweep, sweep_np: sweep, randn } };
}

export default async function (h: BenchHelper): Promise<void> {
  if (!h.hasPythonTorch()) { console.log('  python torch missing: skipping reproducibility bench'); return; }
  const p = problem();
  const arr = (t: torch.Tensor) => Array.from(t.toFloat64Array());
  const cfg = { d, R, eps, delta, Ts, D: p.constants.D, H: arr(p.H), g: arr(p.g), u0: arr(p.u0) };
  const closed = Ts.map((T) => sgdQuadraticDeviation(p.eigen!.values, (delta * delta) / d, (p.constants.D ** 2) / (eps * T), T, 'average'));
  p.dispose();
  const ref = h.referenceServer('reproducibility_ref', cfg), mine = h.selfServer(import.meta.url, {});
  try {
    const py = await ref.hello<{ threads: number; torchMeans: number[]; numpyMeans: number[] }>();
    const us = await mine.hello<{ threads: number; means: number[] }>();
    if (py.threads !== us.threads) throw new Error(`reproducibility bench: thread counts differ (ours ${us.threads}, PyTorch ${py.threads})`);
    const ours = us.means;
    // same computation: PyTorch with the same seed gives the same numbers (to rounding)
    ours.forEach((v, i) => { if (Math.abs(v / py.torchMeans[i]! - 1) > 1e-9) throw new Error(`ours ${v} differs from PyTorch ${py.torchMeans[i]} at T=${Ts[i]}`); });
    // agreement of the three implementations with the closed form (each within 10%: 2,000 pairs)
    for (const [name, xs] of [['ours', ours], ['torch', py.torchMeans], ['numpy', py.numpyMeans]] as const) {
      xs.forEach((v, i) => { if (Math.abs(v / closed[i]! - 1) > 0.1) throw new Error(`${name} mean ${v} at T=${Ts[i]} is off the closed form ${closed[i]}`); });
    }
    const noise = await h.interleave(mine, ref, 'randn', { rounds: 4, block: 3 });
    const f = (xs: number[]) => xs.map((v) => v.toExponential(3)).join('/');
    const common = `T=${Ts.join(',')}, ${R} pairs, d=${d}; ${us.threads} thread(s) both sides; same seed → PyTorch matches to 1e-9; mean deviation ours ${f(ours)}, torch ${f(py.torchMeans)}, numpy ${f(py.numpyMeans)}, closed form ${f(closed)}; the noise alone (libtorch randn, ${Ts.reduce((a, b) => a + b, 0)} draws of [${2 * R}, ${d}]) ours ${median(noise.mine).toFixed(0)} ms, PyTorch ${median(noise.theirs).toFixed(0)} ms`;
    const t = await h.interleave(mine, ref, 'sweep', { rounds: 4, block: 3 });
    h.record({ name: 'reproducibility: deviation sweep SGD-avg vs PyTorch', paperlabMs: median(t.mine), referenceMs: median(t.theirs), note: `${common}; ${t.note}` });
    const n = await h.interleave(mine, ref, 'sweep_np', { rounds: 4, block: 3 });
    h.record({ name: 'reproducibility: deviation sweep SGD-avg vs NumPy', paperlabMs: median(n.mine), referenceMs: median(n.theirs), reference: 'NumPy (python3-numpy)', note: `${common}; ${n.note}` });
  } finally {
    ref.close(); mine.close();
  }
}
