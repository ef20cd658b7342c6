// Smooth convex F, deterministic oracles (Ahn et al. 2022's first two rows of tight bounds):
// E1 inexact initialization (GD stays within δ², Θ(δ²); AGD is badly non-reproducible) and
// E2 inexact gradients (4η²δ²T² for T steps, Θ(δ²/ε²) at the accuracy budget T = LD²/ε).
import type { Optimizer } from '../optimizers.ts';
import { gradientDescent, nesterovAGD, regularized } from '../optimizers.ts';
import { spectrumQuadratic, followUpQuadratic } from '../problems/index.ts';
import { inexactInit, inexactGradient } from '../oracles.ts';
import { measureDeviation } from '../harness.ts';
import { gdInitBound, gdInexactBound, regGdInexactBound } from '../bounds.ts';
import { row, summarize, logLogPlot, type SweepRow, type SummaryRow } from '../evaluate.ts';
import { SWEEP_PRESETS } from '../config.ts';
import { measured, opts, logSpaced, type SweepContext, type SettingResult } from './context.ts';

// ------------------------------------------------------------------ E1: inexact initialization
/** E1: GD, AGD, Reg-GD, Reg-AGD on the follow-up's quadratic under inexact init (worst-case and sphere starts). */
export function settingSmoothInit(ctx: SweepContext): SettingResult {
  const c = SWEEP_PRESETS[ctx.scale].smoothInit;
  const { T, delta } = c;
  const R = ctx.pairs ?? c.pairs;
  const p = followUpQuadratic({ d: c.d, seed: ctx.seed });
  try {
    const L = p.constants.L, r = c.lambda;
    const kap = (L + r) / r, beta = (Math.sqrt(kap) - 1) / (Math.sqrt(kap) + 1);
    const methods: Optimizer[] = [
      gradientDescent({ lr: 1 / L }), nesterovAGD({ lr: 1 / L }),
      regularized(gradientDescent({ lr: 1 / (L + r) }), r), regularized(nesterovAGD({ lr: 1 / (L + r), momentum: beta }), r),
    ];
    const rec = [1, ...logSpaced(3, T, c.records)];
    const rows: SweepRow[] = [];
    const summary: SummaryRow[] = [];
    for (const opt of methods) {
      for (const mode of ['adversarial', 'sphere'] as const) {
        const res = measured(ctx, `E1 ${opt.name} init-${mode}`, () => measureDeviation(opt, p, inexactInit(delta, mode), T, opts(ctx, { pairs: R, recordAt: rec })));
        const rs = res.trace.filter((q) => q.t > 0).map((q) => ({
          setting: 'smooth-convex', experiment: 'E1', method: opt.name, oracle: res.oracle, xName: 't', x: q.t, mean: q.mean, lo: q.lo,
          hi: q.hi, max: q.max, bound: opt.name.startsWith('GD') ? gdInitBound(delta) : Number.NaN, closedForm: Number.NaN,
          stderr: q.stderr, subopt: q.subopt, epsilon: null, epsOptimal: true, pairs: R,
        } satisfies SweepRow));
        rows.push(...rs);
        if (opt.name !== 'GD' && mode === 'adversarial') {
          const s0 = summarize('smooth-convex', rs.filter((q) => q.x >= 10), { bound: 'none (comparator)', exponent: Number.NaN, versus: 'T', useMax: true, tolerance: Infinity,
            note: `max deviation ${Math.max(...rs.map((q) => q.max)).toExponential(3)} vs δ² = ${(delta * delta).toExponential(1)}` });
          summary.push({ ...s0, exponentOk: true, belowBound: true });
        }
        if (opt.name === 'GD' && mode === 'adversarial') {
          summary.push(summarize('smooth-convex', rs.filter((q) => q.x >= 10), {
            bound: 'δ² (Θ(δ²), GD non-expansive)', exponent: 0, versus: 'T', useMax: true,
            note: 'worst case (±δ/2 along the flat direction); sphere starts lie lower',
          }));
        }
      }
    }
    const agdMax = Math.max(...rows.filter((q) => q.method === 'AGD').map((q) => q.max));
    const gdMax = Math.max(...rows.filter((q) => q.method === 'GD').map((q) => q.max));
    ctx.log?.(`E1: max deviation GD ${gdMax.toExponential(3)}, AGD ${agdMax.toExponential(3)} (δ² = ${delta * delta})`);
    const plot = logLogPlot(`E1 inexact init (δ = ${delta}, ${p.name}): GD stays ≤ δ²`, rows, 'iteration t');
    return { setting: 'smooth-init', rows, summary, plots: [{ name: 'e1-inexact-init', spec: plot }] };
  } finally {
    p.dispose();
  }
}

// ------------------------------------------------------------------ E2: inexact deterministic gradient
/** E2: GD with δ-inexact gradients on a quadratic with a flat direction: slope 2 in T, −2 in ε at T = LD²/ε; Reg-GD capped at (2δ/λ)². */
export function settingSmoothGradient(ctx: SweepContext): SettingResult {
  const c = SWEEP_PRESETS[ctx.scale].smoothGradient;
  const p = spectrumQuadratic({ eigenvalues: c.eigenvalues, seed: ctx.seed, D: 1 });
  const R = ctx.pairs ?? c.pairs;
  const delta = c.delta;
  try {
    const { L, D } = p.constants;
    const lr = 1 / L;
    const rows: SweepRow[] = [];
    const summary: SummaryRow[] = [];
    // T sweep at fixed δ: deviation = 4η²δ²T² exactly for the adversarial oracle
    const Ts = c.Ts;
    for (const mode of ['adversarial', 'random'] as const) {
      const rs: SweepRow[] = [];
      for (const T of Ts) {
        const res = measured(ctx, `E2 GD grad-${mode} T=${T}`, () => measureDeviation(gradientDescent({ lr }), p, inexactGradient(delta, mode), T, opts(ctx, { pairs: mode === 'adversarial' ? 2 : R })));
        rs.push(row('smooth-convex', 'E2-T', 'T', T, res, gdInexactBound(lr, delta, T)));
      }
      rows.push(...rs);
      if (mode === 'adversarial') {
        summary.push(summarize('smooth-convex', rs, { bound: '4η²δ²T²', exponent: 2, versus: 'T', useMax: true, note: 'equality on the flat direction' }));
      }
    }
    // ε sweep at the accuracy budget T = ⌈LD²/ε⌉: deviation = 4δ²D⁴/ε² → slope −2
    const epss = c.epss;
    const re: SweepRow[] = [];
    const rr: SweepRow[] = [];
    for (const eps of epss) {
      const T = Math.ceil((L * D * D) / eps);
      const res = measured(ctx, `E2 GD eps=${eps}`, () => measureDeviation(gradientDescent({ lr }), p, inexactGradient(delta, 'adversarial'), T, opts(ctx, { pairs: 2, epsilon: eps })));
      re.push(row('smooth-convex', 'E2-eps', 'epsilon', eps, res, gdInexactBound(lr, delta, T)));
      // Reg-GD with λ = ε/D²: capped at (2δ/λ)² whatever T
      const lam = eps / (D * D);
      const lrr = 1 / (L + lam);
      const rg = measured(ctx, `E2 Reg-GD eps=${eps}`, () => measureDeviation(regularized(gradientDescent({ lr: lrr }), lam), p, inexactGradient(delta, 'adversarial'), 4 * T, opts(ctx, { pairs: 2, epsilon: eps })));
      rr.push(row('smooth-convex', 'E2-eps', 'epsilon', eps, rg, regGdInexactBound(lrr, delta, lam, 0, L, 4 * T)));
    }
    rows.push(...re, ...rr);
    summary.push(summarize('smooth-convex', re, { bound: '4δ²D⁴/ε² at T = LD²/ε (Θ(δ²/ε²))', exponent: -2, versus: 'ε', useMax: true }));
    summary.push(summarize('smooth-convex', rr, { bound: '(2δ/λ)², λ = ε/D² (run 4× the budget: no growth in T)', exponent: -2, versus: 'ε', useMax: true, note: 'regularization: same order, not better' }));
    return {
      setting: 'smooth-gradient', rows, summary, plots: [
        { name: 'e2-inexact-gradient-vs-T', spec: logLogPlot(`E2 GD, δ-inexact gradients (δ = ${delta}): slope 2 in T`, rows.filter((q) => q.experiment === 'E2-T'), 'oracle calls T') },
        { name: 'e2-inexact-gradient-vs-eps', spec: logLogPlot('E2 at the accuracy budget T = LD²/ε: slope −2 in ε', rows.filter((q) => q.experiment === 'E2-eps'), 'ε') },
      ],
    };
  } finally {
    p.dispose();
  }
}
