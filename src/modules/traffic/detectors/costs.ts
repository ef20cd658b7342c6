// Segment costs c(a, b) over a signal x_0..x_{n−1} (rows of a T×d matrix), with ruptures' definitions
// (Truong, Oudre, Vayatis, "Selective review of offline change point detection methods", Signal
// Processing 167, 2020, §4; the library's CostL2, CostL1, CostNormal, CostRbf) [ours: the paper does
// not name its detector]. Each cost has its own minimum segment length, as in ruptures.
//   l2      Σ_{t∈[a,b)} ‖x_t − x̄‖²                         (mean shift; min size 1)
//   l1      Σ_{t∈[a,b)} ‖x_t − med‖₁, med the column medians  (robust; min size 2)
//   normal  (b−a) · log det(Σ̂ + 1e-6·I), Σ̂ the segment covariance: unbiased (ddof 1) when d > 1,
//           the biased variance (ddof 0) when d = 1, as in ruptures (min size 2)
//   rbf     Σ_t K_tt − (1/(b−a)) Σ_{s,t∈[a,b)} K_st, K_st = exp(−clip(γ‖x_s − x_t‖², 0.01, 100)) off the
//           diagonal and K_tt = 1; γ = 1/median of the pairwise squared distances when not given
//           (1 when that median is 0) — ruptures' median heuristic and clipping (min size 1)
import { COSTS, type CostName } from '../config.ts';
import { UsageError } from '../../../core/errors.ts';

/** A T×d signal, row-major (the FeatureMatrix of features.ts fits). */
export interface Signal { X: Float64Array; T: number; d: number }

export interface SegmentCost {
  readonly model: CostName;
  /** the smallest segment the cost accepts */
  readonly minSize: number;
  readonly T: number;
  /** c(a, b): the cost of the segment [a, b) */
  error(a: number, b: number): number;
}

/** A Signal from a 1-d series or from rows. */
export function toSignal(x: ArrayLike<number> | ArrayLike<number>[]): Signal {
  const rows = Array.from(x as ArrayLike<unknown>);
  if (rows.length === 0) return { X: new Float64Array(0), T: 0, d: 1 };
  if (typeof rows[0] === 'number') return { X: Float64Array.from(rows as number[]), T: rows.length, d: 1 };
  const R = rows as ArrayLike<number>[], d = R[0]!.length, X = new Float64Array(R.length * d);
  R.forEach((r, t) => { if (r.length !== d) throw new Error(`toSignal: row ${t} has ${r.length} values, expected ${d}`); for (let c = 0; c < d; c++) X[t * d + c] = r[c]!; });
  return { X, T: R.length, d };
}

function tooShort(model: string, a: number, b: number, m: number): never {
  throw new Error(`cost ${model}: segment [${a}, ${b}) has fewer than ${m} samples`);
}

/** l2 with prefix sums: Σ‖x‖² − ‖Σx‖²/(b−a), O(d) per segment. */
export class CostL2 implements SegmentCost {
  readonly model = 'l2' as const; readonly minSize = 1; readonly T: number; private readonly d: number;
  private readonly S: Float64Array; private readonly Q: Float64Array;
  constructor(s: Signal) {
    const { X, T, d } = s;
    this.T = T; this.d = d; this.S = new Float64Array((T + 1) * d); this.Q = new Float64Array(T + 1);
    for (let t = 0; t < T; t++) {
      let q = 0;
      for (let c = 0; c < d; c++) { const v = X[t * d + c]!; this.S[(t + 1) * d + c] = this.S[t * d + c]! + v; q += v * v; }
      this.Q[t + 1] = this.Q[t]! + q;
    }
  }
  error(a: number, b: number): number {
    if (b - a < this.minSize) tooShort(this.model, a, b, this.minSize);
    const d = this.d, S = this.S;
    let s2 = 0;
    for (let c = 0; c < d; c++) { const v = S[b * d + c]! - S[a * d + c]!; s2 += v * v; }
    return Math.max(0, this.Q[b]! - this.Q[a]! - s2 / (b - a));
  }
}

/** The median of v (sorted in place); the mean of the two middle values for an even count (numpy's). */
function median(v: Float64Array): number {
  v.sort();
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

export class CostL1 implements SegmentCost {
  readonly model = 'l1' as const; readonly minSize = 2; readonly T: number;
  constructor(private readonly s: Signal) { this.T = s.T; }
  error(a: number, b: number): number {
    if (b - a < this.minSize) tooShort(this.model, a, b, this.minSize);
    const { X, d } = this.s, col = new Float64Array(b - a);
    let sum = 0;
    for (let c = 0; c < d; c++) {
      for (let t = a; t < b; t++) col[t - a] = X[t * d + c]!;
      const med = median(col);
      for (let k = 0; k < col.length; k++) sum += Math.abs(col[k]! - med);
    }
    return sum;
  }
}

/** log det of a symmetric positive definite d×d matrix (Cholesky); −Infinity when it is not. */
export function logDetSpd(A: Float64Array, d: number): number {
  const L = new Float64Array(d * d);
  let ld = 0;
  for (let j = 0; j < d; j++) {
    let s = A[j * d + j]!;
    for (let k = 0; k < j; k++) s -= L[j * d + k]! ** 2;
    if (!(s > 0)) return -Infinity;
    const l = Math.sqrt(s);
    L[j * d + j] = l; ld += 2 * Math.log(l);
    for (let i = j + 1; i < d; i++) {
      let r = A[i * d + j]!;
      for (let k = 0; k < j; k++) r -= L[i * d + k]! * L[j * d + k]!;
      L[i * d + j] = r / l;
    }
  }
  return ld;
}

export class CostNormal implements SegmentCost {
  readonly model = 'normal' as const; readonly minSize = 2; readonly T: number;
  constructor(private readonly s: Signal, private readonly smallDiag = 1e-6) { this.T = s.T; }
  error(a: number, b: number): number {
    if (b - a < this.minSize) tooShort(this.model, a, b, this.minSize);
    const { X, d } = this.s, m = b - a, mean = new Float64Array(d), C = new Float64Array(d * d);
    for (let t = a; t < b; t++) for (let c = 0; c < d; c++) mean[c]! += X[t * d + c]! / m;
    for (let t = a; t < b; t++) {
      for (let i = 0; i < d; i++) {
        const u = X[t * d + i]! - mean[i]!;
        for (let j = 0; j <= i; j++) C[i * d + j]! += u * (X[t * d + j]! - mean[j]!);
      }
    }
    const den = d > 1 ? m - 1 : m; // np.cov (ddof 1) for d > 1, ndarray.var (ddof 0) for d = 1
    for (let i = 0; i < d; i++) {
      for (let j = 0; j <= i; j++) { const v = C[i * d + j]! / den + (i === j ? this.smallDiag : 0); C[i * d + j] = v; C[j * d + i] = v; }
    }
    return m * logDetSpd(C, d);
  }
}

/** The longest series the rbf cost takes (its two T×T arrays: 2 GiB at 8192). */
export const RBF_MAX_T = 8192;

/**
 * rbf: the Gram matrix once (T² doubles: for series of a few thousand slices), then 2-d prefix sums
 * so that a segment costs O(1).
 */
export class CostRbf implements SegmentCost {
  readonly model = 'rbf' as const; readonly minSize = 1; readonly T: number;
  /** the bandwidth used (given, or the median heuristic's) */
  readonly gamma: number;
  private readonly P: Float64Array;
  constructor(s: Signal, gamma?: number | null) {
    const { X, T, d } = s;
    this.T = T;
    if (T > RBF_MAX_T) throw new UsageError(`cost rbf: ${T} slices need 2·T² doubles (${((16 * T * T) / 2 ** 30).toFixed(1)} GiB); use at most ${RBF_MAX_T} (longer --slice-min, or --t0/--until)`);
    const D = new Float64Array(T * T), pairs = new Float64Array((T * (T - 1)) / 2);
    let k = 0;
    for (let i = 0; i < T; i++) {
      for (let j = i + 1; j < T; j++) {
        let q = 0;
        for (let c = 0; c < d; c++) q += (X[i * d + c]! - X[j * d + c]!) ** 2;
        D[i * T + j] = q; D[j * T + i] = q; pairs[k++] = q;
      }
    }
    let g = gamma ?? null;
    if (g === null) { const med = pairs.length ? median(pairs) : 0; g = med !== 0 ? 1 / med : 1; }
    if (!(g > 0)) throw new Error(`cost rbf: gamma must be > 0, got ${g}`);
    this.gamma = g;
    // P[(i+1)(T+1) + (j+1)] = Σ_{s≤i, t≤j} K_st
    const W = T + 1, P = new Float64Array(W * W);
    for (let i = 0; i < T; i++) {
      let row = 0;
      for (let j = 0; j < T; j++) {
        row += i === j ? 1 : Math.exp(-Math.min(100, Math.max(0.01, g * D[i * T + j]!)));
        P[(i + 1) * W + j + 1] = P[i * W + j + 1]! + row;
      }
    }
    this.P = P;
  }
  error(a: number, b: number): number {
    if (b - a < this.minSize) tooShort(this.model, a, b, this.minSize);
    const W = this.T + 1, P = this.P;
    const block = P[b * W + b]! - P[a * W + b]! - P[b * W + a]! + P[a * W + a]!;
    return (b - a) - block / (b - a);
  }
}

/** A cost by name (ruptures' cost_factory). */
export function costFactory(model: CostName, s: Signal, o: { gamma?: number | null } = {}): SegmentCost {
  switch (model) {
    case 'l2': return new CostL2(s);
    case 'l1': return new CostL1(s);
    case 'normal': return new CostNormal(s);
    case 'rbf': return new CostRbf(s, o.gamma);
    default: throw new Error(`unknown cost '${model as string}' (${COSTS.join(', ')})`);
  }
}

/** Σ c over the segments of a breakpoint list ending with T (ruptures' sum_of_costs). */
export function sumOfCosts(cost: SegmentCost, bkps: number[]): number {
  let s = 0, a = 0;
  for (const b of bkps) { s += cost.error(a, b); a = b; }
  return s;
}
