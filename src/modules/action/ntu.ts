// NTU RGB+D `.skeleton` files (Kinect v2): reader with line-numbered errors, writer (same grammar),
// sample-name parsing, the four official split protocols, main-actor selection, normalisation.
import fs from 'node:fs';
import path from 'node:path';
import { NTU_PROTOCOLS, type NtuProtocol } from './config.ts';

export const NTU_JOINTS = 25;
/** Per-frame body fields in file order, after bodyID. */
export const NTU_BODY_FIELDS = ['clippedEdges', 'handLeftConfidence', 'handLeftState', 'handRightConfidence', 'handRightState', 'isRestricted', 'leanX', 'leanY', 'trackingState'] as const;
/** 1-based joint names, in order. */
export const NTU_JOINT_NAMES = ['spine base', 'spine mid', 'neck', 'head', 'L shoulder', 'L elbow', 'L wrist', 'L hand', 'R shoulder', 'R elbow', 'R wrist', 'R hand', 'L hip', 'L knee', 'L ankle', 'L foot', 'R hip', 'R knee', 'R ankle', 'R foot', 'spine shoulder', 'L hand tip', 'L thumb', 'R hand tip', 'R thumb'];
/** Bones of the Kinect v2 skeleton as 0-based joint pairs (the NTU RGB+D joint order). */
export const NTU_BONES: [number, number][] = [
  [20, 1], [1, 0], [20, 2], [2, 3], [20, 4], [4, 5], [5, 6], [6, 7], [7, 21], [7, 22], [20, 8], [8, 9], [9, 10],
  [10, 11], [11, 23], [11, 24], [0, 12], [12, 13], [13, 14], [14, 15], [0, 16], [16, 17], [17, 18], [18, 19],
];

export interface NtuBody {
  /** 64-bit tracking id, kept as the decimal string of the file */
  id: string;
  /** [T·25·3] camera-space metres; NaN where the body is absent */
  joints: Float32Array;
  /** [T·25·2] depth-frame pixels (512×424) */
  depth2d: Float32Array;
  /** [T·25·2] RGB-frame pixels (1920×1080) */
  color2d: Float32Array;
  /** [T·25·4] orientation quaternion (w, x, y, z) */
  orientation: Float32Array;
  /** [T·25] 0 not tracked, 1 inferred, 2 tracked */
  tracking: Uint8Array;
  /** [T·9] per-frame body fields, NTU_BODY_FIELDS order */
  info: Float32Array;
  /** [T] 1 where the body is present in the frame */
  present: Uint8Array;
}

export interface NtuMeta { setup: number; camera: number; performer: number; replication: number; action: number; label: number; name: string }

export interface NtuClip {
  frames: number;
  bodies: NtuBody[];
  /** null when the file name does not follow SsssCcccPpppRrrrAaaa */
  meta: NtuMeta | null;
  source: string;
}

const NAME_RE = /S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})/;

/** Parses `SsssCcccPpppRrrrAaaa` (e.g. S001C002P003R002A013) from a file name; label = action − 1. */
export function parseNtuName(name: string): NtuMeta {
  const base = path.basename(name).replace(/\.skeleton$/, '');
  const m = NAME_RE.exec(base);
  if (!m) throw new Error(`${name}: not an NTU sample name (expected SsssCcccPpppRrrrAaaa, e.g. S001C002P003R002A013)`);
  const [setup, camera, performer, replication, action] = m.slice(1).map(Number) as [number, number, number, number, number];
  return { setup, camera, performer, replication, action, label: action - 1, name: m[0] };
}

export { NTU_PROTOCOLS, type NtuProtocol };

const XSUB60 = new Set([1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38]);
const XSUB120 = new Set([
  ...XSUB60, 45, 46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91,
  92, 93, 94, 95, 97, 98, 100, 103,
]);

/** Split membership under an official protocol; 'excluded' for NTU60 protocols on NTU120-only samples. */
export function ntuSplit(meta: NtuMeta, protocol: NtuProtocol): 'train' | 'test' | 'excluded' {
  switch (protocol) {
    case 'ntu60-xsub':
      if (meta.setup > 17 || meta.action > 60) return 'excluded';
      return XSUB60.has(meta.performer) ? 'train' : 'test';
    case 'ntu60-xview':
      if (meta.setup > 17 || meta.action > 60) return 'excluded';
      return meta.camera === 2 || meta.camera === 3 ? 'train' : 'test';
    case 'ntu120-xsub':
      return XSUB120.has(meta.performer) ? 'train' : 'test';
    case 'ntu120-xset':
      return meta.setup % 2 === 0 ? 'train' : 'test';
    default:
      throw new Error(`unknown NTU protocol '${protocol as string}'. Valid: ${NTU_PROTOCOLS.join(', ')}`);
  }
}

/** One body's lines as parsed: per frame it appears in, its 9 body fields and 25 joint rows of 12 values. */
type BodyRecord = { id: string; frames: Map<number, { info: number[]; joints: number[][] }> };

/** Packs parsed body records into NtuBody arrays over all T frames (NaN and present = 0 where a body is absent). */
function packBodies(records: BodyRecord[], T: number): NtuBody[] {
  const J = NTU_JOINTS;
  return records.map((r) => {
    const b: NtuBody = {
      id: r.id,
      joints: new Float32Array(T * J * 3).fill(NaN), depth2d: new Float32Array(T * J * 2).fill(NaN),
      color2d: new Float32Array(T * J * 2).fill(NaN), orientation: new Float32Array(T * J * 4).fill(NaN),
      tracking: new Uint8Array(T * J), info: new Float32Array(T * 9).fill(NaN), present: new Uint8Array(T),
    };
    for (const [f, fr] of r.frames) {
      b.present[f] = 1;
      b.info.set(fr.info, f * 9);
      fr.joints.forEach((v, j) => {
        const k = f * J + j;
        b.joints.set(v.slice(0, 3), k * 3);
        b.depth2d.set(v.slice(3, 5), k * 2);
        b.color2d.set(v.slice(5, 7), k * 2);
        b.orientation.set(v.slice(7, 11), k * 4);
        b.tracking[k] = v[11]!;
      });
    }
    return b;
  });
}

/** Parses the text of a `.skeleton` file (LF or CRLF). Errors name the source, the 1-based line and the field, never the text. */
export function parseSkeleton(text: string, source = '<skeleton>'): NtuClip {
  const lines = text.split(/\r?\n/);
  let ln = 0; // index of the next line to read
  const fail = (msg: string, line = ln): never => { throw new Error(`${source}:${line}: ${msg}`); };
  const next = (what: string, count: number): number[] => {
    while (ln < lines.length && lines[ln]!.trim() === '') ln++;
    if (ln >= lines.length) fail(`file ends early: expected ${what}`, lines.length);
    const raw = lines[ln++]!.trim().split(/\s+/);
    if (raw.length !== count) fail(`expected ${count} value${count > 1 ? 's' : ''} (${what}), got ${raw.length}`);
    return raw.map((s, i) => {
      const v = Number(s);
      if (s === '' || !Number.isFinite(v)) fail(`${what}: value ${i + 1} is not a finite number`);
      return v;
    });
  };
  const nextInt = (what: string, max: number): number => {
    const [v] = next(what, 1) as [number];
    if (!Number.isInteger(v) || v < 0 || v > max) fail(`${what} must be an integer in [0, ${max}]`);
    return v;
  };
  const T = nextInt('frame count', 1e6);
  const byId = new Map<string, BodyRecord>();
  for (let f = 0; f < T; f++) {
    const nb = nextInt(`body count of frame ${f + 1}`, 16);
    for (let b = 0; b < nb; b++) {
      // body line: keep the 64-bit id as text (never as a float)
      while (ln < lines.length && lines[ln]!.trim() === '') ln++;
      if (ln >= lines.length) fail(`file ends early: expected body ${b + 1} of frame ${f + 1}`, lines.length);
      const parts = lines[ln]!.trim().split(/\s+/);
      const id = parts[0]!;
      if (!/^\d+$/.test(id)) fail(`body ${b + 1} of frame ${f + 1}: bodyID is not an unsigned integer`, ln + 1);
      if (parts.length !== 10) fail(`expected 10 values (bodyID and 9 body fields of body ${b + 1}, frame ${f + 1}), got ${parts.length}`, ln + 1);
      const info = parts.slice(1).map((s, i) => {
        const v = Number(s);
        if (!Number.isFinite(v)) fail(`body field '${NTU_BODY_FIELDS[i]}' of frame ${f + 1}: not a number`, ln + 1);
        return v;
      });
      ln++;
      const nj = nextInt(`joint count of body ${b + 1}, frame ${f + 1}`, 1000);
      if (nj !== NTU_JOINTS) fail(`joint count must be ${NTU_JOINTS}, got ${nj}`);
      const joints: number[][] = [];
      for (let j = 0; j < nj; j++) {
        const v = next(`joint ${j + 1} of body ${b + 1}, frame ${f + 1}: x y z depthX depthY colorX colorY orientW orientX orientY orientZ trackingState`, 12);
        if (![0, 1, 2].includes(v[11]!)) fail(`joint ${j + 1} of body ${b + 1}, frame ${f + 1}: trackingState must be 0, 1 or 2`);
        joints.push(v);
      }
      let rec = byId.get(id);
      if (!rec) { rec = { id, frames: new Map() }; byId.set(id, rec); }
      if (rec.frames.has(f)) fail(`frame ${f + 1} lists body ${id} twice`);
      rec.frames.set(f, { info, joints });
    }
  }
  while (ln < lines.length && lines[ln]!.trim() === '') ln++;
  if (ln < lines.length) fail(`unexpected content after the last frame (the frame count says ${T})`, ln + 1);
  const bodies = packBodies([...byId.values()], T);
  let meta: NtuMeta | null = null;
  try { meta = parseNtuName(source); } catch { meta = null; }
  return { frames: T, bodies, meta, source };
}

export function readSkeleton(file: string): NtuClip {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such .skeleton file`);
  return parseSkeleton(fs.readFileSync(file, 'latin1'), file);
}

/** Writes a clip in the `.skeleton` grammar (absent frames of a body are left out). */
export function formatSkeleton(clip: Pick<NtuClip, 'frames' | 'bodies'>, eol = '\n'): string {
  const J = NTU_JOINTS;
  const out: string[] = [String(clip.frames)];
  const num = (v: number) => (Number.isNaN(v) ? '0' : String(v));
  for (let f = 0; f < clip.frames; f++) {
    const here = clip.bodies.filter((b) => b.present[f]);
    out.push(String(here.length));
    for (const b of here) {
      out.push([b.id, ...Array.from(b.info.subarray(f * 9, f * 9 + 9), num)].join(' '));
      out.push(String(J));
      for (let j = 0; j < J; j++) {
        const k = f * J + j;
        out.push([
          ...b.joints.subarray(k * 3, k * 3 + 3), ...b.depth2d.subarray(k * 2, k * 2 + 2), ...b.color2d.subarray(k * 2, k * 2 + 2),
          ...b.orientation.subarray(k * 4, k * 4 + 4),
        ].map(num).join(' ') + ' ' + b.tracking[k]);
      }
    }
  }
  return out.join(eol) + eol;
}

/** Makes an NtuBody from camera-space joints [T·25·3] (other fields filled plausibly). */
export function bodyFromJoints(id: string, joints: Float32Array, frames: number, present?: Uint8Array): NtuBody {
  const J = NTU_JOINTS;
  const b: NtuBody = {
    id, joints: Float32Array.from(joints), depth2d: new Float32Array(frames * J * 2), color2d: new Float32Array(frames * J * 2),
    orientation: new Float32Array(frames * J * 4), tracking: new Uint8Array(frames * J).fill(2), info: new Float32Array(frames * 9),
    present: present ? Uint8Array.from(present) : new Uint8Array(frames).fill(1),
  };
  for (let k = 0; k < frames * J; k++) {
    const [x, y, z] = [joints[k * 3]!, joints[k * 3 + 1]!, Math.max(0.5, joints[k * 3 + 2]!)];
    // pinhole projections with Kinect v2-like intrinsics
    b.depth2d[k * 2] = 256 + 365 * x / z; b.depth2d[k * 2 + 1] = 212 - 365 * y / z;
    b.color2d[k * 2] = 960 + 1060 * x / z; b.color2d[k * 2 + 1] = 540 - 1060 * y / z;
    b.orientation[k * 4] = 1;
  }
  for (let f = 0; f < frames; f++) { b.info[f * 9 + 8] = 2; if (!b.present[f]) for (let j = 0; j < J * 3; j++) b.joints[(f * J) * 3 + j] = NaN; }
  return b;
}

/** Summed x/y/z variance over present frames (the dataset authors' main-actor heuristic). */
export function bodyMotion(b: NtuBody): number {
  const J = NTU_JOINTS;
  let tot = 0;
  for (let c = 0; c < 3; c++) {
    let s = 0, s2 = 0, n = 0;
    for (let k = 0; k < b.tracking.length; k++) {
      const f = Math.floor(k / J);
      if (!b.present[f]) continue;
      const v = b.joints[k * 3 + c]!;
      s += v; s2 += v * v; n++;
    }
    if (n > 1) tot += s2 / n - (s / n) ** 2;
  }
  return tot;
}

export interface PoseArray {
  /** [T·(J·M)·3] */
  data: Float32Array;
  frames: number;
  joints: number;
  bodies: number;
}

/**
 * Clip → fixed-size pose array: at most `bodies` bodies ranked by motion (main actor first; missing
 * ones zero-filled), resampled to `frames` frames, centred on the main actor's spine base (first
 * present frame) and scaled by its torso length (spine base → spine shoulder). Absent joints → 0.
 */
export function clipToPose(clip: NtuClip, frames: number, bodies = 1): PoseArray {
  const J = NTU_JOINTS;
  const ranked = [...clip.bodies].sort((a, b) => bodyMotion(b) - bodyMotion(a)).slice(0, bodies);
  const main = ranked[0];
  if (!main || clip.frames === 0) throw new Error(`${clip.source}: no body in any frame`);
  const f0 = main.present.indexOf(1);
  const cx = main.joints[f0 * J * 3]!, cy = main.joints[f0 * J * 3 + 1]!, cz = main.joints[f0 * J * 3 + 2]!;
  let torso = 0, nt = 0;
  for (let f = 0; f < clip.frames; f++) {
    if (!main.present[f]) continue;
    const a = f * J * 3, b = (f * J + 20) * 3;
    torso += Math.hypot(main.joints[b]! - main.joints[a]!, main.joints[b + 1]! - main.joints[a + 1]!, main.joints[b + 2]! - main.joints[a + 2]!); nt++;
  }
  const scale = nt && torso > 1e-6 ? nt / torso : 1;
  const out = new Float32Array(frames * J * bodies * 3);
  for (let t = 0; t < frames; t++) {
    const f = Math.min(clip.frames - 1, Math.floor((t + 0.5) * clip.frames / frames));
    ranked.forEach((b, m) => {
      if (!b.present[f]) return;
      for (let j = 0; j < J; j++) {
        const src = (f * J + j) * 3, dst = (t * J * bodies + m * J + j) * 3;
        const x = b.joints[src]!, y = b.joints[src + 1]!, z = b.joints[src + 2]!;
        if (!Number.isFinite(x + y + z)) continue;
        out[dst] = (x - cx) * scale; out[dst + 1] = (y - cy) * scale; out[dst + 2] = (z - cz) * scale;
      }
    });
  }
  return { data: out, frames, joints: J, bodies };
}

/** Reads a list of sample names to skip (the dataset authors' missing-skeleton lists): one per line. */
export function readIgnoreList(file: string): Set<string> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such ignore list`);
  return new Set(fs.readFileSync(file, 'utf8').split(/\r?\n/).map((s) => s.trim().replace(/\.skeleton$/, '')).filter((s) => s && !s.startsWith('#')));
}

export interface NtuEntry { file: string; meta: NtuMeta; split: 'train' | 'test' }

/** Lists `.skeleton` files of a folder with their split under a protocol (excluded and ignored dropped). */
export function listNtu(dir: string, protocol: NtuProtocol, ignore: Set<string> = new Set()): NtuEntry[] {
  if (!fs.existsSync(dir)) throw new Error(`${dir}: no such NTU folder`);
  const out: NtuEntry[] = [];
  for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.skeleton')).sort()) {
    const meta = parseNtuName(f);
    if (ignore.has(meta.name)) continue;
    const split = ntuSplit(meta, protocol);
    if (split === 'excluded') continue;
    out.push({ file: path.join(dir, f), meta, split });
  }
  if (out.length === 0) throw new Error(`${dir}: no .skeleton files for protocol ${protocol}`);
  return out;
}
