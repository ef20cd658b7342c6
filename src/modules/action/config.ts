// action — the named presets and the constants the schemas need: the one source of every default.
// commands.ts builds its zod defaults from `defaults` (= presets.cpu) and the quick command from
// presets.quick; the typed API (makeConfig, trainModel, makeSynthetic, makeBlobTask, augmentPose)
// takes its defaults from the objects below. Imports nothing (listing and --help load this file).
//
// Kim, Ahn, Ko, "Cross-Modal Learning with 3D Deformable Attention for Action Recognition", ICCV 2023
// (arXiv 2212.05638). What the paper fixes: the network's structure (its Fig. 2: a backbone, two
// cross-modal tokens, L blocks of 3D deformable attention / local joint stride attention / temporal
// stride attention, a classifier on the last cross-modal tokens), training from scratch without
// pre-training, and the four benchmarks. Its widths, depth, clip length, crop size and training
// schedule were not recovered, so every size below is ours (marked [recon] where a choice stands in
// for the paper's unknown one) — see README.md.
// - paper  the paper's setting where it is known: RGB + pose, NTU RGB+D X-Sub, up to two bodies per
//          clip (the dataset's convention), trained from scratch; sizes as `cpu`.
// - cpu    the CLI defaults: D = 64, 4 heads, L = 3, T = 16 frames, 48-pixel crops, 30 epochs of
//          AdamW on 480 synthetic clips — minutes on two cores.
// - quick  seconds-scale sizes: pose only, T = 8, D = 32, one block, 10 epochs on 96 clips (the
//          quick command, the tests and a first look on the dashboard).

/** The synthetic action classes, in label order (makeSynthetic takes the first numClasses). */
export const SYNTH_CLASSES = ['wave', 'clap', 'squat', 'jump', 'kick', 'turn', 'sit-down', 'stand-up'] as const;
/** NTU RGB+D split protocols: cross-subject / cross-view (NTU60), cross-subject / cross-setup (NTU120). */
export const NTU_PROTOCOLS = ['ntu60-xsub', 'ntu60-xview', 'ntu120-xsub', 'ntu120-xset'] as const;
export type NtuProtocol = (typeof NTU_PROTOCOLS)[number];
export const MODALITIES = ['rgb+pose', 'pose'] as const;
export type Modality = (typeof MODALITIES)[number];
/** [recon] joint groups of local joint stride attention: by index stride s_j, or by NTU body part */
export const JOINT_GROUPINGS = ['stride', 'parts'] as const;
export type JointGrouping = (typeof JOINT_GROUPINGS)[number];
/** [recon] classifier on concat(c_rgb, c_pose) or on their sum */
export const HEAD_MODES = ['concat', 'sum'] as const;
export type HeadMode = (typeof HEAD_MODES)[number];
export const SAMPLE_PADDINGS = ['zeros', 'border'] as const;
export type SamplePadding = (typeof SAMPLE_PADDINGS)[number];
/** PySKL's input streams (GenSkeFeat): joints, bones (joint − parent), joint motion, bone motion */
export const FEATS = ['j', 'b', 'jm', 'bm'] as const;
export type Feat = (typeof FEATS)[number];
/** how multi-clip testing averages a sample's clips: softmax probabilities (PySKL's 'prob') or raw scores */
export const AVERAGE_CLIPS = ['prob', 'score'] as const;
export type AverageClips = (typeof AVERAGE_CLIPS)[number];
/** floating-point dtypes the model can be built in */
export type ModelDtype = 'float32' | 'float64';

// ------------------------------------------------------------------ the network

export interface ActionConfig {
  numClasses: number;
  /** joints per body (25 NTU, 13 Penn) */
  joints: number;
  /** bodies stacked along the joint axis (NTU keeps ≤ 2) */
  bodies: number;
  /** channels per joint: 3 (x, y, z) or 2 (x, y), +1 with a confidence channel */
  coordDim: number;
  /** frames T of the pose sequence and of the RGB clip */
  frames: number;
  /** token width D */
  dim: number;
  heads: number;
  mlpRatio: number;
  /** blocks L (the paper repeats its block L times) */
  depth: number;
  /** use the RGB path (false: pose-only mode, the cross-modal tokens and the pose path alone) */
  rgb: boolean;
  /** RGB crop side (pixels) */
  imgSize: number;
  /** [recon] backbone: conv3d channel widths and (t, h, w) strides, one per layer */
  backboneChannels: number[];
  backboneStrides: [number, number, number][];
  backboneKernel: number;
  /** [recon] reference grid G_t×G_h×G_w; null = half the token resolution on each axis */
  grid: [number, number, number] | null;
  /** [recon] offset range s in grid cells: Δ = tanh(·)·s */
  offsetRange: number;
  /** [recon] offset groups: 1 = shared across heads, `heads` = one offset field per head group */
  offsetGroups: number;
  /** false: offsets frozen at zero (the uniform reference grid), for the ablation */
  learnOffsets: boolean;
  /** [recon] padding of the trilinear sampler outside the volume */
  samplePadding: SamplePadding;
  /** [recon] joint groups for local joint stride attention */
  jointGrouping: JointGrouping;
  /** s_j: joints j, j+s_j, … form one group (stride grouping) */
  jointStride: number;
  /** s_t: frames t ≡ r (mod s_t) form one temporal subset */
  temporalStride: number;
  /** [recon] the temporal update of a frame token is added back to each joint of that frame */
  temporalToJoints: boolean;
  /** [recon] classifier on concat(c_rgb, c_pose) or on their sum */
  head: HeadMode;
  dropout: number;
  dtype: ModelDtype;
  /** input streams of the pose channels (PySKL files; ['j'] otherwise), so evaluate rebuilds the same input */
  feats: Feat[];
  /**
   * [recon] per-channel standardisation of the pose input, (x − mean)/std, from the training set's
   * present joints (PySKL files, whose bone and motion streams are an order of magnitude smaller
   * than joints); null: the input as it is (the other readers normalise the body themselves)
   */
  poseStats: { mean: number[]; std: number[] } | null;
}

/** makeConfig's defaults: the CPU-scale network (backbone strides give T' = 8, H' = W' = 6 from 16×48×48). */
export const DEFAULT_CONFIG: ActionConfig = {
  numClasses: 6, joints: 25, bodies: 1, coordDim: 3, frames: 16,
  dim: 64, heads: 4, mlpRatio: 2, depth: 3,
  rgb: true, imgSize: 48, backboneChannels: [16, 32, 64], backboneStrides: [[1, 2, 2], [2, 2, 2], [1, 2, 2]], backboneKernel: 3,
  grid: null, offsetRange: 2, offsetGroups: 1, learnOffsets: true, samplePadding: 'zeros',
  jointGrouping: 'stride', jointStride: 5, temporalStride: 2, temporalToJoints: true,
  head: 'concat', dropout: 0, dtype: 'float32', feats: ['j'], poseStats: null,
};

/** The model of the offsets diagnostic (ours): one block on a 4×16×16 clip, a coarse 2×2×2 grid. */
export const BLOB_MODEL: Partial<ActionConfig> = {
  numClasses: 4, frames: 4, joints: 5, jointStride: 5, imgSize: 16, dim: 16, heads: 2, depth: 1,
  backboneChannels: [8], backboneStrides: [[1, 2, 2]], grid: [2, 2, 2], temporalStride: 1,
};

// ------------------------------------------------------------------ data

export interface SynthOptions {
  frames: number;
  /** number of classes, taken in SYNTH_CLASSES order (2..8) */
  numClasses: number;
  /** view rotation about the vertical axis, ± degrees */
  viewDeg: number;
  /** joint noise σ in metres */
  noise: number;
  /** render stick-figure RGB clips of this side; null: pose only */
  imgSize: number | null;
}
export const SYNTH_DEFAULTS: SynthOptions = { frames: 16, numClasses: 6, viewDeg: 45, noise: 0.01, imgSize: null };

/** The offsets diagnostic (ours): a Gaussian blob of width sigma moving `step` pixels a frame. */
export interface BlobOptions { frames: number; size: number; sigma: number; step: number; noise: number; joints: number }
export const BLOB_DEFAULTS: BlobOptions = { frames: 4, size: 16, sigma: 1.2, step: 1.5, noise: 0.3, joints: 5 };

/** [recon] pose augmentation: rotation about the vertical axis (± degrees), scale range, jitter, temporal crop. */
export interface AugmentOptions { rotateDeg: number; scale: [number, number]; jitter: number; crop: number }
export const AUGMENT_DEFAULTS: AugmentOptions = { rotateDeg: 30, scale: [0.9, 1.1], jitter: 0.01, crop: 0.9 };

// ------------------------------------------------------------------ training

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
  /** gradient-norm clip (torch's clip_grad_norm_ max norm); null: no clipping */
  clip: number | null;
}
/** [recon] cross-entropy with label smoothing 0.1, AdamW (1e-3, weight decay 0.05), cosine schedule, 5% warm-up. */
export const TRAIN_DEFAULTS: TrainOptions = {
  epochs: 30, batchSize: 16, lr: 1e-3, weightDecay: 0.05, warmup: 0.05, labelSmoothing: 0.1, augment: true,
  useVideo: true, seed: 0, clip: 1,
};

// ------------------------------------------------------------------ command presets

/** Defaults of the data parameters (train, evaluate). */
export interface DataDefaults {
  data: string; modality: Modality; frames: number; imgSize: number;
  nTrain: number; nTest: number; numClasses: number; protocol: NtuProtocol; bodies: number;
  /** PySKL files: the split name (xsub → xsub_train / xsub_val, or 'train/test' as written) and the streams */
  split: string; feats: Feat[];
  /** multi-clip testing (PySKL: 10 clips, probabilities averaged); clips apply to samples with a full sequence */
  numClips: number; average: AverageClips;
}
/** The network parameters a command exposes (the rest of ActionConfig follows the data or DEFAULT_CONFIG). */
export type ModelOptions = Pick<ActionConfig, 'dim' | 'heads' | 'depth' | 'mlpRatio' | 'jointGrouping' | 'jointStride' | 'temporalStride' | 'offsetGroups' | 'offsetRange' | 'learnOffsets' | 'head'>;
export type TrainDefaults = Pick<TrainOptions, 'epochs' | 'batchSize' | 'lr' | 'weightDecay' | 'labelSmoothing' | 'augment'>;
/** The offsets diagnostic: blob-task clips and epochs for each of the two models. */
export interface OffsetsDefaults { nTrain: number; nTest: number; epochs: number; batchSize: number; lr: number }
/** The cost sweep: s_t and s_j values, timed forward passes of a pose-only model on a batch of clips. */
export interface CostDefaults { frames: number; temporalStrides: number[]; jointStrides: number[]; repeats: number; batch: number; model: Pick<ActionConfig, 'dim' | 'heads' | 'depth'> }
export interface ClipDefaults { input: string; top: number }

export interface Preset { data: DataDefaults; model: ModelOptions; train: TrainDefaults; offsets: OffsetsDefaults; cost: CostDefaults; clip: ClipDefaults }

const model: ModelOptions = {
  dim: DEFAULT_CONFIG.dim, heads: DEFAULT_CONFIG.heads, depth: DEFAULT_CONFIG.depth, mlpRatio: DEFAULT_CONFIG.mlpRatio,
  jointGrouping: DEFAULT_CONFIG.jointGrouping, jointStride: DEFAULT_CONFIG.jointStride, temporalStride: DEFAULT_CONFIG.temporalStride,
  offsetGroups: DEFAULT_CONFIG.offsetGroups, offsetRange: DEFAULT_CONFIG.offsetRange, learnOffsets: DEFAULT_CONFIG.learnOffsets, head: DEFAULT_CONFIG.head,
};
const train: TrainDefaults = {
  epochs: TRAIN_DEFAULTS.epochs, batchSize: TRAIN_DEFAULTS.batchSize, lr: TRAIN_DEFAULTS.lr, weightDecay: TRAIN_DEFAULTS.weightDecay,
  labelSmoothing: TRAIN_DEFAULTS.labelSmoothing, augment: TRAIN_DEFAULTS.augment,
};
const data: DataDefaults = {
  data: 'synthetic', modality: 'rgb+pose', frames: DEFAULT_CONFIG.frames, imgSize: DEFAULT_CONFIG.imgSize,
  nTrain: 480, nTest: 240, numClasses: SYNTH_DEFAULTS.numClasses, protocol: 'ntu60-xsub', bodies: 1,
  split: 'xsub', feats: ['j'], numClips: 10, average: 'prob',
};
const offsets: OffsetsDefaults = { nTrain: 64, nTest: 64, epochs: 20, batchSize: 16, lr: 3e-3 };
const cost: CostDefaults = {
  frames: DEFAULT_CONFIG.frames, temporalStrides: [1, 2, 4, 8], jointStrides: [1, 5, 25], repeats: 5, batch: 8,
  model: { dim: 32, heads: 2, depth: 1 },
};
const clip: ClipDefaults = { input: 'synthetic:wave', top: 5 };

export const presets: Record<'paper' | 'cpu' | 'quick', Preset> = {
  paper: { data: { ...data, bodies: 2 }, model, train, offsets, cost, clip },
  cpu: { data, model, train, offsets, cost, clip },
  quick: {
    data: { ...data, modality: 'pose', frames: 8, nTrain: 96, nTest: 60 },
    model: { ...model, dim: 32, heads: 2, depth: 1 },
    train: { ...train, epochs: 10, lr: 3e-3, augment: false },
    offsets, cost, clip,
  },
};

/** The CLI's defaults (train, evaluate, predict, explain, offsets, cost); the quick command uses presets.quick. */
export const defaults: Preset = presets.cpu;
