// Paper A experiments: the η sweep of Figure 1 (final bias and test accuracy vs η with the
// predicted threshold 8π/d² and the measured 2/λ_max(θ₀)), the mean-model trajectories and the
// ℓ(xy) sweep.
import * as torch from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import { runGDAsync, hessianEigs, curvesSpec, panelsSpec, type Objective } from '../../core/dynamics/index.ts';
import { sparseCoding, linearAccuracy, type SparseCodingData } from './data.ts';
import { thresholdObjective, predictedThreshold, predictedMeanModelSharpness, xyCurvatureAtZero, type NetVariant, type Reduction, type XyLoss } from './model.ts';
import { FastMeanModel, meanModelGD, eigSym3, type MeanState } from './mean-model.ts';
import { xyGD, xySharpness } from './xy.ts';

export interface SweepParams {
  model: 'full' | 'mean';
  variant: NetVariant;
  reduction: Reduction;
  d: number;
  n: number;
  nTest: number;
  lambda: number;
  time: number;
  /** "lo:hi:count" log grid; empty: 0.25×…4× the measured threshold 2/λ_max(θ₀) */
  etaGrid: string;
  initStd: number;
  /** relative change of b (vs the smallest η) that marks the kink */
  kinkTol: number;
  engine: 'fast' | 'autograd';
}

export function parseGrid(s: string): number[] {
  const m = /^\s*([0-9.eE+-]+)\s*:\s*([0-9.eE+-]+)\s*:\s*(\d+)\s*$/.exec(s);
  if (!m) throw new Error(`etaGrid: expected "lo:hi:count" (a log grid), got '${s}'`);
  const lo = Number(m[1]), hi = Number(m[2]), k = Number(m[3]);
  if (!(lo > 0 && hi > lo && k >= 2)) throw new Error(`etaGrid: need 0 < lo < hi and count ≥ 2, got '${s}'`);
  return Array.from({ length: k }, (_, i) => lo * (hi / lo) ** (i / (k - 1)));
}

/** The kink of b(η): the first η (ascending) where b leaves its small-η value by more than tol relative. */
export function findKink(etas: readonly number[], bs: readonly number[], tol: number): number | null {
  const b0 = bs[0]!;
  const scale = Math.max(Math.abs(b0), 1e-3);
  for (let i = 1; i < etas.length; i++) if (Math.abs(bs[i]! - b0) > tol * scale) return etas[i]!;
  return null;
}

export interface SweepRow { eta: number; steps: number; finalB: number; testAcc: number; trainLoss: number; finalSharpness: number | null; diverged: boolean }

export async function runSweep(p: SweepParams, ctx: Pick<RunContext, 'rng' | 'progress' | 'metrics' | 'signal' | 'log'> & Partial<Pick<RunContext, 'plot' | 'writeJson'>>): Promise<Record<string, unknown>> {
  const train = sparseCoding(ctx.rng, p.n, p.d, p.lambda);
  const test = sparseCoding(ctx.rng, p.nTest, p.d, p.lambda);
  const initStd = p.initStd >= 0 ? p.initStd : undefined;
  const obj = thresholdObjective(train, test, { model: p.model, variant: p.variant, reduction: p.reduction, initStd });
  const theta0 = obj.init().keep();
  const rows: SweepRow[] = [];
  try {
    // initial sharpness (mean: exact 3×3; full: Lanczos on HVPs) and its eigenvector
    const e0 = hessianEigs(obj, theta0, 1, { method: p.model === 'mean' ? 'dense' : 'lanczos', tol: 1e-10, vectors: true });
    const S0 = e0.values[0]!;
    const v0 = e0.vectors!.toFloat64Array();
    e0.vectors!.dispose();
    const evenModeCos = p.model === 'mean' ? Math.abs(v0[0]! - v0[1]!) / Math.SQRT2 : NaN;
    const etaPred = predictedThreshold(p.d, p.n, p.reduction);
    const etaEmp = 2 / S0;
    const etas = p.etaGrid ? parseGrid(p.etaGrid) : parseGrid(`${etaEmp / 4}:${etaEmp * 4}:13`);
    ctx.log(`initial sharpness ${S0.toFixed(2)} (d²/(4π) = ${predictedMeanModelSharpness(p.d, p.n, p.reduction).toFixed(2)}); η* = 8π/d² = ${etaPred.toExponential(3)}, 2/λ_max(θ₀) = ${etaEmp.toExponential(3)}`);
    const fast = p.model === 'mean' && p.engine === 'fast' ? { tr: new FastMeanModel(train, p.reduction), te: new FastMeanModel(test, 'mean') } : null;
    const th0 = theta0.toFloat64Array();
    const bar = ctx.progress(etas.length, 'η sweep');
    for (const eta of etas) {
      if (ctx.signal.aborted) throw new Error('sweep interrupted');
      const steps = Math.max(1, Math.round(p.time / eta));
      let row: SweepRow;
      if (fast) {
        const init: MeanState = { ap: th0[0]!, am: th0[1]!, b: th0[2]! };
        const r = meanModelGD(fast.tr, init, eta, steps);
        const end = fast.tr.evaluate(r.state, true);
        row = { eta, steps, finalB: r.state.b, testAcc: fast.te.evaluate(r.state).accuracy, trainLoss: end.loss,
          finalSharpness: eigSym3(end.hess!).values[0]!, diverged: r.diverged };
      } else {
        const r = await runGDAsync(obj, { eta, maxSteps: steps, theta0, accFreq: 1e12, testFreq: 1e12, divergeLoss: 1e8, signal: ctx.signal });
        const th = r.theta.toFloat64Array();
        const last = r.trace.at(-1)!;
        const fin = Number.isFinite(last.loss) ? hessianEigs(obj, r.theta, 1, { method: p.model === 'mean' ? 'dense' : 'lanczos', tol: 1e-8 }).values[0]! : null;
        row = { eta, steps, finalB: th[th.length - 1]!, testAcc: obj.test!.accuracy!(r.theta), trainLoss: last.loss, finalSharpness: fin, diverged: r.stopReason === 'diverged' };
        r.theta.dispose();
      }
      rows.push(row);
      ctx.metrics.log({ ...row }, 'sweep');
      bar.tick(1, { eta, b: row.finalB });
      await new Promise((res) => setImmediate(res));
    }
    bar.done();
    const ok = rows.filter((r) => !r.diverged && Number.isFinite(r.finalB));
    const kink = findKink(ok.map((r) => r.eta), ok.map((r) => r.finalB), p.kinkTol);
    const summary = {
      model: obj.name, d: p.d, n: p.n, lambda: p.lambda, time: p.time,
      initialSharpness: S0, predictedSharpness: predictedMeanModelSharpness(p.d, p.n, p.reduction),
      sharpnessRelError: S0 / predictedMeanModelSharpness(p.d, p.n, p.reduction) - 1,
      evenModeCos, etaStarPredicted: etaPred, etaStarEmpirical: etaEmp, kinkEta: kink,
      kinkOverPredicted: kink === null ? null : kink / etaPred, kinkOverEmpirical: kink === null ? null : kink / etaEmp,
      linearClassifierAccuracy: linearAccuracy(p.lambda, p.d), rows,
    };
    if (ctx.plot) {
      const vlines = [{ x: etaPred, label: '8π/d²' }, { x: etaEmp, label: '2/λmax(θ₀)' }];
      const pr = ok.map((r) => ({ eta: r.eta, finalB: r.finalB, testAcc: r.testAcc, series: obj.name }));
      await ctx.plot('bias_vs_eta', curvesSpec(pr, { x: 'eta', y: 'finalB', logX: true, vlines, title: `final bias b vs η (${obj.name}, d=${p.d})` }));
      await ctx.plot('accuracy_vs_eta', curvesSpec(pr, { x: 'eta', y: 'testAcc', logX: true, vlines, title: 'test accuracy vs η',
        hlines: [{ y: linearAccuracy(p.lambda, p.d), label: 'linear Φ(λ/√d)' }] }));
    }
    return summary;
  } finally {
    theta0.dispose();
    torch.dispose(train.X, train.y, test.X, test.y);
  }
}

export interface TrajectoryParams { d: number; n: number; nTest: number; lambda: number; eta: number; time: number; every: number; reduction: Reduction }

/** One mean-model run: a⁺, a⁻, a⁺ − a⁻, b, loss and exact sharpness along the trajectory. */
export async function runMeanTrajectory(p: TrajectoryParams, ctx: Pick<RunContext, 'rng' | 'metrics'> & Partial<Pick<RunContext, 'plot'>>) {
  const train = sparseCoding(ctx.rng, p.n, p.d, p.lambda);
  const test = sparseCoding(ctx.rng, p.nTest, p.d, p.lambda);
  const m = new FastMeanModel(train, p.reduction);
  const steps = Math.round(p.time / p.eta);
  const r = meanModelGD(m, { ap: 0, am: 0, b: 0 }, p.eta, steps, {
    every: p.every, onRow: (x) => ctx.metrics.log({ ...x, diff: x.ap - x.am, twoOverEta: 2 / p.eta }, 'trajectory'),
  });
  const acc = new FastMeanModel(test).evaluate(r.state).accuracy;
  if (ctx.plot) {
    const rows = r.rows.map((x) => ({ ...x, diff: x.ap - x.am }));
    await ctx.plot('trajectory', panelsSpec(rows, 'step', ['ap', 'am', 'diff', 'b', 'loss', 'sharpness'], `mean model, η=${p.eta} (2/η = ${(2 / p.eta).toFixed(1)})`));
  }
  torch.dispose(train.X, train.y, test.X, test.y);
  return { eta: p.eta, twoOverEta: 2 / p.eta, etaStar: predictedThreshold(p.d, p.n, p.reduction), steps, final: r.state, testAcc: acc, diverged: r.diverged,
    finalSharpness: r.rows.at(-1)?.sharpness ?? null };
}

export interface XyParams { loss: XyLoss; x0: number; y0: number; etas: number[]; steps: number }

/** ℓ(xy) sweep: final sharpness vs 2/η and the gradient-flow prediction ℓ''(0)(y₀² − x₀²). */
export async function runXy(p: XyParams, ctx: Pick<RunContext, 'metrics'> & Partial<Pick<RunContext, 'plot'>>) {
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
    await ctx.plot('xy_sharpness', curvesSpec(rows, { x: 'eta', y: 'value', color: 'series', logX: true, title: `ℓ(xy), ℓ=${p.loss}: final sharpness vs η` }));
  }
  return { gfSharpness: gf, runs: out };
}

export type { Objective, SparseCodingData };
