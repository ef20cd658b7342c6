// Problem generators with known constants (Ahn et al., NeurIPS 2022, §B.4 of the spec).
//
// Every problem is vectorized over runs: points are [B, d] float64 tensors, one row per run, so a
// whole Monte Carlo batch of run pairs advances with one tensor op per step.
//   value(x) → [B],  grad(x) → [B, d] (a subgradient for the non-smooth ones).
// Constants: L (smoothness), mu (strong convexity, 0 if none), G (Lipschitz, non-smooth), D = distance
// from the reference start u0 to the nearest minimizer, fStar = min F (exact, not estimated).
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { Rng } from '../../core/rng.ts';

export type Setting = 'smooth-convex' | 'strongly-convex' | 'nonsmooth-convex';

export interface ProblemConstants {
  /** smoothness constant (largest Hessian eigenvalue); Infinity for non-smooth problems */
  L: number;
  /** strong-convexity constant (smallest Hessian eigenvalue); 0 when there is a flat direction */
  mu: number;
  /** Lipschitz constant of F (non-smooth problems); NaN when not used */
  G: number;
  /** ‖u0 − Π_{X*}(u0)‖: distance from the reference start to the nearest minimizer */
  D: number;
}

export interface Problem {
  readonly name: string;
  readonly setting: Setting;
  readonly d: number;
  readonly constants: ProblemConstants;
  /** reference start u0 [d] (the init oracle perturbs around it) */
  readonly u0: Tensor;
  /** exact min F */
  readonly fStar: number;
  /** unit vector [d] along the flattest Hessian direction (the lower-bound direction), or null */
  readonly flatDirection: Tensor | null;
  /** eigen-decomposition of the Hessian for quadratics (closed forms), else null */
  readonly eigen: { values: Float64Array; vectors: Tensor } | null;
  value(x: Tensor): Tensor;
  grad(x: Tensor): Tensor;
  /** finite sums only: number of components n */
  readonly n?: number;
  /** finite sums only: per-run minibatch gradient (1/m)Σ_{i∈idx_b} ∇f_i(x_b), idx [B, m] int64 */
  componentGrad?(x: Tensor, idx: Tensor): Tensor;
  /** finite sums only: exact E‖minibatch gradient − ∇F(x)‖² at a point x [d] for batches of m drawn with replacement */
  minibatchVariance?(x: Tensor, m: number): number;
  /** frees the problem's tensors */
  dispose(): void;
}

const F64 = { dtype: 'float64' as const };
const addmm = torch.lazy('addmm');

function checkDim(name: string, x: Tensor, d: number): void {
  if (x.ndim !== 2 || x.shape[1] !== d) {
    throw new Error(`${name}: expected points of shape [B, ${d}], got [${x.shape}]`);
  }
}

/** Haar-random orthogonal d×d matrix from the seeded generator (QR of a Gaussian, sign-fixed). */
export function randomOrthogonal(d: number, rng: Rng): Tensor {
  return torch.scope(() => {
    const g = torch.tensor(rng.normals(d * d), { shape: [d, d], dtype: 'float64' });
    const [q, r] = torch.linalg.qr(g);
    const s = r.diagonal().sign();
    return q.mul(s.unsqueeze(0)).contiguous();
  });
}

// ------------------------------------------------------------------ quadratics
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
 * The follow-up's quadratic (Zhang–Yang–Karbasi–He 2023, §B.5 E6 of the spec): ½‖Ax − b‖²,
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

// ------------------------------------------------------------------ non-smooth
/**
 * Least-absolute-deviation regression F(x) = (1/n)‖Ax − b‖₁ with b = A x_true (so F* = 0 exactly).
 * With `flat` the last feature column is zero, so F is constant along e_d (the flat direction of
 * the lower-bound construction) and its minimizers are x_true + span(e_d).
 * G = min(‖A‖₂/√n, mean_i ‖a_i‖) bounds every subgradient (1/n)Aᵀs, s ∈ [−1, 1]ⁿ.
 */
export class LadProblem implements Problem {
  readonly setting: Setting = 'nonsmooth-convex';
  readonly d: number;
  readonly constants: ProblemConstants;
  readonly fStar = 0;
  readonly flatDirection: Tensor | null;
  readonly eigen = null;
  readonly n: number;

  constructor(readonly name: string, readonly A: Tensor, readonly xTrue: Tensor, readonly u0: Tensor, flat: boolean) {
    this.n = A.shape[0]!;
    this.d = A.shape[1]!;
    this.b = A.mv(xTrue);
    const { G, D } = torch.scope(() => {
      const spec = torch.linalg.norm(A, 2).item() / Math.sqrt(this.n);
      const rows = A.norm(2, 1).mean().item();
      const diff = u0.sub(xTrue);
      const dd = flat ? diff.slice(0, 0, this.d - 1).norm().item() : diff.norm().item();
      return { G: Math.min(spec, rows), D: dd };
    });
    this.constants = { L: Infinity, mu: 0, G, D };
    this.flatDirection = flat ? lastAxis(this.d, 1, 0) : null;
  }
  readonly b: Tensor;

  value(x: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => x.matmul(this.A.t()).sub(this.b.unsqueeze(0)).abs().mean(1));
  }

  grad(x: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => x.matmul(this.A.t()).sub(this.b.unsqueeze(0)).sign().matmul(this.A).div(this.n));
  }

  dispose(): void {
    torch.dispose(this.A, this.xTrue, this.u0, this.b, this.flatDirection);
  }
}

/** [d] vector with `other` everywhere and `last` in the last entry. */
function lastAxis(d: number, last: number, other: number): Tensor {
  const a = new Float64Array(d).fill(other);
  a[d - 1] = last;
  return torch.tensor(a, F64);
}

/** A random LAD problem (Gaussian design, n ≥ d); u0 at distance D (default 1) from the minimizers. */
export function ladRegression(o: { n: number; d: number; flat?: boolean; D?: number; seed?: number }): LadProblem {
  const { n, d } = o;
  const flat = o.flat ?? true;
  if (!(Number.isInteger(n) && Number.isInteger(d) && d >= 2 && n >= d)) throw new Error(`ladRegression: need integers n >= d >= 2, got n=${n}, d=${d}`);
  const rng = new Rng(o.seed ?? 0);
  const D = o.D ?? 1;
  const parts = torch.scope(() => {
    let A = torch.tensor(rng.normals(n * d), { shape: [n, d], dtype: 'float64' });
    if (flat) A = A.mul(lastAxis(d, 0, 1));
    const xTrue = torch.tensor(rng.normals(d), F64);
    const z = torch.tensor(rng.normals(d), F64);
    const zc = flat ? z.mul(lastAxis(d, 0, 1)) : z;
    const u0 = xTrue.add(zc.div(zc.norm()).mul(D));
    return { A, xTrue, u0 };
  });
  return new LadProblem(`lad(n=${n},d=${d}${flat ? ',flat' : ''})`, parts.A, parts.xTrue, parts.u0, flat);
}

// ------------------------------------------------------------------ finite sum on real data
/** log(1 + e^u) computed without overflow or the threshold approximation of softplus. */
function softplusExact(u: Tensor): Tensor {
  return torch.scope(() => u.relu().add(u.abs().neg().exp().log1p()));
}

/**
 * L2-regularized logistic regression F(x) = (1/n)Σ log(1 + exp(−y_i a_iᵀx)) + (μ/2)‖x‖², labels ±1
 * (a finite sum with known constants: L = ‖A‖₂²/(4n) + μ, strong convexity μ; x*, F* by damped
 * Newton to machine precision, so suboptimalities are exact to ~1e-15).
 */
export class LogisticProblem implements Problem {
  readonly setting: Setting = 'strongly-convex';
  readonly d: number;
  readonly n: number;
  readonly constants: ProblemConstants;
  readonly fStar: number;
  readonly xStar: Tensor;
  readonly flatDirection: Tensor;
  readonly eigen = null;
  readonly newtonSteps: number;

  constructor(readonly name: string, readonly A: Tensor, readonly y: Tensor, readonly mu: number, readonly u0: Tensor) {
    if (A.ndim !== 2 || y.ndim !== 1 || y.shape[0] !== A.shape[0]) throw new Error(`${name}: A must be [n, d] and y [n]`);
    if (!(mu > 0)) throw new Error(`${name}: mu must be > 0 (the unregularized problem may have no minimizer), got ${mu}`);
    this.n = A.shape[0]!;
    this.d = A.shape[1]!;
    const L = torch.scope(() => torch.linalg.norm(A, 2).item()) ** 2 / (4 * this.n) + mu;
    // damped Newton from 0
    let x = torch.zeros([1, this.d], F64);
    let steps = 0;
    for (; steps < 100; steps++) {
      const next = torch.scope(() => {
        const g = this.grad(x);
        const z = x.matmul(A.t()).squeeze(0);
        const sg = z.mul(y).sigmoid();
        const w = sg.mul(sg.rsub(1)).div(this.n);
        const H = A.t().mul(w.unsqueeze(0)).matmul(A).add(torch.eye(this.d, this.d, F64).mul(mu));
        const dir = torch.linalg.solve(H, g.t()).t();
        const f0 = this.value(x).item();
        let t = 1;
        let cand = x.sub(dir.mul(t));
        while (this.value(cand).item() > f0 && t > 1e-8) { t /= 2; cand = x.sub(dir.mul(t)); }
        return { cand, gn: g.norm().item() };
      });
      x.dispose();
      x = next.cand;
      if (next.gn < 1e-13) break;
    }
    this.newtonSteps = steps;
    this.xStar = x.squeeze(0);
    this.fStar = torch.scope(() => this.value(x).item());
    const { D, flat } = torch.scope(() => {
      const z = x.matmul(A.t()).squeeze(0);
      const sg = z.mul(y).sigmoid();
      const w = sg.mul(sg.rsub(1)).div(this.n);
      const H = A.t().mul(w.unsqueeze(0)).matmul(A).add(torch.eye(this.d, this.d, F64).mul(mu));
      const [, vecs] = torch.linalg.eigh(H.add(H.t()).mul(0.5));
      return { D: u0.sub(this.xStar).norm().item(), flat: vecs.select(1, 0).contiguous() };
    });
    x.dispose();
    this.flatDirection = flat;
    this.constants = { L, mu, G: Number.NaN, D };
  }

  value(x: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => softplusExact(x.matmul(this.A.t()).mul(this.y.unsqueeze(0)).neg()).mean(1).add(x.square().sum(1).mul(this.mu / 2)));
  }

  grad(x: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => {
      const m = x.matmul(this.A.t()).mul(this.y.unsqueeze(0));
      const s = m.neg().sigmoid().mul(this.y.unsqueeze(0)).neg();
      return s.matmul(this.A).div(this.n).add(x, this.mu);
    });
  }

  componentGrad(x: Tensor, idx: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => {
      const Ai = this.A.index([idx]);                 // [B, m, d]
      const yi = this.y.index([idx]);                 // [B, m]
      const z = Ai.bmm(x.unsqueeze(2)).squeeze(2);    // [B, m]
      const s = z.mul(yi).neg().sigmoid().mul(yi).neg();
      return s.unsqueeze(1).bmm(Ai).squeeze(1).div(idx.shape[1]!).add(x, this.mu);
    });
  }

  minibatchVariance(x: Tensor, m: number): number {
    return torch.scope(() => {
      const xr = x.reshape(1, this.d);
      const z = xr.matmul(this.A.t()).mul(this.y.unsqueeze(0)).squeeze(0);
      const s = z.neg().sigmoid().mul(this.y).neg();               // [n]
      const gi = this.A.mul(s.unsqueeze(1));                       // per-component data gradients [n, d]
      const mean = gi.mean(0, true);
      return gi.sub(mean).square().sum(1).mean().item() / m;
    });
  }

  dispose(): void {
    torch.dispose(this.A, this.y, this.u0, this.xStar, this.flatDirection);
  }
}

/**
 * One-vs-rest logistic regression on a labelled dataset (features scaled to [0, 1] by the global
 * maximum, a bias column appended): label `positive` → +1, every other label → −1. u0 = 0.
 */
export function logisticFromData(data: { X: Float64Array; y: Float64Array; n: number; p: number; file?: string },
  o: { positive: number; mu: number; bias?: boolean; maxRows?: number }): LogisticProblem {
  const n = Math.min(data.n, o.maxRows ?? data.n);
  if (n < 2) throw new Error(`${data.file ?? 'data'}: need at least 2 rows, got ${n}`);
  let mx = 0;
  for (let i = 0; i < n * data.p; i++) mx = Math.max(mx, Math.abs(data.X[i]!));
  const bias = o.bias ?? true;
  const d = data.p + (bias ? 1 : 0);
  const A = new Float64Array(n * d), y = new Float64Array(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < data.p; j++) A[i * d + j] = mx > 0 ? data.X[i * data.p + j]! / mx : 0;
    if (bias) A[i * d + data.p] = 1;
    y[i] = data.y[i] === o.positive ? 1 : -1;
    if (y[i] === 1) pos++;
  }
  if (pos === 0 || pos === n) throw new Error(`${data.file ?? 'data'}: label ${o.positive} gives a single class (${pos} of ${n} positive)`);
  return new LogisticProblem(`logistic(${o.positive}-vs-rest, n=${n}, d=${d}, mu=${o.mu})`,
    torch.tensor(A, { shape: [n, d], dtype: 'float64' }), torch.tensor(y, F64), o.mu, torch.zeros([d], F64));
}
