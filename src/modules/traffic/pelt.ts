// PELT on flow vectors, the default detector (§6.2): features x_t = log(1 + w_t) over the ordered
// cell pairs seen in ≥ minSlicesSeen slices, L2 mean-shift cost, exact PELT pruning (Killick et
// al. 2012), penalty β = penScale · σ̂² · d · ln T with σ̂ = median over columns of
// MAD(first differences)/(0.6745·√2). Also: a known-count search (--n-bkps, dynamic programming)
// and a penalty sweep.
import type { FlowSeries } from './types.ts';

export interface FeatureOptions {
  /** edge weight (default moves) */
  weight?: 'moves' | 'objects';
  /**
   * 'none': log(1+w); 'shares': structure only — the spec's w/Σw, [deviation] rescaled to the mean
   * slice volume and log1p'd, log(1 + w·W̄/Σw), so that the noise is as homoscedastic as in 'none'
   * (raw shares are dominated by the few large edges and the median-MAD penalty over-segments)
   */
  normalize?: 'none' | 'shares';
  /** 'edges' (default) or 'scalar' = [total weight, #edges] baseline */
  features?: 'edges' | 'scalar';
  /** keep pairs seen in at least this many slices (default 2) */
  minSlicesSeen?: number;
}

export interface FeatureMatrix { X: Float64Array; T: number; d: number; /** pair keys src*N+dst per column (edges mode) */ keys: number[] }

/** The T×d feature matrix of §6.2 (row-major). Zero-variance columns are dropped. */
export function buildFeatures(f: FlowSeries, o: FeatureOptions = {}): FeatureMatrix {
  const weight = o.weight ?? 'moves', norm = o.normalize ?? 'none', mode = o.features ?? 'edges';
  const minSeen = o.minSlicesSeen ?? 2;
  const T = f.T, N = f.N, w = weight === 'moves' ? f.moves : f.objects;
  const rows = f.slice.length;
  const total = new Float64Array(T), nEdges = new Float64Array(T);
  for (let r = 0; r < rows; r++) { const s = f.slice[r]!; if (s < 0 || s >= T) continue; if (w[r]! > 0) { total[s] += w[r]!; nEdges[s]!++; } }
  let X: Float64Array, d: number, keys: number[];
  if (mode === 'scalar') {
    d = 2; keys = [-1, -2]; X = new Float64Array(T * 2);
    for (let t = 0; t < T; t++) { X[2 * t] = total[t]!; X[2 * t + 1] = nEdges[t]!; }
  } else {
    const seen = new Map<number, number>();
    for (let r = 0; r < rows; r++) if (w[r]! > 0) { const k = f.src[r]! * N + f.dst[r]!; seen.set(k, (seen.get(k) ?? 0) + 1); }
    keys = [...seen.entries()].filter(([, c]) => c >= minSeen).map(([k]) => k).sort((a, b) => a - b);
    const col = new Map<number, number>(keys.map((k, i) => [k, i]));
    let meanTotal = 0; for (let t = 0; t < T; t++) meanTotal += total[t]! / T;
    d = keys.length; X = new Float64Array(T * d);
    for (let r = 0; r < rows; r++) {
      const s = f.slice[r]!; if (s < 0 || s >= T) continue;
      const c = col.get(f.src[r]! * N + f.dst[r]!); if (c === undefined) continue;
      X[s * d + c] = norm === 'shares' ? (total[s]! > 0 ? Math.log1p((w[r]! * meanTotal) / total[s]!) : 0) : Math.log1p(w[r]!);
    }
  }
  // drop zero-variance columns
  const keep: number[] = [];
  for (let c = 0; c < d; c++) { let same = true; for (let t = 1; t < T && same; t++) same = X[t * d + c] === X[c]; if (!same) keep.push(c); }
  if (keep.length !== d) {
    const Y = new Float64Array(T * keep.length);
    for (let t = 0; t < T; t++) for (let i = 0; i < keep.length; i++) Y[t * keep.length + i] = X[t * d + keep[i]!]!;
    return { X: Y, T, d: keep.length, keys: keep.map((c) => keys[c]!) };
  }
  return { X, T, d, keys };
}

function median(a: number[]): number {
  if (a.length === 0) return 0;
  const s = [...a].sort((x, y) => x - y), m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Noise scale σ̂ = median over columns of MAD(first differences)/(0.6745·√2).
 * [guard, not in the spec] a column whose MAD is 0 (sparse counts: most differences are 0) uses
 * the standard deviation of its differences / √2 instead, so σ̂ never collapses to 0 on sparse data.
 */
export function noiseScale(fm: FeatureMatrix): number {
  const { X, T, d } = fm;
  if (T < 3 || d === 0) return 0;
  const per: number[] = [];
  const diff = new Array<number>(T - 1);
  for (let c = 0; c < d; c++) {
    for (let t = 1; t < T; t++) diff[t - 1] = X[t * d + c]! - X[(t - 1) * d + c]!;
    const med = median(diff);
    const mad = median(diff.map((v) => Math.abs(v - med)));
    let s = mad / (0.6745 * Math.SQRT2);
    if (!(s > 0)) {
      let m = 0, q = 0; for (const v of diff) m += v; m /= diff.length;
      for (const v of diff) q += (v - m) ** 2;
      s = Math.sqrt(q / Math.max(1, diff.length - 1)) / Math.SQRT2;
    }
    per.push(s);
  }
  return median(per);
}

/** L2 segment cost with prefix sums: c(a,b) = Σ‖x_t‖² − ‖Σx_t‖²/(b−a), O(d) per call. */
export class L2Cost {
  readonly T: number; readonly d: number;
  private S: Float64Array; private Q: Float64Array;
  constructor(fm: FeatureMatrix) {
    const { X, T, d } = fm;
    this.T = T; this.d = d;
    this.S = new Float64Array((T + 1) * d); this.Q = new Float64Array(T + 1);
    for (let t = 0; t < T; t++) {
      let q = 0;
      for (let c = 0; c < d; c++) { const v = X[t * d + c]!; this.S[(t + 1) * d + c] = this.S[t * d + c]! + v; q += v * v; }
      this.Q[t + 1] = this.Q[t]! + q;
    }
  }
  cost(a: number, b: number): number {
    const d = this.d, S = this.S;
    let s2 = 0;
    for (let c = 0; c < d; c++) { const v = S[b * d + c]! - S[a * d + c]!; s2 += v * v; }
    return Math.max(0, this.Q[b]! - this.Q[a]! - s2 / (b - a));
  }
}

/** PELT with exact pruning, jump 1. Returns sorted change-point indices (segment starts, excl. 0). */
export function pelt(cost: L2Cost, beta: number, minSize = 2): number[] {
  const T = cost.T;
  if (T < 2 * minSize) return [];
  const F = new Float64Array(T + 1).fill(Infinity);
  const last = new Int32Array(T + 1).fill(-1);
  F[0] = -beta;
  let R: number[] = [0];
  for (let t = minSize; t <= T; t++) {
    const add = t - minSize;
    if (add >= minSize && Number.isFinite(F[add]!)) R.push(add);
    let best = Infinity, arg = -1;
    const vals = new Float64Array(R.length);
    for (let i = 0; i < R.length; i++) {
      const s = R[i]!;
      const v = F[s]! + cost.cost(s, t) + beta;
      vals[i] = v;
      if (v < best) { best = v; arg = s; }
    }
    F[t] = best; last[t] = arg;
    // prune: s can never be optimal again if F[s] + c(s,t) > F[t]
    const keep: number[] = [];
    for (let i = 0; i < R.length; i++) if (vals[i]! - beta <= best) keep.push(R[i]!);
    R = keep;
  }
  const cps: number[] = [];
  for (let t = T; t > 0; t = last[t]!) { if (last[t]! > 0) cps.push(last[t]!); if (last[t]! <= 0) break; }
  return cps.sort((a, b) => a - b);
}

/** Optimal segmentation with exactly K change-points (dynamic programming, O(K T²)). */
export function optimalK(cost: L2Cost, K: number, minSize = 2): number[] {
  const T = cost.T;
  if (K <= 0) return [];
  if ((K + 1) * minSize > T) throw new Error(`n-bkps ${K} with minSize ${minSize} does not fit in T=${T} slices`);
  // D[k][t] = best cost of [0,t) with k change-points
  const D: Float64Array[] = [], A: Int32Array[] = [];
  const c = (a: number, b: number) => cost.cost(a, b);
  D.push(new Float64Array(T + 1).fill(Infinity)); A.push(new Int32Array(T + 1));
  for (let t = minSize; t <= T; t++) D[0]![t] = c(0, t);
  for (let k = 1; k <= K; k++) {
    const Dk = new Float64Array(T + 1).fill(Infinity), Ak = new Int32Array(T + 1);
    for (let t = (k + 1) * minSize; t <= T; t++) {
      for (let s = k * minSize; s <= t - minSize; s++) {
        const v = D[k - 1]![s]! + c(s, t);
        if (v < Dk[t]!) { Dk[t] = v; Ak[t] = s; }
      }
    }
    D.push(Dk); A.push(Ak);
  }
  const cps: number[] = [];
  let t = T;
  for (let k = K; k >= 1; k--) { t = A[k]![t]!; cps.push(t); }
  return cps.sort((a, b) => a - b);
}

export interface PeltOptions extends FeatureOptions {
  penScale?: number;
  minSize?: number;
  /** known number of change-points: dynamic programming instead of the penalty */
  nBkps?: number | null;
}

export interface PeltResult {
  changepoints: number[];
  beta: number; sigma: number; d: number;
  /** per-slice score: gain in cost of splitting a window [t-h, t+h) at t (for plots) */
  scores: Float64Array;
}

export function penaltyFor(fm: FeatureMatrix, penScale = 1): { beta: number; sigma: number } {
  const sigma = noiseScale(fm);
  return { beta: penScale * sigma * sigma * fm.d * Math.log(Math.max(2, fm.T)), sigma };
}

/** Local split gain per slice, window h = 4: c(t-h,t+h) − c(t-h,t) − c(t,t+h). */
export function splitScores(cost: L2Cost, h = 4): Float64Array {
  const T = cost.T, out = new Float64Array(T);
  for (let t = 1; t < T; t++) {
    const a = Math.max(0, t - h), b = Math.min(T, t + h);
    out[t] = cost.cost(a, b) - cost.cost(a, t) - cost.cost(t, b);
  }
  return out;
}

export function detectPelt(f: FlowSeries, o: PeltOptions = {}): PeltResult {
  const fm = buildFeatures(f, o);
  const minSize = o.minSize ?? 2;
  if (fm.d === 0) return { changepoints: [], beta: 0, sigma: 0, d: 0, scores: new Float64Array(f.T) };
  const cost = new L2Cost(fm);
  const { beta, sigma } = penaltyFor(fm, o.penScale ?? 1);
  const changepoints = o.nBkps ? optimalK(cost, o.nBkps, minSize) : pelt(cost, beta, minSize);
  return { changepoints, beta, sigma, d: fm.d, scores: splitScores(cost) };
}

/** Number of change-points for log-spaced penalty multipliers (--pen-sweep). */
export function penaltySweep(f: FlowSeries, o: PeltOptions = {}, scales: number[] = logspace(-2, 2, 17)): { penScale: number; beta: number; nChangepoints: number; changepoints: number[] }[] {
  const fm = buildFeatures(f, o);
  const cost = new L2Cost(fm);
  const { beta } = penaltyFor(fm, 1);
  return scales.map((s) => { const cps = fm.d ? pelt(cost, beta * s, o.minSize ?? 2) : []; return { penScale: s, beta: beta * s, nChangepoints: cps.length, changepoints: cps }; });
}

export function logspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => 10 ** (a + ((b - a) * i) / (n - 1)));
}
