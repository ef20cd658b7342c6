// Tensor factories (tensor, zeros, randn, arange, ...), free functions (cat, stack, where, ...)
// and torch.linalg: the torch.* functions that make tensors rather than methods of one.
// Re-exported from tensor.ts; import them from there (or from index.ts).
import { native } from './native.ts';
import { Tensor, aten as A, op, type Dtype, type Shape, type TensorLike } from './tensor.ts';
import { getDefaultDevice, type Device } from './device.ts';

function isT(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

// ------------------------------------------------------------------ factories
export interface TensorOptions {
  dtype?: Dtype;
  /** where the tensor is made: 'cpu' (default), 'cuda', 'cuda:N', 'meta' */
  device?: Device;
  requiresGrad?: boolean;
}
type NestedNumbers = number | boolean | readonly NestedNumbers[];

function finish(t: Tensor, o?: TensorOptions): Tensor {
  if (o?.requiresGrad) t.requiresGrad = true;
  return t;
}

function inferShape(data: NestedNumbers): number[] {
  const shape: number[] = [];
  let d: NestedNumbers = data;
  while (Array.isArray(d)) { shape.push(d.length); d = d[0] as NestedNumbers; }
  return shape;
}

/**
 * Makes a tensor from nested arrays, a number, or a typed array (with `shape`). Plain numbers
 * default to float32 (like torch.tensor of floats); a Float64Array defaults to float64,
 * an Int32Array to int32, a BigInt64Array to int64.
 */
export function tensor(data: NestedNumbers | ArrayBufferView, opts: TensorOptions & { shape?: Shape } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const shape = opts.shape ? [...opts.shape] : [(data as unknown as ArrayLike<number>).length];
    return finish(onDevice(Tensor._wrap(native.fromArray(data, shape, opts.dtype)), opts.device), opts);
  }
  const shape = opts.shape ? [...opts.shape] : inferShape(data);
  const flat = Array.isArray(data) ? (data as unknown[]).flat(Infinity) as (number | boolean)[] : [data as number];
  const n = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== n) throw new Error(`tensor(): ragged nested array (shape [${shape}] needs ${n} values, got ${flat.length})`);
  const dtype = opts.dtype ?? (typeof flat[0] === 'boolean' ? 'bool' : 'float32');
  let buf: ArrayBufferView;
  if (dtype === 'float64') buf = Float64Array.from(flat, Number);
  else if (dtype === 'int64') buf = BigInt64Array.from(flat, (v) => BigInt(Math.trunc(Number(v))));
  else if (dtype === 'int32') buf = Int32Array.from(flat, Number);
  else if (dtype === 'uint8' || dtype === 'bool') buf = Uint8Array.from(flat, Number);
  else buf = Float64Array.from(flat, Number);
  return finish(onDevice(Tensor._wrap(native.fromArray(buf, shape, dtype)), opts.device), opts);
}

/** Moves a freshly made CPU tensor to `device` (the CPU copy is freed). */
function onDevice(t: Tensor, device: Device | undefined): Tensor {
  device ??= getDefaultDevice();
  if (device === 'cpu') return t;
  const moved = t.to(device);
  t.dispose();
  return moved;
}

/**
 * A float16 or bfloat16 tensor from its raw 16-bit patterns (IEEE half, or bfloat16's top half of
 * a float32), as safetensors and PyTorch store them: bit-exact, no rounding. Tensor.rawBits() is
 * the way back.
 */
export function fromHalfBits(bits: Uint16Array | Int16Array, shape: Shape, dtype: 'float16' | 'bfloat16', o: { device?: Device } = {}): Tensor {
  const i16 = bits instanceof Int16Array ? bits : new Int16Array(bits.buffer, bits.byteOffset, bits.length);
  const raw = Tensor._wrap(native.fromArray(i16, [...shape], 'int16'));
  const half = A.view_dtype(raw, dtype) as Tensor;
  raw.dispose();
  return onDevice(half, o.device);
}

const dflt = (o?: TensorOptions): Dtype => o?.dtype ?? 'float32';
// the options' device, else the default one (setDefaultDevice); null (libtorch's CPU) for 'cpu'
const dev = (o?: TensorOptions): Device | null => {
  const d = o?.device ?? getDefaultDevice();
  return d === 'cpu' ? null : d;
};
export function zeros(shape: Shape, o?: TensorOptions): Tensor { return finish(A.zeros([...shape], dflt(o), null, dev(o)), o); }
export function ones(shape: Shape, o?: TensorOptions): Tensor { return finish(A.ones([...shape], dflt(o), null, dev(o)), o); }
export function full(shape: Shape, value: number, o?: TensorOptions): Tensor { return finish(A.full([...shape], value, dflt(o), null, dev(o)), o); }
export function empty(shape: Shape, o?: TensorOptions): Tensor { return finish(A.empty([...shape], dflt(o), null, dev(o)), o); }
/** Standard normal samples from libtorch's generator (seed with manualSeed). */
export function randn(shape: Shape, o?: TensorOptions): Tensor { return finish(A.randn([...shape], dflt(o), null, dev(o)), o); }
export function rand(shape: Shape, o?: TensorOptions): Tensor { return finish(A.rand([...shape], dflt(o), null, dev(o)), o); }
export function randint(low: number, high: number, shape: Shape, o?: TensorOptions): Tensor {
  return finish(A.randint(low, high, [...shape], o?.dtype ?? 'int64', null, dev(o)), o);
}
export function randperm(n: number, o?: TensorOptions): Tensor { return A.randperm(n, o?.dtype ?? 'int64', null, dev(o)); }
export function arange(start: number, end?: number, step = 1, o?: TensorOptions): Tensor {
  if (end === undefined) { end = start; start = 0; }
  const ints = [start, end, step].every(Number.isInteger);
  return finish(A.arange(start, end, step, o?.dtype ?? (ints ? 'int64' : 'float32'), null, dev(o)), o);
}
export function linspace(start: number, end: number, steps: number, o?: TensorOptions): Tensor {
  return finish(A.linspace(start, end, steps, dflt(o), null, dev(o)), o);
}
export function logspace(start: number, end: number, steps: number, base = 10, o?: TensorOptions): Tensor {
  return finish(A.logspace(start, end, steps, base, dflt(o), null, dev(o)), o);
}
export function eye(n: number, m = n, o?: TensorOptions): Tensor { return finish(A.eye(n, m, dflt(o), null, dev(o)), o); }
export function zerosLike(t: Tensor, o?: TensorOptions): Tensor { return finish(A.zeros_like(t, o?.dtype ?? null, null, dev(o)), o); }
export function onesLike(t: Tensor, o?: TensorOptions): Tensor { return finish(A.ones_like(t, o?.dtype ?? null, null, dev(o)), o); }
export function fullLike(t: Tensor, v: number, o?: TensorOptions): Tensor { return finish(A.full_like(t, v, o?.dtype ?? null, null, dev(o)), o); }
export function randnLike(t: Tensor): Tensor { return A.randn_like(t); }
export function randLike(t: Tensor): Tensor { return A.rand_like(t); }
export function scalar(v: number, o?: TensorOptions): Tensor { return finish(A.scalar_tensor(v, dflt(o), null, dev(o)), o); }
export function bernoulli(t: Tensor, p: number): Tensor { return A.bernoulli_p(t, p, null); }
export function multinomial(probs: Tensor, n: number, replacement = false): Tensor {
  return A.multinomial(probs, n, replacement, null);
}

// ------------------------------------------------------------------ free functions
export function cat(ts: readonly Tensor[], dim = 0): Tensor { return A.cat([...ts], dim); }
export function stack(ts: readonly Tensor[], dim = 0): Tensor { return A.stack([...ts], dim); }
export function where(cond: Tensor, a: TensorLike, b: TensorLike): Tensor {
  if (isT(a) && isT(b)) return A.where(cond, a, b);
  if (isT(a)) return A.where_so(cond, a, b);
  if (isT(b)) return A.where_ss2(cond, a, b);
  return A.where_ss(cond, a, b);
}
export function diag(t: Tensor, k = 0): Tensor { return A.diag(t, k); }
export function matmul(a: Tensor, b: Tensor): Tensor { return A.matmul(a, b); }
export function einsum(equation: string, ...ts: Tensor[]): Tensor { return A.einsum(equation, ts, null); }
export function kron(a: Tensor, b: Tensor): Tensor { return A.kron(a, b); }

/** Dense linear algebra, float64-ready (torch.linalg names). */
export const linalg = {
  eigh: (a: Tensor, uplo: 'L' | 'U' = 'L'): [Tensor, Tensor] => A.eigh(a, uplo),
  eigvalsh: (a: Tensor, uplo: 'L' | 'U' = 'L'): Tensor => A.eigvalsh(a, uplo),
  solve: (a: Tensor, b: Tensor): Tensor => A.solve(a, b, true),
  inv: (a: Tensor): Tensor => A.inv(a),
  qr: (a: Tensor, mode: 'reduced' | 'complete' | 'r' = 'reduced'): [Tensor, Tensor] => A.qr(a, mode),
  svd: (a: Tensor, fullMatrices = false): [Tensor, Tensor, Tensor] => A.svd(a, fullMatrices, null),
  cholesky: (a: Tensor, upper = false): Tensor => A.cholesky(a, upper),
  det: (a: Tensor): Tensor => A.det(a),
  slogdet: (a: Tensor): [Tensor, Tensor] => A.slogdet(a),
  pinv: (a: Tensor, hermitian = false): Tensor => op('linalg_pinv.atol_rtol_float')(a, null, null, hermitian),
  lstsq: (a: Tensor, b: Tensor): Tensor => {
    const r = A.lstsq(a, b, null, 'gelsd') as Tensor[];
    for (let i = 1; i < r.length; i++) r[i]!.dispose();
    return r[0]!;
  },
  norm: (a: Tensor, ord: number | 'fro' | 'nuc' = 'fro'): Tensor =>
    typeof ord === 'string' ? A.matrix_norm(a, ord, [-2, -1], false, null) : op('linalg_matrix_norm')(a, ord, [-2, -1], false, null),
  vectorNorm: (a: Tensor, ord = 2): Tensor => A.vnorm(a, ord, null, false, null),
  cross: (a: Tensor, b: Tensor, dim = -1): Tensor => A.cross(a, b, dim),
};
