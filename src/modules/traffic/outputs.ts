// The outputs of analyze: GeoJSON of cells and flows, flow table CSV, change-points JSON, per-slice scores CSV,
// Vega-Lite plot specs (time series with change-points, heat map, score curves) and the flow map
// as a direct SVG (flowMapSvg).
import fs from 'node:fs';
import path from 'node:path';
import type { FlowSeries } from './types.ts';
import type { Partition } from './partition.ts';
import { unproject } from './clean.ts';
import { localProjection } from './crs.ts';
import type { SliceStats } from './distances.ts';
import { heatmapSvg, niceStep, xmlEscape } from '../../core/plots.ts';

type Geo = { lon0: number; lat0: number } | null;
const coord = (geo: Geo, x: number, y: number): [number, number] => (geo ? unproject(geo, x, y) : [x, y]);

/**
 * What the metres of a cells/flows file are: geographic input — `local_metres`, the equirectangular
 * projection (metres east/north of lon0, lat0) of the *_m properties; projected input — a note that
 * coordinates and *_m properties are the input's own x/y.
 */
function metresNote(geo: Geo): Record<string, unknown> {
  return geo
    ? { local_metres: { projection: 'aeqd', proj: localProjection(geo), lon0: geo.lon0, lat0: geo.lat0 } }
    : { crs_note: "local metres (the input was projected): coordinates are the input's x/y" };
}

/**
 * Voronoi cells as a GeoJSON FeatureCollection. Geographic input: lon/lat geometry (RFC 7946),
 * properties seed_lon/seed_lat and the projected seed_x_m/seed_y_m (the seeds of flows.sql).
 * Projected input: geometry in the input's metres and only seed_x_m/seed_y_m (no lon/lat names).
 */
export function cellsGeoJson(part: Pick<Partition, 'polygons' | 'sx' | 'sy' | 'count' | 'boundary'>, geo: Geo): Record<string, unknown> {
  return {
    type: 'FeatureCollection',
    ...metresNote(geo),
    features: part.polygons.map((ring, i) => {
      const lonLat = geo ? unproject(geo, part.sx[i]!, part.sy[i]!) : null;
      return {
        type: 'Feature',
        properties: {
          cell_id: i, ...(lonLat ? { seed_lon: lonLat[0], seed_lat: lonLat[1] } : {}), seed_x_m: part.sx[i], seed_y_m: part.sy[i],
          characteristic_points: part.count[i], boundary_seed: part.boundary[i] === 1,
        },
        geometry: { type: 'Polygon', coordinates: [ring.map(([x, y]) => coord(geo, x, y))] },
      };
    }),
  };
}

/** Flows of a slice range aggregated into LineStrings between seeds (mean per slice). */
export function flowsGeoJson(f: FlowSeries, part: Partition, geo: Geo, segments: { start: number; end: number }[]): Record<string, unknown> {
  const features: unknown[] = [];
  segments.forEach((seg, si) => {
    const agg = new Map<number, number>();
    for (let r = 0; r < f.slice.length; r++) if (f.slice[r]! >= seg.start && f.slice[r]! < seg.end) {
      const k = f.src[r]! * f.N + f.dst[r]!;
      agg.set(k, (agg.get(k) ?? 0) + f.moves[r]!);
    }
    for (const [k, v] of agg) {
      const a = Math.floor(k / f.N), b = k % f.N;
      features.push({ type: 'Feature', properties: { segment: si, start_slice: seg.start, end_slice: seg.end, src: a, dst: b, mean_moves: v / (seg.end - seg.start) },
        geometry: { type: 'LineString', coordinates: [coord(geo, part.sx[a]!, part.sy[a]!), coord(geo, part.sx[b]!, part.sy[b]!)] } });
    }
  });
  return { type: 'FeatureCollection', ...metresNote(geo), features };
}

export function flowsCsv(f: FlowSeries): string {
  const lines = ['slice,slice_start,src,dst,moves,objects'];
  for (let r = 0; r < f.slice.length; r++) lines.push(`${f.slice[r]},${f.t0 + f.slice[r]! * f.sliceS},${f.src[r]},${f.dst[r]},${f.moves[r]},${f.objects[r]}`);
  return lines.join('\n') + '\n';
}

/**
 * flows.parquet: slice INTEGER, slice_start DOUBLE (s), src INTEGER, dst INTEGER,
 * moves BIGINT, objects BIGINT, sorted by (slice, src, dst). Written by DuckDB's Parquet writer
 * (snappy, readable by hyparquet and every Parquet reader) into a temp file beside the target, fsynced, then renamed (atomic like core/io/atomic.ts).
 */
export async function writeFlowsParquet(file: string, f: FlowSeries): Promise<void> {
  const duck = await import('@duckdb/node-api');
  const { DuckDBInstance, DuckDBDataChunk, INTEGER, DOUBLE, BIGINT } = duck;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}.parquet`;
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  try {
    await con.run('SET threads TO 1');
    await con.run('CREATE TABLE flows (slice INTEGER, slice_start DOUBLE, src INTEGER, dst INTEGER, moves BIGINT, objects BIGINT)');
    const app = await con.createAppender('flows');
    const R = f.slice.length, CH = 2048;
    for (let s = 0; s < R; s += CH) {
      const e = Math.min(R, s + CH), n = e - s;
      const c = DuckDBDataChunk.create([INTEGER, DOUBLE, INTEGER, INTEGER, BIGINT, BIGINT], n);
      const sl = Array.from(f.slice.subarray(s, e));
      c.setColumnValues(0, sl); c.setColumnValues(1, sl.map((k) => f.t0 + k * f.sliceS));
      c.setColumnValues(2, Array.from(f.src.subarray(s, e))); c.setColumnValues(3, Array.from(f.dst.subarray(s, e)));
      c.setColumnValues(4, Array.from(f.moves.subarray(s, e), (v) => BigInt(v))); c.setColumnValues(5, Array.from(f.objects.subarray(s, e), (v) => BigInt(v)));
      app.appendDataChunk(c);
    }
    app.closeSync();
    await con.run(`COPY (SELECT * FROM flows ORDER BY slice, src, dst) TO '${tmp.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION snappy)`);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw new Error(`${path.basename(file)}: writing Parquet failed: ${(e as Error).message}`);
  } finally {
    con.closeSync(); inst.closeSync();
  }
  const fd = fs.openSync(tmp, 'r+');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
  try { fs.renameSync(tmp, file); } catch (e) { fs.rmSync(tmp, { force: true }); throw e; }
}

export function timeOfDay(t: number): string {
  const s = ((Math.round(t) % 86400) + 86400) % 86400;
  const hh = String(Math.floor(s / 3600)).padStart(2, '0'), mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  return `${hh}:${mm}`;
}

/** Segments with totals and top edges (changepoints.json). */
export function segmentSummaries(f: FlowSeries, cps: number[], topK = 10) {
  const bounds = [0, ...cps, f.T];
  return bounds.slice(0, -1).map((start, i) => {
    const end = bounds[i + 1]!;
    const agg = new Map<number, number>(); let total = 0;
    for (let r = 0; r < f.slice.length; r++) if (f.slice[r]! >= start && f.slice[r]! < end) {
      const k = f.src[r]! * f.N + f.dst[r]!;
      agg.set(k, (agg.get(k) ?? 0) + f.moves[r]!);
      total += f.moves[r]!;
    }
    const top = [...agg.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, topK).map(([k, v]) => ({
      src: Math.floor(k / f.N), dst: k % f.N, moves: v,
    }));
    return { start_slice: start, end_slice: end, n_slices: end - start, start_time: timeOfDay(f.t0 + start * f.sliceS), total_moves: total, top_edges: top };
  });
}

/** Time series of total moves and #edges with change-points as vertical rules, segments shaded. */
export function timeSeriesPlot(stats: SliceStats, f: FlowSeries, cps: number[], title: string, truth: number[] = []): Record<string, unknown> {
  const rows: Record<string, unknown>[] = [];
  for (let t = 0; t < f.T; t++) {
    const h = (f.t0 + t * f.sliceS) / 3600;
    rows.push({ hour: h, value: stats.total[t], series: 'total moves' }, { hour: h, value: stats.edges[t], series: '#edges' });
  }
  const bounds = [0, ...cps, f.T];
  const shades = bounds.slice(0, -1).map((s, i) => ({ a: (f.t0 + s * f.sliceS) / 3600, b: (f.t0 + bounds[i + 1]! * f.sliceS) / 3600, seg: i % 2 }));
  return {
    title, width: 640, height: 300,
    layer: [
      { data: { values: shades }, mark: { type: 'rect', fillOpacity: 0.12 }, encoding: { x: { field: 'a', type: 'quantitative' }, x2: { field: 'b' }, color: { field: 'seg', type: 'nominal', legend: null, scale: { range: ['#888', '#fff'] } } } },
      {
        data: { values: rows }, mark: { type: 'line' },
        encoding: {
          x: { field: 'hour', type: 'quantitative', title: f.t0 < 86400 ? 'time of day (h)' : 'time (h)' },
          y: { field: 'value', type: 'quantitative', title: `count per ${+(f.sliceS / 60).toFixed(2)}-min slice` },
          strokeDash: { field: 'series', type: 'nominal', title: null, legend: { symbolStrokeWidth: 2 } },
        },
      },
      { data: { values: cps.map((c) => ({ h: (f.t0 + c * f.sliceS) / 3600 })) }, mark: { type: 'rule', color: 'red', strokeWidth: 2 }, encoding: { x: { field: 'h', type: 'quantitative' } } },
      ...(truth.length ? [{ data: { values: truth.map((c) => ({ h: (f.t0 + c * f.sliceS) / 3600 })) }, mark: { type: 'rule', color: 'black', strokeDash: [4, 4] }, encoding: { x: { field: 'h', type: 'quantitative' } } }] : []),
    ],
  };
}

/** Detector score curves, one line per detector, with the primary change-points. */
export function scoresPlot(f: FlowSeries, scores: Record<string, Float64Array>, cps: number[]): Record<string, unknown> {
  const rows: Record<string, unknown>[] = [];
  for (const [name, s] of Object.entries(scores)) {
    let m = 0; for (const v of s) m = Math.max(m, Math.abs(v));
    for (let t = 0; t < f.T; t++) rows.push({ hour: (f.t0 + t * f.sliceS) / 3600, score: m ? s[t]! / m : 0, detector: name });
  }
  return {
    title: 'detector scores (each scaled to max |score| = 1)', width: 640, height: 260,
    layer: [
      { data: { values: rows }, mark: 'line', encoding: { x: { field: 'hour', type: 'quantitative' }, y: { field: 'score', type: 'quantitative' }, color: { field: 'detector', type: 'nominal' } } },
      { data: { values: cps.map((c) => ({ h: (f.t0 + c * f.sliceS) / 3600 })) }, mark: { type: 'rule', color: 'red' }, encoding: { x: { field: 'h', type: 'quantitative' } } },
    ],
  };
}

/**
 * Heat map slices × top-K edges (by total moves) of log(1 + moves), as a finished SVG: the cells
 * are one embedded image (core heatmapSvg), not one mark per (slice, edge), so a week of slices
 * draws as fast as a day.
 */
export function heatmapPlot(f: FlowSeries, topK = 200): Promise<string> {
  const tot = new Map<number, number>();
  for (let r = 0; r < f.slice.length; r++) { const k = f.src[r]! * f.N + f.dst[r]!; tot.set(k, (tot.get(k) ?? 0) + f.moves[r]!); }
  const top = [...tot.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, topK);
  const rank = new Map(top.map(([k], i) => [k, i]));
  const K = top.length, values = new Float64Array(K * f.T).fill(NaN);
  for (let r = 0; r < f.slice.length; r++) {
    const i = rank.get(f.src[r]! * f.N + f.dst[r]!);
    if (i !== undefined && f.moves[r]! > 0) values[i * f.T + f.slice[r]!] = Math.log1p(f.moves[r]!);
  }
  return heatmapSvg(values, K, f.T, {
    title: `slices × top-${K} edges, log(1 + moves)`,
    subtitle: [`${K === tot.size ? `all ${K}` : `${K} of ${tot.size}`} directed edges with flow, ranked by total moves (rank 0 at the top); ${f.T} slices of ${f.sliceS / 60} min`],
    xTitle: 'slice', yTitle: 'edge rank', colorTitle: 'log(1 + moves)', missing: 'no moves',
  });
}

/** Options of flowMapSvg. */
export interface FlowMapOptions {
  /** panels drawn (the first segments); default 8 */
  maxPanels?: number;
  /** strongest edges drawn per panel; default 400 */
  topEdges?: number;
  /** drawing area of one panel in px (square); default 260 */
  panel?: number;
}

// light → dark, OrRd-like; a bin's colour and width both grow with its flow
const FLOW_COLOURS = ['#fdd49e', '#fdbb84', '#fc8d59', '#ef6548', '#d7301f', '#b30000', '#7f0000'];

/**
 * Per-segment flow maps as a finished SVG document: cell seeds (filled; boundary seeds hollow)
 * and the strongest edges of each segment, width and colour by the segment's mean moves per
 * slice in a few shared bins. Each bin is one <path> per panel (not one element per edge), so the
 * picture draws in well under a second whatever the number of edges; i→j is offset to the right
 * of its direction so that j→i stays visible. Local metres, north up, equal aspect, scale bar.
 */
// eslint-disable-next-line max-lines-per-function -- one drawing read top to bottom (edges, bins, frame, layout, panels, legend), kept whole
export function flowMapSvg(f: FlowSeries, part: Partition, segments: { start: number; end: number }[], o: FlowMapOptions = {}): string {
  const maxPanels = o.maxPanels ?? 8, topK = o.topEdges ?? 400, P = o.panel ?? 260;
  const N = part.sx.length;
  const shown = segments.slice(0, maxPanels);
  // mean moves per slice per directed edge, per shown segment: one pass over the flow table
  const aggs = shown.map(() => new Map<number, number>());
  for (let r = 0; r < f.slice.length; r++) {
    const t = f.slice[r]!;
    for (let si = 0; si < shown.length; si++) {
      const seg = shown[si]!;
      if (t >= seg.start && t < seg.end) { const k = f.src[r]! * f.N + f.dst[r]!; aggs[si]!.set(k, (aggs[si]!.get(k) ?? 0) + f.moves[r]!); break; }
    }
  }
  let dropped = 0, wmax = 0;
  const panels = aggs.map((agg, si) => {
    const len = Math.max(1, shown[si]!.end - shown[si]!.start);
    const all = [...agg.entries()].map(([k, v]) => ({ a: Math.floor(k / f.N), b: k % f.N, w: v / len })).filter((e) => e.w > 0);
    all.sort((p, q) => q.w - p.w || p.a - q.a || p.b - q.b);
    dropped += Math.max(0, all.length - topK);
    const edges = all.slice(0, topK);
    if (edges.length) wmax = Math.max(wmax, edges[0]!.w);
    return { edges, total: all.length };
  });
  // shared bins of width 'step' over [0, wmax]
  const step = niceStep(wmax, 6), nb = Math.max(1, Math.ceil(wmax / step - 1e-9));
  const binOf = (w: number) => Math.min(nb - 1, Math.floor(w / step));
  const colour = (b: number) => FLOW_COLOURS[nb === 1 ? 4 : Math.round(1 + (5 * b) / (nb - 1))]!;
  const width = (b: number) => 0.5 + (5.5 * (b + 1)) / nb;
  // one map frame for all panels: seed extent, equal aspect, north up
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < N; i++) {
    x0 = Math.min(x0, part.sx[i]!);
    x1 = Math.max(x1, part.sx[i]!);
    y0 = Math.min(y0, part.sy[i]!);
    y1 = Math.max(y1, part.sy[i]!);
  }
  if (!(x1 >= x0)) { x0 = y0 = 0; x1 = y1 = 1; }
  const span = Math.max(x1 - x0, y1 - y0, 1), pad = 10, k = (P - 2 * pad) / span;
  const ox = pad + (P - 2 * pad - (x1 - x0) * k) / 2, oy = pad + (P - 2 * pad - (y1 - y0) * k) / 2;
  const X = (x: number) => (ox + (x - x0) * k).toFixed(1), Y = (y: number) => (P - oy - (y - y0) * k).toFixed(1);
  // layout
  const cols = Math.max(1, Math.min(4, panels.length)), rows = Math.max(1, Math.ceil(panels.length / cols));
  const gap = 16, headH = 18, top = 52, left = 10, legendW = 170;
  const W = left + cols * P + (cols - 1) * gap + 24 + legendW, H = top + rows * (P + headH) + (rows - 1) * gap + 12;
  const notes = [`mean moves per slice on each directed edge (i→j drawn right of its direction); ${N} cells, local metres, north up`];
  if (dropped) notes.push(`strongest ${topK} edges per segment drawn (${dropped} weaker edges left out)`);
  if (segments.length > shown.length) notes.push(`first ${shown.length} of ${segments.length} segments shown`);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text class="title" x="${left}" y="18" font-size="14" font-weight="bold">mean flow per slice, by segment</text>`);
  notes.forEach((n, i) => out.push(`<text class="subtitle" x="${left}" y="${34 + i * 13}" font-size="10.5" fill="#555">${xmlEscape(n)}</text>`));
  // seeds: one path for interior seeds (filled), one for boundary seeds (hollow)
  const circles = (boundary: boolean, r: number) => {
    const d: string[] = [];
    for (let i = 0; i < N; i++) if ((part.boundary[i] === 1) === boundary) d.push(`M${X(part.sx[i]!)} ${Y(part.sy[i]!)}m-${r} 0a${r} ${r} 0 1 0 ${2 * r} 0a${r} ${r} 0 1 0 -${2 * r} 0`);
    return d.join('');
  };
  const seedsIn = circles(false, 1.8), seedsOut = circles(true, 1.8);
  panels.forEach((p, si) => {
    const seg = shown[si]!, c = si % cols, r = Math.floor(si / cols);
    const px = left + c * (P + gap), py = top + r * (P + headH + gap);
    const label = `segment ${si}: slices ${seg.start}–${seg.end - 1} (${timeOfDay(f.t0 + seg.start * f.sliceS)}–${timeOfDay(f.t0 + seg.end * f.sliceS)})`;
    out.push(`<g class="panel" data-segment="${si}" transform="translate(${px},${py})">`);
    out.push(`<text x="${P / 2}" y="12" font-size="11" font-weight="bold" text-anchor="middle">${xmlEscape(label)}</text>`);
    out.push(`<g transform="translate(0,${headH})">`);
    out.push(`<rect x="0.5" y="0.5" width="${P - 1}" height="${P - 1}" fill="none" stroke="#ddd"/>`);
    const byBin: string[][] = Array.from({ length: nb }, () => []);
    for (const e of p.edges) {
      const dx = part.sx[e.b]! - part.sx[e.a]!, dy = part.sy[e.b]! - part.sy[e.a]!, L = Math.hypot(dx, dy) || 1, off = 0.04 * L;
      const ux = (dy / L) * off, uy = -(dx / L) * off;
      byBin[binOf(e.w)]!.push(`M${X(part.sx[e.a]! + ux)} ${Y(part.sy[e.a]! + uy)}L${X(part.sx[e.b]! + ux)} ${Y(part.sy[e.b]! + uy)}`);
    }
    byBin.forEach((d, b) => { if (d.length) out.push(`<path class="flow-bin" data-bin="${b}" data-edges="${d.length}" d="${d.join('')}" fill="none" stroke="${colour(b)}" stroke-width="${width(b).toFixed(2)}" stroke-opacity="0.8" stroke-linecap="round"/>`); });
    if (seedsIn) out.push(`<path class="seeds" d="${seedsIn}" fill="#333"/>`);
    if (seedsOut) out.push(`<path class="seeds boundary" d="${seedsOut}" fill="white" stroke="#333" stroke-width="0.8"/>`);
    out.push('</g></g>');
  });
  // legend: one row per bin, the seed symbols and a scale bar (all panels share one scale)
  const lx = left + cols * P + (cols - 1) * gap + 24;
  let ly = top + headH + 4;
  out.push(`<g class="legend" transform="translate(${lx},0)">`);
  out.push(`<text x="0" y="${ly}" font-size="11" font-weight="bold">mean moves / slice</text>`);
  const fmt = (v: number) => (step >= 1 ? String(Math.round(v)) : v.toFixed(Math.min(6, Math.ceil(-Math.log10(step)))));
  for (let b = 0; b < nb; b++) {
    ly += 18;
    out.push(`<path class="legend-bin" d="M0 ${ly - 4}h30" stroke="${colour(b)}" stroke-width="${width(b).toFixed(2)}" stroke-opacity="0.8" stroke-linecap="round"/>`);
    out.push(`<text x="38" y="${ly}" font-size="10.5">${fmt(b * step)}${b === nb - 1 ? ` – ${fmt(Math.max(wmax, b * step))}` : ` – ${fmt((b + 1) * step)}`}</text>`);
  }
  ly += 24;
  out.push(`<circle cx="15" cy="${ly - 4}" r="2.5" fill="#333"/><text x="38" y="${ly}" font-size="10.5">cell seed</text>`);
  if (seedsOut) {
    ly += 16;
    out.push(`<circle cx="15" cy="${ly - 4}" r="2.5" fill="white" stroke="#333"/><text x="38" y="${ly}" font-size="10.5">boundary seed</text>`);
  }
  const bar = niceStep(span / 3, 1), barPx = bar * k;
  ly += 26;
  out.push(`<path class="scale-bar" d="M0 ${ly}h${barPx.toFixed(1)}M0 ${ly - 4}v8M${barPx.toFixed(1)} ${ly - 4}v8" stroke="#333" stroke-width="1.2" fill="none"/>`);
  out.push(`<text x="0" y="${ly + 14}" font-size="10.5">${bar >= 1000 ? `${bar / 1000} km` : `${bar} m`}</text>`);
  out.push('</g></svg>');
  return out.join('\n');
}

export function scoresCsv(f: FlowSeries, stats: SliceStats, scores: Record<string, Float64Array>): string {
  const names = Object.keys(scores);
  const lines = [['slice', 'slice_start', 'time_of_day', 'total_moves', 'edges', 'tv_shares', 'jaccard', 'l2_logw', ...names.map((n) => `score_${n}`)].join(',')];
  for (let t = 0; t < f.T; t++) {
    lines.push([t, f.t0 + t * f.sliceS, timeOfDay(f.t0 + t * f.sliceS), stats.total[t], stats.edges[t], stats.tv[t]!.toPrecision(6), stats.jaccard[t]!.toPrecision(6), stats.l2[t]!.toPrecision(6), ...names.map((n) => scores[n]![t]!.toPrecision(6))].join(','));
  }
  return lines.join('\n') + '\n';
}
