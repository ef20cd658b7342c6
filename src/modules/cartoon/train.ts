// CARTOONER training, the paper's two-stage schedule (Ahn et al. 2023): no warm-up; stage 1 trains
// everything except the abstraction unit with L_texture + L_color; stage 2 freezes everything else
// and trains the abstraction unit with L_texture. Each step draws a texture level k ∈ 1..5; real
// cartoons are resized to the level's target side (config.ts TARGET_SIDES_256) and scored by the
// multi-texture discriminator's head k [recon]. Colour pairs come from the paper's HSV colour
// augmentation with L-caching. Checkpoints every `checkpointEvery` steps through the core training
// kit (core/train: one record for G, D, the three Adam states, libtorch's generator and the step).
import fs from 'node:fs';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { optim } from '../../core/torch/index.ts';
import { Rng } from '../../core/rng.ts';
import type { Checkpoints, RunContext } from '../../core/context.ts';
import {
  restoreTrainingCheckpoint, saveTrainingCheckpoint, stepTag, MixedPrecision, type RestoreOptions, type RestoredCheckpoint, type TrainingParts,
  type Precision,
} from '../../core/train/index.ts';
import { augmentLab, hsvPerturb, randomJitter, rgbToLab } from './color.ts';
import { Cartooner, MultiTextureDiscriminator, resolveConfig } from './model.ts';
import { RandomFeatureNet, colorLoss, contentLoss, lsganD, lsganG, pairedGradLoss, pairedLoss, tvLoss } from './losses.ts';
import { type Batch, type CartoonSource } from './data.ts';
import { LEVELS, TRAIN, type CartoonerConfig, type LossWeights, type TrainPreset } from './config.ts';
import { parseJson } from '../../core/errors.ts';
import { DistributedDataParallel, currentWorld } from '../../core/distributed/index.ts';

/** The trainer's options (the typed API); `trainOptions` builds them from a preset of config.ts. */
export interface TrainOptions {
  batch: number;
  stage1Steps: number;
  stage2Steps: number;
  lr: number;
  betas: [number, number];
  weights: LossWeights;
  model: Partial<CartoonerConfig>;
  discWidth: number;
  spectralNorm: boolean;
  checkpointEvery: number;
  /** level groups per step (5: every level, hence every branch, in every step) [ours] */
  groups: number;
  /** [ours] learning rate of the abstraction unit in stage 2 (default: lr) */
  stage2Lr?: number;
  /** --precision: 32, bf16 or 16-mixed (core/train/amp.ts); default 32 */
  precision?: Precision;
}

/** Trainer options from a preset of config.ts (default: TRAIN, what `cartoon train` runs), with overrides. */
export function trainOptions(preset: Partial<TrainPreset> = {}): TrainOptions {
  const p = { ...TRAIN, ...preset };
  const o: TrainOptions = {
    batch: p.batch, stage1Steps: p.stage1Steps, stage2Steps: p.stage2Steps, lr: p.lr, betas: p.betas, weights: p.weights,
    model: { channels: p.channels }, discWidth: p.discWidth, spectralNorm: p.spectralNorm, checkpointEvery: p.checkpointEvery, groups: p.groups,
  };
  if (p.stage2Lr !== undefined) o.stage2Lr = p.stage2Lr;
  return o;
}

/** The trainer's defaults: those of `cartoon train` (config.ts TRAIN). */
export const DEFAULT_TRAIN: TrainOptions = trainOptions();

export interface Levels { level: number; ks: number; ka: number }

export interface StepLosses {
  stage: number;
  level: number;
  d: number;
  adv: number;
  content: number;
  tv: number;
  color: number;
  paired: number;
  pairedGrad: number;
  total: number;
}

/** Splits channel 0 (L) of Lab images. */
function lOf(rgb: Tensor): Tensor {
  return torch.scope(() => rgbToLab(rgb).narrow(1, 0, 1));
}

/** The HSV colour augmentation per sample: augmented colour map (sRGB) and the target ab (L-cached Lab of Ī). */
export function colourPairs(rng: Rng, photo: Tensor, map: Tensor): { mapAug: Tensor; targetAb: Tensor } {
  return torch.noGrad(() => torch.scope(() => {
    const j = Array.from({ length: photo.shape[0]! }, () => randomJitter(rng));
    // the map's ab after hsvPerturb equals its L-cached ab (L-caching only swaps L back)
    return { mapAug: hsvPerturb(map, j), targetAb: augmentLab(photo, j).narrow(1, 1, 2) };
  }));
}

export class CartoonTrainer {
  readonly G: Cartooner;
  readonly D: MultiTextureDiscriminator;
  readonly content = new RandomFeatureNet();
  readonly optG: optim.Adam;
  readonly optD: optim.Adam;
  readonly optA: optim.Adam;
  step = 0;
  /** data-parallel: set by trainCartooner; gradients of D and of G's trained part are averaged over ranks */
  ddp: DistributedDataParallel | null = null;

  constructor(readonly o: TrainOptions) {
    this.G = new Cartooner(resolveConfig(o.model));
    this.D = new MultiTextureDiscriminator(LEVELS, o.discWidth, o.spectralNorm);
    const stage1 = this.G.namedParameters().filter(([n]) => !n.startsWith('controller.abstraction.')).map(([, p]) => p);
    this.optG = new optim.Adam(stage1, { lr: o.lr, betas: o.betas });
    this.optD = new optim.Adam(this.D.parameters(), { lr: o.lr, betas: o.betas });
    this.optA = new optim.Adam(this.G.controller.abstraction.parameters(), { lr: o.stage2Lr ?? o.lr, betas: o.betas });
    this.amp = new MixedPrecision(o.precision ?? '32', this.G.device);
  }
  /** --precision (core/train/amp.ts): autocast of the forward passes, loss scaling for 16-mixed */
  readonly amp: MixedPrecision;

  get totalSteps(): number { return this.o.stage1Steps + this.o.stage2Steps; }
  stageOf(step: number): 1 | 2 { return step < this.o.stage1Steps ? 1 : 2; }

  /** Freezes (stage 2) or unfreezes (stage 1) everything but the abstraction unit. */
  private setStage(stage: 1 | 2): void {
    this.G.controller.abstractionOn = stage === 2;
    for (const [n, p] of this.G.namedParameters()) {
      const abstr = n.startsWith('controller.abstraction.');
      p.requiresGrad = stage === 1 ? !abstr : abstr;
    }
  }

  /**
   * Levels for one step: `groups` groups of samples, each with its own level (a random permutation
   * of 1..5 when groups = 5, so every branch learns every step). Stage 1 draws the stroke level
   * (abstraction off); stage 2 draws both, and the critic head follows α_a.
   */
  levelsFor(rng: Rng, stage: 1 | 2): Levels[] {
    const g = this.o.groups;
    const draw = () => (g === LEVELS ? rng.permutation(LEVELS).map((i) => i + 1) : Array.from({ length: g }, () => rng.int(1, LEVELS + 1)));
    const ks = draw();
    if (stage === 1) return ks.map((k) => ({ level: k, ks: k, ka: 1 }));
    const ka = draw();
    return ks.map((k, i) => ({ level: ka[i]!, ks: k, ka: ka[i]! }));
  }

  /** Draws the step's batch: `batch / groups` samples per level group, concatenated. */
  drawBatch(source: CartoonSource, rng: Rng, lvs: Levels[]): Batch {
    const m = Math.max(1, Math.floor(this.o.batch / lvs.length));
    const parts = lvs.map((lv) => source.batch(rng, m, lv));
    const cat = (k: keyof Batch) => (parts.every((p) => p[k]) ? torch.cat(parts.map((p) => p[k]!), 0) : null);
    const out = { photo: cat('photo')!, map: cat('map')!, real: cat('real')!, paired: cat('paired') };
    torch.dispose(parts);
    return out;
  }

  /** One training step on a batch (D update, then G update); the batch is split into level groups. */
  trainStep(batch: Batch, rng: Rng, lvs: Levels[], stage: 1 | 2): StepLosses {
    this.setStage(stage);
    const w = this.o.weights;
    const G = lvs.length;
    return torch.scope(() => {
      const { mapAug, targetAb } = colourPairs(rng, batch.photo, batch.map);
      const photoL = lOf(batch.photo);
      const realL = lOf(batch.real).chunk(G, 0);
      const amp = this.amp;
      const out = amp.autocast(() => this.G.forward(batch.photo, mapAug, lvs.map((l) => l.ks), lvs.map((l) => l.ka)));
      const fakeL = out.L.chunk(G, 0);
      // critic: head k scores the level-k group only
      this.D.zeroGrad();
      const dLoss = amp.autocast(() => {
        let d = torch.scalar(0);
        lvs.forEach((lv, g) => { d = d.add(lsganD(this.D.forward(realL[g]!, lv.level), this.D.forward(fakeL[g]!.detach(), lv.level)).div(G)); });
        return d;
      });
      amp.backward(dLoss);
      this.ddp?.syncGradients(this.D.parameters());
      amp.step(this.optD);
      // generator
      this.G.zeroGrad();
      const { adv, cont, tv, col, pair, pairGrad, total } = amp.autocast(() => {
        let adv = torch.scalar(0);
        lvs.forEach((lv, g) => { adv = adv.add(lsganG(this.D.forward(fakeL[g]!, lv.level)).div(G)); });
        const cont = contentLoss(this.content, photoL, out.L);
        const tv = tvLoss(out.L);
        const col = stage === 1 ? colorLoss(out.ab, targetAb) : torch.scalar(0);
        const wGrad = w.pairedGrad ?? 0;
        const targetL = batch.paired && (w.paired > 0 || wGrad > 0) ? lOf(batch.paired) : null;
        const pair = targetL && w.paired > 0 ? pairedLoss(out.L, targetL) : torch.scalar(0);
        const pairGrad = targetL && wGrad > 0 ? pairedGradLoss(out.L, targetL) : torch.scalar(0);
        const total = adv.mul(w.adv).add(cont.mul(w.content)).add(tv.mul(w.tv)).add(col.mul(w.color)).add(pair.mul(w.paired)).add(pairGrad.mul(wGrad));
        return { adv, cont, tv, col, pair, pairGrad, total };
      });
      torch.assertFinite(total, 'cartoon generator loss');
      amp.backward(total);
      this.ddp?.syncGradients((stage === 1 ? this.optG : this.optA).params);
      amp.step(stage === 1 ? this.optG : this.optA);
      this.D.zeroGrad();
      this.G.zeroGrad();
      return {
        stage, level: lvs[0]!.level, d: dLoss.item(), adv: adv.item(), content: cont.item(), tv: tv.item(),
        color: col.item(), paired: pair.item(), pairedGrad: pairGrad.item(), total: total.item(),
      };
    });
  }

  /** Per-step randomness independent of interruptions: step t always draws the same batch. */
  static stepRng(seed: number, step: number): Rng {
    return new Rng(seed * 1000003 + step * 7919 + 17);
  }

  /**
   * Runs step `this.step` of the schedule (its levels and batch drawn from stepRng(seed, step), so a
   * resumed run draws what the uninterrupted one would) and advances the step count.
   */
  advance(source: CartoonSource, seed: number): StepLosses {
    const stage = this.stageOf(this.step);
    const rng = CartoonTrainer.stepRng(seed, this.step);
    const lvs = this.levelsFor(rng, stage);
    // data-parallel: the same levels on every rank (the same parameters get gradients), each rank its own samples
    const rank = this.ddp ? currentWorld().rank : 0;
    const drng = rank > 0 ? rng.fork(rank) : rng;
    const batch = this.drawBatch(source, drng, lvs);
    let l: StepLosses;
    try {
      l = this.trainStep(batch, drng, lvs, stage);
    } finally {
      torch.dispose(batch);
    }
    this.step++;
    return l;
  }

  /** The trainer's state as the core training kit sees it: G and D, their three Adam optimizers. */
  parts(): TrainingParts {
    return { model: { G: this.G, D: this.D }, optimizer: { G: this.optG, D: this.optD, A: this.optA } };
  }

  /**
   * Saves the whole trainer (core/train's checkpoint record: G, D, the three Adam states with their
   * learning rates, libtorch's generator, step) under `tag` (default step-<step>). The per-step
   * Rng is derived from the step, so nothing else is needed to continue bit for bit.
   */
  save(checkpoints: Checkpoints, o: { tag?: string; extra?: Record<string, unknown> } = {}): void {
    saveTrainingCheckpoint(checkpoints, o.tag ?? stepTag(this.step), {
      ...this.parts(), step: this.step, config: { model: this.G.cfg, train: this.o },
      extra: { ...o.extra, abstractionOn: this.G.controller.abstractionOn },
    });
  }

  /** Loads the latest checkpoint (or `o.tag`) saved by `save`; null when there is none. */
  restore(checkpoints: Checkpoints, o: RestoreOptions = {}): RestoredCheckpoint | null {
    const r = restoreTrainingCheckpoint(checkpoints, this.parts(), o);
    if (r) {
      this.step = r.step;
      this.G.controller.abstractionOn = Boolean(r.extra.abstractionOn);
    }
    return r;
  }

  dispose(): void {
    this.G.dispose(); this.D.dispose(); this.content.dispose();
    this.optG.dispose(); this.optD.dispose(); this.optA.dispose();
  }
}

/** Runs (or resumes) the two-stage schedule inside a run context. Returns the trainer (caller disposes). */
export async function trainCartooner(o: TrainOptions, source: CartoonSource, ctx: RunContext): Promise<{ trainer: CartoonTrainer; history: StepLosses[] }> {
  const tr = new CartoonTrainer(o);
  const history: StepLosses[] = [];
  if (ctx.resuming) {
    const r = tr.restore(ctx.checkpoints);
    if (r) ctx.log(`resumed from checkpoint ${r.tag} at step ${tr.step}`);
  }
  tr.ddp = new DistributedDataParallel([tr.G, tr.D]);
  const bar = ctx.progress(tr.totalSteps, 'cartoon train');
  bar.update(tr.step);
  while (tr.step < tr.totalSteps) {
    if (ctx.signal.aborted) { tr.save(ctx.checkpoints); ctx.throwIfAborted(); }
    const stage = tr.stageOf(tr.step);
    const l = tr.advance(source, ctx.seed);
    history.push(l);
    ctx.metrics.log({ step: tr.step, ...l });
    bar.tick(1, { stage, d: +l.d.toFixed(3), color: +l.color.toFixed(3) });
    if (tr.step % o.checkpointEvery === 0 || tr.step === o.stage1Steps || tr.step === tr.totalSteps) tr.save(ctx.checkpoints);
    if (tr.step % 10 === 0) await new Promise((r) => setImmediate(r)); // let signals and events through
  }
  tr.G.controller.abstractionOn = o.stage2Steps > 0 || tr.G.controller.abstractionOn;
  bar.done();
  return { trainer: tr, history };
}

// ------------------------------------------------------------------ model files
export interface ModelInfo {
  config: CartoonerConfig;
  abstractionOn: boolean;
  trainedOn: string;
  steps: number;
}

/** Saves the generator (only) as safetensors with its config in the metadata. */
export function saveModel(file: string, G: Cartooner, info: { trainedOn: string; steps: number }): void {
  torch.saveSafetensors(file, G.stateDict(), {
    format: 'pt', model: 'cartooner', config: JSON.stringify(G.cfg), abstractionOn: String(G.controller.abstractionOn),
    trainedOn: info.trainedOn, steps: String(info.steps),
  });
}

/** The generator's tensors in a training checkpoint (core/train's key convention for the part G). */
const CHECKPOINT_G = 'model.G.';

/** Loads a generator saved by saveModel, or a training checkpoint of CartoonTrainer.save. */
export function loadModel(file: string): { model: Cartooner; info: ModelInfo } {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such model file`);
  const { tensors, metadata } = torch.loadSafetensors(file);
  try {
    let sd = tensors;
    let config: Partial<CartoonerConfig> = {};
    let abstractionOn = metadata.abstractionOn === 'true';
    if (metadata.config) {
      try { config = JSON.parse(metadata.config); } catch { throw new Error(`${file}: metadata field 'config' is not valid JSON`); }
    } else if (Object.keys(tensors).some((k) => k.startsWith(CHECKPOINT_G))) {
      // a training checkpoint (CartoonTrainer.save): the generator's tensors, config and switch from its JSON
      sd = Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(CHECKPOINT_G)).map(([k, v]) => [k.slice(CHECKPOINT_G.length), v]));
      const jf = file.replace(/\.safetensors$/, '.json');
      if (fs.existsSync(jf)) {
        const st = parseJson<{ state?: Record<string, any> }>(fs.readFileSync(jf, 'utf8'), jf)?.state ?? {};
        config = st.config?.model ?? {};
        abstractionOn = Boolean(st.extra?.abstractionOn);
      }
    } else {
      throw new Error(`${file}: not a cartoon model (no 'config' metadata and no '${CHECKPOINT_G}' tensors)`);
    }
    const w = sd['encoder.c1.weight'];
    if (!w) throw new Error(`${file}: tensor 'encoder.c1.weight' missing`);
    config.channels ??= w.shape[0]! * 2;
    const model = new Cartooner(config);
    try {
      model.loadStateDict(sd);
    } catch (e) {
      model.dispose();
      throw new Error(`${file}: ${(e as Error).message}`);
    }
    model.controller.abstractionOn = abstractionOn;
    model.eval();
    return { model, info: { config: model.cfg, abstractionOn, trainedOn: metadata.trainedOn ?? 'unknown', steps: Number(metadata.steps ?? 0) } };
  } finally {
    torch.dispose(tensors);
  }
}
