// A finite sum on real data: L2-regularized one-vs-rest logistic regression, x* and F* by Newton.
import * as torch from '../../../core/torch/index.ts';
import type { Tensor } from '../../../core/torch/index.ts';
import { F64, checkDim, type Problem, type ProblemConstants, type Setting } from './problem.ts';

/** log(1 + e^u) computed without overflow or the threshold approximation of softplus. */
function softplusExact(u: Tensor): Tensor {
  return torch.scope(() => u.relu().add(u.abs().neg().exp().log1p()));
}

/**
 * L2-regularized logistic regression F(x) = (1/n)Σ log(1 + exp(−y_i a_iᵀx)) + (μ/2)‖x‖², labels ±1
 * (a finite sum with known constants: L = ‖A‖₂²/(4n) + μ, strong convexity μ; x*, F* by damped
 * Newton to machine precision, so suboptimalities are exact to ~1e-15).
 */
export class LogisticProblem implements Problem {
  readonly setting: Setting = 'strongly-convex';
  readonly d: number;
  readonly n: number;
  readonly constants: ProblemConstants;
  readonly fStar: number;
  readonly xStar: Tensor;
  readonly flatDirection: Tensor;
  readonly eigen = null;
  readonly newtonSteps: number;

  constructor(readonly name: string, readonly A: Tensor, readonly y: Tensor, readonly mu: number, readonly u0: Tensor) {
    if (A.ndim !== 2 || y.ndim !== 1 || y.shape[0] !== A.shape[0]) throw new Error(`${name}: A must be [n, d] and y [n]`);
    if (!(mu > 0)) throw new Error(`${name}: mu must be > 0 (the unregularized problem may have no minimizer), got ${mu}`);
    this.n = A.shape[0]!;
    this.d = A.shape[1]!;
    const L = torch.scope(() => torch.linalg.norm(A, 2).item()) ** 2 / (4 * this.n) + mu;
    // damped Newton from 0
    let x = torch.zeros([1, this.d], F64);
    let steps = 0;
    for (; steps < 100; steps++) {
      const next = torch.scope(() => {
        const g = this.grad(x);
        const z = x.matmul(A.t()).squeeze(0);
        const sg = z.mul(y).sigmoid();
        const w = sg.mul(sg.rsub(1)).div(this.n);
        const H = A.t().mul(w.unsqueeze(0)).matmul(A).add(torch.eye(this.d, this.d, F64).mul(mu));
        const dir = torch.linalg.solve(H, g.t()).t();
        const f0 = this.value(x).item();
        let t = 1;
        let cand = x.sub(dir.mul(t));
        while (this.value(cand).item() > f0 && t > 1e-8) { t /= 2; cand = x.sub(dir.mul(t)); }
        return { cand, gn: g.norm().item() };
      });
      x.dispose();
      x = next.cand;
      if (next.gn < 1e-13) break;
    }
    this.newtonSteps = steps;
    this.xStar = x.squeeze(0);
    this.fStar = torch.scope(() => this.value(x).item());
    const { D, flat } = torch.scope(() => {
      const z = x.matmul(A.t()).squeeze(0);
      const sg = z.mul(y).sigmoid();
      const w = sg.mul(sg.rsub(1)).div(this.n);
      const H = A.t().mul(w.unsqueeze(0)).matmul(A).add(torch.eye(this.d, this.d, F64).mul(mu));
      const [, vecs] = torch.linalg.eigh(H.add(H.t()).mul(0.5));
      return { D: u0.sub(this.xStar).norm().item(), flat: vecs.select(1, 0).contiguous() };
    });
    x.dispose();
    this.flatDirection = flat;
    this.constants = { L, mu, G: Number.NaN, D };
  }

  value(x: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => softplusExact(x.matmul(this.A.t()).mul(this.y.unsqueeze(0)).neg()).mean(1).add(x.square().sum(1).mul(this.mu / 2)));
  }

  grad(x: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => {
      const m = x.matmul(this.A.t()).mul(this.y.unsqueeze(0));
      const s = m.neg().sigmoid().mul(this.y.unsqueeze(0)).neg();
      return s.matmul(this.A).div(this.n).add(x, this.mu);
    });
  }

  componentGrad(x: Tensor, idx: Tensor): Tensor {
    checkDim(this.name, x, this.d);
    return torch.scope(() => {
      const Ai = this.A.index([idx]);                 // [B, m, d]
      const yi = this.y.index([idx]);                 // [B, m]
      const z = Ai.bmm(x.unsqueeze(2)).squeeze(2);    // [B, m]
      const s = z.mul(yi).neg().sigmoid().mul(yi).neg();
      return s.unsqueeze(1).bmm(Ai).squeeze(1).div(idx.shape[1]!).add(x, this.mu);
    });
  }

  minibatchVariance(x: Tensor, m: number): number {
    return torch.scope(() => {
      const xr = x.reshape(1, this.d);
      const z = xr.matmul(this.A.t()).mul(this.y.unsqueeze(0)).squeeze(0);
      const s = z.neg().sigmoid().mul(this.y).neg();               // [n]
      const gi = this.A.mul(s.unsqueeze(1));                       // per-component data gradients [n, d]
      const mean = gi.mean(0, true);
      return gi.sub(mean).square().sum(1).mean().item() / m;
    });
  }

  dispose(): void {
    torch.dispose(this.A, this.y, this.u0, this.xStar, this.flatDirection);
  }
}

/**
 * One-vs-rest logistic regression on a labelled dataset (features scaled to [0, 1] by the global
 * maximum, a bias column appended): label `positive` → +1, every other label → −1. u0 = 0.
 */
export function logisticFromData(data: { X: Float64Array; y: Float64Array; n: number; p: number; file?: string },
  o: { positive: number; mu: number; bias?: boolean; maxRows?: number }): LogisticProblem {
  const n = Math.min(data.n, o.maxRows ?? data.n);
  if (n < 2) throw new Error(`${data.file ?? 'data'}: need at least 2 rows, got ${n}`);
  let mx = 0;
  for (let i = 0; i < n * data.p; i++) mx = Math.max(mx, Math.abs(data.X[i]!));
  const bias = o.bias ?? true;
  const d = data.p + (bias ? 1 : 0);
  const A = new Float64Array(n * d), y = new Float64Array(n);
  let pos = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < data.p; j++) A[i * d + j] = mx > 0 ? data.X[i * data.p + j]! / mx : 0;
    if (bias) A[i * d + data.p] = 1;
    y[i] = data.y[i] === o.positive ? 1 : -1;
    if (y[i] === 1) pos++;
  }
  if (pos === 0 || pos === n) throw new Error(`${data.file ?? 'data'}: label ${o.positive} gives a single class (${pos} of ${n} positive)`);
  return new LogisticProblem(`logistic(${o.positive}-vs-rest, n=${n}, d=${d}, mu=${o.mu})`,
    torch.tensor(A, { shape: [n, d], dtype: 'float64' }), torch.tensor(y, F64), o.mu, torch.zeros([d], F64));
}
