// PELT on flow vectors (Killick, Fearnhead, Eckley 2012), our default detector [recon: the paper
// does not name its algorithm]: the features of features.ts, the L2 cost of cost.ts, exact PELT
// pruning (jump 1), penalty β = penScale · σ̂² · d · ln T with σ̂ the median-MAD noise scale; with a
// known number of change points, optimal partitioning by dynamic programming instead; and a
// penalty sweep.
import type { FlowSeries } from '../types.ts';
import { defaults } from '../config.ts';
import { fitted, type Detector, type DetectResult } from './base.ts';
import { buildFeatures, noiseScale, type FeatureMatrix, type FeatureOptions } from './features.ts';
import { L2Cost } from './cost.ts';
import { costFactory, type SegmentCost } from './costs.ts';
import { searchBreakpoints } from './ruptures.ts';
import type { CostName, SearchName } from '../config.ts';

/** PELT with exact pruning, jump 1. Returns sorted change-point indices (segment starts, excl. 0). */
export function pelt(cost: SegmentCost, beta: number, minSize = defaults.pelt.minSize): number[] {
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
      const v = F[s]! + cost.error(s, t) + beta;
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
export function optimalK(cost: SegmentCost, K: number, minSize = defaults.pelt.minSize): number[] {
  const T = cost.T;
  if (K <= 0) return [];
  if ((K + 1) * minSize > T) throw new Error(`n-bkps ${K} with minSize ${minSize} does not fit in T=${T} slices`);
  // D[k][t] = best cost of [0,t) with k change-points
  const D: Float64Array[] = [], A: Int32Array[] = [];
  const c = (a: number, b: number) => cost.error(a, b);
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

/**
 * The default penalty, per cost [ours]: BIC-like, ∝ ln T. l2: β = penScale·σ̂²·d·ln T (σ̂ the median-MAD
 * noise scale); l1: penScale·σ̂·d·ln T (the cost is in units of |x|); normal: penScale·(d + d(d+1)/2)·ln T
 * (the parameters of a segment's mean and covariance: the cost is −2 log-likelihood up to a constant);
 * rbf: penScale·ln T (the cost is in units of the kernel, ≤ 1 per sample). --pen sets β directly.
 */
export function penaltyFor(fm: FeatureMatrix, penScale = defaults.pelt.penScale, sigma = noiseScale(fm), model: CostName = 'l2'): { beta: number; sigma: number } {
  const lnT = Math.log(Math.max(2, fm.T)), d = fm.d;
  const unit = model === 'l2' ? sigma * sigma * d : model === 'l1' ? sigma * d : model === 'normal' ? d + (d * (d + 1)) / 2 : 1;
  return { beta: penScale * unit * lnT, sigma };
}

/** Local split gain per slice, window h = 4: c(t-h,t+h) − c(t-h,t) − c(t,t+h) (0 where a side is below the cost's minimum). */
export function splitScores(cost: SegmentCost, h = 4): Float64Array {
  const T = cost.T, out = new Float64Array(T);
  for (let t = 1; t < T; t++) {
    const a = Math.max(0, t - h), b = Math.min(T, t + h);
    if (t - a < cost.minSize || b - t < cost.minSize) continue;
    out[t] = cost.error(a, b) - cost.error(a, t) - cost.error(t, b);
  }
  return out;
}

export function logspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => 10 ** (a + ((b - a) * i) / (n - 1)));
}

export interface PeltOptions extends FeatureOptions {
  penScale?: number;
  /** the penalty β itself (default: penaltyFor the cost, × penScale) */
  pen?: number | null;
  minSize?: number;
  /** known number of change-points: dynamic programming (or binseg/window's count rule) instead of the penalty */
  nBkps?: number | null;
  /** segment cost (costs.ts): l2 (default), l1, normal, rbf */
  cost?: CostName;
  /** search (search.ts): pelt (default), dynp (needs nBkps), binseg, window */
  search?: SearchName;
  /** candidate change points every `jump` slices (default 1) */
  jump?: number;
  /** window search: the width of the two windows together, in slices */
  width?: number;
  /** rbf bandwidth (default: the median heuristic) */
  gamma?: number | null;
}

/** The penalty or known count of one prediction (overrides the constructor's). */
export interface PeltPrediction { penScale?: number; pen?: number | null; nBkps?: number | null }

export interface PenaltySweepRow { penScale: number; beta: number; nChangepoints: number; changepoints: number[] }

/**
 * The flow-vector detector behind the detector interface: fit builds the features and the cost;
 * predict searches. Default: L2 cost and PELT (jump 1); any cost × search of ruptures otherwise.
 */
export class Pelt implements Detector {
  readonly name = 'pelt' as const;
  private state: { fm: FeatureMatrix; cost: SegmentCost | null; sigma: number; T: number } | null = null;
  constructor(readonly options: PeltOptions = {}) {}

  fit(flows: FlowSeries): this {
    const fm = buildFeatures(flows, this.options);
    const model = this.options.cost ?? defaults.pelt.cost;
    const cost = !fm.d ? null : model === 'l2' ? new L2Cost(fm) : costFactory(model, fm, { gamma: this.options.gamma });
    this.state = { fm, cost, sigma: fm.d ? noiseScale(fm) : 0, T: flows.T };
    return this;
  }

  predict(o: PeltPrediction = {}): DetectResult {
    const { fm, cost, sigma, T } = fitted(this.state, 'pelt');
    if (!cost) return { detector: 'pelt', changepoints: [], scores: new Float64Array(T), info: { beta: 0, sigma: 0, features: 0 } };
    const op = this.options, minSize = Math.max(op.minSize ?? defaults.pelt.minSize, cost.minSize), jump = op.jump ?? defaults.pelt.jump;
    const search = op.search ?? defaults.pelt.search;
    const nBkps = 'nBkps' in o ? o.nBkps : op.nBkps;
    const pen = ('pen' in o ? o.pen : op.pen) ?? penaltyFor(fm, o.penScale ?? op.penScale ?? defaults.pelt.penScale, sigma, cost.model).beta;
    let changepoints: number[];
    if (search === 'pelt' && jump === 1) changepoints = nBkps ? optimalK(cost, nBkps, minSize) : pelt(cost, pen, minSize);
    else {
      const s = search === 'pelt' && nBkps ? 'dynp' : search;
      changepoints = searchBreakpoints(cost, s, nBkps ? { nBkps } : { pen }, { minSize, jump, width: op.width ?? defaults.pelt.width }).slice(0, -1);
    }
    return { detector: 'pelt', changepoints, scores: splitScores(cost), info: { beta: pen, sigma, features: fm.d, cost: cost.model, search } };
  }

  /** Number of change points for log-spaced penalty multipliers (--pen-sweep; the PELT search). */
  sweep(scales: number[] = logspace(...defaults.pelt.sweepLog10, defaults.pelt.sweepPoints)): PenaltySweepRow[] {
    const { fm, cost, sigma } = fitted(this.state, 'pelt');
    const { beta } = penaltyFor(fm, 1, sigma, cost?.model ?? 'l2');
    const minSize = this.options.minSize ?? defaults.pelt.minSize;
    return scales.map((s) => {
      const cps = cost ? pelt(cost, beta * s, minSize) : [];
      return { penScale: s, beta: beta * s, nChangepoints: cps.length, changepoints: cps };
    });
  }
}
