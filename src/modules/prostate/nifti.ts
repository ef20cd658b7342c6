// NIfTI-1 (.nii / .nii.gz) reader and writer: PI-CAI labels and zonal masks.
// Reading parses the header with nifti-reader-js (gunzip with fflate) and adds the checks it does
// not make (truncation, dims, datatypes); writing is our own (nifti-reader-js only reads).
// Geometry is converted to ITK's LPS convention the way ITK's NiftiImageIO does: sform if
// sform_code > 0, else qform, else pixdim only; RAS → LPS by negating the first two world rows.
import fs from 'node:fs';
import * as nifti from 'nifti-reader-js';
import { gunzipSync, gzipSync } from 'fflate';
import { writeFileAtomic } from '../../core/io/atomic.ts';
import { BYTES, decodeVoxels, encodeVoxels, type ElementType, type Volume } from './volume.ts';
import { ImageFormatError } from './metaimage.ts';

const NIFTI_TYPES: Record<number, ElementType> = {
  2: 'uint8', 4: 'int16', 8: 'int32', 16: 'float32', 64: 'float64', 256: 'int8', 512: 'uint16', 768: 'uint32',
};
const NIFTI_CODE: Record<ElementType, number> = Object.fromEntries(Object.entries(NIFTI_TYPES).map(([k, v]) => [v, Number(k)])) as Record<ElementType, number>;

export function readNifti(file: string): Volume {
  if (!fs.existsSync(file)) throw new ImageFormatError(file, '', 'no such file');
  return decodeNifti(new Uint8Array(fs.readFileSync(file)), file);
}

export function decodeNifti(bytes0: Uint8Array, file: string): Volume {
  let bytes = bytes0;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new ImageFormatError(file, 'gzip', `cannot gunzip (${(e as Error).message}; truncated or corrupt file)`);
    }
  }
  if (bytes.length < 348) throw new ImageFormatError(file, 'sizeof_hdr', `file holds ${bytes.length} bytes, less than the 348-byte NIfTI-1 header (truncated file)`);
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  if (!nifti.isNIFTI1(ab)) {
    throw new ImageFormatError(file, 'magic', nifti.isNIFTI2(ab) ? 'NIfTI-2 files are not supported' : "not a NIfTI-1 file (sizeof_hdr must be 348 and magic 'n+1')");
  }
  const h = nifti.readHeader(ab) as nifti.NIFTI1;
  const nd = h.dims[0]!;
  if (nd < 2 || nd > 4 || (nd === 4 && h.dims[4]! > 1)) throw new ImageFormatError(file, 'dim', `only 3-D scalar images are supported, dim = [${h.dims.slice(0, nd + 1).join(', ')}]`);
  const dims = [h.dims[1]!, h.dims[2]!, nd >= 3 ? h.dims[3]! : 1] as [number, number, number];
  if (dims.some((d) => !(d >= 1))) throw new ImageFormatError(file, 'dim', `sizes must be positive, got [${dims.join(', ')}]`);
  const type = NIFTI_TYPES[h.datatypeCode];
  if (!type) throw new ImageFormatError(file, 'datatype', `unsupported datatype code ${h.datatypeCode} (supported: ${Object.keys(NIFTI_TYPES).join(', ')})`);
  if (h.numBitsPerVoxel !== BYTES[type] * 8) throw new ImageFormatError(file, 'bitpix', `bitpix ${h.numBitsPerVoxel} does not match datatype ${type}`);
  const n = dims[0] * dims[1] * dims[2];
  const off = Math.floor(h.vox_offset);
  const need = n * BYTES[type];
  if (off < 348) throw new ImageFormatError(file, 'vox_offset', `vox_offset ${h.vox_offset} is inside the header`);
  if (bytes.length < off + need) throw new ImageFormatError(file, 'vox_offset', `image data needs ${need} bytes after vox_offset ${off}, file holds ${Math.max(0, bytes.length - off)} (truncated file)`);
  let data = decodeVoxels(bytes.subarray(off, off + need), type, n, h.littleEndian);
  const slope = h.scl_slope, inter = h.scl_inter;
  let elementType = type;
  if (Number.isFinite(slope) && slope !== 0 && (slope !== 1 || (Number.isFinite(inter) && inter !== 0))) {
    const f = new Float32Array(n);
    for (let i = 0; i < n; i++) f[i] = data[i]! * slope + (inter || 0);
    data = f; elementType = 'float32';
  }
  // geometry
  const pix = [Math.abs(h.pixDims[1]!) || 1, Math.abs(h.pixDims[2]!) || 1, nd >= 3 ? Math.abs(h.pixDims[3]!) || 1 : 1] as [number, number, number];
  let A: number[][]; // 3×4 RAS affine
  if (h.sform_code > 0) A = h.affine.slice(0, 3).map((r) => [...r]);
  else if (h.qform_code > 0) A = qformAffine(h, pix);
  else A = [[pix[0], 0, 0, 0], [0, pix[1], 0, 0], [0, 0, pix[2], 0]];
  for (const r of [0, 1]) for (let c = 0; c < 4; c++) A[r]![c] = -A[r]![c]!;
  const direction: number[] = [];
  for (let c = 0; c < 3; c++) {
    const col = [A[0]![c]!, A[1]![c]!, A[2]![c]!];
    const norm = Math.hypot(...col) || 1;
    direction.push(...col.map((x) => x / norm));
  }
  return { data, dims, spacing: pix, origin: [A[0]![3]!, A[1]![3]!, A[2]![3]!], direction, elementType, meta: {} };
}

function qformAffine(h: nifti.NIFTI1, pix: number[]): number[][] {
  const b = h.quatern_b, c = h.quatern_c, d = h.quatern_d;
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const qfac = h.pixDims[0]! < 0 ? -1 : 1;
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const s = [pix[0]!, pix[1]!, pix[2]! * qfac];
  return R.map((row, r) => [row[0]! * s[0]!, row[1]! * s[1]!, row[2]! * s[2]!, [h.qoffset_x, h.qoffset_y, h.qoffset_z][r]!]);
}

/** Quaternion (b, c, d) and qfac of a rotation(-reflection) matrix R (rows), as nifti_mat44_to_quatern. */
function toQuatern(R0: number[][]): { b: number; c: number; d: number; qfac: number } {
  const R = R0.map((r) => [...r]);
  const det = R[0]![0]! * (R[1]![1]! * R[2]![2]! - R[1]![2]! * R[2]![1]!)
    - R[0]![1]! * (R[1]![0]! * R[2]![2]! - R[1]![2]! * R[2]![0]!)
    + R[0]![2]! * (R[1]![0]! * R[2]![1]! - R[1]![1]! * R[2]![0]!);
  let qfac = 1;
  if (det < 0) { qfac = -1; for (let r = 0; r < 3; r++) R[r]![2] = -R[r]![2]!; }
  const [r11, r12, r13] = R[0]!, [r21, r22, r23] = R[1]!, [r31, r32, r33] = R[2]!;
  let a = r11! + r22! + r33! + 1, b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = 0.25 * (r32! - r23!) / a; c = 0.25 * (r13! - r31!) / a; d = 0.25 * (r21! - r12!) / a;
  } else {
    const xd = 1 + r11! - (r22! + r33!), yd = 1 + r22! - (r11! + r33!), zd = 1 + r33! - (r11! + r22!);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd); c = 0.25 * (r12! + r21!) / b; d = 0.25 * (r13! + r31!) / b; a = 0.25 * (r32! - r23!) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd); b = 0.25 * (r12! + r21!) / c; d = 0.25 * (r23! + r32!) / c; a = 0.25 * (r13! - r31!) / c;
    } else {
      d = 0.5 * Math.sqrt(zd); b = 0.25 * (r13! + r31!) / d; c = 0.25 * (r23! + r32!) / d; a = 0.25 * (r21! - r12!) / d;
    }
    if (a < 0) { b = -b; c = -c; d = -d; }
  }
  return { b, c, d, qfac };
}

/** Encodes a Volume as NIfTI-1 single-file bytes (gzip when `gzip`). Both qform and sform are set (code 1). */
export function encodeNifti(v: Volume, gzip: boolean): Uint8Array {
  const n = v.dims[0] * v.dims[1] * v.dims[2];
  if (v.data.length !== n) throw new Error(`writeNifti: data has ${v.data.length} voxels, dims ${v.dims.join('x')} need ${n}`);
  const hdr = new ArrayBuffer(352);
  const dv = new DataView(hdr);
  dv.setInt32(0, 348, true);
  dv.setUint8(39, 0); // dim_info
  const dim = [3, v.dims[0], v.dims[1], v.dims[2], 1, 1, 1, 1];
  dim.forEach((d, i) => dv.setInt16(40 + 2 * i, d, true));
  dv.setInt16(70, NIFTI_CODE[v.elementType], true);
  dv.setInt16(72, BYTES[v.elementType] * 8, true);
  // RAS affine from the LPS geometry
  const D = v.direction;
  const A = [0, 1, 2].map((r) => [0, 1, 2].map((c) => (r < 2 ? -1 : 1) * D[3 * c + r]! * v.spacing[c]!));
  const O = v.origin.map((x, r) => (r < 2 ? -x : x));
  const Rn = [0, 1, 2].map((r) => [0, 1, 2].map((c) => A[r]![c]! / v.spacing[c]!));
  const q = toQuatern(Rn);
  const pixdim = [q.qfac, v.spacing[0], v.spacing[1], v.spacing[2], 1, 1, 1, 1];
  pixdim.forEach((p, i) => dv.setFloat32(76 + 4 * i, p, true));
  dv.setFloat32(108, 352, true); // vox_offset
  dv.setFloat32(112, 1, true); // scl_slope
  dv.setFloat32(116, 0, true);
  dv.setUint8(123, 2 | 8); // xyzt_units: mm, s
  dv.setInt16(252, 1, true); // qform_code scanner
  dv.setInt16(254, 1, true); // sform_code scanner
  dv.setFloat32(256, q.b, true); dv.setFloat32(260, q.c, true); dv.setFloat32(264, q.d, true);
  dv.setFloat32(268, O[0]!, true); dv.setFloat32(272, O[1]!, true); dv.setFloat32(276, O[2]!, true);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) dv.setFloat32(280 + 16 * r + 4 * c, A[r]![c]!, true);
    dv.setFloat32(280 + 16 * r + 12, O[r]!, true);
  }
  const magic = [0x6e, 0x2b, 0x31, 0];
  magic.forEach((b, i) => dv.setUint8(344 + i, b));
  const raw = encodeVoxels(v.data);
  const out = new Uint8Array(352 + raw.length);
  out.set(new Uint8Array(hdr), 0);
  out.set(raw, 352);
  return gzip ? gzipSync(out, { level: 6 }) : out;
}

/** Writes .nii or .nii.gz (by name), atomically. */
export function writeNifti(file: string, v: Volume): void {
  if (!/\.nii(\.gz)?$/i.test(file)) throw new Error(`${file}: NIfTI files end in .nii or .nii.gz`);
  writeFileAtomic(file, encodeNifti(v, /\.gz$/i.test(file)));
}
