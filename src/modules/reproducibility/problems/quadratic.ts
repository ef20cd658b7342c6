// Smooth quadratics with known constants: a prescribed spectrum (flat directions for the lower-bound
// constructions), ridge regression (strongly convex), and the quadratic of Zhang et al. 2023.
import * as torch from '../../../core/torch/index.ts';
import type { Tensor } from '../../../core/torch/index.ts';
import { Rng } from '../../../core/rng.ts';
import { F64, checkDim, randomOrthogonal, type Problem, type ProblemConstants, type Setting } from './problem.ts';

const addmm = torch.lazy('addmm');

/**
 * F(x) = ½ xᵀHx − gᵀx + c. Minimizers: H⁺g + null(H). Handles every smooth quadratic below
 * (spectrum-prescribed, ridge, the follow-up's ½‖Ax − b‖²).
 */
export class QuadraticProblem implements Problem {
  readonly setting: Setting;
  readonly d: number;
  readonly constants: ProblemConstants;
  readonly fStar: number;
  readonly flatDirection: Tensor | null;
  readonly eigen: { values: Float64Array; vectors: Tensor };
  /** one minimizer (the minimum-norm one H⁺g) */
  readonly xStar: Tensor;

  constructor(readonly name: string, readonly H: Tensor, readonly g: Tensor, readonly c: number, readonly u0: Tensor,
    o: { zeroTol?: number } = {}) {
    const d = H.shape[0]!;
    if (H.ndim !== 2 || H.shape[1] !== d) throw new Error(`${name}: H must be square, got [${H.shape}]`);
    if (g.ndim !== 1 || g.shape[0] !== d || u0.ndim !== 1 || u0.shape[0] !== d) {
      throw new Error(`${name}: g and u0 must have shape [${d}]`);
    }
    if (H.dtype !== 'float64' || g.dtype !== 'float64' || u0.dtype !== 'float64') throw new Error(`${name}: tensors must be float64`);
    this.d = d;
    const [vals, vecs] = torch.linalg.eigh(H);
    const values = vals.toFloat64Array();
    vals.dispose();
    const L = values[d - 1]!;
    const tol = (o.zeroTol ?? 1e-10) * Math.max(1, L);
    // Clean eigenvalues at rounding level to exact zeros (flat directions are exact by construction).
    for (let i = 0; i < d; i++) if (Math.abs(values[i]!) <= tol) values[i] = 0;
    if (values[0]! < 0) throw new Error(`${name}: H is not positive semi-definite (eigenvalue ${values[0]})`);
    this.eigen = { values, vectors: vecs };
    const { xStar, fStar, D } = torch.scope(() => {
      // pseudo-inverse solve in the eigenbasis
      const inv = torch.tensor(Float64Array.from(values, (v) => (v > 0 ? 1 / v : 0)), F64);
      const gc = vecs.t().mv(g);
      const xs = vecs.mv(gc.mul(inv));
      const fs = -0.5 * g.dot(xs).item() + c;
      const e = vecs.t().mv(u0.sub(xs));
      const mask = torch.tensor(Float64Array.from(values, (v) => (v > 0 ? 1 : 0)), F64);
      const dist = e.mul(mask).norm().item();
      return { xStar: xs, fStar: fs, D: dist };
    });
    this.xStar = xStar;
    this.fStar = fStar;
    const mu = values[0]!;
    this.setting = mu > 0 ? 'strongly-convex' : 'smooth-convex';
    this.constants = { L, mu, G: Number.NaN, D };
    this.flatDirection = torch.scope(() => vecs.select(1, 0).contiguous()); // the select view is freed
    this.negG = g.neg();
  }
  private readonly negG: Tensor;

  value(x: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => x.matmul(this.H).mul(x).sum(1).mul(0.5).sub(x.mv(this.g)).add(this.c));
  }

  grad(x: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    // one fused op: −g + x·H (H symmetric)
    return addmm(this.negG, x, this.H);
  }

  dispose(): void {
    torch.dispose(this.H, this.g, this.negG, this.u0, this.eigen.vectors, this.xStar, this.flatDirection);
  }
}

export interface SpectrumQuadraticOptions {
  /** Hessian eigenvalues (≥ 0; zeros make flat directions) */
  eigenvalues: number[];
  /** rotate the eigenbasis by a Haar-random orthogonal matrix (default true) */
  rotate?: boolean;
  /** distance D from u0 to the nearest minimizer (default 1) */
  D?: number;
  seed?: number;
}

/**
 * F(x) = ½(x − x*)ᵀH(x − x*) with H = Q diag(eigenvalues) Qᵀ; F* = 0; u0 at distance exactly D from
 * the minimizer set, along the curved directions. A zero eigenvalue gives the flat direction of
 * the lower-bound constructions.
 */
export function spectrumQuadratic(o: SpectrumQuadraticOptions): QuadraticProblem {
  const d = o.eigenvalues.length;
  if (d < 1) throw new Error('spectrumQuadratic: eigenvalues must be non-empty');
  for (const [i, v] of o.eigenvalues.entries()) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`spectrumQuadratic: eigenvalues[${i}] = ${v} must be finite and >= 0`);
  }
  if (o.eigenvalues.every((v) => v === 0)) throw new Error('spectrumQuadratic: at least one eigenvalue must be positive');
  const rng = new Rng(o.seed ?? 0);
  const D = o.D ?? 1;
  if (!(D >= 0)) throw new Error(`spectrumQuadratic: D must be >= 0, got ${D}`);
  const parts = torch.scope(() => {
    const Q = o.rotate === false ? torch.eye(d, d, F64) : randomOrthogonal(d, rng);
    const lam = torch.tensor(Float64Array.from(o.eigenvalues), F64);
    const H = Q.mul(lam.unsqueeze(0)).matmul(Q.t());
    const Hs = H.add(H.t()).mul(0.5);
    const xs = torch.tensor(rng.normals(d), F64);
    // start offset: random direction inside the curved eigenspace, scaled to norm D
    const z = torch.tensor(rng.normals(d), F64).mul(lam.gt(0).double());
    const off = Q.mv(z.div(z.norm()).mul(D));
    const u0 = xs.add(off);
    const g = Hs.mv(xs);
    const c = 0.5 * xs.dot(g).item();
    return { Hs, g, u0, c: torch.scalar(c, F64) };
  });
  const c = parts.c.item();
  parts.c.dispose();
  return new QuadraticProblem(`quadratic(d=${d})`, parts.Hs, parts.g, c, parts.u0);
}

/**
 * Ridge regression F(x) = ‖Ax − b‖²/(2n) + (μ/2)‖x‖² on a Gaussian design (strongly convex,
 * L and μ from the exact spectrum). u0 = 0.
 */
export function ridge(o: { n: number; d: number; mu: number; noise?: number; seed?: number }): QuadraticProblem {
  const { n, d, mu } = o;
  if (!(Number.isInteger(n) && n > 0 && Number.isInteger(d) && d > 0)) throw new Error(`ridge: n and d must be positive integers, got n=${n}, d=${d}`);
  if (!(mu > 0)) throw new Error(`ridge: mu must be > 0, got ${mu}`);
  const rng = new Rng(o.seed ?? 0);
  const parts = torch.scope(() => {
    const A = torch.tensor(rng.normals(n * d), { shape: [n, d], dtype: 'float64' });
    const w = torch.tensor(rng.normals(d), F64);
    const b = A.mv(w).add(torch.tensor(rng.normals(n, 0, o.noise ?? 0.1), F64));
    const H0 = A.t().matmul(A).div(n).add(torch.eye(d, d, F64).mul(mu));
    const H = H0.add(H0.t()).mul(0.5);
    const g = A.t().mv(b).div(n);
    const c = b.dot(b).item() / (2 * n);
    return { H, g, u0: torch.zeros([d], F64), c: torch.scalar(c, F64) };
  });
  const c = parts.c.item();
  parts.c.dispose();
  return new QuadraticProblem(`ridge(n=${n},d=${d},mu=${mu})`, parts.H, parts.g, c, parts.u0);
}

/**
 * The follow-up's quadratic (the numerical experiment of Zhang, Yang, Karbasi, He 2023; E6 here): ½‖Ax − b‖²,
 * A = UΣUᵀ with U Haar-random, Σ one zero and the rest uniform in [0.1, 10], b ~ N(0, 10²). u0 = 0.
 */
export function followUpQuadratic(o: { d?: number; seed?: number } = {}): QuadraticProblem {
  const d = o.d ?? 100;
  if (!(Number.isInteger(d) && d >= 2)) throw new Error(`followUpQuadratic: d must be an integer >= 2, got ${d}`);
  const rng = new Rng(o.seed ?? 0);
  const parts = torch.scope(() => {
    const U = randomOrthogonal(d, rng);
    const sig = Float64Array.from({ length: d }, (_, i) => (i === 0 ? 0 : rng.uniform(0.1, 10)));
    const S = torch.tensor(sig, F64);
    const A0 = U.mul(S.unsqueeze(0)).matmul(U.t());
    const A = A0.add(A0.t()).mul(0.5);
    const b = torch.tensor(rng.normals(d, 0, 10), F64);
    const H0 = A.matmul(A);
    const H = H0.add(H0.t()).mul(0.5);
    const g = A.mv(b);
    return { H, g, u0: torch.zeros([d], F64), c: torch.scalar(0.5 * b.dot(b).item(), F64) };
  });
  const c = parts.c.item();
  parts.c.dispose();
  return new QuadraticProblem(`followup-quadratic(d=${d})`, parts.H, parts.g, c, parts.u0);
}

/**
 * The diagonal quadratic F(x) = ½ Σ λᵢ xᵢ² of a user's spectrum (minimizer 0 and the flat directions,
 * F* = 0), from u0 = start (default all ones/√d).
 */
export function diagonalQuadratic(eigenvalues: readonly number[], start?: readonly number[]): QuadraticProblem {
  const d = eigenvalues.length;
  if (d < 1) throw new Error('diagonalQuadratic: eigenvalues must be non-empty');
  for (const [i, v] of eigenvalues.entries()) {
    if (!Number.isFinite(v) || v < 0) throw new Error(`diagonalQuadratic: eigenvalues[${i}] = ${v} must be finite and >= 0`);
  }
  if (start && start.length !== d) throw new Error(`diagonalQuadratic: start has ${start.length} numbers, the spectrum ${d}`);
  const parts = torch.scope(() => ({
    H: torch.tensor(Float64Array.from(eigenvalues), F64).diag(),
    g: torch.zeros([d], F64),
    u0: torch.tensor(start ? Float64Array.from(start) : new Float64Array(d).fill(1 / Math.sqrt(d)), F64),
  }));
  return new QuadraticProblem(`diagonal-quadratic(${eigenvalues.join(',')})`, parts.H, parts.g, 0, parts.u0);
}

/** The same quadratic from another reference start u0 (D recomputed); frees `q`. */
export function withStart(q: QuadraticProblem, start: readonly number[]): QuadraticProblem {
  if (start.length !== q.d) throw new Error(`${q.name}: start has ${start.length} numbers, the dimension is ${q.d}`);
  const parts = torch.scope(() => ({ H: q.H.clone(), g: q.g.clone(), u0: torch.tensor(Float64Array.from(start), F64) }));
  const c = q.c, name = `${q.name}, given start`;
  q.dispose();
  return new QuadraticProblem(name, parts.H, parts.g, c, parts.u0);
}
