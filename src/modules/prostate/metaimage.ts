// MetaImage (.mha single file, .mhd header + .raw/.zraw payload) reader and writer, as the PI-CAI
// images are stored. No well-kept npm reader for MetaImage exists outside itk-wasm
// (a large WebAssembly bundle), so this is our own; zlib comes from fflate.
import fs from 'node:fs';
import path from 'node:path';
import { unzlibSync, zlibSync } from 'fflate';
import { writeFileAtomic } from '../../core/io/atomic.ts';
import { InputFileError } from '../../core/errors.ts';
import { BYTES, decodeVoxels, encodeVoxels, type ElementType, type Volume } from './volume.ts';

const MET_TYPES: Record<string, ElementType> = {
  MET_UCHAR: 'uint8', MET_CHAR: 'int8', MET_USHORT: 'uint16', MET_SHORT: 'int16',
  MET_UINT: 'uint32', MET_INT: 'int32', MET_FLOAT: 'float32', MET_DOUBLE: 'float64',
};
const MET_NAME: Record<ElementType, string> = Object.fromEntries(Object.entries(MET_TYPES).map(([k, v]) => [v, k])) as Record<ElementType, string>;

/** Keys with geometric/format meaning; everything else is kept in `meta` as a string. */
const KNOWN = new Set(['ObjectType', 'NDims', 'BinaryData', 'BinaryDataByteOrderMSB', 'ElementByteOrderMSB', 'CompressedData',
  'CompressedDataSize', 'DimSize', 'ElementSpacing', 'ElementSize', 'Offset', 'Origin', 'Position', 'TransformMatrix',
  'Rotation', 'Orientation', 'ElementType', 'ElementDataFile', 'ElementNumberOfChannels', 'HeaderSize']);

/** A medical image file that cannot be read: names the file and the header key at fault (an InputFileError: exit 4). */
export class ImageFormatError extends InputFileError {
  override name = 'ImageFormatError';
  constructor(file: string, readonly key: string, message: string) {
    super(`${file}: ${key ? `'${key}': ` : ''}${message}`, { file });
  }
}

export interface MetaHeader { fields: Record<string, string>; order: string[]; dataStart: number }

/** Parses the text header; `dataStart` is the byte after the `ElementDataFile` line. */
export function parseMetaHeader(bytes: Uint8Array, file: string): MetaHeader {
  const fields: Record<string, string> = {};
  const order: string[] = [];
  let pos = 0, lineNo = 0;
  const limit = Math.min(bytes.length, 1 << 20);
  while (pos < limit) {
    lineNo++;
    let end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end > limit) {
      // last line without newline: acceptable only if it is the ElementDataFile line (.mhd)
      end = bytes.length;
    }
    const line = Buffer.from(bytes.subarray(pos, end)).toString('latin1').replace(/\r$/, '');
    const next = end + 1;
    if (line.trim() !== '') {
      const eq = line.indexOf('=');
      if (eq < 0) throw new ImageFormatError(file, '', `header line ${lineNo} is not 'Key = Value' (not a MetaImage file, or a corrupt header)`);
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      fields[key] = value;
      order.push(key);
      if (key === 'ElementDataFile') return { fields, order, dataStart: Math.min(next, bytes.length) };
    }
    pos = next;
  }
  throw new ImageFormatError(file, 'ElementDataFile', 'header ends without an ElementDataFile line (truncated header?)');
}

function numbers(f: Record<string, string>, key: string, n: number, file: string, required: boolean, alias: string[] = []): number[] | null {
  const k = [key, ...alias].find((x) => x in f);
  if (!k) {
    if (required) throw new ImageFormatError(file, key, 'required key is missing');
    return null;
  }
  const parts = f[k]!.split(/\s+/).filter(Boolean).map(Number);
  if (parts.length !== n || parts.some((x) => !Number.isFinite(x))) {
    throw new ImageFormatError(file, k, `expected ${n} number(s) separated by spaces, got ${parts.length} value(s)${parts.length === n ? ' with a non-number among them' : ''}`);
  }
  return parts;
}

const truthy = (v: string | undefined) => v !== undefined && /^(true|1)$/i.test(v);

/** Reads a .mha or .mhd file into a Volume (3-D; 2-D images get nz = 1). Errors name the file and key. */
export function readMetaImage(file: string): Volume {
  if (!fs.existsSync(file)) throw new ImageFormatError(file, '', 'no such file');
  const bytes = new Uint8Array(fs.readFileSync(file));
  return decodeMetaImage(bytes, file);
}

export function decodeMetaImage(bytes: Uint8Array, file: string): Volume {
  const { fields: f, dataStart } = parseMetaHeader(bytes, file);
  if (f.ObjectType && f.ObjectType.toLowerCase() !== 'image') throw new ImageFormatError(file, 'ObjectType', 'expected Image');
  const nd = Number(f.NDims);
  if (!('NDims' in f)) throw new ImageFormatError(file, 'NDims', 'required key is missing');
  if (nd !== 3 && nd !== 2) throw new ImageFormatError(file, 'NDims', 'only 2-D and 3-D images are supported (NDims = 2 or 3)');
  const dim = numbers(f, 'DimSize', nd, file, true)!;
  if (dim.some((d) => !Number.isInteger(d) || d < 1)) throw new ImageFormatError(file, 'DimSize', 'sizes must be positive integers');
  const et = f.ElementType;
  if (!et) throw new ImageFormatError(file, 'ElementType', 'required key is missing');
  const type = MET_TYPES[et];
  if (!type) throw new ImageFormatError(file, 'ElementType', `unsupported element type (supported: ${Object.keys(MET_TYPES).join(', ')})`);
  const ch = f.ElementNumberOfChannels ? Number(f.ElementNumberOfChannels) : 1;
  if (ch !== 1) throw new ImageFormatError(file, 'ElementNumberOfChannels', 'only scalar images are supported (1 channel)');
  if ('BinaryData' in f && !truthy(f.BinaryData)) throw new ImageFormatError(file, 'BinaryData', 'ASCII payloads are not supported');
  const msb = truthy(f.BinaryDataByteOrderMSB ?? f.ElementByteOrderMSB);
  const pad3 = (a: number[] | null, fillv: number) => (a ? (nd === 2 ? [...a, fillv] : a) : null);
  const spacing = pad3(numbers(f, 'ElementSpacing', nd, file, false, ['ElementSize']), 1) ?? [1, 1, 1];
  const origin = pad3(numbers(f, 'Offset', nd, file, false, ['Origin', 'Position']), 0) ?? [0, 0, 0];
  let direction = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  const tm = numbers(f, 'TransformMatrix', nd * nd, file, false, ['Rotation', 'Orientation']);
  if (tm) direction = nd === 3 ? tm : [tm[0]!, tm[1]!, 0, tm[2]!, tm[3]!, 0, 0, 0, 1];
  const dims = [dim[0]!, dim[1]!, nd === 3 ? dim[2]! : 1] as [number, number, number];
  const n = dims[0] * dims[1] * dims[2];
  const need = n * BYTES[type];

  // payload: LOCAL (after the header) or a separate file next to the .mhd
  let payload: Uint8Array;
  const edf = f.ElementDataFile!;
  if (edf === 'LOCAL') payload = bytes.subarray(dataStart);
  else {
    if (/^LIST|%/.test(edf)) throw new ImageFormatError(file, 'ElementDataFile', 'multi-file payloads (LIST, %d patterns) are not supported');
    // The header names its data file: beside it or below it, never elsewhere (a header is data, not a licence to read any file).
    if (path.isAbsolute(edf) || edf.split(/[\\/]/).includes('..')) throw new ImageFormatError(file, 'ElementDataFile', 'the data file must be named relative to the header, inside its folder');
    const raw = path.resolve(path.dirname(file), edf);
    if (!fs.existsSync(raw)) throw new ImageFormatError(file, 'ElementDataFile', 'the data file it names does not exist beside the header');
    payload = new Uint8Array(fs.readFileSync(raw));
  }
  if (truthy(f.CompressedData)) {
    if ('CompressedDataSize' in f) {
      const cs = Number(f.CompressedDataSize);
      if (!Number.isInteger(cs) || cs < 0) throw new ImageFormatError(file, 'CompressedDataSize', 'not a byte count (a non-negative integer)');
      if (payload.length < cs) throw new ImageFormatError(file, 'CompressedDataSize', `header promises ${cs} compressed bytes but the file holds ${payload.length} (truncated file)`);
      payload = payload.subarray(0, cs);
    }
    try {
      payload = unzlibSync(payload);
    } catch (e) {
      throw new ImageFormatError(file, 'CompressedData', `zlib payload cannot be inflated (${(e as Error).message}; truncated or corrupt file)`);
    }
    if (payload.length !== need) throw new ImageFormatError(file, 'DimSize', `inflated payload has ${payload.length} bytes but DimSize ${dim.join(' ')} × ${et} needs ${need}`);
  } else if (payload.length < need) {
    throw new ImageFormatError(file, 'DimSize', `payload has ${payload.length} bytes but DimSize ${dim.join(' ')} × ${et} needs ${need} (truncated file)`);
  }
  const data = decodeVoxels(payload, type, n, !msb);
  const meta: Record<string, string> = {};
  for (const [k, v] of Object.entries(f)) if (!KNOWN.has(k)) meta[k] = v;
  return { data, dims, spacing: spacing as [number, number, number], origin: origin as [number, number, number], direction, elementType: type, meta };
}

export interface WriteMetaOptions {
  /** zlib-compress the payload (default true, as SimpleITK's useCompression in PI-CAI) */
  compress?: boolean;
}

const fmt = (x: number) => String(x); // shortest round-trip representation: geometry survives bit-exactly

/** Encodes a Volume as .mha bytes (LOCAL payload). */
export function encodeMetaImage(v: Volume, o: WriteMetaOptions = {}): Uint8Array {
  const { header, payload } = metaParts(v, o, 'LOCAL');
  const out = new Uint8Array(header.length + payload.length);
  out.set(header, 0);
  out.set(payload, header.length);
  return out;
}

function metaParts(v: Volume, o: WriteMetaOptions, dataFile: string): { header: Uint8Array; payload: Uint8Array } {
  const n = v.dims[0] * v.dims[1] * v.dims[2];
  if (v.data.length !== n) throw new Error(`writeMetaImage: data has ${v.data.length} voxels, dims ${v.dims.join('x')} need ${n}`);
  const compress = o.compress ?? true;
  const raw = encodeVoxels(v.data);
  const payload = compress ? zlibSync(raw, { level: 6 }) : raw;
  const lines = [
    'ObjectType = Image', 'NDims = 3', 'BinaryData = True', 'BinaryDataByteOrderMSB = False',
    `CompressedData = ${compress ? 'True' : 'False'}`,
    ...(compress ? [`CompressedDataSize = ${payload.length}`] : []),
    `TransformMatrix = ${v.direction.map(fmt).join(' ')}`,
    `Offset = ${v.origin.map(fmt).join(' ')}`,
    `CenterOfRotation = ${v.meta.CenterOfRotation ?? '0 0 0'}`,
    `AnatomicalOrientation = ${v.meta.AnatomicalOrientation ?? anatomicalOrientation(v.direction)}`,
    `ElementSpacing = ${v.spacing.map(fmt).join(' ')}`,
    `DimSize = ${v.dims.join(' ')}`,
  ];
  for (const [k, val] of Object.entries(v.meta)) {
    if (k === 'CenterOfRotation' || k === 'AnatomicalOrientation' || KNOWN.has(k)) continue;
    if (/[\n=]/.test(k) || /\n/.test(val)) throw new Error(`writeMetaImage: metadata key '${k}' or its value holds a newline or '='`);
    lines.push(`${k} = ${val}`);
  }
  lines.push(`ElementType = ${MET_NAME[v.elementType]}`, `ElementDataFile = ${dataFile}`);
  return { header: Buffer.from(lines.join('\n') + '\n', 'latin1'), payload };
}

/** ITK's orientation code (e.g. RAI) from the direction cosines: the "from" letter per index axis. */
function anatomicalOrientation(D: number[]): string {
  const letters = [['R', 'L'], ['A', 'P'], ['I', 'S']];
  let s = '';
  for (let c = 0; c < 3; c++) {
    const col = [D[3 * c]!, D[3 * c + 1]!, D[3 * c + 2]!];
    let r = 0;
    for (let k = 1; k < 3; k++) if (Math.abs(col[k]!) > Math.abs(col[r]!)) r = k;
    s += col[r]! > 0 ? letters[r]![0] : letters[r]![1];
  }
  return s;
}

/** Writes .mha (single file) or .mhd (+ .raw / .zraw beside it), atomically. */
export function writeMetaImage(file: string, v: Volume, o: WriteMetaOptions = {}): void {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.mha') { writeFileAtomic(file, encodeMetaImage(v, o)); return; }
  if (ext !== '.mhd') throw new Error(`${file}: MetaImage files end in .mha or .mhd`);
  const compress = o.compress ?? true;
  const rawName = path.basename(file, path.extname(file)) + (compress ? '.zraw' : '.raw');
  const { header, payload } = metaParts(v, o, rawName);
  writeFileAtomic(path.join(path.dirname(file), rawName), payload);
  writeFileAtomic(file, header);
}
