// Strongly convex F (Zhang et al. 2023's row: Θ(min(δ², ε)) up to μ, L): E4, GD on ridge. Inexact
// init: the deviation decays like q^{2T}δ² (q the GD contraction); inexact gradients: it saturates
// at (2ηδ(1−q^T)/(1−q))² ≤ (2δ/μ)², linear in δ².
import { gradientDescent } from '../optimizers.ts';
import { ridge } from '../problems/index.ts';
import { inexactInit, inexactGradient } from '../oracles.ts';
import { measureDeviation } from '../harness.ts';
import { gdContraction, scInitBound, scInexactBound } from '../bounds.ts';
import { row, summarize, linearFit, logLogPlot, type SweepRow, type SummaryRow } from '../evaluate.ts';
import { SWEEP_PRESETS } from '../config.ts';
import { measured, opts, type SweepContext, type SettingResult } from './context.ts';

/** E4: GD on ridge under inexact init (log-linear decay) and inexact gradients (saturation, vs T and δ²). */
export function settingStronglyConvex(ctx: SweepContext): SettingResult {
  const c = SWEEP_PRESETS[ctx.scale].stronglyConvex;
  const p = ridge({ n: c.n, d: c.d, mu: c.mu, seed: ctx.seed });
  try {
    const { L, mu } = p.constants;
    const lr = 1 / L;
    const q = gdContraction(lr, mu, L);
    const { delta, Ts } = c;
    const rows: SweepRow[] = [];
    const summary: SummaryRow[] = [];
    const rI: SweepRow[] = [], rG: SweepRow[] = [];
    // init: the deviation decays like q^{2T} until it reaches rounding level (~1e-28 for float64
    // iterates of size 1, with relative error ~1e-16/√dev), so sweep T where q^{2T}δ² ≥ 1e-12
    const tMax = Math.max(2, Math.floor(Math.log(1e-12 / (delta * delta)) / (2 * Math.log(q))));
    const TsInit = [...new Set(c.initFractions.map((f) => Math.max(1, Math.round((f * tMax) / 6))))];
    for (const T of TsInit) {
      const a = measured(ctx, `E4 GD init T=${T}`, () => measureDeviation(gradientDescent({ lr }), p, inexactInit(delta, 'adversarial'), T, opts(ctx, { pairs: 2 })));
      rI.push(row('strongly-convex', 'E4-init', 'T', T, a, scInitBound(q, delta, T)));
    }
    for (const T of Ts) {
      const b = measured(ctx, `E4 GD grad T=${T}`, () => measureDeviation(gradientDescent({ lr }), p, inexactGradient(delta, 'adversarial'), T, opts(ctx, { pairs: 2 })));
      rG.push(row('strongly-convex', 'E4-gradient', 'T', T, b, scInexactBound(lr, delta, q, T)));
    }
    rows.push(...rI, ...rG);
    // init: log deviation is linear in T with slope 2·log q (exponential decay)
    const lin = linearFit(rI.map((r) => r.x), rI.map((r) => Math.log(r.max)));
    summary.push({
      setting: 'strongly-convex', oracle: rI[0]!.oracle, method: 'GD', versus: 'T (log-linear rate)', bound: 'q^{2T}δ²',
      boundExponent: 2 * Math.log(q), measuredExponent: lin, slopeStderr: Number.NaN, tolerance: 0.05 * Math.abs(2 * Math.log(q)),
      exponentOk: Math.abs(lin - 2 * Math.log(q)) <= 0.05 * Math.abs(2 * Math.log(q)),
      maxRatioToBound: Math.max(...rI.map((r) => r.max / r.bound)), belowBound: rI.every((r) => r.max <= r.bound * (1 + 1e-9)),
      allEpsOptimal: true, note: `q = ${q.toFixed(4)}; exponent = rate of log-deviation per call`,
    });
    // inexact gradient: saturation, slope 0 over the second half of the sweep
    summary.push(summarize('strongly-convex', rG.slice(Math.floor(rG.length / 2)), { bound: '(2ηδ(1−q^T)/(1−q))² ≤ (2δ/μ)²', exponent: 0, versus: 'T (saturated)', useMax: true }));
    const rD: SweepRow[] = [];
    for (const dl of c.deltas) {
      const T = Ts[Ts.length - 1]!;
      const b = measured(ctx, `E4 GD grad δ=${dl}`, () => measureDeviation(gradientDescent({ lr }), p, inexactGradient(dl, 'adversarial'), T, opts(ctx, { pairs: 2 })));
      rD.push(row('strongly-convex', 'E4-delta', 'delta2', dl * dl, b, scInexactBound(lr, dl, q, T)));
    }
    rows.push(...rD);
    summary.push(summarize('strongly-convex', rD, { bound: '(2δ/μ)²', exponent: 1, versus: 'δ²', useMax: true }));
    const plotI = logLogPlot(`E4 ridge (μ = ${mu.toFixed(3)}, L = ${L.toFixed(3)}): GD deviation vs T`, [...rI, ...rG], 'oracle calls T');
    (plotI.layer as Record<string, any>[])[0]!.encoding.x.scale = { type: 'linear' };
    (plotI.layer as Record<string, any>[])[1]!.encoding.x.scale = { type: 'linear' };
    return { setting: 'strongly-convex', rows, summary, plots: [{ name: 'e4-strongly-convex', spec: plotI }, { name: 'e4-vs-delta2', spec: logLogPlot('E4 saturated deviation vs δ² (slope 1)', rD, 'δ²') }] };
  } finally {
    p.dispose();
  }
}
