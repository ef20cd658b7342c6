// reproducibility: the deviation sweep (averaged SGD on a quadratic with a flat direction, 2,000
// run pairs vectorized as one [4000, d] batch, budgets T = 100, 200, 400 with η = D²/(εT)) against
// the same computation in PyTorch and in NumPy, float64, in the same run.
import type { BenchHelper } from './helper.ts';
import { spectrumQuadratic, stochasticGradient, sgdAveraged, measureDeviation, sgdQuadraticDeviation } from '../src/modules/reproducibility/index.ts';

export default async function (h: BenchHelper): Promise<void> {
  const d = 10, R = 2000, eps = 0.05, delta = 0.1, Ts = [100, 200, 400];
  const eig = Array.from({ length: d }, (_, i) => i / (d - 1));
  const p = spectrumQuadratic({ eigenvalues: eig, seed: 0, D: 1 });
  const H = p.H.toFloat64Array(), g = p.g.toFloat64Array(), u0 = p.u0.toFloat64Array();
  const D = p.constants.D;
  let ours: number[] = [];
  const sweep = () => {
    ours = Ts.map((T) => measureDeviation(
      sgdAveraged((D * D) / (eps * T)),
      p,
      stochasticGradient(delta),
      T,
      { pairs: R, seed: 1 },
    ).mean);
  };
  const ms = await h.timeIt(sweep, { warmup: 1, reps: 5 });
  const closed = Ts.map((T) => sgdQuadraticDeviation(p.eigen!.values, (delta * delta) / d, (D * D) / (eps * T), T, 'average'));
  const common = `
d, R, eps, delta, Ts = ${d}, ${R}, ${eps}, ${delta}, ${JSON.stringify(Ts)}
Hl, gl, u0l, D = ${JSON.stringify(Array.from(H))}, ${JSON.stringify(Array.from(g))}, ${JSON.stringify(Array.from(u0))}, ${D}
`;
  const py = h.python<{ torch: number; numpy: number; torchMeans: number[]; numpyMeans: number[] }>(common + `
import numpy as np
torch.set_default_dtype(torch.float64)
H = torch.tensor(Hl).reshape(d, d); g = torch.tensor(gl); u0 = torch.tensor(u0l)
negG = -g
def run_torch(T):
    torch.manual_seed(1)  # as measureDeviation(seed = 1): the same libtorch stream, so the same numbers
    lr = D * D / (eps * T); s = delta / d ** 0.5
    x = u0.expand(2 * R, d).clone(); avg = x.clone()
    for t in range(T):
        gr = torch.addmm(negG, x, H).add(torch.randn(2 * R, d), alpha=s)
        x = x.add(gr, alpha=-lr)
        avg = x.clone() if t == 0 else avg.add(x - avg, alpha=1.0 / (t + 1))
    return ((avg[:R] - avg[R:]) ** 2).sum(1).mean().item()
Hn, gn, u0n = H.numpy(), g.numpy(), u0.numpy()
rng = np.random.default_rng(1)
def run_numpy(T):
    lr = D * D / (eps * T); s = delta / d ** 0.5
    x = np.tile(u0n, (2 * R, 1)); avg = x.copy()
    for t in range(T):
        gr = x @ Hn - gn + rng.standard_normal((2 * R, d)) * s
        x = x - lr * gr
        avg = x.copy() if t == 0 else avg + (x - avg) / (t + 1)
    return float(((avg[:R] - avg[R:]) ** 2).sum(1).mean())
tm = [run_torch(T) for T in Ts]; nm = [run_numpy(T) for T in Ts]
print(json.dumps({'torch': bench(lambda: [run_torch(T) for T in Ts], 1, 5), 'numpy': bench(lambda: [run_numpy(T) for T in Ts], 1, 5), 'torchMeans': tm, 'numpyMeans': nm}))
`);
  const f = (xs: number[]) => xs.map((v) => v.toExponential(3)).join('/');
  const note = `T=${Ts.join(',')}, ${R} pairs, d=${d}; same seed → PyTorch matches to 1e-9; mean deviation ours ${f(ours)}, torch ${f(py.torchMeans)}, numpy ${f(py.numpyMeans)}, closed form ${f(closed)}`;
  h.record({ name: 'reproducibility: deviation sweep SGD-avg vs PyTorch', paperlabMs: ms, referenceMs: py.torch, note });
  h.record({ name: 'reproducibility: deviation sweep SGD-avg vs NumPy', paperlabMs: ms, referenceMs: py.numpy, reference: 'NumPy (python3-numpy)', note });
  // same computation: PyTorch with the same seed gives the same numbers (to rounding)
  ours.forEach((v, i) => { if (Math.abs(v / py.torchMeans[i]! - 1) > 1e-9) throw new Error(`ours ${v} differs from PyTorch ${py.torchMeans[i]} at T=${Ts[i]}`); });
  // agreement of the three implementations with the closed form (each within 10%: 2,000 pairs)
  for (const [name, xs] of [['ours', ours], ['torch', py.torchMeans], ['numpy', py.numpyMeans]] as const) {
    xs.forEach((v, i) => { if (Math.abs(v / closed[i]! - 1) > 0.1) throw new Error(`${name} mean ${v} at T=${Ts[i]} is off the closed form ${closed[i]}`); });
  }
  p.dispose();
}
