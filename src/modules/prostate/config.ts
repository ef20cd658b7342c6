// prostate — the one source of every default: the names the commands accept, the paper's values
// (the typed API's defaults: trainDetector, pretrainSSL, makeSSLSample, augmentBatch), the
// CPU-scale sizes the commands default to, and the few-second `quick` preset of `demo`.
// commands.ts builds its zod defaults from here; train.ts, pretrain.ts, ssl.ts and augment.ts read
// the same objects. Plain data only: --help and the dashboard's forms read this file without
// loading the engine.

/** MNet variants: the mesh network, or the 2D-only / 3D-only ablation. */
export const VARIANTS = ['mesh', '2d', '3d'] as const;
export type Variant = (typeof VARIANTS)[number];
/** Feature merging units: |a − b|, a + b, channel concatenation. */
export const FMUS = ['sub', 'sum', 'cat'] as const;
/** Phantom T2W spacings z×y×x in mm (the two most common PI-CAI spacings). */
export const PHANTOM_SPACINGS = ['3.0x0.5x0.5', '3.6x0.3x0.3'] as const;
/** Detection map file formats. */
export const MAP_FORMATS = ['nii.gz', 'mha'] as const;
/** Lesion-candidate extraction modes (postprocess.ts). */
export const EXTRACTIONS = ['dynamic', 'dynamic-v2', 'dynamic-fast', 'static'] as const;
/** The rows of `ablation`: the full Z-nnMNet, its ablations, and Z-SSMNet (SSL pre-trained). */
export const ABLATION_VARIANTS = ['mesh', '2d-only', '3d-only', 'no-zonal', 'ssl'] as const;
export type AblationVariant = (typeof ABLATION_VARIANTS)[number];
/** How a volume size is written on the command line: Z×Y×X, e.g. 16x64x64. */
export const SHAPE_PATTERN = /^\d+x\d+x\d+$/;

type Shape = [number, number, number];

/**
 * The paper's values: Z-SSMNet's detector trained as nnU-Net v1 3d_fullres (0.5·focal + 0.5·CE,
 * SGD Nesterov, poly LR, 500 epochs × 250 iterations, clipping at 12) and its Models-Genesis
 * restoration pre-training (SGD 0.1, ×0.5 every 12 epochs, batch 24, early stop after 20 epochs).
 * Patch and batch size of the detector are not published: 16×64×64 and 2 are our choice [recon].
 */
export const PAPER = {
  widths: [32, 48, 64, 80, 96] as [number, number, number, number, number],
  train: {
    iterations: 500 * 250, iterationsPerEpoch: 250, batch: 2, patch: [16, 64, 64] as Shape, lr: 0.01, momentum: 0.99,
    weightDecay: 3e-5, clip: 12, fgRate: 0.33, checkpointEvery: 250, seed: 0, dtype: 'float32' as 'float32' | 'float64',
  },
  /** nnU-Net's augmentation as the detector uses it (augmentBatch); rotation in-plane only [recon]. */
  augment: { rotationRate: 0.2, maxRotationDeg: 30, scaleRate: 0.2, scaleRange: [0.7, 1.4] as [number, number], mirror: true, intensity: true },
  pretrain: {
    epochs: 1000, batch: 24, cube: [16, 64, 64] as Shape, cubesPerCase: 12, lr: 0.1, momentum: 0.9, stepEvery: 12, patience: 20,
    seed: 0, checkpointEvery: 1,
  },
  /** The Models-Genesis transformations of the pretext task (makeSSLSample), as the reference code. */
  ssl: {
    flipRate: 0.4, localRate: 0.5, nonlinearRate: 0.9, paintRate: 0.9, inpaintRate: 0.2, shuffleBoxes: 10000,
    bezierSamples: 100000, referenceQuirk: false,
  },
};

/** The data every data-driven command shares: a PI-CAI folder, or phantoms generated into the run. */
const DATA = { cases: 20, phantomShape: '16x64x64', phantomSpacing: '3.0x0.5x0.5' as (typeof PHANTOM_SPACINGS)[number], fold: 0, lesionVoxels: [40, 400] as [number, number] };
const NET = { widthMult: 0.25, variant: 'mesh' as Variant, zonal: true, fmu: 'sub' as (typeof FMUS)[number] };

/** The commands' defaults: CPU-scale sizes (minutes on 2 cores, phantoms of 16×64×64). */
export const CPU = {
  data: DATA,
  net: NET,
  describe: { widthMult: 1, inChannels: 6, numClasses: 2 },
  phantoms: { positiveRate: 0.5 },
  pretrain: {
    widthMult: NET.widthMult, epochs: 20, batch: 4, cube: '16x64x64', cubesPerCase: PAPER.pretrain.cubesPerCase, lr: PAPER.pretrain.lr,
    patience: PAPER.pretrain.patience, shuffleBoxes: PAPER.ssl.shuffleBoxes, referenceQuirk: false,
    /** fraction of the training cases held out to validate the restoration */
    valFraction: 0.2,
  },
  train: {
    iterations: 300, iterationsPerEpoch: 50, batch: PAPER.train.batch, patch: '16x64x64', lr: PAPER.train.lr,
    momentum: PAPER.train.momentum, augment: true, checkpointEvery: 50,
  },
  detect: { format: 'nii.gz' as (typeof MAP_FORMATS)[number], mirrorTTA: false, extraction: 'dynamic' as (typeof EXTRACTIONS)[number], png: true, volumes: true },
  evaluate: { bootstrap: 200 },
  /** compare-algorithms: random swap patterns of the paired permutation test */
  compare: { iterations: 10_000 },
  ablation: {
    widthMult: 0.125, iterations: 150, patch: '16x64x64', sslEpochs: 4, lr: 0.01, variants: [...ABLATION_VARIANTS] as AblationVariant[],
    /** per variant: 10 poly-LR epochs, batch 2; the SSL variant pre-trains on 4 cubes per case with 2,000 shuffled boxes */
    epochsPerRun: 10, batch: 2, sslBatch: 4, sslCubesPerCase: 4, sslShuffleBoxes: 2000,
  },
};

/** `demo`: a few-second end-to-end run on tiny phantoms (folds 0 and 1 held out). */
export const QUICK = {
  cases: 16, iterations: 60, widthMult: 0.125,
  /** phantoms: T2W voxels [nx, ny, nz] (x fastest, as the phantom generator takes them) */
  phantom: { dims: [32, 32, 8] as Shape, lesionVoxels: [30, 120] as [number, number], positiveRate: 0.5 },
  heldOut: [0, 1],
  /** patch Z×Y×X */
  patch: [8, 32, 32] as Shape,
  lr: 0.05, iterationsPerEpoch: 10, batch: 2, checkpointEvery: 20,
};
