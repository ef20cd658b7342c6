// Module `reproducibility`: how far two runs of an optimizer drift apart under error-prone oracles.
// Ahn, Jain, Ji, Kale, Netrapalli, Shamir, "Reproducibility in Optimization: Theoretical Framework
// and Limits", NeurIPS 2022 (with the follow-up Zhang, Yang, Karbasi, He, NeurIPS 2023).
import { z } from 'zod';
import * as torch from '../../core/torch/index.ts';
import { registerModule, defineCommand } from '../../core/registry.ts';
import type { RunContext } from '../../core/context.ts';
import { spectrumQuadratic, ridge, followUpQuadratic, ladRegression, logisticFromData, type Problem } from './problems.ts';
import { readLabeledCsv } from './data.ts';
import { ORACLES, makeOracle, minibatchGradient, type Oracle } from './oracles.ts';
import {
  gradientDescent, nesterovAGD, regularized, sgdAveraged, sgdLast, subgradientAveraged, svrg, fromTorchOptim, type Optimizer,
} from './optimizers.ts';
import { measureDeviation, summarizeResult } from './harness.ts';
import {
  gdInitBound, gdInexactBound, gdContraction, scInitBound, scInexactBound, regGdInexactBound, sgdBound, subgradientBound,
  sgdQuadraticDeviation, TIGHT_BOUNDS,
} from './bounds.ts';
import { SETTINGS, SCALES, SETTING_RUNNERS, DEFAULT_DATA, summaryMarkdown, measurementCount, type SettingResult, type SummaryRow, type SweepRow } from './experiments.ts';

export * from './problems.ts';
export * from './oracles.ts';
export * from './optimizers.ts';
export * from './harness.ts';
export * from './bounds.ts';
export * from './experiments.ts';
export * from './data.ts';

export const PROBLEMS = ['quadratic', 'ridge', 'followup', 'lad', 'logistic'] as const;
export const OPTIMIZERS = ['gd', 'agd', 'reg-gd', 'reg-agd', 'sgd-avg', 'sgd-last', 'subgradient-avg', 'svrg', 'torch-sgd', 'torch-adam'] as const;

export function makeProblem(name: (typeof PROBLEMS)[number], dim: number, seed: number, data = ''): Problem {
  switch (name) {
    case 'logistic': return logisticFromData(readLabeledCsv(data || DEFAULT_DATA), { positive: 3, mu: 0.1 });
    case 'quadratic': return spectrumQuadratic({ eigenvalues: Array.from({ length: dim }, (_, i) => i / Math.max(1, dim - 1)), seed, D: 1 });
    case 'ridge': return ridge({ n: 4 * dim, d: dim, mu: 0.1, seed });
    case 'followup': return followUpQuadratic({ d: dim, seed });
    case 'lad': return ladRegression({ n: 4 * dim, d: dim, seed });
    default: throw new Error(`unknown problem '${name as string}'. Valid: ${PROBLEMS.join(', ')}`);
  }
}

/** The step size the experiments use when --lr is 0: 1/L (smooth), or D²/(εT) (stochastic / non-smooth). */
export function defaultStep(problem: Problem, oracleKind: string, budget: number, epsilon: number): number {
  const { L, D } = problem.constants;
  if (problem.setting === 'nonsmooth-convex' || oracleKind === 'stochastic') {
    const lr = (D * D) / (epsilon * Math.max(1, budget));
    return Number.isFinite(L) ? Math.min(lr, 1 / L) : lr;
  }
  return 1 / L;
}

export function makeOptimizer(name: (typeof OPTIMIZERS)[number], lr: number, lambda: number, mu: number, L: number): Optimizer {
  switch (name) {
    case 'gd': return gradientDescent({ lr });
    case 'agd': return nesterovAGD({ lr, momentum: mu > 0 ? (Math.sqrt(L / mu) - 1) / (Math.sqrt(L / mu) + 1) : 'nesterov' });
    case 'reg-gd': return regularized(gradientDescent({ lr }), lambda);
    case 'reg-agd': { const k = (L + lambda) / (mu + lambda); return regularized(nesterovAGD({ lr, momentum: (Math.sqrt(k) - 1) / (Math.sqrt(k) + 1) }), lambda); }
    case 'sgd-avg': return sgdAveraged(lr);
    case 'sgd-last': return sgdLast(lr);
    case 'subgradient-avg': return subgradientAveraged(lr);
    case 'svrg': return svrg({ lr: lr / 4, epoch: 100 });
    case 'torch-sgd': return fromTorchOptim('torch.optim.SGD', (ps) => new torch.optim.SGD(ps, { lr }));
    case 'torch-adam': return fromTorchOptim('torch.optim.Adam', (ps) => new torch.optim.Adam(ps, { lr }));
    default: throw new Error(`unknown optimizer '${name as string}'. Valid: ${OPTIMIZERS.join(', ')}`);
  }
}

/** The bound (with its constant) that applies to a (problem, oracle, optimizer) triple, or NaN. */
export function boundFor(problem: Problem, oracleKind: string, optimizer: string, lr: number, delta: number, T: number, lambda: number): { value: number; formula: string } {
  const { L, mu, G } = problem.constants;
  const smooth = problem.setting !== 'nonsmooth-convex';
  const stable = smooth && lr <= 2 / (L + mu) + 1e-15;
  if (!smooth) {
    if (optimizer === 'subgradient-avg') {
      return oracleKind === 'init' ? { value: subgradientBound(lr, G, T, 'average', delta * delta), formula: 'δ² + 2η²G²(T+1)' }
        : oracleKind === 'stochastic' ? { value: subgradientBound(lr, G, T, 'average', 0, delta), formula: 'η²(4G²+2δ²)(T+1)/2' }
          : { value: Number.NaN, formula: 'none' };
    }
    return { value: Number.NaN, formula: 'none' };
  }
  if (!stable) return { value: Number.NaN, formula: 'none (step > 2/(L+μ))' };
  const q = gdContraction(lr, mu, L);
  if (optimizer === 'gd' || optimizer === 'torch-sgd' || optimizer === 'sgd-last' || optimizer === 'sgd-avg') {
    if (oracleKind === 'init') return mu > 0 ? { value: scInitBound(q, delta, T), formula: 'q^{2T}δ²' } : { value: gdInitBound(delta), formula: 'δ²' };
    if (oracleKind === 'gradient') return mu > 0 ? { value: scInexactBound(lr, delta, q, T), formula: '(2ηδ(1−q^T)/(1−q))²' } : { value: gdInexactBound(lr, delta, T), formula: '4η²δ²T²' };
    if (oracleKind === 'stochastic') {
      if (problem.eigen) return { value: sgdQuadraticDeviation(problem.eigen.values, (delta * delta) / problem.d, lr, T, optimizer === 'sgd-avg' ? 'average' : 'last'), formula: 'exact closed form (quadratic)' };
      return { value: sgdBound(lr, delta, T, optimizer === 'sgd-avg' ? 'average' : 'last'), formula: optimizer === 'sgd-avg' ? 'η²δ²(T+1)' : '2η²δ²T' };
    }
  }
  if (optimizer === 'reg-gd' && oracleKind === 'gradient') return { value: regGdInexactBound(lr, delta, lambda, mu, L, T), formula: '(2ηδ(1−q_λ^T)/(1−q_λ))² ≤ (2δ/λ)²' };
  return { value: Number.NaN, formula: 'none' };
}

const measureParams = z.object({
  problem: z.enum(PROBLEMS).default('quadratic').describe('problem: quadratic (flat direction, D = 1), ridge (strongly convex), followup (Zhang et al. E6), lad (non-smooth), logistic (one-vs-rest on --data, 3 vs rest, μ = 0.1)'),
  oracle: z.enum([...ORACLES, 'minibatch'] as const).default('stochastic').describe('error-prone oracle of size delta (minibatch: finite sums only, size --batch; delta is then estimated)'),
  batch: z.number().int().min(1).default(10).describe('minibatch size of the minibatch oracle'),
  data: z.string().default('').describe('labelled numeric CSV (.csv/.csv.gz, label last) for the logistic problem; empty = bundled UCI digits').meta({ path: 'input' }),
  optimizer: z.enum(OPTIMIZERS).default('sgd-avg').describe('method (torch-* drop a torch.optim optimizer into the harness)'),
  budget: z.number().int().min(0).max(10_000_000).default(500).describe('oracle calls per run T'),
  delta: z.number().min(0).default(0.1).describe('oracle error size δ'),
  epsilon: z.number().positive().default(0.05).describe('accuracy target ε (outputs with F − F* > ε are flagged)'),
  pairs: z.number().int().min(1).max(1_000_000).default(2000).describe('independent run pairs (Monte Carlo size)'),
  lr: z.number().min(0).default(0).describe('step size; 0 = automatic (1/L, or D²/(εT) for stochastic / non-smooth)'),
  lambda: z.number().positive().default(0.05).describe('regularization λ of the reg-* methods'),
  dim: z.number().int().min(2).max(2000).default(4).describe('problem dimension d'),
  interval: z.enum(['t', 'bootstrap']).default('t').describe('95% interval: Student t or percentile bootstrap'),
});

const sweepParams = z.object({
  settings: z.array(z.enum(SETTINGS)).default([...SETTINGS]).describe(`settings to sweep: ${SETTINGS.join(', ')}`),
  scale: z.enum(SCALES).default('default').describe('tiny (seconds), default (a few minutes), paper (sweeps to T = 1e5; long)'),
  pairs: z.number().int().min(1).max(1_000_000).optional().describe('run pairs per measurement (default: per setting and scale)'),
  data: z.string().default('').describe('labelled numeric CSV (.csv or .csv.gz, label in the last column) for the finite-sum setting; empty = the bundled UCI digits').meta({ path: 'input' }),
  positive: z.number().default(3).describe('positive class of the one-vs-rest logistic problem (finite-sum setting)'),
});

async function runMeasure(params: z.infer<typeof measureParams>, ctx: RunContext): Promise<Record<string, unknown>> {
  const problem = makeProblem(params.problem, params.dim, ctx.seed, params.data);
  try {
    const oracle: Oracle = params.oracle === 'minibatch' ? minibatchGradient(problem, params.batch) : makeOracle(params.oracle, params.delta);
    if (problem.setting === 'nonsmooth-convex' && !['subgradient-avg', 'gd', 'sgd-last', 'torch-sgd', 'torch-adam'].includes(params.optimizer)) {
      ctx.log(`note: ${params.optimizer} assumes smoothness; ${problem.name} is non-smooth`);
    }
    const lr = params.lr > 0 ? params.lr : defaultStep(problem, oracle.kind, params.budget, params.epsilon);
    const { L, mu } = problem.constants;
    const opt = makeOptimizer(params.optimizer, params.optimizer.startsWith('reg') && params.lr === 0 ? 1 / (L + params.lambda) : lr, params.lambda, mu, L);
    const bar = ctx.progress(params.budget, `${opt.name} × ${params.pairs} pairs`);
    const rec = [...new Set([0, ...Array.from({ length: 12 }, (_, i) => Math.round(params.budget ** (i / 11)))])].filter((t) => t <= params.budget);
    const res = measureDeviation(opt, problem, oracle, params.budget, {
      pairs: params.pairs, seed: ctx.seed, epsilon: params.epsilon, interval: params.interval, signal: ctx.signal,
      recordAt: rec, onStep: (t) => { if (t % 50 === 0 || t === params.budget) bar.update(t); },
    });
    bar.done();
    const bound = boundFor(problem, oracle.kind, params.optimizer, lr, oracle.delta, params.budget, params.lambda);
    for (const q of res.trace) ctx.metrics.log({ t: q.t, deviation: q.mean, lo: q.lo, hi: q.hi, max: q.max, subopt: q.subopt }, 'trace');
    const summary = { ...summarizeResult(res), lr, constants: problem.constants, fStar: problem.fStar, bound: bound.value, boundFormula: bound.formula,
      belowBound: Number.isFinite(bound.value) ? res.mean <= bound.value * (1 + 1e-9) || res.ci95[0] <= bound.value : null };
    ctx.writeJson('result.json', summary);
    ctx.writeText('deviations.csv', 'pair,deviation\n' + Array.from(res.deviations, (v, i) => `${i},${v}`).join('\n') + '\n');
    const rows = res.trace.filter((q) => q.t > 0).map((q) => ({ t: q.t, value: q.mean, series: 'measured deviation' }));
    if (Number.isFinite(bound.value)) {
      for (const q of res.trace.filter((q) => q.t > 0)) {
        const b = boundFor(problem, oracle.kind, params.optimizer, lr, oracle.delta, q.t, params.lambda).value;
        if (b > 0) rows.push({ t: q.t, value: b, series: `bound ${bound.formula}` });
      }
    }
    await ctx.plot('deviation', { title: `${opt.name} on ${problem.name}, ${oracle.name}`, width: 460, height: 280, data: { values: rows.filter((r) => r.value > 0) },
      mark: { type: 'line', point: true }, encoding: { x: { field: 't', type: 'quantitative', scale: { type: 'log' }, title: 'oracle calls' },
        y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: 'E‖x̂ − x̂′‖²' }, color: { field: 'series', type: 'nominal' } } });
    ctx.log(`${opt.name}: deviation ${res.mean.toExponential(4)} (95% [${res.ci95[0].toExponential(3)}, ${res.ci95[1].toExponential(3)}]), bound ${bound.formula} = ${bound.value.toExponential(4)}, mean F − F* = ${res.suboptimality.mean.toExponential(3)}${res.epsOptimal ? '' : ' (NOT ε-optimal: excluded from the bound comparison)'}`);
    return summary;
  } finally {
    problem.dispose();
  }
}

async function runSweep(params: z.infer<typeof sweepParams>, ctx: RunContext): Promise<Record<string, unknown>> {
  const total = params.settings.reduce((a, s) => a + measurementCount(s, params.scale), 0);
  const bar = ctx.progress(total, 'measurements');
  const done = new Map<string, { summary: SummaryRow[]; rows: SweepRow[] }>();
  const prev = ctx.resuming ? ctx.checkpoints.latest() : null;
  if (prev) {
    for (const [k, v] of Object.entries((prev.state.settings ?? {}) as Record<string, { summary: SummaryRow[]; rows: SweepRow[] }>)) done.set(k, v);
    torch.dispose(prev.tensors);
    ctx.log(`resuming: ${[...done.keys()].join(', ')} already done`);
  }
  for (const s of params.settings) {
    if (done.has(s)) { bar.tick(measurementCount(s, params.scale)); continue; }
    ctx.throwIfAborted();
    const res: SettingResult = SETTING_RUNNERS[s]({ seed: ctx.seed, scale: params.scale, pairs: params.pairs, signal: ctx.signal,
      onMeasure: () => bar.tick(), log: (m) => ctx.log(m), dataFile: params.data || undefined, positiveLabel: params.positive });
    for (const r of res.rows) ctx.metrics.log(r, 'sweep');
    for (const r of res.summary) ctx.metrics.log(r, 'summary');
    for (const pl of res.plots) await ctx.plot(pl.name, pl.spec);
    done.set(s, { summary: res.summary, rows: res.rows });
    ctx.checkpoints.save(`after-${s}`, {}, { settings: Object.fromEntries(done) });
  }
  bar.done();
  const summary = [...done.values()].flatMap((v) => v.summary);
  ctx.writeText('summary.md', `# Reproducibility sweep (scale ${params.scale}, seed ${ctx.seed})\n\n${summaryMarkdown(summary)}\nTight bounds (paper table, spec B.2):\n\n${TIGHT_BOUNDS.map((b) => `- ${b.setting}, ${b.oracle}: ${b.bound} by ${b.method} ${b.source}`).join('\n')}\n`);
  ctx.writeJson('summary.json', summary);
  const failed = summary.filter((r) => !r.exponentOk || !r.belowBound);
  return { settings: params.settings, scale: params.scale, rows: summary.length, exponentMismatches: failed.map((r) => `${r.setting}/${r.method}/${r.versus}`), summary };
}

registerModule({
  name: 'reproducibility',
  title: 'Reproducibility in optimization',
  description: 'The (ε, δ)-deviation of first-order methods under inexact initialization, inexact and stochastic gradients: measured over many seeds against the tight bounds, with the computation–reproducibility trade-off.',
  papers: ['Ahn, Jain, Ji, Kale, Netrapalli, Shamir. Reproducibility in Optimization: Theoretical Framework and Limits. NeurIPS 2022 (arXiv 2202.04598)',
    'Zhang, Yang, Karbasi, He. Optimal Guarantees for Algorithmic Reproducibility and Gradient Complexity in Convex Optimization. NeurIPS 2023 (arXiv 2310.17759)'],
  commands: [
    defineCommand({ name: 'measure', description: 'Measure the deviation of one optimizer on one problem with one oracle (mean, 95% interval, bound)', params: measureParams, quick: true, run: runMeasure }),
    defineCommand({ name: 'sweep', description: 'Sweep budget, δ and ε per setting (E1–E6): log–log plots vs the bound, fitted slopes, summary table', params: sweepParams, resumable: true, run: runSweep }),
  ],
});
