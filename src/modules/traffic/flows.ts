// The paper's second stage, graph generation: the day is cut into time slices, and each slice gives
// one directed weighted trajectory flow graph over the fixed set of cells, its edge weights the
// flows between cells (moves: transitions i→j credited to the arriving point's slice [recon];
// objects: distinct objects making them). Two paths that must agree row for row: in-memory (typed
// arrays + a hash aggregate) and the portable SQL of flows.sql on embedded DuckDB.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FlowSeries, TripTable } from './types.ts';
import { GrowF64, GrowI32 } from './types.ts';
import type { Partition } from './partition.ts';
import { defaults, type FlowMode } from './config.ts';

export interface FlowOptions {
  sliceS?: number;
  /** start of slice 0; default: min t floored to a multiple of sliceS (midnight-aligned days) */
  t0?: number | null;
  /** drop points at or after this time (seconds); default keep all (never clamped) */
  until?: number | null;
  maxGapS?: number;
  /** 'transitions' (default): cell changes of consecutive points; 'od': first→last cell per trip */
  mode?: FlowMode;
}

export function sliceOrigin(t: Float64Array, sliceS: number, t0?: number | null): number {
  if (t0 != null) return t0;
  let m = Infinity; for (let i = 0; i < t.length; i++) if (t[i]! < m) m = t[i]!;
  return Number.isFinite(m) ? Math.floor(m / sliceS) * sliceS : 0;
}

/** Number of slices: last point's slice + 1 (extra slices past 24:00 are kept, never clamped). */
export function sliceCount(t: Float64Array, t0: number, sliceS: number, until?: number | null): number {
  let m = -Infinity; for (let i = 0; i < t.length; i++) if (t[i]! > m && (until == null || t[i]! < until)) m = t[i]!;
  return Number.isFinite(m) ? Math.floor((m - t0) / sliceS) + 1 : 0;
}

/**
 * Streaming flow aggregation (hash aggregate keyed by (slice, src, dst)). Points must arrive grouped
 * by object and sorted by time within it (the order of a TripTable); then memory is O(flow rows),
 * independent of the number of points. Shared by the in-memory path and the out-of-core path (disk.ts).
 */
export class FlowAggregator {
  private readonly NN: number;
  private readonly acc = new Map<number, number>(); // key -> row index
  private readonly mv = new GrowF64(); private readonly ob = new GrowF64(); private readonly lastObj = new GrowI32();
  private readonly keys: number[] = [];
  private prevTrip = -1; private prevCell = -1;
  // OD mode: first point of the current trip and the last cell
  private odFirstCell = -1; private odT = 0; private odObj = -1;
  readonly od: boolean;
  constructor(readonly N: number, readonly t0: number, readonly sliceS: number, readonly until: number, mode: 'transitions' | 'od' = 'transitions') {
    if (!(sliceS > 0)) throw new Error(`sliceS must be > 0, got ${sliceS}`);
    this.NN = N * N; this.od = mode === 'od';
  }
  private credit(s: number, a: number, b: number, obj: number): void {
    const key = s * this.NN + a * this.N + b;
    let r = this.acc.get(key);
    if (r === undefined) { r = this.keys.length; this.acc.set(key, r); this.keys.push(key); this.mv.push(0); this.ob.push(0); this.lastObj.push(-1); }
    this.mv.a[r]!++;
    // rows are grouped by object, so a new object id for this key is a new distinct object
    if (this.lastObj.a[r] !== obj) { this.ob.a[r]!++; this.lastObj.a[r] = obj; }
  }
  private flushOd(): void {
    if (this.prevTrip >= 0 && this.odFirstCell !== this.prevCell && this.odT < this.until) {
      this.credit(Math.floor((this.odT - this.t0) / this.sliceS), this.odFirstCell, this.prevCell, this.odObj);
    }
  }
  /** One point: its trip id (distinct per trip), object index, time and cell. */
  point(trip: number, obj: number, t: number, cell: number): void {
    if (this.od) {
      if (trip !== this.prevTrip) { this.flushOd(); this.odFirstCell = cell; this.odT = t; this.odObj = obj; }
    } else if (trip === this.prevTrip && cell !== this.prevCell && t < this.until) {
      // a transition is credited to the slice of the arriving point
      this.credit(Math.floor((t - this.t0) / this.sliceS), this.prevCell, cell, obj);
    }
    this.prevTrip = trip; this.prevCell = cell;
  }
  /** The table sorted by (slice, src, dst). */
  finish(T: number): FlowSeries {
    if (this.od) { this.flushOd(); this.prevTrip = -1; }
    const { keys, NN, N } = this;
    const order = keys.map((_, r) => r).sort((a, b) => keys[a]! - keys[b]!);
    const R = order.length;
    const f: FlowSeries = {
      slice: new Int32Array(R), src: new Int32Array(R), dst: new Int32Array(R), moves: new Float64Array(R),
      objects: new Float64Array(R), T, N, t0: this.t0, sliceS: this.sliceS,
    };
    order.forEach((r, q) => {
      const k = keys[r]!;
      f.slice[q] = Math.floor(k / NN); f.src[q] = Math.floor((k % NN) / N); f.dst[q] = k % N;
      f.moves[q] = this.mv.a[r]!; f.objects[q] = this.ob.a[r]!;
    });
    return f;
  }
}

/** In-memory flows: transitions credited to the slice of the arriving point (or OD edges per trip). */
export function buildFlows(p: TripTable, cell: Int32Array, N: number, o: FlowOptions = {}): FlowSeries {
  const sliceS = o.sliceS ?? defaults.flows.sliceMin * 60;
  if (!(sliceS > 0)) throw new Error(`sliceS must be > 0, got ${sliceS}`);
  const t0 = sliceOrigin(p.t, sliceS, o.t0);
  const T = sliceCount(p.t, t0, sliceS, o.until);
  const agg = new FlowAggregator(N, t0, sliceS, o.until ?? Infinity, o.mode ?? defaults.flows.mode);
  for (let i = 0; i < p.n; i++) agg.point(p.trip[i]!, p.obj[i]!, p.t[i]!, cell[i]!);
  return agg.finish(T);
}

export const FLOWS_SQL_PATH = fileURLToPath(new URL('./flows.sql', import.meta.url));

/** The portable SQL with parameters substituted (numbers as exact decimal strings). */
export function flowsSql(params: { B: number; t0: number; slice: number; maxGap: number }): string {
  let sql = fs.readFileSync(FLOWS_SQL_PATH, 'utf8');
  sql = sql.split('\n').filter((l) => !l.trimStart().startsWith('--')).join('\n');
  for (const [k, v] of Object.entries(params)) {
    if (!Number.isFinite(v)) throw new Error(`flows.sql: parameter ${k} must be finite, got ${v}`);
    sql = sql.replaceAll(new RegExp(`:${k}\\b`, 'g'), `CAST('${String(v)}' AS DOUBLE)`);
  }
  return sql.trim().replace(/;$/, '');
}

/**
 * Flows through flows.sql on embedded DuckDB. Points go in as a table (vid, ts, x, y) appended in
 * data chunks; the result is sorted by (slice, src, dst) to compare row for row.
 */
export async function buildFlowsDuckDB(p: TripTable, part: Partition, o: FlowOptions & { threads?: number } = {}): Promise<FlowSeries> {
  if ((o.mode ?? defaults.flows.mode) !== 'transitions') throw new Error('the SQL path implements transitions mode only');
  const duck = await import('@duckdb/node-api');
  const { DuckDBInstance, DuckDBDataChunk, INTEGER, DOUBLE } = duck;
  const sliceS = o.sliceS ?? defaults.flows.sliceMin * 60, maxGap = o.maxGapS ?? defaults.clean.maxGapS;
  const t0 = sliceOrigin(p.t, sliceS, o.t0);
  const T = sliceCount(p.t, t0, sliceS, o.until);
  const B = bucketSize(part);
  const inst = await DuckDBInstance.create(':memory:');
  const con = await inst.connect();
  try {
    await con.run(`SET threads TO ${o.threads ?? Math.max(1, Number(process.env.PAPERLAB_THREADS ?? 2))}`);
    await con.run('CREATE TABLE pts (vid INTEGER, ts DOUBLE, x DOUBLE, y DOUBLE)');
    const until = o.until ?? Infinity;
    const app = await con.createAppender('pts');
    const CH = 2048;
    for (let s = 0; s < p.n; s += CH) {
      const e = Math.min(p.n, s + CH);
      let idx: number[] | null = null;
      if (until !== Infinity) { idx = []; for (let i = s; i < e; i++) if (p.t[i]! < until) idx.push(i); }
      const pick = <T extends Int32Array | Float64Array>(a: T): number[] => (idx ? idx.map((i) => a[i]!) : Array.from(a.subarray(s, e)));
      const rows = idx ? idx.length : e - s; if (rows === 0) continue;
      const chunk = DuckDBDataChunk.create([INTEGER, DOUBLE, DOUBLE, DOUBLE], rows);
      // vid = object: on cleaned points, consecutive rows of one object within maxGap are exactly
      // the in-memory path's same-trip pairs (trips are split only by gaps > maxGap)
      chunk.setColumnValues(0, pick(p.obj)); chunk.setColumnValues(1, pick(p.t));
      chunk.setColumnValues(2, pick(p.x)); chunk.setColumnValues(3, pick(p.y));
      app.appendDataChunk(chunk);
    }
    app.closeSync();
    return await flowsSqlOn(con, part, { B, t0, slice: sliceS, maxGap }, T);
  } finally {
    con.closeSync();
    inst.closeSync();
  }
}

type DuckConnection = import('@duckdb/node-api').DuckDBConnection;

/** Bucket size B of flows.sql: at least the coverage radius (so the 3×3 neighbourhood is enough). */
export function bucketSize(part: Partition): number {
  if (!(part.coverageRadius > 0)) throw new Error('flows.sql: partition.coverageRadius is unset (run assignCells first)');
  return Math.max(part.coverageRadius, part.radiusM) * 1.001 + 1;
}

/**
 * Runs flows.sql on a connection that has a table or view `pts(vid, ts, x, y)`: creates `seeds`
 * from the partition and returns the flow table sorted by (slice, src, dst).
 */
export async function flowsSqlOn(
  con: DuckConnection,
  part: Partition,
  params: { B: number; t0: number; slice: number; maxGap: number },
  T: number,
): Promise<FlowSeries> {
  const N = part.sx.length;
  await con.run('CREATE OR REPLACE TABLE seeds (seed_id INTEGER, sx DOUBLE, sy DOUBLE)');
  const sapp = await con.createAppender('seeds');
  for (let i = 0; i < N; i++) { sapp.appendInteger(i); sapp.appendDouble(part.sx[i]!); sapp.appendDouble(part.sy[i]!); sapp.endRow(); }
  sapp.closeSync();
  const sql = flowsSql(params);
  const res = await con.runAndReadAll(`SELECT * FROM (${sql}) q ORDER BY 1, 2, 3`);
  const rows = res.getRows();
  const R = rows.length;
  const f: FlowSeries = {
    slice: new Int32Array(R), src: new Int32Array(R), dst: new Int32Array(R), moves: new Float64Array(R),
    objects: new Float64Array(R), T, N, t0: params.t0, sliceS: params.slice,
  };
  rows.forEach((r, q) => {
    f.slice[q] = Number(r[0]);
    f.src[q] = Number(r[1]);
    f.dst[q] = Number(r[2]);
    f.moves[q] = Number(r[3]);
    f.objects[q] = Number(r[4]);
  });
  return f;
}
