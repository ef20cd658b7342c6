// PyTorch checkpoints as torch.save writes them (PyTorch ≥ 1.6, the zip format), read without
// running any code: `<name>/data.pkl` (a pickle read by the safe unpickler, pickle.ts, with the
// torch allowlist), `<name>/data/<key>` (one raw storage each), `<name>/version` and, from PyTorch
// 2.1, `<name>/byteorder`. PyTorch Lightning `.ckpt` files are the same format with the weights
// under 'state_dict'. Pure TS: returns NdArrays (src/core/torch turns them into tensors).
//
// readTorchFile(bytes, file) → { root, stateDict, other }
//   root       the unpickled object (tensors as NdArray, see materializeAll)
//   stateDict  a flat {name: NdArray}: the object itself when it is a dict of tensors, else its
//              'state_dict' (Lightning) / 'model_state_dict' / 'model' / 'net' / 'module' entry,
//              nested dicts joined with '.' (non-tensor leaves are dropped)
//   other      the root's keys that are not the state dict (epoch, optimizer_states, …)
import { unzipSync } from 'fflate';
import { InputFileError } from '../errors.ts';
import { unpickle, materialize, storageTypeOf, type TorchTensorRef } from './pickle.ts';
import { ITEMSIZE, isNdArray, type NdArray, type NdDtype } from './ndarray.ts';
import { PickleDataError } from './pickle-globals.ts';

export interface TorchFile {
  root: unknown;
  stateDict: Record<string, NdArray>;
  other: string[];
}

const MAX_FORMAT_VERSION = 10; // what libtorch's own reader accepts (caffe2/serialize kMaxSupportedFileFormatVersion)
const STATE_KEYS = ['state_dict', 'model_state_dict', 'model', 'net', 'module', 'network'];

/** Is this a zip archive (torch.save ≥ 1.6)? */
export const isZip = (b: Uint8Array): boolean => b.byteLength >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04;

function refuseNonZip(b: Uint8Array, file: string): never {
  if (b.byteLength >= 2 && b[0] === 0x80 && b[1]! <= 5) {
    throw new InputFileError(`${file}: this is the legacy torch.save format (PyTorch < 1.6), which paperlab does not read; ` +
      're-save it with a newer PyTorch: torch.save(torch.load(f), "new.pth")', { file });
  }
  throw new InputFileError(`${file}: not a torch.save zip archive (it does not start with a zip header)`, { file });
}

function unzip(b: Uint8Array, file: string): Record<string, Uint8Array> {
  try {
    return unzipSync(b);
  } catch (e) {
    throw new InputFileError(`${file}: the zip archive is truncated or corrupt (${(e as Error).message})`, { file, cause: e });
  }
}

/** The archive's folder name (torch names it after the file, or 'archive'), found by its data.pkl. */
function archivePrefix(entries: Record<string, Uint8Array>, file: string): string {
  const pkls = Object.keys(entries).filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkls.length === 1) return pkls[0]!.slice(0, -'data.pkl'.length);
  if (Object.keys(entries).some((n) => /^[^/]+\/(constants\.pkl|code\/)/.test(n))) {
    throw new InputFileError(`${file}: this is a TorchScript archive (torch.jit.save), not a state dict; save model.state_dict() with torch.save instead`, { file });
  }
  throw new InputFileError(`${file}: no <name>/data.pkl record in the zip archive (${pkls.length} found): not a torch.save file`, { file });
}

function checkHeader(entries: Record<string, Uint8Array>, prefix: string, file: string): 'little' | 'big' {
  const text = (n: string) => (entries[prefix + n] ? new TextDecoder().decode(entries[prefix + n]).trim() : undefined);
  const version = text('version') ?? text('.data/version');
  if (version === undefined) throw new InputFileError(`${file}: record ${prefix}version is missing (not a torch.save file?)`, { file });
  const v = Number(version);
  if (!Number.isInteger(v) || v < 1 || v > MAX_FORMAT_VERSION) {
    throw new InputFileError(`${file}: record ${prefix}version says format ${JSON.stringify(version.slice(0, 20))}, paperlab reads 1–${MAX_FORMAT_VERSION}`, { file });
  }
  const order = text('byteorder') ?? 'little';
  if (order !== 'little' && order !== 'big') {
    throw new InputFileError(`${file}: record ${prefix}byteorder is ${JSON.stringify(order.slice(0, 20))}, expected 'little' or 'big'`, { file });
  }
  return order;
}

interface Storage { kind: 'storage'; key: string; dtype: NdDtype; bytes: Uint8Array }

/** persistent_load for torch.save's ids ('storage', type, key, location, numel). */
function storageLoader(entries: Record<string, Uint8Array>, prefix: string, order: 'little' | 'big') {
  const cache = new Map<string, Storage>();
  return (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) throw new PickleDataError('persistent id is not a torch storage record');
    const st = storageTypeOf(pid[1]);
    if (!st) throw new PickleDataError('persistent id names no torch storage type');
    const key = String(pid[2]);
    const hit = cache.get(key);
    if (hit) return hit;
    const name = `${prefix}data/${key}`;
    const raw = entries[name];
    if (!raw) throw new PickleDataError(`storage record ${name} is missing from the archive`);
    const dtype: NdDtype = st.dtype === 'untyped' ? 'uint8' : st.dtype;
    const size = ITEMSIZE[dtype];
    const numel = Number(pid[4]);
    // (torch 2.x ids count bytes for untyped storages; 1.x count elements)
    if (raw.byteLength !== numel * size && raw.byteLength !== numel) {
      throw new PickleDataError(`storage record ${name} has ${raw.byteLength} bytes, its ${st.name} of ${numel} elements needs ${numel * size}`);
    }
    const bytes = raw.slice();
    if (order === 'big' && size > 1) for (let i = 0; i < bytes.byteLength; i += size) bytes.subarray(i, i + size).reverse();
    const s: Storage = { kind: 'storage', key, dtype, bytes };
    cache.set(key, s);
    return s;
  };
}

/** Replaces every TorchTensorRef in a value (dicts, lists) by its NdArray, in place. */
function materializeAll(v: unknown, file: string, where: string, seen = new Set<unknown>()): unknown {
  if (typeof v !== 'object' || v === null || seen.has(v) || isNdArray(v) || ArrayBuffer.isView(v)) return v;
  if ((v as TorchTensorRef).kind === 'torch.tensor') {
    const ref = v as TorchTensorRef;
    const st = ref.storage as Storage;
    if (st?.kind !== 'storage') throw new InputFileError(`${file}: tensor ${where} has no storage record`, { file });
    try {
      return materialize(ref, st, `tensor ${where} (storage record data/${st.key})`);
    } catch (e) {
      if (e instanceof PickleDataError) throw new InputFileError(`${file}: ${e.message}`, { file });
      throw e;
    }
  }
  seen.add(v);
  for (const [k, x] of Object.entries(v)) (v as Record<string, unknown>)[k] = materializeAll(x, file, where ? `${where}.${k}` : k, seen);
  return v;
}

const isDict = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && !isNdArray(v) && !ArrayBuffer.isView(v);

/** Flattens nested dicts of tensors into {'a.b.c': NdArray}. */
export function flattenTensors(v: Record<string, unknown>, prefix = '', out: Record<string, NdArray> = {}): Record<string, NdArray> {
  for (const [k, x] of Object.entries(v)) {
    if (isNdArray(x)) out[prefix + k] = x;
    else if (isDict(x)) flattenTensors(x, `${prefix}${k}.`, out);
  }
  return out;
}

/** Finds the state dict inside a checkpoint object (see the top of the file). */
export function findStateDict(root: unknown): { stateDict: Record<string, NdArray>; other: string[] } {
  if (!isDict(root)) return { stateDict: {}, other: [] };
  const vals = Object.values(root);
  if (vals.length > 0 && vals.some(isNdArray) && vals.every((x) => isNdArray(x) || isDict(x))) return { stateDict: flattenTensors(root), other: [] };
  const key = STATE_KEYS.find((k) => isDict(root[k]));
  if (key) return { stateDict: findStateDict(root[key]).stateDict, other: Object.keys(root).filter((k) => k !== key) };
  return { stateDict: flattenTensors(root), other: Object.keys(root).filter((k) => !isNdArray(root[k]) && !isDict(root[k])) };
}

/** Reads a torch.save file's bytes (see the top of the file); errors name `file` and the record. */
export function readTorchFile(bytes: Uint8Array, file: string): TorchFile {
  if (!isZip(bytes)) refuseNonZip(bytes, file);
  const entries = unzip(bytes, file);
  const prefix = archivePrefix(entries, file);
  const order = checkHeader(entries, prefix, file);
  const root = unpickle(entries[`${prefix}data.pkl`]!, {
    file: `${file} (record ${prefix}data.pkl)`,
    globals: 'torch',
    persistentLoad: storageLoader(entries, prefix, order),
  });
  const value = materializeAll(root, file, '');
  return { root: value, ...findStateDict(value) };
}
