// torch.distributed over c10d (native/distributed.cpp): one default process group per process, a
// TCPStore rendezvous and ProcessGroupGloo (ProcessGroupNCCL for CUDA tensors on a CUDA libtorch
// built with it). Names and argument order follow torch.distributed: initProcessGroup, allReduce,
// broadcast, allGather, barrier, destroyProcessGroup. Every collective waits with a timeout; a peer
// that exited, crashed or hangs becomes a DistributedError naming the operation and this rank.
import { native } from './native.ts';
import { Tensor, ids } from './tensor.ts';
import { DistributedError, UsageError } from '../errors.ts';

export type ReduceOp = 'sum' | 'avg' | 'max' | 'min';

export interface InitOptions {
  /** MASTER_ADDR: where rank 0 serves the TCPStore */
  addr: string;
  /** MASTER_PORT */
  port: number;
  rank: number;
  worldSize: number;
  /** how long the rendezvous and every collective may wait, ms (torch's default: 30 min) */
  timeoutMs?: number;
  /**
   * The network gloo binds to: 'host:<addr>' (a name or address of this machine), 'iface:<name>'
   * (GLOO_SOCKET_IFNAME) or 'default' (this machine's hostname, else loopback).
   */
  device?: string;
}

const DEFAULT_TIMEOUT_MS = 30 * 60 * 1000;
let timeoutMs = DEFAULT_TIMEOUT_MS;

function need<K extends keyof typeof native>(k: K): NonNullable<(typeof native)[K]> {
  const f = native[k];
  if (typeof f !== 'function') throw new DistributedError('this build of the libtorch addon has no c10d binding; rebuild it (npm run build:native)');
  return f.bind(native) as NonNullable<(typeof native)[K]>;
}

/** Runs a native collective; its "c10d: …" failure becomes a DistributedError with a hint. */
function guarded<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    const msg = String((e as Error)?.message ?? e).replace(/^c10d: /, '');
    const hint = /closed by peer|Connection reset|Broken pipe|ECONNRESET|EPIPE/i.test(msg)
      ? ' — another rank exited or crashed'
      : /timed? ?out|Timeout/i.test(msg) ? ` — no answer within ${Math.round(timeoutMs / 1000)} s (PAPERLAB_DIST_TIMEOUT): another rank is stuck or gone` : '';
    throw new DistributedError(`${what} failed: ${msg}${hint}`, { cause: e });
  }
}

/** torch.distributed.init_process_group(backend='gloo', init_method='tcp://addr:port', rank, world_size, timeout). */
export function initProcessGroup(o: InitOptions): void {
  if (!(Number.isInteger(o.worldSize) && o.worldSize >= 1 && Number.isInteger(o.rank) && o.rank >= 0 && o.rank < o.worldSize)) {
    throw new UsageError(`distributed: need 0 <= RANK < WORLD_SIZE, got RANK=${o.rank} WORLD_SIZE=${o.worldSize}`);
  }
  if (!(Number.isInteger(o.port) && o.port >= 1 && o.port <= 65535)) throw new UsageError(`distributed: MASTER_PORT must be a port number, got ${o.port}`);
  timeoutMs = o.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const init = need('distInit');
  guarded(`rendezvous of rank ${o.rank} of ${o.worldSize} at ${o.addr}:${o.port}`, () =>
    init({ addr: o.addr, port: o.port, rank: o.rank, worldSize: o.worldSize, timeoutMs, device: o.device ?? 'default' }));
}

/** Whether this process has joined a process group (torch.distributed.is_initialized). */
export function isInitialized(): boolean {
  return typeof native.distInfo === 'function' && native.distInfo() !== null;
}
/** This process's rank (0 without a group). */
export function getRank(): number { return native.distInfo?.()?.rank ?? 0; }
/** The number of processes in the group (1 without a group). */
export function getWorldSize(): number { return native.distInfo?.()?.worldSize ?? 1; }
/** 'gloo', or 'nccl+gloo' on a CUDA libtorch built with NCCL; null without a group. */
export function getBackend(): string | null { return native.distInfo?.()?.backend ?? null; }
/** The collectives' timeout, ms. */
export function getTimeoutMs(): number { return timeoutMs; }

/** Groups of one dtype and device, in first-seen order (one flat buffer each). */
function byDtype(ts: Tensor[]): Tensor[][] {
  const m = new Map<string, Tensor[]>();
  for (const t of ts) { const k = `${t.dtype}@${t.device}`; const g = m.get(k); if (g) g.push(t); else m.set(k, [t]); }
  return [...m.values()];
}

/**
 * In place on every rank: the element-wise sum (avg: sum / worldSize, max, min) over ranks. Several
 * (contiguous) tensors travel as one flat buffer per dtype and device, as a DDP bucket does.
 */
export function allReduce(tensors: Tensor | Tensor[], op: ReduceOp = 'sum'): void {
  const ts = Array.isArray(tensors) ? tensors : [tensors];
  if (!ts.length || getWorldSize() === 1) return;
  const f = need('distAllReduce');
  for (const g of byDtype(ts)) guarded(`allReduce (${op}) on rank ${getRank()}`, () => f(ids(g), op, timeoutMs));
}

/** In place: every rank's tensors become root's (coalesced like allReduce). */
export function broadcast(tensors: Tensor | Tensor[], src = 0): void {
  const ts = Array.isArray(tensors) ? tensors : [tensors];
  if (!ts.length || getWorldSize() === 1) return;
  const f = need('distBroadcast');
  for (const g of byDtype(ts)) guarded(`broadcast from rank ${src} on rank ${getRank()}`, () => f(ids(g), src, timeoutMs));
}

/** Every rank's `tensor`, in rank order (new tensors; the caller disposes them). */
export function allGather(tensor: Tensor): Tensor[] {
  if (getWorldSize() === 1) return [tensor.clone()];
  const f = need('distAllGather');
  return guarded(`allGather on rank ${getRank()}`, () => f(tensor._id, timeoutMs).map((id) => Tensor._wrap(id)));
}

/** Waits until every rank has reached it. */
export function barrier(): void {
  if (getWorldSize() === 1) return;
  const f = need('distBarrier');
  guarded(`barrier on rank ${getRank()}`, () => f(timeoutMs));
}

/** Leaves the process group (torch.distributed.destroy_process_group). */
export function destroyProcessGroup(): void {
  native.distDestroy?.();
}
