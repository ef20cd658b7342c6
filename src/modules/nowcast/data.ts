// The W4C22 data layer (the competition's data format and the organisers' reference loader):
// HDF5 files of the real layout read and written with h5wasm, the timestamps/splits table, sample
// windows with the contiguity check, the reference preprocessing of special values, and the
// submission writer.
import fs from 'node:fs';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import { parse as parseCsv } from 'csv-parse/sync';
import { csvErrorDetail } from '../../core/errors.ts';
import { zipSync } from 'fflate';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { writeFileAtomic } from '../../core/io/atomic.ts';
import { CHANNELS, type ChannelName } from './config.ts';

// ------------------------------------------------------------------ constants (W4C22 files and reference loader)
export { CHANNELS, CORE_REGIONS, TRANSFER_REGIONS, type ChannelName } from './config.ts';

export interface ChannelStat { lo: number; hi: number; mu: number; sigma: number }
/** Reference clip ranges and standardisation constants of the organisers' loader. */
export const HRIT_STATS: Record<ChannelName, ChannelStat> = {
  IR_016: { lo: 0, hi: 1.02, mu: 0.06605569, sigma: 0.09920627 },
  IR_039: { lo: 0, hi: 350, mu: 273.2187, sigma: 15.98847 },
  IR_087: { lo: 0, hi: 350, mu: 268.3977, sigma: 17.49075 },
  IR_097: { lo: 0, hi: 350, mu: 246.1366, sigma: 10.81174 },
  IR_108: { lo: 0, hi: 350, mu: 270.1535, sigma: 18.49373 },
  IR_120: { lo: 0, hi: 350, mu: 268.7993, sigma: 18.42736 },
  IR_134: { lo: 0, hi: 350, mu: 250.6491, sigma: 11.70623 },
  VIS006: { lo: 0, hi: 1.02, mu: 0.06711527, sigma: 0.1101766 },
  VIS008: { lo: 0, hi: 1.2, mu: 0.08736397, sigma: 0.1326554 },
  WV_062: { lo: 0, hi: 300, mu: 232.1964, sigma: 5.531017 },
  WV_073: { lo: 0, hi: 300, mu: 248.0414, sigma: 9.495061 },
};
export const NO_DATA = -9999000;
export const UNDETECTED = -8888000;
export const HRIT_KEY = 'REFL-BT';
export const OPERA_KEY = 'rates.crop';
export const SUBMISSION_KEY = 'submission';
export type Split = 'train' | 'val' | 'test' | 'heldout';

/** Paper table names: boxi_0015 → R15, roxi_0004 → R04. */
export function regionLabel(region: string): string {
  const m = /_(\d{4})$/.exec(region);
  return m ? `R${m[1]!.slice(2)}` : region;
}

export function hritPath(root: string, year: number | string, region: string, split: Split): string {
  return path.join(root, String(year), 'HRIT', `${region}.${split}.reflbt0.ns.h5`);
}
export function operaPath(root: string, year: number | string, region: string, split: 'train' | 'val'): string {
  return path.join(root, String(year), 'OPERA', `${region}.${split}.rates.crop.h5`);
}
export function splitsCsvPath(root: string, year: number | string): string {
  return path.join(root, String(year), `timestamps_and_splits_${year}.csv`);
}

// ------------------------------------------------------------------ HDF5 (h5wasm)
let h5ready: Promise<unknown> | null = null;
/** Loads the h5wasm runtime once. */
export async function h5(): Promise<typeof h5wasm> {
  h5ready ??= h5wasm.ready;
  await h5ready;
  return h5wasm;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

/** One 4-D (N, C, H, W) dataset of a W4C file, read one image range at a time. */
export class H5Images {
  readonly shape: [number, number, number, number];
  readonly dtype: string;
  private readonly file: InstanceType<typeof h5wasm.File>;
  private readonly ds: InstanceType<typeof h5wasm.Dataset>;
  constructor(readonly fileName: string, readonly key: string, file: InstanceType<typeof h5wasm.File>, ds: InstanceType<typeof h5wasm.Dataset>) {
    this.file = file; this.ds = ds;
    this.shape = ds.shape as [number, number, number, number];
    this.dtype = String(ds.dtype);
  }
  get length(): number { return this.shape[0]; }
  /** Images [start, start+count) as a float32 (count, C, H, W) tensor (any stored float dtype is cast). */
  read(start: number, count = 1): Tensor {
    if (!(start >= 0 && count >= 1 && start + count <= this.shape[0])) {
      throw new Error(`${this.fileName} [${this.key}]: images ${start}…${start + count - 1} out of range (file holds ${this.shape[0]})`);
    }
    let raw: unknown;
    try {
      raw = this.ds.slice([[start, start + count]]);
    } catch (e) {
      if (/Float16/.test((e as Error).message)) throw new Error(`${this.fileName} [${this.key}]: float16 datasets are not supported by the h5wasm reader; convert the file to float32`);
      throw new Error(`${this.fileName} [${this.key}]: cannot read images ${start}…${start + count - 1} (truncated file?): ${(e as Error).message}`);
    }
    const [, C, H, W] = this.shape;
    const n = count * C * H * W;
    const arr = raw as ArrayLike<number>;
    if (!arr || arr.length !== n) {
      throw new Error(`${this.fileName} [${this.key}]: read ${arr?.length ?? 0} values for images ${start}…${start + count - 1}, expected ${n} (truncated file?)`);
    }
    const f32 = arr instanceof Float32Array ? arr : Float32Array.from(arr as ArrayLike<number>, Number);
    return torch.tensor(f32, { shape: [count, C, H, W], dtype: 'float32' });
  }
  close(): void { this.file.close(); }
}

export interface OpenOptions {
  /** required channel count (11 for HRIT, 1 for OPERA; the official README's 11 for OPERA is a typo) */
  channels?: number;
  /** required spatial side */
  size?: number;
  /** required image count */
  length?: number;
}

/** Opens `key` of an HDF5 file with shape checks; every error names the file and key. */
export async function openImages(file: string, key: string, o: OpenOptions = {}): Promise<H5Images> {
  const lib = await h5();
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file (expected dataset '${key}')`);
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(64);
  const got = fs.readSync(fd, head, 0, 64, 0);
  const size = fs.fstatSync(fd).size;
  fs.closeSync(fd);
  if (got < 8 || HDF5_SIGNATURE.some((b, i) => head[i] !== b)) throw new Error(`${file}: not an HDF5 file (bad signature; expected dataset '${key}')`);
  const eof = superblockEof(head.subarray(0, got));
  if (eof !== null && size < eof) throw new Error(`${file}: truncated HDF5 file (${size} bytes, the superblock records ${eof}); cannot read dataset '${key}'`);
  let f: InstanceType<typeof lib.File>;
  try {
    f = new lib.File(file, 'r');
  } catch (e) {
    throw new Error(`${file}: cannot open as HDF5 (truncated or corrupt?) while looking for '${key}': ${(e as Error).message}`);
  }
  const fail = (msg: string): never => { try { f.close(); } catch { /* ignore */ } throw new Error(`${file} [${key}]: ${msg}`); };
  let keys: string[] = [];
  try { keys = f.keys(); } catch (e) { fail(`cannot list keys (truncated file?): ${(e as Error).message}`); }
  if (!keys.includes(key)) fail(`dataset '${key}' not found; the file has [${keys.join(', ')}]`);
  const ds = f.get(key);
  if (!(ds instanceof lib.Dataset)) fail(`'${key}' is not a dataset`);
  const d = ds as InstanceType<typeof lib.Dataset>;
  const shape = d.shape;
  if (!shape || shape.length !== 4) fail(`expected a 4-D (N, C, H, W) dataset, got shape [${shape}]`);
  const dt = String(d.dtype);
  const bytesPer = { e: 2, f: 4, d: 8 }[dt.replace(/^[<>=|]/, '').slice(0, 1)] ?? 0;
  if (!/^[<>=|]?[efd]\d*$/.test(dt) || !bytesPer) fail(`expected float16/32/64 values, got dtype '${dt}'`);
  const [N, C, H, W] = shape as [number, number, number, number];
  if (o.channels !== undefined && C !== o.channels) fail(`expected ${o.channels} channel(s) on axis 1, got ${C} (shape [${shape}])`);
  if (H !== W) fail(`expected square images, got ${H}×${W}`);
  if (o.size !== undefined && H !== o.size) fail(`expected ${o.size}×${o.size} images, got ${H}×${W}`);
  if (o.length !== undefined && N !== o.length) fail(`expected ${o.length} images on axis 0, got ${N}`);
  // A truncated file often opens fine (the header is at the front): check the data extent.
  const need = N * C * H * W * bytesPer;
  if (size < need) fail(`truncated: ${N}×${C}×${H}×${W} values of ${bytesPer} bytes need ${need} bytes, file has ${size}`);
  return new H5Images(file, key, f, d);
}

/** float16 files cannot be written (or read) through h5wasm 0.10, which has no half-float accessor. */
/** End-of-file address recorded in an HDF5 superblock (versions 0–3), or null if unreadable. */
export function superblockEof(head: Uint8Array): number | null {
  if (head.length < 16) return null;
  const v = head[8]!;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const readAddr = (off: number, size: number): number | null => {
    if (off + size > head.length) return null;
    if (size === 8) { const x = dv.getBigUint64(off, true); return x === 0xffffffffffffffffn ? null : Number(x); }
    if (size === 4) return dv.getUint32(off, true);
    return null;
  };
  if (v === 0 || v === 1) {
    const O = head[13]!;
    const base = 24 + (v === 1 ? 4 : 0);
    return readAddr(base + 2 * O, O);
  }
  if (v === 2 || v === 3) {
    const O = head[9]!;
    return readAddr(12 + 2 * O, O);
  }
  return null;
}

export type H5Dtype = 'float32' | 'float64';
const H5_CODE: Record<H5Dtype, string> = { float32: '<f', float64: '<d' };

/** Writes one 4-D or 5-D float dataset to a new HDF5 file (atomic: temp file then rename). */
export async function writeDataset(file: string, key: string, data: Float32Array | Float64Array, shape: number[], dtype: H5Dtype = 'float32', gzip = 0): Promise<void> {
  const lib = await h5();
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`${file} [${key}]: ${data.length} values do not fill shape [${shape}]`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const f = new lib.File(tmp, 'w');
  try {
    const values = dtype === 'float64' ? (data instanceof Float64Array ? data : Float64Array.from(data)) : (data instanceof Float32Array ? data : Float32Array.from(data));
    f.create_dataset({
      name: key, data: values, shape, dtype: H5_CODE[dtype],
      ...(gzip > 0 ? { compression: gzip, chunks: [1, ...shape.slice(1)] } : {}),
    });
  } finally {
    f.close();
  }
  fs.renameSync(tmp, file);
}

// ------------------------------------------------------------------ preprocessing (the organisers' reference loader)
/**
 * Reference satellite preprocessing on a (…, C, …) tensor whose channel axis is `channelDim`:
 * NaN/±inf → 0, clip to [lo, hi], standardise (x − μ)/σ, per channel in that order.
 */
export function preprocessHrit(x: Tensor, channels: readonly ChannelName[], channelDim = 1, stats: Record<string, ChannelStat> = HRIT_STATS): Tensor {
  if (x.shape[channelDim] !== channels.length) {
    throw new Error(`preprocessHrit: axis ${channelDim} has ${x.shape[channelDim]} channels but ${channels.length} names were given`);
  }
  return torch.scope(() => {
    const shape = x.shape.map((_, i) => (i === channelDim ? channels.length : 1));
    const col = (f: (s: ChannelStat) => number) =>
      torch.tensor(channels.map((c) => { const s = stats[c]; if (!s) throw new Error(`preprocessHrit: no statistics for channel '${c}'`); return f(s); }), { dtype: x.dtype === 'float64' ? 'float64' : 'float32', shape });
    const clean = torch.where(x.isfinite(), x, 0);
    return clean.maximum(col((s) => s.lo)).minimum(col((s) => s.hi)).sub(col((s) => s.mu)).div(col((s) => s.sigma));
  });
}

export interface RadarOptions {
  /** rain threshold in mm/h; default 0.2 (Stage 2) */
  threshold?: number;
  /** strict `>` comparison (Stage 1 uses rate > 0) instead of `≥` */
  strict?: boolean;
}

/**
 * Radar labels and mask from raw OPERA rates (the reference loader's rules).
 * - Mask, on raw values: exactly −9 999 000 (no data), NaN, ±∞, or > 128.
 * - Label: the rain rule on the raw value, rate ≥ τ (τ = 0.2 mm/h; `strict`: rate > τ). So +∞ is rain
 *   (1), −∞ is not (0), and NaN is 0 (it satisfies no comparison; the reference maps NaN to 0).
 *   −8 888 000 ("undetected") is not masked and is 0. The non-finite values are masked as well, so
 *   under the reference convention their label never reaches a score or a loss.
 */
export function preprocessOpera(raw: Tensor, o: RadarOptions = {}): { label: Tensor; mask: Tensor } {
  const thr = o.threshold ?? 0.2;
  return torch.scope(() => {
    const mask = raw.eq(NO_DATA).logicalOr(raw.isfinite().logicalNot()).logicalOr(raw.gt(128));
    const rain = o.strict ? raw.gt(thr) : raw.ge(thr);
    return { label: rain.to(raw.dtype === 'float64' ? 'float64' : 'float32'), mask };
  });
}

// ------------------------------------------------------------------ splits table (timestamps_and_splits_<year>.csv)
export interface SplitRow {
  time: string; date_str: string; date: string;
  RATE: number; ACRR: number; DBZH: number; 'REFL-BT': number; all_vars: number;
  split: string; split_type: string;
}
export const SPLIT_COLUMNS = ['time', 'date_str', 'date', 'RATE', 'ACRR', 'DBZH', 'REFL-BT', 'all_vars', 'split', 'split_type'] as const;

/** Minutes since the epoch of a (YYYYMMDD, HHMMSS) row (UTC). */
export function rowMinutes(r: Pick<SplitRow, 'date_str' | 'time'>): number {
  const d = r.date_str, t = r.time.padStart(6, '0');
  const n = (s: string, a: number) => Number(s.slice(a, a + 2));
  const ms = Date.UTC(Number(d.slice(0, 4)), n(d, 4) - 1, n(d, 6), n(t, 0), n(t, 2), n(t, 4));
  if (!Number.isFinite(ms)) throw new Error('bad timestamp: columns \'date_str\' (YYYYMMDD) and \'time\' (HHMMSS) do not form a date');
  return ms / 60000;
}

/** Reads a timestamps/splits CSV; errors name the file, row and column. */
export function readSplits(file: string): SplitRow[] {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such splits table`);
  let recs: Record<string, string>[];
  try {
    recs = parseCsv(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (e) {
    throw new Error(`${file}: not a valid splits table (${csvErrorDetail(e)})`);
  }
  if (recs.length === 0) throw new Error(`${file}: empty splits table`);
  for (const c of ['time', 'date_str', 'all_vars', 'split', 'split_type']) {
    if (!(c in recs[0]!)) throw new Error(`${file}: missing column '${c}' (a splits table has columns time, date_str, all_vars, split, split_type)`);
  }
  return recs.map((r, i) => {
    const num = (k: string) => { const v = Number(r[k] ?? 0); if (!Number.isFinite(v)) throw new Error(`${file} row ${i + 2}: column '${k}' is not a number`); return v; };
    if (!/^\d{8}$/.test(r.date_str ?? '')) throw new Error(`${file} row ${i + 2}: column 'date_str' must be YYYYMMDD (8 digits)`);
    if (!/^\d{1,6}$/.test(r.time ?? '')) throw new Error(`${file} row ${i + 2}: column 'time' must be HHMMSS (up to 6 digits)`);
    return {
      time: r.time!.padStart(6, '0'), date_str: r.date_str!, date: r.date ?? '',
      RATE: num('RATE'), ACRR: num('ACRR'), DBZH: num('DBZH'), 'REFL-BT': num('REFL-BT'), all_vars: num('all_vars'),
      split: r.split!, split_type: r.split_type!,
    };
  });
}

export function writeSplits(file: string, rows: SplitRow[]): void {
  const lines = [SPLIT_COLUMNS.join(',')];
  for (const r of rows) lines.push(SPLIT_COLUMNS.map((c) => String(r[c])).join(','));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, lines.join('\n') + '\n');
}

const SPLIT_NAME: Record<Split, string> = { train: 'training', val: 'validation', test: 'test', heldout: 'heldout' };

/** Rows of one split in file order: sorted by (date_str, time), all_vars == 1 (the order of the images in the split's files). */
export function splitRows(rows: readonly SplitRow[], split: Split): SplitRow[] {
  return rows.filter((r) => r.split === SPLIT_NAME[split] && r.all_vars === 1)
    .sort((a, b) => (a.date_str + a.time < b.date_str + b.time ? -1 : a.date_str + a.time > b.date_str + b.time ? 1 : 0));
}

/**
 * Training windows: start i is valid only when row i+L−1 is exactly (L−1)·15 min after
 * row i (no gap), L = tIn + tOut. Returns valid start indices into the split's file.
 */
export function trainingWindows(rows: readonly SplitRow[], tIn: number, tOut: number, slotMinutes = 15): number[] {
  const L = tIn + tOut;
  const mins = rows.map(rowMinutes);
  const out: number[] = [];
  for (let i = 0; i + L - 1 < rows.length; i++) if (mins[i + L - 1]! - mins[i]! === (L - 1) * slotMinutes) out.push(i);
  return out;
}

/** Validation sequences: starts of each run of tIn `validation_in` rows; target is the next tOut rows. */
export function validationWindows(rows: readonly SplitRow[], tIn: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + tIn - 1 < rows.length; i++) {
    let ok = true;
    for (let k = 0; k < tIn; k++) if (rows[i + k]!.split_type !== 'validation_in') { ok = false; break; }
    if (ok && (i === 0 || rows[i - 1]!.split_type !== 'validation_in')) out.push(i);
  }
  return out;
}

/** Test / heldout sequences: consecutive groups of tIn input images in the file. */
export function testWindows(nImages: number, tIn: number): number[] {
  if (nImages % tIn !== 0) throw new Error(`test file holds ${nImages} images, not a multiple of ${tIn}`);
  return Array.from({ length: nImages / tIn }, (_, j) => j * tIn);
}

// ------------------------------------------------------------------ samples
export interface Sample {
  /** (C, tIn, H, W) standardised satellite input */
  x: Tensor;
  /** (1, tOut, h, w) 0/1 radar target (absent for test data) */
  y?: Tensor;
  /** (1, tOut, h, w) bool mask of no-data pixels */
  mask?: Tensor;
}

export interface RegionReader {
  hrit: H5Images;
  opera?: H5Images;
  close(): void;
}

/** Opens one region-year-split pair of files with the layout checks (11 HRIT channels, 1 OPERA channel, matching image counts). */
export async function openRegion(root: string, year: number | string, region: string, split: Split, o: { size?: number } = {}): Promise<RegionReader> {
  const hrit = await openImages(hritPath(root, year, region, split), HRIT_KEY, { channels: 11, size: o.size });
  let opera: H5Images | undefined;
  if (split === 'train' || split === 'val') {
    opera = await openImages(operaPath(root, year, region, split), OPERA_KEY, { channels: 1, length: hrit.length });
  }
  return { hrit, opera, close: () => { hrit.close(); opera?.close(); } };
}

/**
 * Reads one sample starting at image `start`: input images start…start+tIn−1 (channels selected,
 * preprocessed, laid out (C, T, H, W)) and, when radar is present, target images
 * start+tIn…start+tIn+tOut−1 as label and mask (1, tOut, h, w).
 */
export interface SampleOptions { channels?: readonly ChannelName[]; stats?: Record<string, ChannelStat>; radar?: RadarOptions }

export function readSample(r: RegionReader, start: number, tIn: number, tOut: number, o: SampleOptions = {}): Sample {
  const channels = o.channels ?? CHANNELS;
  const idx = channels.map((c) => { const k = CHANNELS.indexOf(c); if (k < 0) throw new Error(`unknown channel '${c}'; valid: ${CHANNELS.join(', ')}`); return k; });
  return torch.scope(() => {
    const raw = r.hrit.read(start, tIn); // (T, 11, H, W)
    const sel = raw.indexSelect(1, torch.tensor(idx, { dtype: 'int64' }));
    const x = preprocessHrit(sel, channels, 1, o.stats).permute([1, 0, 2, 3]).contiguous();
    if (!r.opera || start + tIn + tOut > r.opera.length) return { x };
    const rr = r.opera.read(start + tIn, tOut).permute([1, 0, 2, 3]); // (1, tOut, h, w)
    const { label, mask } = preprocessOpera(rr, o.radar);
    return { x, y: label, mask };
  });
}

// ------------------------------------------------------------------ submission (the W4C22 submission format)
/** Writes `<dir>/<year>/<region>.pred.h5` with dataset 'submission' float32 (N, 1, T, H, W) of 0/1. */
export async function writeSubmission(dir: string, year: number | string, region: string, pred: Tensor): Promise<string> {
  if (pred.ndim !== 5 || pred.shape[1] !== 1) throw new Error(`submission for ${region} ${year}: expected (N, 1, T, H, W) 0/1 values, got shape [${pred.shape}]`);
  const data = torch.scope(() => pred.gt(0.5).to('float32').contiguous().toTypedArray()) as Float32Array;
  const file = path.join(dir, String(year), `${region}.pred.h5`);
  await writeDataset(file, SUBMISSION_KEY, data, pred.shape, 'float32', 0);
  return file;
}

/** Zips every `<year>/<region>.pred.h5` under dir, keeping the year folders. */
export function zipSubmission(dir: string, zipFile: string): string[] {
  const entries: Record<string, Uint8Array> = {};
  for (const y of fs.readdirSync(dir).filter((d) => /^\d{4}$/.test(d)).sort()) {
    for (const f of fs.readdirSync(path.join(dir, y)).filter((f) => f.endsWith('.pred.h5') || f.endsWith('.pred.h5.gz')).sort()) {
      entries[`${y}/${f}`] = fs.readFileSync(path.join(dir, y, f));
    }
  }
  writeFileAtomic(zipFile, zipSync(entries, { level: 6 }));
  return Object.keys(entries);
}
