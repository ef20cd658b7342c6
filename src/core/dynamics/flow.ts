// Gradient flow dθ/dt = −∇L(θ) by classical RK4 with step min(α / cached sharpness, maxStep), as
// in the reference (RK4 is stable below roughly 2–3/sharpness). The sharpness is refreshed every
// `eigEvery` RK4 steps.
import * as torch from '../torch/index.ts';
import type { Tensor } from '../torch/index.ts';
import { gradFlat } from '../hessian.ts';
import type { Objective } from './objective.ts';
import { hessianEigs } from './gd.ts';

export interface FlowOptions {
  /** times at which to return θ(t), ascending */
  times: readonly number[];
  alpha?: number;
  maxStep?: number;
  eigEvery?: number;
  signal?: AbortSignal;
}

export interface FlowResult {
  /** θ(t) at each requested time (caller disposes) */
  thetas: Tensor[];
  losses: number[];
  sharpness: number[];
  rk4Steps: number;
}

export function gradientFlow(obj: Objective, theta0: Tensor, o: FlowOptions): FlowResult {
  const alpha = o.alpha ?? 1;
  const maxStep = o.maxStep ?? Infinity;
  const eigEvery = o.eigEvery ?? 20;
  const times = [...o.times];
  for (let i = 1; i < times.length; i++) if (!(times[i]! >= times[i - 1]!)) throw new Error('gradientFlow: times must be ascending');
  const grad = (th: Tensor) => gradFlat(obj.loss, th).grad;
  let theta = theta0.detach().to('float64').clone();
  let t = 0;
  let sharp = NaN;
  let steps = 0;
  const thetas: Tensor[] = [], losses: number[] = [], sharps: number[] = [];
  for (const target of times) {
    while (t < target - 1e-15 * Math.max(1, target)) {
      if (o.signal?.aborted) throw new Error('gradient flow interrupted');
      if (steps % eigEvery === 0 || !Number.isFinite(sharp)) sharp = Math.max(hessianEigs(obj, theta, 1, { tol: 1e-6 }).values[0]!, 1e-12);
      const h = Math.min(alpha / sharp, maxStep, target - t);
      const next = torch.scope(() => {
        const k1 = grad(theta).neg();
        const k2 = grad(theta.add(k1.mul(h / 2))).neg();
        const k3 = grad(theta.add(k2.mul(h / 2))).neg();
        const k4 = grad(theta.add(k3.mul(h))).neg();
        return theta.add(k1.add(k2.mul(2)).add(k3.mul(2)).add(k4).mul(h / 6));
      });
      theta.dispose();
      theta = next;
      t += h;
      steps++;
    }
    thetas.push(theta.clone());
    losses.push(torch.noGrad(() => torch.scope(() => obj.loss(theta).item())));
    sharps.push(sharp);
  }
  theta.dispose();
  return { thetas, losses, sharpness: sharps, rk4Steps: steps };
}
