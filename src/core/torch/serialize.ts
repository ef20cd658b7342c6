// safetensors checkpoints: 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, __metadata__: {..}}, then raw little-endian bytes.
// Readable by Python's `safetensors` and `safetensors.torch.load_file`. Written atomically.
// float16 (F16) and bfloat16 (BF16) travel as their raw 16-bit patterns, bit-exact both ways;
// tensors on a device are copied to the CPU to be written, and load on the CPU.
import fs from 'node:fs';
import { writeFileAtomic } from '../io/atomic.ts';
import { parseJson, InputFileError, NotFoundError } from '../errors.ts';
import { tensor, fromHalfBits, type Dtype, type Tensor } from './tensor.ts';

const TO_ST: Partial<Record<Dtype, string>> = {
  float64: 'F64', float32: 'F32', float16: 'F16', bfloat16: 'BF16', int64: 'I64', int32: 'I32',
  int16: 'I16', int8: 'I8', uint8: 'U8', bool: 'BOOL',
};
const FROM_ST: Record<string, { dtype: Dtype; bytes: number }> = {
  F64: { dtype: 'float64', bytes: 8 }, F32: { dtype: 'float32', bytes: 4 }, I64: { dtype: 'int64', bytes: 8 },
  I32: { dtype: 'int32', bytes: 4 }, I16: { dtype: 'int16', bytes: 2 }, I8: { dtype: 'int8', bytes: 1 },
  U8: { dtype: 'uint8', bytes: 1 }, BOOL: { dtype: 'bool', bytes: 1 },
  F16: { dtype: 'float16', bytes: 2 }, BF16: { dtype: 'bfloat16', bytes: 2 },
};

/** Serializes tensors to safetensors bytes. metadata values must be strings (the format says so). */
export function toSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name]!;
    const dtype = t.dtype;
    const data: ArrayBufferView = dtype === 'float16' || dtype === 'bfloat16' ? t.rawBits() : t.toTypedArray();
    const st = TO_ST[dtype];
    if (!st) throw new Error(`safetensors: dtype ${dtype} of '${name}' has no safetensors code`);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    header[name] = { dtype: st, shape: t.shape, data_offsets: [offset, offset + bytes.byteLength] };
    blobs.push(bytes);
    offset += bytes.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const hb = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + hb.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.byteLength), true);
  out.set(hb, 8);
  let pos = 8 + hb.byteLength;
  for (const b of blobs) { out.set(b, pos); pos += b.byteLength; }
  return out;
}

export function saveSafetensors(file: string, tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): void {
  writeFileAtomic(file, toSafetensors(tensors, metadata));
}

export interface SafetensorsFile { tensors: Record<string, Tensor>; metadata: Record<string, string> }

/** Parses safetensors bytes; every error (an InputFileError) names `source` and the field at fault. */
export function fromSafetensors(buf: Uint8Array, source = '<buffer>'): SafetensorsFile {
  if (buf.byteLength < 8) throw new InputFileError(`${source}: not a safetensors file (only ${buf.byteLength} bytes)`, { file: source });
  const n = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  // (the header length is not quoted: in a file that is not safetensors those 8 bytes are its text)
  if (n <= 0 || 8 + n > buf.byteLength) throw new InputFileError(`${source}: truncated or not safetensors (the header length field points past the end of the ${buf.byteLength}-byte file)`, { file: source });
  const headerText = Buffer.from(buf.buffer, buf.byteOffset + 8, n).toString('utf8');
  const header = parseJson<Record<string, any>>(headerText, `${source}: header`);
  if (typeof header !== 'object' || header === null || Array.isArray(header)) throw new InputFileError(`${source}: header is not a JSON object (not safetensors)`, { file: source });
  const dataStart = 8 + n;
  const tensors: Record<string, Tensor> = {};
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  try {
    for (const [name, info] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      const d = FROM_ST[info?.dtype];
      if (!d) throw new InputFileError(`${source}: tensor '${name}' has an unsupported dtype (supported: ${Object.keys(FROM_ST).join(', ')})`, { file: source });
      const [b, e] = info.data_offsets ?? [];
      const shape: number[] = info.shape;
      if (!Array.isArray(shape) || typeof b !== 'number' || typeof e !== 'number') throw new InputFileError(`${source}: tensor '${name}' has a bad header entry`, { file: source });
      const numel = shape.reduce((x, y) => x * y, 1);
      if (e - b !== numel * d.bytes) throw new InputFileError(`${source}: tensor '${name}' data_offsets [${b}, ${e}] do not match shape [${shape}] × ${d.bytes} bytes`, { file: source });
      if (dataStart + e > buf.byteLength) throw new InputFileError(`${source}: truncated: tensor '${name}' ends at byte ${dataStart + e}, file has ${buf.byteLength}`, { file: source });
      const bytes = Uint8Array.prototype.slice.call(buf, dataStart + b, dataStart + e); // aligned copy (Buffer.slice would be a view)
      const view = d.bytes === 8 ? (d.dtype === 'int64' ? new BigInt64Array(bytes.buffer) : new Float64Array(bytes.buffer))
        : d.dtype === 'float32' ? new Float32Array(bytes.buffer) : d.dtype === 'int32' ? new Int32Array(bytes.buffer)
          : d.dtype === 'int16' ? new Int16Array(bytes.buffer) : d.dtype === 'int8' ? new Int8Array(bytes.buffer) : bytes;
      tensors[name] = d.dtype === 'float16' || d.dtype === 'bfloat16'
        ? fromHalfBits(new Uint16Array(bytes.buffer), shape, d.dtype)
        : tensor(view, { shape, dtype: d.dtype });
    }
  } catch (e) {
    for (const t of Object.values(tensors)) t.dispose();
    throw e;
  }
  return { tensors, metadata };
}

export function loadSafetensors(file: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const C = code === 'ENOENT' || code === 'ENOTDIR' ? NotFoundError : InputFileError;
    throw new C(`${file}: cannot read (${code ?? (e as Error).message})`, { file, code });
  }
  return fromSafetensors(buf, file);
}
