// nowcast — the one source of every default: the names the commands accept, the geometries, the
// papers' recipe and the CPU-scale presets. commands.ts builds its zod defaults from here, and the
// typed API (DEFAULT_TRAIN, DEFAULT_LOSS, DEFAULT_EVAL, buildModel, parameterCounts,
// defaultSynthConfig, ablateDefaults) reads the same objects, so the CLI and the typed API agree.
// Plain data only: --help and the dashboard's forms read this file without loading the engine.
//
// Paper A: Seo et al., "Domain Generalization Strategy to Train Classifiers Robust to Spatial-Temporal
// Shift", arXiv 2212.02968 (the recipe). Paper B: Seo et al., "Simple Baseline for Weather Forecasting
// Using Spatiotemporal Context Aggregation Network" (SIANet), arXiv 2212.02952.
//
// Presets (`presets` below):
// - paper  the papers' full-scale values (252² input, 32 slots, start width 32, AdamW 1e-4, …).
// - tiny   the `train` command's CPU defaults (24² input, 4 → 4 slots, f = 4): seconds per step.
// - quick  `ablate --mode quick`: the ablation at CI size, one seed.
// - s      `ablate --mode full`: the ablation at the S scale (48² input, 4 → 8 slots), three seeds.
// Why the CPU sizes are what they are, with the measurements behind them: README.md.

// ------------------------------------------------------------------ geometry
export interface Geometry {
  /** input grid side (coarse satellite pixels) */
  inSize: number;
  /** side of the central input block the radar target covers */
  cropSize: number;
  /** one input pixel = scale × scale output pixels */
  scale: number;
  /** input slots */
  tIn: number;
  /** output slots */
  tOut: number;
}

/** The competition geometry: 252² input, central 42² block (rows 105…146), ×6 → 252² target, 4 → 32 slots. */
export const FULL: Geometry = { inSize: 252, cropSize: 42, scale: 6, tIn: 4, tOut: 32 };
/** The "S" CPU geometry: 48² input, central 8² block (rows 20…27), ×6 → 48² target, 4 → 8 slots (the competition's ratios). */
export const SMALL: Geometry = { inSize: 48, cropSize: 8, scale: 6, tIn: 4, tOut: 8 };
/** A CI-sized geometry for tests: 24² input, central 4² block (rows 10…13), ×6 → 24² target, 4 → 4 slots. */
export const TINY: Geometry = { inSize: 24, cropSize: 4, scale: 6, tIn: 4, tOut: 4 };

export const GEOMETRIES = { full: FULL, s: SMALL, tiny: TINY } as const;
export type GeometryName = keyof typeof GEOMETRIES;
export const GEOMETRY_NAMES = ['tiny', 's', 'full'] as const satisfies readonly GeometryName[];

// ------------------------------------------------------------------ W4C22 names
/** The 11 MSG/SEVIRI channels in file order (W4C22 HRIT files). */
export const CHANNELS = ['IR_016', 'IR_039', 'IR_087', 'IR_097', 'IR_108', 'IR_120', 'IR_134', 'VIS006', 'VIS008', 'WV_062', 'WV_073'] as const;
export type ChannelName = (typeof CHANNELS)[number];
/** Channels used at CPU scale: IR_108, IR_039, VIS006, WV_062. */
export const FOUR_CHANNELS: ChannelName[] = ['IR_108', 'IR_039', 'VIS006', 'WV_062'];

export const CORE_REGIONS = ['boxi_0015', 'boxi_0034', 'boxi_0076', 'roxi_0004', 'roxi_0005', 'roxi_0006', 'roxi_0007'] as const;
export const TRANSFER_REGIONS = ['roxi_0008', 'roxi_0009', 'roxi_0010'] as const;
/** Years of the W4C22 training data (the transfer test adds 2021). */
export const TRAIN_YEAR_NUMBERS = [2019, 2020];

// ------------------------------------------------------------------ method names
export const MODELS = ['sianet', 'unet3d'] as const;
export type ModelName = (typeof MODELS)[number];
/** SIANet's block: the released code's factorised block, or paper B's LCAM. */
export const BLOCK_TYPES = ['factorized', 'lcam'] as const;
export type SianetBlock = (typeof BLOCK_TYPES)[number];
/** Training augmentation: none, paper A's direction-aware policy, its inverse, random geometric ("existing strategy"). */
export const AUGMENT_MODES = ['none', 'policy', 'inverse', 'random'] as const;
export type AugmentMode = (typeof AUGMENT_MODES)[number];
/**
 * Smoothness loss: 'paper' β_s·L_spatial + β_t·L_temporal (paper A eqs. 3–5); 'released' 1e-6·Σ(ΔP)² literally;
 * 'released-scaled' the same at its competition per-element weight.
 */
export const SMOOTH_MODES = ['none', 'paper', 'released', 'released-scaled'] as const;
export type SmoothMode = (typeof SMOOTH_MODES)[number];
/** Test-time ensembles: none; paper = {id, vflip} (paper A's run); released = {id, rot180} (the team's predictor); policy = {id} ∪ the 5 policy transforms. */
export const TTA_PRESETS = ['none', 'paper', 'released', 'policy'] as const;
export type TtaPreset = (typeof TTA_PRESETS)[number];
export const AVERAGES = ['prob', 'logit'] as const;
export type Average = (typeof AVERAGES)[number];
/** Masked radar pixels: the reference convention (prediction and label set to 0) or strict exclusion. */
export const MASK_MODES = ['zero', 'exclude'] as const;
export type MaskMode = (typeof MASK_MODES)[number];

// ------------------------------------------------------------------ the papers' values
/**
 * The papers' full-scale recipe (papers A and B train identically). Start width 32 is the released
 * code's and the organisers' baseline config's; paper B's Table 4 calls it "init filter size" 64.
 */
export const PAPER = {
  geometry: 'full' as GeometryName,
  channels: [...CHANNELS] as ChannelName[],
  model: 'sianet' as ModelName,
  blockType: 'factorized' as SianetBlock,
  startFilters: 32,
  /** U-Net levels */
  depth: 5,
  /** STR hidden width */
  strHidden: 64,
  dropout: 0.4,
  /** AdamW */
  lr: 1e-4,
  weightDecay: 0.1,
  /** the organisers' baseline config (the 3D U-Net rows) */
  baselineWeightDecay: 0.02,
  /** gradient clipping by value (reference config) */
  clipValue: 2,
  /** LR × lrDecay when the validation loss does not improve for more than `patience` evaluations */
  lrDecay: 0.9,
  patience: 1,
  /** per GPU (× 8 A100) */
  batchSize: 16,
  epochs: 90,
  augment: 'policy' as AugmentMode,
  smooth: 'paper' as SmoothMode,
  /** β_s = β_t of paper A eq. 3 */
  beta: 0.1,
  /** BCE positive weight (paper B: "4 positive weights") */
  posWeight: 4,
  /** deep-supervision weight α on y_early (paper B eq. 4) */
  alpha: 0.2,
  maskMode: 'zero' as MaskMode,
  /** rain ⇔ sigmoid(logit) ≥ τ */
  tau: 0.5,
  /** paper A's reported test-time ensemble, {id, vflip} */
  tta: 'paper' as TtaPreset,
  /** the team's released predictor: {id, rot180}, logits averaged, τ 0.48 */
  released: { tta: 'released' as TtaPreset, average: 'logit' as Average, tau: 0.48 },
};

// ------------------------------------------------------------------ training (the `train` command and the typed API)
export interface TrainPreset {
  geometry: GeometryName;
  channels: ChannelName[];
  model: ModelName;
  blockType: SianetBlock;
  startFilters: number;
  depth: number;
  strHidden: number;
  dropout: number;
  steps: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** gradient clipping by value; 0 turns it off */
  clipValue: number;
  lrDecay: number;
  patience: number;
  /** validation loss every N steps; 0: never (no LR schedule) */
  evalEvery: number;
  /** a resumable checkpoint every N steps; 0: only at the end */
  checkpointEvery: number;
  /** batches of the post-training BatchNorm re-estimation; 0: keep the EMA statistics */
  recalibrateBn: number;
  augment: AugmentMode;
  smooth: SmoothMode;
  betaSpatial: number;
  betaTemporal: number;
  posWeight: number;
  alpha: number;
  maskMode: MaskMode;
  /** threshold of the frames and the quick evaluation after training */
  tau: number;
  years: number[];
}

/**
 * `train` and the typed API's DEFAULT_TRAIN / DEFAULT_LOSS: the papers' recipe at the tiny CPU size,
 * sized so that the quick run visibly learns in well under a minute on 2 cores. It used to be 40
 * steps at batch 4, lr 1e-2, BatchNorm EMA kept: the loss swung 0.5–2.2 without trend and the
 * prediction was uniform, because (1) 40 steps leave the STR's momentum-0.01 BatchNorm EMA 67% at its
 * (0, 1) init, so eval-mode outputs were the init statistics' (now re-estimated over 8 batches after
 * training, as the quick ablation does); (2) lr 1e-2 at batch 4 made the per-batch loss dominated by
 * how much rain each batch happened to hold (posWeight 4); (3) the frames showed the first
 * validation sample, which was dry. README.md, "The quick train run", has the measurements.
 */
export const TRAIN: TrainPreset = {
  geometry: 'tiny', channels: FOUR_CHANNELS, model: PAPER.model, blockType: PAPER.blockType,
  startFilters: 4, depth: 3, strHidden: 8, dropout: 0.1,
  steps: 240, batchSize: 8, lr: 3e-3, weightDecay: PAPER.weightDecay, clipValue: PAPER.clipValue, lrDecay: PAPER.lrDecay, patience: PAPER.patience,
  evalEvery: 40, checkpointEvery: 80, recalibrateBn: 8,
  augment: PAPER.augment, smooth: PAPER.smooth, betaSpatial: PAPER.beta, betaTemporal: PAPER.beta,
  posWeight: PAPER.posWeight, alpha: PAPER.alpha, maskMode: PAPER.maskMode,
  tau: PAPER.tau, years: TRAIN_YEAR_NUMBERS,
};

/** `train --init`: by default every key and shape of the model must be in the file. */
export const TRAIN_INIT = { strict: true };

/** In-memory synthetic benchmark of `train` when no data root is given. */
export const TRAIN_BENCH = { coreRegions: 2, transferRegions: 1, trainDays: 1, slotsPerDay: 48, testSeqs: 3, trainStride: 2 };

// ------------------------------------------------------------------ evaluation and prediction
export const EVAL = { split: 'val' as 'val' | 'test', tta: 'none' as TtaPreset, average: 'prob' as Average, tau: PAPER.tau, maskMode: PAPER.maskMode, batchSize: 8, years: TRAIN_YEAR_NUMBERS };
/**
 * The (year, regions) cells of each Stage 2 leaderboard submission (the competition README): core,
 * the 7 core regions in 2019 and 2020; transfer, the 3 transfer regions in 2019 and 2020 and all 10
 * in 2021.
 */
export const CHALLENGES = {
  core: [{ year: 2019, regions: [...CORE_REGIONS] }, { year: 2020, regions: [...CORE_REGIONS] }],
  transfer: [
    { year: 2019, regions: [...TRANSFER_REGIONS] }, { year: 2020, regions: [...TRANSFER_REGIONS] },
    { year: 2021, regions: [...CORE_REGIONS, ...TRANSFER_REGIONS] },
  ],
} as const satisfies Record<string, readonly { year: number; regions: readonly string[] }[]>;
export const CHALLENGE_NAMES = ['core', 'transfer'] as const;

/** `predict` writes the submission as the team's released predictor did. */
export const PREDICT = { split: 'test' as 'test' | 'heldout', ...PAPER.released, years: TRAIN_YEAR_NUMBERS, gzip: false };

// ------------------------------------------------------------------ describe and synth
/** `describe`: parameter counts at the full geometry for these start widths, with the paper's STR width. */
export const DESCRIBE = { widths: [8, 16, 32, 64], inChannels: CHANNELS.length, tIn: FULL.tIn, tOut: FULL.tOut, strHidden: PAPER.strHidden };

/** `synth` (the files) and the generator's own defaults (defaultSynthConfig). */
export const SYNTH = {
  command: { geometry: 'tiny' as GeometryName, trainDays: 1, slotsPerDay: 96, valSeqs: 2, testSeqs: 4, coreRegions: 2, transferRegions: 1 },
  generator: { slotsPerDay: 96, trainDays: 2, valSeqs: 6, testSeqs: 6, intensity: 1, gamma: 1.5, maskFraction: 0.005 },
};

// ------------------------------------------------------------------ the ablation (paper A's table)
export interface AblationConfig {
  name: string;
  model: ModelName;
  augment: AugmentMode;
  smooth: boolean;
  tta: TtaPreset;
  /** reuse the trained model of another config (GAE changes only the test time) */
  sameModelAs?: string;
}

const ROWS = [
  { name: 'baseline 3D U-Net', model: 'unet3d', augment: 'none', smooth: false, tta: 'none' },
  { name: 'SIANet', model: 'sianet', augment: 'none', smooth: false, tta: 'none' },
  { name: '+ STL', model: 'sianet', augment: 'none', smooth: true, tta: 'none' },
  { name: '+ STL + AP', model: 'sianet', augment: 'policy', smooth: true, tta: 'none' },
  // GAE as in paper A's reported run, {identity, vertical flip}
  { name: '+ STL + AP + GAE', model: 'sianet', augment: 'policy', smooth: true, tta: 'paper', sameModelAs: '+ STL + AP' },
  { name: 'random geometric aug', model: 'sianet', augment: 'random', smooth: true, tta: 'none' },
  { name: 'inverse policy', model: 'sianet', augment: 'inverse', smooth: true, tta: 'none' },
  // not a row of paper A's table: the same model under the full-policy ensemble ({id} ∪ 5 transforms)
  { name: '+ STL + AP + GAE (policy preset)', model: 'sianet', augment: 'policy', smooth: true, tta: 'policy', sameModelAs: '+ STL + AP' },
] as const satisfies readonly AblationConfig[];
/** Paper A's ablation rows plus the organisers' baseline. */
export const ABLATION: readonly AblationConfig[] = ROWS;
export type AblationName = (typeof ROWS)[number]['name'];
/** The rows' names, for `ablate --configs`. */
export const ABLATION_NAMES = ROWS.map((c) => c.name) as [AblationName, ...AblationName[]];

export const ABLATE_MODES = ['quick', 'full'] as const;
export type AblateMode = (typeof ABLATE_MODES)[number];

export interface BenchOptions {
  geometry: GeometryName;
  coreRegions: number;
  transferRegions: number;
  trainDays: number;
  slotsPerDay: number;
  testSeqs: number;
  trainStride: number;
  seed: number;
}

export interface AblateOptions {
  mode: AblateMode;
  seeds: number[];
  bench: Omit<BenchOptions, 'seed'>;
  steps: number;
  batchSize: number;
  lr: number;
  startFilters: number;
  depth: number;
  strHidden: number;
  dropout: number;
  /** threshold τ, or 'tuned': per trained model and ensemble, the τ maximising core validation mIoU (paper B's tuned threshold) */
  tau: number | 'tuned';
  /** learning-rate factor for the 3D U-Net baseline (1 = SIANet's lr) */
  baselineLrFactor: number;
  /** training steps of the 3D U-Net baseline; absent: `steps` */
  baselineSteps?: number;
  /** weight decay of the baseline (organisers' config 0.02) and of SIANet (papers A/B 0.1) */
  baselineWeightDecay: number;
  weightDecay: number;
  /** smoothness-loss variant of the '+ STL' rows */
  smooth: Exclude<SmoothMode, 'none'>;
  /** β_s = β_t of paper A eqs. 3–5 in those rows (the released variants carry their own weight) */
  beta: number;
  /** batches for the post-training BatchNorm re-estimation; 0: keep the EMA statistics */
  recalibrateBn: number;
  /** the rows to run; absent: all of ABLATION */
  configs?: string[];
}

/**
 * The two ablation modes. quick: CI size (tiny geometry, 1 seed; the baseline at lr × 0.3, and the
 * precise-BN re-estimation because 120 steps leave the STR's momentum-0.01 EMA 30% at its init).
 * full: the S scale (depth 4, 400 SIANet steps, the baseline 800 steps at lr × 0.4, BatchNorm EMA).
 * The measurements behind each choice: README.md, "The ablation presets".
 */
export const ABLATE: Record<AblateMode, Omit<AblateOptions, 'configs'>> = {
  quick: {
    mode: 'quick', seeds: [0],
    bench: { geometry: 'tiny', coreRegions: 3, transferRegions: 2, trainDays: 2, slotsPerDay: 48, testSeqs: 12, trainStride: 2 },
    steps: 120, batchSize: 6, lr: 1e-2, startFilters: 4, depth: 3, strHidden: 8, dropout: 0.1, tau: PAPER.tau, baselineLrFactor: 0.3, recalibrateBn: 8,
    baselineWeightDecay: PAPER.baselineWeightDecay, weightDecay: PAPER.weightDecay, smooth: 'paper', beta: PAPER.beta,
  },
  full: {
    mode: 'full', seeds: [0, 1, 2],
    bench: { geometry: 's', coreRegions: 7, transferRegions: 3, trainDays: 2, slotsPerDay: 96, testSeqs: 12, trainStride: 2 },
    steps: 400, batchSize: 8, lr: 5e-3, startFilters: 8, depth: 4, strHidden: 16, dropout: 0.2, tau: PAPER.tau,
    baselineLrFactor: 0.4, baselineSteps: 800, recalibrateBn: 0,
    baselineWeightDecay: PAPER.baselineWeightDecay, weightDecay: PAPER.weightDecay, smooth: 'paper', beta: PAPER.beta,
  },
};

/** The named presets in one place. */
export const presets = { paper: PAPER, tiny: TRAIN, quick: ABLATE.quick, s: ABLATE.full };
