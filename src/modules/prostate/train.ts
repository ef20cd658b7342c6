// The supervised training loop of the Z-nnMNet detector, as the paper trains it inside nnU-Net v1:
// 0.5·focal + 0.5·CE with deep supervision (losses.ts), SGD with Nesterov momentum and poly decay,
// gradient clipping (the core kit's clipGradNorm), nnU-Net's online validation Dice; plus the
// resumable checkpoints both loops write through the core kit (core/train: one record, a resume bit
// for bit; pretrain.ts is the SSL loop) and the SSL → detector weight transfer. Patches and
// augmentation live in augment.ts, sliding-window inference in infer.ts.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import { Rng } from '../../core/rng.ts';
import { saveTrainingCheckpoint, restoreTrainingCheckpoint, clipGradNorm, MixedPrecision, type Precision } from '../../core/train/index.ts';
import { PAPER } from './config.ts';
import { MNet, heInit } from './model.ts';
import { deepSupervisionLoss } from './losses.ts';
import { makeBatch, augmentBatch, type AugmentOptions } from './augment.ts';
import type { NetCase } from './data.ts';
import type { Shape3 } from './ssl.ts';
import { DistributedDataParallel, shardBatch } from '../../core/distributed/index.ts';

/** What a loop needs from the run context (tests may pass null). */
export type LoopContext = Pick<RunContext, 'log' | 'progress' | 'metrics' | 'checkpoints' | 'signal' | 'resuming' | 'throwIfAborted'> | null;

// ------------------------------------------------------------------ checkpoints (the core kit)
/** Both loops resume from the checkpoint tagged 'last' ('best' holds weights only, 'final' the end state). */
const RESUME_TAG = 'last';

/** The kit's one checkpoint record: weights, SGD state (momentum buffers, hyper-parameters), libtorch's generator, step. */
export function saveLoopCheckpoint(
  ctx: LoopContext,
  tag: string,
  net: MNet,
  opt: torch.optim.Optimizer,
  step: number,
  extra: Record<string, unknown>,
  config?: unknown,
): void {
  if (ctx) saveTrainingCheckpoint(ctx.checkpoints, tag, { model: net, optimizer: opt, step, extra, config });
}

/** In a resumed run, loads the 'last' checkpoint into `net` and `opt`: its step and extra, or null (nothing saved yet). */
export function resumeLoop(ctx: LoopContext, net: MNet, opt: torch.optim.Optimizer, unit: string): { step: number; extra: Record<string, unknown> } | null {
  if (!ctx?.resuming) return null;
  const r = restoreTrainingCheckpoint(ctx.checkpoints, { model: net, optimizer: opt }, { tag: RESUME_TAG });
  if (!r) { ctx.log('no resumable checkpoint yet: starting from the beginning'); return null; }
  torch.dispose(r.tensors);
  ctx.log(`resuming from checkpoint '${r.tag}' (${unit} ${r.step})`);
  return r;
}

/** Copies every tensor whose name and shape match (SSL → detector transfer). Returns the names copied. */
export function transferWeights(net: MNet, source: Record<string, Tensor>): string[] {
  const own = net.stateDict();
  const copied: string[] = [];
  const match: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(source)) {
    if (own[k] && own[k]!.shape.join() === t.shape.join()) { match[k] = t; copied.push(k); }
  }
  net.loadStateDict(match, false);
  return copied;
}

// ------------------------------------------------------------------ supervised training
export interface TrainOptions {
  iterations: number;
  /** iterations per "epoch" (250 in nnU-Net); lr and validation follow epochs */
  iterationsPerEpoch: number;
  batch: number;
  patch: Shape3;
  lr: number;
  momentum: number;
  weightDecay: number;
  clip: number;
  fgRate: number;
  augment: AugmentOptions;
  checkpointEvery: number;
  seed: number;
  dtype: 'float32' | 'float64';
  /** what rebuilds the detector from a checkpoint (pipeline.ts SavedModel): kept in every checkpoint's extra.model */
  model?: Record<string, unknown> | object;
  /** --precision: 32, bf16 or 16-mixed (core/train/amp.ts); default 32 */
  precision?: Precision;
}

/** The paper's values (PAPER.train in config.ts); augmentation defaults to PAPER.augment. */
export const DEFAULT_TRAIN: TrainOptions = { ...PAPER.train, patch: [...PAPER.train.patch] as Shape3, augment: {} };

/**
 * Trains the detector with the paper's loss (0.5·focal + 0.5·CE, deep-supervised). Poly schedule
 * lr = lr0·(1 − epoch/epochs)^0.9 applied per epoch; checkpoints 'last' every checkpointEvery
 * iterations and when interrupted (resumable, bit for bit) and 'final'.
 */
export async function trainDetector(
  net: MNet,
  cases: NetCase[],
  o: Partial<TrainOptions>,
  ctx: LoopContext,
  val: NetCase[] = [],
): Promise<{ losses: number[]; iterations: number; valDiceMA: number | null }> {
  const p = { ...DEFAULT_TRAIN, ...o };
  if (!cases.length) throw new Error('trainDetector: no training cases');
  const nImg = cases[0]!.channels.length === 6 ? 3 : cases[0]!.channels.length;
  const opt = new torch.optim.SGD(net.parameters(), { lr: p.lr, momentum: p.momentum, nesterov: p.momentum > 0, weightDecay: p.weightDecay });
  const epochs = Math.max(1, Math.ceil(p.iterations / p.iterationsPerEpoch));
  const sched = torch.optim.polyLR(p.lr, epochs, 0.9);
  const st = resumeLoop(ctx, net, opt, 'iteration');
  const start = st?.step ?? 0;
  // nnU-Net's online validation: global foreground Dice of argmax on validation patches per epoch,
  // smoothed MA ← 0.9·MA + 0.1·Dice; the best MA is checkpointed as 'best'.
  let ma = st?.extra.valDiceMA != null ? Number(st.extra.valDiceMA) : null;
  let bestMA = st?.extra.bestMA != null ? Number(st.extra.bestMA) : -Infinity;
  const save = (tag: string, step: number) => saveLoopCheckpoint(
    ctx, tag, net, opt, step, { valDiceMA: ma, bestMA: Number.isFinite(bestMA) ? bestMA : null, ...(p.model ? { model: p.model } : {}) }, p,
  );
  // the data stream is re-seeded per iteration so a resumed run sees the same batches
  const losses: number[] = [];
  const bar = ctx?.progress(p.iterations, 'train detector');
  bar?.update(start);
  net.train();
  const amp = new MixedPrecision(p.precision ?? '32', net.device);
  // data-parallel: same start on every rank, gradients averaged; each rank makes the global batch (batch × ranks) and keeps its rows
  const ddp = new DistributedDataParallel(net);
  for (let it = start; it < p.iterations; it++) {
    if (ctx?.signal.aborted) { save('last', it); ctx.throwIfAborted(); }
    const rng = new Rng(p.seed * 1_000_003 + it);
    torch.optim.applySchedule(opt, sched, Math.floor(it / p.iterationsPerEpoch));
    const loss = torch.scope(() => {
      const [xg, yg] = makeBatch(cases, p.batch * ddp.worldSize, p.patch, rng, p.fgRate, p.dtype);
      const [x0, y0] = [shardBatch(xg), shardBatch(yg)];
      const [x, y] = augmentBatch(x0, y0, nImg, rng, p.augment);
      opt.zeroGrad();
      const l = amp.autocast(() => deepSupervisionLoss(net.forward(x), y));
      torch.assertFinite(l, `training loss at iteration ${it}`);
      amp.backward(l);
      ddp.syncGradients();
      amp.unscale(opt);
      clipGradNorm(net.parameters(), p.clip);
      amp.step(opt);
      return l.item();
    });
    losses.push(loss);
    ctx?.metrics.log({ iteration: it + 1, epoch: Math.floor(it / p.iterationsPerEpoch), lr: opt.lr, loss }, 'train');
    bar?.tick(1, { loss: Number(loss.toFixed(4)) });
    const epochEnd = (it + 1) % p.iterationsPerEpoch === 0;
    if (epochEnd && val.length) {
      const epoch = (it + 1) / p.iterationsPerEpoch;
      const d = onlineDice(net, val, p, epoch);
      ma = ma === null ? d : 0.9 * ma + 0.1 * d;
      ctx?.metrics.log({ epoch, val_dice: d, val_dice_ma: ma }, 'validation');
      if (ma > bestMA) { bestMA = ma; if (ctx) ctx.checkpoints.save('best', net.stateDict(), { epoch, valDiceMA: ma }); }
      // nnU-Net: still no foreground at epoch 100 → He re-initialisation and momentum 0.95
      if (epoch === 100 && ma === 0) {
        heInit(net);
        opt.momentum = 0.95;
        ctx?.log('validation Dice still 0 at epoch 100: He re-initialisation, momentum 0.95');
      }
    }
    if ((it + 1) % p.checkpointEvery === 0 && it + 1 < p.iterations) save('last', it + 1);
    if (it % 5 === 0) await new Promise((r) => setImmediate(r));
  }
  bar?.done();
  save('final', p.iterations);
  opt.dispose();
  return { losses, iterations: p.iterations, valDiceMA: ma };
}

/** Global foreground Dice of argmax predictions on `batches` seeded validation batches (no augmentation). */
export function onlineDice(net: MNet, val: NetCase[], p: TrainOptions, epoch: number, batches = 2): number {
  const rng = new Rng(p.seed * 7 + 1_000_000 + epoch);
  net.eval();
  let tp = 0, fp = 0, fn = 0;
  torch.noGrad(() => {
    for (let b = 0; b < batches; b++) {
      torch.scope(() => {
        const [x, y] = makeBatch(val, p.batch, p.patch, rng, p.fgRate, p.dtype);
        const pred = net.forward(x)[0]!.argmax(1);
        const yb = y.eq(1), pb = pred.eq(1);
        tp += pb.logicalAnd(yb).sum().item();
        fp += pb.logicalAnd(yb.logicalNot()).sum().item();
        fn += pb.logicalNot().logicalAnd(yb).sum().item();
      });
    }
  });
  net.train();
  return tp + fp + fn === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}
