// Non-smooth: least-absolute-deviation regression with an exact F* = 0 and a flat direction.
import * as torch from '../../../core/torch/index.ts';
import type { Tensor } from '../../../core/torch/index.ts';
import { Rng } from '../../../core/rng.ts';
import { F64, checkDim, type Problem, type ProblemConstants, type Setting } from './problem.ts';

/**
 * Least-absolute-deviation regression F(x) = (1/n)‖Ax − b‖₁ with b = A x_true (so F* = 0 exactly).
 * With `flat` the last feature column is zero, so F is constant along e_d (the flat direction of
 * the lower-bound construction) and its minimizers are x_true + span(e_d).
 * G = min(‖A‖₂/√n, mean_i ‖a_i‖) bounds every subgradient (1/n)Aᵀs, s ∈ [−1, 1]ⁿ.
 */
export class LadProblem implements Problem {
  readonly setting: Setting = 'nonsmooth-convex';
  readonly d: number;
  readonly constants: ProblemConstants;
  readonly fStar = 0;
  readonly flatDirection: Tensor | null;
  readonly eigen = null;
  readonly n: number;

  constructor(readonly name: string, readonly A: Tensor, readonly xTrue: Tensor, readonly u0: Tensor, flat: boolean) {
    this.n = A.shape[0]!;
    this.d = A.shape[1]!;
    this.b = A.mv(xTrue);
    const { G, D } = torch.scope(() => {
      const specNorm = torch.linalg.norm(A, 2).item() / Math.sqrt(this.n);
      const rows = A.norm(2, 1).mean().item();
      const diff = u0.sub(xTrue);
      const dd = flat ? diff.slice(0, 0, this.d - 1).norm().item() : diff.norm().item();
      return { G: Math.min(specNorm, rows), D: dd };
    });
    this.constants = { L: Infinity, mu: 0, G, D };
    this.flatDirection = flat ? lastAxis(this.d, 1, 0) : null;
  }
  readonly b: Tensor;

  value(x: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => x.matmul(this.A.t()).sub(this.b.unsqueeze(0)).abs().mean(1));
  }

  grad(x: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => x.matmul(this.A.t()).sub(this.b.unsqueeze(0)).sign().matmul(this.A).div(this.n));
  }

  dispose(): void {
    torch.dispose(this.A, this.xTrue, this.u0, this.b, this.flatDirection);
  }
}

/** [d] vector with `other` everywhere and `last` in the last entry. */
function lastAxis(d: number, last: number, other: number): Tensor {
  const a = new Float64Array(d).fill(other);
  a[d - 1] = last;
  return torch.tensor(a, F64);
}

/** A random LAD problem (Gaussian design, n ≥ d); u0 at distance D (default 1) from the minimizers. */
export function ladRegression(o: { n: number; d: number; flat?: boolean; D?: number; seed?: number }): LadProblem {
  const { n, d } = o;
  const flat = o.flat ?? true;
  if (!(Number.isInteger(n) && Number.isInteger(d) && d >= 2 && n >= d)) throw new Error(`ladRegression: need integers n >= d >= 2, got n=${n}, d=${d}`);
  const rng = new Rng(o.seed ?? 0);
  const D = o.D ?? 1;
  const parts = torch.scope(() => {
    let A = torch.tensor(rng.normals(n * d), { shape: [n, d], dtype: 'float64' });
    if (flat) A = A.mul(lastAxis(d, 0, 1));
    const xTrue = torch.tensor(rng.normals(d), F64);
    const z = torch.tensor(rng.normals(d), F64);
    const zc = flat ? z.mul(lastAxis(d, 0, 1)) : z;
    const u0 = xTrue.add(zc.div(zc.norm()).mul(D));
    return { A, xTrue, u0 };
  });
  return new LadProblem(`lad(n=${n},d=${d}${flat ? ',flat' : ''})`, parts.A, parts.xTrue, parts.u0, flat);
}
