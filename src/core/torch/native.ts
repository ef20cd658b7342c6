// Loads the N-API addon (native/addon.cpp). Only src/core/torch/ talks to it.
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

export type NativeArg = unknown;

/** A tensor as the addon sees it: its slot id (native/addon.cpp, "tensor slots"). */
export type TensorId = number;

/** Where native memory is (bytes, counts): see memoryStats() in native/addon.cpp. */
export interface MemoryStats {
  /** tensors not disposed */
  liveTensors: number;
  /** native tensor slots in use (since issue #27 item 6 the same as liveTensors: no wrapper waits for a finalizer) */
  wrappers: number;
  /** glibc malloc (mallinfo2): heap and arenas, bytes in use there, bytes free there (fragmentation), mmapped blocks */
  mallocHeap: number;
  mallocInUse: number;
  mallocFree: number;
  mallocMmap: number;
  /** freed tensor blocks the CPU caching allocator holds for reuse, and blocks it has handed out */
  cacheBytes: number;
  cacheLiveBlocks: number;
}

/** What libtorch the addon runs on: version, CUDA (build, devices, GPU name, versions), threads. */
export interface TorchVersion {
  torch: string;
  /** a CUDA device is usable */
  cuda: boolean;
  /** the addon was built against a CUDA libtorch (native/find-libtorch.cjs) */
  cudaBuild: boolean;
  deviceCount: number;
  /** the first GPU's name, e.g. 'NVIDIA H100 80GB HBM3', or null */
  gpu: string | null;
  /** CUDA runtime and driver versions ('12.4'), or null */
  cudaRuntime: string | null;
  cudaDriver: string | null;
  threads: number;
  config: string;
}

export interface Addon {
  op(name: string, overload: string): number;
  opSchema(handle: number): string;
  /** [one letter per argument: T Tensor, O Tensor?, L Tensor[], M Tensor?[], S Scalar, . other; return mode 0-4] */
  opInfo(handle: number): [string, number];
  /** tensors as ids; returns an id, an array of ids, or a plain value (by the op's return mode) */
  call(handle: number, ...args: NativeArg[]): unknown;
  /** the unboxed fast paths of the hottest ops on or off (returns the previous setting); for tests */
  setFastPaths(on: boolean): boolean;
  /** how many calls took a fast path so far */
  fastPathHits(): number;
  fromArray(data: ArrayBufferView, shape: number[], dtype?: string): TensorId;
  backward(tensors: TensorId[], grads: (TensorId | null)[] | null, retainGraph: boolean, createGraph: boolean): void;
  grad(outputs: TensorId[], inputs: TensorId[], gradOutputs: (TensorId | null)[] | null,
    retainGraph: boolean | null, createGraph: boolean, allowUnused: boolean): (TensorId | null)[];
  free(id: TensorId): boolean;
  /** the GC frees the tensor with `owner` (an N-API finalizer), unless free() does first */
  escape(owner: object, id: TensorId): void;
  freeSlots(ids: Int32Array, count: number): number;
  setTensorFactory(make: (id: TensorId) => unknown): void;
  tDtype(id: TensorId): string;
  tShape(id: TensorId): number[];
  tNdim(id: TensorId): number;
  tNumel(id: TensorId): number;
  tDevice(id: TensorId): string;
  tRequiresGrad(id: TensorId): boolean;
  tSetRequiresGrad(id: TensorId, on: boolean): void;
  tIsLeaf(id: TensorId): boolean;
  tGrad(id: TensorId): TensorId | null;
  tSetGrad(id: TensorId, grad: unknown): void;
  tSame(id: TensorId, other: unknown): boolean;
  tToArray(id: TensorId): Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int16Array | Int8Array;
  tItem(id: TensorId): number | boolean;
  setGradEnabled(on: boolean): boolean;
  isGradEnabled(): boolean;
  setNumThreads(n: number): void;
  blasStats(): { policy: boolean; threads: number; narrowed: number };
  getNumThreads(): number;
  manualSeed(seed: number): void;
  /** absent in addons built before it was added (rebuild: npm run build:native) */
  getRngState?(device?: string): Uint8Array;
  setRngState?(state: Uint8Array, device?: string): void;
  cudaDeviceCount(): number;
  cudaSynchronize(device: number): void;
  cudaManualSeed(seed: number): void;
  /** [allocated, reserved] bytes, or null in a CUDA build without the CUDA headers */
  cudaMemory(device: number): [number, number] | null;
  cudaEmptyCache(): boolean;
  /** turns autocast on/off for a device type; returns the previous [enabled, dtype] */
  autocastSet(deviceType: 'cpu' | 'cuda', enabled: boolean, dtype: string): [boolean, string];
  autocastNesting(delta: 1 | -1): number;
  setDeviceErrorClass(ctor: new (message: string) => Error): void;
  liveTensors(): number;
  memoryStats(): MemoryStats;
  releaseCachedMemory(): number;
  version(): TorchVersion;
  watchInterrupts(): void;
  unwatchInterrupts(): void;
  pendingInterrupt(ack?: boolean): number;
  /** c10d (native/distributed.cpp); absent in addons built before it (npm run build:native) */
  distInit?(o: { addr: string; port: number; rank: number; worldSize: number; timeoutMs: number; device: string; prefix?: string }): void;
  distInfo?(): { rank: number; worldSize: number; backend: string; nccl: boolean } | null;
  distAllReduce?(tensors: TensorId[], op: string, timeoutMs: number): void;
  distBroadcast?(tensors: TensorId[], root: number, timeoutMs: number): void;
  distAllGather?(tensor: TensorId, timeoutMs: number): TensorId[];
  distBarrier?(timeoutMs: number): void;
  distDestroy?(): void;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
export const ADDON_PATH = path.join(root, 'build/Release/paperlab_torch.node');

export const MISSING_LIBTORCH = [
  'paperlab could not load its libtorch engine.',
  'It needs libtorch (the C++ core of PyTorch) and the addon built against it:',
  '  - Debian/Ubuntu:  sudo apt-get install -y libtorch-dev   then   npm rebuild paperlab  (or npm install)',
  '  - or set LIBTORCH to an unpacked libtorch folder, or use a Python with PyTorch, then rebuild.',
].join('\n');

/** Loads the addon from `file`; any failure becomes one message that says how to get libtorch. */
export function loadAddon(file: string = ADDON_PATH): Addon {
  if (!fs.existsSync(file)) {
    throw new Error(`${MISSING_LIBTORCH}\n(the addon ${file} is not built)`);
  }
  try {
    return createRequire(import.meta.url)(file) as Addon;
  } catch (e) {
    throw new Error(`${MISSING_LIBTORCH}\n(loading ${file} failed: ${(e as Error).message})`);
  }
}

// OpenBLAS reads its thread count when the library loads: set it from PAPERLAB_THREADS first.
const threadsEnv = process.env.PAPERLAB_THREADS;
if (threadsEnv && !process.env.OPENBLAS_NUM_THREADS) process.env.OPENBLAS_NUM_THREADS = threadsEnv;

// libtorch's OpenMP threads spin for a long while after each parallel region (libgomp's default
// spin count, 300,000: milliseconds), while Debian's OpenBLAS runs matrix products on its own pthread pool:
// on a 2-core machine the spinners starve the BLAS threads (an fc-tanh HVP took 77 ms instead of
// 33 ms). Never spinning (OMP_WAIT_POLICY=PASSIVE) fixes that but makes each medium elementwise op
// pay a thread wake-up (40k-element add 40 → 190 µs). A short spin (10,000) keeps both: threads
// stay warm between quick ops and yield during long BLAS calls. libgomp reads this when it loads,
// so set it before the addon; a user's own OMP_WAIT_POLICY or GOMP_SPINCOUNT wins.
if (!process.env.OMP_WAIT_POLICY && !process.env.GOMP_SPINCOUNT) process.env.GOMP_SPINCOUNT = '10000';

export const native: Addon = loadAddon();
if (threadsEnv && Number(threadsEnv) >= 1) native.setNumThreads(Number(threadsEnv));
