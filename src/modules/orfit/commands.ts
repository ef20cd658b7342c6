// orfit's commands: the parameter schemas (defaults from config.ts) and a run that imports the
// implementation (experiments.ts) only when the command runs.
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import { METHODS, defaults } from './config.ts';

const impl = () => import('./experiments.ts');

/** --w0: a number (every weight set to it) or a file (CSV row / .safetensors); numbers are not paths. */
const w0Param = (what: string) => z.string().optional()
  .describe(`initial weights w0 of ${what}: a number (scalar fill) or a file — CSV with one row of p numbers (optional header), or .safetensors holding a tensor 'w' (e.g. a learner.safetensors); default 0`)
  .meta({ path: 'input', notPath: '^\\s*[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?\\s*$' });

const methodList = (what: string) => z.array(z.enum(METHODS)).min(1).describe(`${what}, comma-separated (${METHODS.join(', ')})`);

const s = defaults.synthetic;
export const syntheticParams = z.object({
  p: z.number().int().min(2).max(20000).default(s.p).describe('input dimension = number of parameters'),
  stream: z.number().int().min(1).max(5000).default(s.stream).describe('stream length K (p ≥ K for exact interpolation)'),
  noise: z.number().min(0).default(s.noise).describe('label noise standard deviation'),
  memories: z.array(z.number().int().min(0)).min(1).default(() => [...s.memories]).describe('memory limits m for ORFit with IPCA, comma-separated'),
  methods: methodList('extra methods').default(() => [...s.methods]),
  p0: z.number().positive().default(s.p0).describe('RLS / Kalman prior P0 = p0·I (large p0 approaches ORFit)'),
  sgdEpochs: z.number().int().min(0).max(100000).default(s.sgdEpochs).describe('epochs of cyclic multi-pass SGD from w0 (step 1/max‖x‖²) compared to the ORFit solution (0 runs none)'),
  w0: w0Param('every learner (the min-norm reference becomes w0 + X⁺(Y − X w0))'),
});
export type SyntheticParams = z.infer<typeof syntheticParams>;

export const synthetic = defineCommand({
  name: 'synthetic',
  description: 'Over-parameterized linear regression [ours]: ORFit interpolates every seen point and lands on the min-norm solution (the paper\'s Theorem 3)',
  quick: true,
  params: syntheticParams,
  metrics: [
    { name: 'maxResidualSeen', label: 'max residual on seen points', x: 'step', scale: 'log', series: 'method', group: 'fit of seen points' },
    { name: 'rmseSeen', label: 'RMSE on seen points', x: 'step', scale: 'log', series: 'method', group: 'fit of seen points' },
    { name: 'relDistMinNorm', label: 'relative distance to the min-norm interpolant', x: 'step', scale: 'log', series: 'method' },
    { name: 'testRmse', label: 'test RMSE', x: 'step', scale: 'linear', series: 'method' },
    { table: 'sgd', name: 'relDistToOrfit', label: 'cyclic SGD: relative distance to ORFit', x: 'epoch', scale: 'log' },
  ],
  run: async (p, ctx) => (await impl()).synthetic(p, ctx),
});

const r = defaults.rotatedDigits;
export const rotatedDigitsParams = z.object({
  digitsCsv: z.string().optional().describe('UCI digits CSV (64 pixels + label; default: the bundled copy)').meta({ path: 'input' }),
  mnistImages: z.string().optional().describe('MNIST training images, IDX (e.g. train-images-idx3-ubyte[.gz]); overrides the digits CSV').meta({ path: 'input' }),
  mnistLabels: z.string().optional().describe('MNIST training labels, IDX').meta({ path: 'input' }),
  mnistTestImages: z.string().optional().describe('MNIST test images, IDX (optional: held-out training images otherwise)').meta({ path: 'input' }),
  mnistTestLabels: z.string().optional().describe('MNIST test labels, IDX').meta({ path: 'input' }),
  digit: z.number().int().min(0).max(9).default(r.digit).describe('which digit class forms the stream'),
  stream: z.number().int().min(2).max(2000).default(r.stream).describe('stream length K'),
  size: z.number().int().min(4).max(64).default(r.size).describe('image side after bilinear resize (28 → p = 784 as in the paper)'),
  testRotations: z.number().int().min(1).max(50).default(r.testRotations).describe('random rotations per held-out image'),
  maxTest: z.number().int().min(1).default(r.maxTest).describe('cap on the number of test inputs'),
  runs: z.number().int().min(1).max(100).default(r.runs).describe('runs with different w0 and rotations (the paper: 10)'),
  memory: z.number().int().min(1).default(r.memory).describe('memory m of the memory-limited methods (the paper: 10)'),
  methods: methodList('streaming methods').default(() => [...r.methods]),
  sgdEpochs: z.number().int().min(0).max(100000).default(r.sgdEpochs).describe('vanilla multi-pass SGD epochs (0 runs none; the paper: 1000)'),
  sgdLr: z.number().positive().default(r.sgdLr).describe('vanilla SGD step size (the paper: 1e-5)'),
  initStd: z.number().min(0).default(r.initStd).describe('w0 ~ N(0, initStd²) [recon: the paper does not state its init]'),
  trackMemoryLimited: z.number().int().min(1).default(r.trackMemoryLimited).describe('tracked stream sample for the memory-limited figure (the paper: 16th)'),
  trackUnlimited: z.number().int().min(1).default(r.trackUnlimited).describe('tracked stream sample for the unlimited figure (the paper: 11th)'),
});
export type RotatedDigitsParams = z.infer<typeof rotatedDigitsParams>;

export const rotatedDigits = defineCommand({
  name: 'rotated-digits',
  description: "The paper's rotated-digit regression: predict the rotation angle from a one-pass stream sorted by angle",
  resumable: true,
  params: rotatedDigitsParams,
  metrics: [
    { name: 'testRmse', label: 'test RMSE', x: 'step', scale: 'linear', series: ['method', 'run'] },
    { name: 'seenRmse', label: 'RMSE on seen digits', x: 'step', scale: 'linear', series: ['method', 'run'] },
    { name: 'trackedError', label: 'error on the tracked digit', x: 'step', scale: 'linear', series: ['method', 'run'] },
  ],
  run: async (p, ctx) => (await impl()).rotatedDigits(p, ctx),
});

const n = defaults.nonlinear;
export const nonlinearParams = z.object({
  hidden: z.array(z.number().int().min(1)).min(1).default(() => [...n.hidden]).describe('hidden widths H, comma-separated'),
  digitsCsv: z.string().optional().describe('UCI digits CSV (default: the bundled copy)').meta({ path: 'input' }),
  digit: z.number().int().min(0).max(9).default(n.digit).describe('digit class of the stream'),
  stream: z.number().int().min(2).max(500).default(n.stream).describe('stream length K'),
  size: z.number().int().min(4).max(28).default(n.size).describe('image side (8 keeps p small enough for CPU; 28 gives the paper\'s 784 inputs)'),
  angleScale: z.number().positive().default(n.angleScale).describe('labels are angle / angleScale (O(1) targets for the tanh net) [ours]'),
});
export type NonlinearParams = z.infer<typeof nonlinearParams>;

export const nonlinear = defineCommand({
  name: 'nonlinear',
  description: 'ORFit on a two-layer tanh MLP [ours; the paper\'s Theorem 5 setting]: linearized residual is zero by construction, the true residual shrinks as the width grows',
  params: nonlinearParams,
  run: async (p, ctx) => (await impl()).nonlinear(p, ctx),
});

const c = defaults.streamCsv;
export const streamCsvParams = z.object({
  file: z.string().describe('CSV with a header row, numeric columns').meta({ path: 'input' }),
  target: z.string().default(c.target).describe('name of the label column'),
  method: z.enum(METHODS).default(c.method).describe('streaming method'),
  memory: z.number().int().min(1).default(c.memory).describe('memory m for the memory-limited methods'),
  lambda: z.number().min(0).max(1).default(c.lambda).describe('RLS forgetting factor'),
  p0: z.number().positive().default(c.p0).describe('RLS / Kalman prior P0 = p0·I'),
  w0: w0Param('the linear model (CSV columns are matched to the features by name when it has a header)'),
  predict: z.string().optional().describe('CSV of held-out rows (same feature columns by name; the target column optional): predictions of the final learner go to heldout-predictions.csv').meta({ path: 'input' }),
});
export type StreamCsvParams = z.infer<typeof streamCsvParams>;

export const streamCsv = defineCommand({
  name: 'stream-csv',
  description: 'Stream the rows of a numeric CSV once through a learner; report prequential error and error on past points',
  positional: ['file'],
  params: streamCsvParams,
  run: async (p, ctx) => (await impl()).streamCsv(p, ctx),
});

registerModule({
  name: 'orfit',
  title: 'ORFit: one-pass learning',
  description: 'Orthogonal Recursive Fitting: fit each streamed point exactly while leaving earlier predictions unchanged; memory-bounded with incremental PCA; RLS/OGD/SGD baselines.',
  papers: ['Y. Min, K. Ahn, N. Azizan. One-Pass Learning via Bridging Orthogonal Gradient Descent and Recursive Least-Squares. IEEE CDC 2022 (arXiv 2207.13853)'],
  commands: [synthetic, rotatedDigits, nonlinear, streamCsv],
});
