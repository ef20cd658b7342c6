// Reading trajectory files [ours: the paper starts from its bus trajectories]: CSV (streaming csv-parse), Parquet (hyparquet, row group by row group) and SUMO
// FCD XML (streaming sax) into the canonical columnar point table. Column mapping with automatic
// detection of common names; times as epoch s/ms, seconds-from-midnight or ISO-8601; lon/lat or
// projected metres. Gzipped text files (.gz) are decompressed on the fly.
//
// Errors name the file, the line (CSV/XML) or row (Parquet) and the field, and say what was
// expected; they never quote the file's text or values (messages are stored in run records and
// served by the dashboard, and the file may be anything). With `lenient`, bad rows are skipped and
// counted by reason in the report instead; nothing is dropped silently.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import path from 'node:path';
import { parse as csvParse } from 'csv-parse';
import sax from 'sax';
import { parquetMetadataAsync, parquetRead, asyncBufferFromFile, parquetSchema } from 'hyparquet';
import type { PointTable } from './types.ts';
import { csvErrorDetail, isCsvError } from '../../core/errors.ts';
import { GrowF64, GrowI32 } from './types.ts';
import { defaults, type Coords, type Format, type TimeUnit } from './config.ts';
import { TrafficInputError } from './errors.ts';
import { crsToLonLat } from './crs.ts';
import { RELEASES, detectRelease, readRelease, type Release } from './releases.ts';

export { TrafficInputError };

export interface ColumnMap { id?: string; time?: string; lon?: string; lat?: string; x?: string; y?: string; speed?: string }

export interface IngestOptions {
  format?: Format;
  columns?: ColumnMap;
  /** how to read the time column: auto (numbers ≥ 1e11 are ms, else s; text is ISO-8601) */
  timeUnit?: TimeUnit;
  /** x/y columns: geo (lon/lat degrees), metres, or auto (degrees when all values fit) */
  coords?: Coords;
  /** skip and count bad rows instead of failing */
  lenient?: boolean;
  delimiter?: string;
  /** CSV: 'auto' = fast line splitting while no quotes are seen, else csv-parse */
  csvEngine?: 'auto' | 'csv-parse';
  /** the CRS of projected x/y (EPSG:xxxx or a proj string): taken back to lon/lat (crs.ts) */
  crs?: string;
  /** geolife: keep only points inside labels.txt intervals of these transport modes */
  modes?: string[];
  /** called with (bytes or rows done, total) now and then */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface IngestReport {
  file: string; format: string; rows: number; kept: number;
  /** reason -> count of rows that were not kept */
  skipped: Record<string, number>;
  /** the first few skip messages (lenient mode) */
  examples: string[];
  columns: Record<string, string>;
  timeUnit: string; coords: 'geo' | 'metres';
}

const CANDIDATES: Record<keyof ColumnMap, string[]> = {
  id: ['object_id', 'vehicle_id', 'id', 'vid', 'vehicle', 'taxi_id', 'trip_id', 'device_id', 'uid'],
  time: ['t', 'time', 'timestamp', 'ts', 'timestep_time', 'datetime', 'date_time', 'epoch'],
  lon: ['lon', 'lng', 'longitude', 'long'],
  lat: ['lat', 'latitude'],
  x: ['x', 'vehicle_x', 'easting', 'px'],
  y: ['y', 'vehicle_y', 'northing', 'py'],
  speed: ['speed', 'vehicle_speed', 'spd'],
};

/**
 * Resolves the column mapping against a header. A missing column is reported with the names it
 * looks for (ours or the user's mapping), never with the header's own text.
 */
export function resolveColumns(
  header: string[],
  map: ColumnMap,
  file: string,
  where: string,
): { idx: Record<string, number>; names: Record<string, string>; geo: boolean | null } {
  const lower = header.map((h) => h.trim().toLowerCase());
  const find = (k: keyof ColumnMap): number => {
    const want = map[k];
    if (want !== undefined) {
      const i = header.findIndex((h) => h.trim() === want);
      const j = i >= 0 ? i : lower.indexOf(want.toLowerCase());
      if (j < 0) throw new TrafficInputError(file, where, k, `mapped column '${want}' is missing (not among the ${header.length} header column(s))`);
      return j;
    }
    for (const c of CANDIDATES[k]) { const j = lower.indexOf(c); if (j >= 0) return j; }
    return -1;
  };
  const idx: Record<string, number> = {};
  for (const k of ['id', 'time', 'speed'] as const) idx[k] = find(k);
  const lon = find('lon'), lat = find('lat');
  let geo: boolean | null = null;
  if (map.x || map.y || lon < 0 || lat < 0) {
    idx.x = find('x'); idx.y = find('y');
  } else {
    idx.x = lon; idx.y = lat; geo = true;
  }
  if (!(map.x || map.y) && (lon >= 0 && lat >= 0)) geo = true;
  for (const k of ['id', 'time', 'x', 'y'] as const) {
    if (idx[k]! < 0) {
      const need = k === 'x' ? 'x (or lon)' : k === 'y' ? 'y (or lat)' : k;
      const looked = k === 'x' ? [...CANDIDATES.x, ...CANDIDATES.lon] : k === 'y' ? [...CANDIDATES.y, ...CANDIDATES.lat] : CANDIDATES[k];
      throw new TrafficInputError(file, where, k, `no column for '${need}' among the ${header.length} header column(s) (looked for ${looked.join(', ')}; map it with --${k === 'x' ? 'x/--lon' : k === 'y' ? 'y/--lat' : k})`);
    }
  }
  const names: Record<string, string> = {};
  for (const [k, v] of Object.entries(idx)) if (v >= 0) names[k] = header[v]!;
  return { idx, names, geo };
}

const ISO = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/** Parses one time value to seconds; returns NaN when it is not a valid time in `unit`. */
export function parseTime(v: unknown, unit: 's' | 'ms' | 'iso'): number {
  if (v instanceof Date) return v.getTime() / 1000;
  if (typeof v === 'bigint') v = Number(v);
  if (unit === 'iso') {
    if (typeof v !== 'string') return NaN;
    const s = v.trim();
    if (!ISO.test(s)) return NaN;
    // times without a zone are read as UTC so that results do not depend on the machine's zone
    const hasZone = /(?:Z|[+-]\d{2}:?\d{2})$/.test(s) && s.length > 10;
    const ms = Date.parse(hasZone ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}${s.length > 10 ? 'Z' : ''}`);
    return Number.isFinite(ms) ? ms / 1000 : NaN;
  }
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(n)) return NaN;
  return unit === 'ms' ? n / 1000 : n;
}

/** Decides the time unit from the first value (auto mode). */
export function guessTimeUnit(v: unknown): 's' | 'ms' | 'iso' {
  if (v instanceof Date) return 's';
  if (typeof v === 'number' || typeof v === 'bigint') return Math.abs(Number(v)) >= 1e11 ? 'ms' : 's';
  const s = String(v ?? '').trim();
  if (s !== '' && Number.isFinite(Number(s))) return Math.abs(Number(s)) >= 1e11 ? 'ms' : 's';
  return 'iso';
}

/**
 * Accumulates rows into columnar arrays; ids are interned. The readers talk only to `rows`, `fail`,
 * `count`, `add` and `reset`, so a subclass can send the rows elsewhere (disk.ts: into DuckDB).
 */
export class Builder {
  obj = new GrowI32(1 << 14); t = new GrowF64(1 << 14); x = new GrowF64(1 << 14); y = new GrowF64(1 << 14); sp = new GrowF64(1 << 14);
  ids: string[] = []; idIndex = new Map<string, number>(); rows = 0;
  skipped: Record<string, number> = {}; examples: string[] = [];
  hasSpeed = false;
  constructor(readonly file: string, readonly lenient: boolean) {}
  /** forget everything (a reader restarting with another engine) */
  async reset(): Promise<void> {
    this.obj = new GrowI32(1 << 14); this.t = new GrowF64(1 << 14);
    this.x = new GrowF64(1 << 14); this.y = new GrowF64(1 << 14); this.sp = new GrowF64(1 << 14);
    this.ids = []; this.idIndex = new Map(); this.rows = 0; this.skipped = {}; this.examples = []; this.hasSpeed = false;
  }
  fail(where: string, field: string | null, reason: string, detail: string): void {
    if (!this.lenient) throw new TrafficInputError(this.file, where, field, detail);
    this.skipped[reason] = (this.skipped[reason] ?? 0) + 1;
    if (this.examples.length < 5) this.examples.push(`${where}: ${field ? `field '${field}': ` : ''}${detail}`);
  }
  count(reason: string): void { this.skipped[reason] = (this.skipped[reason] ?? 0) + 1; }
  add(id: string, t: number, x: number, y: number, speed: number): void {
    let k = this.idIndex.get(id);
    if (k === undefined) { k = this.ids.length; this.ids.push(id); this.idIndex.set(id, k); }
    this.obj.push(k); this.t.push(t); this.x.push(x); this.y.push(y); this.sp.push(speed);
  }
  /** rows added so far */
  get kept(): number { return this.obj.n; }
  finish(): PointTable {
    return { n: this.obj.n, obj: this.obj.finish(), ids: this.ids, t: this.t.finish(), x: this.x.finish(), y: this.y.finish(),
      speed: this.hasSpeed ? this.sp.finish() : undefined, geo: null, source: this.file };
  }
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
}

/** Validates one row's fields and adds it (or records why not). */
function addRow(b: Builder, where: string, names: Record<string, string>, id: unknown, tv: unknown, xv: unknown, yv: unknown, sv: unknown, unit: 's' | 'ms' | 'iso', geo: boolean | null): void {
  b.rows++;
  const ids = id == null ? '' : String(id).trim();
  if (ids === '') { b.fail(where, names.id!, 'missingId', 'empty object id'); return; }
  const t = parseTime(tv, unit);
  if (!Number.isFinite(t)) { b.fail(where, names.time!, 'badTime', `bad timestamp (expected ${unit === 'iso' ? 'an ISO-8601 time' : `an epoch ${unit} number`})`); return; }
  const x = num(xv), y = num(yv);
  if (!Number.isFinite(x)) { b.fail(where, names.x!, 'badCoordinate', 'not a finite number'); return; }
  if (!Number.isFinite(y)) { b.fail(where, names.y!, 'badCoordinate', 'not a finite number'); return; }
  if (geo === true && (Math.abs(y) > 90 || Math.abs(x) > 180)) { b.fail(where, Math.abs(y) > 90 ? names.y! : names.x!, 'badCoordinate', `out of range (expected ${Math.abs(y) > 90 ? 'a latitude in [-90, 90]' : 'a longitude in [-180, 180]'})`); return; }
  let s = NaN;
  if (names.speed !== undefined && sv !== undefined && sv !== null && String(sv).trim() !== '') {
    s = num(sv);
    if (!Number.isFinite(s) || s < 0) { b.fail(where, names.speed, 'badSpeed', 'bad speed (expected a number ≥ 0)'); return; }
    b.hasSpeed = true;
  }
  b.add(ids, t, x, y, s);
}

function openText(file: string, onBytes?: (n: number) => void): NodeJS.ReadableStream {
  const raw = fs.createReadStream(file, { highWaterMark: 4 << 20 });
  if (onBytes) raw.on('data', (c) => onBytes(c.length));
  return file.endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw;
}

export function detectFormat(file: string): 'csv' | 'parquet' | 'fcd' {
  const f = file.toLowerCase().replace(/\.gz$/, '');
  if (f.endsWith('.parquet') || f.endsWith('.pq')) return 'parquet';
  if (f.endsWith('.xml')) return 'fcd';
  return 'csv';
}

/** Reads a point file into the canonical table (coordinates still as in the file; see clean.project). */
export async function ingest(file: string, o: IngestOptions = {}): Promise<{ points: PointTable; report: IngestReport; geo: boolean }> {
  if (!fs.existsSync(file)) throw new TrafficInputError(file, '', null, 'file not found');
  const b = new Builder(path.basename(file), Boolean(o.lenient));
  const { format, ...r } = await readInto(file, b, o);
  const points = b.finish();
  let firstOut: { i: number; x: number; y: number } | null = null;
  for (let i = 0; i < points.n && !firstOut; i++) {
    if (Math.abs(points.y[i]!) > 90 || Math.abs(points.x[i]!) > 180) firstOut = { i, x: points.x[i]!, y: points.y[i]! };
  }
  const geo = decideGeo(b.file, r.geo, o.crs ? 'geo' : o.coords, points.n, firstOut);
  const report: IngestReport = { file: b.file, format, rows: b.rows, kept: points.n, skipped: b.skipped, examples: b.examples, columns: r.names, timeUnit: r.unit, coords: geo ? 'geo' : 'metres' };
  return { points, report, geo };
}

/**
 * Geographic or metres: forced by --coords, decided by the column names (lon/lat), or detected from
 * the value ranges (all within lon/lat ranges: degrees); `firstOut` is the first point outside the lon/lat ranges (0-based).
 */
export function decideGeo(file: string, fromColumns: boolean | null, coords: IngestOptions['coords'], n: number, firstOut: { i: number; x: number; y: number } | null): boolean {
  let geo = fromColumns;
  if (coords === 'geo') geo = true; else if (coords === 'metres') geo = false;
  if (geo === null) geo = n > 0 && firstOut === null;
  if (geo && firstOut) throw new TrafficInputError(file, `point ${firstOut.i + 1}`, 'lon/lat', 'out of range (expected longitude in [-180, 180], latitude in [-90, 90]); use --coords metres for projected data');
  return geo;
}

export interface ReadResult { format: Format; names: Record<string, string>; unit: string; geo: boolean | null }

/** Streams a point file (or a release's folder) into a Builder (any subclass); returns the format and the column decisions. */
export async function readInto(file: string, b: Builder, o: IngestOptions = {}): Promise<ReadResult> {
  if (!fs.existsSync(file)) throw new TrafficInputError(file, '', null, 'file not found');
  if (o.crs) {
    // projected input: every point goes back to lon/lat (crs.ts) before the Builder sees it
    const toLonLat = crsToLonLat(o.crs), add = b.add.bind(b);
    b.add = (id, t, x, y, s) => { const [lon, lat] = toLonLat(x, y); add(id, t, lon, lat, s); };
    const r = await readIntoAs(file, b, { ...o, coords: 'metres' });
    return { ...r, geo: true };
  }
  return readIntoAs(file, b, o);
}

async function readIntoAs(file: string, b: Builder, o: IngestOptions): Promise<ReadResult> {
  const named = o.format && o.format !== 'auto';
  const release = named ? (RELEASES as readonly string[]).includes(o.format!) ? o.format as Release : null : detectRelease(file);
  if (release) return { format: release, ...(await readRelease(release, file, b, o)) };
  if (fs.statSync(file).isDirectory()) throw new TrafficInputError(file, '', null, 'a folder, but not one of Geolife .plt or T-Drive .txt files (give --format, or a file)');
  const format = o.format && o.format !== 'auto' ? o.format as 'csv' | 'parquet' | 'fcd' : detectFormat(file);
  let r: { names: Record<string, string>; unit: string; geo: boolean | null };
  if (format === 'csv') r = await readCsv(file, b, o);
  else if (format === 'parquet') r = await readParquet(file, b, o);
  else r = await readFcd(file, b, o);
  return { format, ...r };
}

class QuoteFound extends Error {}

/**
 * CSV reader. Engine 'auto' streams lines with a plain split (fast path, exact line numbers) as long
 * as the file has no quote characters, and restarts with csv-parse (full RFC 4180: quotes, embedded
 * delimiters and newlines) as soon as it meets one; 'csv-parse' always uses the library.
 */
async function readCsv(file: string, b: Builder, o: IngestOptions & { csvEngine?: 'auto' | 'csv-parse' }) {
  const total = fs.statSync(file).size;
  const delim = o.delimiter ?? defaults.ingest.delimiter;
  let cols: ReturnType<typeof resolveColumns> | null = null;
  let unit: 's' | 'ms' | 'iso' | null = null;
  let width = 0;
  const reset = async () => { cols = null; width = 0; unit = o.timeUnit && o.timeUnit !== 'auto' ? o.timeUnit : null; await b.reset(); };
  await reset();
  const onRecord = (row: string[], line: string) => {
    if (!cols) { cols = resolveColumns(row.map((h) => h.trim()), o.columns ?? {}, b.file, line); width = row.length; return; }
    const c = cols;
    if (row.length !== width) { b.rows++; b.fail(line, null, 'columnCount', `expected ${width} fields, got ${row.length}`); return; }
    const id = row[c.idx.id!]!.trim();
    // SUMO xml2csv writes empty timesteps as rows with only timestep_time: counted, not an error
    if (id === '' && c.names.time === 'timestep_time') { b.rows++; b.count('emptyTimestep'); return; }
    if (unit === null) unit = guessTimeUnit(row[c.idx.time!]);
    addRow(b, line, c.names, id, row[c.idx.time!], row[c.idx.x!], row[c.idx.y!], c.idx.speed! >= 0 ? row[c.idx.speed!] : undefined, unit, c.geo);
  };
  const progress = () => { let done = 0; return o.onProgress ? (n: number) => { done += n; o.onProgress!(Math.min(done, total), total); } : undefined; };
  if ((o.csvEngine ?? 'auto') === 'auto') {
    try {
      const dec = new StringDecoder('utf8');
      let rest = '', line = 0, first = true;
      const handle = (l: string) => {
        line++;
        if (l.endsWith('\r')) l = l.slice(0, -1);
        if (first) { if (l.charCodeAt(0) === 0xfeff) l = l.slice(1); first = false; }
        if (l.trim() === '') return;
        if (l.includes('"')) throw new QuoteFound();
        if (o.signal?.aborted) throw new Error('aborted');
        onRecord(l.split(delim), String(line));
      };
      for await (const chunk of openText(file, progress()) as AsyncIterable<Buffer>) {
        const text = rest + dec.write(chunk);
        let s = 0, k: number;
        while ((k = text.indexOf('\n', s)) >= 0) { handle(text.slice(s, k)); s = k + 1; }
        rest = text.slice(s);
      }
      rest += dec.end();
      if (rest !== '') handle(rest);
      if (!cols) throw new TrafficInputError(b.file, '1', null, 'empty file (a header row is required)');
      return { names: (cols as { names: Record<string, string> }).names, unit: unit ?? 's', geo: (cols as { geo: boolean | null }).geo };
    } catch (e) {
      if (!(e instanceof QuoteFound)) throw e;
      await reset();
    }
  }
  const input = openText(file, progress());
  const parser = csvParse({
    delimiter: delim, relax_column_count: true, skip_empty_lines: true, bom: true,
    skip_records_with_error: Boolean(o.lenient),
    on_skip: (err: { lines?: number; message?: string } | undefined) => {
      b.rows++;
      b.fail(`${err?.lines ?? '?'}`, null, 'malformed', `malformed CSV record: ${csvErrorDetail(err)}`);
      return undefined;
    },
    // records are handled here, synchronously, with the parser's own line count; none go downstream
    on_record: (row: string[], ctx: { lines: number }) => { onRecord(row, String(ctx.lines)); return null; },
  } as import('csv-parse').Options);
  input.pipe(parser);
  input.on('error', (e) => parser.destroy(e as Error));
  try {
    for await (const _ of parser) { if (o.signal?.aborted) throw new Error('aborted'); }
  } catch (e) {
    if (e instanceof TrafficInputError) throw e;
    const err = e as { lines?: number; code?: string };
    if (!isCsvError(e)) throw e; // a read or gunzip error: it names no content
    throw new TrafficInputError(b.file, err.lines !== undefined ? String(err.lines) : '', null, `malformed CSV: ${csvErrorDetail(err)}`);
  }
  if (!cols) throw new TrafficInputError(b.file, '1', null, 'empty file (a header row is required)');
  return { names: (cols as { names: Record<string, string> }).names, unit: unit ?? 's', geo: (cols as { geo: boolean | null }).geo };
}

async function readParquet(file: string, b: Builder, o: IngestOptions) {
  let meta, buf;
  try {
    buf = await asyncBufferFromFile(file);
    meta = await parquetMetadataAsync(buf);
  } catch (e) {
    throw new TrafficInputError(b.file, '', null, 'not a readable Parquet file (no valid Parquet footer and metadata)');
  }
  const header = parquetSchema(meta).children.map((c) => c.element.name);
  const cols = resolveColumns(header, o.columns ?? {}, b.file, 'schema');
  const want = [...new Set(Object.values(cols.names))];
  const pos = (k: string) => (cols.names[k] !== undefined ? want.indexOf(cols.names[k]!) : -1);
  const [pi, pt, px, py, ps] = [pos('id'), pos('time'), pos('x'), pos('y'), pos('speed')];
  let unit: 's' | 'ms' | 'iso' | null = o.timeUnit && o.timeUnit !== 'auto' ? o.timeUnit : null;
  const total = Number(meta.num_rows);
  let start = 0;
  for (const rg of meta.row_groups) {
    const n = Number(rg.num_rows);
    let rows: unknown[][] = [];
    await parquetRead({ file: buf, metadata: meta, columns: want, rowStart: start, rowEnd: start + n, onComplete: (r: unknown[][]) => { rows = r; } });
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      if (unit === null) unit = guessTimeUnit(row[pt]);
      addRow(b, `row ${start + i + 1}`, cols.names, row[pi], row[pt], row[px], row[py], ps >= 0 ? row[ps] : undefined, unit, cols.geo);
    }
    start += n;
    o.onProgress?.(start, total);
    if (o.signal?.aborted) throw new Error('aborted');
  }
  return { names: cols.names, unit: unit ?? 's', geo: cols.geo };
}

const FCD_OBJECTS = new Set(['vehicle', 'person', 'container']);

/** sax's reason without the names and characters it quotes ("Unmatched closing tag: <name>" → "unmatched closing tag"). */
function xmlErrorKind(e: Error): string {
  return (e.message.split('\n')[0] ?? '').replace(/[:.].*$/, '').trim().toLowerCase() || 'not well-formed';
}

async function readFcd(file: string, b: Builder, o: IngestOptions) {
  const total = fs.statSync(file).size;
  let done = 0;
  const input = openText(file, o.onProgress ? (n) => { done += n; o.onProgress!(done, total); } : undefined);
  const parser = sax.createStream(true, { trim: true, position: true });
  let time: string | null = null, sawRoot = false;
  const names = { id: 'id', time: 'time', x: 'x', y: 'y', speed: 'speed' };
  const geoOpt = o.coords === 'geo' ? true : o.coords === 'metres' ? false : null;
  let failure: Error | null = null;
  parser.on('opentag', (node) => {
    if (failure) return;
    try {
      const where = String(parser._parser.line + 1);
      if (node.name === 'fcd-export') { sawRoot = true; return; }
      if (node.name === 'timestep') { time = String(node.attributes.time ?? ''); if (time === '') { b.rows++; b.fail(where, 'time', 'badTime', 'timestep without time'); time = null; } return; }
      if (FCD_OBJECTS.has(node.name)) {
        if (time === null) { b.rows++; b.fail(where, 'time', 'badTime', `<${node.name}> outside a valid <timestep>`); return; }
        const a = node.attributes as Record<string, string>;
        for (const k of ['id', 'x', 'y'] as const) if (a[k] === undefined) { b.rows++; b.fail(where, k, 'missingField', `<${node.name}> has no '${k}' attribute`); return; }
        addRow(b, where, names, a.id, time, a.x, a.y, a.speed, 's', geoOpt);
      }
    } catch (e) { failure = e as Error; input.unpipe?.(parser as never); (input as unknown as fs.ReadStream).destroy?.(); }
  });
  parser.on('closetag', (name) => { if (name === 'timestep') time = null; });
  await new Promise<void>((resolve, reject) => {
    parser.on('error', (e) => {
      const line = parser._parser.line + 1;
      if (o.lenient) { b.rows++; b.fail(String(line), null, 'malformedXml', `malformed XML: ${xmlErrorKind(e)}`); return; }
      failure ??= new TrafficInputError(b.file, String(line), null, `malformed XML: ${xmlErrorKind(e)}`);
      (input as unknown as fs.ReadStream).destroy?.();
      reject(failure);
    });
    parser.on('end', () => resolve());
    input.on('error', (e) => reject(failure ?? e));
    input.on('close', () => { if (failure) reject(failure); });
    input.pipe(parser as unknown as NodeJS.WritableStream);
  }).catch((e: unknown) => { throw failure ?? e; });
  if (failure) throw failure;
  if (!sawRoot) throw new TrafficInputError(b.file, '1', null, 'not SUMO FCD output (no <fcd-export> root element)');
  return { names, unit: 's', geo: geoOpt };
}
