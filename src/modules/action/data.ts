// Data for the action module: a seeded synthetic generator of skeleton (+ rendered RGB) clips with
// known classes, the diagnostic "blob" task where position matters, pose augmentation, RGB frame
// folders (PNG/JPEG), dataset assembly from NTU/Penn folders, and batching into tensors.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import type { Tensor, Dtype } from '../../core/torch/index.ts';
import { Rng } from '../../core/rng.ts';
import { readImage } from '../../core/io/image.ts';
import { NTU_BONES, NTU_JOINTS, clipToPose, listNtu, readSkeleton, readIgnoreList, type NtuProtocol } from './ntu.ts';
import { PENN_CLASSES, PENN_JOINTS, listPenn, pennToPose } from './penn.ts';
import { parseJson } from '../../core/errors.ts';

export interface ActionSample {
  name: string;
  label: number;
  /** [T·(J·M)·C] */
  pose: Float32Array;
  /** [3·T·H·W] in [0, 1] */
  video?: Float32Array;
}

export interface ActionDataset {
  name: string;
  classNames: string[];
  frames: number;
  joints: number;
  bodies: number;
  coordDim: number;
  /** RGB side when samples carry video, else null */
  imgSize: number | null;
  train: ActionSample[];
  test: ActionSample[];
}

// ------------------------------------------------------------------ synthetic skeleton actions

export const SYNTH_CLASSES = ['wave', 'clap', 'squat', 'jump', 'kick', 'turn', 'sit-down', 'stand-up'] as const;

/** Rest pose of the 25 NTU joints, metres, y up, facing +z (the camera). */
const REST: [number, number, number][] = [
  [0, 1.0, 0], [0, 1.25, 0], [0, 1.52, 0], [0, 1.66, 0],
  [-0.18, 1.42, 0], [-0.22, 1.16, 0], [-0.24, 0.92, 0], [-0.24, 0.85, 0],
  [0.18, 1.42, 0], [0.22, 1.16, 0], [0.24, 0.92, 0], [0.24, 0.85, 0],
  [-0.1, 0.97, 0], [-0.1, 0.54, 0], [-0.1, 0.1, 0], [-0.1, 0.04, 0.1],
  [0.1, 0.97, 0], [0.1, 0.54, 0], [0.1, 0.1, 0], [0.1, 0.04, 0.1],
  [0, 1.45, 0], [-0.24, 0.78, 0], [-0.21, 0.86, 0.03], [0.24, 0.78, 0], [0.21, 0.86, 0.03],
];

export interface SynthOptions {
  frames: number;
  /** number of classes, taken in SYNTH_CLASSES order (2..8) */
  numClasses: number;
  /** view rotation about the vertical axis, ± degrees */
  viewDeg: number;
  /** joint noise σ in metres */
  noise: number;
  /** render stick-figure RGB clips of this side (0 = pose only) */
  imgSize: number;
}
export const SYNTH_DEFAULTS: SynthOptions = { frames: 16, numClasses: 6, viewDeg: 45, noise: 0.01, imgSize: 0 };

type V3 = [number, number, number];
const smooth = (x: number) => x * x * (3 - 2 * x);

/** Camera-space joints [T·25·3] of one synthetic clip of class `label` (body-centred, not normalised). */
export function synthSkeleton(label: number, rng: Rng, o: SynthOptions): Float32Array {
  const T = o.frames, J = NTU_JOINTS;
  const amp = rng.uniform(0.7, 1.3), size = rng.uniform(0.85, 1.15), phase = rng.uniform(0, 2 * Math.PI);
  const speed = rng.uniform(0.75, 1.3), view = (rng.uniform(-1, 1) * o.viewDeg * Math.PI) / 180;
  const sway = rng.uniform(0, 0.03);
  const out = new Float32Array(T * J * 3);
  for (let t = 0; t < T; t++) {
    const u = T > 1 ? t / (T - 1) : 0;
    const P: V3[] = REST.map((p) => [p[0], p[1], p[2]]);
    const setArm = (side: 1 | -1, elbow: V3, wrist: V3) => {
      const [e, w, h, tip, th] = side > 0 ? [9, 10, 11, 23, 24] : [5, 6, 7, 21, 22];
      const d: V3 = [wrist[0] - elbow[0], wrist[1] - elbow[1], wrist[2] - elbow[2]];
      const n = Math.hypot(...d) || 1;
      P[e!] = elbow; P[w!] = wrist;
      P[h!] = [wrist[0] + 0.07 * d[0] / n, wrist[1] + 0.07 * d[1] / n, wrist[2] + 0.07 * d[2] / n];
      P[tip!] = [wrist[0] + 0.14 * d[0] / n, wrist[1] + 0.14 * d[1] / n, wrist[2] + 0.14 * d[2] / n];
      P[th!] = [wrist[0] + 0.06 * d[0] / n, wrist[1] + 0.06 * d[1] / n, wrist[2] + 0.06 * d[2] / n + 0.03];
    };
    const cls = SYNTH_CLASSES[label];
    const th = 2 * Math.PI * speed * u + phase;
    const lower = (d: number, kneeFwd: number) => {
      // upper body and hips go down by d, knees move forward; ankles and feet stay on the floor
      for (let j = 0; j < J; j++) if (![14, 15, 18, 19, 13, 17].includes(j)) P[j]![1] -= d;
      for (const k of [13, 17]) { P[k]![1] -= d * 0.5; P[k]![2] += kneeFwd; }
    };
    switch (cls) {
      case 'wave': {
        const a = 0.7 * amp * Math.sin(2 * th);
        const e: V3 = [0.34, 1.55, 0.05];
        setArm(1, e, [e[0] + 0.26 * Math.sin(a), e[1] + 0.26 * Math.cos(a), e[2]]);
        break;
      }
      case 'clap': {
        const open = 0.03 + 0.2 * amp * (1 + Math.cos(2 * th)) / 2;
        for (const s of [1, -1] as const) setArm(s, [s * 0.2, 1.25, 0.2], [s * open, 1.3, 0.42]);
        break;
      }
      case 'squat': lower(0.35 * amp * (1 - Math.cos(2 * th)) / 2, 0.25 * amp * (1 - Math.cos(2 * th)) / 2); break;
      case 'jump': { const h = 0.25 * amp * Math.max(0, Math.sin(2 * th)); for (const p of P) p[1] += h; break; }
      case 'kick': {
        const b = 1.1 * amp * Math.max(0, Math.sin(2 * th));
        const hip = P[16]!;
        for (const k of [17, 18, 19]) {
          const dy = P[k]![1] - hip[1], dz = P[k]![2] - hip[2];
          P[k] = [P[k]![0], hip[1] + dy * Math.cos(b) - dz * Math.sin(b), hip[2] - dy * Math.sin(b) + dz * Math.cos(b)];
        }
        break;
      }
      case 'turn': {
        const g = amp * Math.PI * 0.8 * u * (phase > Math.PI ? 1 : -1);
        for (const p of P) { const x = p[0], z = p[2]; p[0] = x * Math.cos(g) + z * Math.sin(g); p[2] = -x * Math.sin(g) + z * Math.cos(g); }
        break;
      }
      case 'sit-down': lower(0.4 * amp * smooth(u), 0.3 * amp * smooth(u)); break;
      case 'stand-up': lower(0.4 * amp * (1 - smooth(u)), 0.3 * amp * (1 - smooth(u))); break;
      default: throw new Error(`synthetic action: label ${label} out of range 0..${SYNTH_CLASSES.length - 1}`);
    }
    // small idle sway of the whole body, body size, view rotation, noise
    const sx = sway * Math.sin(2 * Math.PI * u + phase);
    for (let j = 0; j < J; j++) {
      const p = P[j]!;
      const x = (p[0] + sx) * size, y = p[1] * size, z = p[2] * size;
      const k = (t * J + j) * 3;
      out[k] = x * Math.cos(view) + z * Math.sin(view) + rng.normal(0, o.noise);
      out[k + 1] = y + rng.normal(0, o.noise);
      out[k + 2] = -x * Math.sin(view) + z * Math.cos(view) + rng.normal(0, o.noise);
    }
  }
  return out;
}

/** Normalises body-centred joints like clipToPose: centre on the first frame's spine base, scale by torso length. */
export function normalizePose(j: Float32Array, frames: number, joints = NTU_JOINTS): Float32Array {
  const out = new Float32Array(j.length);
  const [cx, cy, cz] = [j[0]!, j[1]!, j[2]!];
  let torso = 0;
  for (let t = 0; t < frames; t++) {
    const a = t * joints * 3, b = (t * joints + 20) * 3;
    torso += Math.hypot(j[b]! - j[a]!, j[b + 1]! - j[a + 1]!, j[b + 2]! - j[a + 2]!);
  }
  const s = torso > 1e-6 ? frames / torso : 1;
  for (let k = 0; k < j.length; k += 3) { out[k] = (j[k]! - cx) * s; out[k + 1] = (j[k + 1]! - cy) * s; out[k + 2] = (j[k + 2]! - cz) * s; }
  return out;
}

const LIMB_COLOUR: [number, number, number][] = [[1, 1, 1], [1, 0.3, 0.3], [0.3, 1, 0.3], [0.3, 0.5, 1], [1, 1, 0.3]];
function boneColour(a: number, b: number): [number, number, number] {
  const part = (j: number) => ([4, 5, 6, 7, 21, 22].includes(j) ? 1 : [8, 9, 10, 11, 23, 24].includes(j) ? 2 : [12, 13, 14, 15].includes(j) ? 3 : [16, 17, 18, 19].includes(j) ? 4 : 0);
  return LIMB_COLOUR[Math.max(part(a), part(b))]!;
}

/** Rasterises stick figures (orthographic x–y view) on noisy backgrounds: [3·T·S·S] in [0, 1]. */
export function renderStickFigures(joints: Float32Array, frames: number, size: number, rng: Rng, noise = 0.25): Float32Array {
  const J = NTU_JOINTS, S = size;
  const out = new Float32Array(3 * frames * S * S);
  const k = (0.8 * S) / 1.9;
  for (let t = 0; t < frames; t++) {
    for (let c = 0; c < 3; c++) for (let i = 0; i < S * S; i++) out[(c * frames + t) * S * S + i] = rng.random() * noise;
    const px = (j: number): [number, number] => [S / 2 + joints[(t * J + j) * 3]! * k, S * 0.92 - joints[(t * J + j) * 3 + 1]! * k];
    for (const [a, b] of NTU_BONES) {
      const [x0, y0] = px(a), [x1, y1] = px(b);
      const col = boneColour(a, b);
      const n = Math.max(2, Math.ceil(2 * Math.hypot(x1 - x0, y1 - y0)));
      for (let s = 0; s <= n; s++) {
        const x = Math.round(x0 + (x1 - x0) * s / n), y = Math.round(y0 + (y1 - y0) * s / n);
        if (x < 0 || y < 0 || x >= S || y >= S) continue;
        for (let c = 0; c < 3; c++) out[(c * frames + t) * S * S + y * S + x] = col[c]!;
      }
    }
  }
  return out;
}

/** Synthetic dataset: balanced classes, train and test drawn from different seeds. */
export function makeSynthetic(nTrain: number, nTest: number, seed: number, o: Partial<SynthOptions> = {}): ActionDataset {
  const opt = { ...SYNTH_DEFAULTS, ...o };
  if (opt.numClasses < 2 || opt.numClasses > SYNTH_CLASSES.length) throw new Error(`synthetic: numClasses must be in 2..${SYNTH_CLASSES.length}, got ${opt.numClasses}`);
  const make = (n: number, rng: Rng, tag: string): ActionSample[] => Array.from({ length: n }, (_, i) => {
    const label = i % opt.numClasses;
    const raw = synthSkeleton(label, rng, opt);
    const s: ActionSample = { name: `${tag}${i}-${SYNTH_CLASSES[label]}`, label, pose: normalizePose(raw, opt.frames) };
    if (opt.imgSize > 0) s.video = renderStickFigures(raw, opt.frames, opt.imgSize, rng);
    return s;
  });
  const root = new Rng(seed);
  return {
    name: 'synthetic', classNames: SYNTH_CLASSES.slice(0, opt.numClasses), frames: opt.frames, joints: NTU_JOINTS, bodies: 1, coordDim: 3,
    imgSize: opt.imgSize > 0 ? opt.imgSize : null, train: make(nTrain, root.fork(1), 'train'), test: make(nTest, root.fork(2), 'test'),
  };
}

// ------------------------------------------------------------------ diagnostic: position matters

export interface BlobOptions { frames: number; size: number; sigma: number; step: number; noise: number; joints: number }
export const BLOB_DEFAULTS: BlobOptions = { frames: 4, size: 16, sigma: 1.2, step: 1.5, noise: 0.3, joints: 5 };

/**
 * A small bright Gaussian blob moves up, down, left or right (the class) through the middle of the
 * RGB volume, between the points of a coarse reference grid; backgrounds are noise and the pose
 * channel is empty. A model that only reads the grid points sees the blob's faint tails; a model
 * whose offsets move the sampling points onto the blob sees it whole (spec B.7.2).
 */
export function makeBlobTask(nTrain: number, nTest: number, seed: number, o: Partial<BlobOptions> = {}): ActionDataset {
  const opt = { ...BLOB_DEFAULTS, ...o };
  const { frames: T, size: S } = opt;
  const dirs: [number, number][] = [[-1, 0], [1, 0], [0, -1], [0, 1]]; // (dy, dx): up, down, left, right
  const make = (n: number, rng: Rng, tag: string): ActionSample[] => Array.from({ length: n }, (_, i) => {
    const label = i % 4;
    const [dy, dx] = dirs[label]!;
    const video = new Float32Array(3 * T * S * S);
    const cy0 = (S - 1) / 2 + rng.uniform(-0.5, 0.5), cx0 = (S - 1) / 2 + rng.uniform(-0.5, 0.5);
    for (let t = 0; t < T; t++) {
      const r = (t - (T - 1) / 2) * opt.step;
      const cy = cy0 + dy * r, cx = cx0 + dx * r;
      for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) {
        const g = Math.exp(-((y - cy) ** 2 + (x - cx) ** 2) / (2 * opt.sigma ** 2));
        for (let c = 0; c < 3; c++) video[(c * T + t) * S * S + y * S + x] = Math.min(1, g + rng.random() * opt.noise);
      }
    }
    return { name: `${tag}${i}`, label, pose: new Float32Array(T * opt.joints * 3), video };
  });
  const root = new Rng(seed);
  return {
    name: 'blob', classNames: ['up', 'down', 'left', 'right'], frames: T, joints: opt.joints, bodies: 1, coordDim: 3, imgSize: S,
    train: make(nTrain, root.fork(1), 'train'), test: make(nTest, root.fork(2), 'test'),
  };
}

// ------------------------------------------------------------------ augmentation (spec B.4)

export interface AugmentOptions { rotateDeg: number; scale: [number, number]; jitter: number; crop: number }
export const AUGMENT_DEFAULTS: AugmentOptions = { rotateDeg: 30, scale: [0.9, 1.1], jitter: 0.01, crop: 0.9 };

/**
 * Pose augmentation: rotation about the vertical axis, scale, joint jitter (σ in units of the
 * normalised body, i.e. torso lengths ≈ body height/3), temporal crop of ≥ `crop` of the clip
 * resampled back to T frames. Returns a new array [T·J·3].
 */
export function augmentPose(pose: Float32Array, frames: number, rng: Rng, o: Partial<AugmentOptions> = {}): Float32Array {
  const a = { ...AUGMENT_DEFAULTS, ...o };
  const J = pose.length / (frames * 3);
  const g = (rng.uniform(-1, 1) * a.rotateDeg * Math.PI) / 180, s = rng.uniform(a.scale[0], a.scale[1]);
  const len = Math.max(1, Math.round(frames * rng.uniform(a.crop, 1)));
  const start = rng.int(0, frames - len + 1);
  const out = new Float32Array(pose.length);
  const cs = Math.cos(g), sn = Math.sin(g);
  for (let t = 0; t < frames; t++) {
    const src = start + Math.min(len - 1, Math.floor((t * len) / frames));
    for (let j = 0; j < J; j++) {
      const i = (src * J + j) * 3, k = (t * J + j) * 3;
      const x = pose[i]!, y = pose[i + 1]!, z = pose[i + 2]!;
      out[k] = s * (x * cs + z * sn) + rng.normal(0, a.jitter * 3);
      out[k + 1] = s * y + rng.normal(0, a.jitter * 3);
      out[k + 2] = s * (-x * sn + z * cs) + rng.normal(0, a.jitter * 3);
    }
  }
  return out;
}

// ------------------------------------------------------------------ RGB frame folders

const IMG_RE = /\.(png|jpe?g)$/i;

/**
 * Reads a folder of frames (PNG/JPEG, sorted by name with numbers compared numerically), picks
 * `frames` frames evenly, resizes to size×size: [3·T·size·size] in [0, 1].
 */
export async function readFrameFolder(dir: string, frames: number, size: number): Promise<Float32Array> {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: no such frame folder`);
  const files = fs.readdirSync(dir).filter((f) => IMG_RE.test(f)).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  if (files.length === 0) throw new Error(`${dir}: no PNG/JPEG frames in the folder`);
  const out = new Float32Array(3 * frames * size * size);
  for (let t = 0; t < frames; t++) {
    const f = files[Math.min(files.length - 1, Math.floor(((t + 0.5) * files.length) / frames))]!;
    const img = await readImage(path.join(dir, f), { channels: 3, width: size, height: size });
    const d = img.toTypedArray() as Float32Array;
    img.dispose();
    for (let c = 0; c < 3; c++) out.set(d.subarray(c * size * size, (c + 1) * size * size), (c * frames + t) * size * size);
  }
  return out;
}

// ------------------------------------------------------------------ real datasets

export interface LoadOptions {
  frames: number;
  /** NTU: bodies kept per clip */
  bodies: number;
  protocol: NtuProtocol;
  ignoreList?: string;
  /** read RGB frames (pose-only when false) */
  rgb: boolean;
  /** folder with one sub-folder of frames per sample name (NTU; Penn defaults to <root>/frames) */
  framesDir?: string;
  imgSize: number;
  /** at most this many samples per split (0 = all) */
  limit: number;
}

/** Loads `ntu:<dir>` (`.skeleton` files) or `penn:<dir>` (labels/*.mat or *.json, frames/NNNN/). */
export async function loadDataset(spec: string, o: LoadOptions): Promise<ActionDataset> {
  const [kind, ...rest] = spec.split(':');
  const dir = rest.join(':');
  if (!dir) throw new Error(`data '${spec}': expected synthetic, ntu:<dir> or penn:<dir>`);
  const withVideo = async (s: ActionSample, sub: string) => {
    if (o.rgb && o.framesDir) s.video = await readFrameFolder(path.join(o.framesDir, sub), o.frames, o.imgSize);
    return s;
  };
  const cap = <T>(xs: T[]) => (o.limit > 0 ? xs.slice(0, o.limit) : xs);
  if (kind === 'ntu') {
    const ignore = o.ignoreList ? readIgnoreList(o.ignoreList) : new Set<string>();
    const entries = listNtu(dir, o.protocol, ignore);
    const train: ActionSample[] = [], test: ActionSample[] = [];
    for (const e of [...cap(entries.filter((x) => x.split === 'train')), ...cap(entries.filter((x) => x.split === 'test'))]) {
      const p = clipToPose(readSkeleton(e.file), o.frames, o.bodies);
      const s = await withVideo({ name: e.meta.name, label: e.meta.label, pose: p.data }, e.meta.name);
      (e.split === 'train' ? train : test).push(s);
    }
    const nc = o.protocol.startsWith('ntu60') ? 60 : 120;
    return {
      name: `ntu:${o.protocol}`, classNames: Array.from({ length: nc }, (_, i) => `A${String(i + 1).padStart(3, '0')}`),
      frames: o.frames, joints: NTU_JOINTS, bodies: o.bodies, coordDim: 3, imgSize: o.rgb && o.framesDir ? o.imgSize : null, train, test,
    };
  }
  if (kind === 'penn') {
    const entries = listPenn(dir);
    const train: ActionSample[] = [], test: ActionSample[] = [];
    for (const e of [...cap(entries.filter((x) => x.train)), ...cap(entries.filter((x) => !x.train))]) {
      const s: ActionSample = { name: e.id, label: e.label, pose: pennToPose(e, o.frames) };
      const fd = o.framesDir ? path.join(o.framesDir, e.id) : path.join(dir, 'frames', e.id);
      if (o.rgb && fs.existsSync(fd)) s.video = await readFrameFolder(fd, o.frames, o.imgSize);
      (e.train ? train : test).push(s);
    }
    const hasVideo = [...train, ...test].every((s) => s.video);
    if (!hasVideo) for (const s of [...train, ...test]) delete s.video;
    return { name: 'penn', classNames: [...PENN_CLASSES], frames: o.frames, joints: PENN_JOINTS, bodies: 1, coordDim: 3, imgSize: hasVideo ? o.imgSize : null, train, test };
  }
  if (kind === 'json') {
    const train: ActionSample[] = [], test: ActionSample[] = [];
    let shape: [number, number, number] | null = null;
    let maxLabel = 0;
    for (const split of ['train', 'test'] as const) {
      const sd = path.join(dir, split);
      if (!fs.existsSync(sd)) throw new Error(`${dir}: no '${split}' folder (json:<dir> expects ${split}/*.json records {keypoint: [M][T][V][C], label})`);
      for (const f of cap(fs.readdirSync(sd).filter((x) => x.endsWith('.json')).sort())) {
        const r = readKeypointRecord(path.join(sd, f), o.frames);
        if (shape && (shape[0] !== r.bodies || shape[1] !== r.joints || shape[2] !== r.coordDim)) {
          throw new Error(`${path.join(sd, f)}: field 'keypoint' has M=${r.bodies}, V=${r.joints}, C=${r.coordDim} but earlier records have M=${shape[0]}, V=${shape[1]}, C=${shape[2]}`);
        }
        shape = [r.bodies, r.joints, r.coordDim];
        maxLabel = Math.max(maxLabel, r.label);
        (split === 'train' ? train : test).push({ name: f.replace(/\.json$/, ''), label: r.label, pose: r.pose });
      }
    }
    if (!shape) throw new Error(`${dir}: no .json records in train/ or test/`);
    return {
      name: `json:${path.basename(dir)}`, classNames: Array.from({ length: maxLabel + 1 }, (_, i) => `class ${i}`), frames: o.frames,
      joints: shape[1], bodies: shape[0], coordDim: shape[2], imgSize: null, train, test,
    };
  }
  throw new Error(`data '${spec}': unknown kind '${kind}'. Valid: synthetic, ntu:<dir>, penn:<dir>, json:<dir>`);
}

/**
 * The generic keypoint record (FineGYM-style, or NTU/Penn after conversion): JSON
 * {keypoint: [M][T][V][C], label}. Frames are resampled to `frames`; layout [T·(V·M)·C], bodies
 * stacked along the joint axis. Values are used as given (normalise when converting).
 */
export function readKeypointRecord(file: string, frames: number): { pose: Float32Array; label: number; bodies: number; joints: number; coordDim: number } {
  let j: { keypoint?: unknown; label?: unknown };
  j = parseJson<{ keypoint?: unknown; label?: unknown }>(fs.readFileSync(file, 'utf8'), file);
  if (typeof j !== 'object' || j === null) throw new Error(`${file}: expected a JSON object {keypoint, label}`);
  const kp = j.keypoint as number[][][][] | undefined;
  if (!Array.isArray(kp) || !Array.isArray(kp[0]) || !Array.isArray(kp[0][0]) || !Array.isArray(kp[0][0][0])) throw new Error(`${file}: field 'keypoint' must be a [M][T][V][C] array`);
  const label = Number(j.label);
  if (!Number.isInteger(label) || label < 0) throw new Error(`${file}: field 'label' must be a non-negative integer`);
  const M = kp.length, T = kp[0]!.length, V = kp[0]![0]!.length, C = kp[0]![0]![0]!.length;
  const pose = new Float32Array(frames * V * M * C);
  for (let m = 0; m < M; m++) {
    if (kp[m]!.length !== T) throw new Error(`${file}: field 'keypoint': body ${m} has ${kp[m]!.length} frames, body 0 has ${T}`);
    for (let t = 0; t < frames; t++) {
      const f = Math.min(T - 1, Math.floor(((t + 0.5) * T) / frames));
      for (let v = 0; v < V; v++) {
        const row = kp[m]![f]![v];
        if (!Array.isArray(row) || row.length !== C) throw new Error(`${file}: field 'keypoint'[${m}][${f}][${v}] must have ${C} values`);
        for (let c = 0; c < C; c++) {
          const x = Number(row[c]);
          if (!Number.isFinite(x)) throw new Error(`${file}: field 'keypoint'[${m}][${f}][${v}][${c}] is not a finite number`);
          pose[((t * M + m) * V + v) * C + c] = x;
        }
      }
    }
  }
  return { pose, label, bodies: M, joints: V, coordDim: C };
}

// ------------------------------------------------------------------ batching

export interface Batch { pose: Tensor; video: Tensor | null; labels: Tensor }

/** Stacks samples into tensors: pose [B, T, J·M, C], video [B, 3, T, S, S] (when all have it), labels int64. */
export function toBatch(samples: ActionSample[], ds: Pick<ActionDataset, 'frames' | 'joints' | 'bodies' | 'coordDim' | 'imgSize'>, dtype: Dtype, useVideo = true): Batch {
  const B = samples.length, T = ds.frames, JM = ds.joints * ds.bodies, C = ds.coordDim;
  const per = T * JM * C;
  const pose = new Float32Array(B * per);
  samples.forEach((s, i) => {
    if (s.pose.length !== per) throw new Error(`sample '${s.name}': pose has ${s.pose.length} values, expected ${per} (T=${T}, joints=${JM}, coords=${C})`);
    for (let k = 0; k < per; k++) if (!Number.isFinite(s.pose[k]!)) throw new Error(`sample '${s.name}': pose value ${k} is not finite`);
    pose.set(s.pose, i * per);
  });
  let video: Tensor | null = null;
  if (useVideo && ds.imgSize && samples.every((s) => s.video)) {
    const S = ds.imgSize, pv = 3 * T * S * S;
    const v = new Float32Array(B * pv);
    samples.forEach((s, i) => {
      if (s.video!.length !== pv) throw new Error(`sample '${s.name}': video has ${s.video!.length} values, expected ${pv} (3×${T}×${S}×${S})`);
      v.set(s.video!, i * pv);
    });
    video = torch.scope(() => torch.tensor(v, { shape: [B, 3, T, S, S] }).to(dtype));
  }
  return {
    pose: torch.scope(() => torch.tensor(pose, { shape: [B, T, JM, C] }).to(dtype)),
    video,
    labels: torch.tensor(samples.map((s) => s.label), { dtype: 'int64' }),
  };
}
