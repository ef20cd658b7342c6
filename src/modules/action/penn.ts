// Penn Action annotations: a small MATLAB level-5 MAT-file reader (miCOMPRESSED, numeric, char and
// logical arrays as top-level variables; column-major → [row][col]) and writer (used by tests and
// to export), the JSON fallback with the same field names, and conversion to pose arrays.
import fs from 'node:fs';
import path from 'node:path';
import { unzlibSync, zlibSync } from 'fflate';
import { parseJson } from '../../core/errors.ts';

export const PENN_CLASSES = ['baseball_pitch', 'baseball_swing', 'bench_press', 'bowling', 'clean_and_jerk', 'golf_swing', 'jump_rope', 'jumping_jacks', 'pull_ups', 'push_ups', 'sit_ups', 'squats', 'strumming_guitar', 'tennis_forehand', 'tennis_serve'] as const;
export const PENN_JOINTS = 13;
export const PENN_JOINT_NAMES = ['head', 'L shoulder', 'R shoulder', 'L elbow', 'R elbow', 'L wrist', 'R wrist', 'L hip', 'R hip', 'L knee', 'R knee', 'L ankle', 'R ankle'];

export type MatValue =
  | { kind: 'numeric'; dims: number[]; data: Float64Array; logical: boolean; class: string }
  | { kind: 'char'; dims: number[]; text: string };

const MI = {
  INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13,
  MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17, UTF32: 18,
};
const MX = ['', 'cell', 'struct', 'object', 'char', 'sparse', 'double', 'single', 'int8', 'uint8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];

function readTyped(type: number, view: DataView, off: number, n: number, src: string): Float64Array {
  const size: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1 };
  const s = size[type];
  if (!s) throw new Error(`${src}: unsupported MAT data type ${type}`);
  const out = new Float64Array(n / s);
  for (let i = 0; i < out.length; i++) {
    const o = off + i * s;
    switch (type) {
      case 1: out[i] = view.getInt8(o); break;
      case 2: case 16: out[i] = view.getUint8(o); break;
      case 3: out[i] = view.getInt16(o, true); break;
      case 4: out[i] = view.getUint16(o, true); break;
      case 5: out[i] = view.getInt32(o, true); break;
      case 6: out[i] = view.getUint32(o, true); break;
      case 7: out[i] = view.getFloat32(o, true); break;
      case 9: out[i] = view.getFloat64(o, true); break;
      case 12: out[i] = Number(view.getBigInt64(o, true)); break;
      case 13: out[i] = Number(view.getBigUint64(o, true)); break;
    }
  }
  return out;
}

/** Reads one data element at off: {type, size, dataOff, next}. Handles the small-element form. */
function tag(view: DataView, off: number, src: string): { type: number; size: number; dataOff: number; next: number } {
  if (off + 8 > view.byteLength) throw new Error(`${src}: truncated MAT file (element header at byte ${off})`);
  const w = view.getUint32(off, true);
  if (w >>> 16) return { type: w & 0xffff, size: w >>> 16, dataOff: off + 4, next: off + 8 };
  const size = view.getUint32(off + 4, true);
  if (off + 8 + size > view.byteLength) throw new Error(`${src}: truncated MAT file (element at byte ${off} needs ${size} bytes)`);
  return { type: w, size, dataOff: off + 8, next: off + 8 + size + ((8 - (size % 8)) % 8) };
}

function parseMatrix(view: DataView, off: number, end: number, src: string): [string, MatValue] {
  const flags = tag(view, off, src);
  const f0 = view.getUint32(flags.dataOff, true);
  const cls = MX[f0 & 0xff] ?? `class${f0 & 0xff}`;
  const logical = (f0 & 0x200) !== 0;
  const dimsT = tag(view, flags.next, src);
  const dims = Array.from(readTyped(dimsT.type, view, dimsT.dataOff, dimsT.size, src));
  const nameT = tag(view, dimsT.next, src);
  const name = new TextDecoder().decode(new Uint8Array(view.buffer, view.byteOffset + nameT.dataOff, nameT.size));
  if (['cell', 'struct', 'object', 'sparse'].includes(cls)) throw new Error(`${src}: variable '${name}' is a ${cls} array; only numeric, char and logical top-level variables are supported`);
  if ((f0 & 0x800) !== 0) throw new Error(`${src}: variable '${name}' is complex; not supported`);
  const n = dims.reduce((a, b) => a * b, 1);
  const re = n === 0 ? { type: MI.DOUBLE, size: 0, dataOff: nameT.next, next: nameT.next } : tag(view, nameT.next, src);
  if (re.next > end + 8) throw new Error(`${src}: variable '${name}' runs past its element`);
  if (cls === 'char') {
    let text: string;
    const bytes = new Uint8Array(view.buffer, view.byteOffset + re.dataOff, re.size);
    if (re.type === MI.UTF8 || re.type === MI.UINT8 || re.type === MI.INT8) text = new TextDecoder().decode(bytes);
    else text = String.fromCharCode(...readTyped(re.type === MI.UTF16 ? MI.UINT16 : re.type, view, re.dataOff, re.size, src));
    // column-major char matrix: a 1×N row reads straight; R×N rows are interleaved
    if (dims[0]! > 1) {
      const [r, c] = [dims[0]!, dims[1]!];
      const rows: string[] = [];
      for (let i = 0; i < r; i++) { let s = ''; for (let j = 0; j < c; j++) s += text[j * r + i] ?? ''; rows.push(s); }
      text = rows.join('\n');
    }
    return [name, { kind: 'char', dims, text }];
  }
  const data = readTyped(re.type, view, re.dataOff, re.size, src);
  if (data.length !== n) throw new Error(`${src}: variable '${name}' has ${data.length} values for dims [${dims}]`);
  return [name, { kind: 'numeric', dims, data, logical, class: cls }];
}

/** Parses a level-5 MAT-file into its top-level variables. Errors name the source. */
export function parseMat(buf: Uint8Array, src = '<mat>'): Record<string, MatValue> {
  if (buf.byteLength < 128) throw new Error(`${src}: too short for a MAT-file header (${buf.byteLength} bytes)`);
  const head = new TextDecoder().decode(buf.subarray(0, 116));
  if (head.startsWith('\x89HDF') || buf[0] === 0x89) throw new Error(`${src}: HDF5 (v7.3) MAT-files are not supported; save with -v7 or convert to JSON`);
  if (!head.startsWith('MATLAB 5.0 MAT-file')) throw new Error(`${src}: not a level-5 MAT-file (the header must start with 'MATLAB 5.0 MAT-file')`);
  if (buf[126] !== 0x49 || buf[127] !== 0x4d) throw new Error(`${src}: big-endian MAT-files are not supported`);
  const out: Record<string, MatValue> = {};
  const walk = (bytes: Uint8Array, start: number) => {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let off = start;
    while (off + 8 <= bytes.byteLength) {
      const t = tag(view, off, src);
      if (t.type === MI.COMPRESSED) {
        let inner: Uint8Array;
        try { inner = unzlibSync(bytes.subarray(t.dataOff, t.dataOff + t.size)); } catch (e) { throw new Error(`${src}: corrupt compressed element at byte ${off} (${(e as Error).message})`); }
        walk(inner, 0);
        off = t.dataOff + t.size; // compressed elements are not padded
      } else if (t.type === MI.MATRIX) {
        const [name, v] = parseMatrix(view, t.dataOff, t.dataOff + t.size, src);
        out[name] = v;
        off = t.next;
      } else off = t.next;
    }
  };
  walk(buf, 128);
  return out;
}

/** Writes top-level variables as a compressed level-5 MAT-file. Numbers → double; boolean[] → logical. */
export function formatMat(
  vars: Record<string, { rows: number; cols: number; data: ArrayLike<number>; logical?: boolean } | string>,
  compress = true,
): Uint8Array {
  const parts: Uint8Array[] = [];
  const header = new Uint8Array(128).fill(0x20);
  header.set(new TextEncoder().encode('MATLAB 5.0 MAT-file, Platform: paperlab, Created by paperlab action'));
  header[124] = 0x00; header[125] = 0x01; header[126] = 0x49; header[127] = 0x4d;
  parts.push(header);
  const el = (type: number, payload: Uint8Array): Uint8Array => {
    const pad = (8 - (payload.length % 8)) % 8;
    const b = new Uint8Array(8 + payload.length + pad);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, true); v.setUint32(4, payload.length, true);
    b.set(payload, 8);
    return b;
  };
  const cat = (xs: Uint8Array[]) => {
    const n = xs.reduce((s, x) => s + x.length, 0);
    const o = new Uint8Array(n);
    let p = 0;
    for (const x of xs) { o.set(x, p); p += x.length; }
    return o;
  };
  for (const [name, val] of Object.entries(vars)) {
    let cls: number, flagBits = 0, dims: number[], data: Uint8Array, dtype: number;
    if (typeof val === 'string') {
      cls = 4; dims = [1, val.length]; dtype = MI.UINT16;
      const u = new Uint16Array([...val].map((c) => c.charCodeAt(0)));
      data = new Uint8Array(u.buffer);
    } else if (val.logical) {
      cls = 9; flagBits = 0x200; dims = [val.rows, val.cols]; dtype = MI.UINT8; data = Uint8Array.from(val.data as ArrayLike<number>, (x) => (x ? 1 : 0));
    } else {
      cls = 6; dims = [val.rows, val.cols]; dtype = MI.DOUBLE; data = new Uint8Array(Float64Array.from(val.data).buffer);
    }
    if (typeof val !== 'string' && val.data.length !== val.rows * val.cols) throw new Error(`formatMat: '${name}' has ${val.data.length} values for ${val.rows}×${val.cols}`);
    const flags = new Uint8Array(8); new DataView(flags.buffer).setUint32(0, cls | flagBits, true);
    const matrix = el(
      MI.MATRIX,
      cat([el(MI.UINT32, flags), el(MI.INT32, new Uint8Array(Int32Array.from(dims).buffer)), el(MI.INT8, new TextEncoder().encode(name)), el(dtype, data)]),
    );
    if (!compress) { parts.push(matrix); continue; }
    const z = zlibSync(matrix);
    const t = new Uint8Array(8); const tv = new DataView(t.buffer); tv.setUint32(0, MI.COMPRESSED, true); tv.setUint32(4, z.length, true);
    parts.push(t, z);
  }
  return cat(parts);
}

/** A numeric MAT variable as [row][col] (undoing column-major storage). */
export function matRows(v: MatValue, name: string, src: string): number[][] {
  if (v.kind !== 'numeric') throw new Error(`${src}: '${name}' must be numeric, got char`);
  const [r, c] = [v.dims[0]!, v.dims[1] ?? 1];
  return Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => v.data[j * r + i]!));
}

export interface PennEntry {
  id: string;
  action: string;
  label: number;
  pose: string;
  /** [frame][joint] pixels */
  x: number[][];
  y: number[][];
  visibility: boolean[][];
  train: boolean;
  nframes: number;
  bbox: number[][];
  dimensions: number[];
}

/** Reads one Penn Action annotation (`labels/NNNN.mat`, or `.json` with the same fields). */
export function readPennLabel(file: string): PennEntry {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such Penn Action label file`);
  const id = path.basename(file).replace(/\.(mat|json)$/, '');
  let get: (k: string) => unknown;
  if (file.endsWith('.json')) {
    const j = parseJson<Record<string, unknown>>(fs.readFileSync(file, 'utf8'), file);
    if (typeof j !== 'object' || j === null) throw new Error(`${file}: expected a JSON object with fields action, x, y, train`);
    get = (k) => j[k];
  } else {
    const m = parseMat(fs.readFileSync(file), file);
    get = (k) => {
      const v = m[k];
      if (!v) return undefined;
      if (v.kind === 'char') return v.text;
      const rows = matRows(v, k, file);
      return v.logical ? rows.map((r) => r.map((x) => x !== 0)) : rows.length === 1 && rows[0]!.length === 1 ? rows[0]![0] : rows;
    };
  }
  const need = (k: string) => { const v = get(k); if (v === undefined) throw new Error(`${file}: missing field '${k}'`); return v; };
  const action = String(need('action')).trim();
  const label = (PENN_CLASSES as readonly string[]).indexOf(action);
  if (label < 0) throw new Error(`${file}: field 'action' is not one of ${PENN_CLASSES.join(', ')}`);
  const x = need('x') as number[][], y = need('y') as number[][];
  const nframes = Number(get('nframes') ?? x.length);
  const vis = (get('visibility') as (boolean | number)[][] | undefined) ?? x.map((r) => r.map(() => true));
  for (const [k, a] of [['x', x], ['y', y], ['visibility', vis]] as const) {
    if (!Array.isArray(a) || a.length !== nframes || a.some((r) => !Array.isArray(r) || r.length !== PENN_JOINTS)) {
      throw new Error(`${file}: field '${k}' must be nframes×13 (${nframes}×13)`);
    }
  }
  const tr = Number(need('train'));
  if (tr !== 1 && tr !== -1) throw new Error(`${file}: field 'train' must be 1 or -1`);
  const dims = get('dimensions') as number[][] | number[] | undefined;
  return {
    id, action, label, pose: String(get('pose') ?? ''), x, y, visibility: vis.map((r) => r.map((v) => Boolean(v))), train: tr === 1, nframes,
    bbox: (get('bbox') as number[][] | undefined) ?? [], dimensions: Array.isArray(dims) ? (dims.flat() as number[]) : [],
  };
}

/** All annotations of a Penn Action root (`<dir>/labels/*.mat|json`). */
export function listPenn(dir: string): PennEntry[] {
  const ld = path.join(dir, 'labels');
  if (!fs.existsSync(ld)) throw new Error(`${dir}: no 'labels' folder (expected the Penn Action layout labels/NNNN.mat, frames/NNNN/)`);
  const files = fs.readdirSync(ld).filter((f) => /\.(mat|json)$/.test(f)).sort();
  if (files.length === 0) throw new Error(`${ld}: no .mat or .json annotations`);
  return files.map((f) => readPennLabel(path.join(ld, f)));
}

/** Penn entry → [T·13·3] (x, y up, visibility), centred on the hip midpoint of the first frame, scaled by torso length. */
export function pennToPose(e: PennEntry, frames: number): Float32Array {
  const J = PENN_JOINTS;
  const hx = (e.x[0]![7]! + e.x[0]![8]!) / 2, hy = (e.y[0]![7]! + e.y[0]![8]!) / 2;
  let torso = 0;
  for (let f = 0; f < e.nframes; f++) {
    torso += Math.hypot((e.x[f]![1]! + e.x[f]![2]!) / 2 - (e.x[f]![7]! + e.x[f]![8]!) / 2, (e.y[f]![1]! + e.y[f]![2]!) / 2 - (e.y[f]![7]! + e.y[f]![8]!) / 2);
  }
  const s = torso > 1e-6 ? e.nframes / torso : 1;
  const out = new Float32Array(frames * J * 3);
  for (let t = 0; t < frames; t++) {
    const f = Math.min(e.nframes - 1, Math.floor(((t + 0.5) * e.nframes) / frames));
    for (let j = 0; j < J; j++) {
      const k = (t * J + j) * 3;
      out[k] = (e.x[f]![j]! - hx) * s; out[k + 1] = -(e.y[f]![j]! - hy) * s; out[k + 2] = e.visibility[f]![j] ? 1 : 0;
    }
  }
  return out;
}
