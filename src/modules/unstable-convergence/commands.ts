// unstable-convergence commands: Ahn, Zhang & Sra, "Understanding the unstable convergence of
// gradient descent" (ICML 2022), on the edge-of-stability setting of Cohen et al. (ICLR 2021).
// Schemas and descriptions live here, defaults come from config.ts; each run imports its
// implementation (experiments.ts) when it runs.
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import { defaults, DATASETS, LOSSES, MOMENTA, ARCH_PATTERN, OBJECTIVES, CIFAR_PATTERN, CIFAR_LAYOUTS } from './config.ts';

const impl = () => import('./experiments.ts');

const D = defaults.data;
/** the training data, the network and the loss */
const dataParams = {
  dataset: z.union([z.enum(DATASETS), z.string().regex(CIFAR_PATTERN, 'expected a data set name or cifar10-<N>k[-<c>cls]')]).default(D.dataset)
    .describe('training data: synthetic (chebyshev-k-20, linear-50-50, gmm) or real (digits bundled; cifar10, cifar10-<N>k[-<c>cls] e.g. cifar10-5k with dataRoot; mnist needs dataPath)'),
  nTrain: z.number().int().min(1).optional().describe('keep the first N training examples (omitted: all; gmm: the number of points, omitted: 1000)'),
  dataPath: z.string().min(1).optional().describe('cifar10: comma-separated binary batches; mnist: "images.idx3-ubyte,labels.idx1-ubyte" (.gz ok); digits: CSV (omitted: the bundled copy)').meta({ path: 'input', pathList: true }),
  dataRoot: z.string().min(1).optional().describe('cifar10*: the folder holding cifar-10-batches-bin or cifar-10-batches-py as released (or the batches themselves)').meta({ path: 'input' }),
  layout: z.enum(CIFAR_LAYOUTS).default(D.layout).describe('cifar10*: which release layout to read under dataRoot (auto: binary if present, else the Python pickles)'),
  gmmClasses: z.number().int().min(2).max(100).default(D.gmmClasses).describe('Gaussian mixture: number of classes'),
  gmmDim: z.number().int().min(1).max(4096).default(D.gmmDim).describe('Gaussian mixture: input dimension'),
  arch: z.string().regex(ARCH_PATTERN, 'expected regression, deeplinear, fc-{relu,elu,tanh,hardtanh,softplus}[-depthK][-wW], cnn[-bn|-avgpool]-{relu,elu,tanh}, vgg11[-bn] or resnet32').default(D.arch)
    .describe('network (Cohen et al.\'s archs.py): regression, deeplinear, fc-{relu,elu,tanh,hardtanh,softplus}[-depthK][-wW], cnn[-bn|-avgpool]-{relu,elu,tanh}, vgg11[-bn], resnet32'),
  loss: z.enum(LOSSES).default(D.loss).describe('loss: mse (0.5·‖o−t‖², one-hot targets for classes), ce, logistic'),
};

const R = defaults.run;
/** the length and the optimizer of each GD run */
const runParams = {
  time: z.number().positive().default(R.time).describe('run length in time units η·steps (used unless steps is given)'),
  steps: z.number().int().min(1).optional().describe('GD steps per run; when given, time is not used'),
  batchSize: z.number().int().min(1).optional().describe('SGD variant: mini-batch size for the updates; probes and trace use the full loss (omitted: full batch)'),
  momentum: z.enum(MOMENTA).default(R.momentum).describe('optimizer: plain GD, heavy-ball or Nesterov momentum'),
  beta: z.number().min(0).max(0.999).default(R.beta).describe('momentum β'),
};

const E = defaults.eos;
export const eosParams = z.object({
  ...dataParams,
  ...runParams,
  etas: z.array(z.number().positive()).min(1).default(() => [...E.etas]).describe('step sizes (comma-separated)'),
  eigs: z.boolean().default(E.eigs).describe('top Hessian eigenvalues (the sharpness) every eigFreq steps (--no-eigs: off)'),
  eigFreq: z.number().int().min(1).default(E.eigFreq).describe('Hessian eigenvalues every this many steps'),
  neigs: z.number().int().min(1).max(20).default(E.neigs).describe('number of top eigenvalues'),
  eigTol: z.number().positive().max(0.1).default(E.eigTol).describe('Lanczos relative residual tolerance (eigenvalue error ≤ tol·λ; 1e-3 is ample for the ±10 % band on 50k-parameter nets)'),
  probeFreq: z.number().int().min(1).optional().describe('unstable-convergence probes every this many steps (omitted: no probes)'),
  flow: z.boolean().default(E.flow).describe('also integrate gradient flow (RK4) and plot the GD–flow distance'),
  flowEvery: z.number().int().min(1).default(E.flowEvery).describe('GD steps between GD–flow comparisons'),
  lossGoal: z.number().positive().optional().describe('stop once the train loss is below this (omitted: no loss goal)'),
  accGoal: z.number().positive().max(1).optional().describe('stop once the train accuracy is above this (omitted: no accuracy goal; the reference uses 0.99)'),
  checkpointEvery: z.number().int().min(1).default(E.checkpointEvery).describe('steps between resumable checkpoints'),
});
export type EosParams = z.infer<typeof eosParams>;

export const eos = defineCommand({
  name: 'eos',
  description: 'Edge of stability (Cohen et al.): full-batch GD for several η with sharpness every eigFreq steps, the 2/η line, optional gradient-flow comparison',
  resumable: true,
  params: eosParams,
  metrics: [
    { table: 'trace', name: 'loss', label: 'train loss', x: 'step', scale: 'log', series: 'eta' },
    { table: 'trace', name: 'sharpness', label: 'sharpness λ₁', x: 'step', scale: 'linear', series: 'eta', group: 'sharpness', reference: { label: '2/η', numerator: 2, column: 'eta' } },
    { table: 'trace', name: 'eig2', label: 'second eigenvalue λ₂', x: 'step', scale: 'linear', series: 'eta', group: 'sharpness' },
    { table: 'trace', name: 'acc', label: 'train accuracy', x: 'step', scale: 'linear', series: 'eta', group: 'accuracy' },
    { table: 'trace', name: 'testAcc', label: 'test accuracy', x: 'step', scale: 'linear', series: 'eta', group: 'accuracy' },
    { table: 'gd_vs_flow', name: 'distance', label: 'distance GD ↔ gradient flow ‖θ_GD − θ_GF‖', x: 'time', scale: 'linear', series: 'eta' },
  ],
  run: async (p, ctx) => (await impl()).runEos(p, ctx),
});

const P = defaults.probes;
export const probesParams = z.object({
  objective: z.enum(OBJECTIVES).default(P.objective).describe('network: the data set, network and loss below; quadratic: ½θᵀdiag(spectrum)θ from start (the data parameters are not used)'),
  spectrum: z.array(z.number().min(0)).min(1).optional().describe(`quadratic: the Hessian eigenvalues (comma-separated; omitted: ${P.quadraticDim} values 1, 2, …, ${P.quadraticDim})`),
  start: z.array(z.number()).min(1).optional().describe('quadratic: θ₀, one number per eigenvalue (comma-separated; omitted: all ones)'),
  ...dataParams,
  ...runParams,
  eta: z.number().positive().default(P.eta).describe('step size of the edge-of-stability run (on chebyshev-3-20, 0.5 is in sustained EoS within time 400; at 0.25 the window is mostly latent)'),
  controlEta: z.number().positive().default(P.controlEta).describe('step size of the stable control run'),
  probeFreq: z.number().int().min(1).default(P.probeFreq).describe('probe every this many steps (odd: samples both phases of a period-2 oscillation)'),
  controlProbeFreq: z.number().int().min(1).optional().describe('probe stride of the control run (omitted: about 200 probes over the run, odd stride)'),
  k: z.number().int().min(1).max(20).default(P.k).describe('number of top Ritz vectors for the alignment A_k'),
}).superRefine((p, ctx) => {
  if (p.objective !== 'quadratic') {
    for (const k of ['spectrum', 'start'] as const) {
      if (p[k] !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `${k} is a parameter of the quadratic objective: give objective quadratic` });
    }
    return;
  }
  const dim = p.spectrum?.length ?? P.quadraticDim;
  if (p.start !== undefined && p.start.length !== dim) {
    ctx.addIssue({ code: 'custom', path: ['start'], message: `expected ${dim} numbers (one per eigenvalue), got ${p.start.length}` });
  }
  if (p.batchSize !== undefined) ctx.addIssue({ code: 'custom', path: ['batchSize'], message: 'the quadratic objective has no mini-batches (full-batch GD only)' });
});
export type ProbesParams = z.infer<typeof probesParams>;

export const probes = defineCommand({
  name: 'probes',
  description: 'Unstable-convergence probes (RP, DS, DSint, A1, Ak, gradient cosine, S/MSS) on a large-η run and a small-η control',
  params: probesParams,
  metrics: [
    { table: 'probes', name: 'loss', label: 'train loss', x: 'step', scale: 'log', series: 'run' },
    { table: 'probes', name: 'sharpness', label: 'sharpness λ₁', x: 'step', scale: 'linear', series: 'run', reference: { label: '2/η', numerator: 2, column: 'eta' } },
    { table: 'probes', name: 'sharpRatio', label: 'S/MSS (sharpness over 2/η)', x: 'step', scale: 'linear', series: 'run', reference: { label: 'S = MSS', numerator: 1 } },
    { table: 'probes', name: 'rp', label: 'relative progress RP', x: 'step', scale: 'linear', series: 'run' },
    { table: 'probes', name: 'ds', label: 'directional smoothness DS', x: 'step', scale: 'linear', series: 'run', group: 'smoothness' },
    { table: 'probes', name: 'dsInt', label: 'integrated DS', x: 'step', scale: 'linear', series: 'run', group: 'smoothness' },
    { table: 'probes', name: 'dsEta', label: 'η/2·DS', x: 'step', scale: 'linear', series: 'run', group: 'smoothness × η/2', reference: { label: 'η/2·DS = 1', numerator: 1 } },
    { table: 'probes', name: 'dsIntEta', label: 'η/2·DS_int', x: 'step', scale: 'linear', series: 'run', group: 'smoothness × η/2' },
    { table: 'probes', name: 'a1', label: 'alignment A₁', x: 'step', scale: 'linear', series: 'run', group: 'alignment' },
    { table: 'probes', name: 'ak', label: 'alignment A_k', x: 'step', scale: 'linear', series: 'run', group: 'alignment' },
    { table: 'probes', name: 'gradCos', label: 'cosine of successive gradients', x: 'step', scale: 'linear', series: 'run' },
  ],
  run: async (p, ctx) => (await impl()).runProbes(p, ctx),
});

const Q = defaults.quadratic;
export const quadraticParams = z.object({
  dim: z.number().int().min(1).max(10000).default(Q.dim).describe('dimension (spectrum 1, 2, …, dim)'),
  etaInverseHalf: z.array(z.number().positive()).min(1).default(() => [...Q.etaInverseHalf]).describe('values of 2/η to run (η = 2/value)'),
  steps: z.number().int().min(1).max(100000).default(Q.steps).describe('GD steps'),
});
export type QuadraticParams = z.infer<typeof quadraticParams>;

export const quadratic = defineCommand({
  name: 'quadratic',
  description: 'Sanity case: GD on a quadratic with spectrum {1..dim}; components with λ > 2/η grow with alternating sign',
  quick: true,
  params: quadraticParams,
  run: async (p, ctx) => (await impl()).runQuadratic(p, ctx),
});

const M = defaults.momentumThresholds;
export const momentumThresholdsParams = z.object({
  eta: z.number().positive().default(M.eta).describe('step size'),
  beta: z.number().min(0).max(0.999).default(M.beta).describe('momentum β'),
  margin: z.number().positive().max(0.5).default(M.margin).describe('relative distance of the curvature from the threshold'),
  steps: z.number().int().min(10).max(1000000).default(M.steps).describe('GD steps'),
});
export type MomentumThresholdsParams = z.infer<typeof momentumThresholdsParams>;

export const thresholds = defineCommand({
  name: 'momentum-thresholds',
  description: '1-D quadratic just below/above the maximum stable sharpness of GD, Polyak and Nesterov momentum',
  quick: true,
  params: momentumThresholdsParams,
  run: async (p, ctx) => (await impl()).runMomentumThresholds(p, ctx),
});

registerModule({
  name: 'unstable-convergence',
  title: 'Unstable convergence and the edge of stability',
  description: 'Full-batch GD beyond 2/η: sharpness at the edge of stability, relative progress, directional smoothness, gradient alignment (Cohen et al. 2021; Ahn, Zhang & Sra 2022).',
  papers: [
    'Ahn, Zhang, Sra. Understanding the unstable convergence of gradient descent. ICML 2022 (arXiv 2204.01050)',
    'Cohen, Kaur, Li, Kolter, Talwalkar. Gradient descent on neural networks typically occurs at the edge of stability. ICLR 2021',
  ],
  commands: [eos, probes, quadratic, thresholds],
});
