// Windowed statistics of an edge-of-stability run, for tests that assert the phenomenon (sharpness
// at ≈ 2/η, non-monotone loss that still goes down over long windows) and not one trajectory's digits:
// GD at the edge of stability is chaotic, so a 1e-12 change of θ₀ (or another BLAS, or another thread
// count) changes every sample after a few hundred steps, while these statistics stay put.
import { median, type GDRow } from '../../../src/core/dynamics/index.ts';
import { eosWindow } from '../../../src/modules/unstable-convergence/index.ts';

export function quantile(xs: readonly number[], z: number): number {
  const v = [...xs].sort((a, b) => a - b);
  return v[Math.floor(z * (v.length - 1))]!;
}

export interface EosStats {
  /** first sharpness sample ≥ 2/η (null: never) */
  crossStep: number | null;
  /** last step of the run */
  lastStep: number;
  /** S/(2/η) at every sharpness sample of the EoS window (crossing → end of run) */
  ratios: number[];
  median: number;
  /** the second half of the window (after the overshoot that follows the crossing) */
  halfMedian: number;
  halfMin: number;
  halfMax: number;
  p10: number;
  p90: number;
  peak: number;
  /** share of the window's steps whose loss is above the previous step's */
  upFrac: number;
  /** share of the window's steps with cos(g_{t−1}, g_t) < 0 (period-2 oscillation) */
  negCosFrac: number;
  /** median loss over the first and the last quarter of the window's steps */
  lossFirstQuarter: number;
  lossLastQuarter: number;
  /** loss at step 0 and the median loss over the last tenth of the run */
  loss0: number;
  lossLastTenth: number;
}

export function eosStats(trace: readonly GDRow[], mss: number): EosStats {
  const w = eosWindow(trace, mss);
  const rows = w.rows;
  const lw = rows.map((r) => r.loss);
  const q = Math.max(1, Math.floor(lw.length / 4));
  const half = w.ratios.slice(Math.floor(w.ratios.length / 2));
  const tenth = Math.max(1, Math.floor(trace.length / 10));
  return {
    crossStep: w.crossStep,
    lastStep: trace.at(-1)!.step,
    ratios: w.ratios,
    median: w.medianRatio,
    halfMedian: median(half),
    halfMin: half.length ? Math.min(...half) : NaN,
    halfMax: half.length ? Math.max(...half) : NaN,
    p10: w.ratios.length ? quantile(w.ratios, 0.1) : NaN,
    p90: w.ratios.length ? quantile(w.ratios, 0.9) : NaN,
    peak: w.peakRatio,
    upFrac: lw.length > 1 ? lw.filter((l, i) => i > 0 && l > lw[i - 1]!).length / (lw.length - 1) : NaN,
    negCosFrac: rows.length ? rows.filter((r) => (r.gradCos ?? 1) < 0).length / rows.length : NaN,
    lossFirstQuarter: median(lw.slice(0, q)),
    lossLastQuarter: median(lw.slice(-q)),
    loss0: trace[0]!.loss,
    lossLastTenth: median(trace.slice(-tenth).map((r) => r.loss)),
  };
}

/** One line per run for the assertion messages and the test log. */
export function describeEos(s: EosStats): string {
  const f = (x: number) => x.toFixed(3);
  return `cross ${s.crossStep}/${s.lastStep}, S/(2/η) median ${f(s.median)} (2nd half ${f(s.halfMedian)}, ${f(s.halfMin)}–${f(s.halfMax)}), p10–p90 ${f(s.p10)}–${f(s.p90)}, peak ${f(s.peak)}; `
    + `loss up on ${(100 * s.upFrac).toFixed(1)}% of steps, cos<0 on ${(100 * s.negCosFrac).toFixed(1)}%; loss ${s.loss0.toExponential(2)} → window quarters ${s.lossFirstQuarter.toExponential(2)} → ${s.lossLastQuarter.toExponential(2)} (×${f(s.lossLastQuarter / s.lossFirstQuarter)}), last tenth ${s.lossLastTenth.toExponential(2)}`;
}
