// What every experiment of the sweep shares: its context (seed, scale, signal, callbacks), its
// result, and the helpers that run one logged measurement.
import type { DeviationResult, MeasureOptions } from '../harness.ts';
import type { SweepRow, SummaryRow } from '../evaluate.ts';
import type { Scale, SettingName } from '../config.ts';

export interface PlotSpec { name: string; spec: Record<string, unknown> }
export interface SettingResult { setting: SettingName; rows: SweepRow[]; summary: SummaryRow[]; plots: PlotSpec[] }

export interface SweepContext {
  /** run pairs per measurement (default: the scale's preset, config.ts) */
  pairs?: number;
  seed: number;
  scale: Scale;
  signal?: AbortSignal;
  /** called after each measurement */
  onMeasure?: (label: string) => void;
  log?: (msg: string) => void;
  /** labelled CSV for the finite-sum setting (default: the bundled digits) */
  dataFile?: string;
  /** positive class of the one-vs-rest logistic problem (default LOGISTIC.positive, config.ts) */
  positiveLabel?: number;
}

/** One measurement: checks the signal, runs it, reports it (onMeasure, a log line). */
export function measured(ctx: SweepContext, label: string, fn: () => DeviationResult): DeviationResult {
  if (ctx.signal?.aborted) throw new Error('sweep interrupted');
  const r = fn();
  ctx.onMeasure?.(label);
  ctx.log?.(`${label}: deviation ${r.mean.toExponential(3)} [${r.ci95[0].toExponential(2)}, ${r.ci95[1].toExponential(2)}], subopt ${r.suboptimality.mean.toExponential(2)} (${r.seconds.toFixed(2)} s)`);
  return r;
}

/** The harness options of a measurement: the sweep's seed and signal, and `extra`. */
export function opts(ctx: SweepContext, extra: MeasureOptions): MeasureOptions {
  return { seed: ctx.seed, signal: ctx.signal, ...extra };
}

/** n integers spaced evenly in log scale from lo to hi (duplicates dropped). */
export function logSpaced(lo: number, hi: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.round(lo * (hi / lo) ** (n > 1 ? i / (n - 1) : 0)));
  return [...new Set(out)];
}
