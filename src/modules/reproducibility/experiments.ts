// reproducibility — the run bodies of the commands (schemas in commands.ts, defaults in config.ts):
//   measure  one optimizer × one problem × one oracle: the deviation over many run pairs, its 95%
//            interval, the achieved suboptimality and the bound that applies (bounds.ts)
//   sweep    the experiments E1–E7 (settings/), resumable after each setting
import type { RunContext } from '../../core/context.ts';
import * as torch from '../../core/torch/index.ts';
import { measure as measureCommand, type MeasureParams, type SweepParams } from './commands.ts';
import { metricTitle, declaredMetric } from '../../core/plots.ts';
import { makeProblem } from './problems/index.ts';
import { makeOracle, minibatchGradient, inexactInitAlong, type Oracle } from './oracles.ts';
import { defaultStep, makeOptimizer } from './optimizers.ts';
import { measureDeviation, summarizeResult, type DeviationResult } from './harness.ts';
import { boundFor, TIGHT_BOUNDS } from './bounds.ts';
import { deviationPlot, summaryMarkdown, type SummaryRow, type SweepRow } from './evaluate.ts';
import { SETTING_RUNNERS, measurementCount } from './settings/index.ts';

/** Methods that assume nothing beyond convexity (the rest assume smoothness). */
const NONSMOOTH_OK = ['subgradient-avg', 'gd', 'sgd-last', 'torch-sgd', 'torch-adam'];

/** The oracle-call counts at which `measure` records its trace: 0 and 11 log-spaced points up to the budget. */
function traceAt(budget: number): number[] {
  return [...new Set([0, ...Array.from({ length: 12 }, (_, i) => Math.round(budget ** (i / 11)))])].filter((t) => t <= budget);
}

export async function measure(p: MeasureParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const problem = makeProblem(p.problem, p.dim, ctx.seed, p.data, p.positive, { spectrum: p.spectrum, start: p.start });
  try {
    const oracle: Oracle = p.oracle === 'minibatch' ? minibatchGradient(problem, p.batch)
      : p.oracle === 'init-direction' ? inexactInitAlong(p.delta, p.initDirection!) : makeOracle(p.oracle, p.delta);
    if (problem.setting === 'nonsmooth-convex' && !NONSMOOTH_OK.includes(p.optimizer)) {
      ctx.log(`note: ${p.optimizer} assumes smoothness; ${problem.name} is non-smooth`);
    }
    const { L, mu } = problem.constants;
    // the step the method runs with; the bound and the summary use the same one
    const lr = p.lr ?? (p.optimizer.startsWith('reg') ? 1 / (L + p.lambda) : defaultStep(problem, oracle.kind, p.budget, p.epsilon));
    const opt = makeOptimizer(p.optimizer, lr, p.lambda, mu, L);
    const bar = ctx.progress(p.budget, `${opt.name} × ${p.pairs} pairs`);
    const res = measureDeviation(opt, problem, oracle, p.budget, {
      pairs: p.pairs, seed: ctx.seed, epsilon: p.epsilon, interval: p.interval, signal: ctx.signal,
      recordAt: traceAt(p.budget), onStep: (t) => { if (t % 50 === 0 || t === p.budget) bar.update(t); },
    });
    bar.done();
    const bound = boundFor(problem, oracle.kind, p.optimizer, lr, oracle.delta, p.budget, p.lambda);
    for (const q of res.trace) ctx.metrics.log({ t: q.t, deviation: q.mean, lo: q.lo, hi: q.hi, max: q.max, subopt: q.subopt }, 'trace');
    const summary = { ...summarizeResult(res), lr, constants: problem.constants, fStar: problem.fStar, bound: bound.value, boundFormula: bound.formula,
      belowBound: Number.isFinite(bound.value) ? res.mean <= bound.value * (1 + 1e-9) || res.ci95[0] <= bound.value : null };
    ctx.writeJson('result.json', summary);
    ctx.writeText('deviations.csv', 'pair,deviation\n' + Array.from(res.deviations, (v, i) => `${i},${v}`).join('\n') + '\n');
    const boundAt = (t: number) => boundFor(problem, oracle.kind, p.optimizer, lr, oracle.delta, t, p.lambda).value;
    const rows = traceRows(res, Number.isFinite(bound.value) ? boundAt : null, bound.formula);
    await ctx.plot('deviation', deviationPlot(`${opt.name} on ${problem.name}, ${oracle.name}`, rows, metricTitle(declaredMetric(measureCommand.metrics, 'deviation', 'trace'))));
    ctx.log(`${opt.name}: deviation ${res.mean.toExponential(4)} (95% [${res.ci95[0].toExponential(3)}, ${res.ci95[1].toExponential(3)}]), bound ${bound.formula} = ${bound.value.toExponential(4)}, mean F − F* = ${res.suboptimality.mean.toExponential(3)}${res.epsOptimal ? '' : ' (NOT ε-optimal: excluded from the bound comparison)'}`);
    return summary;
  } finally {
    problem.dispose();
  }
}

/** The measured trace (t > 0) and, where a bound applies, the bound at the same t. */
function traceRows(res: DeviationResult, boundAt: ((t: number) => number) | null, formula: string) {
  const pts = res.trace.filter((q) => q.t > 0);
  const rows = pts.map((q) => ({ t: q.t, value: q.mean, series: 'measured deviation' }));
  if (boundAt) {
    for (const q of pts) {
      const b = boundAt(q.t);
      if (b > 0) rows.push({ t: q.t, value: b, series: `bound ${formula}` });
    }
  }
  return rows;
}

type SettingDone = { summary: SummaryRow[]; rows: SweepRow[] };

export async function sweep(p: SweepParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const total = p.settings.reduce((a, s) => a + measurementCount(s, p.scale), 0);
  const bar = ctx.progress(total, 'measurements');
  const done = new Map<string, SettingDone>();
  const prev = ctx.resuming ? ctx.checkpoints.latest() : null;
  if (prev) {
    for (const [k, v] of Object.entries((prev.state.settings ?? {}) as Record<string, SettingDone>)) done.set(k, v);
    torch.dispose(prev.tensors);
    ctx.log(`resuming: ${[...done.keys()].join(', ')} already done`);
  }
  for (const s of p.settings) {
    if (done.has(s)) { bar.tick(measurementCount(s, p.scale)); continue; }
    ctx.throwIfAborted();
    const res = SETTING_RUNNERS[s]({ seed: ctx.seed, scale: p.scale, pairs: p.pairs, signal: ctx.signal,
      onMeasure: () => bar.tick(), log: (m) => ctx.log(m), dataFile: p.data, positiveLabel: p.positive });
    for (const r of res.rows) ctx.metrics.log(r, 'sweep');
    for (const r of res.summary) ctx.metrics.log(r, 'summary');
    for (const pl of res.plots) await ctx.plot(pl.name, pl.spec);
    done.set(s, { summary: res.summary, rows: res.rows });
    ctx.checkpoints.save(`after-${s}`, {}, { settings: Object.fromEntries(done) });
  }
  bar.done();
  const summary = [...done.values()].flatMap((v) => v.summary);
  const tight = TIGHT_BOUNDS.map((b) => `- ${b.setting}, ${b.oracle}: ${b.bound} by ${b.method} ${b.source}`).join('\n');
  ctx.writeText('summary.md', `# Reproducibility sweep (scale ${p.scale}, seed ${ctx.seed})\n\n${summaryMarkdown(summary)}\nTight bounds (Ahn et al. 2022; Zhang et al. 2023):\n\n${tight}\n`);
  ctx.writeJson('summary.json', summary);
  const failed = summary.filter((r) => !r.exponentOk || !r.belowBound);
  return { settings: p.settings, scale: p.scale, rows: summary.length, exponentMismatches: failed.map((r) => `${r.setting}/${r.method}/${r.versus}`), summary };
}
