// Out-of-core pipeline (issue #6 Deliver 1: "streaming so that files larger than memory work").
//
// The points never live in JS memory as a whole. Embedded DuckDB holds them in a database file with
// a memory limit and a spill folder, so its sorts and joins go to disk:
//
// Four stages (loadPoints, cleanPass, partitionPass, flowsPass), composed by flowsOutOfCore:
//
//   S0  the same streaming readers as the in-memory path (readInto: csv fast path / csv-parse,
//       hyparquet row group by row group, sax for FCD XML) feed a Builder subclass that appends
//       small chunks to `raw(id, t, x, y)` — same column mapping, time formats, lenient counts,
//       and error messages with file/line/field, because it is the same code;
//   S1  pass 1: `raw ORDER BY id` is streamed back chunk by chunk; only one object's trajectory is
//       in JS at a time; it is projected about the bbox centre (tracked while reading), cleaned and
//       split into trips with the in-memory code (cleanAndSplit on that one object), and written to
//       `clean(vid, trip, ts, x, y)`; each trip's characteristic points go to `cp(trip, x, y)` and
//       its sort key to `trips`;
//   S2  the trip order of the in-memory partition (start t, x, y, end t, length; ties by trip
//       index) comes from an ORDER BY on `trips`, the same seeded sample of at most maxTrips trips
//       is drawn, and only the sampled trips' characteristic points are loaded for grouping and
//       Voronoi (partitionFromCharacteristic, shared with the in-memory path);
//   S3  pass 2: `clean` is streamed in insertion order; each point gets its cell from the same
//       kdbush nearest-seed search and feeds the same streaming FlowAggregator as buildFlows.
//       With engine duckdb/both, flows.sql also runs on `clean` inside DuckDB (and must agree).
//
// Memory in JS: one chunk, one object's trajectory, the flow table (O(slices × edges)), one int per
// trip for the trip order, and the characteristic points of at most maxTrips sampled trips (16 B
// each). DuckDB stays under its memory_limit and spills to temp_directory.
//
// Identity with the in-memory path: objects are ranked by DuckDB's VARCHAR order (UTF-8 bytes = code
// points), the in-memory path by JS string order (UTF-16 units); the two differ only for ids with
// characters above U+FFFF next to ids with characters in U+E000–U+FFFF, and even then only the
// tie-break between trips with identical (start t, x, y, end t, length) can change.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance, DuckDBType } from '@duckdb/node-api';
import { readInto, decideGeo, type IngestOptions, type IngestReport } from './ingest.ts';
import { project, cleanAndSplit, type CleanOptions } from './clean.ts';
import { characteristicPoints, cpOptions, sampleTrips, partitionFromCharacteristic, tripRanges, Nearest, buildIndex, type Partition, type PartitionOptions } from './partition.ts';
import { FlowAggregator, bucketSize, flowsSqlOn, type FlowOptions } from './flows.ts';
import type { FlowSeries, PointTable } from './types.ts';
import { GrowF64 } from './types.ts';
import { defaults, MEMORY_SIZE, type Engine } from './config.ts';
import { Batch, DiskBuilder, chunks, type Duck } from './duckdb.ts';

export interface DiskOptions {
  /** folder for the database file and DuckDB's spill files (default: a new folder in the OS temp dir) */
  dir?: string;
  /** DuckDB memory_limit (default '1GB', config.ts); above it sorts/joins spill to `dir` */
  memoryLimit?: string;
  /** DuckDB threads (default PAPERLAB_THREADS or 2) */
  threads?: number;
  /** rows per appended chunk (1–2048, default 2048); tests use tiny chunks to exercise boundaries */
  chunkRows?: number;
  /** keep the database file (points.duckdb) after the run */
  keep?: boolean;
}

export interface DiskHooks {
  log?: (m: string) => void;
  progress?: (total: number, label: string) => { tick(n?: number): void; done(): void };
  signal?: AbortSignal;
}

export interface DiskPipelineResult {
  report: IngestReport;
  /** the in-memory path's TripTable summary */
  cleaning: { n: number; nTrips: number; dropped: { duplicates: number; speed: number } };
  geo: Geo;
  part: Partition;
  flows: FlowSeries;
  flowsSql?: FlowSeries;
  /** what was held where, for the run summary */
  disk: { dbBytes: number; memoryLimit: string; sampledTrips: number; characteristicPoints: number };
}

/** The options of the out-of-core path: those of the in-memory pipeline up to the flow table. */
export interface OutOfCoreOptions { ingest?: IngestOptions; clean?: CleanOptions; partition?: PartitionOptions; flows?: FlowOptions; engine?: Engine }

type Geo = { lon0: number; lat0: number } | null;

/** One out-of-core run's database: a file with two connections, its folders and chunk size. */
interface Session {
  duck: Duck; inst: DuckDBInstance; con: DuckDBConnection; con2: DuckDBConnection;
  dir: string; ownDir: boolean; dbFile: string; tmp: string; memoryLimit: string; chunkRows: number; keep: boolean;
  /** throws when the run was aborted */
  check(): void;
}

/** What pass 1 (clean + trips) leaves for the later stages. */
interface TripStats {
  nPts: number; nTrips: number; nCp: number; dropped: { duplicates: number; speed: number };
  /** bounding box of the cleaned points (metres) */
  bbox: [number, number, number, number];
  /** first time, and last time before `until` */
  tMin: number; tMaxUntil: number;
}

/**
 * Ingest → clean/trips → partition → assign → flows with the points in DuckDB on disk. The same
 * options as runPipeline; the result equals runPipeline's (cells, flow table) on the same input.
 */
export async function flowsOutOfCore(file: string, o: OutOfCoreOptions, d: DiskOptions = {}, hooks: DiskHooks = {}): Promise<DiskPipelineResult> {
  const s = await openSession(d, hooks.signal);
  try {
    const threads = d.threads ?? Math.max(1, Number(process.env.PAPERLAB_THREADS ?? 2));
    const q = (v: string) => `'${v.replaceAll("'", "''")}'`;
    await s.con.run(`SET threads TO ${threads}; SET memory_limit = ${q(s.memoryLimit)}; SET temp_directory = ${q(s.tmp)}; SET preserve_insertion_order = true`);
    const { report, origin, n } = await loadPoints(s, file, o.ingest);
    hooks.log?.(`out-of-core: ${n} points in ${path.basename(s.dbFile)} (DuckDB memory_limit ${s.memoryLimit})`);
    const st = await cleanPass(s, n, origin, o, hooks);
    if (st.nPts < 2) throw new Error(`${report.file}: fewer than 2 points left after cleaning`);
    s.check();
    const { part, sampledTrips, characteristicPoints } = await partitionPass(s, st, o.partition);
    hooks.log?.(`${st.nPts} points, ${st.nTrips} trips, ${part.sx.length} cells from ${characteristicPoints} characteristic points of ${sampledTrips}${sampledTrips < st.nTrips ? ' sampled' : ''} trips`);
    s.check();
    const { flows, flowsSql } = await flowsPass(s, part, st, o, hooks);
    const dbBytes = fs.existsSync(s.dbFile) ? fs.statSync(s.dbFile).size : 0;
    return {
      report, cleaning: { n: st.nPts, nTrips: st.nTrips, dropped: st.dropped }, geo: origin, part, flows, flowsSql,
      disk: { dbBytes, memoryLimit: s.memoryLimit, sampledTrips, characteristicPoints },
    };
  } finally {
    closeSession(s);
  }
}

async function openSession(d: DiskOptions, signal?: AbortSignal): Promise<Session> {
  const duck = await import('@duckdb/node-api');
  const chunkRows = Math.max(1, Math.min(2048, Math.floor(d.chunkRows ?? defaults.storage.chunkRows)));
  const memoryLimit = d.memoryLimit ?? defaults.storage.duckdbMemory;
  if (!MEMORY_SIZE.test(memoryLimit)) throw new Error(`memoryLimit: '${memoryLimit}' is not a size like 512MB or 2GB`);
  const ownDir = !d.dir;
  const dir = d.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-disk-'));
  fs.mkdirSync(dir, { recursive: true });
  const dbFile = path.join(dir, 'points.duckdb');
  for (const f of [dbFile, `${dbFile}.wal`]) fs.rmSync(f, { force: true });
  const inst = await duck.DuckDBInstance.create(dbFile);
  const con = await inst.connect();
  const con2 = await inst.connect();
  const check = () => { if (signal?.aborted) throw new Error('aborted'); };
  return { duck, inst, con, con2, dir, ownDir, dbFile, tmp: path.join(dir, 'duckdb_tmp'), memoryLimit, chunkRows, keep: Boolean(d.keep), check };
}

function closeSession(s: Session): void {
  s.con2.closeSync(); s.con.closeSync(); s.inst.closeSync();
  fs.rmSync(s.tmp, { recursive: true, force: true });
  if (!s.keep) {
    for (const f of [s.dbFile, `${s.dbFile}.wal`]) fs.rmSync(f, { force: true });
    if (s.ownDir) fs.rmSync(s.dir, { recursive: true, force: true });
  }
}

/** S0: the shared readers into raw(id, t, x, y); the projection origin is the bbox centre, as clean.project. */
async function loadPoints(s: Session, file: string, ingest: IngestOptions = {}): Promise<{ report: IngestReport; origin: Geo; n: number }> {
  const b = new DiskBuilder(path.basename(file), Boolean(ingest.lenient), s.duck, s.con, s.chunkRows);
  // one transaction per bulk load: DuckDB then writes row groups straight to the database file
  // (optimistic writes) instead of through the write-ahead log
  await s.con.run('BEGIN TRANSACTION');
  await b.open();
  const { format, ...r } = await readInto(file, b, ingest);
  b.close();
  await s.con.run('COMMIT');
  const geoFlag = decideGeo(b.file, r.geo, ingest.crs ? 'geo' : ingest.coords, b.n, b.firstOut);
  const report: IngestReport = { file: b.file, format, rows: b.rows, kept: b.n, skipped: b.skipped, examples: b.examples, columns: r.names, timeUnit: r.unit, coords: geoFlag ? 'geo' : 'metres' };
  if (b.n < 2) throw new Error(`${b.file}: fewer than 2 points left after cleaning`);
  return { report, origin: geoFlag ? { lon0: (b.x0 + b.x1) / 2, lat0: (b.y0 + b.y1) / 2 } : null, n: b.n };
}

/**
 * Pass 1's writer: takes one object's points at a time, projects, cleans and splits them into
 * trips with the in-memory code, and appends to clean(vid, trip, ts, x, y), cp(trip, x, y) and
 * trips(seq, ts0, x0, y0, ts1, len); tracks what the later stages need (TripStats).
 */
class TripWriter {
  private readonly ot = new GrowF64(); private readonly ox = new GrowF64(); private readonly oy = new GrowF64();
  private readonly cps: number[] = [];
  private readonly cleanOpts: CleanOptions; private readonly cpo: ReturnType<typeof cpOptions>; private readonly until: number;
  private nObj = 0;
  readonly st: TripStats = {
    nPts: 0, nTrips: 0, nCp: 0, dropped: { duplicates: 0, speed: 0 },
    bbox: [Infinity, Infinity, -Infinity, -Infinity], tMin: Infinity, tMaxUntil: -Infinity,
  };
  private constructor(
    private readonly origin: Geo,
    o: OutOfCoreOptions,
    private readonly cleanB: Batch,
    private readonly cpB: Batch,
    private readonly tripB: Batch,
  ) {
    this.cleanOpts = { maxGapS: o.flows?.maxGapS ?? o.clean?.maxGapS, ...o.clean };
    this.cpo = cpOptions(o.partition);
    this.until = o.flows?.until ?? Infinity;
  }
  static async open(s: Session, origin: Geo, o: OutOfCoreOptions): Promise<TripWriter> {
    const { INTEGER, DOUBLE } = s.duck, c = s.con2;
    await c.run('CREATE OR REPLACE TABLE clean (vid INTEGER, trip INTEGER, ts DOUBLE, x DOUBLE, y DOUBLE)');
    await c.run('CREATE OR REPLACE TABLE cp (trip INTEGER, x DOUBLE, y DOUBLE)');
    await c.run('CREATE OR REPLACE TABLE trips (seq INTEGER, ts0 DOUBLE, x0 DOUBLE, y0 DOUBLE, ts1 DOUBLE, len INTEGER)');
    const batch = async (table: string, types: DuckDBType[]) => new Batch(s.duck, await c.createAppender(table), types, s.chunkRows);
    return new TripWriter(origin, o, await batch('clean', [INTEGER, INTEGER, DOUBLE, DOUBLE, DOUBLE]), await batch('cp', [INTEGER, DOUBLE, DOUBLE]), await batch('trips', [INTEGER, DOUBLE, DOUBLE, DOUBLE, DOUBLE, INTEGER]));
  }
  push(t: number, x: number, y: number): void { this.ot.push(t); this.ox.push(x); this.oy.push(y); }
  /** ends the current object: cleans it and appends its points, trips and characteristic points */
  endObject(): void {
    const n = this.ot.n; if (n === 0) return;
    const P: PointTable = { n, obj: new Int32Array(n), ids: [''], t: this.ot.a.slice(0, n), x: this.ox.a.slice(0, n), y: this.oy.a.slice(0, n), geo: null };
    if (this.origin) project(P, this.origin);
    const tt = cleanAndSplit(P, this.cleanOpts), st = this.st, cleanB = this.cleanB, bb = st.bbox;
    st.dropped.duplicates += tt.dropped.duplicates; st.dropped.speed += tt.dropped.speed;
    for (let i = 0; i < tt.n; i++) {
      const t = tt.t[i]!, x = tt.x[i]!, y = tt.y[i]!;
      const k = cleanB.n;
      cleanB.cols[0]![k] = this.nObj; cleanB.cols[1]![k] = st.nTrips + tt.trip[i]!; cleanB.cols[2]![k] = t; cleanB.cols[3]![k] = x; cleanB.cols[4]![k] = y;
      cleanB.next();
      if (x < bb[0]) bb[0] = x; if (x > bb[2]) bb[2] = x; if (y < bb[1]) bb[1] = y; if (y > bb[3]) bb[3] = y;
      if (t < st.tMin) st.tMin = t; if (t > st.tMaxUntil && t < this.until) st.tMaxUntil = t;
    }
    const ranges = tripRanges(tt);
    for (let k = 0; k < tt.nTrips; k++) {
      const a = ranges[2 * k]!, e = ranges[2 * k + 1]!, seq = st.nTrips + k;
      this.cps.length = 0;
      characteristicPoints(tt, a, e, this.cpo, this.cps);
      for (const i of this.cps) {
        const j = this.cpB.n;
        this.cpB.cols[0]![j] = seq;
        this.cpB.cols[1]![j] = tt.x[i];
        this.cpB.cols[2]![j] = tt.y[i];
        this.cpB.next();
      }
      st.nCp += this.cps.length;
      const tb = this.tripB, j = tb.n;
      tb.cols[0]![j] = seq; tb.cols[1]![j] = tt.t[a]; tb.cols[2]![j] = tt.x[a]; tb.cols[3]![j] = tt.y[a]; tb.cols[4]![j] = tt.t[e - 1]; tb.cols[5]![j] = e - a;
      tb.next();
    }
    st.nTrips += tt.nTrips; st.nPts += tt.n; this.nObj++;
    this.ot.n = 0; this.ox.n = 0; this.oy.n = 0;
  }
  close(): void { this.cleanB.close(); this.cpB.close(); this.tripB.close(); }
}

/** S1, pass 1: `raw ORDER BY id` streamed back, one object at a time through TripWriter; raw is dropped after. */
async function cleanPass(s: Session, n: number, origin: Geo, o: OutOfCoreOptions, hooks: DiskHooks): Promise<TripStats> {
  const sliceS = o.flows?.sliceS ?? defaults.flows.sliceMin * 60;
  if (!(sliceS > 0)) throw new Error(`sliceS must be > 0, got ${sliceS}`);
  await s.con2.run('BEGIN TRANSACTION');
  const w = await TripWriter.open(s, origin, o);
  const bar = hooks.progress?.(n, 'clean + trips (disk)');
  const res = await s.con.stream('SELECT id, t, x, y FROM raw ORDER BY id');
  let cur: string | null = null;
  for await (const c of chunks(res)) {
    s.check();
    const id = c.getColumnValues(0) as string[], t = c.getColumnValues(1) as number[];
    const x = c.getColumnValues(2) as number[], y = c.getColumnValues(3) as number[];
    const rc = c.rowCount;
    for (let i = 0; i < rc; i++) {
      if (id[i] !== cur) { w.endObject(); cur = id[i]!; }
      w.push(t[i]!, x[i]!, y[i]!);
    }
    bar?.tick(rc);
  }
  w.endObject();
  bar?.done();
  w.close();
  await s.con2.run('COMMIT');
  if (w.st.nPts >= 2) { await s.con.run('DROP TABLE raw'); await s.con.run('CHECKPOINT'); }
  return w.st;
}

/**
 * S2: the trip order of the in-memory partition from an ORDER BY on `trips`, the same seeded
 * sample, and the sampled trips' characteristic points (in that order) into partitionFromCharacteristic.
 */
async function partitionPass(
  s: Session,
  st: TripStats,
  po: PartitionOptions | undefined,
): Promise<{ part: Partition; sampledTrips: number; characteristicPoints: number }> {
  const order: number[] = [];
  for await (const c of chunks(await s.con.stream('SELECT seq FROM trips ORDER BY ts0, x0, y0, ts1, len, seq'))) for (const v of c.getColumnValues(0)) order.push(v as number);
  if (order.length !== st.nTrips) throw new Error(`out-of-core: ${order.length} trips read back, ${st.nTrips} written`);
  const sample = sampleTrips(order, po);
  const { cx, cy } = await sampledCharacteristicPoints(s, st, sample);
  const part = partitionFromCharacteristic(cx, cy, st.bbox, po);
  return { part, sampledTrips: sample.length, characteristicPoints: cx.length };
}

/** The characteristic points of the sampled trips, in sample order (cp is read in insertion order). */
async function sampledCharacteristicPoints(s: Session, st: TripStats, sample: number[]): Promise<{ cx: Float64Array; cy: Float64Array }> {
  const nTrips = st.nTrips;
  const want = sample.length < nTrips ? new Uint8Array(nTrips) : null;
  if (want) for (const k of sample) want[k] = 1;
  // offsets of each (sampled) trip's characteristic points in one buffer, filled in insertion order
  const start = new Int32Array(nTrips + 1).fill(-1);
  const bx = new GrowF64(), by = new GrowF64();
  let last = -1;
  for await (const c of chunks(await s.con.stream('SELECT trip, x, y FROM cp'))) {
    const tr = c.getColumnValues(0) as number[], x = c.getColumnValues(1) as number[], y = c.getColumnValues(2) as number[];
    for (let i = 0; i < c.rowCount; i++) {
      const k = tr[i]!;
      if (k < last) throw new Error('out-of-core: DuckDB returned characteristic points out of insertion order');
      if (k !== last) { start[k] = bx.n; last = k; }
      if (want && !want[k]) continue;
      bx.push(x[i]!); by.push(y[i]!);
    }
  }
  // every trip has ≥ 1 characteristic point (its first), so every start is set; unsampled trips take no room
  const cx = new Float64Array(want ? bx.n : st.nCp), cy = new Float64Array(cx.length);
  const end = (k: number) => (k + 1 < nTrips ? start[k + 1]! : bx.n);
  let q = 0;
  for (const k of sample) for (let i = start[k]!, e = end(k); i < e; i++) { cx[q] = bx.a[i]!; cy[q] = by.a[i]!; q++; }
  if (q !== cx.length) throw new Error(`out-of-core: ${q} characteristic points placed, ${cx.length} loaded`);
  return { cx, cy };
}

/**
 * S3, pass 2: `clean` streamed in insertion order, each point's nearest seed into the streaming
 * FlowAggregator; with engine duckdb/both also flows.sql on `clean` inside DuckDB.
 */
async function flowsPass(
  s: Session,
  part: Partition,
  st: TripStats,
  o: OutOfCoreOptions,
  hooks: DiskHooks,
): Promise<{ flows: FlowSeries; flowsSql?: FlowSeries }> {
  const sliceS = o.flows?.sliceS ?? defaults.flows.sliceMin * 60, until = o.flows?.until ?? Infinity, mode = o.flows?.mode ?? defaults.flows.mode;
  const t0 = o.flows?.t0 ?? (Number.isFinite(st.tMin) ? Math.floor(st.tMin / sliceS) * sliceS : 0);
  const T = Number.isFinite(st.tMaxUntil) ? Math.floor((st.tMaxUntil - t0) / sliceS) + 1 : 0;
  const agg = new FlowAggregator(part.sx.length, t0, sliceS, until, mode);
  const nn = new Nearest(buildIndex(part.sx, part.sy), part.sx, part.sy);
  let cov = 0, lastTrip = -1, seen = 0;
  const bar = hooks.progress?.(st.nPts, 'assign + flows (disk)');
  for await (const c of chunks(await s.con.stream('SELECT vid, trip, ts, x, y FROM clean'))) {
    s.check();
    const vid = c.getColumnValues(0) as number[], tr = c.getColumnValues(1) as number[], t = c.getColumnValues(2) as number[];
    const x = c.getColumnValues(3) as number[], y = c.getColumnValues(4) as number[];
    const rc = c.rowCount;
    for (let i = 0; i < rc; i++) {
      if (tr[i]! < lastTrip) throw new Error('out-of-core: DuckDB returned points out of insertion order');
      lastTrip = tr[i]!;
      const xi = x[i]!, yi = y[i]!, sd = nn.find(xi, yi);
      const dd = (xi - part.sx[sd]!) ** 2 + (yi - part.sy[sd]!) ** 2;
      if (dd > cov) cov = dd;
      agg.point(lastTrip, vid[i]!, t[i]!, sd);
    }
    seen += rc;
    bar?.tick(rc);
  }
  bar?.done();
  if (seen !== st.nPts) throw new Error(`out-of-core: ${seen} points read back, ${st.nPts} written`);
  part.coverageRadius = Math.max(part.coverageRadius, Math.sqrt(cov));
  const engine = o.engine ?? defaults.storage.engine;
  const flows = agg.finish(T);
  if (engine === 'memory') return { flows };
  if (mode !== 'transitions') throw new Error('the SQL path implements transitions mode only');
  await s.con.run(`CREATE OR REPLACE VIEW pts AS SELECT vid, ts, x, y FROM clean${until !== Infinity ? ` WHERE ts < CAST('${until}' AS DOUBLE)` : ''}`);
  const flowsSql = await flowsSqlOn(
    s.con, part,
    { B: bucketSize(part), t0, slice: sliceS, maxGap: o.flows?.maxGapS ?? o.clean?.maxGapS ?? defaults.clean.maxGapS },
    T,
  );
  return { flows: engine === 'duckdb' ? flowsSql : flows, flowsSql };
}
