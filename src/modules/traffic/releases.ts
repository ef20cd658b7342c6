// Readers for the public trajectory releases as shipped [ours: the paper's bus trajectories are not
// public], each an async generator of points that reads its files as a stream (csv-parse over a file
// stream, so a file is never held whole; a directory is walked lazily, one file at a time):
//   porto    ECML/PKDD 15 taxi trips (Kaggle train.csv/test.csv): TRIP_ID, CALL_TYPE, ORIGIN_CALL,
//            ORIGIN_STAND, TAXI_ID, TIMESTAMP (unix s, trip start), DAY_TYPE, MISSING_DATA, POLYLINE
//            (a JSON list of [lon, lat], one every 15 s). One object per TRIP_ID: the release is a
//            set of trips, and a taxi's movements between trips are not recorded.
//   geolife  Microsoft Geolife 1.3: Data/<user>/Trajectory/<yyyymmddhhmmss>.plt, six header lines
//            then `lat,lon,0,altitude_ft,days_since_1899-12-30,date,time` (GMT); one object per .plt
//            (`<user>/<file>`); optional Data/<user>/labels.txt (`Start Time<TAB>End Time<TAB>Mode`,
//            yyyy/mm/dd hh:mm:ss) to keep only points inside intervals of the given modes.
//   tdrive   Microsoft T-Drive: <taxi_id>.txt, `taxi_id,yyyy-mm-dd hh:mm:ss,longitude,latitude`, no
//            header; times are Beijing wall-clock times, read as if UTC (time-of-day slices stay local).
// Errors name the file (relative to the input folder) and the line/record and field, never content.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { parse as csvParse } from 'csv-parse';
import { csvErrorDetail, isCsvError } from '../../core/errors.ts';
import { TrafficInputError } from './errors.ts';
import type { Builder, IngestOptions } from './ingest.ts';

export const RELEASES = ['porto', 'geolife', 'tdrive'] as const;
export type Release = (typeof RELEASES)[number];

export interface ReleasePoint { id: string; t: number; lon: number; lat: number }

export interface ReleaseOptions {
  /** a bad record: throw (the default) or count it; `file` is the name errors use */
  fail?: (file: string, where: string, field: string | null, reason: string, detail: string) => void;
  /** a record that is not an error but gives no point (an empty POLYLINE, an unlabelled point) */
  count?: (reason: string) => void;
  /** bytes read from disk (compressed bytes for .gz) */
  onBytes?: (n: number) => void;
  /** geolife: keep only points inside labels.txt intervals of these transport modes */
  modes?: string[];
  signal?: AbortSignal;
}

const thrower = (file: string, where: string, field: string | null, _reason: string, detail: string): never => {
  throw new TrafficInputError(file, where, field, detail);
};

/** Records of a delimited text file, streamed through csv-parse, with the line each one ends on. */
async function* records(file: string, o: ReleaseOptions, shown: string): AsyncGenerator<{ rec: string[]; line: number; n: number }> {
  const raw = fs.createReadStream(file, { highWaterMark: 64 << 10 });
  if (o.onBytes) raw.on('data', (c) => o.onBytes!(c.length));
  const input = file.endsWith('.gz') ? raw.pipe(zlib.createGunzip()) : raw;
  const parser = csvParse({ relax_column_count: true, skip_empty_lines: true, bom: true, info: true, trim: false });
  input.on('error', (e: Error) => parser.destroy(e));
  input.pipe(parser);
  try {
    for await (const r of parser as AsyncIterable<{ record: string[]; info: { lines: number; records: number } }>) {
      if (o.signal?.aborted) throw new Error('aborted');
      yield { rec: r.record, line: r.info.lines, n: r.info.records };
    }
  } catch (e) {
    if (!isCsvError(e)) throw e;
    const err = e as { lines?: number };
    throw new TrafficInputError(shown, err.lines !== undefined ? String(err.lines) : '', null, `malformed CSV: ${csvErrorDetail(err)}`);
  } finally {
    raw.destroy();
  }
}

const PORTO = ['TRIP_ID', 'TAXI_ID', 'TIMESTAMP', 'POLYLINE'] as const;

/** Porto taxi trips: one point per POLYLINE pair at TIMESTAMP + 15 s · k. */
export async function* portoPoints(file: string, o: ReleaseOptions = {}): AsyncGenerator<ReleasePoint> {
  const shown = path.basename(file), fail = o.fail ?? thrower;
  if (fs.statSync(file).isDirectory()) throw new TrafficInputError(shown, '', null, 'a folder: the Porto release is one CSV file (train.csv or test.csv)');
  let col: Record<(typeof PORTO)[number], number> | null = null;
  for await (const { rec, line, n } of records(file, o, shown)) {
    if (!col) {
      const h = rec.map((s) => s.trim().toUpperCase());
      const c = Object.fromEntries(PORTO.map((k) => [k, h.indexOf(k)])) as Record<(typeof PORTO)[number], number>;
      const missing = PORTO.filter((k) => c[k] < 0);
      if (missing.length) throw new TrafficInputError(shown, String(line), missing[0]!, `not the Porto taxi layout: no ${missing.join(', ')} column in the header`);
      col = c;
      continue;
    }
    const where = `${line} (record ${n - 1})`;
    const id = (rec[col.TRIP_ID] ?? '').trim(), ts = Number(rec[col.TIMESTAMP]), poly = rec[col.POLYLINE];
    if (id === '') { fail(shown, where, 'TRIP_ID', 'missingId', 'empty TRIP_ID'); continue; }
    if (!(Number.isInteger(ts) && ts >= 0)) { fail(shown, where, 'TIMESTAMP', 'badTime', 'not a unix time in seconds'); continue; }
    let pts: unknown;
    try { pts = JSON.parse(poly ?? ''); } catch { pts = null; }
    if (!Array.isArray(pts)) { fail(shown, where, 'POLYLINE', 'badPolyline', 'not valid JSON (expected a list of [lon, lat] pairs)'); continue; }
    const bad = pts.findIndex((p) => !(Array.isArray(p) && p.length === 2 && Number.isFinite(p[0]) && Number.isFinite(p[1])
      && Math.abs(p[0]) <= 180 && Math.abs(p[1]) <= 90));
    if (bad >= 0) { fail(shown, where, 'POLYLINE', 'badPolyline', `pair ${bad + 1} is not a [lon, lat] pair of degrees`); continue; }
    if (pts.length === 0) { o.count?.('emptyPolyline'); continue; }
    for (let k = 0; k < pts.length; k++) { const p = pts[k] as [number, number]; yield { id, t: ts + 15 * k, lon: p[0], lat: p[1] }; }
  }
  if (!col) throw new TrafficInputError(shown, '1', null, 'empty file (the Porto header row is required)');
}

/** Files under a folder (or the file itself) with the given extension, sorted, found lazily. */
async function* walk(root: string, ext: string): AsyncGenerator<string> {
  if (!fs.statSync(root).isDirectory()) { yield root; return; }
  const entries = (await fs.promises.readdir(root, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const p = path.join(root, e.name);
    if (e.isDirectory()) yield* walk(p, ext);
    else if (e.isFile() && e.name.toLowerCase().endsWith(ext)) yield p;
  }
}

/** The name errors use: the path below the input folder's parent (Data/010/Trajectory/x.plt), or the file name. */
function shownName(root: string, file: string): string {
  return root === file ? path.basename(file) : path.relative(path.dirname(path.resolve(root)), path.resolve(file)).split(path.sep).join('/');
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/, TIME = /^(\d{2}):(\d{2}):(\d{2})$/;

/** yyyy-mm-dd and hh:mm:ss as UTC seconds; NaN unless both are valid (no day overflow). */
export function utcSeconds(date: string, time: string): number {
  const d = DATE.exec(date.trim()), t = TIME.exec(time.trim());
  if (!d || !t) return NaN;
  const [y, mo, da, h, mi, s] = [d[1], d[2], d[3], t[1], t[2], t[3]].map(Number) as [number, number, number, number, number, number];
  const ms = Date.UTC(y, mo - 1, da, h, mi, s), back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== da || h > 23 || mi > 59 || s > 59) return NaN;
  return ms / 1000;
}

/** Geolife labels.txt: [start, end, mode] intervals (UTC seconds). */
export async function geolifeLabels(file: string, shown: string, o: ReleaseOptions = {}): Promise<{ start: number; end: number; mode: string }[]> {
  const out: { start: number; end: number; mode: string }[] = [];
  const fail = o.fail ?? thrower;
  let first = true;
  for await (const { rec, line } of records(file, {}, shown)) {
    const f = rec.length === 1 ? rec[0]!.split('\t') : rec;
    if (first) { first = false; if (/start/i.test(f[0] ?? '')) continue; }
    const [a, b] = [f[0], f[1]].map((s) => { const [dd, tt] = (s ?? '').trim().split(/\s+/); return utcSeconds((dd ?? '').replace(/\//g, '-'), tt ?? ''); }) as [number, number];
    if (f.length !== 3 || !Number.isFinite(a) || !Number.isFinite(b)) { fail(shown, String(line), f.length !== 3 ? null : 'Start Time/End Time', 'badLabel', 'expected Start Time<TAB>End Time<TAB>Mode with yyyy/mm/dd hh:mm:ss times'); continue; }
    out.push({ start: a, end: b, mode: f[2]!.trim().toLowerCase() });
  }
  return out;
}

/** Geolife .plt trajectories (a .plt file, or any folder above them). */
export async function* geolifePoints(root: string, o: ReleaseOptions = {}): AsyncGenerator<ReleasePoint> {
  const fail = o.fail ?? thrower, modes = o.modes?.map((m) => m.toLowerCase());
  type Labels = { dir: string; labels: { start: number; end: number; mode: string }[] | null };
  let labelsOf = null as Labels | null;
  for await (const file of walk(root, '.plt')) {
    const shown = shownName(root, file);
    const trajDir = path.dirname(file), userDir = path.basename(trajDir).toLowerCase() === 'trajectory' ? path.dirname(trajDir) : trajDir;
    const id = `${path.basename(userDir)}/${path.basename(file, path.extname(file))}`;
    if (modes && labelsOf?.dir !== userDir) {
      const lf = path.join(userDir, 'labels.txt');
      labelsOf = { dir: userDir, labels: fs.existsSync(lf) ? await geolifeLabels(lf, shownName(root, lf), o) : null };
    }
    for await (const { rec, line } of records(file, o, shown)) {
      if (line <= 6) {
        if (line === 1 && rec.join(',').trim() !== 'Geolife trajectory') throw new TrafficInputError(shown, '1', null, "not a Geolife .plt file (expected the header line 'Geolife trajectory')");
        if (line === 6 && rec.length !== 1) throw new TrafficInputError(shown, '6', null, 'a data record where the sixth header line belongs: a .plt file has six header lines');
        continue;
      }
      if (rec.length !== 7) { fail(shown, String(line), null, 'columnCount', `expected 7 fields (lat, lon, 0, altitude, days, date, time), got ${rec.length}`); continue; }
      const lat = Number(rec[0]), lon = Number(rec[1]);
      if (!(Number.isFinite(lat) && Math.abs(lat) <= 90)) { fail(shown, String(line), 'latitude', 'badCoordinate', 'not a latitude in [-90, 90]'); continue; }
      if (!(Number.isFinite(lon) && Math.abs(lon) <= 180)) { fail(shown, String(line), 'longitude', 'badCoordinate', 'not a longitude in [-180, 180]'); continue; }
      const t = utcSeconds(rec[5]!, rec[6]!);
      if (!Number.isFinite(t)) { fail(shown, String(line), 'date/time', 'badTime', 'expected yyyy-mm-dd and hh:mm:ss'); continue; }
      if (modes) {
        const lab = labelsOf?.labels?.find((l) => t >= l.start && t <= l.end);
        if (!lab || !modes.includes(lab.mode)) { o.count?.(labelsOf?.labels ? 'otherMode' : 'noLabels'); continue; }
      }
      yield { id, t, lon, lat };
    }
  }
}

const TDRIVE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/;

/** T-Drive taxi logs (one <taxi_id>.txt, or the folder of them). */
export async function* tdrivePoints(root: string, o: ReleaseOptions = {}): AsyncGenerator<ReleasePoint> {
  const fail = o.fail ?? thrower;
  for await (const file of walk(root, '.txt')) {
    const shown = shownName(root, file);
    for await (const { rec, line } of records(file, o, shown)) {
      const where = String(line);
      if (rec.length !== 4) { fail(shown, where, null, 'columnCount', `expected 4 fields (taxi id, date time, longitude, latitude), got ${rec.length}`); continue; }
      const id = rec[0]!.trim();
      if (id === '') { fail(shown, where, 'taxi id', 'missingId', 'empty taxi id'); continue; }
      const m = TDRIVE_TIME.exec(rec[1]!.trim()), t = m ? utcSeconds(m[1]!, m[2]!) : NaN;
      if (!Number.isFinite(t)) { fail(shown, where, 'date time', 'badTime', 'expected yyyy-mm-dd hh:mm:ss'); continue; }
      const lon = Number(rec[2]), lat = Number(rec[3]);
      if (!(rec[2]!.trim() !== '' && Number.isFinite(lon) && Math.abs(lon) <= 180)) { fail(shown, where, 'longitude', 'badCoordinate', 'not a longitude in [-180, 180]'); continue; }
      if (!(rec[3]!.trim() !== '' && Number.isFinite(lat) && Math.abs(lat) <= 90)) { fail(shown, where, 'latitude', 'badCoordinate', 'not a latitude in [-90, 90]'); continue; }
      yield { id, t, lon, lat };
    }
  }
}

/** The points of a release by name. */
export function releasePoints(format: Release, file: string, o: ReleaseOptions = {}): AsyncGenerator<ReleasePoint> {
  return format === 'porto' ? portoPoints(file, o) : format === 'geolife' ? geolifePoints(file, o) : tdrivePoints(file, o);
}

/** The first line of a (possibly gzipped) text file, at most 64 KB read. */
function firstLine(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(64 << 10), n = fs.readSync(fd, buf, 0, buf.length, 0);
    let text: string;
    try {
      text = file.endsWith('.gz') ? zlib.gunzipSync(buf.subarray(0, n), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).toString('utf8') : buf.subarray(0, n).toString('utf8');
    } catch { return ''; }
    return (text.replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '');
  } finally { fs.closeSync(fd); }
}

const TDRIVE_LINE = /^[^,]+,\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},[^,]*,[^,]*$/;

/** A release recognised from the path and the first line, or null (then the generic readers apply). */
export function detectRelease(file: string): Release | null {
  const st = fs.statSync(file);
  if (st.isDirectory()) {
    const stack = [file];
    while (stack.length) {
      const d = stack.pop()!;
      for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? 1 : -1))) {
        if (e.isDirectory()) stack.push(path.join(d, e.name));
        else if (e.name.toLowerCase().endsWith('.plt')) return 'geolife';
        else if (e.name.toLowerCase().endsWith('.txt') && e.name !== 'labels.txt') {
          if (TDRIVE_LINE.test(firstLine(path.join(d, e.name)).trim())) return 'tdrive';
        }
      }
    }
    return null;
  }
  const f = file.toLowerCase().replace(/\.gz$/, '');
  if (f.endsWith('.plt')) return 'geolife';
  const head = firstLine(file);
  if (f.endsWith('.txt') && TDRIVE_LINE.test(head.trim())) return 'tdrive';
  const cols = head.split(',').map((s) => s.trim().replace(/^"|"$/g, '').toUpperCase());
  if (cols.includes('TRIP_ID') && cols.includes('POLYLINE')) return 'porto';
  return null;
}

/** Bytes of the input: a file's size, or the sum over a folder's files (for --storage auto). */
export function inputBytes(file: string): number {
  const st = fs.statSync(file);
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of fs.readdirSync(file, { withFileTypes: true })) {
    const p = path.join(file, e.name);
    n += e.isDirectory() ? inputBytes(p) : e.isFile() ? fs.statSync(p).size : 0;
  }
  return n;
}

/** The column names a release's report shows. */
const RELEASE_COLUMNS: Record<Release, Record<string, string>> = {
  porto: { id: 'TRIP_ID', time: 'TIMESTAMP + 15 s · k', x: 'POLYLINE lon', y: 'POLYLINE lat' },
  geolife: { id: '<user>/<trajectory>', time: 'date time (GMT)', x: 'longitude', y: 'latitude' },
  tdrive: { id: 'taxi id', time: 'date time', x: 'longitude', y: 'latitude' },
};

/** Streams a release into a Builder (ingest.ts or disk.ts's), with the Builder's lenient counting. */
export async function readRelease(format: Release, file: string, b: Builder, o: Pick<IngestOptions, 'lenient' | 'modes' | 'onProgress' | 'signal'>) {
  const total = o.onProgress ? inputBytes(file) : 0;
  let done = 0;
  const gen = releasePoints(format, file, {
    fail: (f, where, field, reason, detail) => {
      b.rows++;
      if (!o.lenient) throw new TrafficInputError(f, where, field, detail);
      b.fail(`${f}:${where}`, field, reason, detail);
    },
    count: (r) => { b.rows++; b.count(r); },
    onBytes: o.onProgress ? (n) => { done += n; o.onProgress!(Math.min(done, total), total); } : undefined,
    modes: o.modes, signal: o.signal,
  });
  for await (const p of gen) { b.rows++; b.add(p.id, p.t, p.lon, p.lat, NaN); }
  return { names: RELEASE_COLUMNS[format], unit: 's', geo: true as boolean | null };
}
