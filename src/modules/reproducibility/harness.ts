// The (ε, δ)-deviation measure (Ahn et al. 2022's definition of the (ε, δ)-deviation).
//
// measureDeviation(optimizer, problem, oracle, budget) runs R independent pairs of runs in one
// batch ([2R, d] iterates), each run with its own oracle errors, and reports the mean squared
// distance between the two outputs of a pair with a 95% interval, the suboptimality of every
// output (an ε-optimality check: the definition only counts ε-optimal outputs) and, for the
// deterministic oracles, the worst pair tried.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { Rng } from '../../core/rng.ts';
import type { Problem } from './problems/index.ts';
import type { Oracle } from './oracles.ts';
import { jitterInit } from '../../core/jitter.ts';
import type { Optimizer } from './optimizers.ts';

/** An optimizer, or a factory that picks its step size from the problem and the budget. */
export type OptimizerSpec = Optimizer | ((problem: Problem, budget: number) => Optimizer);

export interface MeasureOptions {
  /** number of independent run pairs R (default 1000) */
  pairs?: number;
  /** seed of the oracle randomness (default 0); the same seed reproduces every number bit for bit */
  seed?: number;
  /** accuracy target: outputs with F − F* > ε are flagged (per run for deterministic oracles, in mean for stochastic ones) */
  epsilon?: number;
  /** oracle-call counts at which to record the deviation (a trace), e.g. [0, 10, 100, 1000] */
  recordAt?: readonly number[];
  /** '95% t-interval' (default) or a percentile bootstrap */
  interval?: 't' | 'bootstrap';
  signal?: AbortSignal;
  onStep?: (t: number) => void;
}

export interface TracePoint {
  t: number;
  mean: number;
  stderr: number;
  lo: number;
  hi: number;
  max: number;
  /** mean suboptimality F(x̂_t) − F* over all runs */
  subopt: number;
}

export interface DeviationResult {
  optimizer: string;
  problem: string;
  oracle: string;
  oracleKind: Oracle['kind'];
  delta: number;
  budget: number;
  pairs: number;
  seed: number;
  /** mean of ‖x̂ − x̂′‖² over pairs */
  mean: number;
  std: number;
  stderr: number;
  ci95: [number, number];
  /** worst pair tried (the deterministic definition takes the worst case) */
  max: number;
  /** per-pair squared distances */
  deviations: Float64Array;
  suboptimality: { mean: number; max: number; perRun: Float64Array };
  epsilon: number | null;
  /** all counted outputs ε-optimal (stochastic: mean suboptimality ≤ ε) */
  epsOptimal: boolean;
  /** pairs whose two outputs are both ε-optimal (deterministic) or all pairs if the mean is ε-optimal (stochastic) */
  validPairs: number;
  /** mean deviation over the valid pairs (NaN when none) */
  meanValid: number;
  /** oracle calls per run */
  calls: number;
  seconds: number;
  trace: TracePoint[];
}

// ------------------------------------------------------------------ statistics
/** 97.5% quantile of Student's t with ν degrees of freedom (Cornish–Fisher expansion, < 1e-3 rel. for ν ≥ 3). */
export function tQuantile975(nu: number): number {
  const z = 1.959963984540054;
  if (!(nu >= 1)) return Number.NaN;
  if (nu === 1) return 12.706204736;
  if (nu === 2) return 4.302652730;
  const z3 = z ** 3, z5 = z ** 5, z7 = z ** 7;
  return z + (z3 + z) / (4 * nu) + (5 * z5 + 16 * z3 + 3 * z) / (96 * nu ** 2)
    + (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * nu ** 3);
}

export interface MeanStats { mean: number; std: number; stderr: number; lo: number; hi: number; max: number }

/** Mean, sample std, standard error and a 95% interval (t, or percentile bootstrap with a seeded Rng). */
export function meanInterval(xs: ArrayLike<number>, interval: 't' | 'bootstrap' = 't', seed = 0): MeanStats {
  const n = xs.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, stderr: Number.NaN, lo: Number.NaN, hi: Number.NaN, max: Number.NaN };
  let s = 0, mx = -Infinity;
  for (let i = 0; i < n; i++) { s += xs[i]!; if (xs[i]! > mx) mx = xs[i]!; }
  const mean = s / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (xs[i]! - mean) ** 2;
  const std = n > 1 ? Math.sqrt(v / (n - 1)) : 0;
  const stderr = std / Math.sqrt(n);
  if (interval === 'bootstrap' && n > 1) {
    const rng = new Rng(seed);
    const reps = 1000;
    const means = new Float64Array(reps);
    for (let r = 0; r < reps; r++) {
      let a = 0;
      for (let i = 0; i < n; i++) a += xs[Math.floor(rng.random() * n)]!;
      means[r] = a / n;
    }
    means.sort();
    return { mean, std, stderr, lo: means[Math.floor(0.025 * reps)]!, hi: means[Math.ceil(0.975 * reps) - 1]!, max: mx };
  }
  const q = n > 1 ? tQuantile975(n - 1) : 0;
  return { mean, std, stderr, lo: mean - q * stderr, hi: mean + q * stderr, max: mx };
}

export interface SlopeFit { slope: number; intercept: number; r2: number; slopeStderr: number; n: number }

/** Least-squares fit of log y = a + p·log x (points with x, y ≤ 0 or non-finite are dropped). */
export function fitLogLog(xs: readonly number[], ys: readonly number[]): SlopeFit {
  const X: number[] = [], Y: number[] = [];
  for (let i = 0; i < Math.min(xs.length, ys.length); i++) {
    if (xs[i]! > 0 && ys[i]! > 0 && Number.isFinite(xs[i]!) && Number.isFinite(ys[i]!)) { X.push(Math.log(xs[i]!)); Y.push(Math.log(ys[i]!)); }
  }
  const n = X.length;
  if (n < 2) return { slope: Number.NaN, intercept: Number.NaN, r2: Number.NaN, slopeStderr: Number.NaN, n };
  const mx = X.reduce((a, b) => a + b, 0) / n, my = Y.reduce((a, b) => a + b, 0) / n;
  let sxx = 0, sxy = 0, syy = 0;
  for (let i = 0; i < n; i++) { sxx += (X[i]! - mx) ** 2; sxy += (X[i]! - mx) * (Y[i]! - my); syy += (Y[i]! - my) ** 2; }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const sse = Math.max(0, syy - slope * sxy);
  const r2 = syy > 0 ? 1 - sse / syy : 1;
  const slopeStderr = n > 2 ? Math.sqrt(sse / (n - 2) / sxx) : Number.NaN;
  return { slope, intercept, r2, slopeStderr, n };
}

/** The constant C of a bound line y = C·x^p fitted to points in log space (geometric mean of y/x^p). */
export function fitConstant(xs: readonly number[], ys: readonly number[], p: number): number {
  let s = 0, n = 0;
  for (let i = 0; i < xs.length; i++) if (xs[i]! > 0 && ys[i]! > 0) { s += Math.log(ys[i]!) - p * Math.log(xs[i]!); n++; }
  return n ? Math.exp(s / n) : Number.NaN;
}

/** Pearson correlation of two equal-length samples. */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = Math.min(a.length, b.length);
  let ma = 0, mb = 0;
  for (let i = 0; i < n; i++) { ma += a[i]!; mb += b[i]!; }
  ma /= n; mb /= n;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) { const x = a[i]! - ma, y = b[i]! - mb; sab += x * y; saa += x * x; sbb += y * y; }
  return sab / Math.sqrt(saa * sbb);
}

// ------------------------------------------------------------------ the measure
/** Squared distances between the two halves of a [2R, d] batch: ‖x_i − x_{R+i}‖², i < R. */
export function pairDeviations(x: Tensor): Float64Array {
  return torch.scope(() => {
    const R = x.shape[0]! / 2;
    return x.narrow(0, 0, R).sub(x.narrow(0, R, R)).square().sum(1).toFloat64Array();
  });
}

/**
 * Measures the (ε, δ)-deviation of `optimizer` on `problem` with `oracle` at a budget of `budget`
 * oracle calls per run, over `pairs` independent run pairs (vectorized as one batch).
 */
export function measureDeviation(optimizer: OptimizerSpec, problem: Problem, oracle: Oracle, budget: number,
  o: MeasureOptions = {}): DeviationResult {
  const R = o.pairs ?? 1000;
  const seed = o.seed ?? 0;
  if (!(Number.isInteger(R) && R >= 1)) throw new Error(`measureDeviation: pairs must be an integer >= 1, got ${R}`);
  if (!(Number.isInteger(budget) && budget >= 0)) throw new Error(`measureDeviation: budget must be an integer >= 0, got ${budget}`);
  if (!(Number.isInteger(seed) && seed >= 0)) throw new Error(`measureDeviation: seed must be a non-negative integer, got ${seed}`);
  if (o.epsilon !== undefined && !(o.epsilon > 0)) throw new Error(`measureDeviation: epsilon must be > 0, got ${o.epsilon}`);
  const opt = typeof optimizer === 'function' ? optimizer(problem, budget) : optimizer;
  const interval = o.interval ?? 't';
  const t0 = performance.now();
  torch.manualSeed(seed);
  // PAPERLAB_JITTER (scripts/test-jitter.sh): the same relative jitter on every run's start, so the
  // runs of a pair that share u0 still start at one point
  const x0 = jitterInit(oracle.init(problem, 2 * R), { sameRows: true });
  let calls = 0;
  const trace: TracePoint[] = [];
  const gradFn = (x: Tensor) => {
    const g = oracle.grad(problem, x, calls);
    calls++;
    return g;
  };
  const fs = oracle.finiteSum;
  const access = fs && {
    n: fs.n, batch: fs.batch, sample: (B: number) => fs.sample(B),
    component: (x: Tensor, idx: Tensor) => { calls++; return fs.component(x, idx); },
    full: (x: Tensor) => { calls += Math.ceil(fs.n / fs.batch); return fs.full(x); },
  };
  let out: Tensor;
  try {
    out = opt.run(x0, gradFn, budget, {
      recordAt: o.recordAt, signal: o.signal, onStep: o.onStep,
      record: (t, xt) => {
        const dev = pairDeviations(xt);
        const st = meanInterval(dev, interval, seed);
        const sub = torch.scope(() => problem.value(xt).mean().item()) - problem.fStar;
        trace.push({ t, mean: st.mean, stderr: st.stderr, lo: st.lo, hi: st.hi, max: st.max, subopt: sub });
      },
    }, access);
  } finally {
    x0.dispose();
  }
  const deviations = pairDeviations(out);
  const perRun = torch.scope(() => problem.value(out).sub(problem.fStar).toFloat64Array());
  if (deviations.some((v) => !Number.isFinite(v))) {
    out.dispose();
    throw new Error(`measureDeviation: ${opt.name} diverged on ${problem.name} (non-finite output); lower the step size`);
  }
  out.dispose();
  const st = meanInterval(deviations, interval, seed);
  let subMean = 0, subMax = -Infinity;
  for (const v of perRun) { subMean += v; if (v > subMax) subMax = v; }
  subMean /= perRun.length;
  const eps = o.epsilon ?? null;
  let valid = R, meanValid = st.mean, epsOptimal = true;
  if (eps !== null) {
    if (oracle.kind === 'stochastic') {
      epsOptimal = subMean <= eps;
      valid = epsOptimal ? R : 0;
      meanValid = epsOptimal ? st.mean : Number.NaN;
    } else {
      let s = 0;
      valid = 0;
      for (let i = 0; i < R; i++) if (perRun[i]! <= eps && perRun[R + i]! <= eps) { valid++; s += deviations[i]!; }
      epsOptimal = valid === R;
      meanValid = valid ? s / valid : Number.NaN;
    }
  }
  return {
    optimizer: opt.name, problem: problem.name, oracle: oracle.name, oracleKind: oracle.kind, delta: oracle.delta,
    budget, pairs: R, seed, mean: st.mean, std: st.std, stderr: st.stderr, ci95: [st.lo, st.hi], max: st.max,
    deviations, suboptimality: { mean: subMean, max: subMax, perRun }, epsilon: eps, epsOptimal, validPairs: valid,
    meanValid, calls, seconds: (performance.now() - t0) / 1000, trace,
  };
}

/** A JSON-friendly summary (no per-pair arrays). */
export function summarizeResult(r: DeviationResult): Record<string, unknown> {
  const { deviations: _d, suboptimality, ...rest } = r;
  return { ...rest, suboptimality: { mean: suboptimality.mean, max: suboptimality.max } };
}
