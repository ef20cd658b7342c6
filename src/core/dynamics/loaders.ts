// Readers for image data users have: MNIST IDX files (plain or .gz) and the UCI 8×8 digits CSV
// (scikit-learn's digits.csv.gz); CIFAR-10 is in cifar.ts. Errors name the file and the field.
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { csvErrorDetail } from '../errors.ts';
import { fileURLToPath } from 'node:url';
import * as torch from '../torch/index.ts';
import type { Tensor } from '../torch/index.ts';

export interface ImageSet {
  /** uint8 images [n, C, H, W] */
  images: Tensor;
  /** int64 labels [n] */
  labels: Tensor;
  classes: number;
  source: string;
}

/** The bytes of a file, gunzipped when it starts with the gzip magic. Errors name the file. */
export function readMaybeGz(path: string): Uint8Array {
  if (!existsSync(path)) throw new Error(`${path}: no such file`);
  let buf: Buffer;
  try { buf = readFileSync(path); } catch (e) { throw new Error(`${path}: cannot read (${(e as Error).message})`); }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try { return new Uint8Array(gunzipSync(buf)); } catch (e) { throw new Error(`${path}: corrupt or truncated gzip data (${(e as Error).message})`); }
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

// ------------------------------------------------------------------ IDX (MNIST) files
const IDX_TYPES: Record<number, { name: IdxType; bytes: number; read: (dv: DataView, off: number) => number }> = {
  0x08: { name: 'ubyte', bytes: 1, read: (dv, o) => dv.getUint8(o) },
  0x09: { name: 'byte', bytes: 1, read: (dv, o) => dv.getInt8(o) },
  0x0b: { name: 'short', bytes: 2, read: (dv, o) => dv.getInt16(o, false) },
  0x0c: { name: 'int', bytes: 4, read: (dv, o) => dv.getInt32(o, false) },
  0x0d: { name: 'float', bytes: 4, read: (dv, o) => dv.getFloat32(o, false) },
  0x0e: { name: 'double', bytes: 8, read: (dv, o) => dv.getFloat64(o, false) },
};
export type IdxType = 'ubyte' | 'byte' | 'short' | 'int' | 'float' | 'double';
export interface IdxArray { dims: number[]; data: Float64Array; type: IdxType }

/** Reads an IDX file (the MNIST format, any IDX data type; plain or .gz). Errors name the file and the field. */
export function readIdx(file: string): IdxArray {
  const buf = readMaybeGz(file);
  if (buf.length < 4) throw new Error(`${file}: truncated IDX file: ${buf.length} bytes, the magic number needs 4`);
  if (buf[0] !== 0 || buf[1] !== 0) throw new Error(`${file}: not an IDX file (the magic number field must start with two zero bytes)`);
  const t = IDX_TYPES[buf[2]!];
  if (!t) throw new Error(`${file}: unknown IDX data type 0x${buf[2]!.toString(16)} in the magic number field`);
  const nd = buf[3]!;
  if (nd < 1) throw new Error(`${file}: IDX magic number says 0 dimensions`);
  if (buf.length < 4 + 4 * nd) throw new Error(`${file}: truncated IDX header: ${nd} dimension sizes need ${4 + 4 * nd} bytes, file has ${buf.length}`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < nd; i++) dims.push(dv.getUint32(4 + 4 * i, false));
  const n = dims.reduce((a, b) => a * b, 1);
  const off = 4 + 4 * nd;
  const need = n * t.bytes;
  if (buf.length - off < need) {
    throw new Error(`${file}: truncated IDX file: the dims field says [${dims.join(' × ')}] (${need} bytes of ${t.name} data) but only ${buf.length - off} bytes follow the header`);
  }
  if (buf.length - off > need) throw new Error(`${file}: IDX file has ${buf.length - off - need} bytes after the data the dims field [${dims.join(' × ')}] describes`);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) data[i] = t.read(dv, off + i * t.bytes);
  return { dims, data, type: t.name };
}

/** Encodes an IDX file: unsigned bytes (rounded, clamped to 0–255) or big-endian doubles. */
export function encodeIdx(dims: readonly number[], data: ArrayLike<number>, type: 'ubyte' | 'double' = 'ubyte'): Uint8Array {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`encodeIdx: ${data.length} values do not fill dims [${dims}]`);
  const bytes = type === 'ubyte' ? 1 : 8;
  const off = 4 + 4 * dims.length;
  const out = new Uint8Array(off + n * bytes);
  out[2] = type === 'ubyte' ? 0x08 : 0x0e;
  out[3] = dims.length;
  const dv = new DataView(out.buffer);
  dims.forEach((d, i) => dv.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < n; i++) {
    if (type === 'ubyte') out[off + i] = Math.max(0, Math.min(255, Math.round(data[i]!)));
    else dv.setFloat64(off + 8 * i, data[i]!, false);
  }
  return out;
}

/** MNIST images (idx3-ubyte) and labels (idx1-ubyte), plain or gzipped. */
export function readMnist(imagesPath: string, labelsPath: string, o: { limit?: number } = {}): ImageSet {
  const im = readIdx(imagesPath);
  const lb = readIdx(labelsPath);
  if (im.dims.length !== 3) throw new Error(`${imagesPath}: MNIST images need 3 dims [n, rows, cols], got [${im.dims}]`);
  if (im.type !== 'ubyte') throw new Error(`${imagesPath}: MNIST images must be unsigned bytes (IDX type 0x08), got ${im.type}`);
  if (lb.dims.length !== 1) throw new Error(`${labelsPath}: MNIST labels need 1 dim [n], got [${lb.dims}]`);
  if (lb.dims[0] !== im.dims[0]) throw new Error(`${labelsPath}: ${lb.dims[0]} labels for ${im.dims[0]} images in ${imagesPath}`);
  const n = Math.min(im.dims[0]!, o.limit ?? Infinity);
  const [, r, c] = im.dims as [number, number, number];
  const lab = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const l = lb.data[i]!;
    if (!(Number.isInteger(l) && l >= 0 && l <= 9)) throw new Error(`${labelsPath}: label ${i} is out of range 0–9`);
    lab[i] = BigInt(l);
  }
  return {
    images: torch.tensor(Uint8Array.from(im.data.subarray(0, n * r * c)), { shape: [n, 1, r, c], dtype: 'uint8' }),
    labels: torch.tensor(lab, { shape: [n] }),
    classes: 10,
    source: `${imagesPath},${labelsPath}`,
  };
}

/** The bundled copy of the UCI 8×8 digits (1,797 images; see data/README.md). */
export const DIGITS_PATH = fileURLToPath(new URL('../../../data/digits.csv.gz', import.meta.url));

/**
 * The UCI optical digits CSV (scikit-learn's digits.csv.gz): rows of 64 pixel values 0–16 (8×8,
 * row-major) then the label 0–9, no header; plain or gzipped. Returns the raw pixel values.
 */
export function parseDigitsCsv(file: string, o: { limit?: number } = {}): { pixels: Float64Array; labels: number[] } {
  const text = new TextDecoder().decode(readMaybeGz(file));
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, relax_column_count: true, trim: true }) as string[][];
  } catch (e) {
    throw new Error(`${file}: not a valid CSV (${csvErrorDetail(e)})`);
  }
  if (rows.length === 0) throw new Error(`${file}: no rows`);
  const n = Math.min(rows.length, o.limit ?? Infinity);
  const pixels = new Float64Array(n * 64);
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rows[i]!, line = i + 1;
    if (r.length !== 65) throw new Error(`${file}: line ${line} has ${r.length} columns, expected 65 (64 pixels then the label)`);
    for (let j = 0; j < 64; j++) {
      const v = Number(r[j]);
      if (!Number.isFinite(v) || v < 0 || v > 16) throw new Error(`${file}: line ${line}, pixel column ${j + 1}: not a number in [0, 16]`);
      pixels[i * 64 + j] = v;
    }
    const lab = Number(r[64]);
    if (!Number.isInteger(lab) || lab < 0 || lab > 9) throw new Error(`${file}: line ${line}, label column 65: not a digit 0–9`);
    labels.push(lab);
  }
  return { pixels, labels };
}

/** The digits CSV as uint8 images [n, 1, 8, 8] (values 0–16) and int64 labels. */
export function readDigits(path: string = DIGITS_PATH, o: { limit?: number } = {}): ImageSet {
  const { pixels, labels } = parseDigitsCsv(path, o);
  const n = labels.length;
  pixels.forEach((v, k) => {
    if (!Number.isInteger(v)) throw new Error(`${path}: line ${Math.floor(k / 64) + 1}, pixel column ${(k % 64) + 1}: not an integer in [0, 16]`);
  });
  return {
    images: torch.tensor(Uint8Array.from(pixels), { shape: [n, 1, 8, 8], dtype: 'uint8' }),
    labels: torch.tensor(BigInt64Array.from(labels, BigInt), { shape: [n] }),
    classes: 10,
    source: path,
  };
}
