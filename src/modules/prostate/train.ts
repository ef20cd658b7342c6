// Training loops: self-supervised restoration pre-training (spec §6) and supervised Z-nnMNet
// training (§7) with nnU-Net-style patch sampling and augmentation, SGD (Nesterov) + poly decay,
// gradient clipping, deep supervision, safetensors checkpoints with resume, progress; plus
// sliding-window inference with Gaussian weighting and mirror TTA.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import { Rng } from '../../core/rng.ts';
import { MNet, heInit, type MNetConfig } from './model.ts';
import { deepSupervisionLoss, restorationLoss } from './losses.ts';
import { makeSSLSample, sslCubes, type Cube, type SSLOptions, type Shape3 } from './ssl.ts';
import { adcStats, normalizeSupervised, type AdcStats, type Prepared } from './preprocess.ts';

/** What a loop needs from the run context (tests may pass null). */
export type LoopContext = Pick<RunContext, 'log' | 'progress' | 'metrics' | 'checkpoints' | 'signal' | 'resuming' | 'throwIfAborted'> | null;

// ------------------------------------------------------------------ network-ready cases
export interface NetCase {
  key: string;
  shape: Shape3;
  /** 6 channels [T2W, ADC, HBV, bg, PZ, TZ], each [Z, Y, X] */
  channels: Float32Array[];
  zones: Uint8Array;
  label: Uint8Array | null;
  prepared: Prepared;
}

export interface ChannelOptions {
  /** zonal awareness: append the one-hot zonal mask (6 channels); off → 3 image channels (ablation) */
  zonal?: boolean;
}

/** Normalised network inputs (supervised path): 3 images + one-hot zones. */
export function toNetCases(cases: Prepared[], stats: AdcStats = adcStats(cases), o: ChannelOptions = {}): NetCase[] {
  return cases.map((c) => {
    const imgs = normalizeSupervised(c, stats);
    const chans: Float32Array[] = [...imgs];
    if (o.zonal ?? true) {
      for (let z = 0; z < 3; z++) chans.push(Float32Array.from(c.zones, (v) => (v === z ? 1 : 0)));
    }
    return { key: c.key, shape: c.shape, channels: chans, zones: c.zones, label: c.label, prepared: c };
  });
}

// ------------------------------------------------------------------ patches and augmentation
function crop(src: Float32Array | Uint8Array, shape: Shape3, start: number[], size: Shape3, out: Float32Array, off: number): void {
  const [, Y, X] = shape;
  for (let z = 0; z < size[0]; z++) {
    const zz = start[0]! + z;
    for (let y = 0; y < size[1]; y++) {
      const yy = start[1]! + y;
      for (let x = 0; x < size[2]; x++) {
        const xx = start[2]! + x;
        const inb = zz >= 0 && yy >= 0 && xx >= 0 && zz < shape[0] && yy < Y && xx < X;
        out[off + (z * size[1] + y) * size[2] + x] = inb ? src[(zz * Y + yy) * X + xx]! : 0;
      }
    }
  }
}

/** nnU-Net patch sampling: random crop; with probability `fgRate` centred on a random lesion voxel. */
export function samplePatchStart(c: NetCase, size: Shape3, rng: Rng, fgRate = 0.33): number[] {
  const s = c.shape;
  if (c.label && rng.random() < fgRate) {
    const fg: number[] = [];
    for (let i = 0; i < c.label.length; i++) if (c.label[i]) fg.push(i);
    if (fg.length) {
      const v = fg[rng.int(0, fg.length)]!;
      const X = s[2], Y = s[1];
      const ctr = [Math.floor(v / (X * Y)), Math.floor(v / X) % Y, v % X];
      return ctr.map((q, a) => Math.min(Math.max(q - Math.floor(size[a]! / 2), Math.min(0, s[a]! - size[a]!)), Math.max(0, s[a]! - size[a]!)));
    }
  }
  return s.map((n, a) => (n > size[a]! ? rng.int(0, n - size[a]! + 1) : Math.floor((n - size[a]!) / 2)));
}

export interface AugmentOptions {
  enabled?: boolean;
  /** probability of a rotation (nnU-Net default 0.2); ±30° */
  rotationRate?: number;
  maxRotationDeg?: number;
  /** probability of a scaling (0.2) in [0.7, 1.4] */
  scaleRate?: number;
  scaleRange?: [number, number];
  mirror?: boolean;
  intensity?: boolean;
}

/**
 * Spatial + intensity augmentation of a batch: x [B, C, Z, Y, X] (images, then one-hot zones),
 * y [B, Z, Y, X] int64. Rotation about the slice axis and in-plane scaling (nnU-Net's "dummy 2D"
 * augmentation for anisotropic data [recon]: the spec lists ±30° about each axis; with 3 mm slices
 * nnU-Net v1 rotates in-plane only), mirroring on all axes, nnU-Net intensity transforms on images.
 * Zones and labels are resampled by nearest neighbour, so one-hot zones stay one-hot.
 */
export function augmentBatch(x: Tensor, y: Tensor, nImageChannels: number, rng: Rng, o: AugmentOptions = {}): [Tensor, Tensor] {
  if (o.enabled === false) return [x.clone(), y.clone()];
  return torch.scope(() => {
    const [B, C, Z, Y, X] = x.shape as [number, number, number, number, number];
    const xs: Tensor[] = [], ys: Tensor[] = [];
    for (let b = 0; b < B; b++) {
      let xb = x.narrow(0, b, 1), yb = y.narrow(0, b, 1).unsqueeze(1).to(x.dtype);
      const rot = rng.random() < (o.rotationRate ?? 0.2) ? rng.uniform(-1, 1) * (o.maxRotationDeg ?? 30) * Math.PI / 180 : 0;
      const [s0, s1] = o.scaleRange ?? [0.7, 1.4];
      const sc = rng.random() < (o.scaleRate ?? 0.2) ? rng.uniform(s0, s1) : 1;
      if (rot !== 0 || sc !== 1) {
        const c = Math.cos(rot) / sc, s = Math.sin(rot) / sc;
        const theta = torch.tensor([[[c, -s * (Y / X), 0, 0], [s * (X / Y), c, 0, 0], [0, 0, 1, 0]]], { dtype: x.dtype });
        const grid = torch.F.affineGrid(theta, [1, C, Z, Y, X], false);
        const img = torch.F.gridSample(xb.narrow(1, 0, nImageChannels), grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false });
        const rest = torch.F.gridSample(torch.cat([xb.narrow(1, nImageChannels, C - nImageChannels), yb], 1), grid, { mode: 'nearest', paddingMode: 'zeros', alignCorners: false });
        const zonesPart = rest.narrow(1, 0, C - nImageChannels);
        // voxels rotated in from outside: background zone
        let zp = zonesPart;
        if (C - nImageChannels === 3) {
          const none = zonesPart.sum(1, true).eq(0).to(x.dtype);
          zp = torch.cat([zonesPart.narrow(1, 0, 1).add(none), zonesPart.narrow(1, 1, 2)], 1);
        }
        xb = torch.cat([img, zp], 1);
        yb = rest.narrow(1, C - nImageChannels, 1);
      }
      if (o.mirror ?? true) {
        const axes = [2, 3, 4].filter(() => rng.random() < 0.5);
        if (axes.length) { xb = xb.flip(axes); yb = yb.flip(axes); }
      }
      if (o.intensity ?? true) {
        let img = xb.narrow(1, 0, nImageChannels);
        if (rng.random() < 0.1) {
          // noise from the seeded data stream (not libtorch's generator), so a resumed run replays exactly
          const sd = Math.sqrt(rng.uniform(0, 0.1));
          img = img.add(torch.tensor(Float32Array.from(rng.normals(img.numel, 0, sd)), { shape: img.shape, dtype: img.dtype }));
        }
        if (rng.random() < 0.15) img = img.mul(rng.uniform(0.75, 1.25));
        if (rng.random() < 0.15) {
          const m = img.mean([2, 3, 4], true);
          img = img.sub(m).mul(rng.uniform(0.75, 1.25)).add(m);
        }
        if (rng.random() < 0.3) {
          // gamma on the [min, max]-rescaled image, then back (nnU-Net GammaTransform)
          const mn = img.amin([2, 3, 4], true), mx = img.amax([2, 3, 4], true);
          const r = mx.sub(mn).add(1e-7);
          img = img.sub(mn).div(r).pow(rng.uniform(0.7, 1.5)).mul(r).add(mn);
        }
        xb = torch.cat([img, xb.narrow(1, nImageChannels, C - nImageChannels)], 1);
      }
      xs.push(xb); ys.push(yb.squeeze(1).round().to('int64'));
    }
    return [torch.cat(xs, 0).contiguous(), torch.cat(ys, 0).contiguous()] as [Tensor, Tensor];
  });
}

/** A batch of patches (before augmentation). */
export function makeBatch(cases: NetCase[], batch: number, size: Shape3, rng: Rng, fgRate = 0.33, dtype: 'float32' | 'float64' = 'float32'): [Tensor, Tensor] {
  const C = cases[0]!.channels.length;
  const vox = size[0] * size[1] * size[2];
  const xb = new Float32Array(batch * C * vox), yb = new Float32Array(batch * vox);
  for (let b = 0; b < batch; b++) {
    const c = cases[rng.int(0, cases.length)]!;
    // nnU-Net: the last (1 − round(B·(1 − fgRate))) samples of a batch are forced to contain foreground
    const forced = b >= Math.round(batch * (1 - fgRate));
    const st = samplePatchStart(c, size, rng, forced ? 1 : 0);
    c.channels.forEach((ch, k) => crop(ch, c.shape, st, size, xb, (b * C + k) * vox));
    if (c.label) crop(c.label, c.shape, st, size, yb, b * vox);
  }
  // padded voxels: background zone
  if (C === 6) for (let b = 0; b < batch; b++) {
    const o = b * C * vox;
    for (let i = 0; i < vox; i++) if (!xb[o + 3 * vox + i] && !xb[o + 4 * vox + i] && !xb[o + 5 * vox + i]) xb[o + 3 * vox + i] = 1;
  }
  const x = torch.tensor(xb, { shape: [batch, C, ...size], dtype });
  const y = torch.scope(() => torch.tensor(yb, { shape: [batch, ...size] }).to('int64'));
  return [x, y];
}

// ------------------------------------------------------------------ checkpoint helpers
function saveCheckpoint(ctx: LoopContext, tag: string, net: MNet, opt: torch.optim.Optimizer, state: Record<string, unknown>): void {
  if (!ctx) return;
  const sd = opt.stateDict();
  const tensors: Record<string, Tensor> = { ...net.stateDict() };
  for (const [k, v] of Object.entries(sd.tensors)) tensors[`optim.${k}`] = v;
  ctx.checkpoints.save(tag, tensors, { ...state, optimScalars: sd.scalars });
}

function restore(ctx: LoopContext, net: MNet, opt: torch.optim.Optimizer): Record<string, unknown> | null {
  if (!ctx?.resuming) return null;
  // our resumable checkpoint is always tagged 'last' ('best'/'final' hold weights only)
  let last: { tag: string; tensors: Record<string, Tensor>; state: Record<string, unknown> };
  try {
    last = { tag: 'last', ...ctx.checkpoints.load('last') };
  } catch {
    ctx.log('no resumable checkpoint yet: starting from the beginning');
    return null;
  }
  const model: Record<string, Tensor> = {}, optim: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(last.tensors)) (k.startsWith('optim.') ? (optim[k.slice(6)] = v) : (model[k] = v));
  net.loadStateDict(model);
  opt.loadStateDict({ tensors: optim, scalars: (last.state.optimScalars ?? {}) as Record<string, number> });
  torch.dispose(last.tensors);
  ctx.log(`resuming from checkpoint '${last.tag}' (iteration ${last.state.iteration})`);
  return last.state;
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
}

export const DEFAULT_TRAIN: TrainOptions = {
  iterations: 500 * 250, iterationsPerEpoch: 250, batch: 2, patch: [16, 64, 64], lr: 0.01, momentum: 0.99,
  weightDecay: 3e-5, clip: 12, fgRate: 0.33, augment: {}, checkpointEvery: 250, seed: 0, dtype: 'float32',
};

/**
 * Trains the detector with the §7 loss. Poly schedule lr = lr0·(1 − epoch/epochs)^0.9 applied per
 * epoch; checkpoints 'last' every checkpointEvery iterations (resumable) and 'final'.
 */
export async function trainDetector(net: MNet, cases: NetCase[], o: Partial<TrainOptions>, ctx: LoopContext, val: NetCase[] = []): Promise<{ losses: number[]; iterations: number; valDiceMA: number | null }> {
  const p = { ...DEFAULT_TRAIN, ...o };
  if (!cases.length) throw new Error('trainDetector: no training cases');
  const nImg = cases[0]!.channels.length === 6 ? 3 : cases[0]!.channels.length;
  const opt = new torch.optim.SGD(net.parameters(), { lr: p.lr, momentum: p.momentum, nesterov: p.momentum > 0, weightDecay: p.weightDecay });
  const epochs = Math.max(1, Math.ceil(p.iterations / p.iterationsPerEpoch));
  const sched = torch.optim.polyLR(p.lr, epochs, 0.9);
  let start = 0;
  const st = restore(ctx, net, opt);
  if (st) start = Number(st.iteration);
  // nnU-Net's online validation: global foreground Dice of argmax on validation patches per epoch,
  // smoothed MA ← 0.9·MA + 0.1·Dice; the best MA is checkpointed as 'best'.
  let ma = st && st.valDiceMA != null ? Number(st.valDiceMA) : null;
  let bestMA = st && st.bestMA != null ? Number(st.bestMA) : -Infinity;
  // the data stream is re-seeded per iteration so a resumed run sees the same batches
  const losses: number[] = [];
  const bar = ctx?.progress(p.iterations, 'train detector');
  bar?.update(start);
  net.train();
  for (let it = start; it < p.iterations; it++) {
    ctx?.throwIfAborted();
    const rng = new Rng(p.seed * 1_000_003 + it);
    torch.optim.applySchedule(opt, sched, Math.floor(it / p.iterationsPerEpoch));
    const loss = torch.scope(() => {
      const [x0, y0] = makeBatch(cases, p.batch, p.patch, rng, p.fgRate, p.dtype);
      const [x, y] = augmentBatch(x0, y0, nImg, rng, p.augment);
      opt.zeroGrad();
      const outs = net.forward(x);
      const l = deepSupervisionLoss(outs, y);
      torch.assertFinite(l, `training loss at iteration ${it}`);
      l.backward();
      torch.optim.clipGradNorm(net.parameters(), p.clip);
      opt.step();
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
        (opt as unknown as { momentum: number }).momentum = 0.95;
        ctx?.log('validation Dice still 0 at epoch 100: He re-initialisation, momentum 0.95');
      }
    }
    if ((it + 1) % p.checkpointEvery === 0 && it + 1 < p.iterations) saveCheckpoint(ctx, 'last', net, opt, { iteration: it + 1, valDiceMA: ma, bestMA: Number.isFinite(bestMA) ? bestMA : null });
    if (it % 5 === 0) await new Promise((r) => setImmediate(r));
  }
  bar?.done();
  saveCheckpoint(ctx, 'final', net, opt, { iteration: p.iterations, valDiceMA: ma });
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

// ------------------------------------------------------------------ SSL pre-training
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

export const DEFAULT_PRETRAIN: PretrainOptions = {
  epochs: 1000, batch: 24, cube: [16, 64, 64], cubesPerCase: 12, lr: 0.1, momentum: 0.9, stepEvery: 12, patience: 20,
  ssl: {}, seed: 0, checkpointEvery: 1,
};

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
 * validation improvement; the best-validation weights are checkpointed as 'best'.
 */
export async function pretrainSSL(net: MNet, train: Prepared[], val: Prepared[], o: Partial<PretrainOptions>, ctx: LoopContext): Promise<{ initialVal: number; bestVal: number; history: { epoch: number; train: number; val: number }[]; best: Record<string, Tensor> }> {
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
  let startEpoch = 0, best = Infinity, bad = 0;
  const history: { epoch: number; train: number; val: number }[] = [];
  const st = restore(ctx, net, opt);
  if (st) { startEpoch = Number(st.epoch); best = Number(st.best); bad = Number(st.bad); }
  const initialVal = st ? Number(st.initialVal) : restorationMSE(net, valPairs);
  let bestState: Record<string, Tensor> = Object.fromEntries(Object.entries(net.stateDict()).map(([k, v]) => [k, v.detach().clone().keep()]));
  const bar = ctx?.progress(p.epochs * perEpoch, 'SSL pre-training');
  bar?.update(startEpoch * perEpoch);
  net.train();
  for (let e = startEpoch; e < p.epochs; e++) {
    ctx?.throwIfAborted();
    torch.optim.applySchedule(opt, sched, e);
    const erng = new Rng(p.seed * 7919 + e);
    let tl = 0;
    for (let b = 0; b < perEpoch; b++) {
      const idx = Array.from({ length: p.batch }, () => erng.int(0, trainCubes.length));
      tl += torch.scope(() => {
        const [x, y] = sslBatch(trainCubes, idx, erng, p.ssl);
        opt.zeroGrad();
        const l = restorationLoss(net.forward(x)[0]!, y);
        torch.assertFinite(l, `SSL loss at epoch ${e}`);
        l.backward();
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
    if ((e + 1) % p.checkpointEvery === 0) saveCheckpoint(ctx, 'last', net, opt, { epoch: e + 1, iteration: (e + 1) * perEpoch, best, bad, initialVal });
    if (bad >= p.patience) { ctx?.log(`early stop at epoch ${e + 1}: no validation improvement for ${p.patience} epochs`); break; }
  }
  bar?.done();
  torch.dispose(valPairs);
  opt.dispose();
  return { initialVal, bestVal: best, history, best: bestState };
}

// ------------------------------------------------------------------ inference
/** nnU-Net's sliding-window start positions along one axis (step = fraction of the patch). */
export function windowStarts(n: number, patch: number, step = 0.5): number[] {
  if (n <= patch) return [0];
  const k = Math.ceil((n - patch) / (patch * step)) + 1;
  const span = n - patch;
  return Array.from({ length: k }, (_, i) => Math.round((span * i) / (k - 1)));
}

/** Gaussian importance map (σ = patch/8 per axis), max 1, zeros lifted to the smallest positive value. */
export function gaussianMap(size: Shape3): Float32Array {
  const out = new Float32Array(size[0] * size[1] * size[2]);
  const g = size.map((n) => Array.from({ length: n }, (_, i) => Math.exp(-(((i - (n - 1) / 2) / (n / 8)) ** 2) / 2)));
  let o = 0, mx = 0;
  for (let z = 0; z < size[0]; z++) for (let y = 0; y < size[1]; y++) for (let x = 0; x < size[2]; x++, o++) { out[o] = g[0]![z]! * g[1]![y]! * g[2]![x]!; mx = Math.max(mx, out[o]!); }
  let mn = Infinity;
  for (let i = 0; i < out.length; i++) { out[i] = out[i]! / mx; if (out[i]! > 0) mn = Math.min(mn, out[i]!); }
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = mn;
  return out;
}

export interface InferOptions {
  patch: Shape3;
  step?: number;
  /** mirror test-time augmentation over these axes (0 = z, 1 = y, 2 = x) */
  mirrorAxes?: number[];
  gaussian?: boolean;
}

/** Sliding-window softmax of the csPCa class over a whole case (on its network grid), [Z, Y, X]. */
export function predictCase(nets: MNet[], c: NetCase, o: InferOptions): Float32Array {
  const S = c.shape;
  const size = o.patch.map((p, a) => Math.min(p, Math.max(S[a]!, a === 0 ? 1 : 16))) as Shape3;
  // pad to at least the patch size
  const padded = S.map((n, a) => Math.max(n, size[a]!)) as Shape3;
  const vox = size[0] * size[1] * size[2];
  const C = c.channels.length;
  const w = o.gaussian === false ? new Float32Array(vox).fill(1) : gaussianMap(size);
  const acc = new Float64Array(padded[0] * padded[1] * padded[2]), wsum = new Float64Array(acc.length);
  const mirrors = [[]] as number[][];
  for (const a of o.mirrorAxes ?? []) for (const m of [...mirrors]) mirrors.push([...m, a + 2]);
  const dtype = nets[0]!.cfg.dtype;
  for (const net of nets) net.eval();
  for (const z0 of windowStarts(padded[0], size[0], o.step ?? 0.5))
    for (const y0 of windowStarts(padded[1], size[1], o.step ?? 0.5))
      for (const x0 of windowStarts(padded[2], size[2], o.step ?? 0.5)) {
        const xb = new Float32Array(C * vox);
        c.channels.forEach((ch, k) => crop(ch, S, [z0, y0, x0], size, xb, k * vox));
        if (C === 6) for (let i = 0; i < vox; i++) if (!xb[3 * vox + i] && !xb[4 * vox + i] && !xb[5 * vox + i]) xb[3 * vox + i] = 1;
        const prob = torch.noGrad(() => torch.scope(() => {
          const x = torch.tensor(xb, { shape: [1, C, ...size], dtype });
          let sum: Tensor | null = null;
          for (const net of nets) for (const m of mirrors) {
            const xi = m.length ? x.flip(m) : x;
            let p = net.forward(xi)[0]!.softmax(1).narrow(1, 1, 1);
            if (m.length) p = p.flip(m);
            sum = sum ? sum.add(p) : p;
          }
          return sum!.div(nets.length * mirrors.length).to('float32').contiguous().toTypedArray() as Float32Array;
        }));
        for (let z = 0; z < size[0]; z++) for (let y = 0; y < size[1]; y++) for (let x = 0; x < size[2]; x++) {
          const i = (z * size[1] + y) * size[2] + x;
          const j = ((z0 + z) * padded[1] + y0 + y) * padded[2] + x0 + x;
          acc[j] += prob[i]! * w[i]!; wsum[j] += w[i]!;
        }
      }
  const out = new Float32Array(S[0] * S[1] * S[2]);
  for (let z = 0; z < S[0]; z++) for (let y = 0; y < S[1]; y++) for (let x = 0; x < S[2]; x++) {
    const j = (z * padded[1] + y) * padded[2] + x;
    out[(z * S[1] + y) * S[2] + x] = wsum[j]! > 0 ? acc[j]! / wsum[j]! : 0;
  }
  return out;
}

export function buildNet(cfg: Partial<MNetConfig>): MNet {
  return new MNet(cfg);
}
