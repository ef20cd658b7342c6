// The module's tables and plots: one row per measured point (SweepRow), one summary row per
// (setting, oracle, method) with the measured exponent next to the bound's (SummaryRow), the
// markdown table, and the vega-lite specs (log–log plots with the bound lines and fitted slopes).
import { fitLogLog, type DeviationResult } from './harness.ts';
import { SLOPE_TOLERANCE } from './config.ts';

/** One measured point of a sweep (also the metrics rows and the plot data). */
export interface SweepRow {
  [k: string]: number | string | boolean | null;
  setting: string;
  experiment: string;
  method: string;
  oracle: string;
  /** the swept variable's name ('T', 'delta2', 'epsilon', 't') and value */
  xName: string;
  x: number;
  mean: number;
  lo: number;
  hi: number;
  max: number;
  /** the bound with its constant at this point (NaN where none) */
  bound: number;
  /** the exact expected value where a closed form exists (NaN otherwise) */
  closedForm: number;
  stderr: number;
  subopt: number;
  epsilon: number | null;
  epsOptimal: boolean;
  pairs: number;
}

/** One line of the summary table. */
export interface SummaryRow {
  [k: string]: number | string | boolean | null;
  setting: string;
  oracle: string;
  method: string;
  versus: string;
  bound: string;
  boundExponent: number;
  measuredExponent: number;
  slopeStderr: number;
  tolerance: number;
  exponentOk: boolean;
  /** max over points of measured / bound (≤ 1 means below the bound everywhere) */
  maxRatioToBound: number;
  belowBound: boolean;
  allEpsOptimal: boolean;
  note: string;
}

/** The row of one measurement at x (the swept variable), with the bound at that point. */
export function row(setting: string, experiment: string, xName: string, x: number, r: DeviationResult, bound: number,
  closedForm = Number.NaN): SweepRow {
  return {
    setting, experiment, method: r.optimizer, oracle: r.oracle, xName, x, mean: r.mean, lo: r.ci95[0], hi: r.ci95[1],
    max: r.max, bound, closedForm, stderr: r.stderr, subopt: r.suboptimality.mean, epsilon: r.epsilon,
    epsOptimal: r.epsOptimal, pairs: r.pairs,
  };
}

/** The summary row of a series: the fitted log–log exponent against the bound's, and the worst ratio to the bound. */
export function summarize(setting: string, rows: SweepRow[], o: { bound: string; exponent: number; versus: string; note?: string;
  useMax?: boolean; tolerance?: number }): SummaryRow {
  const xs = rows.map((r) => r.x), ys = rows.map((r) => (o.useMax ? r.max : r.mean));
  const fit = fitLogLog(xs, ys);
  let ratio = 0;
  for (const r of rows) if (Number.isFinite(r.bound) && r.bound > 0) ratio = Math.max(ratio, (o.useMax ? r.max : r.mean) / r.bound);
  const tol = o.tolerance ?? SLOPE_TOLERANCE;
  return {
    setting, oracle: rows[0]?.oracle ?? '', method: rows[0]?.method ?? '', versus: o.versus, bound: o.bound,
    boundExponent: o.exponent, measuredExponent: fit.slope, slopeStderr: fit.slopeStderr, tolerance: tol,
    exponentOk: Math.abs(fit.slope - o.exponent) <= tol, maxRatioToBound: ratio, belowBound: ratio <= 1 + 1e-9,
    allEpsOptimal: rows.every((r) => r.epsOptimal), note: o.note ?? '',
  };
}

/** Least-squares slope of y on x (the log-linear rate of E4). */
export function linearFit(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n, my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) { sxx += (xs[i]! - mx) ** 2; sxy += (xs[i]! - mx) * (ys[i]! - my); }
  return sxy / sxx;
}

/** A log–log plot: measured means with 95% bars, bound lines dashed, closed forms dotted. */
export function logLogPlot(title: string, rows: SweepRow[], xTitle: string): Record<string, unknown> {
  const pts: Record<string, unknown>[] = [];
  // fitted log–log slope of each measured series, shown in its legend label
  const groups = new Map<string, SweepRow[]>();
  for (const r of rows) { const k = `${r.method} · ${r.oracle}`; groups.set(k, [...(groups.get(k) ?? []), r]); }
  const label = new Map<string, string>();
  for (const [k, g] of groups) {
    const f = fitLogLog(g.map((q) => q.x), g.map((q) => q.mean));
    label.set(k, Number.isFinite(f.slope) ? `${k} (slope ${f.slope.toFixed(2)})` : k);
  }
  for (const r of rows) {
    pts.push({ x: r.x, y: r.mean, lo: Math.max(r.lo, r.mean * 1e-3), hi: r.hi, series: label.get(`${r.method} · ${r.oracle}`), kind: 'measured' });
    if (Number.isFinite(r.bound) && r.bound > 0) pts.push({ x: r.x, y: r.bound, series: `bound · ${r.method}`, kind: 'bound' });
    if (Number.isFinite(r.closedForm) && r.closedForm > 0) pts.push({ x: r.x, y: r.closedForm, series: `closed form · ${r.method}`, kind: 'closed form' });
  }
  const x = { field: 'x', type: 'quantitative', title: xTitle, scale: { type: 'log' } };
  const y = { field: 'y', type: 'quantitative', title: 'E‖x̂ − x̂′‖²', scale: { type: 'log' } };
  return {
    title, width: 460, height: 300, data: { values: pts },
    layer: [
      { mark: { type: 'line', point: true }, encoding: { x, y, color: { field: 'series', type: 'nominal', legend: { labelLimit: 420 } }, strokeDash: { field: 'kind', type: 'nominal', scale: { domain: ['measured', 'bound', 'closed form'], range: [[1, 0], [6, 4], [2, 2]] } } } },
      { transform: [{ filter: "datum.kind === 'measured'" }], mark: { type: 'rule' }, encoding: { x, y: { field: 'lo', type: 'quantitative', scale: { type: 'log' } }, y2: { field: 'hi' }, color: { field: 'series', type: 'nominal' } } },
    ],
  };
}

/** Markdown table of summary rows. */
export function summaryMarkdown(rows: SummaryRow[]): string {
  const f = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1e3 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(2) : v.toFixed(3)) : '—');
  const head = '| setting | oracle | method | vs | bound | bound exp. | measured exp. | tol. | exp. ok | max meas./bound | ε-optimal | note |\n|---|---|---|---|---|---|---|---|---|---|---|---|';
  const lines = rows.map((r) => `| ${r.setting} | ${r.oracle} | ${r.method} | ${r.versus} | ${r.bound} | ${f(r.boundExponent)} | ${f(r.measuredExponent)} | ${f(r.tolerance)} | ${r.exponentOk ? 'yes' : 'NO'} | ${f(r.maxRatioToBound)} | ${r.allEpsOptimal ? 'yes' : 'NO'} | ${r.note} |`);
  return `${head}\n${lines.join('\n')}\n`;
}


/** The plot of `measure`: the measured deviation along the run and the bound at the same budgets, log–log. */
export function deviationPlot(title: string, rows: { t: number; value: number; series: string }[], yTitle = 'E‖x̂ − x̂′‖² (log scale)'): Record<string, unknown> {
  const x = { field: 't', type: 'quantitative', scale: { type: 'log' }, title: 'oracle calls t (log scale)' };
  const y = { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: yTitle };
  const color = { field: 'series', type: 'nominal', title: null, legend: { symbolType: 'stroke', symbolStrokeWidth: 2.5 } };
  // the bound dashed under the measured points (they coincide where the bound is exact)
  const bound = rows.filter((r) => r.series !== 'measured deviation');
  return {
    title, width: 460, height: 340, data: { values: rows.filter((r) => r.value > 0 && r.t > 0) },
    layer: [
      { transform: [{ filter: "datum.series !== 'measured deviation'" }], mark: { type: 'line', strokeDash: [6, 4], strokeWidth: 2.5 }, encoding: { x, y, color } },
      { transform: [{ filter: "datum.series === 'measured deviation'" }], mark: { type: 'line', point: { filled: true, size: 40 } }, encoding: { x, y, color } },
    ].filter((_, i) => i === 1 || bound.length > 0),
  };
}
