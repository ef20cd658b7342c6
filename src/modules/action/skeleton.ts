// Skeleton layouts, the normalisations and the input streams of skeleton action recognition as the
// PySKL toolbox defines them for its annotation files (pyskl.ts reads those):
// - layouts: NTU RGB+D 3D (25 joints), COCO-17 2D (HRNet), OpenPose-18 2D, each with its bone pairs
//   (v, parent(v)); a bone is joint minus its parent, the root's pair is (r, r) (a zero bone);
// - PreNormalize3D (NTU: drop empty frames, centre on the spine joint of the first frame, rotate the
//   spine to +z and the shoulders to +x) and PreNormalize2D (pixels → [-1, 1] by the image shape);
// - GenSkeFeat's streams j (joints), b (bones), jm (joint motion), bm (bone motion), concatenated
//   along the channel axis; with a confidence channel (2D) the bone/motion score is the mean of the
//   two joints' (frames') scores.
// Arrays here are person-major [M, T, V, C] (PySKL's keypoint layout) as Float32Array.
import { UsageError } from '../../core/errors.ts';

import { FEATS, type Feat } from './config.ts';

export { FEATS, type Feat };

export interface SkeletonLayout {
  /** PySKL's dataset name for the layout */
  name: 'nturgb+d' | 'coco' | 'openpose' | 'generic';
  joints: number;
  /** bone pairs (v, parent): bone[v] = joint[v] − joint[parent]; every joint appears once as v */
  pairs: [number, number][] | null;
}

const pairs = (a: number[]): [number, number][] => Array.from({ length: a.length }, (_, v) => [v, a[v]!]);

/** NTU RGB+D 25 joints (0-based): the parent of each joint; the spine-shoulder joint 20 is the root. */
export const NTU_LAYOUT: SkeletonLayout = {
  name: 'nturgb+d', joints: 25,
  pairs: pairs([1, 20, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 20, 22, 7, 24, 11]),
};
/** COCO-17 (nose, eyes, ears, shoulders, elbows, wrists, hips, knees, ankles): the nose is the root. */
export const COCO_LAYOUT: SkeletonLayout = {
  name: 'coco', joints: 17, pairs: pairs([0, 0, 0, 1, 2, 0, 0, 5, 6, 7, 8, 0, 0, 11, 12, 13, 14]),
};
/** OpenPose-18 (COCO order with a neck at 1): the nose is the root. */
export const OPENPOSE_LAYOUT: SkeletonLayout = {
  name: 'openpose', joints: 18, pairs: pairs([0, 0, 1, 2, 3, 1, 5, 6, 2, 8, 9, 5, 11, 12, 0, 0, 14, 15]),
};

/** The layout of a V-joint skeleton: 25 NTU, 17 COCO, 18 OpenPose; other counts have no bones (joints only). */
export function layoutFor(joints: number): SkeletonLayout {
  for (const l of [NTU_LAYOUT, COCO_LAYOUT, OPENPOSE_LAYOUT]) if (l.joints === joints) return l;
  return { name: 'generic', joints, pairs: null };
}

/** Parses `--feats`: one or more of j, b, jm, bm. */
export function checkFeats(feats: readonly string[], layout: SkeletonLayout): Feat[] {
  if (feats.length === 0) throw new UsageError("feats: give at least one of 'j', 'b', 'jm', 'bm'");
  for (const f of feats) if (!(FEATS as readonly string[]).includes(f)) throw new UsageError(`feats: unknown stream '${f}'. Valid: ${FEATS.join(', ')}`);
  if (feats.some((f) => f === 'b' || f === 'bm') && !layout.pairs) {
    throw new UsageError(`feats: bone streams need a known skeleton (25 NTU, 17 COCO or 18 OpenPose joints), got ${layout.joints} joints`);
  }
  return feats as Feat[];
}

export interface Skel { data: Float32Array; M: number; T: number; V: number; C: number }

const at = (s: Skel, m: number, t: number, v: number) => ((m * s.T + t) * s.V + v) * s.C;

/** JointToBone: bone[v] = joint[v] − joint[parent(v)]; a score channel (2D + score) holds the pair's mean score. */
export function jointToBone(s: Skel, layout: SkeletonLayout, scoreChannel: boolean): Skel {
  if (!layout.pairs) throw new UsageError(`bones: no bone pairs for a ${layout.joints}-joint skeleton`);
  const out = new Float32Array(s.data.length);
  for (let m = 0; m < s.M; m++) for (let t = 0; t < s.T; t++) for (const [v1, v2] of layout.pairs) {
    const a = at(s, m, t, v1), b = at(s, m, t, v2);
    for (let c = 0; c < s.C; c++) out[a + c] = s.data[a + c]! - s.data[b + c]!;
    if (scoreChannel) out[a + s.C - 1] = (s.data[a + s.C - 1]! + s.data[b + s.C - 1]!) / 2;
  }
  return { ...s, data: out };
}

/** ToMotion: x[t+1] − x[t], zero at the last frame; a score channel holds the two frames' mean score. */
export function toMotion(s: Skel, scoreChannel: boolean): Skel {
  const out = new Float32Array(s.data.length);
  for (let m = 0; m < s.M; m++) for (let t = 0; t < s.T - 1; t++) for (let v = 0; v < s.V; v++) {
    const a = at(s, m, t, v), b = at(s, m, t + 1, v);
    for (let c = 0; c < s.C; c++) out[a + c] = s.data[b + c]! - s.data[a + c]!;
    if (scoreChannel) out[a + s.C - 1] = (s.data[a + s.C - 1]! + s.data[b + s.C - 1]!) / 2;
  }
  return { ...s, data: out };
}

/** GenSkeFeat: the requested streams of a skeleton, concatenated along the channel axis (C' = C · feats.length). */
export function skeletonFeatures(s: Skel, layout: SkeletonLayout, feats: readonly Feat[], scoreChannel: boolean): Skel {
  if (feats.length === 1 && feats[0] === 'j') return s;
  const bone = feats.some((f) => f === 'b' || f === 'bm') ? jointToBone(s, layout, scoreChannel) : null;
  const parts = feats.map((f) => (f === 'j' ? s : f === 'b' ? bone! : f === 'jm' ? toMotion(s, scoreChannel) : toMotion(bone!, scoreChannel)));
  const K = parts.length, C2 = s.C * K;
  const out = new Float32Array(s.M * s.T * s.V * C2);
  for (let i = 0; i < s.M * s.T * s.V; i++) for (let k = 0; k < K; k++) out.set(parts[k]!.data.subarray(i * s.C, (i + 1) * s.C), i * C2 + k * s.C);
  return { data: out, M: s.M, T: s.T, V: s.V, C: C2 };
}

// ------------------------------------------------------------------ normalisation

/** PreNormalize2D: x → (x − w/2)/(w/2), y → (y − h/2)/(h/2) by the frame's (h, w); other channels as they are. */
export function preNormalize2D(s: Skel, imgShape: [number, number]): Skel {
  const [h, w] = imgShape;
  const out = Float32Array.from(s.data);
  for (let i = 0; i < out.length; i += s.C) { out[i] = (out[i]! - w / 2) / (w / 2); out[i + 1] = (out[i + 1]! - h / 2) / (h / 2); }
  return { ...s, data: out };
}

type V3 = [number, number, number];
const cross = (a: V3, b: V3): V3 => [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
const norm = (a: V3) => Math.hypot(a[0], a[1], a[2]);
const isZero = (x: number) => Math.abs(x) <= 1e-8;

/** Angle between two vectors (0 when either is ~zero). */
function angleBetween(a: V3, b: V3): number {
  if (Math.abs(a[0]) + Math.abs(a[1]) + Math.abs(a[2]) < 1e-6 || Math.abs(b[0]) + Math.abs(b[1]) + Math.abs(b[2]) < 1e-6) return 0;
  const d = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (norm(a) * norm(b));
  return Math.acos(Math.min(1, Math.max(-1, d)));
}

/** The rotation matrix R (row-major) for which R·x turns x by −θ about `axis` (the 2s-AGCN convention PySKL keeps). */
function rotation(axis: V3, theta: number): number[] {
  if (Math.abs(axis[0]) + Math.abs(axis[1]) + Math.abs(axis[2]) < 1e-6 || Math.abs(theta) < 1e-6) return [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const n = norm(axis), u = axis.map((x) => x / n) as V3;
  const a = Math.cos(theta / 2), [b, c, d] = u.map((x) => -x * Math.sin(theta / 2)) as V3;
  const [aa, bb, cc, dd] = [a * a, b * b, c * c, d * d];
  const [bc, ad, ac, ab, bd, cd] = [b * c, a * d, a * c, a * b, b * d, c * d];
  return [aa + bb - cc - dd, 2 * (bc + ad), 2 * (bd - ac), 2 * (bc - ad), aa + cc - bb - dd, 2 * (cd + ab), 2 * (bd + ac), 2 * (cd - ab), aa + dd - bb - cc];
}

function applyRotation(s: Skel, r: number[]): void {
  for (let i = 0; i < s.data.length; i += s.C) {
    const x = s.data[i]!, y = s.data[i + 1]!, z = s.data[i + 2]!;
    s.data[i] = r[0]! * x + r[1]! * y + r[2]! * z; s.data[i + 1] = r[3]! * x + r[4]! * y + r[5]! * z; s.data[i + 2] = r[6]! * x + r[7]! * y + r[8]! * z;
  }
}

/**
 * PreNormalize3D (NTU 3D): keeps the frames where the main person (the one present in more frames)
 * is non-zero, puts that person first, subtracts the first frame's spine joint (joint 1 for 25-joint
 * skeletons, else the last joint) from every non-zero joint, then rotates the spine (joint 0 → 1) onto
 * +z and the shoulders (joint 8 → 4) onto +x. Returns the new skeleton (T may shrink).
 */
export function preNormalize3D(s: Skel): Skel {
  if (s.C < 3) throw new UsageError('PreNormalize3D needs x, y, z coordinates');
  const frameNonZero = (m: number, t: number) => {
    for (let v = 0; v < s.V; v++) for (let c = 0; c < 3; c++) if (!isZero(s.data[at(s, m, t, v) + c]!)) return true;
    return false;
  };
  if (s.data.every((x) => x === 0)) return s;
  const idx = (m: number) => Array.from({ length: s.T }, (_, t) => t).filter((t) => frameNonZero(m, t));
  let order = Array.from({ length: s.M }, (_, m) => m);
  let keep = idx(0);
  if (s.M === 2) { const k1 = idx(1); if (keep.length < k1.length) { keep = k1; order = [1, 0]; } }
  const T = keep.length;
  const out: Skel = { data: new Float32Array(s.M * T * s.V * s.C), M: s.M, T, V: s.V, C: s.C };
  order.forEach((m0, m) => keep.forEach((t0, t) => out.data.set(s.data.subarray(at(s, m0, t0, 0), at(s, m0, t0, s.V)), at(out, m, t, 0))));
  const cj = s.V === 25 ? 1 : s.V - 1;
  const centre = Array.from(out.data.subarray(at(out, 0, 0, cj), at(out, 0, 0, cj) + 3));
  for (let i = 0; i < out.data.length; i += s.C) {
    let nz = false;
    for (let c = 0; c < s.C; c++) if (out.data[i + c] !== 0) nz = true;
    if (nz) for (let c = 0; c < 3; c++) out.data[i + c] = out.data[i + c]! - centre[c]!;
  }
  const joint = (v: number): V3 => { const k = at(out, 0, 0, v); return [out.data[k]!, out.data[k + 1]!, out.data[k + 2]!]; };
  const sub = (a: V3, b: V3): V3 => [a[0] - b[0], a[1] - b[1], a[2] - b[2]];
  if (s.V > 8) {
    const spine = sub(joint(1), joint(0));
    applyRotation(out, rotation(cross(spine, [0, 0, 1]), angleBetween(spine, [0, 0, 1])));
    const shoulders = sub(joint(8), joint(4));
    applyRotation(out, rotation(cross(shoulders, [1, 0, 0]), angleBetween(shoulders, [1, 0, 0])));
  }
  return out;
}
