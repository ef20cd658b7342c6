// Training as in papers A and B: AdamW, gradient clipping by value, LR ×0.9 on a validation-loss plateau,
// the augmentation policy, deep supervision and the smoothness loss; checkpoints and resume through
// the core training kit (src/core/train), progress, ctx.signal.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import {
  Rng, ReduceLROnPlateau, saveTrainingCheckpoint, restoreTrainingCheckpoint, stepTag, MixedPrecision, type TrainingParts, type Precision,
} from '../../core/train/index.ts';
import { buildModel, type BuildOptions, type NowcastModel } from './model.ts';
import { nowcastLoss, type LossOptions, DEFAULT_LOSS } from './losses.ts';
import { augmentBatch, type AugmentMode } from './recipe.ts';
import type { SampleSet } from './samples.ts';
import { TRAIN } from './config.ts';
import { DistributedDataParallel, shardedDraw } from '../../core/distributed/index.ts';

export interface Batch { x: Tensor; y: Tensor; mask: Tensor }

/** Anything that yields batches by sample index. */
export interface Dataset {
  readonly length: number;
  batch(indices: number[]): Batch;
}

/** In-memory samples (one or more region-year sets concatenated virtually). */
export class MemoryDataset implements Dataset {
  private readonly offsets: number[] = [];
  readonly length: number;
  constructor(readonly sets: SampleSet[]) {
    let n = 0;
    for (const s of sets) { this.offsets.push(n); n += s.x.shape[0]!; }
    this.length = n;
  }
  batch(indices: number[]): Batch {
    return torch.scope(() => {
      const pick = (k: 'x' | 'y' | 'mask') => torch.cat(indices.map((i) => {
        let s = this.sets.length - 1;
        while (this.offsets[s]! > i) s--;
        return this.sets[s]![k].narrow(0, i - this.offsets[s]!, 1);
      }), 0);
      return { x: pick('x'), y: pick('y'), mask: pick('mask') };
    });
  }
}

export interface TrainOptions {
  model: BuildOptions;
  steps: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** clip gradients by value (reference config 2.0; 0 = off) */
  clipValue: number;
  augment: AugmentMode;
  loss: LossOptions;
  /** evaluate validation loss every this many steps (plateau schedule ×0.9, patience 1); 0: never */
  evalEvery: number;
  /** LR factor on a plateau, in [0, 1) (0.9 in the papers) */
  lrDecay: number;
  /** plateau patience in evaluations (1 in the reference configs) */
  patience: number;
  checkpointEvery: number;
  seed: number;
  /**
   * After training, re-estimate every BatchNorm's running statistics as the plain average over
   * this many training batches (dropout off, no augmentation; 0 = keep the EMA). The STR's
   * momentum 0.01 (paper B) needs thousands of steps before its EMA forgets the (0, 1) init; at CPU
   * scale (a few hundred steps) eval-mode outputs would otherwise use half-initial statistics.
   */
  recalibrateBn: number;
  /** called on the freshly built model before the optimizer exists (`train --init`: start from earlier weights); a resume then loads over it */
  init?: (model: NowcastModel) => void;
  /** --precision: 32, bf16 or 16-mixed (core/train/amp.ts); default 32 */
  precision?: Precision;
  /**
   * Keep every BatchNorm in eval mode while training (running statistics, torchvision's frozen BN).
   * With it the model is independent of how a batch is split, so W processes × batch B train
   * exactly as one × W·B (data-parallel tests); without it each rank normalises by its own batch,
   * as torch's DDP without SyncBatchNorm.
   */
  frozenBatchNorm?: boolean;
}

/** The `train` command's options (config.ts TRAIN); the papers' full-scale values are config.ts PAPER. */
export const DEFAULT_TRAIN: Omit<TrainOptions, 'model'> = {
  steps: TRAIN.steps, batchSize: TRAIN.batchSize, lr: TRAIN.lr, weightDecay: TRAIN.weightDecay, clipValue: TRAIN.clipValue, augment: TRAIN.augment,
  loss: DEFAULT_LOSS, evalEvery: TRAIN.evalEvery, lrDecay: TRAIN.lrDecay, patience: TRAIN.patience, checkpointEvery: TRAIN.checkpointEvery,
  seed: 0, recalibrateBn: TRAIN.recalibrateBn,
};

export interface TrainResult { model: NowcastModel; steps: number; losses: number[]; valLosses: number[]; lr: number; resumedFrom: number | null }

/** Mean validation loss (eval mode, no augmentation). */
export function validationLoss(model: NowcastModel, data: Dataset, o: Pick<TrainOptions, 'loss' | 'batchSize' | 'model'>, maxSamples = 64): number {
  const n = Math.min(data.length, maxSamples);
  if (n === 0) return NaN;
  const was = model.training;
  model.eval();
  let s = 0, k = 0;
  torch.noGrad(() => {
    for (let i = 0; i < n; i += o.batchSize) {
      const idx = Array.from({ length: Math.min(o.batchSize, n - i) }, (_, j) => i + j);
      s += torch.scope(() => {
        const b = data.batch(idx);
        const out = model.forward(b.x);
        return nowcastLoss(out, b.y, b.mask, o.loss, o.model.geometry.scale).total.item() * idx.length;
      });
      k += idx.length;
    }
  });
  model.train(was);
  return s / k;
}

/**
 * "Precise BN": resets each BatchNorm's running mean/var and re-estimates them as the cumulative
 * average over `batches` batches of `data` (PyTorch momentum=None), with BatchNorm in training mode
 * and dropout off. Parameters are untouched. Returns the number of batches used.
 */
export function recalibrateBatchNorm(model: torch.nn.Module, data: Dataset, batches: number, batchSize: number, seed = 0): number {
  const bns = model.modules().filter((m): m is torch.nn.BatchNorm => m instanceof torch.nn.BatchNorm && m.track);
  if (!bns.length || batches <= 0) return 0;
  const was = model.training;
  model.train();
  for (const m of model.modules()) if (!(m instanceof torch.nn.BatchNorm) && m.children().length === 0) m.training = false; // dropout off
  const mom = bns.map((b) => b.momentum);
  const sd = bns.map((b) => b.stateDict());
  torch.noGrad(() => {
    for (const s of sd) { s.running_mean!.zero_(); s.running_var!.fill_(1); }
    const rng = new Rng(seed * 7919 + 17);
    const n = Math.min(batches, Math.ceil(data.length / batchSize));
    const order = rng.permutation(data.length);
    for (let k = 0; k < n; k++) {
      for (const b of bns) (b as unknown as { momentum: number }).momentum = 1 / (k + 1);
      const idx = order.slice(k * batchSize, (k + 1) * batchSize);
      if (idx.length < 2) break;
      torch.scope(() => { model.forward(data.batch(idx).x); });
    }
  });
  bns.forEach((b, i) => { (b as unknown as { momentum: number }).momentum = mom[i]!; });
  model.train(was);
  return batches;
}

/** Clamps every gradient into [−v, v] (torch.nn.utils.clip_grad_value_). */
export function clipGradValue(params: Tensor[], v: number): void {
  if (!(v > 0)) return;
  torch.noGrad(() => { for (const p of params) if (p.grad) p.grad.clamp_(-v, v); });
}

/** One optimiser step on a batch drawn (and augmented) by the step's own Rng: the loss and its parts. */
function trainStep(
  model: NowcastModel, params: Tensor[], opt: torch.optim.Optimizer, o: TrainOptions, trainSet: Dataset, step: number, tag: string, amp: MixedPrecision,
  ddp: DistributedDataParallel,
): { loss: number; bce: number; temporal: number } {
  // everything random in a step but dropout comes from Rng(seed, step), so a resumed run needs no Rng state;
  // data-parallel: every rank draws the global batch (batchSize × ranks) and keeps its shard
  const rng = new Rng(o.seed * 100003 + step);
  const idx = shardedDraw(o.batchSize, (n) => Array.from({ length: n }, () => rng.int(0, trainSet.length)));
  return torch.scope(() => {
    const b0 = trainSet.batch(idx);
    const b = augmentBatch(b0.x, b0.y, b0.mask, o.augment, rng);
    opt.zeroGrad();
    const L = amp.autocast(() => nowcastLoss(model.forward(b.x), b.y, b.mask, o.loss, o.model.geometry.scale));
    torch.assertFinite(L.total, `${tag} loss at step ${step}`);
    amp.backward(L.total);
    ddp.syncGradients();
    amp.unscale(opt);
    clipGradValue(params, o.clipValue);
    amp.step(opt);
    return { loss: L.total.item(), bce: L.bce, temporal: L.temporal };
  });
}

/** Continues from the run's latest checkpoint of the model `tag` (core training kit): the step to start at, or null. */
function resumeFrom(ctx: RunContext, parts: TrainingParts, tag: string): number | null {
  const r = restoreTrainingCheckpoint(ctx.checkpoints, parts, { when: (c) => c.extra.tag === tag });
  if (!r) return null;
  torch.dispose(r.tensors);
  ctx.log(`resumed ${tag} from step ${r.step}`);
  return r.step;
}

/**
 * Trains a model. With a ctx: progress, metrics rows (tables "train" and "validation"), a
 * checkpoint of the core training kit every `checkpointEvery` steps and at the end (model,
 * optimiser, plateau schedule, libtorch's generator), resume from the latest one of this `tag`
 * when ctx.resuming (bit-identical to an uninterrupted run), and a clean stop on ctx.signal.
 */
export function train(o: TrainOptions, trainSet: Dataset, valSet: Dataset | null, ctx?: RunContext, tag = 'model'): TrainResult {
  if (trainSet.length === 0) throw new Error('train: the training set is empty');
  if (!(o.steps >= 0 && o.batchSize >= 1)) throw new Error(`train: steps (${o.steps}) must be ≥ 0 and batchSize (${o.batchSize}) ≥ 1`);
  if (!(o.lr > 0)) throw new Error(`train: lr must be > 0, got ${o.lr}`);
  torch.manualSeed(o.seed);
  const model = buildModel(o.model);
  if (o.init) { try { o.init(model); } catch (e) { model.dispose(); throw e; } }
  model.train();
  // the multi-tensor AdamW: ~10 native calls a step instead of ~10 per parameter (core optim.ts)
  const opt = new torch.optim.AdamW(model.parameters(), { lr: o.lr, weightDecay: o.weightDecay, foreach: true });
  // the papers' schedule: LR × lrDecay once more than `patience` evaluations in a row fail to improve (by 1e-6)
  const plateau = new ReduceLROnPlateau(opt, { factor: o.lrDecay, patience: o.patience, threshold: 1e-6, thresholdMode: 'abs' });
  const parts = { model, optimizer: opt, scheduler: plateau };
  const resumedFrom = ctx?.resuming ? resumeFrom(ctx, parts, tag) : null;
  const start = resumedFrom ?? 0;
  const losses: number[] = [], valLosses: number[] = [];
  const save = (step: number) => {
    if (ctx) saveTrainingCheckpoint(ctx.checkpoints, stepTag(step, `${tag}-step`), { ...parts, step, config: o, extra: { tag } });
  };
  const bar = ctx && o.steps - start > 0 ? ctx.progress(o.steps - start, `train ${tag}`) : null;
  const params = model.parameters();
  const amp = new MixedPrecision(o.precision ?? '32', model.device);
  const ddp = new DistributedDataParallel(model);
  const freezeBn = () => { if (o.frozenBatchNorm) for (const m of model.modules()) if (m instanceof torch.nn.BatchNorm) m.training = false; };
  freezeBn();
  for (let step = start; step < o.steps; step++) {
    if (ctx?.signal.aborted) { save(step); ctx.throwIfAborted(); }
    const r = trainStep(model, params, opt, o, trainSet, step, tag, amp, ddp);
    losses.push(r.loss);
    if (valSet && o.evalEvery > 0 && (step + 1) % o.evalEvery === 0) {
      const vl = validationLoss(model, valSet, o);
      freezeBn();
      valLosses.push(vl);
      plateau.step(vl);
      ctx?.metrics.log({ model: tag, step: step + 1, valLoss: vl, lr: opt.lr }, 'validation');
    }
    ctx?.metrics.log({ model: tag, step: step + 1, loss: r.loss, bce: r.bce, lr: opt.lr }, 'train');
    bar?.tick(1, { loss: Number(r.loss.toFixed(4)) });
    if (o.checkpointEvery > 0 && (step + 1) % o.checkpointEvery === 0 && step + 1 < o.steps) save(step + 1);
  }
  bar?.done();
  if (o.recalibrateBn > 0 && o.steps > 0) recalibrateBatchNorm(model, trainSet, o.recalibrateBn, o.batchSize, o.seed);
  if (o.steps > start) save(o.steps);
  const lr = opt.lr;
  opt.dispose();
  model.eval();
  return { model, steps: o.steps, losses, valLosses, lr, resumedFrom };
}
