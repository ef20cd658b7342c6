// NumPy .npy (format 1.0–3.0) and .npz readers, for the arrays picai_eval accepts beside NIfTI and
// MetaImage (its image_utils.read_image): a .npy holds the volume itself, indexed [z, y, x] as
// SimpleITK's GetArrayFromImage gives it; a .npz is nnU-Net's softmax export, whose `softmax` (or
// `probabilities`) array is [class, z, y, x] and whose class 1 is the csPCa probability. No npm
// reader of .npy is in the dependencies and the format is a 10-line header, so this is our own;
// the zip container of .npz is read with fflate.
import fs from 'node:fs';
import { unzipSync } from 'fflate';
import { ImageFormatError } from './metaimage.ts';
import { makeVolume } from './volume.ts';
import { halfBitsToNumber } from '../../core/io/ndarray.ts';
import type { Volume, VoxelArray } from './volume.ts';

export interface NpyArray { shape: number[]; data: VoxelArray }

const DESCR: Record<string, { bytes: number; read: (v: DataView, o: number, le: boolean) => number; out: 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64' }> = {
  b1: { bytes: 1, read: (v, o) => (v.getUint8(o) ? 1 : 0), out: 'uint8' },
  u1: { bytes: 1, read: (v, o) => v.getUint8(o), out: 'uint8' },
  i1: { bytes: 1, read: (v, o) => v.getInt8(o), out: 'int8' },
  u2: { bytes: 2, read: (v, o, le) => v.getUint16(o, le), out: 'uint16' },
  i2: { bytes: 2, read: (v, o, le) => v.getInt16(o, le), out: 'int16' },
  u4: { bytes: 4, read: (v, o, le) => v.getUint32(o, le), out: 'uint32' },
  i4: { bytes: 4, read: (v, o, le) => v.getInt32(o, le), out: 'int32' },
  // 64-bit integers (numpy's default int) become float64: exact below 2^53, far beyond any label value
  u8: { bytes: 8, read: (v, o, le) => Number(v.getBigUint64(o, le)), out: 'float64' },
  i8: { bytes: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)), out: 'float64' },
  f2: { bytes: 2, read: (v, o, le) => halfBitsToNumber(v.getUint16(o, le)), out: 'float32' },
  f4: { bytes: 4, read: (v, o, le) => v.getFloat32(o, le), out: 'float32' },
  f8: { bytes: 8, read: (v, o, le) => v.getFloat64(o, le), out: 'float64' },
};

const ARRAYS = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array, uint32: Uint32Array, int32: Int32Array,
  float32: Float32Array, float64: Float64Array,
};

/** Parses .npy bytes; `file` names the file (and the .npz member) in errors. C order; Fortran order is transposed to C order. */
export function decodeNpy(bytes: Uint8Array, file: string): NpyArray {
  const magic = Buffer.from(bytes.subarray(0, 6)).toString('latin1');
  if (bytes.length < 10 || magic !== '\x93NUMPY') throw new ImageFormatError(file, 'magic', 'not a NumPy .npy file (the magic string \\x93NUMPY is missing)');
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  if (![1, 2, 3].includes(major) || hstart + hlen > bytes.length) throw new ImageFormatError(file, 'header', `unsupported .npy version ${major} or truncated header`);
  const header = Buffer.from(bytes.subarray(hstart, hstart + hlen)).toString('latin1');
  const descr = /'descr'\s*:\s*'([<>|=])([a-z]\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr) throw new ImageFormatError(file, 'descr', 'missing, or not a plain numeric dtype (structured and object arrays are refused)');
  if (!fortran) throw new ImageFormatError(file, 'fortran_order', 'missing from the header');
  if (!shapeM) throw new ImageFormatError(file, 'shape', 'missing from the header');
  const kind = DESCR[descr[2]!];
  if (!kind) throw new ImageFormatError(file, 'descr', `dtype code '${descr[2]}' is not supported (supported: ${Object.keys(DESCR).join(', ')})`);
  const shape = shapeM[1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (shape.some((n) => !Number.isInteger(n) || n < 0)) throw new ImageFormatError(file, 'shape', 'must be a tuple of non-negative integers');
  const n = shape.reduce((a, b) => a * b, 1);
  const start = hstart + hlen;
  if (bytes.length < start + n * kind.bytes) {
    throw new ImageFormatError(file, 'data', `shape (${shape.join(', ')}) needs ${n * kind.bytes} bytes of data, the file holds ${bytes.length - start} (truncated file)`);
  }
  const le = descr[1] !== '>';
  const out = new ARRAYS[kind.out](n);
  for (let i = 0; i < n; i++) out[i] = kind.read(dv, start + i * kind.bytes, le);
  if (fortran[1] === 'True' && shape.length > 1) return { shape, data: fortranToC(out, shape) };
  return { shape, data: out };
}

function fortranToC(a: VoxelArray, shape: number[]): VoxelArray {
  const out = new (a.constructor as new (n: number) => VoxelArray)(a.length);
  const nd = shape.length;
  const idx = new Array<number>(nd).fill(0);
  const fStride = shape.map((_, k) => shape.slice(0, k).reduce((p, q) => p * q, 1));
  for (let c = 0; c < a.length; c++) {
    let f = 0;
    for (let k = 0; k < nd; k++) f += idx[k]! * fStride[k]!;
    out[c] = a[f]!;
    for (let k = nd - 1; k >= 0; k--) { if (++idx[k]! < shape[k]!) break; idx[k] = 0; }
  }
  return out;
}

/** The members of a .npz (zip of .npy files, stored or deflated), by name without '.npy'. */
export function decodeNpz(bytes: Uint8Array, file: string): Record<string, NpyArray> {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch {
    throw new ImageFormatError(file, 'zip', 'not a readable .npz (zip) archive (truncated or corrupt file)');
  }
  const out: Record<string, NpyArray> = {};
  for (const [name, b] of Object.entries(files)) out[name.replace(/\.npy$/, '')] = decodeNpy(b, `${file}:${name}`);
  return out;
}

/** A 3-D [z, y, x] array as a Volume (unit spacing, identity geometry: .npy carries none). */
function arrayVolume(a: NpyArray, file: string, key: string): Volume {
  const s = a.shape.length === 4 && a.shape[0] === 1 ? a.shape.slice(1) : a.shape;
  if (s.length !== 3) throw new ImageFormatError(file, key, `expected a 3-D [z, y, x] array, got shape (${a.shape.join(', ')})`);
  return makeVolume([s[2]!, s[1]!, s[0]!], { data: a.data });
}

/**
 * Reads a volume as picai_eval does: .npy is the [z, y, x] array; .npz holds nnU-Net's `softmax`
 * (else `probabilities`) [class, z, y, x], of which class 1 is returned (`fromSoftmax` true), or a
 * single 3-D array under any name.
 */
export function readNumpyVolume(file: string): { volume: Volume; fromSoftmax: boolean } {
  if (!fs.existsSync(file)) throw new ImageFormatError(file, '', 'no such file');
  const bytes = new Uint8Array(fs.readFileSync(file));
  if (/\.npy$/i.test(file)) return { volume: arrayVolume(decodeNpy(bytes, file), file, 'shape'), fromSoftmax: false };
  const z = decodeNpz(bytes, file);
  const key = 'softmax' in z ? 'softmax' : 'probabilities' in z ? 'probabilities' : null;
  if (key) {
    const a = z[key]!;
    if (a.shape.length !== 4 || a.shape[0]! < 2) throw new ImageFormatError(file, key, `expected nnU-Net's [class, z, y, x] softmax with at least 2 classes, got shape (${a.shape.join(', ')})`);
    const n = a.shape[1]! * a.shape[2]! * a.shape[3]!;
    const data = Float32Array.from(a.data.subarray(n, 2 * n) as ArrayLike<number>);
    return { volume: arrayVolume({ shape: a.shape.slice(1), data }, file, key), fromSoftmax: true };
  }
  const names = Object.keys(z);
  if (names.length !== 1) throw new ImageFormatError(file, 'softmax', `no 'softmax' or 'probabilities' array, and ${names.length} arrays instead of one`);
  return { volume: arrayVolume(z[names[0]!]!, file, names[0]!), fromSoftmax: false };
}
