// Plots as SVG and PNG from Vega-Lite specs: vega-lite compiles, vega renders headless to SVG,
// sharp rasterizes the SVG to PNG. No browser, no canvas. Pictures with many marks (hundreds of
// edges, thousands of points) can instead be written as SVG directly (a few <path>s, one per
// style, rather than one element per item) and saved with savePlotSvg / ctx.plot(name, svgText).
//
// Speed: sharp's SVG renderer (librsvg) draws an element with `opacity` < 1 through an offscreen
// layer the size of the whole picture, so a few hundred marks with `opacity` take a minute (the
// traffic flow map: 938 rules, 83 s). Use fillOpacity / strokeOpacity on mark-heavy layers.
// PAPERLAB_PLOT_TIMING=1 prints every plot's render time.
// vega, vega-lite and sharp load on the first render, not with this file: the spec builders below
// are used by modules whose commands are listed (and --help'd) without drawing anything.
import { writeFileAtomic } from './io/atomic.ts';
import type { MetricSpec } from './registry.ts';

export type VegaLiteSpec = Record<string, unknown>;

/**
 * Defaults every rendered chart gets (a spec's own `config` wins key by key): legends never cut
 * their labels or titles short ("gradient-flow pred…"), so a legend is as wide as its longest entry.
 */
export const CHART_CONFIG = { legend: { labelLimit: 0, titleLimit: 0 } } as const;

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const own = (spec.config ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const config = { ...own, legend: { ...CHART_CONFIG.legend, ...own.legend } };
  const full = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', ...spec, config };
  const [vl, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const compiled = vl.compile(full as unknown as import('vega-lite').TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/**
 * PAPERLAB_PLOT_TIMING=1 logs every plot's render time to stderr: spec → SVG, SVG → PNG, the
 * total, and the SVG's size (a debug switch for finding slow pictures).
 */
const timing = (): boolean => !!process.env.PAPERLAB_PLOT_TIMING && process.env.PAPERLAB_PLOT_TIMING !== '0';
const sec = (t0: number, t1: number) => ((t1 - t0) / 1000).toFixed(2);
function logTiming(base: string, how: string, t0: number, t1: number, t2: number, svg: string): void {
  process.stderr.write(`[plot] ${base.split(/[\\/]/).pop()}: ${how} ${sec(t0, t1)} s, png ${sec(t1, t2)} s, total ${sec(t0, t2)} s (svg ${(svg.length / 1024).toFixed(0)} KiB)\n`);
}

async function rasterize(svg: string, density: number): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp(Buffer.from(svg), { density }).png().toBuffer();
}

/** Rasterizes an SVG string to PNG bytes (scale 2 for crisp figures). */
export async function svgToPng(svg: string, density = 144): Promise<Buffer> {
  const t0 = performance.now();
  const png = await rasterize(svg, density);
  if (timing()) process.stderr.write(`[plot] svgToPng: ${sec(t0, performance.now())} s (svg ${(svg.length / 1024).toFixed(0)} KiB)\n`);
  return png;
}

/**
 * Writes <base>.svg and <base>.png atomically; returns both paths. `spec` is a Vega-Lite spec, or
 * a finished SVG document (a string starting with `<svg` or `<?xml`) that is saved as it is.
 */
export async function savePlot(base: string, spec: VegaLiteSpec | string): Promise<{ svg: string; png: string }> {
  const t0 = performance.now();
  const direct = typeof spec === 'string';
  if (direct && !/^\s*<(\?xml|svg)\b/.test(spec)) throw new Error(`${base}: a plot given as text must be an SVG document`);
  const svg = direct ? spec : await renderSvg(spec);
  const t1 = performance.now();
  const png = await rasterize(svg, 144);
  writeFileAtomic(`${base}.svg`, svg);
  writeFileAtomic(`${base}.png`, png);
  if (timing()) logTiming(base, direct ? 'svg' : 'vega', t0, t1, performance.now(), svg);
  return { svg: `${base}.svg`, png: `${base}.png` };
}

/** Writes a finished SVG document to <base>.svg and its PNG (2×) to <base>.png, atomically. */
export function savePlotSvg(base: string, svg: string): Promise<{ svg: string; png: string }> {
  return savePlot(base, svg);
}

/** Escapes text for SVG/XML content and attribute values. */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A round step (1, 2 or 5 × 10^k) that cuts `span` into about `n` parts. */
export function niceStep(span: number, n: number): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, n), p = 10 ** Math.floor(Math.log10(raw)), m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

/** What an axis title needs of a metric declaration (src/core/registry.ts MetricSpec). */
export type AxisMetric = Pick<MetricSpec, 'label'> & Partial<Pick<MetricSpec, 'unit' | 'scale'>>;

/**
 * The axis title of a declared metric, as the dashboard's panels write it (web/metrics.js): its
 * label, its unit in parentheses when it has one, and "(log scale)" on a log axis (`log` overrides
 * the declaration's scale), e.g. "time per update (ms) (log scale)".
 */
export function metricTitle(m: AxisMetric, o: { log?: boolean } = {}): string {
  const unit = m.unit ? ` (${m.unit})` : '';
  return `${m.label}${unit}${(o.log ?? m.scale === 'log') ? ' (log scale)' : ''}`;
}

/** Axis titles of the declared x columns (MetricSpec.x), as web/metrics.js writes them; another column as it is. */
const X_TITLES: Record<string, string> = {
  step: 'step', epoch: 'epoch', time: 'time t = η · step', eta: 'step size η', iteration: 'iteration', iter: 'iteration', t: 'step t',
};

/** The title of a declared x axis ('eta' → 'step size η'); `log` appends "(log scale)". */
export function xTitle(x: string, o: { log?: boolean } = {}): string {
  return `${X_TITLES[x] ?? x}${o.log ? ' (log scale)' : ''}`;
}

/** The declaration of metric `name` (in `table`, default any) among a command's metrics; throws when it has none. */
export function declaredMetric<M extends Pick<MetricSpec, 'name' | 'table'>>(metrics: readonly M[] | undefined, name: string, table?: string): M {
  const m = (metrics ?? []).find((x) => x.name === name && (table === undefined || (x.table ?? 'metrics') === table));
  if (!m) throw new Error(`no metric '${name}'${table ? ` in table '${table}'` : ''} is declared`);
  return m;
}

/** Rows a log axis can draw: `field` positive and finite (a zero would be −∞ and blank the plot). */
export function logSafe<R extends Record<string, unknown>>(rows: readonly R[], field: string): R[] {
  return rows.filter((r) => typeof r[field] === 'number' && (r[field] as number) > 0 && Number.isFinite(r[field] as number));
}

/**
 * A line chart of rows {x, y, series?}: the common case (loss curves, sweeps). Axis titles default to
 * the field names: give xTitle / yTitle (metricTitle of the declaration) for readable ones. Rows
 * that a log axis cannot draw (zero, negative, not finite) are left out rather than blanking the chart.
 */
export function lineChart(rows: Record<string, unknown>[], o: {
  x: string; y: string; color?: string; title?: string; logX?: boolean; logY?: boolean;
  xTitle?: string; yTitle?: string; colorTitle?: string;
  width?: number; height?: number; rules?: { y?: number; x?: number; label?: string; dash?: boolean }[];
}): VegaLiteSpec {
  let shown = o.logY ? logSafe(rows, o.y) : rows;
  if (o.logX) shown = logSafe(shown, o.x);
  const line = {
    mark: { type: 'line', point: shown.length < 60 },
    encoding: {
      x: { field: o.x, type: 'quantitative', title: o.xTitle ?? o.x, scale: o.logX ? { type: 'log' } : { zero: false } },
      y: { field: o.y, type: 'quantitative', title: o.yTitle ?? o.y, scale: o.logY ? { type: 'log' } : { zero: false } },
      ...(o.color ? { color: { field: o.color, type: 'nominal', title: o.colorTitle ?? o.color } } : {}),
    },
  };
  const layers: Record<string, unknown>[] = [line];
  for (const r of o.rules ?? []) {
    layers.push({
      data: { values: [r] },
      mark: { type: 'rule', strokeDash: r.dash === false ? [] : [4, 4], color: 'black' },
      encoding: r.y !== undefined ? { y: { field: 'y', type: 'quantitative', title: null } } : { x: { field: 'x', type: 'quantitative', title: null } },
    });
    if (r.label) {
      layers.push({
        data: { values: [r] },
        mark: { type: 'text', align: 'right', baseline: 'bottom', dx: -4, dy: -3, fontSize: 10 },
        encoding: r.y !== undefined ? { y: { field: 'y', type: 'quantitative' }, x: { value: o.width ?? 480 }, text: { field: 'label' } }
          : { x: { field: 'x', type: 'quantitative' }, y: { value: 0 }, text: { field: 'label' } },
      });
    }
  }
  return {
    title: o.title, width: o.width ?? 480, height: o.height ?? 280,
    data: { values: shown }, layer: layers,
  };
}

/** Options of heatmapSvg. */
export interface HeatmapSvgOptions {
  title: string;
  /** grey lines under the title (what was drawn, what was left out) */
  subtitle?: string[];
  /** the plot area in px (default 640 × 320) */
  width?: number; height?: number;
  xTitle?: string; yTitle?: string; colorTitle?: string;
  /** tick labels of a column / row index (default: the index); null hides that axis' labels */
  xLabel?: ((col: number) => string) | null; yLabel?: ((row: number) => string) | null;
  /** a continuous Vega colour scheme (default viridis) */
  scheme?: string;
  /** colour domain (default: min and max of the finite values) */
  domain?: [number, number];
  /** legend text for cells without a value (NaN, drawn white) */
  missing?: string;
}

/**
 * A heat map of `values` (rows × cols, row-major; NaN = no value, white) as a finished SVG: the
 * cells are one embedded PNG image (one pixel block per cell, nearest-neighbour), with axes, ticks
 * and a colour bar drawn as vector. Draws in a fraction of a second for any size, where a Vega
 * `rect` mark per cell takes seconds from about 10⁵ cells.
 */
export async function heatmapSvg(values: ArrayLike<number>, rows: number, cols: number, o: HeatmapSvgOptions): Promise<string> {
  const t0 = performance.now();
  const W = o.width ?? 640, H = o.height ?? 320;
  let lo = Infinity, hi = -Infinity;
  for (let i = 0; i < rows * cols; i++) { const v = values[i]!; if (Number.isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } }
  if (o.domain) [lo, hi] = o.domain;
  if (!(hi >= lo)) { lo = 0; hi = 1; }
  if (hi === lo) hi = lo + 1;
  const vega = await import('vega');
  const interp = vega.scheme(o.scheme ?? 'viridis') as unknown as (t: number) => string;
  const lut = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    const m = /(\d+)\D+(\d+)\D+(\d+)/.exec(interp(i / 255)) ?? ['', '0', '0', '0'];
    lut[3 * i] = Number(m[1]); lut[3 * i + 1] = Number(m[2]); lut[3 * i + 2] = Number(m[3]);
  }
  const hex = (t: number) => { const i = 3 * Math.round(Math.max(0, Math.min(1, t)) * 255); return `#${[lut[i]!, lut[i + 1]!, lut[i + 2]!].map((c) => c.toString(16).padStart(2, '0')).join('')}`; };
  // one pixel block per cell: upscale by whole factors towards 2× the plot area (PNG density 144)
  const fx = Math.max(1, Math.floor((2 * W) / Math.max(1, cols))), fy = Math.max(1, Math.floor((2 * H) / Math.max(1, rows)));
  const iw = Math.max(1, cols) * fx, ih = Math.max(1, rows) * fy;
  const px = Buffer.alloc(iw * ih * 3, 255);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = values[r * cols + c]!;
      if (!Number.isFinite(v)) continue;
      const li = 3 * Math.round(Math.max(0, Math.min(1, (v - lo) / (hi - lo))) * 255);
      for (let yy = r * fy; yy < (r + 1) * fy; yy++) {
        let p = (yy * iw + c * fx) * 3;
        for (let xx = 0; xx < fx; xx++, p += 3) { px[p] = lut[li]!; px[p + 1] = lut[li + 1]!; px[p + 2] = lut[li + 2]!; }
      }
    }
  }
  const { default: sharp } = await import('sharp');
  const img = await sharp(px, { raw: { width: iw, height: ih, channels: 3 } }).png().toBuffer();
  const sub = o.subtitle ?? [];
  const left = 56, top = 30 + 13 * sub.length, legendW = 120;
  const Wt = left + W + 20 + legendW, Ht = top + H + 44;
  const f1 = (v: number) => +v.toFixed(6);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${Wt}" height="${Ht}" viewBox="0 0 ${Wt} ${Ht}" font-family="sans-serif">`);
  out.push(`<rect width="${Wt}" height="${Ht}" fill="white"/>`);
  out.push(`<text class="title" x="10" y="18" font-size="13" font-weight="bold">${xmlEscape(o.title)}</text>`);
  sub.forEach((s, i) => out.push(`<text class="subtitle" x="10" y="${32 + 13 * i}" font-size="10.5" fill="#555">${xmlEscape(s)}</text>`));
  out.push(`<g transform="translate(${left},${top})">`);
  out.push(`<image class="cells" x="0" y="0" width="${W}" height="${H}" preserveAspectRatio="none" style="image-rendering:pixelated" xlink:href="data:image/png;base64,${img.toString('base64')}"/>`);
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="none" stroke="#888" stroke-width="0.5"/>`);
  const axis: string[] = [];
  if (o.xLabel !== null && cols > 0) {
    const st = Math.max(1, niceStep(cols, 8)), cw = W / cols;
    for (let c = 0; c < cols; c += st) {
      axis.push(`M${f1((c + 0.5) * cw)} ${H}v5`);
      out.push(`<text x="${f1((c + 0.5) * cw)}" y="${H + 16}" font-size="10" text-anchor="middle">${xmlEscape((o.xLabel ?? String)(c))}</text>`);
    }
  }
  if (o.yLabel !== null && rows > 0) {
    const st = Math.max(1, niceStep(rows, 6)), rh = H / rows;
    for (let r = 0; r < rows; r += st) {
      axis.push(`M0 ${f1((r + 0.5) * rh)}h-5`);
      out.push(`<text x="-8" y="${f1((r + 0.5) * rh + 3.5)}" font-size="10" text-anchor="end">${xmlEscape((o.yLabel ?? String)(r))}</text>`);
    }
  }
  if (axis.length) out.push(`<path class="ticks" d="${axis.join('')}" stroke="#888" fill="none"/>`);
  if (o.xTitle) out.push(`<text x="${W / 2}" y="${H + 34}" font-size="11" font-weight="bold" text-anchor="middle">${xmlEscape(o.xTitle)}</text>`);
  if (o.yTitle) out.push(`<text transform="translate(-40,${H / 2}) rotate(-90)" font-size="11" font-weight="bold" text-anchor="middle">${xmlEscape(o.yTitle)}</text>`);
  out.push('</g>');
  // colour bar
  const bx = left + W + 20, bh = Math.min(200, H), stops: string[] = [];
  for (let i = 0; i <= 16; i++) stops.push(`<stop offset="${f1(i / 16)}" stop-color="${hex(1 - i / 16)}"/>`);
  out.push(`<g class="legend" transform="translate(${bx},${top})">`);
  if (o.colorTitle) out.push(`<text x="0" y="-6" font-size="11" font-weight="bold">${xmlEscape(o.colorTitle)}</text>`);
  out.push(`<defs><linearGradient id="heat-bar" x1="0" y1="0" x2="0" y2="1">${stops.join('')}</linearGradient></defs>`);
  out.push(`<rect x="0" y="0" width="14" height="${bh}" fill="url(#heat-bar)"/>`);
  const ts = niceStep(hi - lo, 5), ticks: string[] = [];
  for (let v = Math.ceil(lo / ts - 1e-9) * ts; v <= hi + 1e-9 * ts; v += ts) {
    const y = f1(bh * (1 - (v - lo) / (hi - lo)));
    ticks.push(`M14 ${y}h4`); out.push(`<text x="21" y="${f1(y + 3.5)}" font-size="10">${+v.toPrecision(6)}</text>`);
  }
  out.push(`<path d="${ticks.join('')}" stroke="#333" fill="none"/>`);
  if (o.missing) out.push(`<rect x="0" y="${bh + 12}" width="14" height="10" fill="white" stroke="#888" stroke-width="0.5"/><text x="21" y="${bh + 21}" font-size="10">${xmlEscape(o.missing)}</text>`);
  out.push('</g></svg>');
  if (timing()) process.stderr.write(`[plot] heatmapSvg: ${rows}×${cols} cells built in ${sec(t0, performance.now())} s\n`);
  return out.join('\n');
}
