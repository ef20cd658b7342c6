// MetaImage (.mha) and NIfTI-1 (.nii, .nii.gz) readers for the slice viewer, in the browser: plain
// ESM with no dependency (zlib / gzip by DecompressionStream), so Node runs the same module in
// test/server/slices-parse.test.ts against the TypeScript readers of src/modules/prostate/.
// A volume is { dims: [nx, ny, nz], spacing, origin, direction (ITK/LPS, column by column), data,
// elementType }, data x-fastest as both formats store it. Geometry follows the TS readers: NIfTI's
// sform if sform_code > 0, else qform, else pixdim only, turned from RAS to LPS.
/* global Blob, DecompressionStream, Response */

/** A file the viewer cannot read: names the file and the header key at fault, never its content. */
export class VolumeFormatError extends Error {
  constructor(file, key, message) {
    super(`${file}: ${key ? `'${key}': ` : ''}${message}`);
    this.name = 'VolumeFormatError';
    this.file = file;
    this.key = key;
  }
}

const BYTES = { uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8 };
const ARRAYS = {
  uint8: Uint8Array, int8: Int8Array, uint16: Uint16Array, int16: Int16Array,
  uint32: Uint32Array, int32: Int32Array, float32: Float32Array, float64: Float64Array,
};
const GETTERS = { uint8: 'getUint8', int8: 'getInt8', uint16: 'getUint16', int16: 'getInt16', uint32: 'getUint32', int32: 'getInt32', float32: 'getFloat32', float64: 'getFloat64' };
const MET_TYPES = {
  MET_UCHAR: 'uint8', MET_CHAR: 'int8', MET_USHORT: 'uint16', MET_SHORT: 'int16', MET_UINT: 'uint32', MET_INT: 'int32', MET_FLOAT: 'float32', MET_DOUBLE: 'float64',
};
const NIFTI_TYPES = { 2: 'uint8', 4: 'int16', 8: 'int32', 16: 'float32', 64: 'float64', 256: 'int8', 512: 'uint16', 768: 'uint32' };

/** zlib ('deflate') or gzip bytes, inflated by the platform's DecompressionStream. */
async function inflate(bytes, format, file, key) {
  try {
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream(format));
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new VolumeFormatError(file, key, `${format === 'gzip' ? 'cannot gunzip' : 'zlib payload cannot be inflated'} (${e.message}; truncated or corrupt file)`);
  }
}

/** Voxels of `type` from bytes in either byte order (a copy: alignment never matters). */
export function decodeVoxels(bytes, type, n, littleEndian) {
  const out = new ARRAYS[type](n);
  const b = BYTES[type];
  if (b === 1) { out.set(type === 'int8' ? new Int8Array(bytes.buffer, bytes.byteOffset, n) : bytes.subarray(0, n)); return out; }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, n * b);
  const get = dv[GETTERS[type]].bind(dv);
  for (let i = 0; i < n; i++) out[i] = get(i * b, littleEndian);
  return out;
}

/** Reads .mha / .nii / .nii.gz bytes by the file name's extension. */
export async function parseVolume(bytes, file) {
  if (/\.mha$/i.test(file)) return parseMetaImage(bytes, file);
  if (/\.nii(\.gz)?$/i.test(file)) return parseNifti(bytes, file);
  throw new VolumeFormatError(file, '', 'unknown image extension (expected .mha, .nii or .nii.gz)');
}

// ------------------------------------------------------------------ MetaImage
function metaHeader(bytes, file) {
  const fields = {};
  const text = new TextDecoder('latin1');
  const limit = Math.min(bytes.length, 1 << 20);
  for (let pos = 0, lineNo = 1; pos < limit; lineNo++) {
    let end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end > limit) end = bytes.length;
    const line = text.decode(bytes.subarray(pos, end)).replace(/\r$/, '');
    pos = end + 1;
    if (line.trim() === '') continue;
    const eq = line.indexOf('=');
    if (eq < 0) throw new VolumeFormatError(file, '', `header line ${lineNo} is not 'Key = Value' (not a MetaImage file, or a corrupt header)`);
    const key = line.slice(0, eq).trim();
    fields[key] = line.slice(eq + 1).trim();
    if (key === 'ElementDataFile') return { fields, dataStart: Math.min(pos, bytes.length) };
  }
  throw new VolumeFormatError(file, 'ElementDataFile', 'header ends without an ElementDataFile line (truncated header?)');
}

function numbers(f, keys, n, file, required) {
  const k = keys.find((x) => x in f);
  if (!k) {
    if (required) throw new VolumeFormatError(file, keys[0], 'required key is missing');
    return null;
  }
  const parts = f[k].split(/\s+/).filter(Boolean).map(Number);
  if (parts.length !== n || parts.some((x) => !Number.isFinite(x))) {
    throw new VolumeFormatError(file, k, `expected ${n} number(s) separated by spaces, got ${parts.length} value(s)`);
  }
  return parts;
}

const truthy = (v) => v !== undefined && /^(true|1)$/i.test(v);

export async function parseMetaImage(bytes, file) {
  const { fields: f, dataStart } = metaHeader(bytes, file);
  if (f.ObjectType && f.ObjectType.toLowerCase() !== 'image') throw new VolumeFormatError(file, 'ObjectType', 'expected Image');
  if (!('NDims' in f)) throw new VolumeFormatError(file, 'NDims', 'required key is missing');
  const nd = Number(f.NDims);
  if (nd !== 2 && nd !== 3) throw new VolumeFormatError(file, 'NDims', 'only 2-D and 3-D images are supported (NDims = 2 or 3)');
  const dim = numbers(f, ['DimSize'], nd, file, true);
  if (dim.some((d) => !Number.isInteger(d) || d < 1)) throw new VolumeFormatError(file, 'DimSize', 'sizes must be positive integers');
  const type = MET_TYPES[f.ElementType];
  if (!f.ElementType) throw new VolumeFormatError(file, 'ElementType', 'required key is missing');
  if (!type) throw new VolumeFormatError(file, 'ElementType', `unsupported element type (supported: ${Object.keys(MET_TYPES).join(', ')})`);
  if (f.ElementNumberOfChannels && Number(f.ElementNumberOfChannels) !== 1) throw new VolumeFormatError(file, 'ElementNumberOfChannels', 'only scalar images are supported (1 channel)');
  if ('BinaryData' in f && !truthy(f.BinaryData)) throw new VolumeFormatError(file, 'BinaryData', 'ASCII payloads are not supported');
  if (f.ElementDataFile !== 'LOCAL') throw new VolumeFormatError(file, 'ElementDataFile', 'only single-file .mha (LOCAL payload) is read in the browser');
  const msb = truthy(f.BinaryDataByteOrderMSB ?? f.ElementByteOrderMSB);
  const pad = (a, v) => (a && nd === 2 ? [...a, v] : a);
  const spacing = pad(numbers(f, ['ElementSpacing', 'ElementSize'], nd, file, false), 1) ?? [1, 1, 1];
  const origin = pad(numbers(f, ['Offset', 'Origin', 'Position'], nd, file, false), 0) ?? [0, 0, 0];
  const tm = numbers(f, ['TransformMatrix', 'Rotation', 'Orientation'], nd * nd, file, false);
  const direction = !tm ? [1, 0, 0, 0, 1, 0, 0, 0, 1] : nd === 3 ? tm : [tm[0], tm[1], 0, tm[2], tm[3], 0, 0, 0, 1];
  const dims = [dim[0], dim[1], nd === 3 ? dim[2] : 1];
  const n = dims[0] * dims[1] * dims[2];
  const need = n * BYTES[type];
  let payload = bytes.subarray(dataStart);
  if (truthy(f.CompressedData)) {
    if ('CompressedDataSize' in f) {
      const cs = Number(f.CompressedDataSize);
      if (!Number.isInteger(cs) || cs < 0) throw new VolumeFormatError(file, 'CompressedDataSize', 'not a byte count (a non-negative integer)');
      if (payload.length < cs) throw new VolumeFormatError(file, 'CompressedDataSize', `header promises ${cs} compressed bytes but the file holds ${payload.length} (truncated file)`);
      payload = payload.subarray(0, cs);
    }
    payload = await inflate(payload, 'deflate', file, 'CompressedData');
    if (payload.length !== need) throw new VolumeFormatError(file, 'DimSize', `inflated payload has ${payload.length} bytes but DimSize ${dim.join(' ')} × ${f.ElementType} needs ${need}`);
  } else if (payload.length < need) {
    throw new VolumeFormatError(file, 'DimSize', `payload has ${payload.length} bytes but DimSize ${dim.join(' ')} × ${f.ElementType} needs ${need} (truncated file)`);
  }
  return { dims, spacing, origin, direction, elementType: type, data: decodeVoxels(payload, type, n, !msb) };
}

// ------------------------------------------------------------------ NIfTI-1
export async function parseNifti(bytes0, file) {
  let bytes = bytes0;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) bytes = await inflate(bytes, 'gzip', file, 'gzip');
  if (bytes.length < 348) throw new VolumeFormatError(file, 'sizeof_hdr', `file holds ${bytes.length} bytes, less than the 348-byte NIfTI-1 header (truncated file)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dv.getInt32(0, true) === 348;
  if (!le && dv.getInt32(0, false) !== 348) {
    const v2 = dv.getInt32(0, true) === 540 || dv.getInt32(0, false) === 540;
    throw new VolumeFormatError(file, 'sizeof_hdr', v2 ? 'NIfTI-2 files are not supported' : "not a NIfTI-1 file (sizeof_hdr must be 348 and magic 'n+1')");
  }
  const magic = String.fromCharCode(bytes[344], bytes[345], bytes[346]);
  if (magic !== 'n+1') throw new VolumeFormatError(file, 'magic', magic === 'ni1' ? 'a two-file NIfTI (.hdr/.img) is not read here' : "not a NIfTI-1 file (magic must be 'n+1')");
  const i16 = (o) => dv.getInt16(o, le), f32 = (o) => dv.getFloat32(o, le);
  const dim = Array.from({ length: 8 }, (_, i) => i16(40 + 2 * i));
  const nd = dim[0];
  if (nd < 2 || nd > 4 || (nd === 4 && dim[4] > 1)) throw new VolumeFormatError(file, 'dim', `only 3-D scalar images are supported, dim = [${dim.slice(0, Math.max(1, Math.min(8, nd + 1))).join(', ')}]`);
  const dims = [dim[1], dim[2], nd >= 3 ? dim[3] : 1];
  if (dims.some((d) => !(d >= 1))) throw new VolumeFormatError(file, 'dim', `sizes must be positive, got [${dims.join(', ')}]`);
  const code = i16(70);
  const type = NIFTI_TYPES[code];
  if (!type) throw new VolumeFormatError(file, 'datatype', `unsupported datatype code ${code} (supported: ${Object.keys(NIFTI_TYPES).join(', ')})`);
  if (i16(72) !== BYTES[type] * 8) throw new VolumeFormatError(file, 'bitpix', `bitpix ${i16(72)} does not match datatype ${type}`);
  const n = dims[0] * dims[1] * dims[2];
  const voxOffset = f32(108);
  const off = Math.floor(voxOffset);
  const need = n * BYTES[type];
  if (!(off >= 348)) throw new VolumeFormatError(file, 'vox_offset', `vox_offset ${voxOffset} is inside the header`);
  if (bytes.length < off + need) throw new VolumeFormatError(file, 'vox_offset', `image data needs ${need} bytes after vox_offset ${off}, file holds ${Math.max(0, bytes.length - off)} (truncated file)`);
  let data = decodeVoxels(bytes.subarray(off, off + need), type, n, le);
  let elementType = type;
  const slope = f32(112), inter = f32(116);
  if (Number.isFinite(slope) && slope !== 0 && (slope !== 1 || (Number.isFinite(inter) && inter !== 0))) {
    const s = new Float32Array(n);
    for (let i = 0; i < n; i++) s[i] = data[i] * slope + (inter || 0);
    data = s; elementType = 'float32';
  }
  const pixdim = Array.from({ length: 8 }, (_, i) => f32(76 + 4 * i));
  const pix = [Math.abs(pixdim[1]) || 1, Math.abs(pixdim[2]) || 1, nd >= 3 ? Math.abs(pixdim[3]) || 1 : 1];
  let A; // 3×4 RAS affine
  if (i16(254) > 0) A = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => f32(280 + 16 * r + 4 * c)));
  else if (i16(252) > 0) A = qformAffine([f32(256), f32(260), f32(264)], [f32(268), f32(272), f32(276)], pix, pixdim[0] < 0 ? -1 : 1);
  else A = [[pix[0], 0, 0, 0], [0, pix[1], 0, 0], [0, 0, pix[2], 0]];
  for (const r of [0, 1]) for (let c = 0; c < 4; c++) A[r][c] = -A[r][c];
  const direction = [];
  for (let c = 0; c < 3; c++) {
    const col = [A[0][c], A[1][c], A[2][c]];
    const norm = Math.hypot(...col) || 1;
    direction.push(...col.map((x) => x / norm));
  }
  return { dims, spacing: pix, origin: [A[0][3], A[1][3], A[2][3]], direction, elementType, data };
}

function qformAffine([b, c, d], offset, pix, qfac) {
  const a = Math.sqrt(Math.max(0, 1 - (b * b + c * c + d * d)));
  const R = [
    [a * a + b * b - c * c - d * d, 2 * (b * c - a * d), 2 * (b * d + a * c)],
    [2 * (b * c + a * d), a * a + c * c - b * b - d * d, 2 * (c * d - a * b)],
    [2 * (b * d - a * c), 2 * (c * d + a * b), a * a + d * d - c * c - b * b],
  ];
  const s = [pix[0], pix[1], pix[2] * qfac];
  return R.map((row, r) => [row[0] * s[0], row[1] * s[1], row[2] * s[2], offset[r]]);
}

/** World (LPS, mm) position of voxel (i, j, k). */
export function worldOf(v, i, j, k) {
  const D = v.direction, s = v.spacing;
  return [0, 1, 2].map((r) => v.origin[r] + D[r] * s[0] * i + D[3 + r] * s[1] * j + D[6 + r] * s[2] * k);
}

/** The p-th and q-th percentiles of a volume's values (a strided sample of at most 262,144 voxels). */
export function percentiles(data, p = 0.01, q = 0.99) {
  const step = Math.max(1, Math.floor(data.length / 262144));
  const s = new Float64Array(Math.ceil(data.length / step));
  for (let i = 0, k = 0; i < data.length; i += step) s[k++] = data[i];
  s.sort();
  const at = (t) => s[Math.min(s.length - 1, Math.max(0, Math.round(t * (s.length - 1))))];
  return [at(p), at(q)];
}
