// Readers for image data users have: CIFAR-10 binary batches, MNIST IDX files (plain or .gz) and
// the UCI 8×8 digits CSV (scikit-learn's digits.csv.gz). Errors name the file and the field.
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
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

function readMaybeGz(path: string): Uint8Array {
  let buf: Buffer;
  try { buf = readFileSync(path); } catch (e) { throw new Error(`${path}: cannot read (${(e as Error).message})`); }
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try { return new Uint8Array(gunzipSync(buf)); } catch (e) { throw new Error(`${path}: corrupt gzip stream (${(e as Error).message})`); }
  }
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

const CIFAR_RECORD = 1 + 3 * 32 * 32;

/**
 * CIFAR-10 binary batches (data_batch_1.bin …, test_batch.bin): records of 1 label byte then
 * 3072 pixel bytes (1024 red, 1024 green, 1024 blue, row-major 32×32). `limit` keeps the first N.
 */
export function readCifar10Binary(paths: string | readonly string[], o: { limit?: number } = {}): ImageSet {
  const list = typeof paths === 'string' ? [paths] : [...paths];
  if (list.length === 0) throw new Error('readCifar10Binary: no files given');
  const chunks: { lab: Uint8Array; pix: Uint8Array }[] = [];
  let total = 0;
  const limit = o.limit ?? Infinity;
  for (const p of list) {
    if (total >= limit) break;
    const b = readMaybeGz(p);
    if (b.length === 0 || b.length % CIFAR_RECORD !== 0) {
      throw new Error(`${p}: size ${b.length} bytes is not a multiple of the CIFAR-10 record size ${CIFAR_RECORD} (truncated or not a CIFAR-10 binary batch)`);
    }
    const m = Math.min(b.length / CIFAR_RECORD, limit - total);
    const lab = new Uint8Array(m);
    const pix = new Uint8Array(m * 3072);
    for (let i = 0; i < m; i++) {
      const l = b[i * CIFAR_RECORD]!;
      if (l > 9) throw new Error(`${p}: record ${i}: label ${l} is out of range 0–9`);
      lab[i] = l;
      pix.set(b.subarray(i * CIFAR_RECORD + 1, (i + 1) * CIFAR_RECORD), i * 3072);
    }
    chunks.push({ lab, pix });
    total += m;
  }
  const pix = new Uint8Array(total * 3072);
  const lab = new BigInt64Array(total);
  let off = 0;
  for (const c of chunks) {
    pix.set(c.pix, off * 3072);
    for (let i = 0; i < c.lab.length; i++) lab[off + i] = BigInt(c.lab[i]!);
    off += c.lab.length;
  }
  return {
    images: torch.tensor(pix, { shape: [total, 3, 32, 32], dtype: 'uint8' }),
    labels: torch.tensor(lab, { shape: [total] }),
    classes: 10,
    source: list.join(','),
  };
}

/** Writes CIFAR-10 binary records (for tests and for exporting subsets). */
export function encodeCifar10Binary(images: Uint8Array, labels: readonly number[]): Uint8Array {
  const n = labels.length;
  if (images.length !== n * 3072) throw new Error(`encodeCifar10Binary: ${images.length} pixel bytes for ${n} images (need ${n * 3072})`);
  const out = new Uint8Array(n * CIFAR_RECORD);
  for (let i = 0; i < n; i++) {
    out[i * CIFAR_RECORD] = labels[i]!;
    out.set(images.subarray(i * 3072, (i + 1) * 3072), i * CIFAR_RECORD + 1);
  }
  return out;
}

/** Parses an IDX file (MNIST format): magic 0x00 0x00 type ndim, big-endian dims, data. */
export function readIdx(path: string): { dtype: 'uint8'; shape: number[]; data: Uint8Array } {
  const b = readMaybeGz(path);
  if (b.length < 4) throw new Error(`${path}: too short for an IDX header (${b.length} bytes)`);
  if (b[0] !== 0 || b[1] !== 0) throw new Error(`${path}: bad IDX magic (first two bytes must be 0)`);
  if (b[2] !== 0x08) throw new Error(`${path}: IDX data type 0x${b[2]!.toString(16)} is not supported (only unsigned byte 0x08)`);
  const ndim = b[3]!;
  if (ndim < 1 || b.length < 4 + 4 * ndim) throw new Error(`${path}: IDX header declares ${ndim} dims but the file is too short`);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const shape: number[] = [];
  for (let i = 0; i < ndim; i++) shape.push(dv.getUint32(4 + 4 * i, false));
  const count = shape.reduce((a, c) => a * c, 1);
  const start = 4 + 4 * ndim;
  if (b.length - start !== count) {
    throw new Error(`${path}: IDX dims [${shape}] need ${count} data bytes but the file has ${b.length - start} (truncated?)`);
  }
  return { dtype: 'uint8', shape, data: b.subarray(start) };
}

/** Encodes a uint8 IDX file (for tests and exports). */
export function encodeIdx(shape: readonly number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * shape.length + data.length);
  out[2] = 0x08; out[3] = shape.length;
  const dv = new DataView(out.buffer);
  shape.forEach((s, i) => dv.setUint32(4 + 4 * i, s, false));
  out.set(data, 4 + 4 * shape.length);
  return out;
}

/** MNIST images (idx3-ubyte) and labels (idx1-ubyte), plain or gzipped. */
export function readMnist(imagesPath: string, labelsPath: string, o: { limit?: number } = {}): ImageSet {
  const im = readIdx(imagesPath);
  const lb = readIdx(labelsPath);
  if (im.shape.length !== 3) throw new Error(`${imagesPath}: MNIST images need 3 dims [n, rows, cols], got [${im.shape}]`);
  if (lb.shape.length !== 1) throw new Error(`${labelsPath}: MNIST labels need 1 dim [n], got [${lb.shape}]`);
  if (lb.shape[0] !== im.shape[0]) throw new Error(`${labelsPath}: ${lb.shape[0]} labels for ${im.shape[0]} images in ${imagesPath}`);
  const n = Math.min(im.shape[0]!, o.limit ?? Infinity);
  const [, r, c] = im.shape as [number, number, number];
  const lab = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const l = lb.data[i]!;
    if (l > 9) throw new Error(`${labelsPath}: label ${i} is ${l}, out of range 0–9`);
    lab[i] = BigInt(l);
  }
  return {
    images: torch.tensor(im.data.slice(0, n * r * c), { shape: [n, 1, r, c], dtype: 'uint8' }),
    labels: torch.tensor(lab, { shape: [n] }),
    classes: 10,
    source: `${imagesPath},${labelsPath}`,
  };
}

/** The bundled copy of the UCI 8×8 digits (1,797 images; see test/fixtures/dynamics/README.md). */
export const DIGITS_PATH = fileURLToPath(new URL('../../../test/fixtures/dynamics/digits.csv.gz', import.meta.url));

/** UCI optical digits CSV (64 pixel columns 0–16, then the label 0–9), plain or gzipped. */
export function readDigits(path: string = DIGITS_PATH, o: { limit?: number } = {}): ImageSet {
  const text = new TextDecoder().decode(readMaybeGz(path));
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const n = Math.min(lines.length, o.limit ?? Infinity);
  const pix = new Uint8Array(n * 64);
  const lab = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const f = lines[i]!.split(',');
    if (f.length !== 65) throw new Error(`${path}: line ${i + 1} has ${f.length} columns, expected 65 (64 pixels + label)`);
    for (let j = 0; j < 64; j++) {
      const v = Number(f[j]);
      if (!Number.isInteger(v) || v < 0 || v > 16) throw new Error(`${path}: line ${i + 1}, pixel ${j}: '${f[j]}' is not an integer in 0–16`);
      pix[i * 64 + j] = v;
    }
    const l = Number(f[64]);
    if (!Number.isInteger(l) || l < 0 || l > 9) throw new Error(`${path}: line ${i + 1}, label: '${f[64]}' is not a digit 0–9`);
    lab[i] = BigInt(l);
  }
  return {
    images: torch.tensor(pix, { shape: [n, 1, 8, 8], dtype: 'uint8' }),
    labels: torch.tensor(lab, { shape: [n] }),
    classes: 10,
    source: path,
  };
}
