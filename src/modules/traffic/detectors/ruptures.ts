// One detector interface over any cost × search, with ruptures' conventions [ours] (Truong, Oudre,
// Vayatis, Signal Processing 167, 2020): build with the cost model and the search's parameters,
// `fit` a signal (a 1-d series, rows, or a T×d matrix), `predict` with a penalty, a count or a budget;
// the result is the breakpoint list ending with T.
//   new ChangePoints({ cost: 'rbf', search: 'binseg', minSize: 2, jump: 1 }).fit(x).predict({ nBkps: 2 })  // e.g. [40, 70, 100]
// Defaults are ruptures' (minSize 2, jump 5, width 100, gamma by the median heuristic).
import type { CostName, SearchName } from '../config.ts';
import { costFactory, toSignal, type SegmentCost, type Signal } from './costs.ts';
import { binsegSearch, dynpSearch, peltSearch, windowSearch, type StopRule } from './search.ts';

export interface ChangePointOptions {
  cost?: CostName;
  search?: SearchName;
  /** minimum segment length (raised to the cost's own minimum, except for window, as in ruptures) */
  minSize?: number;
  /** candidate breakpoints are multiples of jump */
  jump?: number;
  /** window: the width of the two adjacent windows together */
  width?: number;
  /** rbf: the kernel bandwidth γ (default: 1/median of the pairwise squared distances) */
  gamma?: number | null;
}

/** Breakpoints (ending with T) of one search over a fitted cost. */
export function searchBreakpoints(cost: SegmentCost, search: SearchName, stop: StopRule, o: ChangePointOptions = {}): number[] {
  const minSize = o.minSize ?? 2, jump = o.jump ?? 5;
  switch (search) {
    case 'pelt':
      if (stop.pen == null) throw new Error('search pelt needs a penalty (pen)');
      return peltSearch(cost, stop.pen, minSize, jump);
    case 'dynp':
      if (stop.nBkps == null) throw new Error('search dynp needs the number of change points (nBkps)');
      return dynpSearch(cost, stop.nBkps, minSize, jump);
    case 'binseg': return binsegSearch(cost, stop, minSize, jump);
    case 'window': return windowSearch(cost, stop, o.width ?? 100, minSize, jump);
    default: throw new Error(`unknown search '${search as string}' (pelt, dynp, binseg, window)`);
  }
}

/** The ruptures-style detector on a plain signal. */
export class ChangePoints {
  private cost: SegmentCost | null = null;
  constructor(readonly options: ChangePointOptions = {}) {}
  fit(signal: Signal | ArrayLike<number> | ArrayLike<number>[]): this {
    const s = 'X' in (signal as object) ? (signal as Signal) : toSignal(signal as ArrayLike<number>);
    this.cost = costFactory(this.options.cost ?? 'l2', s, { gamma: this.options.gamma });
    return this;
  }
  /** the fitted cost (e.g. the rbf's gamma) */
  get fitted(): SegmentCost {
    if (!this.cost) throw new Error('call fit(signal) before predict()');
    return this.cost;
  }
  predict(stop: StopRule): number[] {
    return searchBreakpoints(this.fitted, this.options.search ?? 'pelt', stop, this.options);
  }
}
