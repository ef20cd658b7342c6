// Weights users already have, as tensors: loadStateDict reads a PyTorch checkpoint (torch.save's
// .pt/.pth zip, a Lightning .ckpt: src/core/io/pth.ts, no code run) or a safetensors file, strips
// wrapper prefixes, applies a module's key map (src/core/io/keymap.ts) and returns named tensors.
// float16/bfloat16 tensors become float32 on import (the engine computes in float32/64); uint16/32
// become int32/int64.
import fs from 'node:fs';
import { InputFileError, NotFoundError } from '../errors.ts';
import { readTorchFile, isZip } from '../io/pth.ts';
import { applyKeyMap, stripPrefix, type KeyMap } from '../io/keymap.ts';
import { halfToFloat32, bfloat16ToFloat32, type NdArray } from '../io/ndarray.ts';
import { tensor, type Tensor, dispose } from './tensor.ts';
import { fromSafetensors } from './serialize.ts';

export interface LoadStateDictOptions {
  /** strip this key prefix (keys without it are left out); 'auto' strips shared wrapper prefixes (module., model., …) */
  prefix?: string;
  /** an official implementation's names → paperlab's */
  map?: KeyMap;
}

export interface LoadedStateDict {
  tensors: Record<string, Tensor>;
  format: 'torch.save' | 'safetensors';
  /** safetensors metadata (empty for torch.save files) */
  metadata: Record<string, string>;
  /** keys whose float16/bfloat16 values were converted to float32 */
  halfConverted: string[];
  /** a checkpoint's entries besides the state dict (epoch, optimizer_states, hyper_parameters, …) */
  other: string[];
}

/** An NdArray as an engine tensor (half precision → float32, unsigned 16/32-bit → int32/int64). */
export function ndToTensor(a: NdArray): Tensor {
  const shape = a.shape;
  switch (a.dtype) {
    case 'float16': return tensor(halfToFloat32(a.data as Uint16Array), { shape, dtype: 'float32' });
    case 'bfloat16': return tensor(bfloat16ToFloat32(a.data as Uint16Array), { shape, dtype: 'float32' });
    case 'uint16': return tensor(Int32Array.from(a.data as Uint16Array), { shape, dtype: 'int32' });
    case 'uint32': return tensor(BigInt64Array.from(a.data as Uint32Array, (x) => BigInt(x)), { shape, dtype: 'int64' });
    case 'uint64': return tensor(new BigInt64Array((a.data as BigUint64Array).buffer, a.data.byteOffset, a.data.length), { shape, dtype: 'int64' });
    default: return tensor(a.data, { shape, dtype: a.dtype });
  }
}

function readBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const C = code === 'ENOENT' || code === 'ENOTDIR' ? NotFoundError : InputFileError;
    throw new C(`${file}: cannot read (${code ?? (e as Error).message})`, { file, code });
  }
}

/** Reads a state dict from a .pt/.pth/.ckpt (torch.save) or .safetensors file (see the top of the file). */
export function loadStateDict(file: string, o: LoadStateDictOptions = {}): LoadedStateDict {
  const bytes = readBytes(file);
  let tensors: Record<string, Tensor> = {};
  const halfConverted: string[] = [];
  let metadata: Record<string, string> = {};
  let other: string[] = [];
  let format: LoadedStateDict['format'];
  if (isZip(bytes) || bytes[0] === 0x80) {
    format = 'torch.save';
    const t = readTorchFile(bytes, file);
    other = t.other;
    let sd = t.stateDict;
    if (!Object.keys(sd).length) throw new InputFileError(`${file}: no tensors found (entries: ${other.slice(0, 10).join(', ') || '(none)'})`, { file });
    if (o.prefix) sd = stripPrefix(sd, o.prefix, file);
    if (o.map) sd = applyKeyMap(sd, o.map, file);
    try {
      for (const [k, a] of Object.entries(sd)) {
        if (a.dtype === 'float16' || a.dtype === 'bfloat16') halfConverted.push(k);
        tensors[k] = ndToTensor(a);
      }
    } catch (e) { dispose(tensors); throw e; }
  } else {
    format = 'safetensors';
    const st = fromSafetensors(bytes, file);
    metadata = st.metadata;
    tensors = st.tensors;
    try {
      if (o.prefix) tensors = stripPrefix(tensors, o.prefix, file);
      if (o.map) tensors = applyKeyMap(tensors, o.map, file);
    } catch (e) { dispose(st.tensors); throw e; }
    // keys left out by a prefix or map
    const kept = new Set(Object.values(tensors));
    for (const t of Object.values(st.tensors)) if (!kept.has(t)) t.dispose();
  }
  return { tensors, format, metadata, halfConverted, other };
}
