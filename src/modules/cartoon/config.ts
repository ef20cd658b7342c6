// cartoon — the one source of every default: the network's shape, the loss weights, the training
// presets (quick, cpu, paper), and the defaults of `apply`, `evaluate` and `demo`. commands.ts builds
// its zod defaults from here, and the typed API (Cartooner, CartoonTrainer / trainOptions, applyFile,
// controllability, makeScene) reads the same objects, so the CLI and the typed API agree.
// Plain data only: --help and the dashboard's forms read this file without loading the engine.
// Tags: [paper] from Ahn et al. 2023; [recon] our reconstruction where the paper's value was not
// recovered; [ours] a choice of this implementation (see README.md).

/** Texture levels N: branches per controller unit, discriminator heads, the range of α_s and α_a [paper]. */
export const LEVELS = 5;

/**
 * [paper] Side (px) the target cartoons are resized to for texture level k = 1..5 when the training
 * patch is 256 px: stroke thickness follows the target resolution seen by the fixed-window critic.
 * Other patch sizes use the same ratios (data.ts targetSide).
 */
export const TARGET_SIDES_256 = [256, 320, 416, 544, 800] as const;

/** How the stroke-width metric W binarises strokes (evaluate.ts strokeWidth, README). */
export const STROKE_MASKS = ['ink', 'tophat', 'sobel'] as const;
export type StrokeMask = (typeof STROKE_MASKS)[number];

/** The network's shape (model.ts). */
export interface CartoonerConfig {
  /** feature channels of E and the controller */
  channels: number;
  /** branches per controller unit (paper: N = 5) */
  branches: number;
  /** abstraction-unit kernel sizes (paper: {3, 7, 11, 15, 19}) */
  kernels: number[];
  /** LeakyReLU slope */
  slope: number;
  /** [recon] residual f + u around the controller */
  controllerResidual: boolean;
  /** [recon] feed the full-resolution colour-map ab to S_col's last conv as well */
  mapSkip: boolean;
}

/** Weights of the loss terms (losses.ts). */
export interface LossWeights {
  adv: number;
  content: number;
  tv: number;
  color: number;
  /** [ours] paired L1 on synthetic pairs (0: the paper's unpaired losses only) */
  paired: number;
  /** [ours] weight of pairedGradLoss (0: off) */
  pairedGrad?: number;
}

/**
 * [recon] The paper's loss weights were not recovered: adv 1, content 10 (CartoonGAN's ω), tv 1e-4,
 * color 1 is our reading. The CPU presets tune content down to 2 and add the [ours] paired term 20
 * (synthetic data only), so the controls are learned within minutes on a CPU.
 */
export const PAPER_WEIGHTS: LossWeights = { adv: 1, content: 10, tv: 1e-4, color: 1, paired: 0, pairedGrad: 0 };
export const DEFAULT_WEIGHTS: LossWeights = { adv: 1, content: 2, tv: 1e-4, color: 1, paired: 20, pairedGrad: 0 };

/** Everything `cartoon train` sets: data, network width, schedule, optimiser and loss weights. */
export interface TrainPreset {
  /** training patch side (px, a multiple of 4) */
  size: number;
  /** procedural scenes in the pool */
  scenes: number;
  /** [ours] photo augmentation of the procedural pool */
  augment: boolean;
  /** images per step (split over the level groups) */
  batch: number;
  /** [ours] texture-level groups per step (5: every branch every step) */
  groups: number;
  /** stage 1: all but the abstraction unit, L_texture + L_color [paper] */
  stage1Steps: number;
  /** stage 2: the abstraction unit only, L_texture [paper] */
  stage2Steps: number;
  /** Adam learning rate */
  lr: number;
  /** [ours] learning rate of the abstraction unit in stage 2 (absent: lr) */
  stage2Lr?: number;
  /** Adam β [recon: White-box's (0.5, 0.99)] */
  betas: [number, number];
  /** feature channels of E and the controller */
  channels: number;
  /** width of the multi-texture discriminator's first layer */
  discWidth: number;
  /** spectral normalisation in the discriminator [recon] */
  spectralNorm: boolean;
  weights: LossWeights;
  /** steps between checkpoints */
  checkpointEvery: number;
}

/** The CPU-scale default: what `cartoon train` runs with no options (minutes on 2 cores). */
const cpu: TrainPreset = {
  size: 64, scenes: 200, augment: false, batch: 10, groups: LEVELS, stage1Steps: 500, stage2Steps: 250,
  lr: 5e-4, betas: [0.5, 0.99], channels: 32, discWidth: 32, spectralNorm: true, weights: DEFAULT_WEIGHTS, checkpointEvery: 50,
};

/**
 * Named presets. quick: the tests' scale (seconds). cpu: the default. paper: the paper's unpaired
 * objective alone (no paired term, [recon] weights) on the 64-channel network at the paper's 256-px
 * patch scale (its target sides unscaled); the step counts are ours (the paper's were not recovered).
 */
export const PRESETS = {
  quick: { ...cpu, size: 32, scenes: 5, batch: 5, stage1Steps: 12, stage2Steps: 4, lr: 2e-3, channels: 8, checkpointEvery: 4 },
  cpu,
  paper: { ...cpu, size: 256, channels: 64, weights: PAPER_WEIGHTS },
} satisfies Record<string, TrainPreset>;
export type PresetName = keyof typeof PRESETS;

/** Defaults of `cartoon train` and of the typed trainer (train.ts DEFAULT_TRAIN). */
export const TRAIN: TrainPreset = PRESETS.cpu;

/**
 * The network's default shape: N, K [paper]; the width `cartoon train` builds by default (the shipped
 * model's); residual and colour-map skip [recon].
 */
export const DEFAULT_CONFIG: CartoonerConfig = {
  channels: TRAIN.channels, branches: LEVELS, kernels: [3, 7, 11, 15, 19], slope: 0.2, controllerResidual: true, mapSkip: true,
};

/** [recon] SLIC segments of the colour map at 256 px (White-box's count), scaled to the image (raster.ts defaultSegments). */
export const SEGMENTS_AT_256 = 200;

/** Defaults of `cartoon apply` and of applyFile. */
/**
 * Defaults of `cartoon apply` and of applyFile. Photos keep their full resolution unless they exceed
 * the pixel budget `maxPixels` (4 MP: about 10 s and a few GB of activations for the learned model on
 * CPU), in which case they are scaled down to fit it, and the summary and log say so. `maxSide`
 * (no default) bounds the longer side as well.
 */
export const APPLY = { stroke: 3, abstraction: 2, hueShift: 0, maxSide: undefined as number | undefined, maxPixels: 4_000_000, depth: '8' as OutputDepth };

/**
 * [ours] The dashboard's live preview of `apply` (its stroke / abstraction / hue controls): the photo
 * scaled down to this pixel budget (0.1 MP, about 316² px), so that one preview takes about a second
 * on one CPU thread with the shipped model once the model is loaded and the colour map cached.
 */
export const PREVIEW = { maxPixels: 100_000 };

/**
 * Output depth of `cartoon apply`: '8' 8-bit PNG/JPEG; '16' 16-bit PNG (round(v·65535)); 'float'
 * .npy float32 [H, W, 3] sRGB in [0, 1] (the decoder's output before any quantization).
 */
export const OUTPUT_DEPTHS = ['8', '16', 'float'] as const;
export type OutputDepth = (typeof OUTPUT_DEPTHS)[number];

/** Defaults of `cartoon evaluate` and of controllability / strokeWidth. */
export const EVALUATE = { images: 8, size: 64, strokeMask: 'ink' as StrokeMask };

/** Defaults of `cartoon demo` and of makeScene: the procedural scene side (px). */
export const SCENE_SIZE = 64;
