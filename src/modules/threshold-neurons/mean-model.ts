// A fast exact path for the weight-tied mean model f(x) = a⁺ P(b) − a⁻ M(b), with
// P(b) = Σᵢ relu(xᵢ + b) and M(b) = Σᵢ relu(−xᵢ + b). Each row of X is sorted once with suffix
// sums, so P, M and their b-derivatives (counts of active units) cost O(log d) per example.
// Gradient and the exact 3×3 Hessian are hand-derived (relu'' = 0 almost everywhere) and tested
// against the libtorch autograd objective (model.ts) to 1e-10.
import type { SparseCodingData } from './data.ts';
import type { Reduction } from './model.ts';

export interface MeanState { ap: number; am: number; b: number }

export interface MeanEval {
  loss: number;
  grad: [number, number, number];
  /** exact Hessian (row-major 3×3) when asked */
  hess?: number[];
  accuracy: number;
}

export class FastMeanModel {
  private readonly sorted: Float64Array[] = [];
  private readonly suffix: Float64Array[] = [];
  readonly n: number;
  readonly d: number;
  readonly y: Float64Array;

  constructor(data: SparseCodingData, readonly reduction: Reduction = 'mean') {
    const X = data.X.toFloat64Array();
    this.y = data.y.toFloat64Array();
    this.n = data.X.shape[0]!;
    this.d = data.X.shape[1]!;
    for (let i = 0; i < this.n; i++) {
      const row = X.slice(i * this.d, (i + 1) * this.d).sort();
      const suf = new Float64Array(this.d + 1);
      for (let k = this.d - 1; k >= 0; k--) suf[k] = suf[k + 1]! + row[k]!;
      this.sorted.push(row);
      this.suffix.push(suf);
    }
  }

  /** first index k with row[k] > t */
  private upper(row: Float64Array, t: number): number {
    let lo = 0, hi = row.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (row[m]! > t) hi = m; else lo = m + 1; }
    return lo;
  }

  evaluate(s: MeanState, withHessian = false): MeanEval {
    const { ap, am, b } = s;
    let loss = 0, g0 = 0, g1 = 0, g2 = 0, correct = 0;
    const H = withHessian ? new Array<number>(9).fill(0) : undefined;
    for (let i = 0; i < this.n; i++) {
      const row = this.sorted[i]!, suf = this.suffix[i]!;
      // P(b): entries x > −b; M(b): entries x < b
      const kp = this.upper(row, -b);
      const cp = this.d - kp;
      const P = suf[kp]! + cp * b;
      const km = this.lowerCount(row, b);
      const M = km * b - (suf[0]! - suf[km]!);
      const f = ap * P - am * M;
      const y = this.y[i]!;
      const m = y * f;
      loss += m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m));
      if (m > 0) correct++;
      const sig = 1 / (1 + Math.exp(m)); // σ(−m)
      const l1 = -y * sig; // dℓ/df
      const df = [P, -M, ap * cp - am * km];
      g0 += l1 * df[0]!; g1 += l1 * df[1]!; g2 += l1 * df[2]!;
      if (H) {
        const l2 = sig * (1 - sig); // d²ℓ/df²
        for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) H[r * 3 + c]! += l2 * df[r]! * df[c]!;
        // f's own Hessian: ∂²f/∂a⁺∂b = c⁺, ∂²f/∂a⁻∂b = −c⁻
        H[2]! += l1 * cp; H[6]! += l1 * cp;
        H[5]! += -l1 * km; H[7]! += -l1 * km;
      }
    }
    const sc = this.reduction === 'mean' ? 1 / this.n : 1;
    return {
      loss: loss * sc, grad: [g0 * sc, g1 * sc, g2 * sc], hess: H?.map((h) => h * sc), accuracy: correct / this.n,
    };
  }

  /** number of entries x < t */
  private lowerCount(row: Float64Array, t: number): number {
    let lo = 0, hi = row.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (row[m]! < t) lo = m + 1; else hi = m; }
    return lo;
  }
}

/** Eigenvalues (descending) and unit eigenvectors of a symmetric 3×3 matrix (cyclic Jacobi). */
export function eigSym3(Hin: readonly number[]): { values: number[]; vectors: number[][] } {
  const A = [...Hin];
  const V = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = A[1]! ** 2 + A[2]! ** 2 + A[5]! ** 2;
    if (off < 1e-30 * (A[0]! ** 2 + A[4]! ** 2 + A[8]! ** 2 + 1e-300)) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]] as const) {
      const apq = A[p * 3 + q]!;
      if (apq === 0) continue;
      const theta = (A[q * 3 + q]! - A[p * 3 + p]!) / (2 * apq);
      const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
      const c = 1 / Math.sqrt(t * t + 1), s = t * c;
      for (let k = 0; k < 3; k++) { // A ← Jᵀ A J
        const akp = A[k * 3 + p]!, akq = A[k * 3 + q]!;
        A[k * 3 + p] = c * akp - s * akq; A[k * 3 + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = A[p * 3 + k]!, aqk = A[q * 3 + k]!;
        A[p * 3 + k] = c * apk - s * aqk; A[q * 3 + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = V[k * 3 + p]!, vkq = V[k * 3 + q]!;
        V[k * 3 + p] = c * vkp - s * vkq; V[k * 3 + q] = s * vkp + c * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => A[j * 4]! - A[i * 4]!);
  return { values: order.map((i) => A[i * 4]!), vectors: order.map((i) => [V[i]!, V[3 + i]!, V[6 + i]!]) };
}

export interface MeanGDRow { step: number; ap: number; am: number; b: number; loss: number; acc: number; sharpness: number }

/**
 * Full-batch GD on the mean model from `init`, recording every `every` steps (a⁺, a⁻, b, loss,
 * train accuracy, exact sharpness). Returns the final state.
 */
export function meanModelGD(
  model: FastMeanModel,
  init: MeanState,
  eta: number,
  steps: number,
  o: { every?: number; onRow?: (r: MeanGDRow) => void } = {},
): { state: MeanState; diverged: boolean; rows: MeanGDRow[] } {
  let s = { ...init };
  const rows: MeanGDRow[] = [];
  const every = o.every ?? 0;
  for (let t = 0; t <= steps; t++) {
    const rec = every > 0 && (t % every === 0 || t === steps);
    const e = model.evaluate(s, rec);
    if (!Number.isFinite(e.loss) || Math.abs(s.b) > 1e6) return { state: s, diverged: true, rows };
    if (rec) {
      const r = { step: t, ap: s.ap, am: s.am, b: s.b, loss: e.loss, acc: e.accuracy, sharpness: eigSym3(e.hess!).values[0]! };
      rows.push(r);
      o.onRow?.(r);
    }
    if (t === steps) break;
    s = { ap: s.ap - eta * e.grad[0], am: s.am - eta * e.grad[1], b: s.b - eta * e.grad[2] };
  }
  return { state: s, diverged: false, rows };
}
