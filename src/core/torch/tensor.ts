// The Tensor facade: typed methods over cached aten operator handles.
//
// A Tensor is a plain JS object holding the id of the engine's tensor (a slot in native/addon.cpp's
// table; scopes.ts keeps who frees it). Each method is a one-line call of a cached op handle; names
// and argument order follow PyTorch. An op's caller turns its tensor arguments into ids and its
// result ids into Tensors as the op's schema says, decided once per op (caller() below).
// The factories and free functions (factories.ts) and the runtime (runtime.ts: dispose, scope,
// autograd, threads, RNG state) live beside it and are re-exported from here.
import { native } from './native.ts';
import { adopt, escape, release } from './scopes.ts';
import { lazy, one, op } from './ops.ts';
import { full, where } from './factories.ts';
import { isDevice, type Device } from './device.ts';
export type { MemoryStats, TorchVersion } from './native.ts';
export * from './factories.ts';
export * from './runtime.ts';
export * from './device.ts';
export { op, opSchema, lazy } from './ops.ts';

export type Dtype = 'float32' | 'float64' | 'int64' | 'int32' | 'uint8' | 'bool' | 'float16' | 'bfloat16' | 'int16' | 'int8';
const DTYPES: ReadonlySet<string> = new Set<Dtype>(['float32', 'float64', 'int64', 'int32', 'uint8', 'bool', 'float16', 'bfloat16', 'int16', 'int8']);
export type Shape = readonly number[];
export type Scalar = number | boolean;
export type TensorLike = Tensor | Scalar;

// ------------------------------------------------------------------ op handles
// Op table: everything the facade calls, resolved on first use.
const A = {
  add_t: lazy('add.Tensor'), add_s: lazy('add.Scalar'), sub_t: lazy('sub.Tensor'), sub_s: lazy('sub.Scalar'),
  mul_t: lazy('mul.Tensor'), mul_s: lazy('mul.Scalar'), div_t: lazy('div.Tensor'), div_s: lazy('div.Scalar'),
  div_mode: lazy('div.Tensor_mode'), rsub_s: lazy('rsub.Scalar'), remainder_s: lazy('remainder.Scalar'),
  pow_tt: lazy('pow.Tensor_Tensor'), pow_ts: lazy('pow.Tensor_Scalar'), pow_st: lazy('pow.Scalar'),
  add_t_: lazy('add_.Tensor'), add_s_: lazy('add_.Scalar'), sub_t_: lazy('sub_.Tensor'), mul_t_: lazy('mul_.Tensor'),
  mul_s_: lazy('mul_.Scalar'), div_t_: lazy('div_.Tensor'), div_s_: lazy('div_.Scalar'), zero_: lazy('zero_'),
  fill_s_: lazy('fill_.Scalar'), copy_: lazy('copy_'), addcmul_: lazy('addcmul_'), addcdiv_: lazy('addcdiv_'),
  lerp_s_: lazy('lerp_.Scalar'), addr_: lazy('addr_'), clamp_: lazy('clamp_'), sqrt_: lazy('sqrt_'), uniform_: lazy('uniform_'),
  normal_: lazy('normal_'), masked_fill_s_: lazy('masked_fill_.Scalar'), index_put_: lazy('index_put_'),
  neg: lazy('neg'), abs: lazy('abs'), exp: lazy('exp'), log: lazy('log'), log1p: lazy('log1p'), expm1: lazy('expm1'),
  log2: lazy('log2'), log10: lazy('log10'), sqrt: lazy('sqrt'), rsqrt: lazy('rsqrt'), sin: lazy('sin'), cos: lazy('cos'),
  tan: lazy('tan'), atan: lazy('atan'), atan2: lazy('atan2'), asin: lazy('asin'), acos: lazy('acos'),
  tanh: lazy('tanh'), sigmoid: lazy('sigmoid'), relu: lazy('relu'), gelu: lazy('gelu'), silu: lazy('silu'),
  leaky_relu: lazy('leaky_relu'), elu: lazy('elu'), softplus: lazy('softplus'), hardtanh: lazy('hardtanh'),
  sign: lazy('sign'), floor: lazy('floor'), ceil: lazy('ceil'), round: lazy('round'), trunc: lazy('trunc'),
  reciprocal: lazy('reciprocal'), square: lazy('square'), erf: lazy('erf'), clamp: lazy('clamp'),
  clamp_t: lazy('clamp.Tensor'), isnan: lazy('isnan'), isfinite: lazy('isfinite'), logical_not: lazy('logical_not'),
  logical_and: lazy('logical_and'), logical_or: lazy('logical_or'), logical_xor: lazy('logical_xor'),
  bitwise_not: lazy('bitwise_not'),
  eq_t: lazy('eq.Tensor'), eq_s: lazy('eq.Scalar'), ne_t: lazy('ne.Tensor'), ne_s: lazy('ne.Scalar'),
  lt_t: lazy('lt.Tensor'), lt_s: lazy('lt.Scalar'), le_t: lazy('le.Tensor'), le_s: lazy('le.Scalar'),
  gt_t: lazy('gt.Tensor'), gt_s: lazy('gt.Scalar'), ge_t: lazy('ge.Tensor'), ge_s: lazy('ge.Scalar'),
  maximum: lazy('maximum'), minimum: lazy('minimum'), where: lazy('where.self'),
  where_so: lazy('where.ScalarOther'), where_ss: lazy('where.Scalar'), where_ss2: lazy('where.ScalarSelf'),
  sum: lazy('sum'), sum_dim: lazy('sum.dim_IntList'), mean: lazy('mean'), mean_dim: lazy('mean.dim'),
  prod: lazy('prod'), prod_dim: lazy('prod.dim_int'), max: lazy('max'), max_dim: lazy('max.dim'),
  min: lazy('min'), min_dim: lazy('min.dim'), amax: lazy('amax'), amin: lazy('amin'),
  argmax: lazy('argmax'), argmin: lazy('argmin'), var_dim: lazy('var.dim'), std_dim: lazy('std.dim'),
  vnorm: lazy('linalg_vector_norm'), logsumexp: lazy('logsumexp'), cumsum: lazy('cumsum'), cumprod: lazy('cumprod'),
  any: lazy('any'), any_dim: lazy('any.dim'), all: lazy('all'), all_dim: lazy('all.dim'),
  softmax: lazy('softmax.int'), log_softmax: lazy('log_softmax.int'), sort: lazy('sort'), argsort: lazy('argsort'),
  topk: lazy('topk'), kthvalue: lazy('kthvalue'), median: lazy('median'), nonzero: lazy('nonzero'),
  count_nonzero: lazy('count_nonzero'), unique: lazy('_unique2'), bincount: lazy('bincount'),
  histc: lazy('histc'), allclose: lazy('allclose'), equal: lazy('equal'),
  reshape: lazy('reshape'), view: lazy('view'), permute: lazy('permute'), transpose: lazy('transpose.int'),
  t: lazy('t'), squeeze: lazy('squeeze'), squeeze_dim: lazy('squeeze.dim'), unsqueeze: lazy('unsqueeze'),
  flatten: lazy('flatten.using_ints'), unflatten: lazy('unflatten.int'), expand: lazy('expand'),
  expand_as: lazy('expand_as'), contiguous: lazy('contiguous'), repeat: lazy('repeat'),
  repeat_interleave: lazy('repeat_interleave.self_int'), narrow: lazy('narrow'), slice: lazy('slice.Tensor'),
  select: lazy('select.int'), index_select: lazy('index_select'), gather: lazy('gather'),
  scatter: lazy('scatter.src'), scatter_add: lazy('scatter_add'), index: lazy('index.Tensor'),
  index_add: lazy('index_add'), masked_fill_s: lazy('masked_fill.Scalar'), masked_select: lazy('masked_select'),
  cat: lazy('cat'), stack: lazy('stack'), split: lazy('split.Tensor'), split_sizes: lazy('split_with_sizes'),
  chunk: lazy('chunk'), unbind: lazy('unbind.int'), flip: lazy('flip'), roll: lazy('roll'), tril: lazy('tril'),
  triu: lazy('triu'), diag: lazy('diag'), diagonal: lazy('diagonal'), diag_embed: lazy('diag_embed'),
  trace: lazy('trace'), clone: lazy('clone'), detach: lazy('detach'), to_dtype: lazy('to.dtype'),
  to_device: lazy('to.device'), view_dtype: lazy('view.dtype'), set_data: lazy('set_data'),
  mm: lazy('mm'), matmul: lazy('matmul'), bmm: lazy('bmm'), dot: lazy('dot'), outer: lazy('outer'), mv: lazy('mv'),
  einsum: lazy('einsum'), kron: lazy('kron'), cross: lazy('linalg_cross'),
  eigh: lazy('linalg_eigh'), eigvalsh: lazy('linalg_eigvalsh'), solve: lazy('linalg_solve'), inv: lazy('linalg_inv'),
  qr: lazy('linalg_qr'), svd: lazy('linalg_svd'), cholesky: lazy('linalg_cholesky'), det: lazy('linalg_det'),
  slogdet: lazy('linalg_slogdet'), pinv: lazy('linalg_pinv'), lstsq: lazy('linalg_lstsq'),
  matrix_norm: lazy('linalg_matrix_norm.str_ord'), matrix_rank: lazy('linalg_matrix_rank'),
  // factories
  zeros: lazy('zeros'), ones: lazy('ones'), full: lazy('full'), empty: lazy('empty.memory_format'),
  randn: lazy('randn'), rand: lazy('rand'), randint: lazy('randint.low'), randperm: lazy('randperm'),
  arange: lazy('arange.start_step'), linspace: lazy('linspace'), logspace: lazy('logspace'), eye: lazy('eye.m'),
  zeros_like: lazy('zeros_like'), ones_like: lazy('ones_like'), full_like: lazy('full_like'),
  randn_like: lazy('randn_like'), rand_like: lazy('rand_like'), scalar_tensor: lazy('scalar_tensor'),
  bernoulli_p: lazy('bernoulli.p'), multinomial: lazy('multinomial'), normal_ff: lazy('normal.float_float'),
};
export const aten = A;

// ------------------------------------------------------------------ helpers
function isT(x: unknown): x is Tensor {
  return x instanceof Tensor;
}
function dimList(dim: number | readonly number[]): number[] {
  return typeof dim === 'number' ? [dim] : [...dim];
}
const REDUCTION = { none: 0, mean: 1, sum: 2 } as const;
export type Reduction = keyof typeof REDUCTION;
export function reductionCode(r: Reduction): number {
  const c = REDUCTION[r];
  if (c === undefined) throw new Error(`reduction must be 'none', 'mean' or 'sum', got '${r}'`);
  return c;
}

/** Index spec for `Tensor.at`: a number selects, [start, end, step] slices, null keeps the axis. */
export type IndexSpec = number | null | readonly [number | null, (number | null)?, number?] | Tensor;

// ------------------------------------------------------------------ Tensor
const MADE = Symbol('made by the engine');

export class Tensor {
  /** @internal The engine's id of this tensor (a slot of native/addon.cpp's table); -1 once freed. */
  _id: number;
  /** @internal It outlives every scope (registered for the garbage collector: scopes.ts). */
  _esc: boolean;

  protected constructor(id?: number, made?: symbol) {
    if (made !== MADE || id === undefined) throw new Error('Tensors are made by factories (tensor, zeros, randn, ...), not by new Tensor()');
    this._id = id;
    this._esc = false;
  }
  /** @internal A Tensor over the engine's tensor `id`, owned by the innermost scope (or the GC). */
  static _wrap(id: number): Tensor {
    const t = new Tensor(id, MADE);
    adopt(t);
    return t;
  }

  get dtype(): Dtype { return native.tDtype(this._id) as Dtype; }
  get shape(): number[] { return native.tShape(this._id); }
  get ndim(): number { return native.tNdim(this._id); }
  get numel(): number { return native.tNumel(this._id); }
  get device(): string { return native.tDevice(this._id); }
  get requiresGrad(): boolean { return native.tRequiresGrad(this._id); }
  set requiresGrad(on: boolean) { native.tSetRequiresGrad(this._id, on); }
  get isDisposed(): boolean { return this._id < 0; }
  get isLeaf(): boolean { return native.tIsLeaf(this._id); }
  /** A new handle on the accumulated gradient (or null); setting it takes a Tensor or null. */
  get grad(): Tensor | null { return one(native.tGrad(this._id)); }
  set grad(g: Tensor | null) { native.tSetGrad(this._id, g instanceof Tensor ? g._id : g ?? null); }
  /** Frees the tensor now; a second call is a no-op. */
  dispose(): void { release(this); }
  toTypedArray(): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int16Array | Int8Array {
    return native.tToArray(this._id);
  }
  item(): number { return native.tItem(this._id) as number; }
  /** Removes this tensor from the enclosing scope(s) so it outlives them. */
  keep(): this { escape(this); return this; }
  isSameTensor(other: unknown): boolean { return native.tSame(this._id, other instanceof Tensor ? other._id : null); }

  // ---- conversion
  /**
   * A copy of the data as a plain typed array (float32 → Float32Array, int64 → BigInt64Array, ...),
   * copied from the tensor's device; float16 and bfloat16 come converted to a Float32Array (their
   * raw bits: rawBits()). A meta tensor has no data: this throws.
   */
  data(): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int16Array | Int8Array {
    return this.toTypedArray();
  }
  /** The data as plain numbers (int64 converted), flat. */
  toArray(): number[] {
    const d = this.toTypedArray();
    return d instanceof BigInt64Array ? Array.from(d, Number) : Array.from(d as ArrayLike<number>);
  }
  /** Data as a Float64Array whatever the dtype. */
  toFloat64Array(): Float64Array {
    const d = this.toTypedArray();
    return d instanceof Float64Array ? d : Float64Array.from(d as ArrayLike<number>, (v) => Number(v));
  }
  /** Nested JS arrays, like tensor.tolist() in PyTorch. */
  tolist(): unknown {
    const flat = this.toArray();
    const shape = this.shape;
    if (shape.length === 0) return flat[0];
    const build = (d: number, off: number): unknown => {
      const n = shape[d]!;
      const stride = shape.slice(d + 1).reduce((a, b) => a * b, 1);
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(d === shape.length - 1 ? flat[off + i] : build(d + 1, off + i * stride));
      return out;
    };
    return build(0, 0);
  }
  /**
   * torch's Tensor.to: a dtype ('float16'), a device ('cuda', 'cuda:1', 'cpu', 'meta') or both.
   * Returns this tensor's own data (a new handle on it) when nothing changes, a copy otherwise;
   * autograd flows through the copy, as in PyTorch.
   */
  to(target: Dtype | Device | { device?: Device; dtype?: Dtype; copy?: boolean }): Tensor {
    if (typeof target === 'string') {
      if (DTYPES.has(target) || !isDevice(target)) return A.to_dtype(this, target, false, false, null);
      return A.to_device(this, target, this.dtype, false, false, null);
    }
    return A.to_device(this, target.device ?? this.device, target.dtype ?? this.dtype, false, target.copy ?? false, null);
  }
  /** A copy on the CPU (this tensor's own data when it is already there). */
  cpu(): Tensor { return this.to('cpu'); }
  /** A copy on a CUDA device (default the current one). */
  cuda(index?: number): Tensor { return this.to(index === undefined ? 'cuda' : `cuda:${index}`); }
  /**
   * A float16 / bfloat16 tensor's raw 16-bit patterns (copied to the CPU), bit-exact; toTypedArray()
   * returns those dtypes converted to a Float32Array. fromHalfBits() is the way back.
   */
  rawBits(): Uint16Array {
    if (this.dtype !== 'float16' && this.dtype !== 'bfloat16') throw new Error(`rawBits(): needs a float16 or bfloat16 tensor, got ${this.dtype}`);
    const v = A.view_dtype(this, 'int16') as Tensor;
    const a = v.toTypedArray() as Int16Array;
    v.dispose();
    return new Uint16Array(a.buffer, a.byteOffset, a.length);
  }
  /** Whether this tensor has data on the CPU, on a CUDA device, or is a meta tensor (shape only). */
  get isCuda(): boolean { return this.device.startsWith('cuda'); }
  get isMeta(): boolean { return this.device === 'meta'; }
  float(): Tensor { return this.to('float32'); }
  double(): Tensor { return this.to('float64'); }
  long(): Tensor { return this.to('int64'); }
  int(): Tensor { return this.to('int32'); }
  bool(): Tensor { return this.to('bool'); }
  half(): Tensor { return this.to('float16'); }
  bfloat16(): Tensor { return this.to('bfloat16'); }
  clone(): Tensor { return A.clone(this, null); }
  detach(): Tensor { return A.detach(this); }
  contiguous(): Tensor { return A.contiguous(this); }
  /** Sets requiresGrad and returns this, like PyTorch's requires_grad_(). */
  requiresGrad_(on = true): this { this.requiresGrad = on; return this; }
  toString(): string {
    if (this.isDisposed) return 'Tensor(disposed)';
    return `Tensor(shape=[${this.shape}], dtype=${this.dtype}${this.device === 'cpu' ? '' : `, device=${this.device}`})`;
  }

  // ---- arithmetic (other may be a number)
  add(o: TensorLike, alpha = 1): Tensor { return isT(o) ? A.add_t(this, o, alpha) : A.add_s(this, o, alpha); }
  sub(o: TensorLike, alpha = 1): Tensor { return isT(o) ? A.sub_t(this, o, alpha) : A.sub_s(this, o, alpha); }
  mul(o: TensorLike): Tensor { return isT(o) ? A.mul_t(this, o) : A.mul_s(this, o); }
  div(o: TensorLike, roundingMode?: 'trunc' | 'floor'): Tensor {
    if (roundingMode) return A.div_mode(this, isT(o) ? o : scalarLike(o, this), roundingMode);
    return isT(o) ? A.div_t(this, o) : A.div_s(this, o);
  }
  /** o - this */
  rsub(o: Scalar): Tensor { return A.rsub_s(this, o, 1); }
  remainder(o: number): Tensor { return A.remainder_s(this, o); }
  pow(e: TensorLike): Tensor { return isT(e) ? A.pow_tt(this, e) : A.pow_ts(this, e); }
  neg(): Tensor { return A.neg(this); }
  abs(): Tensor { return A.abs(this); }
  exp(): Tensor { return A.exp(this); }
  expm1(): Tensor { return A.expm1(this); }
  log(): Tensor { return A.log(this); }
  log1p(): Tensor { return A.log1p(this); }
  log2(): Tensor { return A.log2(this); }
  log10(): Tensor { return A.log10(this); }
  sqrt(): Tensor { return A.sqrt(this); }
  rsqrt(): Tensor { return A.rsqrt(this); }
  square(): Tensor { return A.square(this); }
  sin(): Tensor { return A.sin(this); }
  cos(): Tensor { return A.cos(this); }
  tan(): Tensor { return A.tan(this); }
  atan(): Tensor { return A.atan(this); }
  asin(): Tensor { return A.asin(this); }
  acos(): Tensor { return A.acos(this); }
  atan2(o: Tensor): Tensor { return A.atan2(this, o); }
  tanh(): Tensor { return A.tanh(this); }
  sigmoid(): Tensor { return A.sigmoid(this); }
  relu(): Tensor { return A.relu(this); }
  gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return A.gelu(this, approximate); }
  silu(): Tensor { return A.silu(this); }
  leakyRelu(slope = 0.01): Tensor { return A.leaky_relu(this, slope); }
  elu(alpha = 1): Tensor { return A.elu(this, alpha, 1, 1); }
  softplus(beta = 1, threshold = 20): Tensor { return A.softplus(this, beta, threshold); }
  sign(): Tensor { return A.sign(this); }
  floor(): Tensor { return A.floor(this); }
  ceil(): Tensor { return A.ceil(this); }
  round(): Tensor { return A.round(this); }
  trunc(): Tensor { return A.trunc(this); }
  reciprocal(): Tensor { return A.reciprocal(this); }
  erf(): Tensor { return A.erf(this); }
  clamp(min: number | null | Tensor, max: number | null | Tensor = null): Tensor {
    if (isT(min) || isT(max)) return A.clamp_t(this, min, max);
    return A.clamp(this, min, max);
  }
  maximum(o: Tensor): Tensor { return A.maximum(this, o); }
  minimum(o: Tensor): Tensor { return A.minimum(this, o); }

  // ---- comparison and logic
  eq(o: TensorLike): Tensor { return isT(o) ? A.eq_t(this, o) : A.eq_s(this, o); }
  ne(o: TensorLike): Tensor { return isT(o) ? A.ne_t(this, o) : A.ne_s(this, o); }
  lt(o: TensorLike): Tensor { return isT(o) ? A.lt_t(this, o) : A.lt_s(this, o); }
  le(o: TensorLike): Tensor { return isT(o) ? A.le_t(this, o) : A.le_s(this, o); }
  gt(o: TensorLike): Tensor { return isT(o) ? A.gt_t(this, o) : A.gt_s(this, o); }
  ge(o: TensorLike): Tensor { return isT(o) ? A.ge_t(this, o) : A.ge_s(this, o); }
  isnan(): Tensor { return A.isnan(this); }
  isfinite(): Tensor { return A.isfinite(this); }
  logicalNot(): Tensor { return A.logical_not(this); }
  logicalAnd(o: Tensor): Tensor { return A.logical_and(this, o); }
  logicalOr(o: Tensor): Tensor { return A.logical_or(this, o); }
  logicalXor(o: Tensor): Tensor { return A.logical_xor(this, o); }
  /** Where this (bool) is true take a, else b. */
  where(a: TensorLike, b: TensorLike): Tensor { return where(this, a, b); }
  allclose(o: Tensor, rtol = 1e-5, atol = 1e-8): boolean { return A.allclose(this, o, rtol, atol, false) as boolean; }
  equal(o: Tensor): boolean { return A.equal(this, o) as boolean; }

  // ---- reductions
  sum(dim?: number | readonly number[] | null, keepdim = false, dtype?: Dtype): Tensor {
    return dim == null ? A.sum(this, dtype ?? null) : A.sum_dim(this, dimList(dim), keepdim, dtype ?? null);
  }
  mean(dim?: number | readonly number[] | null, keepdim = false): Tensor {
    return dim == null ? A.mean(this, null) : A.mean_dim(this, dimList(dim), keepdim, null);
  }
  prod(dim?: number | null, keepdim = false): Tensor {
    return dim == null ? A.prod(this, null) : A.prod_dim(this, dim, keepdim, null);
  }
  /** Max of all elements. With a dim, use maxDim (values and indices) or amax. */
  max(): Tensor { return A.max(this); }
  min(): Tensor { return A.min(this); }
  maxDim(dim: number, keepdim = false): [Tensor, Tensor] { return A.max_dim(this, dim, keepdim); }
  minDim(dim: number, keepdim = false): [Tensor, Tensor] { return A.min_dim(this, dim, keepdim); }
  amax(dim: number | readonly number[] = [], keepdim = false): Tensor { return A.amax(this, dimList(dim), keepdim); }
  amin(dim: number | readonly number[] = [], keepdim = false): Tensor { return A.amin(this, dimList(dim), keepdim); }
  argmax(dim?: number | null, keepdim = false): Tensor { return A.argmax(this, dim ?? null, keepdim); }
  argmin(dim?: number | null, keepdim = false): Tensor { return A.argmin(this, dim ?? null, keepdim); }
  var(dim?: number | readonly number[] | null, unbiased = true, keepdim = false): Tensor {
    return A.var_dim(this, dim == null ? null : dimList(dim), unbiased, keepdim);
  }
  std(dim?: number | readonly number[] | null, unbiased = true, keepdim = false): Tensor {
    return A.std_dim(this, dim == null ? null : dimList(dim), unbiased, keepdim);
  }
  /** Vector p-norm over dims (all elements when dim is null). */
  norm(p = 2, dim?: number | readonly number[] | null, keepdim = false): Tensor {
    return A.vnorm(this, p, dim == null ? null : dimList(dim), keepdim, null);
  }
  logsumexp(dim: number | readonly number[], keepdim = false): Tensor { return A.logsumexp(this, dimList(dim), keepdim); }
  cumsum(dim: number): Tensor { return A.cumsum(this, dim, null); }
  cumprod(dim: number): Tensor { return A.cumprod(this, dim, null); }
  any(dim?: number): Tensor { return dim == null ? A.any(this) : A.any_dim(this, dim, false); }
  all(dim?: number): Tensor { return dim == null ? A.all(this) : A.all_dim(this, dim, false); }
  softmax(dim: number): Tensor { return A.softmax(this, dim, null); }
  logSoftmax(dim: number): Tensor { return A.log_softmax(this, dim, null); }
  sort(dim = -1, descending = false): [Tensor, Tensor] { return A.sort(this, dim, descending); }
  argsort(dim = -1, descending = false): Tensor { return A.argsort(this, dim, descending); }
  topk(k: number, dim = -1, largest = true, sorted = true): [Tensor, Tensor] { return A.topk(this, k, dim, largest, sorted); }
  median(): Tensor { return A.median(this); }
  nonzero(): Tensor { return A.nonzero(this); }
  countNonzero(dim?: number | readonly number[]): Tensor {
    return op('count_nonzero.dim_IntList')(this, dim == null ? [] : dimList(dim));
  }
  bincount(minlength = 0): Tensor { return A.bincount(this, null, minlength); }

  // ---- shape
  reshape(...shape: number[] | [readonly number[]]): Tensor { return A.reshape(this, flatShape(shape)); }
  view(...shape: number[] | [readonly number[]]): Tensor { return A.view(this, flatShape(shape)); }
  permute(...dims: number[] | [readonly number[]]): Tensor { return A.permute(this, flatShape(dims)); }
  transpose(d0: number, d1: number): Tensor { return A.transpose(this, d0, d1); }
  /** 2-D transpose. */
  t(): Tensor { return A.t(this); }
  get T(): Tensor { return this.ndim < 2 ? this.clone() : this.permute([...Array(this.ndim).keys()].reverse()); }
  squeeze(dim?: number): Tensor { return dim == null ? A.squeeze(this) : A.squeeze_dim(this, dim); }
  unsqueeze(dim: number): Tensor { return A.unsqueeze(this, dim); }
  flatten(start = 0, end = -1): Tensor { return A.flatten(this, start, end); }
  unflatten(dim: number, sizes: readonly number[]): Tensor { return A.unflatten(this, dim, [...sizes]); }
  expand(...shape: number[] | [readonly number[]]): Tensor { return A.expand(this, flatShape(shape), false); }
  expandAs(o: Tensor): Tensor { return A.expand_as(this, o); }
  repeat(...reps: number[] | [readonly number[]]): Tensor { return A.repeat(this, flatShape(reps)); }
  repeatInterleave(n: number, dim?: number): Tensor { return A.repeat_interleave(this, n, dim ?? null, null); }
  narrow(dim: number, start: number, length: number): Tensor { return A.narrow(this, dim, start, length); }
  slice(dim: number, start: number | null = null, end: number | null = null, step = 1): Tensor {
    return A.slice(this, dim, start, end, step);
  }
  select(dim: number, index: number): Tensor { return A.select(this, dim, index); }
  indexSelect(dim: number, index: Tensor): Tensor { return A.index_select(this, dim, index); }
  gather(dim: number, index: Tensor): Tensor { return A.gather(this, dim, index, false); }
  scatter(dim: number, index: Tensor, src: Tensor): Tensor { return A.scatter(this, dim, index, src); }
  scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return A.scatter_add(this, dim, index, src); }
  indexAdd(dim: number, index: Tensor, src: Tensor): Tensor { return A.index_add(this, dim, index, src, 1); }
  /** Advanced indexing with tensors per leading dim (null keeps a dim whole), like x[i, j]. */
  index(indices: readonly (Tensor | null)[]): Tensor { return A.index(this, [...indices]); }
  maskedFill(mask: Tensor, value: number): Tensor { return A.masked_fill_s(this, mask, value); }
  maskedSelect(mask: Tensor): Tensor { return A.masked_select(this, mask); }
  /**
   * NumPy-style basic indexing: x.at(0, [1, null], null) is x[0, 1:, :]. A Tensor entry does
   * advanced indexing on that axis.
   */
  at(...spec: IndexSpec[]): Tensor {
    let out: Tensor | null = null; // null while nothing has been indexed yet (still `this`)
    let axis = 0;
    const made: Tensor[] = [];
    for (const s of spec) {
      let next: Tensor;
      if (s === null) { axis++; continue; }
      const cur = out ?? this;
      if (typeof s === 'number') {
        next = cur.select(axis, s);
      } else if (isT(s)) {
        next = cur.indexSelect(axis, s.ndim === 0 ? s.reshape(1) : s); axis++;
      } else {
        next = cur.slice(axis, s[0] ?? null, s[1] ?? null, s[2] ?? 1); axis++;
      }
      if (out) made.push(out);
      out = next;
    }
    for (const m of made) m.dispose();
    return out ?? this.view(this.shape);
  }
  split(size: number | readonly number[], dim = 0): Tensor[] {
    return typeof size === 'number' ? A.split(this, size, dim) : A.split_sizes(this, [...size], dim);
  }
  chunk(n: number, dim = 0): Tensor[] { return A.chunk(this, n, dim); }
  unbind(dim = 0): Tensor[] { return A.unbind(this, dim); }
  flip(dims: number | readonly number[]): Tensor { return A.flip(this, dimList(dims)); }
  roll(shifts: number | readonly number[], dims: number | readonly number[]): Tensor {
    return A.roll(this, dimList(shifts), dimList(dims));
  }
  tril(k = 0): Tensor { return A.tril(this, k); }
  triu(k = 0): Tensor { return A.triu(this, k); }
  diag(k = 0): Tensor { return A.diag(this, k); }
  diagonal(offset = 0, d1 = 0, d2 = 1): Tensor { return A.diagonal(this, offset, d1, d2); }
  trace(): Tensor { return A.trace(this); }

  // ---- linear algebra
  matmul(o: Tensor): Tensor { return A.matmul(this, o); }
  mm(o: Tensor): Tensor { return A.mm(this, o); }
  bmm(o: Tensor): Tensor { return A.bmm(this, o); }
  mv(o: Tensor): Tensor { return A.mv(this, o); }
  dot(o: Tensor): Tensor { return A.dot(this, o); }
  outer(o: Tensor): Tensor { return A.outer(this, o); }
  /** this += alpha · a ⊗ b (rank-one update, in place) */
  addr_(a: Tensor, b: Tensor, alpha = 1): this { inplace(A.addr_(this, a, b, 1, alpha)); return this; }

  // ---- in place (for optimizers; run under noGrad on leaves). Return this.
  add_(o: TensorLike, alpha = 1): this { inplace(isT(o) ? A.add_t_(this, o, alpha) : A.add_s_(this, o, alpha)); return this; }
  sub_(o: Tensor, alpha = 1): this { inplace(A.sub_t_(this, o, alpha)); return this; }
  mul_(o: TensorLike): this { inplace(isT(o) ? A.mul_t_(this, o) : A.mul_s_(this, o)); return this; }
  div_(o: TensorLike): this { inplace(isT(o) ? A.div_t_(this, o) : A.div_s_(this, o)); return this; }
  zero_(): this { inplace(A.zero_(this)); return this; }
  fill_(v: number): this { inplace(A.fill_s_(this, v)); return this; }
  copy_(src: Tensor): this { inplace(A.copy_(this, src, false)); return this; }
  addcmul_(a: Tensor, b: Tensor, value = 1): this { inplace(A.addcmul_(this, a, b, value)); return this; }
  addcdiv_(a: Tensor, b: Tensor, value = 1): this { inplace(A.addcdiv_(this, a, b, value)); return this; }
  lerp_(end: Tensor, weight: number): this { inplace(A.lerp_s_(this, end, weight)); return this; }
  clamp_(min: number | null, max: number | null = null): this { inplace(A.clamp_(this, min, max)); return this; }
  sqrt_(): this { inplace(A.sqrt_(this)); return this; }
  uniform_(from = 0, to = 1): this { inplace(A.uniform_(this, from, to, null)); return this; }
  normal_(mean = 0, std = 1): this { inplace(A.normal_(this, mean, std, null)); return this; }
  maskedFill_(mask: Tensor, value: number): this { inplace(A.masked_fill_s_(this, mask, value)); return this; }
  indexPut_(indices: readonly (Tensor | null)[], values: Tensor, accumulate = false): this {
    inplace(A.index_put_(this, [...indices], values, accumulate)); return this;
  }

  // ---- autograd
  /** Accumulates gradients into the leaves' .grad, like loss.backward(). */
  backward(gradient?: Tensor, retainGraph = false, createGraph = false): void {
    native.backward([this._id], gradient ? [gradient._id] : null, retainGraph, createGraph);
  }
}

/** In-place ops return an alias wrapper of self; drop it at once. */
function inplace(alias: Tensor): void {
  alias.dispose();
}
function scalarLike(v: Scalar, like: Tensor): Tensor {
  return full([], Number(v), { dtype: like.dtype, device: like.device });
}
function flatShape(s: number[] | [readonly number[]]): number[] {
  return s.length === 1 && Array.isArray(s[0]) ? [...(s[0] as readonly number[])] : (s as number[]);
}

// Tensors inside the rare results the addon converts value by value (an op's mixed tuple).
native.setTensorFactory((id) => Tensor._wrap(id));
