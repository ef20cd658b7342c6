// prostate — the commands: Z-SSMNet (zonal-aware self-supervised mesh network) for csPCa detection
// in bi-parametric MRI. Schemas and descriptions live here (defaults from config.ts); each run
// imports its implementation (experiments.ts) when it runs.
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import { precisionParam } from '../../core/train/precision.ts';
import { VARIANTS, FMUS, PHANTOM_SPACINGS, MAP_FORMATS, EXTRACTIONS, ABLATION_VARIANTS, SHAPE_PATTERN, CPU, QUICK } from './config.ts';

const impl = () => import('./experiments.ts');

// ------------------------------------------------------------------ shared parameters
const labelsParam = z.string().optional()
  .describe('picai_labels checkout (csPCa delineations, Yuan23 zonal masks); default: <data>/labels').meta({ path: 'input' });
const splitsParam = z.string().optional()
  .describe('official folds: nnU-Net splits_final.json / picai splits.json ([{train, val}]) or a folder of ds-config-{train,valid}-fold-<k>.json; --fold k holds out its val list').meta({ path: 'input' });
const shapeParam = (def: string, what: string) => z.string().regex(SHAPE_PATTERN, 'must look like 16x64x64 (Z×Y×X)').default(def).describe(what);

const dataParams = {
  data: z.string().optional().describe('PI-CAI folder (images/, labels/) or the images release (<patient_id>/<case>_t2w.mha); default: generate phantoms into the run folder').meta({ path: 'input' }),
  labels: labelsParam,
  splits: splitsParam,
  cases: z.number().int().min(5).max(5000).default(CPU.data.cases).describe('phantom cases to generate when no data folder is given'),
  phantomShape: shapeParam(CPU.data.phantomShape, 'phantom T2W size Z×Y×X'),
  phantomSpacing: z.enum(PHANTOM_SPACINGS).default(CPU.data.phantomSpacing).describe('phantom T2W spacing z×y×x in mm (3.6x0.3x0.3 exercises resampling)'),
  fold: z.number().int().min(0).max(4).default(CPU.data.fold).describe('held-out fold (the other folds train)'),
};
/** What the data-driven commands share (experiments.ts sets up their data from it). */
export type DataParams = { data?: string; labels?: string; splits?: string; cases: number; phantomShape: string; phantomSpacing: string; fold: number };

const netParams = {
  widthMult: z.number().positive().max(1).default(CPU.net.widthMult).describe('multiplier on the paper widths (32,48,64,80,96); 1 = full width'),
  variant: z.enum(VARIANTS).default(CPU.net.variant).describe('mesh network, or the 2D-only / 3D-only ablation'),
  zonal: z.boolean().default(CPU.net.zonal).describe('zonal awareness: append the one-hot zonal mask (6 input channels)'),
  fmu: z.enum(FMUS).default(CPU.net.fmu).describe('feature merging unit: |a−b|, a+b or concatenation'),
};

// ------------------------------------------------------------------ schemas
export const describeParams = z.object({
  widthMult: netParams.widthMult.default(CPU.describe.widthMult),
  inChannels: z.number().int().min(1).default(CPU.describe.inChannels).describe('input channels (6 = T2W, ADC, HBV + one-hot zones)'),
  numClasses: z.number().int().min(1).default(CPU.describe.numClasses).describe('output classes (2 detection, 3 SSL)'),
  fmu: netParams.fmu,
});
export type DescribeParams = z.infer<typeof describeParams>;

export const phantomsParams = z.object({
  dir: z.string().optional().describe('output folder; default: <run>/phantoms').meta({ path: 'output' }),
  cases: dataParams.cases,
  phantomShape: dataParams.phantomShape,
  phantomSpacing: dataParams.phantomSpacing,
  positiveRate: z.number().min(0).max(1).default(CPU.phantoms.positiveRate).describe('fraction of csPCa-positive cases'),
});
export type PhantomsParams = z.infer<typeof phantomsParams>;

export const pretrainParams = z.object({
  ...dataParams,
  widthMult: netParams.widthMult,
  epochs: z.number().int().min(1).default(CPU.pretrain.epochs).describe('epochs (the paper: up to 1000 with early stopping)'),
  batchesPerEpoch: z.number().int().min(1).optional().describe('batches per epoch; default: ⌊#cubes / batch⌋ as the reference'),
  batch: z.number().int().min(1).default(CPU.pretrain.batch).describe('cubes per batch (the paper: 24)'),
  cube: shapeParam(CPU.pretrain.cube, 'cube size Z×Y×X (the paper: 16x64x64)'),
  cubesPerCase: z.number().int().min(1).default(CPU.pretrain.cubesPerCase).describe('random cubes per case'),
  lr: z.number().positive().default(CPU.pretrain.lr).describe('SGD learning rate (halved every 12 epochs)'),
  patience: z.number().int().min(1).default(CPU.pretrain.patience).describe('early stop after this many epochs without validation improvement'),
  shuffleBoxes: z.number().int().min(0).default(CPU.pretrain.shuffleBoxes).describe('local-shuffle boxes per channel'),
  referenceQuirk: z.boolean().default(CPU.pretrain.referenceQuirk).describe('reproduce the reference code: shuffled boxes copy channel 0'),
});
export type PretrainParams = z.infer<typeof pretrainParams>;

export const trainParams = z.object({
  ...dataParams,
  ...netParams,
  iterations: z.number().int().min(1).default(CPU.train.iterations).describe('training iterations (the paper: 500 epochs × 250)'),
  iterationsPerEpoch: z.number().int().min(1).default(CPU.train.iterationsPerEpoch).describe('iterations per epoch (poly LR steps per epoch; nnU-Net: 250)'),
  batch: z.number().int().min(1).default(CPU.train.batch).describe('patches per batch'),
  patch: shapeParam(CPU.train.patch, 'patch size Z×Y×X'),
  lr: z.number().positive().default(CPU.train.lr).describe('initial learning rate'),
  momentum: z.number().min(0).max(0.999).default(CPU.train.momentum).describe('Nesterov momentum'),
  augment: z.boolean().default(CPU.train.augment).describe('nnU-Net-style spatial and intensity augmentation'),
  pretrained: z.string().optional().describe('SSL weights (pretrain run folder or .safetensors) to transfer; default: random init').meta({ path: 'input' }),
  checkpointEvery: z.number().int().min(1).default(CPU.train.checkpointEvery).describe('iterations between resumable checkpoints'),
  precision: precisionParam(),
});
export type TrainParams = z.infer<typeof trainParams>;

export const detectParams = z.object({
  data: z.string().describe('PI-CAI folder (images/ + labels/) or the images release').meta({ path: 'input' }),
  labels: labelsParam,
  splits: splitsParam,
  model: z.string().describe('train run folder, its model.safetensors or a training checkpoint (checkpoints/<tag>.safetensors), or a PyTorch checkpoint (.pth/.pt/.ckpt, nnU-Net .model; Z-SSMNet names are mapped); several, comma-separated, form an ensemble (mean softmax, e.g. the 5 fold models)').meta({ path: 'input', pathList: true }),
  fold: z.number().int().min(0).max(4).optional().describe('fold to process; default: every case'),
  format: z.enum(MAP_FORMATS).default(CPU.detect.format).describe('detection map file format'),
  mirrorTTA: z.boolean().default(CPU.detect.mirrorTTA).describe('mirror test-time augmentation (in-plane axes)'),
  extraction: z.enum(EXTRACTIONS).default(CPU.detect.extraction).describe('lesion-candidate extraction'),
  png: z.boolean().default(CPU.detect.png).describe('write a PNG overlay per case'),
  volumes: z.boolean().default(CPU.detect.volumes)
    .describe('copy each case\'s scans (ADC, HBV on the T2W grid) and zonal mask into volumes/ for the dashboard\'s slice viewer'),
});
export type DetectParams = z.infer<typeof detectParams>;

export const evaluateParams = z.object({
  data: z.string().optional().describe('PI-CAI folder the labels are read from (labels/…; images/ is not needed); or use --labels').meta({ path: 'input' }),
  detections: z.string().describe('folder of detection maps: <case>_detection_map<ext> or <case><ext>, ext .nii.gz .nii .mha .mhd .npy .npz (nnU-Net softmax: candidates extracted)').meta({ path: 'input' }),
  labels: z.string().optional().describe('picai_eval style: folder of <case>_label<ext> / <case><ext> (any case names), or a picai_labels checkout').meta({ path: 'input' }),
  subjectList: z.string().optional().describe('picai ds-config JSON whose subject_list names the cases to evaluate (all must be found)').meta({ path: 'input' }),
  splits: splitsParam,
  fold: z.number().int().min(0).max(4).optional().describe('with --splits: evaluate fold k\'s held-out (val) cases'),
  bootstrap: z.number().int().min(0).default(CPU.evaluate.bootstrap).describe('bootstrap resamples for 95% CIs (0: no CIs)'),
});
export type EvaluateParams = z.infer<typeof evaluateParams>;

export const compareParams = z.object({
  a: z.string().describe('detection maps of algorithm A (the baseline), picai_eval naming').meta({ path: 'input' }),
  b: z.string().describe('detection maps of algorithm B (the alternative)').meta({ path: 'input' }),
  labels: z.string().describe('labels folder (<case>_label<ext> / <case><ext>) or a picai_labels checkout').meta({ path: 'input' }),
  subjectList: evaluateParams.shape.subjectList,
  iterations: z.number().int().min(1).max(10_000_000).default(CPU.compare.iterations).describe('random swap patterns (exact enumeration when 2^cases is no more)'),
});
export type CompareParams = z.infer<typeof compareParams>;

export const ablationParams = z.object({
  ...dataParams,
  widthMult: netParams.widthMult.default(CPU.ablation.widthMult),
  variants: z.array(z.enum(ABLATION_VARIANTS)).min(1).default(CPU.ablation.variants)
    .describe('rows to train (mesh = Z-nnMNet; ssl = Z-SSMNet, mesh + zonal + SSL pre-training)'),
  iterations: z.number().int().min(1).default(CPU.ablation.iterations).describe('training iterations per variant'),
  patch: shapeParam(CPU.ablation.patch, 'patch size Z×Y×X'),
  sslEpochs: z.number().int().min(1).default(CPU.ablation.sslEpochs).describe('SSL epochs of the ssl variant'),
  lr: z.number().positive().default(CPU.ablation.lr).describe('initial learning rate'),
});
export type AblationParams = z.infer<typeof ablationParams>;

export const demoParams = z.object({
  cases: z.number().int().min(5).max(200).default(QUICK.cases).describe('phantom cases (folds 0 and 1 are held out)'),
  iterations: z.number().int().min(1).default(QUICK.iterations).describe('training iterations (lr 0.05, compressed schedule)'),
  widthMult: netParams.widthMult.default(QUICK.widthMult),
});
export type DemoParams = z.infer<typeof demoParams>;

// ------------------------------------------------------------------ commands
export const describe = defineCommand({
  name: 'describe',
  description: 'Print the MNet block table with parameter counts (full width must equal the analytic count)',
  params: describeParams,
  run: async (p, ctx) => (await impl()).describe(p, ctx),
});

export const phantoms = defineCommand({
  name: 'phantoms',
  description: 'Write seeded synthetic bpMRI phantoms as a PI-CAI folder (.mha images, .nii.gz labels, marksheet, folds)',
  params: phantomsParams,
  run: async (p, ctx) => (await impl()).phantoms(p, ctx),
});

export const pretrain = defineCommand({
  name: 'pretrain',
  description: 'Self-supervised restoration pre-training (Models Genesis transformations) of MNet on unlabeled cubes',
  resumable: true,
  params: pretrainParams,
  metrics: [
    { table: 'pretrain', name: 'train_mse', label: 'restoration MSE (train)', x: 'epoch', scale: 'log', group: 'restoration MSE' },
    { table: 'pretrain', name: 'val_mse', label: 'restoration MSE (validation)', x: 'epoch', scale: 'log', group: 'restoration MSE' },
  ],
  run: async (p, ctx) => (await impl()).pretrain(p, ctx),
});

export const train = defineCommand({
  name: 'train',
  description: 'Train the Z-nnMNet detector (0.5·focal + 0.5·CE, deep supervision, SGD Nesterov, poly LR) and evaluate on the held-out fold',
  resumable: true,
  params: trainParams,
  metrics: [
    { table: 'train', name: 'loss', label: 'training loss (focal + CE)', x: 'iteration', scale: 'log' },
    { table: 'train', name: 'lr', label: 'learning rate', x: 'iteration', scale: 'linear' },
    { table: 'validation', name: 'val_dice', label: 'validation Dice', x: 'epoch', scale: 'linear', group: 'validation Dice' },
    { table: 'validation', name: 'val_dice_ma', label: 'validation Dice (moving average)', x: 'epoch', scale: 'linear', group: 'validation Dice' },
  ],
  run: async (p, ctx) => (await impl()).train(p, ctx),
});

export const detect = defineCommand({
  name: 'detect',
  description: 'Run a trained detector on cases: detection maps (.nii.gz or .mha) and PNG overlays',
  params: detectParams,
  positional: ['data', 'model'],
  run: async (p, ctx) => (await impl()).detect(p, ctx),
});

export const evaluate = defineCommand({
  name: 'evaluate',
  description: 'PI-CAI evaluation of detection maps against labels: AUROC, AP, ranking score, ROC/PR/FROC, bootstrap CIs',
  params: evaluateParams,
  positional: ['data', 'detections'],
  run: async (p, ctx) => (await impl()).evaluate(p, ctx),
});

export const compareAlgorithms = defineCommand({
  name: 'compare-algorithms',
  description: 'Paired permutation test of two algorithms\' detection maps on the same cases: p-values for AUROC, AP and the ranking score',
  params: compareParams,
  run: async (p, ctx) => (await impl()).compareAlgorithms(p, ctx),
});

export const ablation = defineCommand({
  name: 'ablation',
  description: 'Mesh vs 2D-only vs 3D-only, ±zonal, ±SSL on phantoms (phantom numbers say nothing about real-data performance)',
  params: ablationParams,
  run: async (p, ctx) => (await impl()).ablation(p, ctx),
});

export const demo = defineCommand({
  name: 'demo',
  description: 'A few-second end-to-end run: tiny phantoms → width-reduced Z-nnMNet → detection maps → PI-CAI metrics',
  quick: true,
  params: demoParams,
  run: async (p, ctx) => (await impl()).demo(p, ctx),
});

registerModule({
  name: 'prostate',
  title: 'Z-SSMNet: csPCa detection in bpMRI',
  description: 'Zonal-aware self-supervised mesh network (MNet) for clinically significant prostate cancer detection, with PI-CAI I/O, phantoms and evaluation.',
  papers: ['Yuan et al., Z-SSMNet: Zonal-aware Self-supervised Mesh Network for Prostate Cancer Detection and Diagnosis with Bi-parametric MRI, arXiv 2212.05808 (CMIG 2025)'],
  commands: [describe, phantoms, pretrain, train, detect, evaluate, compareAlgorithms, ablation, demo],
  weightMaps: async () => (await import('./weights.ts')).WEIGHT_MAPS,
});
