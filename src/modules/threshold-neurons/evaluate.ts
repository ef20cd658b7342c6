// What the sweep measures: the initial sharpness and its eigenvector (against the mean model's
// d²/(4π) and even mode), and the kink of the final bias b(η).
import { hessianEigs, type Objective } from '../../core/dynamics/index.ts';
import type { Tensor } from '../../core/torch/index.ts';

/**
 * λ_max of the Hessian at θ₀ (mean model: exact 3×3; full net: Lanczos on HVPs) and, for the mean
 * model, |cos| of its eigenvector with the even mode (1, −1, 0)/√2 (NaN for the full net).
 */
export function initialSharpness(obj: Objective, theta0: Tensor, model: 'mean' | 'full'): { sharpness: number; evenModeCos: number } {
  const e0 = hessianEigs(obj, theta0, 1, { method: model === 'mean' ? 'dense' : 'lanczos', tol: 1e-10, vectors: true });
  const v0 = e0.vectors!.toFloat64Array();
  e0.vectors!.dispose();
  return { sharpness: e0.values[0]!, evenModeCos: model === 'mean' ? Math.abs(v0[0]! - v0[1]!) / Math.SQRT2 : NaN };
}

/** The kink of b(η): the first η (ascending) where b leaves its small-η value by more than tol relative. */
export function findKink(etas: readonly number[], bs: readonly number[], tol: number): number | null {
  const b0 = bs[0]!;
  const scale = Math.max(Math.abs(b0), 1e-3);
  for (let i = 1; i < etas.length; i++) if (Math.abs(bs[i]! - b0) > tol * scale) return etas[i]!;
  return null;
}
