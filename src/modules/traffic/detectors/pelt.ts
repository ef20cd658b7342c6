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

/** PELT with exact pruning, jump 1. Returns sorted change-point indices (segment starts, excl. 0). */
export function pelt(cost: L2Cost, beta: number, minSize = defaults.pelt.minSize): number[] {
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
export function optimalK(cost: L2Cost, K: number, minSize = defaults.pelt.minSize): number[] {
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

export function penaltyFor(fm: FeatureMatrix, penScale = defaults.pelt.penScale, sigma = noiseScale(fm)): { beta: number; sigma: number } {
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

export function logspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => 10 ** (a + ((b - a) * i) / (n - 1)));
}

export interface PeltOptions extends FeatureOptions {
  penScale?: number;
  minSize?: number;
  /** known number of change-points: dynamic programming instead of the penalty */
  nBkps?: number | null;
}

/** The penalty or known count of one prediction (overrides the constructor's). */
export interface PeltPrediction { penScale?: number; nBkps?: number | null }

export interface PenaltySweepRow { penScale: number; beta: number; nChangepoints: number; changepoints: number[] }

/** PELT behind the detector interface: fit builds the features and the cost; predict searches. */
export class Pelt implements Detector {
  readonly name = 'pelt' as const;
  private state: { fm: FeatureMatrix; cost: L2Cost | null; sigma: number; T: number } | null = null;
  constructor(readonly options: PeltOptions = {}) {}

  fit(flows: FlowSeries): this {
    const fm = buildFeatures(flows, this.options);
    this.state = { fm, cost: fm.d ? new L2Cost(fm) : null, sigma: fm.d ? noiseScale(fm) : 0, T: flows.T };
    return this;
  }

  predict(o: PeltPrediction = {}): DetectResult {
    const { fm, cost, sigma, T } = fitted(this.state, 'pelt');
    if (!cost) return { detector: 'pelt', changepoints: [], scores: new Float64Array(T), info: { beta: 0, sigma: 0, features: 0 } };
    const minSize = this.options.minSize ?? defaults.pelt.minSize;
    const nBkps = 'nBkps' in o ? o.nBkps : this.options.nBkps;
    const { beta } = penaltyFor(fm, o.penScale ?? this.options.penScale ?? defaults.pelt.penScale, sigma);
    const changepoints = nBkps ? optimalK(cost, nBkps, minSize) : pelt(cost, beta, minSize);
    return { detector: 'pelt', changepoints, scores: splitScores(cost), info: { beta, sigma, features: fm.d } };
  }

  /** Number of change points for log-spaced penalty multipliers (--pen-sweep). */
  sweep(scales: number[] = logspace(...defaults.pelt.sweepLog10, defaults.pelt.sweepPoints)): PenaltySweepRow[] {
    const { fm, cost, sigma } = fitted(this.state, 'pelt');
    const { beta } = penaltyFor(fm, 1, sigma);
    const minSize = this.options.minSize ?? defaults.pelt.minSize;
    return scales.map((s) => {
      const cps = cost ? pelt(cost, beta * s, minSize) : [];
      return { penScale: s, beta: beta * s, nChangepoints: cps.length, changepoints: cps };
    });
  }
}
