// The restoration pretext task of Z-SSMNet's self-supervised pre-training (the Models Genesis
// transformations, Zhou et al., MedIA 2021, as the paper's reference code applies them). A cube
// has 4 channels [T2W, ADC, HBV, zonal label], each a flat [Z, Y, X] Float32Array (x fastest).
// Transformations: flip (x and y together), local pixel shuffling, Bézier non-linear intensity map,
// in/out-painting; then the zonal channel is one-hot encoded (noise voxels become all-zero).
// Defaults: PAPER.ssl in config.ts.
import { Rng } from '../../core/rng.ts';
import { PAPER } from './config.ts';
import type { Prepared } from './preprocess.ts';
import { normalizeSSL, glandBox } from './preprocess.ts';

export type Shape3 = [number, number, number];
export interface Cube { channels: Float32Array[]; shape: Shape3 }

export interface SSLOptions {
  flipRate?: number;
  localRate?: number;
  nonlinearRate?: number;
  paintRate?: number;
  inpaintRate?: number;
  /** number of shuffled boxes (10,000 in the reference) */
  shuffleBoxes?: number;
  /** reproduce the reference's quirk: shuffled box contents are taken from channel 0 of the clean cube */
  referenceQuirk?: boolean;
  /** Bézier samples (100,000 in the reference) */
  bezierSamples?: number;
}

const randint = (rng: Rng, a: number, b: number) => rng.int(a, Math.max(a, b) + 1); // inclusive, like random.randint

function cloneCube(c: Cube): Cube { return { channels: c.channels.map((a) => a.slice()), shape: [...c.shape] as Shape3 }; }

/** Flips every channel of the cube along axis 0 (z), 1 (y) or 2 (x), in place. */
export function flipCube(c: Cube, axis: number): void {
  const [Z, Y, X] = c.shape;
  for (const ch of c.channels) {
    const src = ch.slice();
    for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
      const zz = axis === 0 ? Z - 1 - z : z, yy = axis === 1 ? Y - 1 - y : y, xx = axis === 2 ? X - 1 - x : x;
      ch[(z * Y + y) * X + x] = src[(zz * Y + yy) * X + xx]!;
    }
  }
}

/** Flip: while rand < p (at most 3 times) flip along a random axis. Returns the axes flipped. */
export function randomFlips(c: Cube, rng: Rng, p = PAPER.ssl.flipRate): number[] {
  const axes: number[] = [];
  let cnt = 3;
  while (cnt > 0 && rng.random() < p) { const a = rng.int(0, 3); flipCube(c, a); axes.push(a); cnt--; }
  return axes;
}

/**
 * Local pixel shuffling of one channel: `boxes` random boxes with sides U{1..⌊n/10⌋} per axis; the
 * voxels inside each box are permuted. `source` is where box contents come from (the clean channel;
 * channel 0 of the clean cube in the reference quirk).
 */
export function localPixelShuffle(ch: Float32Array, source: Float32Array, shape: Shape3, rng: Rng, boxes = PAPER.ssl.shuffleBoxes): Float32Array {
  const [Z, Y, X] = shape;
  const out = ch.slice();
  const buf: number[] = [];
  for (let b = 0; b < boxes; b++) {
    const bz = randint(rng, 1, Math.floor(Z / 10)), by = randint(rng, 1, Math.floor(Y / 10)), bx = randint(rng, 1, Math.floor(X / 10));
    const z0 = randint(rng, 0, Z - bz), y0 = randint(rng, 0, Y - by), x0 = randint(rng, 0, X - bx);
    buf.length = 0;
    for (let z = z0; z < z0 + bz; z++) for (let y = y0; y < y0 + by; y++) for (let x = x0; x < x0 + bx; x++) buf.push(source[(z * Y + y) * X + x]!);
    rng.shuffle(buf);
    let k = 0;
    for (let z = z0; z < z0 + bz; z++) for (let y = y0; y < y0 + by; y++) for (let x = x0; x < x0 + bx; x++) out[(z * Y + y) * X + x] = buf[k++]!;
  }
  return out;
}

/** Cubic Bézier through (0,0), (a,b), (c,d), (1,1), sampled at n points, ordered as the reference (t=0 at (1,1)). */
export function bezierCurve(pts: [number, number][], n: number): { xs: Float64Array; ys: Float64Array } {
  const xs = new Float64Array(n), ys = new Float64Array(n);
  const N = pts.length - 1;
  const comb = [1, 3, 3, 1];
  for (let s = 0; s < n; s++) {
    const t = n === 1 ? 0 : s / (n - 1);
    let x = 0, y = 0;
    for (let i = 0; i <= N; i++) {
      const b = comb[i]! * t ** (N - i) * (1 - t) ** i;
      x += b * pts[i]![0]; y += b * pts[i]![1];
    }
    xs[s] = x; ys[s] = y;
  }
  return { xs, ys };
}

/** np.interp: piecewise-linear through (xp, fp), xp ascending; clamps outside. */
export function interp(x: number, xp: Float64Array, fp: Float64Array): number {
  const n = xp.length;
  if (x <= xp[0]!) return fp[0]!;
  if (x >= xp[n - 1]!) return fp[n - 1]!;
  let lo = 0, hi = n - 1;
  while (hi - lo > 1) { const m = (lo + hi) >> 1; if (xp[m]! <= x) lo = m; else hi = m; }
  const d = xp[hi]! - xp[lo]!;
  return d > 0 ? fp[lo]! + (fp[hi]! - fp[lo]!) * (x - xp[lo]!) / d : fp[hi]!;
}

export interface BezierMap { xs: Float64Array; ys: Float64Array; inverted: boolean }

/** Draws a random Bézier intensity map: with p=0.5 sort only x (inverted mapping), else sort both. */
export function randomBezierMap(rng: Rng, samples = PAPER.ssl.bezierSamples, invert?: boolean): BezierMap {
  const pts: [number, number][] = [[0, 0], [rng.random(), rng.random()], [rng.random(), rng.random()], [1, 1]];
  const { xs, ys } = bezierCurve(pts, samples);
  const inverted = invert ?? rng.random() < 0.5;
  xs.sort();
  if (!inverted) ys.sort();
  return { xs, ys, inverted };
}

export function applyBezier(ch: Float32Array, m: BezierMap): Float32Array {
  return ch.map((v) => interp(v, m.xs, m.ys));
}

type Box = [number, number, number, number, number, number]; // z0, bz, y0, by, x0, bx

function fillBox(dst: Float32Array, shape: Shape3, b: Box, f: (i: number) => number): void {
  const [, Y, X] = shape;
  const [z0, bz, y0, by, x0, bx] = b;
  for (let z = z0; z < z0 + bz; z++) for (let y = y0; y < y0 + by; y++) for (let x = x0; x < x0 + bx; x++) {
    const i = (z * Y + y) * X + x;
    dst[i] = f(i);
  }
}

function clampBox(shape: Shape3, sides: number[], starts: number[]): Box {
  const out: number[] = [];
  for (let a = 0; a < 3; a++) {
    const n = shape[a]!;
    const s = Math.max(1, Math.min(sides[a]!, n));
    const p = Math.max(0, Math.min(starts[a]!, n - s));
    out.push(p, s);
  }
  return out as Box;
}

/** In-painting: up to 5 boxes (while rand < 0.95), sides U{⌊n/6⌋..⌊n/3⌋}, >= 3 voxels from the border, U(0,1) noise. */
export function inPaint(ch: Float32Array, shape: Shape3, rng: Rng): Float32Array {
  const out = ch.slice();
  let cnt = 5;
  while (cnt > 0 && rng.random() < 0.95) {
    const sides = shape.map((n) => randint(rng, Math.floor(n / 6), Math.floor(n / 3)));
    const starts = shape.map((n, a) => randint(rng, 3, n - sides[a]! - 3));
    fillBox(out, shape, clampBox(shape, sides, starts), () => rng.random());
    cnt--;
  }
  return out;
}

/** Out-painting: noise everywhere, original restored in one box of side n − U{⌊3n/7⌋..⌊4n/7⌋}, plus up to 4 more. */
export function outPaint(ch: Float32Array, shape: Shape3, rng: Rng): Float32Array {
  const out = new Float32Array(ch.length);
  for (let i = 0; i < out.length; i++) out[i] = rng.random();
  const restore = () => {
    const sides = shape.map((n) => n - randint(rng, Math.floor((3 * n) / 7), Math.floor((4 * n) / 7)));
    const starts = shape.map((n, a) => randint(rng, 3, n - sides[a]! - 3));
    fillBox(out, shape, clampBox(shape, sides, starts), (i) => ch[i]!);
  };
  restore();
  let cnt = 4;
  while (cnt > 0 && rng.random() < 0.95) { restore(); cnt--; }
  return out;
}

/** One-hot of a zonal channel over {0, 1, 2} by exact equality (anything else → all zero). */
export function oneHotZones(z: Float32Array): [Float32Array, Float32Array, Float32Array] {
  const o: [Float32Array, Float32Array, Float32Array] = [new Float32Array(z.length), new Float32Array(z.length), new Float32Array(z.length)];
  for (let i = 0; i < z.length; i++) { const v = z[i]!; if (v === 0 || v === 1 || v === 2) o[v]![i] = 1; }
  return o;
}

export interface SSLSample {
  /** corrupted input, 6 channels [T2W, ADC, HBV, bg, PZ, TZ] */
  x: Float32Array[];
  /** clean target, 3 channels [T2W, ADC, HBV] */
  y: Float32Array[];
  shape: Shape3;
  applied: { flips: number[]; shuffled: boolean[]; nonlinear: boolean[]; painted: ('in' | 'out' | null)[] };
}

/** Builds one (corrupted, clean) pair from a 4-channel cube: flip, local shuffle, non-linear map, painting, in that order. */
export function makeSSLSample(cube0: Cube, rng: Rng, o: SSLOptions = {}): SSLSample {
  const D = PAPER.ssl;
  const cube = cloneCube(cube0);
  const flips = randomFlips(cube, rng, o.flipRate ?? D.flipRate);
  const clean = cube.channels;
  let x: Float32Array[] = clean.map((a) => a.slice() as Float32Array);
  const shuffled: boolean[] = [], nonlinear: boolean[] = [], painted: ('in' | 'out' | null)[] = [];
  x = x.map((ch, c) => {
    const on = rng.random() < (o.localRate ?? D.localRate);
    shuffled.push(on);
    return on ? localPixelShuffle(ch, (o.referenceQuirk ?? D.referenceQuirk) ? clean[0]! : clean[c]!, cube.shape, rng, o.shuffleBoxes ?? D.shuffleBoxes) : ch;
  });
  x = x.map((ch, c) => {
    const on = c < 3 && rng.random() < (o.nonlinearRate ?? D.nonlinearRate);
    nonlinear.push(on);
    return on ? applyBezier(ch, randomBezierMap(rng, o.bezierSamples ?? D.bezierSamples)) : ch;
  });
  x = x.map((ch) => {
    if (!(rng.random() < (o.paintRate ?? D.paintRate))) { painted.push(null); return ch; }
    const inp = rng.random() < (o.inpaintRate ?? D.inpaintRate);
    painted.push(inp ? 'in' : 'out');
    return inp ? inPaint(ch, cube.shape, rng) : outPaint(ch, cube.shape, rng);
  });
  const zones = oneHotZones(x[3]!);
  return { x: [x[0]!, x[1]!, x[2]!, ...zones], y: [clean[0]!, clean[1]!, clean[2]!], shape: cube.shape, applied: { flips, shuffled, nonlinear, painted } };
}

/**
 * Random SSL cubes from a prepared case: the ROI is the gland box grown by `margin` voxels; each
 * cube has size `size` [Z, Y, X] (zero-padded when the ROI is smaller) with channels
 * [T2W, ADC, HBV, zones] in SSL normalisation.
 */
export function sslCubes(c: Prepared, count: number, size: Shape3, rng: Rng, margin = 50): Cube[] {
  const imgs = normalizeSSL(c);
  const [z0, z1, y0, y1, x0, x1] = glandBox(c, margin);
  const [, Y, X] = c.shape;
  const src = [...imgs, Float32Array.from(c.zones)];
  const cubes: Cube[] = [];
  for (let n = 0; n < count; n++) {
    const start = [[z0, z1], [y0, y1], [x0, x1]].map(([a, b], i) => (b! - a! > size[i]! ? rng.int(a!, b! - size[i]! + 1) : a!));
    const chans = src.map((ch) => {
      const out = new Float32Array(size[0] * size[1] * size[2]);
      for (let z = 0; z < size[0]; z++) for (let y = 0; y < size[1]; y++) for (let x = 0; x < size[2]; x++) {
        const zz = start[0]! + z, yy = start[1]! + y, xx = start[2]! + x;
        if (zz < z1 && yy < y1 && xx < x1) out[(z * size[1] + y) * size[2] + x] = ch[(zz * Y + yy) * X + xx]!;
      }
      return out;
    });
    cubes.push({ channels: chans, shape: [...size] as Shape3 });
  }
  return cubes;
}
