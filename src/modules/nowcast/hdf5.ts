// HDF5 datasets of the W4C22 files read and written with h5wasm: one 4-D (N, C, H, W) dataset per
// file, read one image range at a time, with the layout checks every W4C reader needs (signature,
// truncation, key, rank, channels, size, dtype). float16 (IEEE binary16, as in the released files)
// is decoded here: h5wasm 0.10 hands out float32/float64 only, so half-float slices are read as
// raw little-endian bytes and widened exactly (subnormals, ±inf and NaN included).
import fs from 'node:fs';
import path from 'node:path';
import h5wasm from 'h5wasm/node';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { InputFileError } from '../../core/errors.ts';
import { halfToFloat32 } from '../../core/io/ndarray.ts';

type H5Module = Awaited<typeof h5wasm.ready>;
let h5ready: Promise<H5Module> | null = null;
let h5module: H5Module | null = null;
/** Loads the h5wasm runtime once. */
export async function h5(): Promise<typeof h5wasm> {
  h5ready ??= h5wasm.ready;
  h5module = await h5ready;
  return h5wasm;
}

const HDF5_SIGNATURE = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];

// binary16 decoding lives in core (core/io/ndarray.ts); re-exported for the module's typed API
export { halfBitsToNumber, halfToFloat32 as decodeHalf } from '../../core/io/ndarray.ts';

type H5Dataset = InstanceType<typeof h5wasm.Dataset>;

/**
 * Reads images [start, start+count) of a 4-D float16 dataset as raw binary16 bits. h5wasm reads
 * into a memory type equal to the file type with little-endian order, so big-endian files come
 * out little-endian too.
 */
function readHalfSlice(ds: H5Dataset, shape: readonly number[], start: number, count: number): Uint16Array {
  const M = h5module;
  if (!M) throw new Error('the h5wasm runtime is not loaded');
  const counts = [BigInt(count), ...shape.slice(1).map((s) => BigInt(s))];
  const offset = [BigInt(start), 0n, 0n, 0n];
  const strides = [1n, 1n, 1n, 1n];
  const n = counts.reduce((a, b) => a * b, 1n);
  const nbytes = Number(n) * 2;
  const ptr = M._malloc(nbytes);
  if (!ptr) throw new Error(`cannot allocate ${nbytes} bytes in the h5wasm heap`);
  try {
    const status = M.get_dataset_data(ds.file_id, ds.path, counts, offset, strides, BigInt(ptr));
    if (status < 0) throw new Error(`H5Dread failed (status ${status})`);
    const bytes = M.HEAPU8.slice(ptr, ptr + nbytes); // a copy with its own, aligned buffer
    return new Uint16Array(bytes.buffer, bytes.byteOffset, Number(n));
  } finally {
    M._free(ptr);
  }
}

// ------------------------------------------------------------------ reading
/** The stored float type of a W4C dataset. */
export type StoredDtype = 'float16' | 'float32' | 'float64';
const STORED: Record<string, StoredDtype> = { e: 'float16', f: 'float32', d: 'float64' };

/** One 4-D (N, C, H, W) dataset of a W4C file, read one image range at a time. */
export class H5Images {
  readonly shape: [number, number, number, number];
  /** h5wasm's dtype string ('<e', '<f', '>d', …) */
  readonly dtype: string;
  readonly stored: StoredDtype;
  private readonly file: InstanceType<typeof h5wasm.File>;
  private readonly ds: H5Dataset;
  constructor(readonly fileName: string, readonly key: string, file: InstanceType<typeof h5wasm.File>, ds: H5Dataset) {
    this.file = file; this.ds = ds;
    this.shape = ds.shape as [number, number, number, number];
    this.dtype = String(ds.dtype);
    this.stored = STORED[this.dtype.replace(/^[<>=|]/, '').slice(0, 1)] ?? 'float32';
  }
  get length(): number { return this.shape[0]; }
  /** Images [start, start+count) as a float32 (count, C, H, W) tensor (float16 widened exactly, float64 rounded). */
  read(start: number, count = 1): Tensor {
    const what = `images ${start}…${start + count - 1}`;
    if (!(start >= 0 && count >= 1 && start + count <= this.shape[0])) {
      throw new InputFileError(`${this.fileName} [${this.key}]: ${what} out of range (file holds ${this.shape[0]})`, { file: this.fileName });
    }
    const [, C, H, W] = this.shape;
    const n = count * C * H * W;
    let f32: Float32Array;
    try {
      if (this.stored === 'float16') f32 = halfToFloat32(readHalfSlice(this.ds, this.shape, start, count));
      else {
        const arr = this.ds.slice([[start, start + count]]) as ArrayLike<number> | null;
        if (!arr || arr.length !== n) throw new Error(`read ${arr?.length ?? 0} values, expected ${n}`);
        f32 = arr instanceof Float32Array ? arr : Float32Array.from(arr, Number);
      }
    } catch (e) {
      throw new InputFileError(`${this.fileName} [${this.key}]: cannot read ${what} (truncated or corrupt file?): ${(e as Error).message}`, { file: this.fileName, cause: e });
    }
    return torch.tensor(f32, { shape: [count, C, H, W], dtype: 'float32' });
  }
  close(): void { this.file.close(); }
}

export interface OpenOptions {
  /** required channel count (11 for HRIT, 1 for OPERA; the official README's 11 for OPERA is a typo) */
  channels?: number;
  /** required spatial side */
  size?: number;
  /** required image count */
  length?: number;
}

/** Opens `key` of an HDF5 file with shape checks; every error is an InputFileError naming the file and key. */
export async function openImages(file: string, key: string, o: OpenOptions = {}): Promise<H5Images> {
  const lib = await h5();
  const bad = (msg: string): never => { throw new InputFileError(`${file}: ${msg}`, { file }); };
  if (!fs.existsSync(file)) bad(`no such file (expected dataset '${key}')`);
  const fd = fs.openSync(file, 'r');
  const head = Buffer.alloc(64);
  const got = fs.readSync(fd, head, 0, 64, 0);
  const size = fs.fstatSync(fd).size;
  fs.closeSync(fd);
  if (got < 8 || HDF5_SIGNATURE.some((b, i) => head[i] !== b)) bad(`not an HDF5 file (bad signature; expected dataset '${key}')`);
  const eof = superblockEof(head.subarray(0, got));
  if (eof !== null && size < eof) bad(`truncated HDF5 file (${size} bytes, the superblock records ${eof}); cannot read dataset '${key}'`);
  let f: InstanceType<typeof lib.File>;
  try {
    f = new lib.File(file, 'r');
  } catch (e) {
    return bad(`cannot open as HDF5 (truncated or corrupt?) while looking for '${key}': ${(e as Error).message}`);
  }
  const fail = (msg: string): never => { try { f.close(); } catch { /* ignore */ } throw new InputFileError(`${file} [${key}]: ${msg}`, { file }); };
  let keys: string[] = [];
  try { keys = f.keys(); } catch (e) { fail(`cannot list keys (truncated file?): ${(e as Error).message}`); }
  if (!keys.includes(key)) fail(`dataset '${key}' not found; the file has [${keys.join(', ')}]`);
  const ds = f.get(key);
  if (!(ds instanceof lib.Dataset)) fail(`'${key}' is not a dataset`);
  const d = ds as H5Dataset;
  const shape = d.shape;
  if (!shape || shape.length !== 4) fail(`expected a 4-D (N, C, H, W) dataset, got shape [${shape}]`);
  const dt = String(d.dtype);
  const bytesPer = { e: 2, f: 4, d: 8 }[dt.replace(/^[<>=|]/, '').slice(0, 1)] ?? 0;
  if (!/^[<>=|]?[efd]\d*$/.test(dt) || !bytesPer) fail(`expected float16/32/64 values, got dtype '${dt}'`);
  const [N, C, H, W] = shape as [number, number, number, number];
  if (o.channels !== undefined && C !== o.channels) fail(`expected ${o.channels} channel(s) on axis 1, got ${C} (shape [${shape}])`);
  if (H !== W) fail(`expected square images, got ${H}×${W}`);
  if (o.size !== undefined && H !== o.size) fail(`expected ${o.size}×${o.size} images, got ${H}×${W}`);
  if (o.length !== undefined && N !== o.length) fail(`expected ${o.length} images on axis 0, got ${N}`);
  // A truncated file often opens fine (the header is at the front): check the data extent
  // (for contiguous data; compressed chunks can be smaller than the values they hold).
  const need = N * C * H * W * bytesPer;
  const chunked = (d.metadata as { chunks?: unknown }).chunks != null;
  if (!chunked && size < need) fail(`truncated: ${N}×${C}×${H}×${W} values of ${bytesPer} bytes need ${need} bytes, file has ${size}`);
  return new H5Images(file, key, f, d);
}

/** End-of-file address recorded in an HDF5 superblock (versions 0–3), or null if unreadable. */
export function superblockEof(head: Uint8Array): number | null {
  if (head.length < 16) return null;
  const v = head[8]!;
  const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const readAddr = (off: number, size: number): number | null => {
    if (off + size > head.length) return null;
    if (size === 8) { const x = dv.getBigUint64(off, true); return x === 0xffffffffffffffffn ? null : Number(x); }
    if (size === 4) return dv.getUint32(off, true);
    return null;
  };
  if (v === 0 || v === 1) {
    const O = head[13]!;
    const base = 24 + (v === 1 ? 4 : 0);
    return readAddr(base + 2 * O, O);
  }
  if (v === 2 || v === 3) {
    const O = head[9]!;
    return readAddr(12 + 2 * O, O);
  }
  return null;
}

// ------------------------------------------------------------------ writing
export type H5Dtype = 'float32' | 'float64';
const H5_CODE: Record<H5Dtype, string> = { float32: '<f', float64: '<d' };

/** Writes one 4-D or 5-D float dataset to a new HDF5 file (atomic: temp file then rename). float16 files come from h5py (scripts/fixtures). */
export async function writeDataset(file: string, key: string, data: Float32Array | Float64Array, shape: number[], dtype: H5Dtype = 'float32', gzip = 0): Promise<void> {
  const lib = await h5();
  const n = shape.reduce((a, b) => a * b, 1);
  if (data.length !== n) throw new Error(`${file} [${key}]: ${data.length} values do not fill shape [${shape}]`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const f = new lib.File(tmp, 'w');
  try {
    const values = dtype === 'float64' ? (data instanceof Float64Array ? data : Float64Array.from(data)) : (data instanceof Float32Array ? data : Float32Array.from(data));
    f.create_dataset({
      name: key, data: values, shape, dtype: H5_CODE[dtype],
      ...(gzip > 0 ? { compression: gzip, chunks: [1, ...shape.slice(1)] } : {}),
    });
  } finally {
    f.close();
  }
  fs.renameSync(tmp, file);
}
