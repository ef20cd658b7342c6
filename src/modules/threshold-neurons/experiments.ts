// The commands' run bodies, which are also the typed API: each parses its input with the command's
// schema (commands.ts), so omitted parameters take the CLI's defaults (config.ts).
//  - runSweep: the η sweep of Figure 1 (final bias and test accuracy vs η, with the predicted
//    threshold 8π/d² and the measured 2/λ_max(θ₀));
//  - runMeanTrajectory: the mean model's trajectory at one η;
//  - runXy: the single-neuron ℓ(xy) model over several η.
import { z } from 'zod';
import * as torch from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import { curvesSpec, panelsSpec, type Objective } from '../../core/dynamics/index.ts';
import { sweepParams, meanTrajectoryParams, xyParams, trajectory as meanTrajectory, type SweepParams } from './commands.ts';
import { metricTitle } from '../../core/plots.ts';
import { defaults, gridValues } from './config.ts';
import { sparseCoding, linearAccuracy, type SparseCodingData } from './data.ts';
import { thresholdObjective, predictedThreshold, predictedMeanModelSharpness, xyCurvatureAtZero } from './model.ts';
import { FastMeanModel, meanModelGD } from './mean-model.ts';
import { xyGD, xySharpness } from './xy.ts';
import { fastPair, sweepRunFast, sweepRunAutograd, type SweepRow } from './train.ts';
import { initialSharpness, findKink } from './evaluate.ts';

export type SweepInput = z.input<typeof sweepParams>;
export type MeanTrajectoryInput = z.input<typeof meanTrajectoryParams>;
export type XyInput = z.input<typeof xyParams>;

/** The η values of a log grid "lo:hi:count"; throws on anything else. */
export function parseGrid(s: string): number[] {
  const v = gridValues(s);
  if (typeof v === 'string') throw new Error(`etaGrid: ${v}`);
  return v;
}

type SweepContext = Pick<RunContext, 'rng' | 'progress' | 'metrics' | 'signal' | 'log'> & Partial<Pick<RunContext, 'plot' | 'writeJson'>>;

export async function runSweep(input: SweepInput, ctx: SweepContext): Promise<Record<string, unknown>> {
  const p = sweepParams.parse(input);
  const train = sparseCoding(ctx.rng, p.nTrain, p.d, p.lambda);
  const test = sparseCoding(ctx.rng, p.nTest, p.d, p.lambda);
  const obj = thresholdObjective(train, test, { model: p.model, variant: p.variant, reduction: p.reduction, initStd: p.initStd });
  const theta0 = obj.init().keep();
  try {
    const { sharpness: S0, evenModeCos } = initialSharpness(obj, theta0, p.model);
    const etaPred = predictedThreshold(p.d, p.nTrain, p.reduction);
    const etaEmp = 2 / S0;
    const predS = predictedMeanModelSharpness(p.d, p.nTrain, p.reduction);
    const etaGrid = p.etaGrid ?? (p.etas || p.etaMultiples ? undefined : defaults.sweep.etaGrid);
    const etas = p.etas ? [...p.etas]
      : p.etaMultiples ? p.etaMultiples.map((m) => m * etaPred)
      : etaGrid === 'auto' ? parseGrid(`${etaEmp / 4}:${etaEmp * 4}:13`) : parseGrid(etaGrid!);
    ctx.log(`initial sharpness ${S0.toFixed(2)} (d²/(4π) = ${predS.toFixed(2)}); η* = 8π/d² = ${etaPred.toExponential(3)}, 2/λ_max(θ₀) = ${etaEmp.toExponential(3)}`);
    const rows = await sweepRows(p, obj, theta0, train, test, etas, ctx);
    const ok = rows.filter((r) => !r.diverged && Number.isFinite(r.finalB));
    const kink = findKink(ok.map((r) => r.eta), ok.map((r) => r.finalB), p.kinkTol);
    const summary = {
      model: obj.name, d: p.d, nTrain: p.nTrain, nTest: p.nTest, lambda: p.lambda, time: p.time,
      initialSharpness: S0, predictedSharpness: predS, sharpnessRelError: S0 / predS - 1,
      evenModeCos, etaStarPredicted: etaPred, etaSource: p.etas ? 'etas' : p.etaMultiples ? 'etaMultiples' : 'etaGrid', etaMultiples: p.etaMultiples ?? null, etaStarEmpirical: etaEmp, kinkEta: kink,
      kinkOverPredicted: kink === null ? null : kink / etaPred, kinkOverEmpirical: kink === null ? null : kink / etaEmp,
      linearClassifierAccuracy: linearAccuracy(p.lambda, p.d), rows,
    };
    if (ctx.plot) await plotSweep(ctx.plot, ok, obj.name, p, etaPred, etaEmp);
    ctx.writeJson?.('sweep.json', summary);
    return summary;
  } finally {
    theta0.dispose();
    torch.dispose(train.X, train.y, test.X, test.y);
  }
}

/** GD for round(time/η) steps at each η from the same θ₀, one metrics row per η. */
async function sweepRows(
  p: SweepParams,
  obj: Objective,
  theta0: torch.Tensor,
  train: SparseCodingData,
  test: SparseCodingData,
  etas: number[],
  ctx: SweepContext,
): Promise<SweepRow[]> {
  const fast = p.model === 'mean' && p.engine === 'fast' ? fastPair(train, test, p.reduction) : null;
  const th0 = theta0.toFloat64Array();
  const rows: SweepRow[] = [];
  const bar = ctx.progress(etas.length, 'η sweep');
  for (const eta of etas) {
    if (ctx.signal.aborted) throw new Error('sweep interrupted');
    const steps = Math.max(1, Math.round(p.time / eta));
    const row = fast ? sweepRunFast(fast, th0, eta, steps)
      : await sweepRunAutograd(obj, theta0, eta, steps, p.model === 'mean' ? 'dense' : 'lanczos', ctx.signal);
    rows.push(row);
    ctx.metrics.log({ ...row }, 'sweep');
    bar.tick(1, { eta, b: row.finalB });
    await new Promise((res) => setImmediate(res));
  }
  bar.done();
  return rows;
}

async function plotSweep(plot: RunContext['plot'], ok: SweepRow[], name: string, p: SweepParams, etaPred: number, etaEmp: number) {
  const vlines = [{ x: etaPred, label: '8π/d²' }, { x: etaEmp, label: '2/λmax(θ₀)' }];
  const pr = ok.map((r) => ({ eta: r.eta, finalB: r.finalB, testAcc: r.testAcc, series: name }));
  const xTitle = 'step size η (log scale)';
  await plot('bias_vs_eta', curvesSpec(pr, { x: 'eta', y: 'finalB', logX: true, vlines, xTitle, yTitle: 'final bias b', title: `final bias b vs η (${name}, d=${p.d})` }));
  await plot('accuracy_vs_eta', curvesSpec(pr, { x: 'eta', y: 'testAcc', logX: true, vlines, xTitle, yTitle: 'test accuracy', title: 'test accuracy vs η (dotted: linear Φ(λ/√d))',
    hlines: [{ y: linearAccuracy(p.lambda, p.d), label: 'linear Φ(λ/√d)' }] }));
  const sh = ok.filter((r) => r.finalSharpness !== null).flatMap((r) => [
    { eta: r.eta, value: r.finalSharpness, series: 'final sharpness' }, { eta: r.eta, value: 2 / r.eta, series: '2/η' }]);
  if (sh.length) {
    await plot('sharpness_vs_eta', curvesSpec(sh, { x: 'eta', y: 'value', color: 'series', logX: true, logY: true, vlines, xTitle,
      yTitle: 'sharpness λ_max (log scale)', colorTitle: '', title: `final sharpness vs η (${name}): at the edge of stability it meets 2/η` }));
  }
}

/** axis titles of the mean-model trajectory panels */
/** The trajectory panels' axis titles and log axes, from mean-trajectory's metric declarations (commands.ts). */
function trajectoryAxes(): { titles: Record<string, string>; log: string[] } {
  const decls = meanTrajectory.metrics ?? [];
  return { titles: { step: 'step t', ...Object.fromEntries(decls.map((m) => [m.name, metricTitle(m)])) }, log: decls.filter((m) => m.scale === 'log').map((m) => m.name) };
}

/** One mean-model run: a⁺, a⁻, a⁺ − a⁻, b, loss and exact sharpness along the trajectory. */
export async function runMeanTrajectory(input: MeanTrajectoryInput, ctx: Pick<RunContext, 'rng' | 'metrics'> & Partial<Pick<RunContext, 'plot'>>) {
  const p = meanTrajectoryParams.parse(input);
  const train = sparseCoding(ctx.rng, p.nTrain, p.d, p.lambda);
  const test = sparseCoding(ctx.rng, p.nTest, p.d, p.lambda);
  const m = new FastMeanModel(train, p.reduction);
  const steps = Math.round(p.time / p.eta);
  const r = meanModelGD(m, { ap: 0, am: 0, b: 0 }, p.eta, steps, {
    every: p.every, onRow: (x) => ctx.metrics.log({ ...x, diff: x.ap - x.am, twoOverEta: 2 / p.eta }, 'trajectory'),
  });
  const acc = new FastMeanModel(test).evaluate(r.state).accuracy;
  if (ctx.plot) {
    const rows = r.rows.map((x) => ({ ...x, diff: x.ap - x.am }));
    await ctx.plot('trajectory', panelsSpec(rows, 'step', ['ap', 'am', 'diff', 'b', 'loss', 'sharpness'],
      `mean model, η=${p.eta} (dotted: 2/η = ${(2 / p.eta).toFixed(1)})`, { ...trajectoryAxes(), hlines: { sharpness: [{ y: 2 / p.eta }] } }));
  }
  torch.dispose(train.X, train.y, test.X, test.y);
  return {
    eta: p.eta, twoOverEta: 2 / p.eta, etaStar: predictedThreshold(p.d, p.nTrain, p.reduction), steps, final: r.state, testAcc: acc, diverged: r.diverged,
    finalSharpness: r.rows.at(-1)?.sharpness ?? null };
}

/** ℓ(xy) sweep: final sharpness vs 2/η and the gradient-flow prediction ℓ''(0)(y₀² − x₀²). */
export async function runXy(input: XyInput, ctx: Pick<RunContext, 'metrics'> & Partial<Pick<RunContext, 'plot'>>) {
  const p = xyParams.parse(input);
  const gf = xyCurvatureAtZero(p.loss) * (p.y0 * p.y0 - p.x0 * p.x0);
  const out = [];
  for (const eta of p.etas) {
    const r = xyGD(p.loss, p.x0, p.y0, eta, p.steps, Math.max(1, Math.floor(p.steps / 400)));
    for (const row of r.rows.slice(0, 200)) ctx.metrics.log({ eta, ...row }, 'xy_trajectory');
    const S = xySharpness(p.loss, r.x, r.y);
    const regime = gf > 2 / eta ? 'eos' : 'gradient-flow';
    out.push({ eta, twoOverEta: 2 / eta, gfSharpness: gf, regime, finalSharpness: S, ratioToTwoOverEta: S * eta / 2, ratioToGf: S / gf,
      finalX: r.x, finalY: r.y, signFlips: r.signFlips, diverged: r.diverged });
    ctx.metrics.log({ eta, twoOverEta: 2 / eta, finalSharpness: S, gfSharpness: gf }, 'xy_sweep');
  }
  if (ctx.plot) {
    const rows = out.flatMap((o) => [
      { eta: o.eta, value: o.finalSharpness, series: 'final sharpness' },
      { eta: o.eta, value: o.twoOverEta, series: '2/η' },
      { eta: o.eta, value: o.gfSharpness, series: 'gradient-flow prediction' },
    ]);
    await ctx.plot('xy_sharpness', curvesSpec(rows, { x: 'eta', y: 'value', color: 'series', logX: true,
      xTitle: 'step size η (log scale)', yTitle: 'sharpness λ_max', colorTitle: '', title: `ℓ(xy), ℓ=${p.loss}: final sharpness vs η` }));
  }
  return { gfSharpness: gf, runs: out };
}

export type { Objective, SparseCodingData, SweepRow };
