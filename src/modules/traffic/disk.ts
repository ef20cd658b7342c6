// Out-of-core pipeline (issue #6 Deliver 1: "streaming so that files larger than memory work").
//
// The points never live in JS memory as a whole. Embedded DuckDB holds them in a database file with
// a memory limit and a spill folder, so its sorts and joins go to disk:
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
import type { DuckDBAppender, DuckDBConnection, DuckDBDataChunk, DuckDBResult, DuckDBType } from '@duckdb/node-api';
import { Builder, readInto, decideGeo, type IngestOptions, type IngestReport } from './ingest.ts';
import { project, cleanAndSplit, type CleanOptions } from './clean.ts';
import { characteristicPoints, cpOptions, sampleTrips, partitionFromCharacteristic, tripRanges, Nearest, buildIndex, type Partition, type PartitionOptions } from './partition.ts';
import { FlowAggregator, bucketSize, flowsSqlOn, type FlowOptions } from './flows.ts';
import type { FlowSeries, PointTable } from './types.ts';
import { GrowF64 } from './types.ts';

type Duck = typeof import('@duckdb/node-api');

export interface DiskOptions {
  /** folder for the database file and DuckDB's spill files (default: a new folder in the OS temp dir) */
  dir?: string;
  /** DuckDB memory_limit (default '1GB'); above it sorts/joins spill to `dir` */
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

/**
 * The chunks of a streamed result, fetching the next one while the caller works on the current one
 * (DuckDB produces on its own thread meanwhile). A pending fetch is settled before the generator
 * ends, so closing the connection afterwards is safe.
 */
async function* chunks(res: DuckDBResult): AsyncGenerator<DuckDBDataChunk> {
  let next = res.fetchChunk();
  next.catch(() => {});
  try {
    for (;;) {
      const c = await next;
      if (!c || c.rowCount === 0) return;
      next = res.fetchChunk();
      next.catch(() => {});
      yield c;
    }
  } finally {
    await next.catch(() => null);
  }
}

/** Column batches appended to DuckDB as data chunks. */
class Batch {
  readonly cols: unknown[][]; n = 0;
  constructor(private readonly duck: Duck, private readonly app: DuckDBAppender, private readonly types: DuckDBType[], readonly cap: number) {
    this.cols = types.map(() => new Array(cap));
  }
  /** call after filling row `n` of every column */
  next(): void { if (++this.n === this.cap) this.flush(); }
  flush(): void {
    const n = this.n; if (n === 0) return;
    const c = this.duck.DuckDBDataChunk.create(this.types, n);
    for (let j = 0; j < this.types.length; j++) c.setColumnValues(j, (n === this.cap ? this.cols[j]! : this.cols[j]!.slice(0, n)) as never);
    this.app.appendDataChunk(c);
    this.n = 0;
  }
  close(): void { this.flush(); this.app.closeSync(); }
}

/** The ingest Builder that appends rows to DuckDB instead of typed arrays. */
class DiskBuilder extends Builder {
  private batch!: Batch;
  n = 0;
  x0 = Infinity; x1 = -Infinity; y0 = Infinity; y1 = -Infinity;
  firstOut: { i: number; x: number; y: number } | null = null;
  constructor(file: string, lenient: boolean, private readonly duck: Duck, private readonly con: DuckDBConnection, private readonly chunkRows: number) { super(file, lenient); }
  async open(): Promise<void> {
    await this.con.run('CREATE OR REPLACE TABLE raw (id VARCHAR, t DOUBLE, x DOUBLE, y DOUBLE)');
    const { VARCHAR, DOUBLE } = this.duck;
    this.batch = new Batch(this.duck, await this.con.createAppender('raw'), [VARCHAR, DOUBLE, DOUBLE, DOUBLE], this.chunkRows);
  }
  override async reset(): Promise<void> {
    await super.reset();
    if (this.batch) { this.batch.n = 0; this.batch.close(); }
    this.n = 0; this.x0 = this.y0 = Infinity; this.x1 = this.y1 = -Infinity; this.firstOut = null;
    await this.open();
  }
  override add(id: string, t: number, x: number, y: number): void {
    // speed is validated by addRow (bad speeds are errors / counted) but not stored: no later stage uses it
    const b = this.batch, k = b.n;
    b.cols[0]![k] = id; b.cols[1]![k] = t; b.cols[2]![k] = x; b.cols[3]![k] = y;
    if (x < this.x0) this.x0 = x; if (x > this.x1) this.x1 = x; if (y < this.y0) this.y0 = y; if (y > this.y1) this.y1 = y;
    if (!this.firstOut && (Math.abs(y) > 90 || Math.abs(x) > 180)) this.firstOut = { i: this.n, x, y };
    this.n++;
    b.next();
  }
  override get kept(): number { return this.n; }
  override finish(): PointTable { throw new Error('DiskBuilder keeps its points in DuckDB'); }
  close(): void { this.batch.close(); }
}

export interface DiskPipelineResult {
  report: IngestReport;
  /** the in-memory path's TripTable summary */
  cleaning: { n: number; nTrips: number; dropped: { duplicates: number; speed: number } };
  geo: { lon0: number; lat0: number } | null;
  part: Partition;
  flows: FlowSeries;
  flowsSql?: FlowSeries;
  /** what was held where, for the run summary */
  disk: { dbBytes: number; memoryLimit: string; sampledTrips: number; characteristicPoints: number };
}

/**
 * Ingest → clean/trips → partition → assign → flows with the points in DuckDB on disk. The same
 * options as runPipeline; the result equals runPipeline's (cells, flow table) on the same input.
 */
export async function flowsOutOfCore(file: string, o: { ingest?: IngestOptions; clean?: CleanOptions; partition?: PartitionOptions; flows?: FlowOptions; engine?: 'memory' | 'duckdb' | 'both' }, d: DiskOptions = {}, hooks: DiskHooks = {}): Promise<DiskPipelineResult> {
  const duck = await import('@duckdb/node-api');
  const { DuckDBInstance, INTEGER, DOUBLE } = duck;
  const chunkRows = Math.max(1, Math.min(2048, Math.floor(d.chunkRows ?? 2048)));
  const memoryLimit = d.memoryLimit ?? '1GB';
  if (!/^\s*\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)\s*$/i.test(memoryLimit)) throw new Error(`memoryLimit: '${memoryLimit}' is not a size like 512MB or 2GB`);
  const ownDir = !d.dir;
  const dir = d.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-disk-'));
  fs.mkdirSync(dir, { recursive: true });
  const dbFile = path.join(dir, 'points.duckdb');
  for (const f of [dbFile, `${dbFile}.wal`]) fs.rmSync(f, { force: true });
  const tmp = path.join(dir, 'duckdb_tmp');
  const q = (s: string) => `'${s.replaceAll("'", "''")}'`;
  const inst = await DuckDBInstance.create(dbFile);
  const con = await inst.connect();
  const con2 = await inst.connect();
  const check = () => { if (hooks.signal?.aborted) throw new Error('aborted'); };
  try {
    const threads = d.threads ?? Math.max(1, Number(process.env.PAPERLAB_THREADS ?? 2));
    await con.run(`SET threads TO ${threads}; SET memory_limit = ${q(memoryLimit)}; SET temp_directory = ${q(tmp)}; SET preserve_insertion_order = true`);

    // ---- S0: the shared readers into raw(id, t, x, y)
    const b = new DiskBuilder(path.basename(file), Boolean(o.ingest?.lenient), duck, con, chunkRows);
    // one transaction per bulk load: DuckDB then writes row groups straight to the database file
    // (optimistic writes) instead of through the write-ahead log
    await con.run('BEGIN TRANSACTION');
    await b.open();
    const { format, ...r } = await readInto(file, b, o.ingest);
    b.close();
    await con.run('COMMIT');
    const geoFlag = decideGeo(b.file, r.geo, o.ingest?.coords, b.n, b.firstOut);
    const report: IngestReport = { file: b.file, format, rows: b.rows, kept: b.n, skipped: b.skipped, examples: b.examples, columns: r.names, timeUnit: r.unit, coords: geoFlag ? 'geo' : 'metres' };
    if (b.n < 2) throw new Error(`${b.file}: fewer than 2 points left after cleaning`);
    // projection origin = bbox centre of all points, as clean.project
    const origin = geoFlag ? { lon0: (b.x0 + b.x1) / 2, lat0: (b.y0 + b.y1) / 2 } : null;
    hooks.log?.(`out-of-core: ${b.n} points in ${path.basename(dbFile)} (DuckDB memory_limit ${memoryLimit})`);

    // ---- S1: pass 1, one object at a time, in id order
    const cleanOpts: CleanOptions = { maxGapS: o.flows?.maxGapS ?? o.clean?.maxGapS, ...o.clean };
    const cpo = cpOptions(o.partition);
    await con2.run('BEGIN TRANSACTION');
    await con2.run('CREATE OR REPLACE TABLE clean (vid INTEGER, trip INTEGER, ts DOUBLE, x DOUBLE, y DOUBLE)');
    await con2.run('CREATE OR REPLACE TABLE cp (trip INTEGER, x DOUBLE, y DOUBLE)');
    await con2.run('CREATE OR REPLACE TABLE trips (seq INTEGER, ts0 DOUBLE, x0 DOUBLE, y0 DOUBLE, ts1 DOUBLE, len INTEGER)');
    const cleanB = new Batch(duck, await con2.createAppender('clean'), [INTEGER, INTEGER, DOUBLE, DOUBLE, DOUBLE], chunkRows);
    const cpB = new Batch(duck, await con2.createAppender('cp'), [INTEGER, DOUBLE, DOUBLE], chunkRows);
    const tripB = new Batch(duck, await con2.createAppender('trips'), [INTEGER, DOUBLE, DOUBLE, DOUBLE, DOUBLE, INTEGER], chunkRows);
    const sliceS = o.flows?.sliceS ?? 900;
    if (!(sliceS > 0)) throw new Error(`sliceS must be > 0, got ${sliceS}`);
    const until = o.flows?.until ?? Infinity;
    let nObj = 0, nPts = 0, nTrips = 0, dup = 0, fast = 0, nCp = 0;
    let bx0 = Infinity, bx1 = -Infinity, by0 = Infinity, by1 = -Infinity, tMin = Infinity, tMaxUntil = -Infinity;
    const ot = new GrowF64(), ox = new GrowF64(), oy = new GrowF64();
    const cps: number[] = [];
    const object = () => {
      const n = ot.n; if (n === 0) return;
      const P: PointTable = { n, obj: new Int32Array(n), ids: [''], t: ot.a.slice(0, n), x: ox.a.slice(0, n), y: oy.a.slice(0, n), geo: null };
      if (origin) project(P, origin);
      const tt = cleanAndSplit(P, cleanOpts);
      dup += tt.dropped.duplicates; fast += tt.dropped.speed;
      for (let i = 0; i < tt.n; i++) {
        const t = tt.t[i]!, x = tt.x[i]!, y = tt.y[i]!;
        const k = cleanB.n;
        cleanB.cols[0]![k] = nObj; cleanB.cols[1]![k] = nTrips + tt.trip[i]!; cleanB.cols[2]![k] = t; cleanB.cols[3]![k] = x; cleanB.cols[4]![k] = y;
        cleanB.next();
        if (x < bx0) bx0 = x; if (x > bx1) bx1 = x; if (y < by0) by0 = y; if (y > by1) by1 = y;
        if (t < tMin) tMin = t; if (t > tMaxUntil && t < until) tMaxUntil = t;
      }
      const ranges = tripRanges(tt);
      for (let k = 0; k < tt.nTrips; k++) {
        const a = ranges[2 * k]!, e = ranges[2 * k + 1]!;
        cps.length = 0;
        characteristicPoints(tt, a, e, cpo, cps);
        const seq = nTrips + k;
        for (const i of cps) { const j = cpB.n; cpB.cols[0]![j] = seq; cpB.cols[1]![j] = tt.x[i]; cpB.cols[2]![j] = tt.y[i]; cpB.next(); }
        nCp += cps.length;
        const j = tripB.n;
        tripB.cols[0]![j] = seq; tripB.cols[1]![j] = tt.t[a]; tripB.cols[2]![j] = tt.x[a]; tripB.cols[3]![j] = tt.y[a]; tripB.cols[4]![j] = tt.t[e - 1]; tripB.cols[5]![j] = e - a;
        tripB.next();
      }
      nTrips += tt.nTrips; nPts += tt.n; nObj++;
      ot.n = 0; ox.n = 0; oy.n = 0;
    };
    {
      const bar = hooks.progress?.(b.n, 'clean + trips (disk)');
      const res = await con.stream('SELECT id, t, x, y FROM raw ORDER BY id');
      let cur: string | null = null;
      for await (const c of chunks(res)) {
        check();
        const id = c.getColumnValues(0) as string[], t = c.getColumnValues(1) as number[], x = c.getColumnValues(2) as number[], y = c.getColumnValues(3) as number[];
        const rc = c.rowCount;
        for (let i = 0; i < rc; i++) {
          if (id[i] !== cur) { object(); cur = id[i]!; }
          ot.push(t[i]!); ox.push(x[i]!); oy.push(y[i]!);
        }
        bar?.tick(rc);
      }
      object();
      bar?.done();
      cleanB.close(); cpB.close(); tripB.close();
      await con2.run('COMMIT');
    }
    if (nPts < 2) throw new Error(`${b.file}: fewer than 2 points left after cleaning`);
    await con.run('DROP TABLE raw'); await con.run('CHECKPOINT');
    check();

    // ---- S2: trip order and sample as partition(), characteristic points of the sampled trips
    const order: number[] = [];
    {
      const res = await con.stream('SELECT seq FROM trips ORDER BY ts0, x0, y0, ts1, len, seq');
      for await (const c of chunks(res)) for (const v of c.getColumnValues(0)) order.push(v as number);
    }
    if (order.length !== nTrips) throw new Error(`out-of-core: ${order.length} trips read back, ${nTrips} written`);
    const sample = sampleTrips(order, o.partition);
    const sampled = sample.length < nTrips;
    // offsets of each (sampled) trip's characteristic points in one buffer, filled in insertion order
    const want = sampled ? new Uint8Array(nTrips) : null;
    if (want) for (const k of sample) want[k] = 1;
    const start = new Int32Array(nTrips + 1).fill(-1);
    const bx = new GrowF64(), by = new GrowF64();
    {
      const res = await con.stream('SELECT trip, x, y FROM cp');
      let last = -1;
      for await (const c of chunks(res)) {
        const tr = c.getColumnValues(0) as number[], x = c.getColumnValues(1) as number[], y = c.getColumnValues(2) as number[];
        const rc = c.rowCount;
        for (let i = 0; i < rc; i++) {
          const k = tr[i]!;
          if (k < last) throw new Error('out-of-core: DuckDB returned characteristic points out of insertion order');
          if (k !== last) { start[k] = bx.n; last = k; }
          if (want && !want[k]) continue;
          bx.push(x[i]!); by.push(y[i]!);
        }
      }
    }
    // counts per trip: difference of starts in the buffer (unsampled trips take no room)
    const cx = new Float64Array(want ? bx.n : nCp), cy = new Float64Array(cx.length);
    {
      // every trip has ≥ 1 characteristic point (its first), so every start is set
      const end = (k: number) => (k + 1 < nTrips ? start[k + 1]! : bx.n);
      let q = 0;
      for (const k of sample) {
        const a = start[k]!, e = end(k);
        for (let i = a; i < e; i++) { cx[q] = bx.a[i]!; cy[q] = by.a[i]!; q++; }
      }
      if (q !== cx.length) throw new Error(`out-of-core: ${q} characteristic points placed, ${cx.length} loaded`);
    }
    const part = partitionFromCharacteristic(cx, cy, [bx0, by0, bx1, by1], o.partition);
    hooks.log?.(`${nPts} points, ${nTrips} trips, ${part.sx.length} cells from ${cx.length} characteristic points of ${sample.length}${sampled ? ' sampled' : ''} trips`);
    check();

    // ---- S3: pass 2, nearest seed per point, streaming flow aggregation
    const t0 = o.flows?.t0 ?? (Number.isFinite(tMin) ? Math.floor(tMin / sliceS) * sliceS : 0);
    const T = Number.isFinite(tMaxUntil) ? Math.floor((tMaxUntil - t0) / sliceS) + 1 : 0;
    const N = part.sx.length;
    const agg = new FlowAggregator(N, t0, sliceS, until, o.flows?.mode ?? 'transitions');
    const nn = new Nearest(buildIndex(part.sx, part.sy), part.sx, part.sy);
    let cov = 0;
    {
      const bar = hooks.progress?.(nPts, 'assign + flows (disk)');
      const res = await con.stream('SELECT vid, trip, ts, x, y FROM clean');
      let lastTrip = -1, seen = 0;
      for await (const c of chunks(res)) {
        check();
        const vid = c.getColumnValues(0) as number[], tr = c.getColumnValues(1) as number[], t = c.getColumnValues(2) as number[], x = c.getColumnValues(3) as number[], y = c.getColumnValues(4) as number[];
        const rc = c.rowCount;
        for (let i = 0; i < rc; i++) {
          if (tr[i]! < lastTrip) throw new Error('out-of-core: DuckDB returned points out of insertion order');
          lastTrip = tr[i]!;
          const xi = x[i]!, yi = y[i]!;
          const s = nn.find(xi, yi);
          const dd = (xi - part.sx[s]!) ** 2 + (yi - part.sy[s]!) ** 2;
          if (dd > cov) cov = dd;
          agg.point(lastTrip, vid[i]!, t[i]!, s);
        }
        seen += rc;
        bar?.tick(rc);
      }
      bar?.done();
      if (seen !== nPts) throw new Error(`out-of-core: ${seen} points read back, ${nPts} written`);
    }
    part.coverageRadius = Math.max(part.coverageRadius, Math.sqrt(cov));
    const engine = o.engine ?? 'memory';
    let flows = agg.finish(T), flowsSql: FlowSeries | undefined;
    if (engine !== 'memory') {
      if ((o.flows?.mode ?? 'transitions') !== 'transitions') throw new Error('the SQL path implements transitions mode only');
      await con.run(`CREATE OR REPLACE VIEW pts AS SELECT vid, ts, x, y FROM clean${until !== Infinity ? ` WHERE ts < CAST('${until}' AS DOUBLE)` : ''}`);
      flowsSql = await flowsSqlOn(con, part, { B: bucketSize(part), t0, slice: sliceS, maxGap: o.flows?.maxGapS ?? o.clean?.maxGapS ?? 120 }, T);
      if (engine === 'duckdb') flows = flowsSql;
    }
    const dbBytes = fs.existsSync(dbFile) ? fs.statSync(dbFile).size : 0;
    return {
      report, cleaning: { n: nPts, nTrips, dropped: { duplicates: dup, speed: fast } }, geo: origin, part, flows, flowsSql,
      disk: { dbBytes, memoryLimit, sampledTrips: sample.length, characteristicPoints: cx.length },
    };
  } finally {
    con2.closeSync(); con.closeSync(); inst.closeSync();
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!d.keep) {
      for (const f of [dbFile, `${dbFile}.wal`]) fs.rmSync(f, { force: true });
      if (ownDir) fs.rmSync(dir, { recursive: true, force: true });
    }
  }
}
