// Data order under data parallelism, as torch.utils.data.distributed.DistributedSampler: every
// rank draws the same global order (same seed, same epoch), pads it to a multiple of the world size
// by repeating its head, and takes every worldSize-th index from its rank on. Rank r's k-th batch
// of B is then positions r, r+W, … of the global batch k of W·B, so W ranks × batch B see exactly
// the samples that one process × batch W·B sees, batch by batch.
import { Rng } from '../rng.ts';
import { currentWorld, type World } from './env.ts';
import * as torch from '../torch/tensor.ts';
import type { Tensor } from '../torch/tensor.ts';

export interface SamplerOptions {
  /** default: the current process group's */
  world?: Pick<World, 'rank' | 'worldSize'>;
  shuffle?: boolean;
  seed?: number;
  /** drop the tail instead of padding (torch's drop_last) */
  dropLast?: boolean;
}

export class DistributedSampler {
  readonly rank: number;
  readonly worldSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** indices per rank and epoch */
  readonly numSamples: number;
  readonly totalSize: number;
  private epoch = 0;

  constructor(readonly length: number, o: SamplerOptions = {}) {
    const w = o.world ?? currentWorld();
    this.rank = w.rank; this.worldSize = w.worldSize;
    this.shuffle = o.shuffle ?? true; this.seed = o.seed ?? 0; this.dropLast = o.dropLast ?? false;
    this.numSamples = this.dropLast && length % this.worldSize !== 0
      ? Math.floor(length / this.worldSize)
      : Math.ceil(length / this.worldSize);
    this.totalSize = this.numSamples * this.worldSize;
  }

  /** torch's set_epoch: a new shuffle per epoch, the same on every rank. */
  setEpoch(epoch: number): void { this.epoch = epoch; }

  /** The global order of this epoch (before padding): a permutation seeded by seed and epoch, or 0..n−1. */
  globalOrder(): number[] {
    return this.shuffle ? new Rng(this.seed).fork(this.epoch).permutation(this.length) : Array.from({ length: this.length }, (_, i) => i);
  }

  /** This rank's indices for the epoch. */
  indices(): number[] {
    return shardIndices(this.globalOrder(), this.rank, this.worldSize, this.dropLast);
  }
}

/**
 * Rank `rank`'s share of `order`: padded by repeating its head to a multiple of worldSize (or cut,
 * with dropLast), then every worldSize-th element from `rank` on. With worldSize 1: order itself.
 */
export function shardIndices(order: readonly number[], rank: number, worldSize: number, dropLast = false): number[] {
  if (worldSize <= 1) return [...order];
  let idx = [...order];
  if (dropLast) idx = idx.slice(0, idx.length - (idx.length % worldSize));
  else if (idx.length > 0) {
    const pad = Math.ceil(idx.length / worldSize) * worldSize - idx.length;
    const rep: number[] = [];
    while (rep.length < pad) rep.push(...order);
    idx.push(...rep.slice(0, pad));
  }
  const out: number[] = [];
  for (let i = rank; i < idx.length; i += worldSize) out.push(idx[i]!);
  return out;
}

/**
 * For loops that draw a fresh batch each step (with replacement): draw the global batch of
 * batchSize × worldSize with `draw` (the same generator on every rank), keep this rank's shard.
 */
export function shardedDraw(batchSize: number, draw: (globalBatch: number) => number[], world: Pick<World, 'rank' | 'worldSize'> = currentWorld()): number[] {
  return shardIndices(draw(batchSize * world.worldSize), world.rank, world.worldSize);
}

/**
 * This rank's rows of a global batch (dim 0) made the same way on every rank: rows rank, rank+W, …
 * For loops whose batch maker draws whole batches (patch samplers with a foreground quota); with
 * one process, `t` itself.
 */
export function shardBatch(t: Tensor, world: Pick<World, 'rank' | 'worldSize'> = currentWorld()): Tensor {
  if (world.worldSize <= 1) return t;
  const rows = shardIndices(Array.from({ length: t.shape[0]! }, (_, i) => i), world.rank, world.worldSize);
  return t.indexSelect(0, torch.tensor(rows, { dtype: 'int64' }));
}
