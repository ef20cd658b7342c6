// nowcast — the commands: SIANet rain nowcasting and the shift-robust recipe on Weather4cast 2022
// data. Schemas and descriptions live here (every default from config.ts); each run imports its
// implementation (experiments.ts) when it runs.
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import { precisionParam } from '../../core/train/precision.ts';
import {
  GEOMETRY_NAMES, CHANNELS, MODELS, BLOCK_TYPES, AUGMENT_MODES, SMOOTH_MODES, TTA_PRESETS, AVERAGES, MASK_MODES, ABLATE_MODES, ABLATION_NAMES,
  TRAIN, TRAIN_INIT, EVAL, PREDICT, CHALLENGE_NAMES, DESCRIBE, SYNTH, PAPER, ABLATE,
} from './config.ts';

const impl = () => import('./experiments.ts');

const geometryParam = z.enum(GEOMETRY_NAMES).default(TRAIN.geometry).describe('geometry: tiny (24² in, 4² block, 4→4 slots), s (48², 8², 4→8) or full (252², 42², 4→32)');
/** A region name is one path component of the W4C layout (<root>/<year>/<region>.*.h5): a plain name. */
const regionName = z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/, 'a region name (letters, digits, _ . -)');
const regionsParam = (what: string) => z.array(regionName).optional().describe(`regions ${what}`);
const yearsParam = (what: string) => z.array(z.number().int()).default(TRAIN.years).describe(what);
const ttaParam = (dflt: (typeof TTA_PRESETS)[number]) => z.enum(TTA_PRESETS).default(dflt).describe('test-time ensemble preset: none, paper {id, vflip}, released {id, rot180}, policy {id} ∪ the 5 policy transforms');
const tauParam = (dflt: number, what: string) => z.number().gt(0).lt(1).default(dflt).describe(what);

export const describeParams = z.object({
  widths: z.array(z.number().int().min(1).max(128)).default(DESCRIBE.widths).describe('start widths f to count'),
  inChannels: z.number().int().min(1).max(11).default(DESCRIBE.inChannels).describe('input channels'),
  tOut: z.number().int().min(1).max(32).default(DESCRIBE.tOut).describe('output slots'),
});
export type DescribeParams = z.infer<typeof describeParams>;

export const synthParams = z.object({
  root: z.string().optional().describe('output root (default: <run>/w4c)').meta({ path: 'output' }),
  geometry: geometryParam,
  trainDays: z.number().int().min(1).max(400).default(SYNTH.command.trainDays).describe('training days per region-year'),
  slotsPerDay: z.number().int().min(8).max(96).default(SYNTH.command.slotsPerDay).describe('synthetic diurnal period in slots'),
  valSeqs: z.number().int().min(1).max(60).default(SYNTH.command.valSeqs).describe('validation sequences per region-year'),
  testSeqs: z.number().int().min(1).max(60).default(SYNTH.command.testSeqs).describe('test sequences per region-year'),
  coreRegions: z.number().int().min(1).max(7).default(SYNTH.command.coreRegions).describe('core regions (of 7)'),
  transferRegions: z.number().int().min(0).max(3).default(SYNTH.command.transferRegions).describe('transfer regions (of 3)'),
});
export type SynthParams = z.infer<typeof synthParams>;

export const trainParams = z.object({
  data: z.string().optional().describe('W4C root (HDF5 layout); default: synthetic data generated in memory').meta({ path: 'input' }),
  regions: regionsParam('to train on (default: the core regions present / generated)'),
  years: yearsParam('years to train on'),
  geometry: geometryParam,
  channels: z.array(z.enum(CHANNELS)).default(TRAIN.channels).describe('input channels (the 11 HRIT channel names; 4 allowed at CPU scale)'),
  model: z.enum(MODELS).default(TRAIN.model).describe('architecture'),
  blockType: z.enum(BLOCK_TYPES).default(TRAIN.blockType).describe('SIANet block: released factorised block or paper B\'s LCAM'),
  startFilters: z.number().int().min(1).max(64).default(TRAIN.startFilters).describe('U-Net start width f'),
  depth: z.number().int().min(2).max(5).default(TRAIN.depth).describe(`U-Net levels (${PAPER.depth} in the papers)`),
  strHidden: z.number().int().min(2).max(64).default(TRAIN.strHidden).describe(`STR hidden width (${PAPER.strHidden} in the paper)`),
  dropout: z.number().min(0).max(0.9).default(TRAIN.dropout).describe(`dropout (${PAPER.dropout} in the papers)`),
  steps: z.number().int().min(1).max(1_000_000).default(TRAIN.steps).describe('optimiser steps'),
  batchSize: z.number().int().min(1).max(64).default(TRAIN.batchSize).describe('batch size'),
  lr: z.number().positive().default(TRAIN.lr).describe(`AdamW learning rate (${PAPER.lr.toExponential()} in the papers at full scale)`),
  weightDecay: z.number().min(0).default(TRAIN.weightDecay).describe('AdamW weight decay'),
  clipValue: z.number().min(0).default(TRAIN.clipValue).describe('gradient clipping by value (0 = off)'),
  augment: z.enum(AUGMENT_MODES).default(TRAIN.augment).describe('augmentation: direction-aware policy, its inverse, random geometric, none'),
  smooth: z.enum(SMOOTH_MODES).default(TRAIN.smooth).describe('smoothness loss: paper A eqs. 3–5, released-code variant (literal 1e-6 on the sum, or scaled to its competition per-element weight), none'),
  betaSpatial: z.number().min(0).default(TRAIN.betaSpatial).describe('β_s of paper A eq. 3 (with smooth: paper)'),
  betaTemporal: z.number().min(0).default(TRAIN.betaTemporal).describe('β_t of paper A eq. 3 (with smooth: paper)'),
  posWeight: z.number().positive().default(TRAIN.posWeight).describe('BCE positive weight'),
  alpha: z.number().min(0).default(TRAIN.alpha).describe('deep-supervision weight on y_early'),
  checkpointEvery: z.number().int().min(0).default(TRAIN.checkpointEvery).describe('save a resumable checkpoint every N steps (0 = only at the end)'),
  evalEvery: z.number().int().min(0).default(TRAIN.evalEvery).describe('validation loss every N steps (LR ×0.9 on plateau; 0 = never)'),
  recalibrateBn: z.number().int().min(0).max(1000).default(TRAIN.recalibrateBn)
    .describe('after training, re-estimate BatchNorm statistics over N training batches (0 = keep the momentum-0.01 EMA, which needs thousands of steps)'),
  tau: tauParam(TRAIN.tau, 'threshold for the frames and the quick evaluation'),
  init: z.string().optional()
    .describe('start from these weights (fresh optimizer): a paperlab training checkpoint (its model.* tensors), a model file, a safetensors state dict, or a run folder')
    .meta({ path: 'input' }),
  initStrict: z.boolean().default(TRAIN_INIT.strict).describe('with --init: every key and shape must match (--no-init-strict loads the keys that fit, e.g. core → transfer with another head)'),
  precision: precisionParam(),
});
export type TrainParams = z.infer<typeof trainParams>;

export const evalParams = z.object({
  model: z.string().describe('model file written by `train` (model.safetensors), or a PyTorch checkpoint (.pth/.pt/.ckpt; the official U-Net/SIANet names are mapped)').meta({ path: 'input' }),
  data: z.string().describe('W4C root (HDF5 layout)').meta({ path: 'input' }),
  split: z.enum(['val', 'test']).default(EVAL.split).describe('val (targets in the val files) or test (targets only for synthetic data)'),
  regions: regionsParam('(default: every region with files)'),
  years: yearsParam('years'),
  tta: ttaParam(EVAL.tta),
  average: z.enum(AVERAGES).default(EVAL.average).describe('average probabilities or logits over the ensemble'),
  tau: tauParam(EVAL.tau, 'threshold τ on the (ensemble) probability'),
  maskMode: z.enum(MASK_MODES).default(EVAL.maskMode).describe('masked pixels: reference convention (zero) or strict exclusion'),
});
export type EvalParams = z.infer<typeof evalParams>;

export const predictParams = z.object({
  model: z.string().describe('model file written by `train`, or a PyTorch checkpoint (.pth/.pt/.ckpt)').meta({ path: 'input' }),
  data: z.string().describe('W4C root (HDF5 layout)').meta({ path: 'input' }),
  split: z.enum(['test', 'heldout']).default(PREDICT.split).describe('input split'),
  regions: regionsParam('(default: every region with files)'),
  years: yearsParam('years'),
  tta: ttaParam(PREDICT.tta),
  average: z.enum(AVERAGES).default(PREDICT.average).describe('average probabilities or logits (the released predictor: logits, τ 0.48)'),
  tau: tauParam(PREDICT.tau, 'threshold τ'),
  challenge: z.enum(CHALLENGE_NAMES).optional()
    .describe('the cells of a Stage 2 submission instead of --years/--regions: core (7 core regions × 2019, 2020) or transfer (3 transfer regions × 2019, 2020 and all 10 × 2021)'),
  gzip: z.boolean().default(PREDICT.gzip).describe('gzip each <region>.pred.h5 to .pred.h5.gz inside the zip (as the starter kit\'s mk_pred_*.sh scripts)'),
});
export type PredictParams = z.infer<typeof predictParams>;

export const ablateParams = z.object({
  mode: z.enum(ABLATE_MODES).default(ABLATE.quick.mode).describe('quick: 1 seed at CI size; full: 3 seeds at S scale'),
  steps: z.number().int().min(1).optional().describe(`training steps per config (default: the mode's, ${ABLATE.quick.steps} quick, ${ABLATE.full.steps} full; the baseline keeps its ratio)`),
  seeds: z.number().int().min(1).max(10).optional().describe(`number of seeds, 0…n−1 (default: the mode's, ${ABLATE.quick.seeds.length} quick, ${ABLATE.full.seeds.length} full)`),
  geometry: z.enum(['tiny', 's']).optional().describe('benchmark geometry (default: tiny for quick, s for full)'),
  configs: z.array(z.enum(ABLATION_NAMES)).optional().describe('configurations to run (default: all rows of the table)'),
  smooth: z.enum(['paper', 'released', 'released-scaled']).optional().describe(`smoothness loss of the + STL rows (default: the mode's, ${ABLATE.quick.smooth}: paper A eqs. 3–5)`),
  beta: z.number().min(0).optional().describe(`β_s = β_t of paper A eqs. 3–5 in the + STL rows (default: the mode's, ${ABLATE.quick.beta} as in paper A)`),
  // a number typed on the command line arrives as a string
  tau: z.preprocess((v) => (typeof v === 'string' && v !== 'tuned' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v), z.union([z.literal('tuned'), z.number().gt(0).lt(1)])).optional()
    .describe(`threshold τ in (0, 1), or 'tuned': per model, the τ maximising core validation mIoU (paper B's tuned threshold) (default: the mode's, ${ABLATE.quick.tau})`),
});
export type AblateParams = z.infer<typeof ablateParams>;

export const describeCommand = defineCommand({
  name: 'describe',
  description: 'Geometry, channels and exact parameter counts of both models for start widths 8/16/32/64',
  params: describeParams,
  run: async (p, ctx) => (await impl()).runDescribe(p, ctx),
});

export const synthCommand = defineCommand({
  name: 'synth',
  description: 'Write the seeded synthetic advecting-rain data set in the exact W4C22 HDF5 layout',
  params: synthParams,
  run: async (p, ctx) => (await impl()).runSynth(p, ctx),
});

export const trainCommand = defineCommand({
  name: 'train',
  description: 'Train SIANet or the 3D U-Net with the shift-robust recipe; resumable safetensors checkpoints, frames of predictions',
  params: trainParams,
  metrics: [
    { table: 'train', name: 'loss', label: 'training loss', x: 'step', scale: 'log', series: 'model', group: 'loss' },
    { table: 'validation', name: 'valLoss', label: 'validation loss', x: 'step', scale: 'log', series: 'model', group: 'loss' },
    { table: 'train', name: 'bce', label: 'binary cross-entropy', x: 'step', scale: 'log', series: 'model' },
    { table: 'train', name: 'lr', label: 'learning rate', x: 'step', scale: 'log', series: 'model' },
  ],
  resumable: true,
  quick: true,
  run: async (p, ctx) => (await impl()).runTrain(p, ctx),
});

export const evalCommand = defineCommand({
  name: 'eval',
  description: 'Per-cell IoU/CSI/F1/precision/recall/accuracy, mIoU and lead-time curve of a trained model (optional TTA)',
  params: evalParams,
  positional: ['model', 'data'],
  run: async (p, ctx) => (await impl()).runEval(p, ctx),
});

export const predictCommand = defineCommand({
  name: 'predict',
  description: 'Write the submission: <year>/<region>.pred.h5 (dataset "submission", float32 0/1) per region-year, zipped',
  params: predictParams,
  positional: ['model', 'data'],
  run: async (p, ctx) => (await impl()).runPredict(p, ctx),
});

export const ablateCommand = defineCommand({
  name: 'ablate',
  description: 'Paper A\'s ablation on synthetic advecting rain: baseline, SIANet, +STL, +AP, +GAE, random aug, inverse policy',
  params: ablateParams,
  run: async (p, ctx) => (await impl()).runAblate(p, ctx),
});

registerModule({
  name: 'nowcast',
  title: 'SIANet rain nowcasting under spatio-temporal shift (Weather4cast 2022)',
  description: 'W4C22 HDF5 data, the organisers\' 3D U-Net and SIANet, the direction-aware augmentation policy, smoothness loss and geometric test-time ensemble, with a synthetic advecting-rain benchmark.',
  papers: [
    'Seo et al., Domain Generalization Strategy to Train Classifiers Robust to Spatial-Temporal Shift, arXiv 2212.02968 (2022)',
    'Seo et al., Simple Baseline for Weather Forecasting Using Spatiotemporal Context Aggregation Network (SIANet), arXiv 2212.02952 (2022)',
  ],
  commands: [describeCommand, synthCommand, trainCommand, evalCommand, predictCommand, ablateCommand],
  weightMaps: async () => (await import('./weights.ts')).WEIGHT_MAPS,
});
