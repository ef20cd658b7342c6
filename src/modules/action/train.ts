// Training from scratch [paper: no pre-training]: cross-entropy with label smoothing, AdamW, cosine
// schedule with warm-up, pose augmentation [recon] (defaults in config.ts); a checkpoint each epoch
// through the core training kit (model, optimizer, libtorch's generator, the step count and the
// history), exact resume, progress, interruption.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import {
  AdamW, Rng, applySchedule, clipGradNorm, cosineLR, restoreTrainingCheckpoint, saveTrainingCheckpoint, stepTag, MixedPrecision, type Optimizer,
} from '../../core/train/index.ts';
import { CrossModalTransformer } from './model/index.ts';
import { augmentPose, toBatch, type ActionDataset, type ActionSample } from './data.ts';
import { TRAIN_DEFAULTS, type TrainOptions } from './config.ts';
import { sampleClip, uniformSampleIndices } from './clips.ts';
import { DistributedDataParallel, currentWorld, shardIndices } from '../../core/distributed/index.ts';

export { TRAIN_DEFAULTS, type TrainOptions };

/** The parts of RunContext the trainer uses (tests pass test/helpers/context.ts's fakeContext). */
export type TrainContext = Pick<RunContext, 'signal' | 'resuming' | 'log' | 'progress' | 'metrics' | 'checkpoints'>;

export interface TrainResult {
  epochs: number;
  steps: number;
  interrupted: boolean;
  lastLoss: number;
  history: { epoch: number; loss: number; trainAcc: number; lr: number }[];
}

/** One optimisation step on a batch: forward, loss, backward, clip, AdamW. Returns the loss and #correct. */
export function trainStep(
  model: CrossModalTransformer,
  opt: Optimizer,
  batch: { pose: Tensor; video: Tensor | null; labels: Tensor },
  labelSmoothing: number,
  clip: number | null,
  amp: MixedPrecision = new MixedPrecision('32', 'cpu'),
  ddp?: DistributedDataParallel,
): { loss: number; correct: number } {
  return torch.scope(() => {
    opt.zeroGrad();
    const [logits, loss] = amp.autocast(() => {
      const z = model.forward({ pose: batch.pose, video: batch.video });
      return [z, torch.F.crossEntropy(z, batch.labels, { labelSmoothing })] as const;
    });
    torch.assertFinite(loss, 'training loss');
    amp.backward(loss);
    ddp?.syncGradients();
    amp.unscale(opt);
    if (clip !== null) clipGradNorm(opt.params, clip);
    amp.step(opt);
    const correct = torch.noGrad(() => logits.argmax(1).eq(batch.labels).sum().item());
    return { loss: loss.item(), correct };
  });
}

function batches(samples: ActionSample[], size: number, rng: Rng, { rank, worldSize } = currentWorld()): ActionSample[][] {
  const idx = shardIndices(rng.permutation(samples.length), rank, worldSize); // DistributedSampler: this rank's share of the epoch's order
  const out: ActionSample[][] = [];
  for (let i = 0; i < idx.length; i += size) out.push(idx.slice(i, i + size).map((k) => samples[k]!));
  return out;
}

/** Trains in place. With ctx: progress, metrics rows, a checkpoint per epoch, resume, interruption. */
export async function trainModel(model: CrossModalTransformer, ds: ActionDataset, o: Partial<TrainOptions> = {}, ctx?: TrainContext): Promise<TrainResult> {
  const opt = { ...TRAIN_DEFAULTS, ...o };
  for (const k of ['epochs', 'batchSize'] as const) if (!Number.isInteger(opt[k]) || opt[k] < 1) throw new Error(`train: '${k}' must be a positive integer, got ${opt[k]}`);
  if (!(opt.lr > 0)) throw new Error(`train: 'lr' must be > 0, got ${opt.lr}`);
  if (ds.train.length === 0) throw new Error(`train: dataset '${ds.name}' has no training samples`);
  const optim = new AdamW(model.parameters(), { lr: opt.lr, weightDecay: opt.weightDecay });
  const stepsPerEpoch = Math.ceil(Math.ceil(ds.train.length / currentWorld().worldSize) / opt.batchSize);
  const total = opt.epochs * stepsPerEpoch;
  const sched = cosineLR(opt.lr, total, 0, Math.round(opt.warmup * total));
  // the batch order and augmentation draw from Rng(seed).fork(epoch) and the lr from the step count,
  // so the model, the optimizer, libtorch's generator, the epoch and the step count make a resume exact
  let startEpoch = 0, step = 0;
  const history: TrainResult['history'] = [];
  if (ctx?.resuming) {
    const r = restoreTrainingCheckpoint(ctx.checkpoints, { model, optimizer: optim });
    if (r) {
      startEpoch = r.step;
      step = Number(r.extra.step);
      history.push(...(r.extra.history as TrainResult['history']));
      ctx.log(`resumed from checkpoint ${r.tag} (epoch ${startEpoch} of ${opt.epochs})`);
    }
  }
  const bar = ctx?.progress(total, 'train');
  bar?.update(step);
  let lastLoss = NaN;
  let interrupted = false;
  model.train();
  const amp = new MixedPrecision(opt.precision ?? '32', model.device);
  const ddp = new DistributedDataParallel(model);
  for (let epoch = startEpoch; epoch < opt.epochs; epoch++) {
    const rng = new Rng(opt.seed).fork(epoch);
    let lossSum = 0, correct = 0, seen = 0;
    for (const b of batches(ds.train, opt.batchSize, rng)) {
      const samples = b.map((s) => {
        // a sample with its full sequence (PySKL) gets a fresh UniformSampleFrames clip each epoch
        const pose = s.sequence ? sampleClip(s.sequence.data, s.sequence.frames, uniformSampleIndices(s.sequence.frames, ds.frames, 1, 'train', rng)) : s.pose;
        return { ...s, pose: opt.augment && ds.coordDim === 3 && ds.rotatable !== false ? augmentPose(pose, ds.frames, rng) : pose };
      });
      const batch = toBatch(samples, ds, model.config.dtype, opt.useVideo && model.config.rgb);
      applySchedule(optim, sched, step);
      const r = trainStep(model, optim, batch, opt.labelSmoothing, opt.clip, amp, ddp);
      torch.dispose(batch);
      lossSum += r.loss * b.length; correct += r.correct; seen += b.length; step++;
      lastLoss = r.loss;
      bar?.tick(1, { loss: Number(r.loss.toFixed(4)) });
      if (ctx) await new Promise((res) => setImmediate(res)); // let Ctrl-C / dashboard stop through
      if (ctx?.signal.aborted) { interrupted = true; break; }
    }
    if (interrupted) break;
    const row = { epoch, loss: lossSum / seen, trainAcc: correct / seen, lr: optim.lr };
    history.push(row);
    ctx?.metrics.log(row);
    // tagged by the finished epoch's index; its step is the number of epochs done (the next to run)
    if (ctx) saveTrainingCheckpoint(ctx.checkpoints, stepTag(epoch, 'epoch', 4), { model, optimizer: optim, step: epoch + 1, config: model.config, extra: { step, history } });
    await new Promise((r) => setImmediate(r)); // let interrupts and progress through
    if (ctx?.signal.aborted) { interrupted = true; break; }
  }
  bar?.done();
  optim.dispose();
  model.eval();
  return { epochs: history.length, steps: step, interrupted, lastLoss, history };
}
