// The self-supervised pre-training loop of Z-SSMNet: MNet restores clean T2W/ADC/HBV cubes from
// copies corrupted by the Models-Genesis transformations (ssl.ts), with an MSE loss; SGD with step
// decay, early stopping on a held-out validation restoration MSE, the best weights kept for the
// transfer to the detector (transferWeights in train.ts).
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { Rng } from '../../core/rng.ts';
import { PAPER } from './config.ts';
import type { MNet } from './model.ts';
import { restorationLoss } from './losses.ts';
import { makeSSLSample, sslCubes, type Cube, type SSLOptions, type Shape3 } from './ssl.ts';
import type { Prepared } from './preprocess.ts';
import { saveLoopCheckpoint, resumeLoop, type LoopContext } from './train.ts';
import { DistributedDataParallel, shardedDraw } from '../../core/distributed/index.ts';

export interface PretrainOptions {
  epochs: number;
  /** batches per epoch (the reference: ⌊#train cubes / batch⌋) */
  batchesPerEpoch?: number;
  batch: number;
  cube: Shape3;
  cubesPerCase: number;
  lr: number;
  momentum: number;
  stepEvery: number;
  patience: number;
  ssl: SSLOptions;
  seed: number;
  checkpointEvery: number;
}

/** The paper's values (PAPER.pretrain in config.ts); the transformations default to PAPER.ssl. */
export const DEFAULT_PRETRAIN: PretrainOptions = { ...PAPER.pretrain, cube: [...PAPER.pretrain.cube] as Shape3, ssl: {} };

function sslBatch(cubes: Cube[], idx: number[], rng: Rng, o: SSLOptions): [Tensor, Tensor] {
  const s = cubes[0]!.shape, vox = s[0] * s[1] * s[2];
  const x = new Float32Array(idx.length * 6 * vox), y = new Float32Array(idx.length * 3 * vox);
  idx.forEach((ci, b) => {
    const smp = makeSSLSample(cubes[ci]!, rng, o);
    smp.x.forEach((ch, k) => x.set(ch, (b * 6 + k) * vox));
    smp.y.forEach((ch, k) => y.set(ch, (b * 3 + k) * vox));
  });
  return [torch.tensor(x, { shape: [idx.length, 6, ...s] }), torch.tensor(y, { shape: [idx.length, 3, ...s] })];
}

/** Restoration MSE of the network on fixed (corrupted, clean) validation pairs. */
export function restorationMSE(net: MNet, pairs: [Tensor, Tensor][]): number {
  const was = net.training;
  net.eval();
  const v = torch.noGrad(() => torch.scope(() => {
    let s = 0;
    for (const [x, y] of pairs) s += restorationLoss(net.forward(x)[0]!, y).item();
    return s / pairs.length;
  }));
  net.train(was);
  return v;
}

/**
 * SSL pre-training: MNet (6 in, 3 out, no deep supervision), sigmoid output, MSE to the clean
 * images; SGD(lr 0.1, momentum 0.9), ×0.5 every 12 epochs; early stop after `patience` epochs without
 * validation improvement; the best-validation weights are checkpointed as 'best'. Resumable per
 * epoch ('last' every checkpointEvery epochs and when interrupted).
 */
export async function pretrainSSL(
  net: MNet,
  train: Prepared[],
  val: Prepared[],
  o: Partial<PretrainOptions>,
  ctx: LoopContext,
): Promise<{ initialVal: number; bestVal: number; history: { epoch: number; train: number; val: number }[]; best: Record<string, Tensor> }> {
  const p = { ...DEFAULT_PRETRAIN, ...o, ssl: { ...DEFAULT_PRETRAIN.ssl, ...(o.ssl ?? {}) } };
  if (net.cfg.numClasses !== 3 || net.cfg.deepSupervision) throw new Error('pretrainSSL: the network must have 3 outputs and deep supervision off');
  const rng = new Rng(p.seed);
  const trainCubes = train.flatMap((c) => sslCubes(c, p.cubesPerCase, p.cube, rng));
  const valCubes = val.flatMap((c) => sslCubes(c, Math.max(1, Math.ceil(p.cubesPerCase / 2)), p.cube, rng));
  if (!trainCubes.length || !valCubes.length) throw new Error('pretrainSSL: need training and validation cases');
  const vrng = new Rng(p.seed + 7);
  const valPairs: [Tensor, Tensor][] = [];
  for (let i = 0; i < valCubes.length; i += p.batch) {
    valPairs.push(sslBatch(valCubes, Array.from({ length: Math.min(p.batch, valCubes.length - i) }, (_, k) => i + k), vrng, p.ssl));
  }
  const opt = new torch.optim.SGD(net.parameters(), { lr: p.lr, momentum: p.momentum });
  const sched = torch.optim.stepLR(p.lr, p.stepEvery, 0.5);
  const perEpoch = p.batchesPerEpoch ?? Math.max(1, Math.floor(trainCubes.length / p.batch));
  const st = resumeLoop(ctx, net, opt, 'epoch');
  const startEpoch = st?.step ?? 0;
  let best = st?.extra.best != null ? Number(st.extra.best) : Infinity, bad = Number(st?.extra.bad ?? 0);
  const history = (st?.extra.history ?? []) as { epoch: number; train: number; val: number }[];
  const initialVal = st ? Number(st.extra.initialVal) : restorationMSE(net, valPairs);
  // the best weights so far: those of the 'best' checkpoint when resuming (saved in an epoch before 'last')
  let bestState: Record<string, Tensor> = st && Number.isFinite(best) ? ctx!.checkpoints.load('best').tensors
    : Object.fromEntries(Object.entries(net.stateDict()).map(([k, v]) => [k, v.detach().clone().keep()]));
  const save = (e: number) => saveLoopCheckpoint(ctx, 'last', net, opt, e, { best: Number.isFinite(best) ? best : null, bad, initialVal, history }, p);
  const bar = ctx?.progress(p.epochs * perEpoch, 'SSL pre-training');
  bar?.update(startEpoch * perEpoch);
  net.train();
  const ddp = new DistributedDataParallel(net); // data-parallel: rank 0's weights everywhere, gradients averaged
  for (let e = startEpoch; e < p.epochs; e++) {
    if (ctx?.signal.aborted) { save(e); ctx.throwIfAborted(); }
    torch.optim.applySchedule(opt, sched, e);
    const erng = new Rng(p.seed * 7919 + e);
    let tl = 0;
    for (let b = 0; b < perEpoch; b++) {
      const idx = shardedDraw(p.batch, (n) => Array.from({ length: n }, () => erng.int(0, trainCubes.length)));
      tl += torch.scope(() => {
        const [x, y] = sslBatch(trainCubes, idx, erng, p.ssl);
        opt.zeroGrad();
        const l = restorationLoss(net.forward(x)[0]!, y);
        torch.assertFinite(l, `SSL loss at epoch ${e}`);
        l.backward();
        ddp.syncGradients();
        opt.step();
        return l.item();
      });
      bar?.tick();
      await new Promise((r) => setImmediate(r));
    }
    const v = restorationMSE(net, valPairs);
    history.push({ epoch: e + 1, train: tl / perEpoch, val: v });
    ctx?.metrics.log({ epoch: e + 1, lr: opt.lr, train_mse: tl / perEpoch, val_mse: v }, 'pretrain');
    if (v < best) {
      best = v; bad = 0;
      torch.dispose(bestState);
      bestState = Object.fromEntries(Object.entries(net.stateDict()).map(([k, t]) => [k, t.detach().clone().keep()]));
      ctx?.checkpoints.save('best', bestState, { epoch: e + 1, val: v });
    } else bad++;
    if ((e + 1) % p.checkpointEvery === 0) save(e + 1);
    if (bad >= p.patience) { ctx?.log(`early stop at epoch ${e + 1}: no validation improvement for ${p.patience} epochs`); break; }
  }
  bar?.done();
  torch.dispose(valPairs);
  opt.dispose();
  return { initialVal, bestVal: best, history, best: bestState };
}
