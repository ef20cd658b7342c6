// orfit — the named presets and the constants the schemas need: the one source of every default.
// commands.ts builds its zod defaults from `defaults` (= presets.cpu); the learners' constructors
// take theirs from `learnerDefaults`. Imports nothing (listing and --help load this file).
//
// Presets, after Min, Ahn, Azizan, "One-Pass Learning via Bridging Orthogonal Gradient Descent and
// Recursive Least-Squares", IEEE CDC 2022 (arXiv 2207.13853):
// - paper  the paper's rotated-MNIST regression: a stream of 100 images of one digit sorted by
//          rotation angle, p = 784, memory m = 10, ten runs, vanilla SGD 1000 epochs at step 1e-5,
//          tracked samples 16 (memory-limited figure) and 11 (unlimited figure). The synthetic and
//          nonlinear runs are ours (the nonlinear one at the paper's 784 inputs).
// - cpu    the CLI defaults: the paper's rotated-digit setup (on the bundled UCI digits unless MNIST
//          files are given) and a nonlinear run on 8×8 images so the MLP Jacobians fit a laptop CPU.
// - quick  seconds-scale sizes (the tests and a first look on the dashboard).

/** Every streaming method, by its CLI name (createLearner builds each). */
export const METHODS = ['orfit', 'orfit-unlimited', 'orfit-random', 'orfit-latest', 'orfit-sort', 'one-step-sgd', 'greedy', 'ogd', 'rls', 'kalman', 'ewc', 'a-gem'] as const;
export type Method = (typeof METHODS)[number];

/**
 * Retention rule once more than m directions would be stored:
 * - 'ipca'       the paper's incremental PCA (sequential Karhunen–Loève incremental SVD), general small-SVD form;
 * - 'ipca-sort'  its exact equivalent for ORFit [derived]: keep the m largest ‖ã‖;
 * - 'random'     the paper's ORFit-random: keep m of the m+1 directions uniformly at random (which one is dropped is ours);
 * - 'latest'     the paper's ORFit-latest: keep the m most recent.
 */
export const MEMORY_RULES = ['ipca', 'ipca-sort', 'random', 'latest'] as const;
export type MemoryRule = (typeof MEMORY_RULES)[number];

/** Defaults of the learners' own options (the typed API's constructors and createLearner). */
export const learnerDefaults = {
  /** degenerate-step threshold τ: skip when ‖ã‖ ≤ τ‖a‖ (ours; the paper does not treat this case) */
  tol: 1e-10,
  /** two passes of classical Gram–Schmidt when projecting */
  reorthogonalize: true,
  /** seed of ORFit-random's choices */
  seed: 0,
  /** inner gradient steps of OGD, EWC and A-GEM (learning rate and count are ours) */
  lr: 1e-3,
  innerSteps: 10,
  /** EW-RLS forgetting factor and prior P0 = p0·I: plain RLS with Π = I */
  lambda: 1,
  p0: 1,
  /** Kalman measurement-noise variance and process noise */
  R: 1,
  q: 0,
  /** EWC penalty strength; A-GEM replay buffer size */
  ewcLambda: 1,
  buffer: 10,
};

export type SyntheticConfig = {
  p: number; stream: number; noise: number; memories: number[]; methods: Method[]; p0: number; sgdEpochs: number;
};
export type RotatedDigitsConfig = {
  digit: number; stream: number; size: number; testRotations: number; maxTest: number; runs: number; memory: number;
  methods: Method[]; sgdEpochs: number; sgdLr: number; initStd: number; trackMemoryLimited: number; trackUnlimited: number;
};
export type NonlinearConfig = { hidden: number[]; digit: number; stream: number; size: number; angleScale: number };
export type StreamCsvConfig = { target: string; method: Method; memory: number; lambda: number; p0: number };
export interface Preset { synthetic: SyntheticConfig; rotatedDigits: RotatedDigitsConfig; nonlinear: NonlinearConfig; streamCsv: StreamCsvConfig }

const synthetic: SyntheticConfig = {
  p: 200, stream: 50, noise: 0, memories: [5, 20], methods: ['orfit-unlimited', 'one-step-sgd', 'rls'], p0: 1e6, sgdEpochs: 200,
};
const rotatedDigits: RotatedDigitsConfig = {
  digit: 2, stream: 100, size: 28, testRotations: 5, maxTest: 2000, runs: 10, memory: 10,
  methods: ['orfit', 'orfit-random', 'orfit-latest', 'one-step-sgd', 'greedy', 'orfit-unlimited'],
  sgdEpochs: 1000, sgdLr: 1e-5, initStd: 0.01, trackMemoryLimited: 16, trackUnlimited: 11,
};
const streamCsv: StreamCsvConfig = { target: 'y', method: 'orfit', memory: 20, lambda: 1, p0: 1 };

export const presets: Record<'paper' | 'cpu' | 'quick', Preset> = {
  paper: {
    synthetic, rotatedDigits, streamCsv,
    nonlinear: { hidden: [64, 256, 1024], digit: 2, stream: 100, size: 28, angleScale: 180 },
  },
  cpu: {
    synthetic, rotatedDigits, streamCsv,
    nonlinear: { hidden: [64, 256, 1024], digit: 2, stream: 60, size: 8, angleScale: 180 },
  },
  quick: {
    synthetic: { ...synthetic, p: 60, stream: 20, memories: [5], sgdEpochs: 150 },
    rotatedDigits: {
      ...rotatedDigits, stream: 20, size: 8, testRotations: 2, runs: 2, memory: 3, methods: ['orfit', 'orfit-unlimited', 'greedy'],
      sgdEpochs: 5, trackMemoryLimited: 5, trackUnlimited: 3,
    },
    nonlinear: { hidden: [16, 64], digit: 2, stream: 20, size: 8, angleScale: 180 },
    streamCsv,
  },
};

/** The CLI's and the typed API's defaults. */
export const defaults: Preset = presets.cpu;
