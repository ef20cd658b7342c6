// S5 (§7): GeoJSON of cells and flows, flow table CSV, change-points JSON, per-slice scores CSV,
// and Vega-Lite plot specs (time series with change-points, heat map, flow map, score curves).
import fs from 'node:fs';
import path from 'node:path';
import type { FlowSeries } from './types.ts';
import type { Partition } from './partition.ts';
import { unproject } from './clean.ts';
import type { SliceStats } from './detect.ts';

type Geo = { lon0: number; lat0: number } | null;
const coord = (geo: Geo, x: number, y: number): [number, number] => (geo ? unproject(geo, x, y) : [x, y]);

/** Voronoi cells as a GeoJSON FeatureCollection (lon/lat when the input was geographic, else metres). */
export function cellsGeoJson(part: Partition, geo: Geo): Record<string, unknown> {
  return {
    type: 'FeatureCollection',
    ...(geo ? {} : { crs_note: 'local metres (the input was projected)' }),
    features: part.polygons.map((ring, i) => {
      const [lon, lat] = coord(geo, part.sx[i]!, part.sy[i]!);
      return {
        type: 'Feature',
        properties: { cell_id: i, seed_lon: lon, seed_lat: lat, seed_x: part.sx[i], seed_y: part.sy[i], characteristic_points: part.count[i], boundary_seed: part.boundary[i] === 1 },
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
    for (let r = 0; r < f.slice.length; r++) if (f.slice[r]! >= seg.start && f.slice[r]! < seg.end) { const k = f.src[r]! * f.N + f.dst[r]!; agg.set(k, (agg.get(k) ?? 0) + f.moves[r]!); }
    for (const [k, v] of agg) {
      const a = Math.floor(k / f.N), b = k % f.N;
      features.push({ type: 'Feature', properties: { segment: si, start_slice: seg.start, end_slice: seg.end, src: a, dst: b, mean_moves: v / (seg.end - seg.start) },
        geometry: { type: 'LineString', coordinates: [coord(geo, part.sx[a]!, part.sy[a]!), coord(geo, part.sx[b]!, part.sy[b]!)] } });
    }
  });
  return { type: 'FeatureCollection', features };
}

export function flowsCsv(f: FlowSeries): string {
  const lines = ['slice,slice_start,src,dst,moves,objects'];
  for (let r = 0; r < f.slice.length; r++) lines.push(`${f.slice[r]},${f.t0 + f.slice[r]! * f.sliceS},${f.src[r]},${f.dst[r]},${f.moves[r]},${f.objects[r]}`);
  return lines.join('\n') + '\n';
}

/**
 * flows.parquet (spec §7): slice INTEGER, slice_start DOUBLE (s), src INTEGER, dst INTEGER,
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
    for (let r = 0; r < f.slice.length; r++) if (f.slice[r]! >= start && f.slice[r]! < end) { const k = f.src[r]! * f.N + f.dst[r]!; agg.set(k, (agg.get(k) ?? 0) + f.moves[r]!); total += f.moves[r]!; }
    const top = [...agg.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, topK).map(([k, v]) => ({ src: Math.floor(k / f.N), dst: k % f.N, moves: v }));
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
      { data: { values: shades }, mark: { type: 'rect', opacity: 0.12 }, encoding: { x: { field: 'a', type: 'quantitative' }, x2: { field: 'b' }, color: { field: 'seg', type: 'nominal', legend: null, scale: { range: ['#888', '#fff'] } } } },
      { data: { values: rows }, mark: { type: 'line' }, encoding: { x: { field: 'hour', type: 'quantitative', title: 'hour' }, y: { field: 'value', type: 'quantitative', title: 'per slice' }, strokeDash: { field: 'series', type: 'nominal' } } },
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

/** Heat map slices × top-K edges of log(1 + moves). */
export function heatmapPlot(f: FlowSeries, topK = 200): Record<string, unknown> {
  const tot = new Map<number, number>();
  for (let r = 0; r < f.slice.length; r++) { const k = f.src[r]! * f.N + f.dst[r]!; tot.set(k, (tot.get(k) ?? 0) + f.moves[r]!); }
  const top = [...tot.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, topK);
  const rank = new Map(top.map(([k], i) => [k, i]));
  const rows: Record<string, unknown>[] = [];
  for (let r = 0; r < f.slice.length; r++) { const i = rank.get(f.src[r]! * f.N + f.dst[r]!); if (i !== undefined) rows.push({ slice: f.slice[r], edge: i, logw: Math.log1p(f.moves[r]!) }); }
  return {
    title: `slices × top-${top.length} edges, log(1 + moves)`, width: 640, height: 320, data: { values: rows },
    mark: 'rect', encoding: { x: { field: 'slice', type: 'ordinal', axis: { labelOverlap: true } }, y: { field: 'edge', type: 'ordinal', axis: null }, color: { field: 'logw', type: 'quantitative', scale: { scheme: 'viridis' } } },
  };
}

/** Per-segment flow maps: seeds plus edges whose width is the segment's mean flow per slice. */
export function flowMapPlot(f: FlowSeries, part: Partition, segments: { start: number; end: number }[]): Record<string, unknown> {
  const seedRows = Array.from(part.sx, (x, i) => ({ x, y: part.sy[i], boundary: part.boundary[i] === 1 }));
  const panels = segments.slice(0, 8).map((seg, si) => {
    const agg = new Map<number, number>();
    for (let r = 0; r < f.slice.length; r++) if (f.slice[r]! >= seg.start && f.slice[r]! < seg.end) { const k = f.src[r]! * f.N + f.dst[r]!; agg.set(k, (agg.get(k) ?? 0) + f.moves[r]!); }
    const edges = [...agg.entries()].map(([k, v]) => {
      const a = Math.floor(k / f.N), b = k % f.N;
      // offset each direction slightly to the right so that i→j and j→i do not overlap
      const dx = part.sx[b]! - part.sx[a]!, dy = part.sy[b]! - part.sy[a]!, L = Math.hypot(dx, dy) || 1, o = 0.04 * L;
      return { x: part.sx[a]! + (dy / L) * o, y: part.sy[a]! - (dx / L) * o, x2: part.sx[b]! + (dy / L) * o, y2: part.sy[b]! - (dx / L) * o, w: v / (seg.end - seg.start) };
    }).sort((p, q) => q.w - p.w).slice(0, 400);
    return {
      title: `segment ${si}: slices ${seg.start}–${seg.end - 1} (${timeOfDay(f.t0 + seg.start * f.sliceS)})`, width: 260, height: 260,
      layer: [
        { data: { values: edges }, mark: { type: 'rule', opacity: 0.6, color: '#c0392b' }, encoding: { x: { field: 'x', type: 'quantitative', axis: null, scale: { zero: false } }, y: { field: 'y', type: 'quantitative', axis: null, scale: { zero: false } }, x2: { field: 'x2' }, y2: { field: 'y2' }, strokeWidth: { field: 'w', type: 'quantitative', scale: { range: [0.2, 6] }, legend: null } } },
        { data: { values: seedRows }, mark: { type: 'circle', size: 12, color: '#333' }, encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } },
      ],
    };
  });
  return { title: 'mean flow per slice, by segment', columns: 4, concat: panels, resolve: { scale: { strokeWidth: 'shared', x: 'shared', y: 'shared' } } };
}

export function scoresCsv(f: FlowSeries, stats: SliceStats, scores: Record<string, Float64Array>): string {
  const names = Object.keys(scores);
  const lines = [['slice', 'slice_start', 'time_of_day', 'total_moves', 'edges', 'tv_shares', 'jaccard', 'l2_logw', ...names.map((n) => `score_${n}`)].join(',')];
  for (let t = 0; t < f.T; t++) {
    lines.push([t, f.t0 + t * f.sliceS, timeOfDay(f.t0 + t * f.sliceS), stats.total[t], stats.edges[t], stats.tv[t]!.toPrecision(6), stats.jaccard[t]!.toPrecision(6), stats.l2[t]!.toPrecision(6), ...names.map((n) => scores[n]![t]!.toPrecision(6))].join(','));
  }
  return lines.join('\n') + '\n';
}
