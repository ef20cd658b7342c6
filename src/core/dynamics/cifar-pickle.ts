// The Python layout of CIFAR-10 (cifar-10-batches-py): each batch a dict pickled by Python 2
// (protocol 2), loaded as `pickle.load(f, encoding='bytes')` does, with bytes keys b'data' (uint8
// numpy array N×3072, pixels in the binary layout's order) and b'labels' (list of ints 0–9), read
// with the safe unpickler (core/io/pickle.ts: plain containers and numpy arrays only).
import { InputFileError } from '../errors.ts';
import { unpickle, type NdArray } from '../io/pickle.ts';
import type { CifarBatch } from './cifar.ts';
import { readBytes } from './cifar.ts';

const PIX = 3072;

/** One pickled batch (data_batch_k, test_batch). Errors name the file and the key (and the label index). */
export function readCifar10PickleBatch(path: string, limit = Infinity): CifarBatch {
  const v = unpickle(readBytes(path), { file: path, globals: 'numpy', encoding: 'bytes' });
  const bad = (what: string) => new InputFileError(`${path}: ${what} (not a CIFAR-10 python batch?)`, { file: path });
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('the pickle does not hold a dict');
  const d = v as Record<string, unknown>;
  if (!('data' in d)) throw bad("the dict has no key b'data'");
  if (!('labels' in d)) throw bad("the dict has no key b'labels'");
  const data = d.data as NdArray;
  if (typeof data !== 'object' || data === null || data.kind !== 'ndarray') throw bad("b'data' is not a numpy array");
  if (data.dtype !== 'uint8' || data.shape.length !== 2 || data.shape[1] !== PIX) {
    throw bad(`b'data' must be a uint8 array N×${PIX}, got ${data.dtype} [${data.shape.join(', ')}]`);
  }
  const labelsIn = d.labels;
  if (!Array.isArray(labelsIn)) throw bad("b'labels' is not a list");
  const total = data.shape[0]!;
  if (labelsIn.length !== total) throw bad(`b'labels' has ${labelsIn.length} entries for ${total} images in b'data'`);
  const n = Math.min(total, limit);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const l = labelsIn[i];
    if (!(typeof l === 'number' && Number.isInteger(l) && l >= 0 && l <= 9)) throw bad(`b'labels'[${i}] is not an integer 0–9`);
    labels[i] = l;
  }
  const pixels = (data.data as Uint8Array).slice(0, n * PIX);
  return { pixels, labels, n };
}
