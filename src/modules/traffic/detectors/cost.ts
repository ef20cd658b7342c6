// The cost function of PELT and of the known-count search: L2 mean shift, with prefix sums so that
// one segment costs O(d): c(a,b) = Σ_{t∈[a,b)} ‖x_t − mean‖² = Σ‖x_t‖² − ‖Σx_t‖²/(b−a).
import type { FeatureMatrix } from './features.ts';

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
