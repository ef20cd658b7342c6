// The cost of the default PELT search: L2 mean shift with prefix sums (costs.ts' CostL2, ruptures'
// CostL2): c(a,b) = Σ_{t∈[a,b)} ‖x_t − mean‖² = Σ‖x_t‖² − ‖Σx_t‖²/(b−a), O(d) per segment.
// `cost(a, b)` is the name the first version used; `error(a, b)` is ruptures'.
import { CostL2, type Signal } from './costs.ts';

export class L2Cost extends CostL2 {
  constructor(fm: Signal & { keys?: number[] }) { super(fm); }
  cost(a: number, b: number): number { return this.error(a, b); }
}
