// Data for the ORFit experiments: the synthetic teacher stream [ours], the bundled UCI digits CSV and
// MNIST IDX files (the formats users have), and the paper's rotated-digit regression task (on MNIST
// in the paper; on the bundled digits too, ours): inputs are images of one digit, the label is the
// rotation angle in degrees.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { csvErrorDetail } from '../../core/errors.ts';
import * as torch from '../../core/torch/index.ts';
import { Rng } from '../../core/rng.ts';
import { DIGITS_PATH, encodeIdx, parseDigitsCsv, readIdx, readMaybeGz, type IdxArray } from '../../core/dynamics/loaders.ts';

type Tensor = torch.Tensor;

/** The bundled digits CSV (the project's one copy, see data/README.md). */
export const BUNDLED_DIGITS = DIGITS_PATH;

// ------------------------------------------------------------------ synthetic [ours]
export interface SyntheticStream {
  X: Tensor; Y: Tensor; Xtest: Tensor; Ytest: Tensor; teacher: Tensor;
}
/** x ~ N(0, I_p), teacher w* ~ N(0, I/p) so labels are O(1), y = w*ᵀx + noise·N(0,1). */
export function syntheticStream(o: { p: number; K: number; nTest?: number; noise?: number; seed: number }): SyntheticStream {
  const { p, K } = o;
  if (!(Number.isInteger(p) && p > 0 && Number.isInteger(K) && K > 0)) throw new Error(`syntheticStream: p and K must be positive integers (p=${p}, K=${K})`);
  const rng = new Rng(o.seed);
  const nTest = o.nTest ?? 200;
  const teacher = torch.tensor(rng.normals(p, 0, 1 / Math.sqrt(p)), { dtype: 'float64' });
  const make = (n: number) => {
    const X = torch.tensor(rng.normals(n * p), { shape: [n, p], dtype: 'float64' });
    const noise = torch.tensor(rng.normals(n, 0, o.noise ?? 0), { dtype: 'float64' });
    const Y = torch.scope(() => X.mv(teacher).add(noise));
    noise.dispose();
    return { X, Y };
  };
  const tr = make(K), te = make(nTest);
  return { X: tr.X, Y: tr.Y, Xtest: te.X, Ytest: te.Y, teacher };
}

// ------------------------------------------------------------------ images in memory
/** Gray images, row-major, values in [0, 1]. */
export interface ImageSet {
  images: Float64Array[];
  labels: number[];
  height: number;
  width: number;
  source: string;
}

/**
 * The UCI optical digits CSV (scikit-learn's digits.csv.gz), read by the shared core reader, with
 * pixels scaled to [0, 1].
 */
export function readDigitsCsv(file: string): ImageSet {
  const { pixels, labels } = parseDigitsCsv(file);
  const images = labels.map((_, i) => Float64Array.from(pixels.subarray(i * 64, (i + 1) * 64), (v) => v / 16));
  return { images, labels, height: 8, width: 8, source: file };
}

// ------------------------------------------------------------------ IDX (MNIST) files
// The IDX reader and encoder are the shared ones of core/dynamics (any IDX type, errors naming the file).
export { readIdx, type IdxArray };

/** Writes an IDX file (ubyte by default; gzipped when the name ends in .gz). */
export function writeIdx(file: string, dims: readonly number[], data: ArrayLike<number>, type: 'ubyte' | 'double' = 'ubyte'): void {
  const buf = encodeIdx(dims, data, type);
  fs.writeFileSync(file, file.endsWith('.gz') ? zlib.gzipSync(buf) : buf);
}

/** MNIST images (IDX3, ubyte) + labels (IDX1): pixels scaled to [0, 1]. */
export function readMnist(imagesFile: string, labelsFile: string): ImageSet {
  const im = readIdx(imagesFile);
  if (im.dims.length !== 3) throw new Error(`${imagesFile}: MNIST images must be a 3-D IDX array [n, rows, cols], the dims field is [${im.dims}]`);
  const lb = readIdx(labelsFile);
  if (lb.dims.length !== 1) throw new Error(`${labelsFile}: MNIST labels must be a 1-D IDX array, the dims field is [${lb.dims}]`);
  const [n, h, w] = im.dims as [number, number, number];
  if (lb.dims[0] !== n) throw new Error(`${labelsFile}: ${lb.dims[0]} labels for ${n} images in ${imagesFile}`);
  const scale = im.type === 'ubyte' ? 255 : 1;
  const images: Float64Array[] = [];
  for (let i = 0; i < n; i++) images.push(Float64Array.from(im.data.subarray(i * h * w, (i + 1) * h * w), (v) => v / scale));
  const labels = Array.from(lb.data);
  labels.forEach((l, i) => { if (!Number.isInteger(l)) throw new Error(`${labelsFile}: label ${i} is ${l}, not an integer`); });
  return { images, labels, height: h, width: w, source: imagesFile };
}

// ------------------------------------------------------------------ image geometry
function sampleEdge(img: Float64Array, h: number, w: number, r: number, c: number): number {
  // bilinear sample at (r, c) in pixel-center coordinates with edge replication
  const rr = Math.min(Math.max(r, 0), h - 1), cc = Math.min(Math.max(c, 0), w - 1);
  const r0 = Math.floor(rr), c0 = Math.floor(cc);
  const r1 = Math.min(r0 + 1, h - 1), c1 = Math.min(c0 + 1, w - 1);
  const fr = rr - r0, fc = cc - c0;
  return (1 - fr) * ((1 - fc) * img[r0 * w + c0]! + fc * img[r0 * w + c1]!) + fr * ((1 - fc) * img[r1 * w + c0]! + fc * img[r1 * w + c1]!);
}

/**
 * Rotates a gray image counter-clockwise by `degrees` about its center, bilinear, edge
 * replication [recon: the paper does not give its rotation routine].
 */
export function rotateImage(img: Float64Array, h: number, w: number, degrees: number): Float64Array {
  const th = (degrees * Math.PI) / 180;
  const cos = Math.cos(th), sin = Math.sin(th);
  const cr = (h - 1) / 2, cc = (w - 1) / 2;
  const out = new Float64Array(h * w);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      // inverse map: output (x right, y up) rotated back by −θ
      const x = c - cc, y = cr - r;
      const xs = cos * x + sin * y, ys = -sin * x + cos * y;
      out[r * w + c] = sampleEdge(img, h, w, cr - ys, cc + xs);
    }
  }
  return out;
}

/** Bilinear resize (half-pixel centers, like align_corners=False), edge replication. */
export function resizeBilinear(img: Float64Array, h: number, w: number, H: number, W: number): Float64Array {
  if (h === H && w === W) return Float64Array.from(img);
  const out = new Float64Array(H * W);
  for (let r = 0; r < H; r++) {
    for (let c = 0; c < W; c++) out[r * W + c] = sampleEdge(img, h, w, (r + 0.5) * (h / H) - 0.5, (c + 0.5) * (w / W) - 0.5);
  }
  return out;
}

// ------------------------------------------------------------------ the rotated-digit task
export interface RotatedTaskOptions {
  digit: number;
  /** stream length K (the paper: 100) */
  stream: number;
  /** output side (28 → p = 784 as MNIST; 8 keeps the digits' size) */
  size: number;
  /** independent random rotations per held-out test image (when no separate test set) */
  testRotations: number;
  /** cap on the number of test inputs */
  maxTest?: number;
  seed: number;
}

export interface RotatedTask {
  X: Tensor; Y: Tensor; Xtest: Tensor; Ytest: Tensor;
  size: number; source: string; nTestImages: number;
}

function pickDigit(set: ImageSet, digit: number): Float64Array[] {
  const out = set.images.filter((_, i) => set.labels[i] === digit);
  if (out.length === 0) throw new Error(`${set.source}: no images of digit ${digit}`);
  return out;
}

/**
 * Builds the paper's task: K images of `digit`, each rotated by an angle uniform in [0°, 180°),
 * label = angle in degrees, the stream sorted by angle (small angles first: a deliberate shift).
 * Test inputs: the other images of the digit (or a separate test set), each rotated by its own
 * random angles.
 */
export function rotatedDigitTask(train: ImageSet, o: RotatedTaskOptions, test?: ImageSet): RotatedTask {
  const rng = new Rng(o.seed);
  const pool = pickDigit(train, o.digit);
  const order = rng.permutation(pool.length);
  if (pool.length < o.stream + (test ? 0 : 1)) {
    throw new Error(`${train.source}: only ${pool.length} images of digit ${o.digit}, the stream needs ${o.stream}${test ? '' : ' plus held-out test images'}`);
  }
  const prep = (img: Float64Array, h: number, w: number, angle: number) => rotateImage(resizeBilinear(img, h, w, o.size, o.size), o.size, o.size, angle);
  const streamIdx = order.slice(0, o.stream);
  const angles = streamIdx.map(() => rng.uniform(0, 180));
  const pairs = streamIdx.map((j, i) => ({ img: pool[j]!, angle: angles[i]! })).sort((a, b) => a.angle - b.angle);
  const p = o.size * o.size;
  const X = new Float64Array(o.stream * p);
  pairs.forEach((q, i) => X.set(prep(q.img, train.height, train.width, q.angle), i * p));
  const testImgs = test ? pickDigit(test, o.digit) : order.slice(o.stream).map((j) => pool[j]!);
  const th = test ? test.height : train.height, tw = test ? test.width : train.width;
  const reps = test ? 1 : o.testRotations;
  let nT = testImgs.length * reps;
  if (o.maxTest) nT = Math.min(nT, o.maxTest);
  const Xt = new Float64Array(nT * p);
  const Yt = new Float64Array(nT);
  for (let i = 0; i < nT; i++) {
    const a = rng.uniform(0, 180);
    Xt.set(prep(testImgs[i % testImgs.length]!, th, tw, a), i * p);
    Yt[i] = a;
  }
  return {
    X: torch.tensor(X, { shape: [o.stream, p], dtype: 'float64' }),
    Y: torch.tensor(Float64Array.from(pairs, (q) => q.angle), { dtype: 'float64' }),
    Xtest: torch.tensor(Xt, { shape: [nT, p], dtype: 'float64' }),
    Ytest: torch.tensor(Yt, { dtype: 'float64' }),
    size: o.size, source: train.source, nTestImages: testImgs.length,
  };
}

// ------------------------------------------------------------------ any numeric CSV as a stream
/** A CSV with a header row: every column numeric; `target` names the label column. */
export function readCsvStream(file: string, target: string): { X: Tensor; Y: Tensor; features: string[] } {
  const text = new TextDecoder().decode(readMaybeGz(file));
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true }) as string[][];
  } catch (e) {
    throw new Error(`${file}: not a valid CSV (${csvErrorDetail(e)})`);
  }
  if (rows.length < 2) throw new Error(`${file}: needs a header row and at least one data row`);
  const header = rows[0]!;
  const ti = header.indexOf(target);
  if (ti < 0) throw new Error(`${file}: no column '${target}' among the ${header.length} header column(s) (set the label column with --target)`);
  const features = header.filter((_, j) => j !== ti);
  const n = rows.length - 1, d = features.length;
  const X = new Float64Array(n * d), Y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i + 1]!;
    let k = 0;
    for (let j = 0; j < header.length; j++) {
      const v = Number(r[j]);
      if (r[j] === '' || !Number.isFinite(v)) throw new Error(`${file}: line ${i + 2}, column ${j + 1}${j === ti ? ` ('${target}')` : ''}: not a finite number${r[j] === '' || r[j] === undefined ? ' (empty)' : ''}`);
      if (j === ti) Y[i] = v; else X[i * d + k++] = v;
    }
  }
  return { X: torch.tensor(X, { shape: [n, d], dtype: 'float64' }), Y: torch.tensor(Y, { dtype: 'float64' }), features };
}

/**
 * Initial weights w0 for a p-parameter linear model, from a CLI value:
 * - a number: every weight set to it (scalar fill);
 * - a `.safetensors` file: the tensor `w` (what stream-csv writes in learner.safetensors), or the file's only tensor;
 * - any other file: CSV, one row of p numbers, with an optional header row; when `features` are given
 *   and the header names them, the columns are matched by name (extra columns are ignored).
 */
export function readWeights(value: string, p: number, features?: readonly string[]): Tensor {
  const v = value.trim();
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) return torch.full([p], Number(v), { dtype: 'float64' });
  let w: Float64Array;
  if (v.toLowerCase().endsWith('.safetensors')) {
    const { tensors } = torch.loadSafetensors(v);
    const names = Object.keys(tensors);
    const name = 'w' in tensors ? 'w' : names.length === 1 ? names[0]! : null;
    try {
      if (!name) throw new Error(`${v}: no tensor 'w' and more than one tensor (${names.join(', ')}): cannot tell which holds w0`);
      w = tensors[name]!.to('float64').reshape(-1).toFloat64Array();
    } finally { torch.dispose(Object.values(tensors)); }
  } else {
    const text = new TextDecoder().decode(readMaybeGz(v));
    let rows: string[][];
    try { rows = parse(text, { skip_empty_lines: true, trim: true }) as string[][]; } catch (e) { throw new Error(`${v}: not a valid CSV (${csvErrorDetail(e)})`); }
    const numeric = (r: string[]) => r.every((c) => c !== '' && Number.isFinite(Number(c)));
    const header = rows.length > 0 && !numeric(rows[0]!) ? rows[0]! : null;
    const data = header ? rows.slice(1) : rows;
    if (data.length !== 1) throw new Error(`${v}: w0 CSV needs exactly one row of numbers${header ? ' after its header' : ''}, found ${data.length}`);
    const row = data[0]!;
    const bad = row.findIndex((c) => c === '' || !Number.isFinite(Number(c)));
    if (bad >= 0) throw new Error(`${v}: line ${header ? 2 : 1}, column ${bad + 1}: not a finite number`);
    if (header && features && features.every((f) => header.includes(f))) {
      w = Float64Array.from(features, (f) => Number(row[header.indexOf(f)]));
    } else {
      w = Float64Array.from(row, Number);
    }
  }
  if (w.length !== p) throw new Error(`${v}: w0 has ${w.length} values, the model has ${p} parameters`);
  if (!w.every(Number.isFinite)) throw new Error(`${v}: w0 contains NaN or Inf`);
  return torch.tensor(w, { dtype: 'float64' });
}

/**
 * The feature columns of a CSV, by name (e.g. held-out rows for stream-csv --predict), and the target
 * column when present. Errors name the file, line and column.
 */
export function readCsvFeatures(file: string, features: readonly string[], target: string): { X: Tensor; Y: Float64Array | null } {
  const text = new TextDecoder().decode(readMaybeGz(file));
  let rows: string[][];
  try { rows = parse(text, { skip_empty_lines: true, trim: true }) as string[][]; } catch (e) { throw new Error(`${file}: not a valid CSV (${csvErrorDetail(e)})`); }
  if (rows.length < 2) throw new Error(`${file}: needs a header row and at least one data row`);
  const header = rows[0]!;
  const missing = features.filter((f) => !header.includes(f));
  if (missing.length) throw new Error(`${file}: missing feature column(s) ${missing.map((m) => `'${m}'`).join(', ')} (the training CSV's features are needed by name)`);
  const cols = features.map((f) => header.indexOf(f));
  const ti = header.indexOf(target);
  const n = rows.length - 1, d = features.length;
  const X = new Float64Array(n * d), Y = ti >= 0 ? new Float64Array(n) : null;
  const num = (i: number, j: number): number => {
    const c = rows[i + 1]![j];
    const x = Number(c);
    if (c === undefined || c === '' || !Number.isFinite(x)) throw new Error(`${file}: line ${i + 2}, column ${j + 1} ('${header[j]}'): not a finite number${c === '' || c === undefined ? ' (empty)' : ''}`);
    return x;
  };
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < d; k++) X[i * d + k] = num(i, cols[k]!);
    if (Y) Y[i] = num(i, ti);
  }
  return { X: torch.tensor(X, { shape: [n, d], dtype: 'float64' }), Y };
}
