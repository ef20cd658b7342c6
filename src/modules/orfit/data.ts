// Data for the ORFit experiments: the synthetic teacher stream (spec A.8.3), the bundled UCI digits
// CSV and MNIST IDX files (the formats users have), and the rotated-digit regression task of the
// paper (A.8.1/A.8.2): inputs are images of one digit, the label is the rotation angle in degrees.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import * as torch from '../../core/torch/index.ts';
import { Rng } from '../../core/rng.ts';

type Tensor = torch.Tensor;

/** The bundled digits CSV (copied into the test fixtures, see test/fixtures/orfit/README.md). */
export const BUNDLED_DIGITS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/orfit/digits.csv.gz');

// ------------------------------------------------------------------ synthetic (A.8.3)
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

function readMaybeGzip(file: string): Buffer {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such file`);
  const raw = fs.readFileSync(file);
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      return zlib.gunzipSync(raw);
    } catch (e) {
      throw new Error(`${file}: corrupt or truncated gzip data (${(e as Error).message})`);
    }
  }
  return raw;
}

/**
 * The UCI optical digits CSV (scikit-learn's digits.csv.gz): rows of 64 pixel values 0–16 (8×8,
 * row-major) then the label 0–9, no header. Plain or gzipped. Pixels are scaled to [0, 1].
 */
export function readDigitsCsv(file: string): ImageSet {
  const text = readMaybeGzip(file).toString('utf8');
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, relax_column_count: true, trim: true }) as string[][];
  } catch (e) {
    throw new Error(`${file}: not a valid CSV (${(e as Error).message})`);
  }
  if (rows.length === 0) throw new Error(`${file}: no rows`);
  const images: Float64Array[] = [];
  const labels: number[] = [];
  rows.forEach((r, i) => {
    const line = i + 1;
    if (r.length !== 65) throw new Error(`${file}: line ${line} has ${r.length} columns, expected 65 (64 pixels then the label)`);
    const img = new Float64Array(64);
    for (let j = 0; j < 64; j++) {
      const v = Number(r[j]);
      if (!Number.isFinite(v) || v < 0 || v > 16) throw new Error(`${file}: line ${line}, pixel column ${j + 1}: '${r[j]}' is not a number in [0, 16]`);
      img[j] = v / 16;
    }
    const lab = Number(r[64]);
    if (!Number.isInteger(lab) || lab < 0 || lab > 9) throw new Error(`${file}: line ${line}, label column 65: '${r[64]}' is not a digit 0–9`);
    images.push(img);
    labels.push(lab);
  });
  return { images, labels, height: 8, width: 8, source: file };
}

// ------------------------------------------------------------------ IDX (MNIST) files
const IDX_TYPES: Record<number, { name: string; bytes: number; read: (dv: DataView, off: number) => number }> = {
  0x08: { name: 'ubyte', bytes: 1, read: (dv, o) => dv.getUint8(o) },
  0x09: { name: 'byte', bytes: 1, read: (dv, o) => dv.getInt8(o) },
  0x0b: { name: 'short', bytes: 2, read: (dv, o) => dv.getInt16(o, false) },
  0x0c: { name: 'int', bytes: 4, read: (dv, o) => dv.getInt32(o, false) },
  0x0d: { name: 'float', bytes: 4, read: (dv, o) => dv.getFloat32(o, false) },
  0x0e: { name: 'double', bytes: 8, read: (dv, o) => dv.getFloat64(o, false) },
};

export interface IdxArray { dims: number[]; data: Float64Array; type: string }

/** Reads an IDX file (the MNIST format; plain or .gz). Errors name the file and the field. */
export function readIdx(file: string): IdxArray {
  const buf = readMaybeGzip(file);
  if (buf.length < 4) throw new Error(`${file}: truncated IDX file: ${buf.length} bytes, the magic number needs 4`);
  if (buf[0] !== 0 || buf[1] !== 0) throw new Error(`${file}: not an IDX file (magic number field starts ${buf[0]}, ${buf[1]}; expected 0, 0)`);
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

/** Writes an IDX file (ubyte by default; gzipped when the name ends in .gz). */
export function writeIdx(file: string, dims: readonly number[], data: ArrayLike<number>, type: 'ubyte' | 'double' = 'ubyte'): void {
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`writeIdx: ${data.length} values do not fill dims [${dims}]`);
  const bytes = type === 'ubyte' ? 1 : 8;
  const buf = Buffer.alloc(4 + 4 * dims.length + n * bytes);
  buf[2] = type === 'ubyte' ? 0x08 : 0x0e;
  buf[3] = dims.length;
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const off = 4 + 4 * dims.length;
  for (let i = 0; i < n; i++) {
    if (type === 'ubyte') buf[off + i] = Math.max(0, Math.min(255, Math.round(data[i]!)));
    else buf.writeDoubleBE(data[i]!, off + 8 * i);
  }
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
  const text = readMaybeGzip(file).toString('utf8');
  let rows: string[][];
  try {
    rows = parse(text, { skip_empty_lines: true, trim: true }) as string[][];
  } catch (e) {
    throw new Error(`${file}: not a valid CSV (${(e as Error).message})`);
  }
  if (rows.length < 2) throw new Error(`${file}: needs a header row and at least one data row`);
  const header = rows[0]!;
  const ti = header.indexOf(target);
  if (ti < 0) throw new Error(`${file}: no column '${target}' (columns: ${header.join(', ')})`);
  const features = header.filter((_, j) => j !== ti);
  const n = rows.length - 1, d = features.length;
  const X = new Float64Array(n * d), Y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = rows[i + 1]!;
    let k = 0;
    for (let j = 0; j < header.length; j++) {
      const v = Number(r[j]);
      if (r[j] === '' || !Number.isFinite(v)) throw new Error(`${file}: line ${i + 2}, column '${header[j]}': '${r[j]}' is not a finite number`);
      if (j === ti) Y[i] = v; else X[i * d + k++] = v;
    }
  }
  return { X: torch.tensor(X, { shape: [n, d], dtype: 'float64' }), Y: torch.tensor(Y, { dtype: 'float64' }), features };
}
