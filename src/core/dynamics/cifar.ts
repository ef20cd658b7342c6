// CIFAR-10 as released (https://www.cs.toronto.edu/~kriz/cifar.html), in both layouts:
//  - cifar-10-batches-bin: data_batch_1.bin … data_batch_5.bin, test_batch.bin — records of 1 label
//    byte then 3072 pixel bytes (1024 red, 1024 green, 1024 blue, each 32×32 row-major);
//  - cifar-10-batches-py: data_batch_1 … data_batch_5, test_batch — a pickled dict with bytes keys
//    b'data' (uint8 array N×3072, the same pixel order) and b'labels' (list of ints), read with the
//    safe unpickler of core/io/pickle.ts;
// and the data sets of Cohen et al.'s edge-of-stability code (locuslab/edge-of-stability,
// src/data.py, src/cifar.py): `cifar10` and `cifar10-{1k,2k,5k,10k,20k}` = the first N training
// images; pixels /255, centred and divided by the standard deviation per feature (each pixel of
// each channel) with the statistics of the whole training set, before the subset is taken; MSE
// targets one-hot 0/1 (core/dynamics/objective.ts `supervised`). `-<c>cls` (our extension, e.g.
// cifar10-5k-2cls) keeps only the classes 0…c−1 before taking the first N.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as torch from '../torch/index.ts';
import { InputFileError, NotFoundError, UsageError } from '../errors.ts';
import type { Dataset } from './objective.ts';
import { readMaybeGz, type ImageSet } from './loaders.ts';
import { readCifar10PickleBatch } from './cifar-pickle.ts';

export const CIFAR_RECORD = 1 + 3 * 32 * 32;
const PIX = 3072;

/** Images and labels of one or more batches as raw bytes (pixels N×3072 in the release's order). */
export interface CifarBatch { pixels: Uint8Array; labels: Uint8Array; n: number }

/** The file's bytes (gunzipped when gzip). */
export function readBytes(path: string): Uint8Array {
  if (!existsSync(path)) throw new NotFoundError(`${path}: no such file`, { file: path });
  try { return readMaybeGz(path); } catch (e) { throw new InputFileError((e as Error).message, { file: path, cause: e }); }
}

/** One binary batch (data_batch_k.bin, test_batch.bin). Errors name the file and the record. */
export function readCifar10BinaryBatch(path: string, limit = Infinity): CifarBatch {
  const b = readBytes(path);
  if (b.length === 0) throw new InputFileError(`${path}: empty file (a CIFAR-10 binary batch has records of ${CIFAR_RECORD} bytes)`, { file: path });
  const whole = Math.floor(b.length / CIFAR_RECORD);
  if (b.length % CIFAR_RECORD !== 0) {
    throw new InputFileError(`${path}: record ${whole} is truncated: ${b.length % CIFAR_RECORD} of its ${CIFAR_RECORD} bytes `
      + `(1 label byte + 3072 pixel bytes) are present after ${whole} whole records`, { file: path });
  }
  const n = Math.min(whole, limit);
  const labels = new Uint8Array(n);
  const pixels = new Uint8Array(n * PIX);
  for (let i = 0; i < n; i++) {
    const l = b[i * CIFAR_RECORD]!;
    if (l > 9) throw new InputFileError(`${path}: record ${i}: the label byte is out of range 0–9 (not a CIFAR-10 binary batch?)`, { file: path });
    labels[i] = l;
    pixels.set(b.subarray(i * CIFAR_RECORD + 1, (i + 1) * CIFAR_RECORD), i * PIX);
  }
  return { pixels, labels, n };
}

/** Concatenates batches (keeping at most `limit` images). */
export function concatBatches(bs: readonly CifarBatch[]): CifarBatch {
  const n = bs.reduce((a, b) => a + b.n, 0);
  const pixels = new Uint8Array(n * PIX), labels = new Uint8Array(n);
  let off = 0;
  for (const b of bs) { pixels.set(b.pixels.subarray(0, b.n * PIX), off * PIX); labels.set(b.labels.subarray(0, b.n), off); off += b.n; }
  return { pixels, labels, n };
}

/** CIFAR-10 binary batches as an ImageSet (uint8 [n, 3, 32, 32], int64 labels). `limit` keeps the first N. */
export function readCifar10Binary(paths: string | readonly string[], o: { limit?: number } = {}): ImageSet {
  const list = typeof paths === 'string' ? [paths] : [...paths];
  if (list.length === 0) throw new UsageError('readCifar10Binary: no files given');
  const bs: CifarBatch[] = [];
  let left = o.limit ?? Infinity;
  for (const p of list) {
    if (left <= 0) break;
    const b = readCifar10BinaryBatch(p, left);
    bs.push(b); left -= b.n;
  }
  return toImageSet(concatBatches(bs), list.join(','));
}

function toImageSet(b: CifarBatch, source: string): ImageSet {
  return {
    images: torch.tensor(b.pixels, { shape: [b.n, 3, 32, 32], dtype: 'uint8' }),
    labels: torch.tensor(BigInt64Array.from(b.labels, (l) => BigInt(l)), { shape: [b.n] }),
    classes: 10,
    source,
  };
}

/** Writes CIFAR-10 binary records (for tests and for exporting subsets). */
export function encodeCifar10Binary(images: Uint8Array, labels: readonly number[]): Uint8Array {
  const n = labels.length;
  if (images.length !== n * PIX) throw new UsageError(`encodeCifar10Binary: ${images.length} pixel bytes for ${n} images (need ${n * PIX})`);
  const out = new Uint8Array(n * CIFAR_RECORD);
  for (let i = 0; i < n; i++) {
    out[i * CIFAR_RECORD] = labels[i]!;
    out.set(images.subarray(i * PIX, (i + 1) * PIX), i * CIFAR_RECORD + 1);
  }
  return out;
}

export type CifarLayout = 'bin' | 'py';

export interface CifarRelease {
  layout: CifarLayout;
  dir: string;
  /** data_batch_1 … (as many consecutive ones as exist, at most 5) */
  train: string[];
  /** test_batch, when present */
  test: string | null;
}

const isFile = (p: string) => existsSync(p) && statSync(p).isFile();

/**
 * Finds the release under `root`: root itself holding data_batch_1(.bin), or its
 * cifar-10-batches-bin / cifar-10-batches-py folder. `auto` prefers the binary layout.
 */
export function locateCifar10(root: string, layout: CifarLayout | 'auto' = 'auto'): CifarRelease {
  if (!existsSync(root)) throw new NotFoundError(`${root}: no such directory (the CIFAR-10 data root)`, { file: root });
  const ext = (l: CifarLayout) => (l === 'bin' ? '.bin' : '');
  const layouts: CifarLayout[] = layout === 'auto' ? ['bin', 'py'] : [layout];
  for (const l of layouts) {
    for (const dir of [root, join(root, l === 'bin' ? 'cifar-10-batches-bin' : 'cifar-10-batches-py')]) {
      if (!isFile(join(dir, `data_batch_1${ext(l)}`))) continue;
      const train: string[] = [];
      for (let k = 1; k <= 5 && isFile(join(dir, `data_batch_${k}${ext(l)}`)); k++) train.push(join(dir, `data_batch_${k}${ext(l)}`));
      const test = join(dir, `test_batch${ext(l)}`);
      return { layout: l, dir, train, test: isFile(test) ? test : null };
    }
  }
  const want = layouts.map((l) => `cifar-10-batches-${l}/data_batch_1${ext(l)}`).join(' or ');
  throw new NotFoundError(`${root}: no CIFAR-10 release found (looked for ${want}, or the batch files in the folder itself)`, { file: root });
}

function readBatch(l: CifarLayout, path: string, limit = Infinity): CifarBatch {
  return l === 'bin' ? readCifar10BinaryBatch(path, limit) : readCifar10PickleBatch(path, limit);
}

/** Per-feature mean and standard deviation (population, as numpy's std) of pixels/255. */
function featureStats(b: CifarBatch): { mean: Float64Array; std: Float64Array } {
  const mean = new Float64Array(PIX), m2 = new Float64Array(PIX);
  for (let i = 0; i < b.n; i++) for (let j = 0; j < PIX; j++) mean[j]! += b.pixels[i * PIX + j]!;
  for (let j = 0; j < PIX; j++) mean[j] = mean[j]! / b.n / 255;
  for (let i = 0; i < b.n; i++) for (let j = 0; j < PIX; j++) { const d = b.pixels[i * PIX + j]! / 255 - mean[j]!; m2[j]! += d * d; }
  const std = m2.map((s) => { const v = Math.sqrt(s / b.n); return v > 1e-12 ? v : 1; });
  return { mean, std };
}

/** The name's parts: `cifar10[-<N>k][-<c>cls]`. */
export function parseCifarName(name: string): { size: number | null; classes: number } {
  const m = /^cifar10(?:-(\d+)k)?(?:-(\d+)cls)?$/.exec(name);
  if (!m) throw new UsageError(`unknown CIFAR-10 data set '${name}' (cifar10, cifar10-<N>k such as cifar10-5k, optionally -<c>cls such as cifar10-5k-2cls)`);
  const classes = m[2] ? Number(m[2]) : 10;
  if (classes < 2 || classes > 10) throw new UsageError(`${name}: the class subset must keep 2–10 classes, got ${classes}`);
  return { size: m[1] ? Number(m[1]) * 1000 : null, classes };
}

export interface CifarDatasetOptions {
  layout?: CifarLayout | 'auto';
  /** keep the first N training examples (overrides the size in the name) */
  nTrain?: number;
  /** at most this many test images (omitted: all of test_batch) */
  testLimit?: number;
}

/**
 * A data set in Cohen et al.'s conventions from the release under `root` (see the header): X
 * float64 [n, 3, 32, 32] standardized with the statistics of every training image read, int64 labels
 * (classes 0…c−1), and the test batch (same transform) when present.
 */
export function cifar10Dataset(name: string, root: string, o: CifarDatasetOptions = {}): Dataset {
  const { size, classes } = parseCifarName(name);
  const rel = locateCifar10(root, o.layout ?? 'auto');
  const train = concatBatches(rel.train.map((p) => readBatch(rel.layout, p)));
  const stats = featureStats(train);
  const keepN = o.nTrain ?? size ?? Infinity;
  const tr = select(train, classes, keepN);
  if (tr.n === 0) throw new InputFileError(`${rel.dir}: no training images of classes 0–${classes - 1}`, { file: rel.dir });
  const te = rel.test ? select(readBatch(rel.layout, rel.test), classes, o.testLimit ?? Infinity) : null;
  const label = `${name}${o.nTrain !== undefined ? `-n${tr.n}` : ''}`;
  return torch.scope(() => ({
    name: label, X: standardized(tr, stats), y: labelsOf(tr), classes,
    Xtest: te && te.n > 0 ? standardized(te, stats) : undefined, ytest: te && te.n > 0 ? labelsOf(te) : undefined,
  }));
}

/** The first `limit` images whose label is < classes. */
function select(b: CifarBatch, classes: number, limit: number): CifarBatch {
  const idx: number[] = [];
  for (let i = 0; i < b.n && idx.length < limit; i++) if (b.labels[i]! < classes) idx.push(i);
  const pixels = new Uint8Array(idx.length * PIX), labels = new Uint8Array(idx.length);
  idx.forEach((i, k) => { pixels.set(b.pixels.subarray(i * PIX, (i + 1) * PIX), k * PIX); labels[k] = b.labels[i]!; });
  return { pixels, labels, n: idx.length };
}

function standardized(b: CifarBatch, s: { mean: Float64Array; std: Float64Array }) {
  const x = new Float64Array(b.n * PIX);
  for (let i = 0; i < b.n; i++) for (let j = 0; j < PIX; j++) x[i * PIX + j] = (b.pixels[i * PIX + j]! / 255 - s.mean[j]!) / s.std[j]!;
  return torch.tensor(x, { shape: [b.n, 3, 32, 32] });
}

const labelsOf = (b: CifarBatch) => torch.tensor(BigInt64Array.from(b.labels, (l) => BigInt(l)), { shape: [b.n] });
