// Vega-Lite specs for the training-dynamics plots: curves per series with dotted threshold lines
// (2/η per η), vertical markers (η*, first crossing of 2/η), log axes where useful.
export type Row = Record<string, number | string | null>;

export interface CurveOptions {
  x: string;
  y: string;
  color?: string;
  title?: string;
  logX?: boolean;
  logY?: boolean;
  /** axis and legend titles with units (default: the field names) */
  xTitle?: string;
  yTitle?: string;
  colorTitle?: string;
  /** horizontal dotted lines: {y, series?} (series colours the line like the curve) */
  hlines?: { y: number; series?: string; label?: string }[];
  /** vertical dashed lines */
  vlines?: { x: number; label?: string }[];
  width?: number;
  height?: number;
}

/** Rows a log axis can show: a positive, finite value in `field` (zeros would blank the whole plot). */
const positive = (rows: readonly Row[], field: string) => rows.filter((r) => typeof r[field] === 'number' && (r[field] as number) > 0 && Number.isFinite(r[field] as number));

export function curvesSpec(rows: readonly Row[], o: CurveOptions): Record<string, unknown> {
  // a log x axis spans the data, not the enclosing decades (η from 0.05 to 0.35 on 0.01…1 leaves most of the plot empty)
  const scale = (log?: boolean, axis: 'x' | 'y' = 'y') => (log ? { type: 'log', ...(axis === 'x' ? { nice: false } : {}) } : { zero: false });
  const colorEnc = o.color ? { color: { field: o.color, type: 'nominal', title: o.colorTitle ?? o.color } } : {};
  let shown = o.logY ? positive(rows, o.y) : rows;
  if (o.logX) shown = positive(shown, o.x);
  const layers: Record<string, unknown>[] = [{
    data: { values: shown },
    mark: { type: 'line', point: shown.length <= 40, clip: true },
    encoding: {
      x: { field: o.x, type: 'quantitative', title: o.xTitle ?? o.x, scale: scale(o.logX, 'x') },
      y: { field: o.y, type: 'quantitative', title: o.yTitle ?? o.y, scale: scale(o.logY) },
      ...colorEnc,
    },
  }];
  if (o.hlines?.length) {
    layers.push({
      data: { values: o.hlines.map((h) => ({ y: h.y, [o.color ?? 'series']: h.series ?? h.label ?? '' })) },
      mark: { type: 'rule', strokeDash: [2, 3], clip: true },
      encoding: { y: { field: 'y', type: 'quantitative' }, ...(o.color ? { color: { field: o.color, type: 'nominal' } } : {}) },
    });
  }
  if (o.vlines?.length) {
    layers.push({
      data: { values: o.vlines.map((v) => ({ x: v.x, label: v.label ?? '' })) },
      mark: { type: 'rule', strokeDash: [6, 4], color: 'black' },
      encoding: { x: { field: 'x', type: 'quantitative' } },
    });
    o.vlines.forEach((v, i) => layers.push({
      data: { values: [{ x: v.x, label: v.label ?? '' }] },
      mark: { type: 'text', align: i % 2 ? 'right' : 'left', dx: i % 2 ? -3 : 3, baseline: 'top', y: 2 + 12 * Math.floor(i / 2), fontSize: 10 },
      encoding: { x: { field: 'x', type: 'quantitative' }, text: { field: 'label' } },
    }));
  }
  return { title: o.title, width: o.width ?? 520, height: o.height ?? 300, layer: layers };
}

export interface PanelOptions {
  /** axis titles with units by field name (default: the field name) */
  titles?: Record<string, string>;
  /** horizontal dotted reference lines by field name (e.g. 2/η on a sharpness panel), coloured like their series */
  hlines?: Record<string, { y: number; series?: string }[]>;
  /** fields drawn on a log axis (their non-positive values left out) */
  log?: readonly string[];
}

/** Several panels stacked vertically (e.g. S·η/2, RP, DS·η/2, A1, cos over steps). */
export function panelsSpec(rows: readonly Row[], x: string, ys: readonly string[], title?: string, o: PanelOptions = {}): Record<string, unknown> {
  const colored = rows.some((r) => 'series' in r);
  const color = colored ? { color: { field: 'series', type: 'nominal', title: o.titles?.series ?? 'run' } } : {};
  return {
    title,
    vconcat: ys.map((y) => {
      const log = o.log?.includes(y) ?? false;
      const curve = {
        data: { values: log ? positive(rows, y) : rows.filter((r) => typeof r[y] === 'number' && Number.isFinite(r[y] as number)) },
        mark: { type: 'line', clip: true },
        encoding: {
          x: { field: x, type: 'quantitative', title: o.titles?.[x] ?? x },
          y: { field: y, type: 'quantitative', title: o.titles?.[y] ?? y, scale: log ? { type: 'log', nice: false } : { zero: false } },
          ...color,
        },
      };
      const lines = o.hlines?.[y];
      if (!lines?.length) return { width: 520, height: 120, ...curve };
      // a line per series is coloured like its curve; a line for every series is black
      const perSeries = colored && lines.every((h) => h.series !== undefined);
      const rule = {
        data: { values: lines.map((h) => ({ y: h.y, series: h.series ?? '' })) },
        mark: { type: 'rule', strokeDash: [2, 3], clip: true, ...(perSeries ? {} : { color: 'black' }) },
        encoding: { y: { field: 'y', type: 'quantitative' }, ...(perSeries ? { color: { field: 'series', type: 'nominal' } } : {}) },
      };
      return { width: 520, height: 120, layer: [curve, rule] };
    }),
  };
}
