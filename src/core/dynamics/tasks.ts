// Data sets of the EoS experiments at CPU scale: chebyshev-k-20, linear-50-50, a Gaussian
// mixture, and helpers that turn image arrays into standardized float64 design matrices.
import * as torch from '../torch/index.ts';
import type { Tensor } from '../torch/index.ts';
import { Rng } from '../rng.ts';
import { F64, type Dataset } from './objective.ts';

/** T_k(x) = cos(k·arccos x) on [−1, 1] (the Chebyshev polynomial of the first kind). */
export function chebyshevT(k: number, x: number): number {
  let t0 = 1, t1 = x;
  if (k === 0) return 1;
  for (let i = 2; i <= k; i++) { const t2 = 2 * x * t1 - t0; t0 = t1; t1 = t2; }
  return t1;
}

/** `chebyshev-k-n`: n points evenly spaced on [−1, 1], targets T_k(x) (noiseless). Train = test. */
export function chebyshev(k = 3, n = 20): Dataset {
  if (!(Number.isInteger(k) && k >= 0)) throw new Error(`chebyshev: degree k must be a non-negative integer, got ${k}`);
  if (!(Number.isInteger(n) && n >= 2)) throw new Error(`chebyshev: n must be an integer ≥ 2, got ${n}`);
  const xs = Array.from({ length: n }, (_, i) => -1 + (2 * i) / (n - 1));
  const X = torch.tensor(Float64Array.from(xs), { shape: [n, 1] });
  const y = torch.tensor(Float64Array.from(xs, (x) => chebyshevT(k, x)), { shape: [n, 1] });
  return { name: `chebyshev-${k}-${n}`, X, y, classes: 0 };
}

/**
 * `linear-50-50`: n inputs of dimension d. A Gaussian n×d matrix's orthonormal QR factor scaled
 * by √n; targets Y = X Aᵀ with Gaussian A (d×d).
 */
export function linearTask(rng: Rng, n = 50, d = 50): Dataset {
  return torch.scope(() => {
    const G = torch.tensor(rng.normals(n * d), { shape: [n, d] });
    const [Q] = torch.linalg.qr(G);
    const X = Q!.mul(Math.sqrt(n));
    const A = torch.tensor(rng.normals(d * d), { shape: [d, d] });
    const y = X.mm(A.t());
    return { name: `linear-${n}-${d}`, X, y, classes: 0 };
  });
}

/**
 * A Gaussian mixture classification task: class means μ_c ~ N(0, sep²/d·I) … scaled so that
 * ‖μ_c‖ ≈ sep, inputs x = μ_c + N(0, I). Balanced classes; an independent test split.
 */
export function gaussianMixture(rng: Rng, o: { n?: number; nTest?: number; d?: number; classes?: number; sep?: number } = {}): Dataset {
  const n = o.n ?? 1000, nTest = o.nTest ?? 1000, d = o.d ?? 32, C = o.classes ?? 2, sep = o.sep ?? 3;
  if (C < 2) throw new Error(`gaussianMixture: classes must be ≥ 2, got ${C}`);
  const mu = rng.normals(C * d, 0, sep / Math.sqrt(d));
  const make = (m: number) => {
    const X = new Float64Array(m * d);
    const y = new BigInt64Array(m);
    for (let i = 0; i < m; i++) {
      const c = i % C;
      y[i] = BigInt(c);
      for (let j = 0; j < d; j++) X[i * d + j] = mu[c * d + j]! + rng.normal();
    }
    return { X: torch.tensor(X, { shape: [m, d] }), y: torch.tensor(y, { shape: [m] }) };
  };
  const tr = make(n), te = make(nTest);
  return { name: `gmm-${C}x${d}-${n}`, X: tr.X, y: tr.y, classes: C, Xtest: te.X, ytest: te.y };
}

/**
 * Flattens images [n, ...] to [n, features], scales by `scale` (e.g. 1/255) and standardizes each
 * feature with the train statistics (reference preprocessing: center, then divide by std).
 * Constant features keep std 1. The same transform is applied to the test images.
 */
export function standardize(train: Tensor, test?: Tensor, scale = 1): { train: Tensor; test?: Tensor } {
  return torch.scope(() => {
    const Xtr = train.reshape(train.shape[0]!, -1).to('float64').mul(scale);
    const mean = Xtr.mean(0, true);
    let std = Xtr.sub(mean).square().mean(0, true).sqrt();
    std = torch.where(std.gt(1e-12), std, torch.onesLike(std));
    const tr = Xtr.sub(mean).div(std);
    const te = test ? test.reshape(test.shape[0]!, -1).to('float64').mul(scale).sub(mean).div(std) : undefined;
    return { train: tr, test: te };
  });
}

/** The first `n` examples (the reference's cifar10-5k etc. are prefixes of the train set). */
export function takeFirst(d: Dataset, n: number): Dataset {
  if (n >= d.X.shape[0]!) return d;
  return { ...d, name: `${d.name}-${n}`, X: d.X.narrow(0, 0, n).contiguous(), y: d.y.narrow(0, 0, n).contiguous() };
}

export { F64 };
