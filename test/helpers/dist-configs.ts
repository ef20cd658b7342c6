// The test-size configurations the data-parallel tests train twice: as one process and as two
// ranks (test/helpers/dist-worker.ts). Both sides build them here, so they cannot drift apart.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../src/core/torch/index.ts';
import { MemoryDataset, DEFAULT_TRAIN, type TrainOptions } from '../../src/modules/nowcast/train.ts';
import { DEFAULT_LOSS } from '../../src/modules/nowcast/losses.ts';
import { TINY } from '../../src/modules/nowcast/geometry.ts';
import { writePhantomDataset } from '../../src/modules/prostate/phantoms.ts';
import { loadPrepared, toNetCases, type NetCase } from '../../src/modules/prostate/data.ts';
import type { MNetConfig } from '../../src/modules/prostate/model.ts';
import type { TrainOptions as ProstateTrainOptions } from '../../src/modules/prostate/train.ts';

/**
 * Eight samples; no masked pixel, so the loss is a plain mean over equally sized rank batches and
 * the average of the ranks' means is the global mean (a masked mean over unequal counts is not).
 */
export function nowcastData(): MemoryDataset {
  torch.manualSeed(11);
  const N = 8;
  const x = torch.randn([N, 2, 4, 24, 24]).keep(), y = torch.rand([N, 1, 4, 24, 24]).lt(0.3).to('float32').keep();
  const mask = torch.zeros([N, 1, 4, 24, 24], { dtype: 'bool' }).keep();
  return new MemoryDataset([{ x, y, mask, cell: 'r/2019', region: 'r', year: 2019 }]);
}

/**
 * SIANet at test size, batch `batchSize` per process. No augmentation and no dropout (their random
 * draws follow the per-rank batch, not the global one) and BatchNorm frozen (per-rank batch
 * statistics differ from the global batch's, as in torch's DDP without SyncBatchNorm).
 */
export function nowcastOptions(steps: number, batchSize: number): TrainOptions {
  return {
    ...DEFAULT_TRAIN, model: { model: 'sianet', geometry: TINY, inChannels: 2, startFilters: 2, depth: 2, dropout: 0, strHidden: 4 },
    steps, batchSize, lr: 1e-2, augment: 'none', evalEvery: 0, checkpointEvery: 0, seed: 4, loss: { ...DEFAULT_LOSS, smooth: 'paper' },
    recalibrateBn: 0, frozenBatchNorm: true,
  };
}

/**
 * Six phantom cases (four to train on), M-Net at width 4 in float64; InstanceNorm, so batch splits
 * change nothing. float64 because in float32 one step's gradient of batch 2 and the mean of two
 * batch-1 gradients already differ by ~2e-4 relative in the first conv (summation order), and 20
 * SGD steps on this small focal-loss problem amplify that to ~10 %: the rounding, not the split.
 */
export function prostateSetup(): { cases: NetCase[]; cfg: Partial<MNetConfig> } {
  const root = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'dist-prostate-')), 'data');
  const ds = writePhantomDataset(root, { cases: 6, dims: [32, 32, 8], seed: 4, lesionVoxels: [30, 120], positiveRate: 0.5 });
  const prepared = loadPrepared(root, ds.keys);
  fs.rmSync(path.dirname(root), { recursive: true, force: true });
  return { cases: toNetCases(prepared.slice(0, 4)), cfg: { widths: [4, 4, 4, 4, 4], dtype: 'float64' } };
}

/** 20 iterations without augmentation (its draws follow the per-rank batch); batch is set per side. */
export const PROSTATE_TRAIN: Partial<ProstateTrainOptions> = {
  iterations: 20, iterationsPerEpoch: 10, patch: [8, 32, 32], lr: 0.02, seed: 5, checkpointEvery: 100, augment: { enabled: false }, dtype: 'float64',
};
