// The quadratic sanity cases: GD on ½θᵀAθ with spectrum {1, …, dim} (components with λ > 2/η grow
// with alternating sign), and the 1-D quadratic just below / above each optimizer's maximum stable
// sharpness.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { MetricsWriter } from '../../core/context.ts';
import { runGD, maxStableSharpness, numericStabilityThreshold, quadraticWithSpectrum } from '../../core/dynamics/index.ts';
import { MOMENTA } from './config.ts';

/** GD on ½θᵀAθ, spectrum {1, …, dim}, θ₀ = 1, at η = 2/h for each h: which components grow, and how. */
export function quadraticRuns(p: { dim: number; etaInverseHalf: readonly number[]; steps: number }, metrics: Pick<MetricsWriter, 'log'>) {
  const spectrum = Array.from({ length: p.dim }, (_, i) => i + 1);
  const obj = quadraticWithSpectrum(spectrum, spectrum.map(() => 1));
  const out: Record<string, unknown>[] = [];
  try {
    for (const h of p.etaInverseHalf) {
      const eta = 2 / h;
      let theta: Tensor = obj.init();
      const start = theta.toFloat64Array();
      const signs: number[][] = [];
      for (let t = 0; t < p.steps; t++) {
        const next = torch.scope(() => theta.sub(torch.tensor(spectrum, { dtype: 'float64' }).mul(theta).mul(eta)));
        theta.dispose(); theta = next;
        signs.push(Array.from(theta.toFloat64Array(), Math.sign));
      }
      const final = Array.from(theta.toFloat64Array());
      theta.dispose();
      // growing: more than doubled over the run. The component at λ = 2/η exactly is neutral (factor
      // |1 − ηλ| = 1, up to rounding of η·λ): a bare |x_T| > |x_0| would classify it by its last digits.
      const growing = spectrum.filter((_, i) => Math.abs(final[i]!) > 2 * Math.abs(start[i]!));
      const alternating = growing.every((lam) => signs.every((s, t) => t === 0 || s[lam - 1] === -signs[t - 1]![lam - 1]!));
      for (const lam of spectrum) metrics.log({ eta, lambda: lam, finalAbs: Math.abs(final[lam - 1]!) }, 'components');
      out.push({
        eta, threshold: 2 / eta, growingFrom: growing.length ? Math.min(...growing) : null, growingCount: growing.length,
        alternatingSigns: alternating, maxAbs: Math.max(...final.map(Math.abs)),
      });
    }
  } finally {
    obj.dispose?.();
  }
  return { runs: out };
}

/**
 * 1-D quadratic ½λx² with λ just below / above each optimizer's maximum stable sharpness, run through
 * the GD runner itself (its plain, Polyak and Nesterov updates). The closed-form threshold is also
 * checked against a numerical bisection of the recursion's spectral radius.
 */
export function momentumThresholdRows(
  p: { eta: number; beta: number; margin: number; steps: number },
  /** receives each run's |x_t| per step (x_t from the loss ½λx_t²) */
  onTrajectory?: (optimizer: string, side: 'below' | 'above', lambda: number, absX: { step: number; absX: number }[]) => void,
) {
  const rows: Record<string, unknown>[] = [];
  for (const m of MOMENTA) {
    const mss = maxStableSharpness(p.eta, m, p.beta);
    const numeric = numericStabilityThreshold(p.eta, m, p.beta);
    const final: Record<string, { x: number; stop: string }> = {};
    for (const [label, f] of [['below', 1 - p.margin], ['above', 1 + p.margin]] as const) {
      const obj = quadraticWithSpectrum([mss * f], [1]);
      const r = runGD(obj, { eta: p.eta, momentum: m, beta: p.beta, maxSteps: p.steps, divergeLoss: 1e12, lossGoal: 1e-30 });
      final[label] = { x: Math.abs(r.theta.toFloat64Array()[0]!), stop: r.stopReason };
      onTrajectory?.(m, label, mss * f, r.trace.map((q) => ({ step: q.step, absX: Math.sqrt((2 * q.loss) / (mss * f)) })));
      r.theta.dispose(); r.velocity?.dispose();
      obj.dispose?.();
    }
    rows.push({ optimizer: m, beta: m === 'none' ? 0 : p.beta, mss, numericThreshold: numeric,
      finalBelow: final.below!.x, stopBelow: final.below!.stop, finalAbove: final.above!.x, stopAbove: final.above!.stop,
      convergesBelow: final.below!.x < 1e-6, divergesAbove: final.above!.stop === 'diverged' });
  }
  return rows;
}
