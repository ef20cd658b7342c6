// Metrics of the paper's figures (error on test points, on all seen points, on one tracked
// point, memory), the plot specs (mean ± std bands over runs) and each command's set of figures.
import * as torch from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import type { StreamLearner } from './learners/index.ts';
import { metricTitle, xTitle, declaredMetric } from '../../core/plots.ts';
import { synthetic } from './commands.ts';

type Tensor = torch.Tensor;

/** √mean((f(X) − Y)²) of a learner on a batch. */
export function rmse(l: StreamLearner, X: Tensor, Y: Tensor): number {
  if (X.shape[0] === 0) return NaN;
  return torch.scope(() => l.predictBatch(X).sub(Y).square().mean().sqrt().item());
}

/** Max |f(x_k) − y_k| and RMSE over the first k stream points. */
export function seenErrors(l: StreamLearner, X: Tensor, Y: Tensor, k: number): { max: number; rmse: number } {
  if (k === 0) return { max: 0, rmse: 0 };
  return torch.scope(() => {
    const r = l.predictBatch(X.narrow(0, 0, k)).sub(Y.narrow(0, 0, k));
    return { max: r.abs().max().item(), rmse: r.square().mean().sqrt().item() };
  });
}

export interface Band { [k: string]: number | string; mean: number; std: number; lo: number; hi: number; n: number }

/** Mean and (population) std of `value` grouped by the given keys. */
export function aggregate(rows: Record<string, unknown>[], keys: string[], value: string): Band[] {
  const groups = new Map<string, { key: Record<string, number | string>; vals: number[] }>();
  for (const r of rows) {
    const v = Number(r[value]);
    if (!Number.isFinite(v)) continue;
    const key = Object.fromEntries(keys.map((k) => [k, r[k] as number | string]));
    const id = JSON.stringify(key);
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { key, vals: [] }));
    g.vals.push(v);
  }
  return [...groups.values()].map(({ key, vals }) => {
    const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
    const std = Math.sqrt(vals.reduce((a, b) => a + (b - mean) ** 2, 0) / vals.length);
    return { ...key, mean, std, lo: mean - std, hi: mean + std, n: vals.length } as Band;
  });
}

/** Line per series with a shaded ±std band; optional horizontal reference rules. */
export function bandChart(rows: Band[], o: {
  x: string; series: string; title: string; yTitle: string; xTitle?: string; logX?: boolean; logY?: boolean;
  rules?: { y: number; label: string }[]; xRules?: { x: number; label: string }[]; width?: number; height?: number;
}): Record<string, unknown> {
  const clampPos = (v: number) => (o.logY ? Math.max(v, 1e-17) : v);
  const values = rows.map((r) => ({ ...r, mean: clampPos(r.mean), lo: clampPos(r.lo), hi: clampPos(r.hi) }));
  const xEnc = { field: o.x, type: 'quantitative', title: o.xTitle ?? o.x, scale: o.logX ? { type: 'log' } : { zero: false } };
  const yScale = o.logY ? { type: 'log' } : { zero: false };
  // the legend shows the lines' colours as solid strokes, not the faint bands
  const color = { field: o.series, type: 'nominal', title: o.series, legend: { symbolType: 'stroke', symbolOpacity: 1, symbolStrokeWidth: 2.5 } };
  const layers: Record<string, unknown>[] = [
    { mark: { type: 'area', opacity: 0.18 }, encoding: { x: xEnc, y: { field: 'lo', type: 'quantitative', scale: yScale, title: o.yTitle }, y2: { field: 'hi' }, color } },
    { mark: { type: 'line' }, encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', scale: yScale, title: o.yTitle }, color } },
  ];
  for (const r of o.rules ?? []) {
    layers.push({ data: { values: [r] }, mark: { type: 'rule', strokeDash: [4, 4], color: 'gray' }, encoding: { y: { field: 'y', type: 'quantitative' } } });
    layers.push({ data: { values: [r] }, mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: 'gray' }, encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } } });
  }
  for (const r of o.xRules ?? []) {
    layers.push({ data: { values: [r] }, mark: { type: 'rule', strokeDash: [2, 3], color: 'black' }, encoding: { x: { field: 'x', type: 'quantitative' } } });
    layers.push({ data: { values: [r] }, mark: { type: 'text', align: 'left', dx: 4, baseline: 'top', color: 'black' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { value: 2 }, text: { field: 'label' } } });
  }
  return { title: o.title, width: o.width ?? 520, height: o.height ?? 300, data: { values }, layer: layers };
}

/** RMSE of a constant prediction c against angles uniform on [0°, 180°): √((c − 90)² + 180²/12). */
export function constantPredictionRmse(c: number): number {
  return Math.sqrt((c - 90) ** 2 + (180 * 180) / 12);
}

/** A band of one value per row (no spread): for single-run curves. */
function single(
  rows: Record<string,
    unknown>[],
  x: string,
  series: string,
  field: string,
  seriesOf: (r: Record<string, unknown>) => string = (r) => r[series] as string,
): Band[] {
  return rows.map((r) => ({
    [x]: r[x] as number,
    [series]: seriesOf(r),
    mean: r[field] as number,
    std: 0,
    lo: r[field] as number,
    hi: r[field] as number,
    n: 1,
  }));
}

/** synthetic: SGD's distance to the ORFit solution (when it ran), residuals on seen points, test RMSE, memory, time. */
export async function syntheticFigures(ctx: RunContext, o: { p: number; K: number; sgd: boolean }): Promise<void> {
  if (o.sgd) {
    const sgd = ctx.metrics.rows('sgd').map((r) => ({ epoch: r.epoch as number, series: 'cyclic SGD from 0', mean: Math.max(r.relDistToOrfit as number, 1e-17), std: 0, lo: r.relDistToOrfit as number, hi: r.relDistToOrfit as number, n: 1 }));
    const d = declaredMetric(synthetic.metrics, 'relDistToOrfit', 'sgd');
    await ctx.plot('sgd-distance', bandChart(sgd, {
      x: 'epoch', series: 'series', title: 'Multi-pass SGD → the one-pass ORFit solution: ‖w_SGD − w_ORFit‖ / ‖w_ORFit‖', xTitle: xTitle(d.x), yTitle: metricTitle(d), logY: true,
    }));
  }
  const all = ctx.metrics.rows();
  const band = (field: string) => single(all, 'step', 'method', field);
  // axis titles from the command's metric declarations (commands.ts)
  const decl = (name: string) => declaredMetric(synthetic.metrics, name);
  const xt = xTitle('step');
  await ctx.plot('residual-seen', bandChart(band('maxResidualSeen'), {
    x: 'step', series: 'method', title: `Max |f(x_k) − y_k| over the seen points k ≤ step (p=${o.p}, K=${o.K})`, xTitle: xt, yTitle: metricTitle(decl('maxResidualSeen')), logY: true,
  }));
  await ctx.plot('test-rmse', bandChart(band('testRmse'), { x: 'step', series: 'method', title: 'Test RMSE', xTitle: xt, yTitle: metricTitle(decl('testRmse')) }));
  await ctx.plot('memory', bandChart(band('memoryFloats'), { x: 'step', series: 'method', title: 'Memory held besides w', xTitle: xt, yTitle: 'floats held besides w' }));
  await ctx.plot('time', bandChart(band('msPerStep'), { x: 'step', series: 'method', title: 'Time per update', xTitle: xt, yTitle: 'time per update (ms) (log scale)', logY: true }));
}

/** Memory-limited methods (the paper's memory-limited figure); the others go to the unlimited one. */
const isLimited = (m: string) => !m.includes('unlimited') && m !== 'vanilla-sgd' && m !== 'ew-rls' && m !== 'kalman';

/**
 * rotated-digits: the paper's two figure sets (memory-limited: test RMSE, error on seen points,
 * tracked sample; unlimited vs multi-pass SGD, log step axis) plus memory use, as mean ± std over
 * runs. Returns the aggregated bands of test, seen and tracked errors.
 */
export async function rotatedDigitsFigures(
  ctx: RunContext,
  rows: Record<string,
    unknown>[],
  o: { memory: number; runs: number; pDim: number; source: string; trackMemoryLimited: number; trackUnlimited: number },
): Promise<{ test: Band[]; seen: Band[]; tracked: Band[] }> {
  const test = aggregate(rows, ['method', 'step'], 'testRmse');
  const seen = aggregate(rows, ['method', 'step'], 'seenRmse');
  const tracked = aggregate(rows, ['method', 'step'], 'trackedError');
  const mem = aggregate(rows, ['method', 'step'], 'memoryFloats');
  const ref = [{ y: constantPredictionRmse(90), label: 'constant 90°' }, { y: constantPredictionRmse(0), label: 'constant 0°' }];
  const lim = (r: Band) => isLimited(String(r.method));
  await ctx.plot('memory-limited-test-rmse', bandChart(test.filter(lim), { x: 'step', series: 'method', title: `Test RMSE, memory m=${o.memory} (${o.source}, ${o.runs} runs, mean ± std)`, yTitle: 'test RMSE (degrees)', rules: ref }));
  await ctx.plot('memory-limited-seen-rmse', bandChart(seen.filter(lim), { x: 'step', series: 'method', title: `Error on all past stream points, memory m=${o.memory}`, yTitle: 'RMSE on seen points (degrees)' }));
  await ctx.plot('memory-limited-tracked', bandChart(tracked.filter(lim), { x: 'step', series: 'method', title: `Error on stream sample ${o.trackMemoryLimited} (learned at step ${o.trackMemoryLimited})`, yTitle: '|error| (degrees)', xRules: [{ x: o.trackMemoryLimited, label: 'learned' }] }));
  const unl = (r: Band) => (!lim(r) || r.method === 'one-step-sgd') && Number(r.step) > 0;
  await ctx.plot('unlimited-test-rmse', bandChart(test.filter(unl), { x: 'step', series: 'method', title: 'Test RMSE, unlimited memory vs multi-pass SGD', yTitle: 'test RMSE (degrees)', logX: true }));
  await ctx.plot('unlimited-train-rmse', bandChart(seen.filter(unl), { x: 'step', series: 'method', title: 'RMSE on all seen stream points', yTitle: 'RMSE (degrees)', logX: true }));
  await ctx.plot('unlimited-tracked', bandChart(tracked.filter(unl), { x: 'step', series: 'method', title: `Error on stream sample ${o.trackUnlimited}`, yTitle: '|error| (degrees)', logX: true, xRules: [{ x: o.trackUnlimited, label: 'learned' }] }));
  await ctx.plot('memory-use', bandChart(mem.filter((r) => r.method !== 'vanilla-sgd'), { x: 'step', series: 'method', title: `Memory held besides w (p = ${o.pDim})`, yTitle: 'floats' }));
  return { test, seen, tracked };
}

/** Per method, the band at its last step (mean and std over runs). */
export function finalOf(bands: Band[]): Record<string, { step: number; mean: number; std: number }> {
  return Object.fromEntries([...new Set(bands.map((b) => String(b.method)))].map((m) => {
    const last = bands.filter((b) => b.method === m).sort((a, b) => Number(b.step) - Number(a.step))[0]!;
    return [m, { step: Number(last.step), mean: last.mean, std: last.std }];
  }));
}

/** nonlinear: true RMSE on the seen points per hidden width. */
export async function nonlinearFigures(ctx: RunContext, angleScale: number): Promise<void> {
  const rows = single(ctx.metrics.rows(), 'step', 'width', 'trueRmseSeen', (r) => `H=${r.H}`);
  await ctx.plot('true-residual', bandChart(rows, { x: 'step', series: 'width', title: `Nonlinear ORFit: true RMSE on seen points (labels = angle/${angleScale})`, yTitle: 'RMSE', logY: true }));
}

/** stream-csv: RMSE on all past rows. */
export async function streamCsvFigures(ctx: RunContext, name: string, file: string): Promise<void> {
  const rows = single(ctx.metrics.rows(), 'step', 'series', 'rmseSeen', () => name);
  await ctx.plot('error-on-past', bandChart(rows, { x: 'step', series: 'series', title: `${name}: RMSE on all past rows of ${file}`, yTitle: 'RMSE on seen rows' }));
}
