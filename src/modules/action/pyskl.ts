// PySKL's skeleton annotation files as released (ntu60_3danno.pkl, ntu60_hrnet.pkl, ntu120_*.pkl,
// gym_hrnet.pkl, ucf101/hmdb51/diving48_hrnet.pkl): a pickled dict
//   {'split': {name: [frame_dir, ...]}, 'annotations': [{frame_dir, label, total_frames,
//    keypoint: ndarray [M, T, V, C], keypoint_score: ndarray [M, T, V] (2D), img_shape: (h, w), ...}]}
// read with the safe unpickler (src/core/io/pickle.ts: numpy arrays, lists, dicts, strings, numbers,
// nothing executed), checked record by record (errors name the file, the record index and its
// frame_dir, and the field), then turned into ActionSamples the way PySKL's test pipeline does:
// PreNormalize3D (3D) or PreNormalize2D (2D, score appended as a channel), GenSkeFeat (--feats),
// FormatGCNInput (pad/cut to `bodies` persons); the full-length sequence is kept on the sample so
// that training draws a new UniformSampleFrames clip each epoch and testing averages several clips.
import fs from 'node:fs';
import { InputFileError, UsageError, readFileError } from '../../core/errors.ts';
import { isNdArray, halfToFloat32, type NdArray } from '../../core/io/ndarray.ts';
import { unpickle } from '../../core/io/pickle.ts';
import { checkFeats, layoutFor, preNormalize2D, preNormalize3D, skeletonFeatures, type Feat, type Skel, type SkeletonLayout } from './skeleton.ts';
import { sampleClip, uniformSampleIndices } from './clips.ts';
import type { ActionDataset, ActionSample } from './data.ts';

export interface PysklRecord {
  frameDir: string;
  label: number;
  totalFrames: number;
  /** the shape of keypoint [M, T, V, C] */
  shape: { M: number; T: number; V: number; C: number };
  /** keypoint and keypoint_score as stored (float16 in the NTU 3D files): widened by recordKeypoint / recordScore when used */
  raw: NdArray;
  rawScore: NdArray | null;
  /** img_shape (h, w), when present */
  imgShape: [number, number] | null;
}

export interface PysklFile {
  file: string;
  split: Record<string, string[]>;
  records: PysklRecord[];
}

/** A field of a Python dict as the unpickler returns it (a plain object or a Map). */
function field(d: unknown, key: string): unknown {
  if (d instanceof Map) return d.get(key);
  if (typeof d === 'object' && d !== null && !Array.isArray(d) && !isNdArray(d)) return (d as Record<string, unknown>)[key];
  return undefined;
}
const isDict = (d: unknown) => d instanceof Map || (typeof d === 'object' && d !== null && !Array.isArray(d) && !isNdArray(d) && !(d instanceof Uint8Array));
const keysOf = (d: unknown): string[] => (d instanceof Map ? [...d.keys()].map(String) : Object.keys(d as object));

function toFloat32(a: NdArray): Float32Array {
  switch (a.dtype) {
    case 'float32': return a.data as Float32Array;
    case 'float16': return halfToFloat32(a.data as Uint16Array);
    case 'float64': case 'int8': case 'int16': case 'int32': case 'uint8': case 'uint16': case 'uint32': return Float32Array.from(a.data as ArrayLike<number>);
    default: throw new Error(`dtype ${a.dtype} is not a float or small integer type`);
  }
}

/** Checks one annotation dict and converts it (errors name the file, the record and the field). */
export function parseRecord(a: unknown, i: number, file: string): PysklRecord {
  const where = (f?: string) => {
    const fd = field(a, 'frame_dir');
    return `${file}: annotation ${i}${typeof fd === 'string' ? ` ('${fd}')` : ''}${f ? `, field '${f}'` : ''}`;
  };
  const bad = (f: string | undefined, msg: string): never => { throw new InputFileError(`${where(f)}: ${msg}`, { file }); };
  if (!isDict(a)) bad(undefined, 'is not a dict');
  const frameDir = field(a, 'frame_dir');
  if (typeof frameDir !== 'string') bad('frame_dir', frameDir === undefined ? 'missing' : 'must be a string');
  const label = field(a, 'label');
  if (typeof label !== 'number' || !Number.isInteger(label) || label < 0) bad('label', label === undefined ? 'missing' : 'must be a non-negative integer');
  const kp = field(a, 'keypoint');
  if (kp === undefined) {
    if (field(a, 'raw_file') !== undefined) bad('keypoint', "missing: this is a Kinetics-400 table of contents ('raw_file' kpfiles), which paperlab does not read");
    bad('keypoint', 'missing');
  }
  if (!isNdArray(kp)) bad('keypoint', 'must be a numpy array');
  const k = kp as NdArray;
  if (k.shape.length !== 4) bad('keypoint', `must be a 4-D array [M, T, V, C], got shape [${k.shape.join(', ')}]`);
  const [M, T, V, C] = k.shape as [number, number, number, number];
  if (M < 1 || T < 1 || V < 1) bad('keypoint', `has an empty axis: shape [${k.shape.join(', ')}]`);
  if (C !== 2 && C !== 3) bad('keypoint', `must have C = 2 (x, y) or 3 (x, y, z) coordinates, got shape [${k.shape.join(', ')}]`);
  const nf = firstNonFinite(k);
  if (nf === -2) bad('keypoint', `dtype ${k.dtype} is not a float or small integer type`);
  if (nf >= 0) bad('keypoint', `value ${nf} is not finite`);
  const tf = field(a, 'total_frames');
  if (tf !== undefined && tf !== T) bad('total_frames', `is ${String(tf)} but 'keypoint' has T = ${T} frames`);
  let score: NdArray | null = null;
  const ks = field(a, 'keypoint_score');
  if (ks !== undefined) {
    if (!isNdArray(ks)) bad('keypoint_score', 'must be a numpy array');
    const s = ks as NdArray;
    if (s.shape.length !== 3 || s.shape[0] !== M || s.shape[1] !== T || s.shape[2] !== V) {
      bad('keypoint_score', `must be [M, T, V] = [${M}, ${T}, ${V}] like 'keypoint', got [${s.shape.join(', ')}]`);
    }
    const snf = firstNonFinite(s);
    if (snf === -2) bad('keypoint_score', `dtype ${s.dtype} is not a float or small integer type`);
    if (snf >= 0) bad('keypoint_score', `value ${snf} is not finite`);
    score = s;
  }
  let imgShape: [number, number] | null = null;
  const is = field(a, 'img_shape');
  if (is !== undefined) {
    if (!Array.isArray(is) || is.length !== 2 || !is.every((x) => typeof x === 'number' && x > 0)) bad('img_shape', 'must be a (height, width) pair');
    imgShape = [(is as number[])[0]!, (is as number[])[1]!];
  }
  return { frameDir: frameDir as string, label: label as number, totalFrames: T, shape: { M, T, V, C }, raw: k, rawScore: score, imgShape };
}

/** keypoint [M, T, V, C] widened to float32. */
export function recordKeypoint(r: PysklRecord): Skel {
  return { data: toFloat32(r.raw), ...r.shape };
}
/** keypoint_score [M, T, V] widened to float32 (2D files), else null. */
export function recordScore(r: PysklRecord): Float32Array | null {
  return r.rawScore ? toFloat32(r.rawScore) : null;
}

/** Index of the first NaN/±Inf value (−1: none; −2: not a readable dtype); float16 is checked on its bits. */
function firstNonFinite(a: NdArray): number {
  if (a.dtype === 'float16') return (a.data as Uint16Array).findIndex((b) => (b & 0x7c00) === 0x7c00);
  if (a.dtype === 'float32' || a.dtype === 'float64') return (a.data as Float32Array | Float64Array).findIndex((x) => !Number.isFinite(x));
  return ['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32'].includes(a.dtype) ? -1 : -2;
}

/** Reads and checks a PySKL annotation file (a pickled {split, annotations} dict; a bare list of annotations is accepted too). */
export function readPysklFile(file: string): PysklFile {
  let bytes: Uint8Array;
  try { bytes = fs.readFileSync(file); } catch (e) { throw readFileError(file, e); }
  const v = unpickle(bytes, { file, globals: 'numpy' });
  const anns = Array.isArray(v) ? v : field(v, 'annotations');
  if (!Array.isArray(anns)) {
    throw new InputFileError(`${file}: expected PySKL's dict {'split', 'annotations'}${isDict(v) ? `, found keys ${keysOf(v).slice(0, 8).join(', ')}` : ''}`, { file });
  }
  const split: Record<string, string[]> = {};
  const sp = Array.isArray(v) ? undefined : field(v, 'split');
  if (sp !== undefined) {
    if (!isDict(sp)) throw new InputFileError(`${file}: field 'split' must be a dict {name: [frame_dir, ...]}`, { file });
    for (const name of keysOf(sp)) {
      const list = field(sp, name);
      if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) throw new InputFileError(`${file}: split '${name}' must be a list of frame_dir strings`, { file });
      split[name] = list as string[];
    }
  }
  return { file, split, records: anns.map((a, i) => parseRecord(a, i, file)) };
}

/** `--split xsub` → (xsub_train, xsub_val); `train1/test1` → as written. Unknown names list the file's splits. */
export function resolveSplit(f: PysklFile, spec: string): [string, string] {
  const names = Object.keys(f.split);
  let pair: [string, string];
  if (spec.includes('/')) pair = spec.split('/', 2) as [string, string];
  else {
    const test = [`${spec}_val`, `${spec}_test`].find((n) => n in f.split) ?? `${spec}_val`;
    pair = [`${spec}_train`, test];
  }
  for (const n of pair) if (!(n in f.split)) throw new UsageError(`split '${spec}': ${f.file} has no split '${n}'. Its splits: ${names.join(', ') || '(none)'}`);
  return pair;
}

export interface PysklOptions {
  /** clip length T of the model */
  frames: number;
  /** persons per clip after FormatGCNInput (pad with zeros / keep the first) */
  bodies: number;
  /** streams: j, b, jm, bm (checked against the file's skeleton) */
  feats: readonly string[];
  /** at most this many samples per split */
  limit?: number;
}

/** PySKL's pre-processing of one record: normalisation, streams, persons; the sequence [T, M·V, C'] in our layout. */
export function recordSequence(
  r: PysklRecord, layout: SkeletonLayout, o: { bodies: number; feats: readonly Feat[] },
): { data: Float32Array; frames: number; channels: number } {
  let s: Skel = recordKeypoint(r);
  const twoD = s.C === 2;
  const score = recordScore(r);
  if (twoD) {
    s = preNormalize2D(s, r.imgShape ?? [1080, 1920]);
    if (score) { // append keypoint_score as a third channel (GenSkeFeat's merge)
      const d = new Float32Array(s.M * s.T * s.V * 3);
      for (let i = 0; i < s.M * s.T * s.V; i++) { d[3 * i] = s.data[2 * i]!; d[3 * i + 1] = s.data[2 * i + 1]!; d[3 * i + 2] = score[i]!; }
      s = { ...s, data: d, C: 3 };
    }
  } else s = preNormalize3D(s);
  s = skeletonFeatures(s, layout, o.feats, twoD && score !== null);
  // FormatGCNInput: persons padded with zeros or cut; then [M, T, V, C] → [T, M, V, C]
  const M = o.bodies, out = new Float32Array(s.T * M * s.V * s.C), per = s.V * s.C;
  for (let m = 0; m < Math.min(M, s.M); m++) {
    for (let t = 0; t < s.T; t++) out.set(s.data.subarray((m * s.T + t) * per, (m * s.T + t + 1) * per), (t * M + m) * per);
  }
  return { data: out, frames: s.T, channels: s.C };
}

/** A PySKL file as an ActionDataset: the split's records, pre-processed; pose = the first test-mode clip. */
export function pysklDataset(f: PysklFile, splitSpec: string, o: PysklOptions): ActionDataset {
  const [trainName, testName] = resolveSplit(f, splitSpec);
  const byName = new Map(f.records.map((r) => [r.frameDir, r]));
  const V = f.records[0]?.shape.V ?? 0, C0 = f.records[0]?.shape.C ?? 0;
  const layout = layoutFor(V);
  const feats = checkFeats(o.feats, layout);
  let channels = 0;
  const take = (name: string): ActionSample[] => {
    const names = f.split[name]!;
    const out: ActionSample[] = [];
    for (const n of o.limit !== undefined ? names.slice(0, o.limit) : names) {
      const r = byName.get(n);
      if (!r) throw new InputFileError(`${f.file}: split '${name}' names '${n}', which has no annotation`, { file: f.file });
      if (r.shape.V !== V || r.shape.C !== C0) {
        throw new InputFileError(`${f.file}: annotation '${n}', field 'keypoint': V = ${r.shape.V}, C = ${r.shape.C} but annotation 0 has V = ${V}, C = ${C0}`, { file: f.file });
      }
      const seq = recordSequence(r, layout, { bodies: o.bodies, feats });
      channels = seq.channels;
      const inds = uniformSampleIndices(seq.frames, o.frames, 1, 'test');
      out.push({ name: n, label: r.label, pose: sampleClip(seq.data, seq.frames, inds), sequence: { data: seq.data, frames: seq.frames } });
    }
    return out;
  };
  const train = take(trainName), test = take(testName);
  const numClasses = Math.max(0, ...f.records.map((r) => r.label)) + 1;
  // NTU files name samples SsssCcccPpppRrrrAaaa, label = action − 1: the classes are the action ids
  const ntuNames = f.records.every((r) => /A\d{3}$/.test(r.frameDir));
  return {
    name: `pyskl:${splitSpec}`, classNames: Array.from({ length: numClasses }, (_, i) => (ntuNames ? `A${String(i + 1).padStart(3, '0')}` : `class ${i}`)),
    frames: o.frames, joints: V, bodies: o.bodies, coordDim: channels, imgSize: null, train, test,
    rotatable: false, layout: layout.name, feats, poseStats: channelStats(train, channels),
  };
}

/** Per-channel mean and std over the joints present (not all-zero) in the training sequences. */
export function channelStats(samples: ActionSample[], C: number): { mean: number[]; std: number[] } | undefined {
  const sum = new Float64Array(C), sq = new Float64Array(C);
  let n = 0;
  for (const s of samples) {
    const d = s.sequence?.data ?? s.pose;
    for (let i = 0; i < d.length; i += C) {
      let present = false;
      for (let c = 0; c < C; c++) if (d[i + c] !== 0) { present = true; break; }
      if (!present) continue;
      n++;
      for (let c = 0; c < C; c++) { sum[c]! += d[i + c]!; sq[c]! += d[i + c]! * d[i + c]!; }
    }
  }
  if (n === 0) return undefined;
  const mean = Array.from(sum, (x) => x / n);
  return { mean, std: Array.from(sq, (x, c) => Math.max(1e-6, Math.sqrt(Math.max(0, x / n - mean[c]! ** 2)))) };
}
