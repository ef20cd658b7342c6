// torch.nn.parallel.DistributedDataParallel, for a synchronous step: at construction every rank
// takes rank 0's parameters and buffers; after backward, `syncGradients()` averages the gradients
// over ranks in buckets (reverse parameter order, ~bucketCapMb each, one all-reduce per bucket, as
// torch's Reducer), then gives every rank rank 0's buffers (BatchNorm running statistics:
// torch's broadcast_buffers). Inside `noSync(fn)` gradients only accumulate locally (gradient
// accumulation); the next syncGradients() outside averages the sum.
//
// What differs from torch: the all-reduce runs after backward rather than overlapping it (our
// autograd has no gradient hooks), and a parameter without a gradient on a rank contributes zeros
// (torch would need find_unused_parameters). With a world of one process every call is a no-op.
import * as torch from '../torch/tensor.ts';
import type { Tensor } from '../torch/tensor.ts';
import type { Module } from '../torch/nn.ts';
import * as dist from '../torch/distributed.ts';

export interface DdpOptions {
  /** bucket size in MiB (torch's bucket_cap_mb, 25) */
  bucketCapMb?: number;
  /** give every rank rank 0's buffers after each synchronised step (torch's broadcast_buffers, true) */
  broadcastBuffers?: boolean;
}

/** Time spent in the collectives, for benches and logs. */
export interface DdpStats { allReduceMs: number; allReduceCalls: number; allReduceBytes: number; broadcastMs: number; syncs: number }

export class DistributedDataParallel {
  readonly worldSize: number;
  readonly buckets: Tensor[][];
  readonly stats: DdpStats = { allReduceMs: 0, allReduceCalls: 0, allReduceBytes: 0, broadcastMs: 0, syncs: 0 };
  private syncing = true;
  private readonly buffers: Tensor[];
  private readonly broadcastBuffers: boolean;
  private readonly bucketCapMb: number;

  /** `modules`: the model, or the models one optimiser step updates together (a GAN's G and D). */
  constructor(readonly modules: Module | Module[], o: DdpOptions = {}) {
    const ms = Array.isArray(modules) ? modules : [modules];
    this.worldSize = dist.getWorldSize();
    const params = ms.flatMap((m) => m.parameters());
    this.buffers = ms.flatMap((m) => m.namedBuffers().map(([, b]) => b));
    this.broadcastBuffers = o.broadcastBuffers ?? true;
    this.bucketCapMb = o.bucketCapMb ?? 25;
    this.buckets = bucketize(params, this.bucketCapMb * 2 ** 20);
    // Same start on every rank: rank 0's parameters and buffers (torch's _sync_module_states).
    this.broadcastGroups([...params, ...this.buffers]);
  }

  /** The parameters (all modules, in order). */
  parameters(): Tensor[] { return (Array.isArray(this.modules) ? this.modules : [this.modules]).flatMap((m) => m.parameters()); }

  /** Runs fn with gradient averaging off: gradients accumulate on each rank (torch's no_sync()). */
  noSync<T>(fn: () => T): T {
    const was = this.syncing;
    this.syncing = false;
    try { return fn(); } finally { this.syncing = was; }
  }

  /**
   * Call after backward, before the optimiser (and before gradient clipping, which must see the
   * averaged gradients): every parameter's grad becomes the mean over ranks. A no-op inside
   * noSync() and in a world of one.
   */
  syncGradients(params?: Tensor[]): void {
    if (this.worldSize === 1 || !this.syncing) return;
    // an explicit list (one of several optimisers, a GAN's D or G): only those with a gradient, which
    // the caller keeps the same on every rank
    const buckets = params ? bucketize(params.filter((p) => p.grad), (this.bucketCapMb) * 2 ** 20) : this.buckets;
    const t0 = performance.now();
    torch.noGrad(() => {
      for (const bucket of buckets) {
        for (const p of bucket) if (!p.grad) p.grad = torch.zerosLike(p).keep();
        const grads = bucket.map((p) => p.grad!);
        dist.allReduce(grads, 'avg');
        this.stats.allReduceCalls++;
        this.stats.allReduceBytes += grads.reduce((s, g) => s + g.numel * 4, 0);
      }
    });
    this.stats.allReduceMs += performance.now() - t0;
    this.stats.syncs++;
    if (this.broadcastBuffers && this.buffers.length) {
      const t1 = performance.now();
      this.broadcastGroups(this.buffers);
      this.stats.broadcastMs += performance.now() - t1;
    }
  }

  /** Broadcasts from rank 0 (one flat buffer per dtype). */
  private broadcastGroups(ts: Tensor[]): void {
    if (this.worldSize === 1) return;
    torch.noGrad(() => dist.broadcast(ts, 0));
  }
}

/** Groups tensors in reverse order (the order backward produces gradients) into buckets of ≤ cap bytes, one dtype each. */
function bucketize(params: Tensor[], capBytes: number): Tensor[][] {
  const out: Tensor[][] = [];
  let cur: Tensor[] = [], bytes = 0, type = '';
  for (const p of [...params].reverse()) {
    const b = p.numel * 4, t = `${p.dtype}@${p.device}`;
    if (cur.length && (bytes + b > capBytes || t !== type)) { out.push(cur); cur = []; bytes = 0; }
    cur.push(p); bytes += b; type = t;
  }
  if (cur.length) out.push(cur);
  return out;
}
