// Synthetic data with known answers (ours): seeded skeleton actions on the 25-joint NTU skeleton
// (speed, amplitude, phase, body size, ±45° view and noise drawn per clip; optional stick-figure RGB
// on noisy backgrounds), and the offsets diagnostic where the cue sits between the reference grid's
// points.
import { Rng } from '../../core/rng.ts';
import { NTU_BONES, NTU_JOINTS } from './ntu.ts';
import { SYNTH_CLASSES, SYNTH_DEFAULTS, BLOB_DEFAULTS, type SynthOptions, type BlobOptions } from './config.ts';
import type { ActionDataset, ActionSample } from './data.ts';

/** Rest pose of the 25 NTU joints, metres, y up, facing +z (the camera). */
const REST: [number, number, number][] = [
  [0, 1.0, 0], [0, 1.25, 0], [0, 1.52, 0], [0, 1.66, 0],
  [-0.18, 1.42, 0], [-0.22, 1.16, 0], [-0.24, 0.92, 0], [-0.24, 0.85, 0],
  [0.18, 1.42, 0], [0.22, 1.16, 0], [0.24, 0.92, 0], [0.24, 0.85, 0],
  [-0.1, 0.97, 0], [-0.1, 0.54, 0], [-0.1, 0.1, 0], [-0.1, 0.04, 0.1],
  [0.1, 0.97, 0], [0.1, 0.54, 0], [0.1, 0.1, 0], [0.1, 0.04, 0.1],
  [0, 1.45, 0], [-0.24, 0.78, 0], [-0.21, 0.86, 0.03], [0.24, 0.78, 0], [0.21, 0.86, 0.03],
];


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
  const part = (j: number) => ([4, 5, 6, 7, 21, 22].includes(j) ? 1
    : [8, 9, 10, 11, 23, 24].includes(j) ? 2
    : [12, 13, 14, 15].includes(j) ? 3
    : [16, 17, 18, 19].includes(j) ? 4
    : 0);
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
  if (opt.imgSize !== null && !(Number.isInteger(opt.imgSize) && opt.imgSize > 0)) throw new Error(`synthetic: imgSize must be a positive integer or null (pose only), got ${opt.imgSize}`);
  if (opt.numClasses < 2 || opt.numClasses > SYNTH_CLASSES.length) throw new Error(`synthetic: numClasses must be in 2..${SYNTH_CLASSES.length}, got ${opt.numClasses}`);
  const make = (n: number, rng: Rng, tag: string): ActionSample[] => Array.from({ length: n }, (_, i) => {
    const label = i % opt.numClasses;
    const raw = synthSkeleton(label, rng, opt);
    const s: ActionSample = { name: `${tag}${i}-${SYNTH_CLASSES[label]}`, label, pose: normalizePose(raw, opt.frames) };
    if (opt.imgSize !== null) s.video = renderStickFigures(raw, opt.frames, opt.imgSize, rng);
    return s;
  });
  const root = new Rng(seed);
  return {
    name: 'synthetic', classNames: SYNTH_CLASSES.slice(0, opt.numClasses), frames: opt.frames, joints: NTU_JOINTS, bodies: 1, coordDim: 3,
    imgSize: opt.imgSize, train: make(nTrain, root.fork(1), 'train'), test: make(nTest, root.fork(2), 'test'),
  };
}

// ------------------------------------------------------------------ diagnostic: position matters

/**
 * A small bright Gaussian blob moves up, down, left or right (the class) through the middle of the
 * RGB volume, between the points of a coarse reference grid; backgrounds are noise and the pose
 * channel is empty. A model that only reads the grid points sees the blob's faint tails; a model
 * whose offsets move the sampling points onto the blob sees it whole (ours: a test that the 3D token
 * search's offsets matter, the adaptive receptive field of the paper's Fig. 1).
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
