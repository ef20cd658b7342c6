// Plain n-dimensional arrays read from files (numpy pickles, torch.save records): a dtype, a
// C-order shape and a contiguous typed array. No engine: src/core/torch turns them into tensors.
//
// Element types: float16 and bfloat16 keep their raw 16-bit patterns in a Uint16Array (see
// halfToFloat32 / bfloat16ToFloat32); bool is a Uint8Array of 0/1; int64/uint64 are BigInt arrays.

export type NdDtype =
  | 'float16' | 'bfloat16' | 'float32' | 'float64'
  | 'int8' | 'int16' | 'int32' | 'int64'
  | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';

export type NdData =
  | Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | BigInt64Array
  | Uint8Array | Uint16Array | Uint32Array | BigUint64Array;

/** A C-contiguous array: data.length === product(shape). */
export interface NdArray {
  readonly kind: 'ndarray';
  dtype: NdDtype;
  shape: number[];
  data: NdData;
}

/** Bytes per element of each dtype. */
export const ITEMSIZE: Record<NdDtype, number> = {
  float16: 2, bfloat16: 2, float32: 4, float64: 8, int8: 1, int16: 2, int32: 4, int64: 8,
  uint8: 1, uint16: 2, uint32: 4, uint64: 8, bool: 1,
};

export function numelOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function isNdArray(v: unknown): v is NdArray {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'ndarray';
}

/** Views little-endian bytes (which this function copies when unaligned) as the dtype's typed array. */
export function typedView(dtype: NdDtype, bytes: Uint8Array): NdData {
  const size = ITEMSIZE[dtype];
  const b = bytes.byteOffset % size === 0 ? bytes : Uint8Array.prototype.slice.call(bytes); // (a copy, even of a Buffer)
  const n = b.byteLength / size;
  switch (dtype) {
    case 'float32': return new Float32Array(b.buffer, b.byteOffset, n);
    case 'float64': return new Float64Array(b.buffer, b.byteOffset, n);
    case 'int8': return new Int8Array(b.buffer, b.byteOffset, n);
    case 'int16': return new Int16Array(b.buffer, b.byteOffset, n);
    case 'int32': return new Int32Array(b.buffer, b.byteOffset, n);
    case 'int64': return new BigInt64Array(b.buffer, b.byteOffset, n);
    case 'uint16': case 'float16': case 'bfloat16': return new Uint16Array(b.buffer, b.byteOffset, n);
    case 'uint32': return new Uint32Array(b.buffer, b.byteOffset, n);
    case 'uint64': return new BigUint64Array(b.buffer, b.byteOffset, n);
    case 'uint8': case 'bool': return new Uint8Array(b.buffer, b.byteOffset, n);
  }
}

/**
 * The strided view (element offset, shape, strides in elements) of `src` (little-endian bytes,
 * `itemsize` bytes an element) as C-contiguous bytes: a subarray of `src` when the view already is
 * contiguous, else a fresh copy. The caller has checked bounds (stridedExtent).
 */
export function gatherStrided(src: Uint8Array, itemsize: number, offset: number, shape: readonly number[], strides: readonly number[]): Uint8Array {
  const n = numelOf(shape);
  if (n === 0) return new Uint8Array(0);
  const contiguous = shape.every((_, d) => shape[d] === 1 || strides[d] === numelOf(shape.slice(d + 1)));
  if (contiguous) return src.subarray(offset * itemsize, (offset + n) * itemsize);
  const out = new Uint8Array(n * itemsize);
  const idx = new Array<number>(shape.length).fill(0);
  let pos = offset;
  for (let i = 0; i < n; i++) {
    out.set(src.subarray(pos * itemsize, (pos + 1) * itemsize), i * itemsize);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]!++;
      pos += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      pos -= strides[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** [lowest, highest] element index a strided view touches (null when it has no elements). */
export function stridedExtent(offset: number, shape: readonly number[], strides: readonly number[]): [number, number] | null {
  if (numelOf(shape) === 0) return null;
  let lo = offset, hi = offset;
  shape.forEach((s, d) => {
    const span = (s - 1) * strides[d]!;
    if (span < 0) lo += span; else hi += span;
  });
  return [lo, hi];
}

/** C-order strides (in elements) of a shape. */
export function contiguousStrides(shape: readonly number[]): number[] {
  return shape.map((_, d) => numelOf(shape.slice(d + 1)));
}

/** One IEEE 754 binary16 bit pattern as a number: sign, 5-bit exponent (bias 15), 10-bit fraction. */
export function halfBitsToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return sign * f * 2 ** -24; // zero and subnormals: f · 2^-24
  if (e === 0x1f) return f === 0 ? sign * Infinity : NaN;
  return sign * (1 + f / 1024) * 2 ** (e - 15);
}

let HALF_TABLE: Float32Array | null = null;

/** IEEE binary16 bit patterns → float32 (exact: binary32 holds every binary16 value), through a table of all 65,536 patterns built on first use. */
export function halfToFloat32(bits: Uint16Array): Float32Array {
  if (!HALF_TABLE) {
    HALF_TABLE = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) HALF_TABLE[h] = halfBitsToNumber(h);
  }
  const t = HALF_TABLE, out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i]!]!;
  return out;
}

/** bfloat16 bit patterns (the top half of a float32) → float32. */
export function bfloat16ToFloat32(bits: Uint16Array): Float32Array {
  const u = new Uint32Array(bits.length);
  for (let i = 0; i < bits.length; i++) u[i] = bits[i]! << 16;
  return new Float32Array(u.buffer);
}
