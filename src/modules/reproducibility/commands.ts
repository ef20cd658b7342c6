// reproducibility — the commands: how far two runs of an optimizer drift apart under error-prone
// oracles. Schemas and descriptions live here (defaults from config.ts); each run imports its
// implementation (experiments.ts) when it runs.
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import { PROBLEMS, OPTIMIZERS, MEASURE_ORACLES, INTERVALS, SETTINGS, SCALES, MEASURE, SWEEP, START_PROBLEMS } from './config.ts';

const impl = () => import('./experiments.ts');

const dataParam = (usedBy: string) => z.string().optional()
  .describe(`labelled numeric CSV (.csv or .csv.gz, label in the last column) for ${usedBy}; default: the bundled UCI digits`)
  .meta({ path: 'input' });
const positiveParam = (dflt: number) => z.number().default(dflt).describe('positive class of the one-vs-rest logistic problem (every other label is negative)');

export const measureParams = z.object({
  problem: z.enum(PROBLEMS).default(MEASURE.problem).describe('problem: quadratic (flat direction, D = 1), ridge (strongly convex), followup (the quadratic of Zhang et al. 2023, experiment E6), lad (non-smooth), logistic (one-vs-rest on --data, class --positive vs rest, μ = 0.1)'),
  oracle: z.enum(MEASURE_ORACLES).default(MEASURE.oracle).describe('error-prone oracle of size delta (init-direction: the pair starts at u0 ± (δ/2)·v, v = initDirection normalized; minibatch: finite sums only, size --batch; delta is then estimated)'),
  batch: z.number().int().min(1).default(MEASURE.batch).describe('minibatch size of the minibatch oracle'),
  data: dataParam('the logistic problem'),
  positive: positiveParam(MEASURE.positive),
  optimizer: z.enum(OPTIMIZERS).default(MEASURE.optimizer).describe('method (torch-* drop a torch.optim optimizer into the harness)'),
  budget: z.number().int().min(0).max(10_000_000).default(MEASURE.budget).describe('oracle calls per run T'),
  delta: z.number().min(0).default(MEASURE.delta).describe('oracle error size δ'),
  epsilon: z.number().positive().default(MEASURE.epsilon).describe('accuracy target ε (outputs with F − F* > ε are flagged)'),
  pairs: z.number().int().min(1).max(1_000_000).default(MEASURE.pairs).describe('independent run pairs (Monte Carlo size)'),
  lr: z.number().positive().optional().describe('step size η; default: automatic — 1/L (smooth), D²/(εT) capped at 1/L (stochastic or non-smooth), 1/(L + λ) for reg-*'),
  lambda: z.number().positive().default(MEASURE.lambda).describe('regularization λ of the reg-* methods'),
  dim: z.number().int().min(2).max(2000).default(MEASURE.dim).describe('problem dimension d'),
  interval: z.enum(INTERVALS).default(MEASURE.interval).describe('95% interval: Student t or percentile bootstrap'),
  spectrum: z.array(z.number().min(0)).min(1).optional()
    .describe('problem quadratic: the Hessian eigenvalues of a diagonal quadratic F(x) = ½Σλᵢxᵢ² (minimizer 0, F* = 0; the dimension is their count, dim is not used); omitted: dim values evenly spaced in [0, 1] in a random basis'),
  start: z.array(z.number()).min(1).optional()
    .describe(`the reference start u0 (comma-separated, one number per dimension; problems ${START_PROBLEMS.join(', ')}); omitted: the problem's own (with spectrum: all ones/√d)`),
  initDirection: z.array(z.number()).min(1).optional()
    .describe('oracle init-direction: the direction v of the initial gap (comma-separated, one number per dimension; normalized)'),
}).superRefine((p, ctx) => {
  const issue = (k: string, message: string) => ctx.addIssue({ code: 'custom', path: [k], message });
  if (p.spectrum !== undefined && p.problem !== 'quadratic') issue('spectrum', `a spectrum sets the quadratic problem: give problem quadratic (got ${p.problem})`);
  if (p.spectrum?.every((v) => v === 0)) issue('spectrum', 'at least one eigenvalue must be positive');
  if (p.start !== undefined && !START_PROBLEMS.includes(p.problem)) issue('start', `problem ${p.problem} keeps its own start (start is for ${START_PROBLEMS.join(', ')})`);
  if ((p.initDirection !== undefined) !== (p.oracle === 'init-direction')) {
    issue('initDirection', p.initDirection === undefined ? 'oracle init-direction needs initDirection' : `initDirection is used by oracle init-direction only (got oracle ${p.oracle})`);
  }
  if (p.initDirection?.every((v) => v === 0)) issue('initDirection', 'the direction must be non-zero');
  // the dimension is known here for every problem but logistic (the data's): check the lengths now
  const d = p.problem === 'logistic' ? null : p.spectrum?.length ?? p.dim;
  for (const k of ['start', 'initDirection'] as const) {
    const v = p[k];
    if (d !== null && v !== undefined && v.length !== d) issue(k, `expected ${d} numbers (the problem's dimension), got ${v.length}`);
  }
});
export type MeasureParams = z.infer<typeof measureParams>;

export const settingSchema = z.enum(SETTINGS);

export const sweepParams = z.object({
  settings: z.array(settingSchema).default(SWEEP.settings).describe(`settings to sweep: ${SETTINGS.join(', ')}`),
  scale: z.enum(SCALES).default(SWEEP.scale).describe('tiny (seconds), default (a few minutes), paper (sweeps to T = 1e5; long)'),
  pairs: z.number().int().min(1).max(1_000_000).optional().describe('run pairs per measurement (default: per setting and scale)'),
  data: dataParam('the finite-sum setting'),
  positive: positiveParam(SWEEP.positive),
});
export type SweepParams = z.infer<typeof sweepParams>;

export const measure = defineCommand({
  name: 'measure',
  description: 'Measure the deviation of one optimizer on one problem with one oracle (mean, 95% interval, bound)',
  quick: true,
  params: measureParams,
  metrics: [
    { table: 'trace', name: 'deviation', label: 'mean squared deviation ‖x_t − x′_t‖²', x: 't', scale: 'log', group: 'deviation' },
    { table: 'trace', name: 'max', label: 'max squared deviation over pairs', x: 't', scale: 'log', group: 'deviation' },
    { table: 'trace', name: 'subopt', label: 'suboptimality f(x_t) − f*', x: 't', scale: 'log' },
  ],
  run: async (p, ctx) => (await impl()).measure(p, ctx),
});

export const sweep = defineCommand({
  name: 'sweep',
  description: 'Sweep budget, δ and ε per setting (E1–E7): log–log plots vs the bound, fitted slopes, summary table',
  resumable: true,
  params: sweepParams,
  run: async (p, ctx) => (await impl()).sweep(p, ctx),
});

registerModule({
  name: 'reproducibility',
  title: 'Reproducibility in optimization',
  description: 'The (ε, δ)-deviation of first-order methods under inexact initialization, inexact and stochastic gradients: measured over many seeds against the tight bounds, with the computation–reproducibility trade-off.',
  papers: ['Ahn, Jain, Ji, Kale, Netrapalli, Shamir. Reproducibility in Optimization: Theoretical Framework and Limits. NeurIPS 2022 (arXiv 2202.04598)',
    'Zhang, Yang, Karbasi, He. Optimal Guarantees for Algorithmic Reproducibility and Gradient Complexity in Convex Optimization. NeurIPS 2023 (arXiv 2310.17759)'],
  commands: [measure, sweep],
});
