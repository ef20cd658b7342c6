// The problem interface of the harness, and what every problem shares.
//
// Every problem is vectorized over runs: points are [B, d] float64 tensors, one row per run, so a
// whole Monte Carlo batch of run pairs advances with one tensor op per step.
//   value(x) → [B],  grad(x) → [B, d] (a subgradient for the non-smooth ones).
// Constants: L (smoothness), mu (strong convexity, 0 if none), G (Lipschitz, non-smooth), D = distance
// from the reference start u0 to the nearest minimizer, fStar = min F (exact, not estimated).
// One file per problem family: quadratic.ts (spectrum-prescribed, ridge, the follow-up's), lad.ts
// (non-smooth), logistic.ts (a finite sum on real data).
import * as torch from '../../../core/torch/index.ts';
import type { Tensor } from '../../../core/torch/index.ts';
import { Rng } from '../../../core/rng.ts';

export type Setting = 'smooth-convex' | 'strongly-convex' | 'nonsmooth-convex';

export interface ProblemConstants {
  /** smoothness constant (largest Hessian eigenvalue); Infinity for non-smooth problems */
  L: number;
  /** strong-convexity constant (smallest Hessian eigenvalue); 0 when there is a flat direction */
  mu: number;
  /** Lipschitz constant of F (non-smooth problems); NaN when not used */
  G: number;
  /** ‖u0 − Π_{X*}(u0)‖: distance from the reference start to the nearest minimizer */
  D: number;
}

export interface Problem {
  readonly name: string;
  readonly setting: Setting;
  readonly d: number;
  readonly constants: ProblemConstants;
  /** reference start u0 [d] (the init oracle perturbs around it) */
  readonly u0: Tensor;
  /** exact min F */
  readonly fStar: number;
  /** unit vector [d] along the flattest Hessian direction (the lower-bound direction), or null */
  readonly flatDirection: Tensor | null;
  /** eigen-decomposition of the Hessian for quadratics (closed forms), else null */
  readonly eigen: { values: Float64Array; vectors: Tensor } | null;
  value(x: Tensor): Tensor;
  /** ∇F at every row of x [B, d]: a new [B, d] tensor the caller owns (the stochastic oracle adds its noise to it in place) */
  grad(x: Tensor): Tensor;
  /** finite sums only: number of components n */
  readonly n?: number;
  /** finite sums only: per-run minibatch gradient (1/m)Σ_{i∈idx_b} ∇f_i(x_b), idx [B, m] int64 */
  componentGrad?(x: Tensor, idx: Tensor): Tensor;
  /** finite sums only: exact E‖minibatch gradient − ∇F(x)‖² at a point x [d] for batches of m drawn with replacement */
  minibatchVariance?(x: Tensor, m: number): number;
  /** frees the problem's tensors */
  dispose(): void;
}

export const F64 = { dtype: 'float64' as const };

export function checkDim(name: string, x: Tensor, d: number): void {
  if (x.ndim !== 2 || x.shape[1] !== d) {
    throw new Error(`${name}: expected points of shape [B, ${d}], got [${x.shape}]`);
  }
}

/** Haar-random orthogonal d×d matrix from the seeded generator (QR of a Gaussian, sign-fixed). */
export function randomOrthogonal(d: number, rng: Rng): Tensor {
  return torch.scope(() => {
    const g = torch.tensor(rng.normals(d * d), { shape: [d, d], dtype: 'float64' });
    const [q, r] = torch.linalg.qr(g);
    const s = r.diagonal().sign();
    return q.mul(s.unsqueeze(0)).contiguous();
  });
}
