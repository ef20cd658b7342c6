// Training from scratch [paper: no pre-training]: cross-entropy with label smoothing, AdamW, cosine
// schedule with warm-up, pose augmentation (spec B.4 [recon]); checkpoints each epoch (model +
// optimizer in safetensors), resume, progress, interruption.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { Rng } from '../../core/rng.ts';
import type { RunContext } from '../../core/context.ts';
import { CrossModalTransformer } from './model.ts';
import { augmentPose, toBatch, type ActionDataset, type ActionSample } from './data.ts';

export interface TrainOptions {
  epochs: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** fraction of steps for linear warm-up */
  warmup: number;
  labelSmoothing: number;
  /** pose augmentation (rotation, scale, jitter, temporal crop) */
  augment: boolean;
  /** feed RGB clips when the dataset has them */
  useVideo: boolean;
  /** seed for shuffling and augmentation */
  seed: number;
  /** gradient-norm clip (0 = off) */
  clip: number;
}
export const TRAIN_DEFAULTS: TrainOptions = { epochs: 30, batchSize: 16, lr: 1e-3, weightDecay: 0.05, warmup: 0.05, labelSmoothing: 0.1, augment: true, useVideo: true, seed: 0, clip: 1 };

/** The parts of RunContext the trainer uses (tests can pass a small stand-in). */
export type TrainContext = Pick<RunContext, 'signal' | 'resuming' | 'log' | 'progress' | 'metrics' | 'checkpoints'>;

export interface TrainResult { epochs: number; steps: number; interrupted: boolean; lastLoss: number; history: { epoch: number; loss: number; trainAcc: number; lr: number }[] }

/** One optimisation step on a batch: forward, loss, backward, clip, AdamW. Returns the loss and #correct. */
export function trainStep(model: CrossModalTransformer, opt: torch.optim.Optimizer, batch: { pose: Tensor; video: Tensor | null; labels: Tensor }, labelSmoothing: number, clip: number): { loss: number; correct: number } {
  return torch.scope(() => {
    opt.zeroGrad();
    const logits = model.forward({ pose: batch.pose, video: batch.video });
    const loss = torch.F.crossEntropy(logits, batch.labels, { labelSmoothing });
    torch.assertFinite(loss, 'training loss');
    loss.backward();
    if (clip > 0) torch.optim.clipGradNorm(opt.params, clip);
    opt.step();
    const correct = torch.noGrad(() => logits.argmax(1).eq(batch.labels).sum().item());
    return { loss: loss.item(), correct };
  });
}

function batches(samples: ActionSample[], size: number, rng: Rng): ActionSample[][] {
  const idx = rng.permutation(samples.length);
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
  const params = model.parameters();
  const optim = new torch.optim.AdamW(params, { lr: opt.lr, weightDecay: opt.weightDecay });
  const stepsPerEpoch = Math.ceil(ds.train.length / opt.batchSize);
  const total = opt.epochs * stepsPerEpoch;
  const sched = torch.optim.cosineLR(opt.lr, total, 0, Math.round(opt.warmup * total));
  let startEpoch = 0, step = 0;
  const history: TrainResult['history'] = [];
  if (ctx?.resuming) {
    const ck = ctx.checkpoints.latest();
    if (ck) {
      const modelT: Record<string, Tensor> = {}, optT: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(ck.tensors)) (k.startsWith('optim.') ? optT : modelT)[k.replace(/^(optim|model)\./, '')] = t;
      model.loadStateDict(modelT);
      optim.loadStateDict({ tensors: optT, scalars: (ck.state.optimScalars ?? {}) as Record<string, number> });
      torch.dispose(ck.tensors);
      startEpoch = Number(ck.state.epoch) + 1;
      step = Number(ck.state.step);
      history.push(...((ck.state.history ?? []) as TrainResult['history']));
      ctx.log(`resumed from checkpoint ${ck.tag} (epoch ${startEpoch} of ${opt.epochs})`);
    }
  }
  const bar = ctx?.progress(total, 'train');
  bar?.update(step);
  let lastLoss = NaN;
  let interrupted = false;
  model.train();
  for (let epoch = startEpoch; epoch < opt.epochs; epoch++) {
    const rng = new Rng(opt.seed).fork(epoch);
    let lossSum = 0, correct = 0, seen = 0;
    for (const b of batches(ds.train, opt.batchSize, rng)) {
      const samples = opt.augment ? b.map((s) => ({ ...s, pose: ds.coordDim === 3 ? augmentPose(s.pose, ds.frames, rng) : s.pose })) : b;
      const batch = toBatch(samples, ds, model.config.dtype, opt.useVideo && model.config.rgb);
      torch.optim.applySchedule(optim, sched, step);
      const r = trainStep(model, optim, batch, opt.labelSmoothing, opt.clip);
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
    if (ctx) {
      const sd = optim.stateDict();
      const tensors: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(model.stateDict())) tensors[`model.${k}`] = t;
      for (const [k, t] of Object.entries(sd.tensors)) tensors[`optim.${k}`] = t;
      ctx.checkpoints.save(`epoch-${String(epoch).padStart(4, '0')}`, tensors, { epoch, step, optimScalars: sd.scalars, history, config: model.config });
    }
    await new Promise((r) => setImmediate(r)); // let interrupts and progress through
    if (ctx?.signal.aborted) { interrupted = true; break; }
  }
  bar?.done();
  optim.dispose();
  model.eval();
  return { epochs: history.length, steps: step, interrupted, lastLoss, history };
}
