// Data for the action module: the sample and dataset types, dataset assembly (synthetic, NTU, Penn
// Action and generic keypoint-record folders), one clip for predict/explain, RGB frame folders
// (PNG/JPEG), pose augmentation, and batching into tensors. The readers of the real formats are
// ntu.ts and penn.ts; the synthetic generators are synthetic.ts.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import type { Tensor, Dtype } from '../../core/torch/index.ts';
import { Rng } from '../../core/rng.ts';
import { readImage } from '../../core/io/image.ts';
import { UsageError, parseJson } from '../../core/errors.ts';
import { pysklDataset, readPysklFile } from './pyskl.ts';
import { NTU_JOINTS, clipToPose, listNtu, readSkeleton, readIgnoreList } from './ntu.ts';
import { PENN_CLASSES, PENN_JOINTS, listPenn, pennToPose, readPennLabel } from './penn.ts';
import { makeSynthetic, normalizePose, renderStickFigures, synthSkeleton } from './synthetic.ts';
import { AUGMENT_DEFAULTS, SYNTH_CLASSES, SYNTH_DEFAULTS, type ActionConfig, type AugmentOptions, type Feat, type Modality, type NtuProtocol } from './config.ts';

export interface ActionSample {
  name: string;
  label: number;
  /** [T·(J·M)·C] */
  pose: Float32Array;
  /** [3·T·H·W] in [0, 1] */
  video?: Float32Array;
  /** the full-length sequence [frames·(J·M)·C] (PySKL files): training draws a clip of it each epoch, testing several */
  sequence?: { data: Float32Array; frames: number };
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
  /** false when the pose channels are not x, y, z coordinates (2D + score, bones, motion): no rotation augmentation */
  rotatable?: boolean;
  /** the skeleton layout (nturgb+d, coco, openpose) and the streams (j, b, jm, bm) of the pose channels, when known */
  layout?: string;
  feats?: Feat[];
  /** per-channel mean/std of the training poses (PySKL files), for the model's input standardisation */
  poseStats?: { mean: number[]; std: number[] };
}

// ------------------------------------------------------------------ augmentation [recon]

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

// ------------------------------------------------------------------ datasets and clips

/** The data parameters of train and evaluate (see commands.ts). */
export interface DataOptions {
  data: string; modality: Modality; frames: number; imgSize: number; nTrain: number; nTest: number; numClasses: number;
  protocol: NtuProtocol; bodies: number; framesDir?: string; ignoreList?: string; limit?: number;
  /** a PySKL annotation file (.pkl): replaces `data`; `split` names its train/test splits, `feats` the streams */
  annotations?: string; split?: string; feats?: string[];
}

/** The dataset a command names: synthetic (train and test from seed and another stream), or a folder through loadDataset. */
export async function buildDataset(p: DataOptions, seed: number): Promise<ActionDataset> {
  const rgb = p.modality === 'rgb+pose';
  if (p.annotations) {
    return pysklDataset(readPysklFile(p.annotations), p.split ?? 'xsub', { frames: p.frames, bodies: p.bodies, feats: p.feats ?? ['j'], limit: p.limit });
  }
  if ((p.feats ?? ['j']).join() !== 'j') throw new UsageError(`feats: bone and motion streams are computed for PySKL annotation files (--annotations); '${p.data}' gives joints only`);
  if (p.data === 'synthetic') return makeSynthetic(p.nTrain, p.nTest, seed, { frames: p.frames, numClasses: p.numClasses, imgSize: rgb ? p.imgSize : null });
  return loadDataset(
    p.data,
    { frames: p.frames, bodies: p.bodies, protocol: p.protocol, ignoreList: p.ignoreList, rgb, framesDir: p.framesDir, imgSize: p.imgSize, limit: p.limit },
  );
}

/** Reads one clip for predict/explain, shaped for a model's config: .skeleton, Penn .mat/.json, or synthetic:<class>. */
export async function readClip(input: string, c: ActionConfig, framesDir: string | undefined, seed: number): Promise<ActionSample> {
  let s: ActionSample;
  if (input.startsWith('synthetic:')) {
    const cls = input.slice('synthetic:'.length);
    const label = (SYNTH_CLASSES as readonly string[]).indexOf(cls);
    if (label < 0) throw new Error(`input '${input}': unknown synthetic class '${cls}'. Valid: ${SYNTH_CLASSES.join(', ')}`);
    const rng = new Rng(seed);
    const raw = synthSkeleton(label, rng, { ...SYNTH_DEFAULTS, frames: c.frames });
    s = { name: input, label: label < c.numClasses ? label : -1, pose: normalizePose(raw, c.frames) };
    if (c.rgb) s.video = renderStickFigures(raw, c.frames, c.imgSize, rng);
    return s;
  }
  if (input.endsWith('.skeleton')) {
    const clip = readSkeleton(input);
    s = {
      name: path.basename(input), label: clip.meta && clip.meta.label < c.numClasses ? clip.meta.label : -1,
      pose: clipToPose(clip, c.frames, c.bodies).data,
    };
  } else if (input.endsWith('.mat') || input.endsWith('.json')) {
    const e = readPennLabel(input);
    s = { name: e.id, label: e.label < c.numClasses ? e.label : -1, pose: pennToPose(e, c.frames) };
  } else throw new Error(`input '${input}': expected a .skeleton file, a Penn Action .mat/.json label file, or synthetic:<class>`);
  if (c.rgb && framesDir) s.video = await readFrameFolder(framesDir, c.frames, c.imgSize);
  return s;
}

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
  /** at most this many samples per split (all when omitted) */
  limit?: number;
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
  const cap = <T>(xs: T[]) => (o.limit !== undefined ? xs.slice(0, o.limit) : xs);
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
  const j = parseJson<{ keypoint?: unknown; label?: unknown }>(fs.readFileSync(file, 'utf8'), file);
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
