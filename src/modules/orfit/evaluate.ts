// Metrics of the paper's figures (error on test points, on all seen points, on one tracked
// point, memory) and the plot specs (mean ± std bands over runs).
import * as torch from '../../core/torch/index.ts';
import type { StreamLearner } from './learners/index.ts';

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
  const layers: Record<string, unknown>[] = [
    { mark: { type: 'area', opacity: 0.18 }, encoding: { x: xEnc, y: { field: 'lo', type: 'quantitative', scale: yScale, title: o.yTitle }, y2: { field: 'hi' }, color: { field: o.series, type: 'nominal' } } },
    { mark: { type: 'line' }, encoding: { x: xEnc, y: { field: 'mean', type: 'quantitative', scale: yScale, title: o.yTitle }, color: { field: o.series, type: 'nominal', title: o.series } } },
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
