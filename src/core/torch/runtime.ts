// The runtime around tensors: freeing them (dispose, scope), autograd mode and gradients, threads,
// libtorch's generator, interrupts and memory counters. Re-exported from tensor.ts; import them
// from there (or from index.ts).
import { native, type MemoryStats, type TorchVersion } from './native.ts';
import { openScope, closeScope } from './scopes.ts';
import { Tensor } from './tensor.ts';

function isT(x: unknown): x is Tensor {
  return x instanceof Tensor;
}

// ------------------------------------------------------------------ memory and autograd
/** Frees tensors (in nested arrays / objects) at once. */
export function dispose(...xs: unknown[]): void {
  for (const x of xs) visitTensors(x, (t) => t.dispose());
}

function visitTensors(x: unknown, f: (t: Tensor) => void, depth = 0): void {
  if (x == null || depth > 4) return;
  if (isT(x)) { f(x); return; }
  if (Array.isArray(x)) { for (const e of x) visitTensors(e, f, depth + 1); return; }
  if (x instanceof Map) { for (const e of x.values()) visitTensors(e, f, depth + 1); return; }
  if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
    for (const e of Object.values(x as Record<string, unknown>)) visitTensors(e, f, depth + 1);
  }
}

/**
 * Runs fn and disposes every tensor created inside it, except tensors in its return value (found
 * in arrays and plain objects), which move to the enclosing scope. Like a memory arena:
 * training loops wrap each step in scope(). fn must be synchronous.
 */
export function scope<T>(fn: () => T): T {
  const items = openScope();
  let result: T;
  try {
    result = fn();
  } catch (e) {
    closeScope(items, NONE);
    throw e;
  }
  if (result instanceof Promise) {
    closeScope(items, NONE);
    throw new Error('scope(fn): fn must be synchronous (await outside the scope)');
  }
  if (result == null || typeof result !== 'object') { closeScope(items, NONE); return result; }
  const keep: Tensor[] = [];
  visitTensors(result, (t) => keep.push(t));
  closeScope(items, keep);
  return result;
}
const NONE: readonly Tensor[] = [];

/** Runs fn with gradient recording off (torch.no_grad()). */
export function noGrad<T>(fn: () => T): T {
  const prev = native.setGradEnabled(false);
  try {
    return fn();
  } finally {
    native.setGradEnabled(prev);
  }
}
export function isGradEnabled(): boolean { return native.isGradEnabled(); }
export function setGradEnabled(on: boolean): boolean { return native.setGradEnabled(on); }

export interface GradOptions {
  gradOutputs?: (Tensor | null)[];
  retainGraph?: boolean;
  /** Build a graph of the gradient itself, for double backward (Hessian-vector products). */
  createGraph?: boolean;
  allowUnused?: boolean;
}
/** torch.autograd.grad: gradients of outputs w.r.t. inputs, returned (not accumulated). */
export function grad(outputs: Tensor | Tensor[], inputs: Tensor[], o: GradOptions = {}): (Tensor | null)[] {
  const outs = Array.isArray(outputs) ? outputs : [outputs];
  const r = native.grad(ids(outs), ids(inputs), o.gradOutputs ? ids(o.gradOutputs) : null, o.retainGraph ?? null,
    o.createGraph ?? false, o.allowUnused ?? false);
  return r.map((id) => (id === null ? null : Tensor._wrap(id)));
}
/** torch.autograd.backward over several roots. */
export function backward(tensors: Tensor[], grads?: Tensor[], retainGraph = false, createGraph = false): void {
  native.backward(ids(tensors), grads ? ids(grads) : null, retainGraph, createGraph);
}
/** Tensors as the addon's ids (null stays null; anything else is refused there). */
export function ids(ts: readonly (Tensor | null)[]): number[] {
  return ts.map((t) => (t instanceof Tensor ? t._id : (t as unknown as number)));
}

/** Sets libtorch's intra-op threads and OpenBLAS's pool (one --threads option sets both). */
export function setNumThreads(n: number): void { native.setNumThreads(n); }
export function getNumThreads(): number { return native.getNumThreads(); }
/** Seeds libtorch's default generator (randn, rand, dropout, init). */
export function manualSeed(seed: number): void { native.manualSeed(seed); }
/** Whether this build of the addon can read and restore the generator state (older builds cannot: npm run build:native). */
export const hasRngState: boolean = typeof native.getRngState === 'function' && typeof native.setRngState === 'function';
/**
 * The whole state of libtorch's default generator of `device` (torch.get_rng_state for 'cpu', the
 * default; torch.cuda.get_rng_state for 'cuda' / 'cuda:N'): bytes that setRngState() takes back,
 * so randn/rand/dropout continue exactly where they were.
 */
export function getRngState(device = 'cpu'): Uint8Array {
  if (!native.getRngState) throw new Error('getRngState: this build of the libtorch addon predates it; rebuild it (npm run build:native)');
  return new Uint8Array(device === 'cpu' ? native.getRngState() : native.getRngState(device));
}
/** Restores a state from getRngState(device) (torch.set_rng_state, torch.cuda.set_rng_state). */
export function setRngState(state: Uint8Array, device = 'cpu'): void {
  if (!native.setRngState) throw new Error('setRngState: this build of the libtorch addon predates it; rebuild it (npm run build:native)');
  if (device === 'cpu') native.setRngState(state);
  else native.setRngState(state, device);
}
/** Number of tensor wrappers alive (not disposed or collected); tests use it to catch leaks. */
export function liveTensors(): number { return native.liveTensors(); }
/**
 * SIGINT/SIGTERM while synchronous work runs. Node runs signal listeners only between event-loop
 * turns, so a training loop that never awaits would not see them; while watched, the engine counts
 * them at once (a second one exits the process) and a loop polls `pending()` between steps.
 * Watches nest: the handler is installed by the first watch() and removed by the last unwatch().
 */
export const interrupts = (() => {
  let depth = 0;
  return {
    watch(): void { if (depth++ === 0) native.watchInterrupts(); },
    unwatch(): void { if (depth > 0 && --depth === 0) native.unwatchInterrupts(); },
    /**
     * The signal number (2 SIGINT, 15 SIGTERM) received since the outermost watch(), or 0. With
     * `ack`, the caller has seen it and stops at its next step; a signal nobody acknowledges within
     * 1 s makes the next operator call throw, so even a loop that never polls stops.
     */
    pending(ack = false): number { return depth > 0 ? native.pendingInterrupt(ack) : 0; },
  };
})();
/** Native memory counters (malloc heap, caching allocator, tensor wrappers), for leak hunts and tests. */
export function memoryStats(): MemoryStats { return native.memoryStats(); }
/** Gives the caching allocator's freed blocks back to the system; returns the bytes released. */
export function releaseCachedMemory(): number { return native.releaseCachedMemory(); }
/** The libtorch the addon runs on: version, CUDA (build, device count, GPU name, runtime/driver versions), threads. */
export function torchVersion(): TorchVersion { return native.version(); }

/** Throws a clear error when a loss (or any tensor) holds NaN or Inf. */
export function assertFinite(t: Tensor, what = 'loss'): void {
  const ok = noGrad(() => scope(() => t.isfinite().all().item()));
  if (!ok) throw new Error(`${what} is not finite (NaN or Inf): lower the learning rate or check the data`);
}
