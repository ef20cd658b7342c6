// Devices: where a tensor lives ('cpu', 'cuda', 'cuda:N', 'meta'), torch.cuda's runtime functions,
// the error for ops that mix devices, and the autocast scope of mixed precision. Re-exported from
// tensor.ts. CUDA memory goes through libtorch's own CUDA caching allocator; the addon's caching
// allocator serves CPU tensors only.
import { native } from './native.ts';
import { PaperlabError, UsageError } from '../errors.ts';

/** A device string as torch writes it: 'cpu', 'cuda', 'cuda:0', 'meta' (shapes without data). */
export type Device = string;

const DEVICE_RE = /^(cpu|meta|cuda(:\d+)?)$/;

/** Whether `s` names a device (rather than a dtype), as Tensor.to() must tell them apart. */
export function isDevice(s: string): boolean {
  return DEVICE_RE.test(s);
}

// ---------------------------------------------------------------- the default device
let defaultDevice: Device = 'cpu';
/**
 * torch.set_default_device: where factories (zeros, randn, tensor(), …) put a tensor when their
 * options name no device. The runner sets it to the run's device (--device) for the run, so every
 * tensor a command makes (parameters, data batches, loaded checkpoints) lands there.
 */
export function setDefaultDevice(d: Device): Device {
  if (!isDevice(d)) throw new UsageError(`setDefaultDevice: '${d}' is not a device (cpu, cuda, cuda:N, meta)`);
  const prev = defaultDevice;
  defaultDevice = d;
  return prev;
}
export function getDefaultDevice(): Device { return defaultDevice; }
/** Runs fn (sync or async) with `d` as the default device, restoring the previous one after. */
export async function withDefaultDevice<T>(d: Device, fn: () => Promise<T> | T): Promise<T> {
  const prev = setDefaultDevice(d);
  try {
    return await fn();
  } finally {
    setDefaultDevice(prev);
  }
}

/**
 * An op got tensors on two devices (libtorch's "Expected all tensors to be on the same device"):
 * the message names both devices and the operator. Raised by the addon for every op and backward.
 */
export class DeviceMismatchError extends PaperlabError {
  override name = 'DeviceMismatchError';
  /** the two devices libtorch named, when it named them */
  readonly devices: [string, string] | null;
  constructor(libtorchMessage: string) {
    // "…found at least two devices, cuda:0 and cpu!" or "…but got mat2 is on cpu, different from other tensors on cuda:0"
    const m = /devices?, (\S+) and (\S+?)!?(\s|$)/.exec(libtorchMessage) ?? /is on (\S+?), different from other tensors on (\S+?)[\s(,]/.exec(libtorchMessage);
    const cut = libtorchMessage.indexOf(': ');
    const where = cut > 0 ? libtorchMessage.slice(0, cut) : 'op';
    const devices: [string, string] | null = m ? [m[1]!, m[2]!] : null;
    super(devices
      ? `${where}: tensors on two devices, ${devices[0]} and ${devices[1]}: move them to one device first (tensor.to(device), module.to(device))`
      : `${libtorchMessage} (move the tensors to one device first)`, { code: 'DEVICE_MISMATCH' });
    this.devices = devices;
  }
}
native.setDeviceErrorClass(DeviceMismatchError);

/** torch.cuda: the CUDA runtime as libtorch sees it (every answer is "no CUDA" in a CPU build). */
export const cuda = {
  isAvailable(): boolean { return native.cudaDeviceCount() > 0; },
  deviceCount(): number { return native.cudaDeviceCount(); },
  /** Waits for every kernel queued on `device` (default: the current one) to finish. */
  synchronize(device?: Device | number): void {
    if (!cuda.isAvailable()) return;
    native.cudaSynchronize(typeof device === 'number' ? device : device ? deviceIndex(device) : -1);
  },
  /** Seeds every CUDA device's default generator (torch.cuda.manual_seed_all); a no-op without CUDA. */
  manualSeed(seed: number): void { native.cudaManualSeed(seed); },
  /** Bytes held by live tensors in libtorch's CUDA caching allocator (0 without CUDA). */
  memoryAllocated(device: Device | number = 0): number { return cudaMemory(device)[0]; },
  /** Bytes the CUDA caching allocator holds from the driver, used or cached (0 without CUDA). */
  memoryReserved(device: Device | number = 0): number { return cudaMemory(device)[1]; },
  /** Gives the CUDA caching allocator's unused blocks back to the driver (torch.cuda.empty_cache). */
  emptyCache(): void { native.cudaEmptyCache(); },
};

function deviceIndex(d: Device): number {
  const m = /^cuda:(\d+)$/.exec(d);
  return m ? Number(m[1]) : 0;
}
function cudaMemory(device: Device | number): [number, number] {
  if (!cuda.isAvailable()) return [0, 0];
  const r = native.cudaMemory(typeof device === 'number' ? device : deviceIndex(device));
  if (!r) throw new PaperlabError('torch.cuda memory counters: this CUDA build of the addon was compiled without the CUDA headers (see docs/gpu.md)');
  return r;
}

/**
 * Resolves a user's device choice ('auto', 'cpu', 'cuda', 'cuda:N', 'meta') to a device string.
 * 'auto' is CUDA when a device is present, else the CPU. Asking for CUDA without it is a
 * UsageError (exit 2) that says so.
 */
export function resolveDevice(choice: string | undefined, source = '--device'): Device {
  const c = (choice ?? 'auto').trim().toLowerCase();
  if (c === 'auto' || c === '') return cuda.isAvailable() ? 'cuda' : 'cpu';
  if (!isDevice(c)) throw new UsageError(`${source}: '${choice}' is not a device (cpu, cuda, cuda:N, meta or auto)`);
  if (c.startsWith('cuda')) {
    const n = cuda.deviceCount();
    if (n === 0) {
      const why = torchVersionCudaBuild() ? 'the driver reports no GPU' : 'this build of the libtorch addon has no CUDA; docs/gpu.md says how to build one';
      throw new UsageError(`${source} ${c}: no CUDA device is available (${why}); use cpu or auto`);
    }
    if (deviceIndex(c) >= n) throw new UsageError(`${source} ${c}: only ${n} CUDA device${n === 1 ? '' : 's'} (cuda:0${n > 1 ? `…cuda:${n - 1}` : ''})`);
  }
  return c;
}
function torchVersionCudaBuild(): boolean { return native.version().cudaBuild === true; }

/** The device type autocast keys on: 'cuda' for any CUDA device, else 'cpu'. */
export function deviceType(d: Device): 'cpu' | 'cuda' | 'meta' {
  return d.startsWith('cuda') ? 'cuda' : d === 'meta' ? 'meta' : 'cpu';
}

/**
 * torch.autocast(device_type, dtype): runs fn with libtorch's autocast on for that device type,
 * so matmuls and convolutions run in `dtype` (float16 or bfloat16) and precision-sensitive ops
 * (losses, softmax, reductions) in float32, as PyTorch's autocast op lists say. fn must be
 * synchronous. On the CPU libtorch's autocast supports bfloat16.
 */
export function autocast<T>(device: Device, dtype: 'float16' | 'bfloat16', fn: () => T): T {
  const type = deviceType(device) === 'cuda' ? 'cuda' : 'cpu';
  const [was, prev] = native.autocastSet(type, true, dtype);
  native.autocastNesting(1);
  try {
    return fn();
  } finally {
    native.autocastNesting(-1);
    native.autocastSet(type, was, prev);
  }
}
