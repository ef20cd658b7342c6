// Hessian trace and spectral density from Hessian-vector products, as PyHessian computes them
// (Yao, Gholami, Keutzer, Mahoney, "PyHessian: neural networks through the lens of the Hessian",
// 2020, §III): the trace by Hutchinson's estimator tr(H) = E[vᵀHv] over Rademacher v (§III-B), and
// the empirical spectral density by stochastic Lanczos quadrature (§III-C): m Lanczos steps from a
// random unit v give the tridiagonal T_m = S Θ Sᵀ, and the density is approximated by the Gaussian-
// broadened quadrature φ(t) ≈ (1/n_v) Σ_runs Σ_j w_j g_σ(t − θ_j) with nodes θ_j (Ritz values) and
// weights w_j = S[0, j]² (eq. 8). Both work on any symmetric `MatVec` (see hessian.ts).
import * as torch from './torch/index.ts';
import type { Tensor } from './torch/index.ts';
import { splitmix32, type MatVec } from './hessian.ts';

/** Seeded ±1 entries (Rademacher) without touching libtorch's global generator. */
export function rademacher(n: number, seed: number, dtype: 'float64' | 'float32' = 'float64'): Tensor {
  const next = splitmix32(seed ^ 0x5bd1e995);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = next() & 0x40000000 ? 1 : -1; // one bit per entry
  return torch.tensor(a, { dtype });
}

export interface TraceOptions {
  /** at most this many probes (PyHessian default 100) */
  maxIter?: number;
  /** stop when the running mean changes by less than tol relative (PyHessian default 1e-3; 0: run maxIter probes) */
  tol?: number;
  /** first probe's seed; probe i uses seed + i */
  seed?: number;
  /**
   * 'rademacher' (Hutchinson, PyHessian's `trace()`), or 'basis': the n probes √n·e_i, whose
   * sample mean n·mean_i H_ii is the exact trace (n HVPs; for checks and small nets)
   */
  probes?: 'rademacher' | 'basis';
}

export interface TraceResult {
  /** the estimate: mean of the samples vᵀHv */
  trace: number;
  /** every sample vᵀHv (PyHessian's `trace()` return value) */
  samples: number[];
  /** standard error of the mean, sd(samples)/√N (0 for the basis probes: exact) */
  stderr: number;
  iterations: number;
  /** the running mean met tol before maxIter (always true for the basis probes) */
  converged: boolean;
}

/**
 * Hutchinson's trace estimator (PyHessian `trace(maxIter, tol)`): samples vᵀHv with Rademacher v,
 * stopping when |mean_k − mean_{k−1}| / (|mean_{k−1}| + 1e-6) < tol.
 */
export function hutchinsonTrace(matvec: MatVec, n: number, o: TraceOptions = {}): TraceResult {
  const samples: number[] = [];
  if ((o.probes ?? 'rademacher') === 'basis') {
    const I = torch.eye(n, n, { dtype: 'float64' });
    try {
      for (let i = 0; i < n; i++) samples.push(n * torch.scope(() => matvec(I.select(0, i)).select(0, i).item()));
    } finally { I.dispose(); }
    const trace = samples.reduce((a, b) => a + b, 0) / n;
    return { trace, samples, stderr: 0, iterations: n, converged: true };
  }
  const maxIter = o.maxIter ?? 100;
  const tol = o.tol ?? 1e-3;
  const seed = o.seed ?? 0;
  let mean = 0, sum = 0, converged = false;
  for (let i = 0; i < maxIter; i++) {
    samples.push(torch.scope(() => { const v = rademacher(n, seed + i); return matvec(v).dot(v).item(); }));
    sum += samples[i]!;
    const next = sum / samples.length;
    if (tol > 0 && Math.abs(next - mean) / (Math.abs(mean) + 1e-6) < tol) { mean = next; converged = true; break; }
    mean = next;
  }
  const N = samples.length;
  const variance = N > 1 ? samples.reduce((a, s) => a + (s - mean) ** 2, 0) / (N - 1) : NaN;
  return { trace: mean, samples, stderr: Math.sqrt(variance / N), iterations: N, converged };
}

/** One SLQ run: the Ritz values of T_m and the quadrature weights (first components squared). */
export interface SlqRun { nodes: number[]; weights: number[] }

export interface SlqOptions {
  /** Lanczos steps per run (PyHessian `iter`, default 100; capped at n) */
  iter?: number;
  /** number of runs with independent Rademacher starts (PyHessian `n_v`, default 1) */
  nv?: number;
  /** first run's seed; run r uses seed + r */
  seed?: number;
}

/**
 * Stochastic Lanczos quadrature (PyHessian `density(iter, n_v)`): per run, Lanczos with full
 * reorthogonalization from a normalized Rademacher vector v. The quadrature is exact for
 * polynomials of degree ≤ 2m − 1: Σ_j w_j θ_j^k = vᵀH^k v for k ≤ 2m − 1. Where PyHessian restarts
 * from a fresh random vector when β = 0 (an invariant Krylov space), we stop: the m' < m nodes
 * already integrate every polynomial against v's spectral measure exactly.
 */
export function slqDensity(matvec: MatVec, n: number, o: SlqOptions = {}): SlqRun[] {
  const m = Math.min(n, o.iter ?? 100);
  const runs: SlqRun[] = [];
  for (let r = 0; r < (o.nv ?? 1); r++) {
    const { alpha, beta } = lanczosTridiagonal(matvec, n, m, (o.seed ?? 0) + r);
    runs.push(torch.scope(() => {
      const k = alpha.length;
      const T = new Float64Array(k * k);
      for (let i = 0; i < k; i++) {
        T[i * k + i] = alpha[i]!;
        if (i + 1 < k) { T[i * k + i + 1] = beta[i]!; T[(i + 1) * k + i] = beta[i]!; }
      }
      const [ev, S] = torch.linalg.eigh(torch.tensor(T, { shape: [k, k], dtype: 'float64' }));
      const first = Array.from(S.select(0, 0).toFloat64Array());
      return { nodes: Array.from(ev.toFloat64Array()), weights: first.map((s) => s * s) };
    }));
  }
  return runs;
}

/** α, β of Lanczos from a normalized Rademacher start (full reorthogonalization, Gram–Schmidt twice). */
function lanczosTridiagonal(matvec: MatVec, n: number, m: number, seed: number): { alpha: number[]; beta: number[] } {
  const Q = torch.zeros([m, n], { dtype: 'float64' });
  const alpha: number[] = [];
  const beta: number[] = [];
  try {
    let q = torch.scope(() => rademacher(n, seed).div(Math.sqrt(n)));
    let scale = 0;
    for (let j = 0; j < m; j++) {
      torch.scope(() => { Q.select(0, j).copy_(q); });
      const [w, a, b] = torch.scope(() => {
        let w = matvec(q).to('float64');
        const a = w.dot(q).item();
        const Qj = Q.narrow(0, 0, j + 1);
        for (let pass = 0; pass < 2; pass++) w = w.sub(Qj.t().mv(Qj.mv(w)));
        return [w, a, w.norm().item()] as const;
      });
      q.dispose();
      alpha.push(a);
      scale = Math.max(scale, Math.abs(a), b);
      if (j + 1 === m || !(b > 1e-12 * scale)) { w.dispose(); break; }
      beta.push(b);
      q = torch.scope(() => w.div(b));
      w.dispose();
    }
  } finally { Q.dispose(); }
  return { alpha, beta };
}

export interface DensityGridOptions {
  /** grid points (PyHessian `num_bins`, default 10000) */
  bins?: number;
  /** Gaussian variance per unit of spectrum width (PyHessian `sigma_squared`, default 1e-5) */
  sigmaSquared?: number;
  /** the grid extends this far beyond the mean extreme nodes (PyHessian `overhead`, default 0.01) */
  overhead?: number;
}

/**
 * PyHessian's `density_generate`: the nodes broadened by Gaussians of variance
 * σ² = sigmaSquared·max(1, λmax − λmin) on an evenly spaced grid from (mean of the runs' smallest
 * node) − overhead to (mean of the largest) + overhead, averaged over runs and normalized to
 * integrate to 1 (Riemann sum on the grid).
 */
export function densityGrid(runs: readonly SlqRun[], o: DensityGridOptions = {}): { grid: number[]; density: number[]; sigma2: number } {
  if (runs.length === 0) throw new Error('densityGrid: no SLQ runs');
  const bins = o.bins ?? 10000, overhead = o.overhead ?? 0.01;
  if (!(Number.isInteger(bins) && bins >= 2)) throw new Error(`densityGrid: bins must be an integer ≥ 2, got ${bins}`);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const hi = mean(runs.map((r) => Math.max(...r.nodes))) + overhead;
  const lo = mean(runs.map((r) => Math.min(...r.nodes))) - overhead;
  const sigma2 = (o.sigmaSquared ?? 1e-5) * Math.max(1, hi - lo);
  const grid = Array.from({ length: bins }, (_, i) => lo + ((hi - lo) * i) / (bins - 1));
  const c = 1 / Math.sqrt(2 * Math.PI * sigma2);
  const density = grid.map((x) => mean(runs.map((r) => r.nodes.reduce((s, t, j) => s + r.weights[j]! * c * Math.exp(-((x - t) ** 2) / (2 * sigma2)), 0))));
  const norm = density.reduce((a, b) => a + b, 0) * (grid[1]! - grid[0]!);
  return { grid, density: norm > 0 ? density.map((d) => d / norm) : density, sigma2 };
}
