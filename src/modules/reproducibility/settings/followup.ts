// E6: a replication of the numerical experiment of Zhang, Yang, Karbasi, He 2023: ½‖Ax − b‖² with one
// flat direction, oracle ∇F + δ𝟙 in one run and the exact gradient in the other, step 0.01,
// regularization 0.05. Expected: AGD fastest but with by far the largest deviation; Reg-AGD and
// Reg-GD much smaller deviation at a small cost in convergence; Reg-GD below GD.
import { gradientDescent, nesterovAGD, regularized } from '../optimizers.ts';
import { followUpQuadratic } from '../problems/index.ts';
import { inexactGradient } from '../oracles.ts';
import { measureDeviation, fitLogLog } from '../harness.ts';
import { logLogPlot, type SweepRow, type SummaryRow } from '../evaluate.ts';
import { SWEEP_PRESETS } from '../config.ts';
import { measured, opts, logSpaced, type SweepContext, type SettingResult } from './context.ts';

/** E6: GD, AGD, Reg-GD, Reg-AGD on the follow-up's quadratic: deviation and suboptimality vs iteration. */
export function settingFollowup(ctx: SweepContext): SettingResult {
  const c = SWEEP_PRESETS[ctx.scale].followup;
  const T = c.T;
  const p = followUpQuadratic({ d: c.d, seed: ctx.seed });
  try {
    const { lr, lambda: r, delta } = c;
    const methods = [gradientDescent({ lr }), nesterovAGD({ lr }), regularized(gradientDescent({ lr }), r), regularized(nesterovAGD({ lr }), r)];
    const rec = logSpaced(10, T, c.records);
    const rows: SweepRow[] = [];
    for (const opt of methods) {
      const res = measured(ctx, `E6 ${opt.name}`, () => measureDeviation(opt, p, inexactGradient(delta, 'ones'), T, opts(ctx, { pairs: 1, recordAt: rec })));
      for (const q of res.trace) {
        rows.push({ setting: 'smooth-convex', experiment: 'E6', method: opt.name, oracle: res.oracle, xName: 't', x: q.t, mean: q.mean, lo: q.lo, hi: q.hi, max: q.max,
          bound: Number.NaN, closedForm: Number.NaN, stderr: 0, subopt: q.subopt, epsilon: null, epsOptimal: true, pairs: 1 });
      }
    }
    const last = (name: string) => rows.filter((q) => q.method === name && q.x === T)[0]!;
    const summary: SummaryRow[] = methods.map((o) => ({
      setting: 'smooth-convex (follow-up E6)', oracle: `grad-ones(δ=${delta})`, method: o.name, versus: 'T', bound: 'none (replication)',
      boundExponent: Number.NaN, measuredExponent: fitLogLog(
        rows.filter((q) => q.method === o.name).map((q) => q.x),
        rows.filter((q) => q.method === o.name).map((q) => q.mean),
      ).slope,
      slopeStderr: Number.NaN, tolerance: Number.NaN, exponentOk: true, maxRatioToBound: Number.NaN, belowBound: true, allEpsOptimal: true,
      note: `deviation ${last(o.name).mean.toExponential(2)}, suboptimality ${last(o.name).subopt.toExponential(2)} at T = ${T}`,
    }));
    const sub = { title: 'E6 suboptimality vs iteration', width: 460, height: 260, data: { values: rows.map((q) => ({ t: q.x, subopt: q.subopt, method: q.method })) },
      mark: { type: 'line', point: true }, encoding: { x: { field: 't', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'subopt', type: 'quantitative', scale: { type: 'log' }, title: 'F(x) − F*' }, color: { field: 'method', type: 'nominal' } } };
    return { setting: 'followup', rows, summary, plots: [
      { name: 'e6-followup-deviation', spec: logLogPlot(`E6 follow-up replication (${p.name}, oracle ∇F + δ𝟙, δ = ${delta})`, rows, 'iteration t') },
      { name: 'e6-followup-suboptimality', spec: sub },
    ] };
  } finally {
    p.dispose();
  }
}
