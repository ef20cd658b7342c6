// A 3-D image with ITK geometry, shared by the MetaImage and NIfTI readers/writers, the phantom
// generator and the pipeline. Data are x-fastest (x, then y, then z), as both formats store them;
// as a tensor the same buffer is [Z, Y, X] (NCDHW without N, C).
//
// Geometry follows ITK/SimpleITK (LPS world): p = origin + D · (sx·i, sy·j, sz·k), where
// `direction` holds D column by column (MetaImage TransformMatrix order: the first triple is the
// world direction of the x index axis).

export type ElementType = 'uint8' | 'int8' | 'uint16' | 'int16' | 'uint32' | 'int32' | 'float32' | 'float64';
export type VoxelArray = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float32Array | Float64Array;

export interface Volume {
  data: VoxelArray;
  /** [nx, ny, nz] */
  dims: [number, number, number];
  /** mm, [sx, sy, sz] */
  spacing: [number, number, number];
  /** world position of voxel (0, 0, 0), [ox, oy, oz] */
  origin: [number, number, number];
  /** 9 numbers, D column by column (MetaImage TransformMatrix order) */
  direction: number[];
  elementType: ElementType;
  /** extra header fields kept as strings (MetaImage keys such as `0008|0070`, PSA_REPORT, ...) */
  meta: Record<string, string>;
}

export const BYTES: Record<ElementType, number> = {
  uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, float64: 8,
};

export function allocate(type: ElementType, n: number): VoxelArray {
  switch (type) {
    case 'uint8': return new Uint8Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int32': return new Int32Array(n);
    case 'float32': return new Float32Array(n);
    case 'float64': return new Float64Array(n);
  }
}

export function elementTypeOf(a: VoxelArray): ElementType {
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Float32Array) return 'float32';
  return 'float64';
}

/** Decodes little- or big-endian bytes into a typed array (copying, so alignment never matters). */
export function decodeVoxels(bytes: Uint8Array, type: ElementType, n: number, littleEndian: boolean): VoxelArray {
  const out = allocate(type, n);
  const b = BYTES[type];
  if (littleEndian || b === 1) {
    new Uint8Array(out.buffer).set(bytes.subarray(0, n * b));
  } else {
    const dst = new Uint8Array(out.buffer);
    for (let i = 0; i < n; i++) for (let k = 0; k < b; k++) dst[i * b + k] = bytes[i * b + b - 1 - k]!;
  }
  return out;
}

export function encodeVoxels(a: VoxelArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export const IDENTITY = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function makeVolume(dims: [number, number, number], o: Partial<Omit<Volume, 'dims'>> = {}): Volume {
  const type = o.elementType ?? (o.data ? elementTypeOf(o.data) : 'float32');
  const n = dims[0] * dims[1] * dims[2];
  const data = o.data ?? allocate(type, n);
  if (data.length !== n) throw new Error(`volume data has ${data.length} voxels, dims ${dims.join('x')} need ${n}`);
  return {
    data, dims: [...dims], spacing: o.spacing ?? [1, 1, 1], origin: o.origin ?? [0, 0, 0],
    direction: o.direction ?? [...IDENTITY], elementType: type, meta: o.meta ?? {},
  };
}

/** World coordinate of continuous index (i, j, k). */
export function indexToWorld(v: Volume, i: number, j: number, k: number): [number, number, number] {
  const D = v.direction, s = v.spacing, o = v.origin;
  const a = s[0] * i, b = s[1] * j, c = s[2] * k;
  return [o[0] + D[0]! * a + D[3]! * b + D[6]! * c, o[1] + D[1]! * a + D[4]! * b + D[7]! * c, o[2] + D[2]! * a + D[5]! * b + D[8]! * c];
}

function inv3(D: number[]): number[] {
  // D stored column-major: M[r][c] = D[3c + r]; returns inverse in the same storage.
  const m = (r: number, c: number) => D[3 * c + r]!;
  const det = m(0, 0) * (m(1, 1) * m(2, 2) - m(1, 2) * m(2, 1))
    - m(0, 1) * (m(1, 0) * m(2, 2) - m(1, 2) * m(2, 0))
    + m(0, 2) * (m(1, 0) * m(2, 1) - m(1, 1) * m(2, 0));
  if (Math.abs(det) < 1e-12) throw new Error('direction matrix is singular');
  const inv: number[][] = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) {
    const r1 = (c + 1) % 3, r2 = (c + 2) % 3, c1 = (r + 1) % 3, c2 = (r + 2) % 3;
    inv[r]![c] = (m(r1, c1) * m(r2, c2) - m(r1, c2) * m(r2, c1)) / det;
  }
  const out = new Array<number>(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) out[3 * c + r] = inv[r]![c]!;
  return out;
}

export interface Grid { dims: [number, number, number]; spacing: [number, number, number]; origin: [number, number, number]; direction: number[] }

export function gridOf(v: Volume): Grid {
  return { dims: [...v.dims], spacing: [...v.spacing], origin: [...v.origin], direction: [...v.direction] };
}

export function sameGrid(a: Grid, b: Grid, tol = 1e-4): boolean {
  const close = (x: readonly number[], y: readonly number[]) => x.every((v, i) => Math.abs(v - y[i]!) <= tol * Math.max(1, Math.abs(v)));
  return a.dims.every((d, i) => d === b.dims[i]) && close(a.spacing, b.spacing) && close(a.origin, b.origin) && close(a.direction, b.direction);
}

/**
 * Resamples `src` onto `grid` through world coordinates: trilinear for images, nearest for labels
 * and masks. Outside the source: `fill`. Output is float32 (linear) or the source type (nearest).
 * (The reference uses B-spline for images; trilinear is our CPU-scale choice.)
 */
export function resample(src: Volume, grid: Grid, mode: 'linear' | 'nearest' = 'linear', fill = 0): Volume {
  const [nx, ny, nz] = grid.dims;
  const [sx, sy, sz] = src.dims;
  const out = mode === 'nearest' ? allocate(src.elementType, nx * ny * nz) : new Float32Array(nx * ny * nz);
  const Di = inv3(src.direction);
  // continuous source index = S^-1 · Dsrc^-1 · (p − o_src), p = o_g + Dg · Sg · idx: affine in idx.
  const M = (r: number, c: number) => Di[3 * c + r]!;
  const world = (i: number, j: number, k: number) => indexToWorld({ ...grid, data: out, elementType: 'float32', meta: {} } as Volume, i, j, k);
  const toSrc = (p: number[]) => {
    const d = [p[0]! - src.origin[0], p[1]! - src.origin[1], p[2]! - src.origin[2]];
    return [0, 1, 2].map((r) => (M(r, 0) * d[0]! + M(r, 1) * d[1]! + M(r, 2) * d[2]!) / src.spacing[r as 0 | 1 | 2]);
  };
  const c0 = toSrc(world(0, 0, 0));
  const ci = toSrc(world(1, 0, 0)).map((v, r) => v - c0[r]!);
  const cj = toSrc(world(0, 1, 0)).map((v, r) => v - c0[r]!);
  const ck = toSrc(world(0, 0, 1)).map((v, r) => v - c0[r]!);
  const S = src.data;
  const sxy = sx * sy;
  let o = 0;
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++, o++) {
    const x = c0[0]! + ci[0]! * i + cj[0]! * j + ck[0]! * k;
    const y = c0[1]! + ci[1]! * i + cj[1]! * j + ck[1]! * k;
    const z = c0[2]! + ci[2]! * i + cj[2]! * j + ck[2]! * k;
    if (mode === 'nearest') {
      const xi = Math.round(x), yi = Math.round(y), zi = Math.round(z);
      out[o] = xi < 0 || yi < 0 || zi < 0 || xi >= sx || yi >= sy || zi >= sz ? fill : S[xi + sx * yi + sxy * zi]!;
      continue;
    }
    const eps = 1e-6;
    if (x < -0.5 - eps || y < -0.5 - eps || z < -0.5 - eps || x > sx - 0.5 + eps || y > sy - 0.5 + eps || z > sz - 0.5 + eps) { out[o] = fill; continue; }
    // clamp to the edge within the half-voxel border (nnU-Net/ITK-like edge handling)
    const xc = Math.min(Math.max(x, 0), sx - 1), yc = Math.min(Math.max(y, 0), sy - 1), zc = Math.min(Math.max(z, 0), sz - 1);
    const x0 = Math.floor(xc), y0 = Math.floor(yc), z0 = Math.floor(zc);
    const x1 = Math.min(x0 + 1, sx - 1), y1 = Math.min(y0 + 1, sy - 1), z1 = Math.min(z0 + 1, sz - 1);
    const fx = xc - x0, fy = yc - y0, fz = zc - z0;
    const v = (a: number, b: number, c: number) => S[a + sx * b + sxy * c]!;
    const c00 = v(x0, y0, z0) * (1 - fx) + v(x1, y0, z0) * fx;
    const c10 = v(x0, y1, z0) * (1 - fx) + v(x1, y1, z0) * fx;
    const c01 = v(x0, y0, z1) * (1 - fx) + v(x1, y0, z1) * fx;
    const c11 = v(x0, y1, z1) * (1 - fx) + v(x1, y1, z1) * fx;
    out[o] = (c00 * (1 - fy) + c10 * fy) * (1 - fz) + (c01 * (1 - fy) + c11 * fy) * fz;
  }
  return { ...grid, dims: [...grid.dims], data: out, elementType: elementTypeOf(out), meta: { ...src.meta } };
}

/** A grid covering the same physical extent as `g` at a new spacing (sizes rounded). */
export function respacedGrid(g: Grid, spacing: [number, number, number]): Grid {
  const dims = g.dims.map((d, i) => Math.max(1, Math.round(d * g.spacing[i]! / spacing[i]!))) as [number, number, number];
  return { dims, spacing: [...spacing], origin: [...g.origin], direction: [...g.direction] };
}

export function toFloat32(v: Volume): Float32Array {
  return v.data instanceof Float32Array ? v.data : Float32Array.from(v.data as ArrayLike<number>);
}
