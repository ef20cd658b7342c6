// threshold-neurons commands: Ahn, Bubeck, Chewi, Lee, Suarez, Zhang, "Learning threshold neurons
// via the edge of stability" (NeurIPS 2023). Schemas and descriptions live here, defaults come from
// config.ts; each run imports its implementation (experiments.ts) when it runs.
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import { defaults, gridValues, MODELS, VARIANTS, REDUCTIONS, ENGINES, XY_LOSSES } from './config.ts';

const impl = () => import('./experiments.ts');

const D = defaults.data;
const dataParams = {
  d: z.number().int().min(2).max(4096).default(D.d).describe('input dimension d (neurons per sign)'),
  nTrain: z.number().int().min(1).max(1_000_000).default(D.nTrain).describe('training examples'),
  nTest: z.number().int().min(1).max(1_000_000).default(D.nTest).describe('test examples'),
  lambda: z.number().min(0).default(D.lambda).describe('signal strength λ of the planted coordinate'),
  reduction: z.enum(REDUCTIONS).default(D.reduction).describe('logistic loss averaged (mean) or summed (sum) over the samples'),
};

const S = defaults.sweep;
export const sweepParams = z.object({
  ...dataParams,
  model: z.enum(MODELS).default(S.model).describe('weight-tied mean model (3 parameters) or the full two-layer net'),
  variant: z.enum(VARIANTS).default(S.variant).describe('full net: a± as output weights (output-layer, the network of eq. (2)) or inside the ReLUs (first-layer)'),
  time: z.number().positive().default(S.time).describe('η × steps for every run'),
  etaGrid: z.string()
    .refine((s) => s === 'auto' || typeof gridValues(s) !== 'string', { message: 'expected "lo:hi:count" with 0 < lo < hi and count ≥ 2, or "auto"' })
    .optional().describe(`log grid "lo:hi:count" of step sizes, or "auto": 13 values from 0.25× to 4× the measured threshold 2/λmax(θ₀) (omitted, and no etas or etaMultiples: ${S.etaGrid})`),
  etas: z.array(z.number().positive()).min(1).optional().describe('explicit step sizes (comma-separated), instead of the grid'),
  etaMultiples: z.array(z.number().positive()).min(1).optional().describe('step sizes as multiples m of the predicted threshold η* = 8π/d² (8π/(n·d²) with reduction sum): η = m·η* (comma-separated), instead of the grid'),
  initStd: z.number().min(0).optional().describe('init std of a± (omitted: 1/√(2d) for the full net, 0 for the mean model)'),
  kinkTol: z.number().positive().default(S.kinkTol).describe('relative change of b from its small-η value that marks the kink'),
  engine: z.enum(ENGINES).default(S.engine).describe('mean model: closed-form sorted-prefix evaluator (fast) or libtorch autograd'),
}).superRefine((p, ctx) => {
  const given = (['etaGrid', 'etas', 'etaMultiples'] as const).filter((k) => p[k] !== undefined);
  if (given.length > 1) {
    ctx.addIssue({ code: 'custom', path: [given[1]!], message: `${given.join(' and ')} are mutually exclusive: give one way of choosing the step sizes` });
  }
});
export type SweepParams = z.infer<typeof sweepParams>;

export const sweep = defineCommand({
  name: 'sweep',
  description: 'Figure 1: GD for round(time/η) steps over a log grid of η; final bias and test accuracy vs η, with 8π/d² and the measured 2/λmax(θ₀)',
  params: sweepParams,
  run: async (p, ctx) => (await impl()).runSweep(p, ctx),
});

const T = defaults.meanTrajectory;
export const meanTrajectoryParams = z.object({
  ...dataParams,
  d: z.number().int().min(2).max(4096).default(T.d).describe('input dimension d'),
  eta: z.number().positive().default(T.eta).describe('step size (η* = 8π/d² ≈ 0.01 for d = 50)'),
  time: z.number().positive().default(T.time).describe('η × steps'),
  every: z.number().int().min(1).default(T.every).describe('record every this many steps'),
});
export type MeanTrajectoryParams = z.infer<typeof meanTrajectoryParams>;

export const trajectory = defineCommand({
  name: 'mean-trajectory',
  description: 'Mean model at one η: a⁺, a⁻, a⁺ − a⁻ (the even mode), b, loss and exact sharpness per step',
  quick: true,
  params: meanTrajectoryParams,
  metrics: [
    { table: 'trajectory', name: 'ap', label: 'a⁺ (weight of relu(x + b))', x: 'step', scale: 'linear', group: 'weights' },
    { table: 'trajectory', name: 'am', label: 'a⁻ (weight of relu(−x + b))', x: 'step', scale: 'linear', group: 'weights' },
    { table: 'trajectory', name: 'diff', label: 'a⁺ − a⁻ (even mode)', x: 'step', scale: 'linear' },
    { table: 'trajectory', name: 'b', label: 'shared bias b', x: 'step', scale: 'linear' },
    { table: 'trajectory', name: 'loss', label: 'train loss', x: 'step', scale: 'log' },
    { table: 'trajectory', name: 'sharpness', label: 'sharpness λ_max', x: 'step', scale: 'linear', reference: { label: '2/η', numerator: 2, param: 'eta' } },
  ],
  run: async (p, ctx) => (await impl()).runMeanTrajectory(p, ctx),
});

const X = defaults.xy;
export const xyParams = z.object({
  loss: z.enum(XY_LOSSES).default(X.loss).describe('ℓ: √(1+s²), log(1+eˢ)+log(1+e⁻ˢ), or half of it'),
  x0: z.number().default(X.x0).describe('initial x'),
  y0: z.number().default(X.y0).describe('initial y'),
  etas: z.array(z.number().positive()).min(1).default(() => [...X.etas]).describe('step sizes (comma-separated)'),
  steps: z.number().int().min(1).max(10_000_000).default(X.steps).describe('GD steps per η'),
});
export type XyParams = z.infer<typeof xyParams>;

export const xy = defineCommand({
  name: 'xy',
  description: 'Single-neuron ℓ(xy): final sharpness vs 2/η and the gradient-flow prediction ℓ″(0)(y₀² − x₀²)',
  quick: true,
  params: xyParams,
  run: async (p, ctx) => (await impl()).runXy(p, ctx),
});

registerModule({
  name: 'threshold-neurons',
  title: 'Learning threshold neurons via the edge of stability',
  description: 'Sparse-coding data, two-layer ReLU net with a shared bias, the weight-tied mean model with η* = 8π/d², and the ℓ(xy) model (Ahn et al. 2023).',
  papers: ['Ahn, Bubeck, Chewi, Lee, Suarez, Zhang. Learning threshold neurons via the edge of stability. NeurIPS 2023 (arXiv 2212.07469)'],
  commands: [sweep, trajectory, xy],
});
