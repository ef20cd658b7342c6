// Smooth convex F, stochastic gradients: the computation–reproducibility trade-off of Ahn et al.
// 2022 (tight deviation Θ(δ²/(ε²T)) for T oracle calls). E3: averaged SGD with η = D²/(εT) on a
// quadratic with a flat direction, next to the exact closed form (sgdQuadraticDeviation): slope −1
// in T, +1 in δ², −2 in ε. The −1 slope in T is universal for averaging; the −2 in ε shows only where
// flat directions dominate (a curved direction h contributes ≈ 2s²/(h²T), free of ε).
import { sgdAveraged, sgdLast } from '../optimizers.ts';
import { spectrumQuadratic } from '../problems/index.ts';
import { stochasticGradient } from '../oracles.ts';
import { measureDeviation, fitConstant } from '../harness.ts';
import { sgdBound, sgdQuadraticDeviation } from '../bounds.ts';
import { row, summarize, logLogPlot, type SweepRow, type SummaryRow } from '../evaluate.ts';
import { SWEEP_PRESETS, type Scale, type SweepPreset } from '../config.ts';
import { measured, opts, type SweepContext, type SettingResult } from './context.ts';

/** E3's sizes at a scale (config.ts), with `pairs` when given. */
export type StochasticConfig = SweepPreset['stochastic'];

export function stochasticConfig(scale: Scale, pairs?: number): StochasticConfig {
  const c = SWEEP_PRESETS[scale].stochastic;
  return { ...c, pairs: pairs ?? c.pairs };
}

/** E3: the trade-off plot (deviation vs T at fixed ε) with δ and ε sweeps, and the achieved suboptimality. */
export function settingStochastic(ctx: SweepContext): SettingResult {
  const cfg = stochasticConfig(ctx.scale, ctx.pairs);
  const p = spectrumQuadratic({ eigenvalues: cfg.eigenvalues, seed: ctx.seed, D: 1 });
  try {
    const { D, L } = p.constants;
    const eig = p.eigen!.values;
    const rows: SweepRow[] = [];
    const summary: SummaryRow[] = [];
    const lrFor = (eps: number, T: number) => {
      const lr = (D * D) / (eps * T);
      if (lr > 1 / L) throw new Error(`stochastic sweep: step D²/(εT) = ${lr} exceeds 1/L at T=${T}, ε=${eps}; raise T`);
      return lr;
    };
    const one = (opt: 'avg' | 'last', eps: number, delta: number, T: number, exp: string, xName: string, x: number) => {
      const lr = lrFor(eps, T);
      const o = opt === 'avg' ? sgdAveraged(lr) : sgdLast(lr);
      const out = opt === 'avg' ? 'average' : 'last';
      const res = measured(ctx, `E3 ${o.name} ε=${eps} δ=${delta} T=${T}`, () => measureDeviation(o, p, stochasticGradient(delta), T, opts(ctx, { pairs: cfg.pairs, epsilon: eps })));
      return row('smooth-convex', exp, xName, x, res, sgdBound(lr, delta, T, out), sgdQuadraticDeviation(eig, (delta * delta) / p.d, lr, T, out));
    };
    const rT = cfg.Ts.map((T) => one('avg', cfg.eps, cfg.delta, T, 'E3-T', 'T', T));
    const rL = cfg.Ts.map((T) => one('last', cfg.eps, cfg.delta, T, 'E3-T', 'T', T));
    const rD = cfg.deltas.map((dl) => one('avg', cfg.eps, dl, cfg.TforSweeps, 'E3-delta', 'delta2', dl * dl));
    const rE = cfg.epss.map((e) => one('avg', e, cfg.delta, cfg.TforSweeps, 'E3-eps', 'epsilon', e));
    rows.push(...rT, ...rL, ...rD, ...rE);
    summary.push(summarize('smooth-convex', rT, { bound: 'η²δ²(T+1) ≈ δ²D⁴/(ε²T), η = D²/(εT)', exponent: -1, versus: 'T', note: 'Θ(δ²/(ε²T)): more calls, less deviation' }));
    summary.push(summarize('smooth-convex', rL, { bound: '2η²δ²T (last iterate)', exponent: -1, versus: 'T', note: 'common choice; same rate, larger constant' }));
    summary.push(summarize('smooth-convex', rD, { bound: 'η²δ²(T+1)', exponent: 1, versus: 'δ²' }));
    summary.push(summarize('smooth-convex', rE, { bound: 'η²δ²(T+1), η = D²/(εT)', exponent: -2, versus: 'ε', note: 'flat direction dominates' }));
    // fitted constant of the Θ(δ²/(ε²T)) line, reported
    const C = fitConstant(rT.map((q) => q.x), rT.map((q) => q.mean), -1) * (cfg.eps ** 2) / (cfg.delta ** 2 * D ** 4);
    ctx.log?.(`E3: fitted constant of δ²D⁴/(ε²T): ${C.toFixed(3)} (flat-direction theory 2/(3d) = ${(2 / (3 * p.d)).toFixed(3)})`);
    return {
      setting: 'stochastic', rows, summary, plots: [
        { name: 'e3-stochastic-vs-T', spec: logLogPlot(`E3 SGD, ε = ${cfg.eps}, δ = ${cfg.delta}: the trade-off (slope −1)`, [...rT, ...rL], 'oracle calls T') },
        { name: 'e3-stochastic-vs-delta2', spec: logLogPlot(`E3 SGD-avg at T = ${cfg.TforSweeps}: slope +1 in δ²`, rD, 'δ²') },
        { name: 'e3-stochastic-vs-eps', spec: logLogPlot(`E3 SGD-avg at T = ${cfg.TforSweeps}: slope −2 in ε`, rE, 'ε') },
        { name: 'e3-suboptimality-vs-T', spec: { title: `E3 achieved suboptimality (target ε = ${cfg.eps})`, width: 460, height: 260, data: { values: [...rT, ...rL].map((q) => ({ T: q.x, subopt: q.subopt, method: q.method })) }, layer: [
          { mark: { type: 'line', point: true }, encoding: { x: { field: 'T', type: 'quantitative', scale: { type: 'log' } }, y: { field: 'subopt', type: 'quantitative', scale: { type: 'log' }, title: 'E F(x̂) − F*' }, color: { field: 'method', type: 'nominal' } } },
          { data: { values: [{ y: cfg.eps }] }, mark: { type: 'rule', strokeDash: [4, 4] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
        ] } },
      ],
    };
  } finally {
    p.dispose();
  }
}
