// Module `threshold-neurons`: Ahn, Bubeck, Chewi, Lee, Suarez, Zhang, "Learning threshold neurons
// via the edge of stability" (NeurIPS 2023, arXiv 2212.07469). Sparse-coding data, the two-layer
// ReLU net with a shared bias, the weight-tied mean model (η* = 8π/d²) and the ℓ(xy) model.
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import { runSweep, runMeanTrajectory, runXy } from './experiments.ts';

export { sparseCoding, linearAccuracy, type SparseCodingData } from './data.ts';
export {
  fullNetForward, meanModelForward, thresholdObjective, predictedThreshold, predictedMeanModelSharpness,
  xyLoss, xyObjective, xyCurvatureAtZero, type NetVariant, type Reduction, type XyLoss, type ThresholdModelOptions,
} from './model.ts';
export { FastMeanModel, meanModelGD, eigSym3, type MeanState } from './mean-model.ts';
export { xyGD, xySharpness, xyDerivs } from './xy.ts';
export { runSweep, runMeanTrajectory, runXy, parseGrid, findKink, type SweepParams, type SweepRow } from './experiments.ts';

const dataParams = {
  d: z.number().int().min(2).max(4096).default(200).describe('input dimension d (neurons per sign)'),
  n: z.number().int().min(1).max(1000000).default(300).describe('training examples'),
  nTest: z.number().int().min(1).max(1000000).default(2000).describe('test examples'),
  lambda: z.number().min(0).default(3).describe('signal strength λ of the planted coordinate'),
  reduction: z.enum(['mean', 'sum']).default('mean').describe('[recon] logistic loss averaged or summed over samples'),
};

export const sweep = defineCommand({
  name: 'sweep',
  description: 'Figure 1: GD for round(time/η) steps over a log grid of η; final bias and test accuracy vs η, with 8π/d² and the measured 2/λmax(θ₀)',
  params: z.object({
    ...dataParams,
    model: z.enum(['mean', 'full']).default('mean').describe('weight-tied mean model (3 parameters) or the full two-layer net'),
    variant: z.enum(['output-layer', 'first-layer']).default('output-layer').describe('[recon] full net: a± as output weights (default) or inside the ReLUs'),
    time: z.number().positive().default(10).describe('η × steps for every run'),
    etaGrid: z.string().default('1e-4:2e-3:20').describe('log grid "lo:hi:count" (empty: 0.25×–4× the measured threshold)'),
    initStd: z.number().default(-1).describe('init std of a± (negative: paper default 1/√(2d) for the full net, 0 for the mean model)'),
    kinkTol: z.number().positive().default(0.01).describe('relative change of b from its small-η value that marks the kink'),
    engine: z.enum(['fast', 'autograd']).default('fast').describe('mean model: closed-form sorted-prefix evaluator (fast) or libtorch autograd'),
  }),
  async run(p, ctx) {
    const s = await runSweep(p, ctx);
    ctx.writeJson('sweep.json', s);
    return s;
  },
});

export const trajectory = defineCommand({
  name: 'mean-trajectory',
  description: 'Mean model at one η: a⁺, a⁻, a⁺ − a⁻ (the even mode), b, loss and exact sharpness per step',
  quick: true,
  params: z.object({
    ...dataParams,
    d: z.number().int().min(2).max(4096).default(50).describe('input dimension d'),
    eta: z.number().positive().default(0.015).describe('step size (η* = 8π/d² ≈ 0.01 for d = 50)'),
    time: z.number().positive().default(10).describe('η × steps'),
    every: z.number().int().min(1).default(5).describe('record every this many steps'),
  }),
  run: (p, ctx) => runMeanTrajectory(p, ctx),
});

export const xy = defineCommand({
  name: 'xy',
  description: 'Single-neuron ℓ(xy): final sharpness vs 2/η and the gradient-flow prediction ℓ″(0)(y₀² − x₀²)',
  quick: true,
  params: z.object({
    loss: z.enum(['sqrt', 'symlogistic', 'halfsymlogistic']).default('sqrt').describe('ℓ: √(1+s²), log(1+eˢ)+log(1+e⁻ˢ), or half of it'),
    x0: z.number().default(0.1).describe('initial x'),
    y0: z.number().default(3).describe('initial y'),
    etas: z.union([z.array(z.number().positive()), z.string()]).default('0.05,0.1,0.15,0.2,0.25,0.2857,0.3,0.35')
      .transform((v) => (typeof v === 'string' ? v.split(',').map(Number) : v))
      .refine((a) => a.length > 0 && a.every((x) => x > 0 && Number.isFinite(x)), 'step sizes must be positive numbers')
      .describe('step sizes (comma-separated)'),
    steps: z.number().int().min(1).max(10000000).default(200000).describe('GD steps per η'),
  }),
  run: (p, ctx) => runXy(p, ctx),
});

registerModule({
  name: 'threshold-neurons',
  title: 'Learning threshold neurons via the edge of stability',
  description: 'Sparse-coding data, two-layer ReLU net with a shared bias, the weight-tied mean model with η* = 8π/d², and the ℓ(xy) model (Ahn et al. 2023).',
  papers: ['Ahn, Bubeck, Chewi, Lee, Suarez, Zhang. Learning threshold neurons via the edge of stability. NeurIPS 2023 (arXiv 2212.07469)'],
  commands: [sweep, trajectory, xy],
});
