// The allowlist of the safe unpickler (pickle.ts): the only Python globals a pickle may name, each
// mapped to a pure-TS constructor. Nothing here runs Python or loads code; a global outside these
// tables stops the load (pickle.ts says which one).
import { ITEMSIZE, gatherStrided, numelOf, typedView, type NdArray, type NdDtype } from './ndarray.ts';

/** Fails the load with a message (pickle.ts adds the file and the byte position). */
export class PickleDataError extends Error {}

/** What BUILD calls on an object that takes a state (numpy arrays and dtypes, OrderedDict attributes). */
export const PICKLE_BUILD = Symbol('pickle.build');

/** A Python callable the allowlist maps (REDUCE/NEWOBJ/INST/OBJ call `fn` with the argument tuple). */
export class PyCallable {
  constructor(readonly name: string, readonly fn: (args: unknown[]) => unknown) {}
}

/** `torch.<X>Storage` (the storage type inside torch.save's persistent ids). */
export interface TorchStorageType { readonly kind: 'torch.storage_type'; name: string; dtype: NdDtype | 'untyped' }
/** `torch.<dtype>` */
export interface TorchDtype { readonly kind: 'torch.dtype'; dtype: NdDtype }
/** A tensor as torch.save describes it: a view (element offset, shape, strides) of a storage. */
export interface TorchTensorRef {
  readonly kind: 'torch.tensor';
  /** what persistentLoad returned for the storage's persistent id */
  storage: unknown;
  offset: number;
  shape: number[];
  stride: number[];
  /** set by _rebuild_tensor_v3 (otherwise the storage's dtype) */
  dtype?: NdDtype;
  requiresGrad: boolean;
}

export type GlobalSet = 'plain' | 'torch' | 'numpy';

const isIntList = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => typeof x === 'number' && Number.isInteger(x) && x >= 0);

/** A dict that is a Python object: plain JS object whose BUILD (attributes) is kept out of its keys. */
function newDict(): Record<string, unknown> {
  const d: Record<string, unknown> = {};
  Object.defineProperty(d, PICKLE_BUILD, { enumerable: false, value: (state: unknown) => Object.defineProperty(d, '__pickle_state__', { enumerable: false, value: state }) });
  return d;
}

const latin1 = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

const PLAIN: Record<string, (args: unknown[]) => unknown> = {
  'collections.OrderedDict': (args) => {
    const d = newDict();
    const items = args[0];
    if (Array.isArray(items)) {
      for (const kv of items) {
        if (Array.isArray(kv)) Object.defineProperty(d, String(kv[0]), { value: kv[1], enumerable: true, writable: true, configurable: true });
      }
    }
    return d;
  },
  'builtins.set': (args) => (Array.isArray(args[0]) ? [...args[0]] : []),
  'builtins.frozenset': (args) => (Array.isArray(args[0]) ? [...args[0]] : []),
  'builtins.bytearray': (args) => (args[0] instanceof Uint8Array ? args[0].slice() : typeof args[0] === 'string' ? latin1(args[0]) : new Uint8Array(0)),
  'builtins.bytes': (args) => (Array.isArray(args[0]) ? Uint8Array.from(args[0] as number[]) : new Uint8Array(0)),
  // protocol 2 pickles bytes as _codecs.encode(<latin-1 text>, 'latin1')
  '_codecs.encode': (args) => {
    if (typeof args[0] !== 'string') throw new PickleDataError('_codecs.encode expects a string');
    return latin1(args[0]);
  },
};

// ---------------------------------------------------------------- torch

const TORCH_STORAGES: Record<string, NdDtype | 'untyped'> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool', UntypedStorage: 'untyped',
};
const TORCH_DTYPES: Record<string, NdDtype> = {
  float32: 'float32', float: 'float32', float64: 'float64', double: 'float64', float16: 'float16', half: 'float16',
  bfloat16: 'bfloat16', int64: 'int64', long: 'int64', int32: 'int32', int: 'int32', int16: 'int16', short: 'int16',
  int8: 'int8', uint8: 'uint8', bool: 'bool',
};

function tensorRef(args: unknown[], dtype?: NdDtype): TorchTensorRef {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (typeof offset !== 'number' || !isIntList(size) || !Array.isArray(stride) || size.length !== stride.length) {
    throw new PickleDataError('_rebuild_tensor arguments are not (storage, offset, size, stride)');
  }
  return { kind: 'torch.tensor', storage, offset, shape: size, stride: stride as number[], requiresGrad: requiresGrad === true, ...(dtype ? { dtype } : {}) };
}

const asTensor = (v: unknown, what: string): TorchTensorRef => {
  if ((v as TorchTensorRef)?.kind !== 'torch.tensor') throw new PickleDataError(`${what} expects a tensor`);
  return v as TorchTensorRef;
};

const TORCH: Record<string, (args: unknown[]) => unknown> = {
  'torch._utils._rebuild_tensor': (a) => tensorRef(a),
  'torch._utils._rebuild_tensor_v2': (a) => tensorRef(a),
  'torch._utils._rebuild_tensor_v3': (a) => {
    const d = a[6] as TorchDtype;
    if (d?.kind !== 'torch.dtype') throw new PickleDataError('_rebuild_tensor_v3 expects a torch dtype');
    return tensorRef(a, d.dtype);
  },
  'torch._utils._rebuild_parameter': (a) => asTensor(a[0], '_rebuild_parameter'),
  'torch._utils._rebuild_parameter_with_state': (a) => asTensor(a[0], '_rebuild_parameter_with_state'),
  'torch._tensor._rebuild_from_type_v2': (a) => {
    const [fn, , args] = a;
    if (!(fn instanceof PyCallable) || !Array.isArray(args)) throw new PickleDataError('_rebuild_from_type_v2 arguments are not (function, type, args, state)');
    return fn.fn(args);
  },
  'torch.Size': (a) => (Array.isArray(a[0]) ? [...a[0]] : []),
  'torch.device': (a) => a.map(String).join(':'),
  'torch.Tensor': () => { throw new PickleDataError('torch.Tensor is only a type here'); },
  'torch.nn.parameter.Parameter': () => { throw new PickleDataError('torch.nn.parameter.Parameter is only a type here'); },
};

// ---------------------------------------------------------------- numpy

/** numpy's dtype: a descriptor such as 'f4' plus the byte order BUILD sets. */
interface NumpyDtype { readonly kind: 'numpy.dtype'; descr: string; byteorder: string }
const NUMPY_DTYPES: Record<string, NdDtype> = {
  f2: 'float16', f4: 'float32', f8: 'float64', i1: 'int8', i2: 'int16', i4: 'int32', i8: 'int64',
  u1: 'uint8', u2: 'uint16', u4: 'uint32', u8: 'uint64', b1: 'bool',
};

function numpyDtype(args: unknown[]): NumpyDtype {
  const descr = String(args[0]);
  const d: NumpyDtype = { kind: 'numpy.dtype', descr, byteorder: '=' };
  Object.defineProperty(d, PICKLE_BUILD, {
    enumerable: false,
    value: (state: unknown) => { if (Array.isArray(state) && typeof state[1] === 'string') d.byteorder = state[1]; },
  });
  return d;
}

function ndDtypeOf(d: unknown): NdDtype {
  const nd = (d as NumpyDtype)?.kind === 'numpy.dtype' ? NUMPY_DTYPES[(d as NumpyDtype).descr] : undefined;
  if (!nd) throw new PickleDataError(`numpy dtype '${(d as NumpyDtype)?.descr ?? '?'}' is not loaded (only float16/32/64, int8–64, uint8–64, bool)`);
  return nd;
}

/** Array bytes in the file's byte order → a C-order NdArray. */
function ndarrayFrom(dtypeObj: unknown, shape: unknown, raw: unknown, fortran: boolean): NdArray {
  const dtype = ndDtypeOf(dtypeObj);
  if (!isIntList(shape)) throw new PickleDataError('numpy array shape is not a tuple of sizes');
  if (!(raw instanceof Uint8Array)) throw new PickleDataError('numpy array data is not bytes (object arrays are not loaded)');
  const size = ITEMSIZE[dtype];
  const n = numelOf(shape);
  if (raw.byteLength !== n * size) throw new PickleDataError(`numpy array of shape [${shape}] ${dtype} needs ${n * size} bytes, has ${raw.byteLength}`);
  let bytes: Uint8Array = raw.slice();
  if ((dtypeObj as NumpyDtype).byteorder === '>' && size > 1) {
    for (let i = 0; i < bytes.byteLength; i += size) bytes.subarray(i, i + size).reverse();
  }
  if (fortran && shape.length > 1) {
    const fStrides = shape.map((_, d) => numelOf(shape.slice(0, d)));
    bytes = gatherStrided(bytes, size, 0, shape, fStrides);
  }
  return { kind: 'ndarray', dtype, shape: [...shape], data: typedView(dtype, bytes) };
}

function reconstruct(): NdArray {
  const a = { kind: 'ndarray', dtype: 'uint8', shape: [0], data: new Uint8Array(0) } as NdArray;
  Object.defineProperty(a, PICKLE_BUILD, {
    enumerable: false,
    value: (state: unknown) => {
      if (!Array.isArray(state) || state.length < 5) throw new PickleDataError('numpy array state is not (version, shape, dtype, is_fortran, data)');
      Object.assign(a, ndarrayFrom(state[2], state[1], state[4], state[3] === true));
    },
  });
  return a;
}

function scalar(args: unknown[]): number | bigint | boolean {
  const arr = ndarrayFrom(args[0], [], args[1], false);
  const v = arr.data[0]!;
  if (arr.dtype === 'bool') return v !== 0;
  if (arr.dtype === 'float16') return halfScalar(Number(v));
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  return v;
}
const halfScalar = (h: number): number => {
  const e = (h >> 10) & 0x1f, f = h & 0x3ff, s = h & 0x8000 ? -1 : 1;
  return e === 0 ? s * f * 2 ** -24 : e === 31 ? (f ? NaN : s * Infinity) : s * (1 + f / 1024) * 2 ** (e - 15);
};

const NUMPY: Record<string, (args: unknown[]) => unknown> = {};
for (const core of ['numpy.core', 'numpy._core']) {
  NUMPY[`${core}.multiarray._reconstruct`] = () => reconstruct();
  NUMPY[`${core}.multiarray.scalar`] = scalar;
  // protocol 5 (in-band): _frombuffer(buffer, dtype, shape, order)
  NUMPY[`${core}.numeric._frombuffer`] = (a) => ndarrayFrom(a[1], a[2], a[0], a[3] === 'F');
}
NUMPY['numpy.ndarray'] = () => { throw new PickleDataError('numpy.ndarray is only a type here'); };
NUMPY['numpy.dtype'] = numpyDtype;

/** The allowlist for the chosen families ('plain' is always in). */
export function allowedGlobals(sets: readonly GlobalSet[]): Map<string, PyCallable> {
  const out = new Map<string, PyCallable>();
  const add = (table: Record<string, (args: unknown[]) => unknown>) => {
    for (const [name, fn] of Object.entries(table)) out.set(name, new PyCallable(name, fn));
  };
  add(PLAIN);
  // protocols 0–2 name builtins as Python 2 did (pickle's fix_imports)
  for (const [name, fn] of Object.entries(PLAIN)) if (name.startsWith('builtins.')) out.set(`__builtin__.${name.slice(9)}`, new PyCallable(name, fn));
  if (sets.includes('torch')) {
    add(TORCH);
    for (const [name, dtype] of Object.entries(TORCH_STORAGES)) {
      const st: TorchStorageType = { kind: 'torch.storage_type', name, dtype };
      out.set(`torch.${name}`, Object.assign(new PyCallable(`torch.${name}`, () => { throw new PickleDataError(`torch.${name} is only a type here`); }), { storageType: st }));
    }
    for (const [name, dtype] of Object.entries(TORCH_DTYPES)) {
      out.set(`torch.${name}`, Object.assign(new PyCallable(`torch.${name}`, () => { throw new PickleDataError(`torch.${name} is not callable`); }), { torchDtype: { kind: 'torch.dtype', dtype } as TorchDtype }));
    }
  }
  if (sets.includes('numpy')) add(NUMPY);
  return out;
}

/** The storage type a persistent id names (torch.save: ('storage', <type>, key, location, numel)). */
export function storageTypeOf(v: unknown): TorchStorageType | undefined {
  return (v as { storageType?: TorchStorageType })?.storageType;
}

/** Resolves a tensor reference into a C-contiguous NdArray, given the storage bytes and dtype. */
export function materialize(ref: TorchTensorRef, storage: { dtype: NdDtype; bytes: Uint8Array }, where: string): NdArray {
  const dtype = ref.dtype ?? storage.dtype;
  const size = ITEMSIZE[dtype];
  const n = storage.bytes.byteLength / size;
  for (const s of ref.stride) if (!Number.isInteger(s) || s < 0) throw new PickleDataError(`${where}: stride [${ref.stride}] is not a list of non-negative integers`);
  const hiIndex = ref.shape.reduce((acc, s, d) => acc + (s - 1) * ref.stride[d]!, ref.offset);
  if (numelOf(ref.shape) > 0 && (ref.offset < 0 || hiIndex >= n)) {
    throw new PickleDataError(`${where}: view (offset ${ref.offset}, shape [${ref.shape}], stride [${ref.stride}]) reaches element ${hiIndex} of a ${n}-element storage`);
  }
  const bytes = gatherStrided(storage.bytes, size, ref.offset, ref.shape, ref.stride);
  return { kind: 'ndarray', dtype, shape: [...ref.shape], data: typedView(dtype, bytes) };
}
