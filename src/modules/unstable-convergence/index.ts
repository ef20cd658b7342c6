// Module `unstable-convergence`: Ahn, Zhang & Sra, "Understanding the unstable convergence of
// gradient descent" (ICML 2022), on the edge-of-stability experiments of Cohen et al. (ICLR 2021).
// The per-step probes (RP, DS, DSint, alignment, gradient cosine, S/MSS) are a monitor any
// training loop can attach: `new UnstableConvergenceMonitor().observe({params, loss}, step, η)`.
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import { DATASETS } from './data.ts';
import { runEos, runProbes, runQuadratic, momentumThresholds } from './experiments.ts';
import { curvesSpec } from '../../core/dynamics/index.ts';

export { runEos, runProbes, runQuadratic, momentumThresholds, eosWindow, probeStats, buildObjective } from './experiments.ts';
export { loadDataset, DATASETS, type DataSpec } from './data.ts';
export {
  UnstableConvergenceMonitor, maxStableSharpness, runGD, runGDAsync, gradientFlow,
  type ProbeRow, type ProbeTarget, type GDOptions, type GDResult, type GDRow,
} from '../../core/dynamics/index.ts';

const etaList = z.union([z.array(z.number().positive()), z.string()]).transform((v, c) => {
  const a = typeof v === 'string' ? v.split(',').filter((s) => s.trim() !== '').map(Number) : v;
  if (a.length === 0 || a.some((x) => !(x > 0) || !Number.isFinite(x))) {
    c.addIssue({ code: 'custom', message: `step sizes must be positive numbers, got '${String(v)}'` });
    return z.NEVER;
  }
  return a;
});

const dataParams = {
  dataset: z.enum(DATASETS).default('chebyshev-3-20').describe('training data: synthetic (chebyshev-k-20, linear-50-50, gmm) or real (digits bundled; cifar10/mnist need dataPath)'),
  nTrain: z.number().int().min(0).default(0).describe('keep the first N training examples (0: all; gmm: number of points, default 1000)'),
  dataPath: z.string().default('').describe('cifar10: comma-separated binary batches; mnist: "images.idx3-ubyte,labels.idx1-ubyte" (.gz ok); digits: CSV (default: bundled copy)').meta({ path: 'input', pathList: true }),
  gmmClasses: z.number().int().min(2).max(100).default(2).describe('Gaussian mixture: number of classes'),
  gmmDim: z.number().int().min(1).max(4096).default(32).describe('Gaussian mixture: input dimension'),
  arch: z.string().default('regression').describe('network: regression, deeplinear, fc-{relu,elu,tanh,hardtanh,softplus}[-depthK][-wW]'),
  loss: z.enum(['mse', 'ce', 'logistic']).default('mse').describe('loss: mse (0.5·‖o−t‖², one-hot targets for classes), ce, logistic'),
  time: z.number().min(0).default(400).describe('run length in time units η·steps (0: use steps)'),
  steps: z.number().int().min(1).default(2000).describe('GD steps when time = 0'),
  batchSize: z.number().int().min(0).default(0).describe('SGD variant (B-3): mini-batch size for the updates; probes/trace use the full loss (0: full batch)'),
  momentum: z.enum(['none', 'polyak', 'nesterov']).default('none').describe('optimizer: plain GD, heavy-ball or Nesterov momentum'),
  beta: z.number().min(0).max(0.999).default(0.9).describe('momentum β'),
  lossGoal: z.number().min(0).default(0).describe('stop once the train loss is below this (0: off)'),
  accGoal: z.number().min(0).max(1).default(0).describe('stop once the train accuracy is above this (0: off; the reference uses 0.99)'),
  checkpointEvery: z.number().int().min(1).default(1000).describe('steps between resumable checkpoints'),
};

export const eos = defineCommand({
  name: 'eos',
  description: 'Edge of stability (Cohen et al.): full-batch GD for several η with sharpness every eigFreq steps, the 2/η line, optional gradient-flow comparison',
  resumable: true,
  params: z.object({
    ...dataParams,
    etas: etaList.default([0.1, 0.25]).describe('step sizes (comma-separated)'),
    eigFreq: z.number().int().min(0).default(10).describe('Hessian eigenvalues every this many steps (0: off)'),
    neigs: z.number().int().min(1).max(20).default(2).describe('number of top eigenvalues'),
    eigTol: z.number().positive().max(0.1).default(1e-6).describe('Lanczos relative residual tolerance (eigenvalue error ≤ tol·λ; 1e-3 is ample for the ±10 % band on 50k-parameter nets)'),
    probeFreq: z.number().int().min(0).default(0).describe('unstable-convergence probes every this many steps (0: off)'),
    flow: z.boolean().default(false).describe('also integrate gradient flow (RK4) and plot the GD–flow distance'),
    flowEvery: z.number().int().min(1).default(50).describe('GD steps between GD–flow comparisons'),
  }),
  run: (p, ctx) => runEos(p, ctx),
});

export const probes = defineCommand({
  name: 'probes',
  description: 'Unstable-convergence probes (RP, DS, DSint, A1, Ak, gradient cosine, S/MSS) on a large-η run and a small-η control',
  params: z.object({
    ...dataParams,
    eta: z.number().positive().default(0.5).describe('step size of the edge-of-stability run (EoS-1: 0.5 is in sustained EoS within time 400; at 0.25 the window is mostly latent)'),
    controlEta: z.number().positive().default(0.05).describe('step size of the stable control run'),
    controlProbeFreq: z.number().int().min(0).default(0).describe('probe stride of the control run (0: about 200 probes, odd stride)'),
    probeFreq: z.number().int().min(1).default(5).describe('probe every this many steps (odd: samples both phases of a period-2 oscillation)'),
    k: z.number().int().min(1).max(20).default(5).describe('number of top Ritz vectors for the alignment A_k'),
  }),
  run: (p, ctx) => runProbes(p, ctx),
});

export const quadratic = defineCommand({
  name: 'quadratic',
  description: 'EoS-4 sanity case: GD on a quadratic with spectrum {1..dim}; components with λ > 2/η grow with alternating sign',
  quick: true,
  params: z.object({
    dim: z.number().int().min(1).max(10000).default(100).describe('dimension (spectrum 1, 2, …, dim)'),
    etaInverseHalf: etaList.default([90, 110]).describe('values of 2/η to run (η = 2/value)'),
    steps: z.number().int().min(1).max(100000).default(200).describe('GD steps'),
  }),
  async run(p, ctx) {
    const r = runQuadratic(p, ctx);
    const rows = ctx.metrics.rows('components').map((x) => ({ ...x, eta: String(x.eta) })) as Record<string, number | string | null>[];
    await ctx.plot('components', curvesSpec(rows, { x: 'lambda', y: 'finalAbs', color: 'eta', logY: true,
      title: '|θ_i| after GD vs eigenvalue (dashed: 2/η)', vlines: p.etaInverseHalf.map((h) => ({ x: h, label: `2/η=${h}` })) }));
    return r;
  },
});

export const thresholds = defineCommand({
  name: 'momentum-thresholds',
  description: '1-D quadratic just below/above the maximum stable sharpness of GD, Polyak and Nesterov momentum',
  quick: true,
  params: z.object({
    eta: z.number().positive().default(0.1).describe('step size'),
    beta: z.number().min(0).max(0.999).default(0.9).describe('momentum β'),
    margin: z.number().positive().max(0.5).default(0.01).describe('relative distance of the curvature from the threshold'),
    steps: z.number().int().min(10).max(1000000).default(3000).describe('GD steps'),
  }),
  run(p, ctx) {
    const rows = momentumThresholds(p);
    for (const r of rows) ctx.metrics.log(r as Record<string, number | string | boolean>, 'thresholds');
    return { rows };
  },
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
