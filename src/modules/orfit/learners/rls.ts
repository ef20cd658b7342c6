// Exponentially weighted recursive least squares (EW-RLS), and NTK-RLS for a nonlinear model: the
// recursion the paper bridges to ORFit (its Proposition 2: λ = 0, Π = I gives ORFit).
import * as torch from '../../../core/torch/index.ts';
import type { StreamModel } from '../models.ts';
import { learnerDefaults } from '../config.ts';
import { BaseLearner, checkOutput, scaledIdentity } from './base.ts';
import type { StepInfo, LearnerState } from './types.ts';

type Tensor = torch.Tensor;

export interface RLSOptions {
  /** forgetting factor 0 ≤ λ ≤ 1 (λ = 1: plain RLS; λ = 0: ORFit, the paper's Proposition 2) */
  lambda?: number;
  /** P_0 = p0 · I, i.e. prior Π = I / p0 (default 1) */
  p0?: number;
}

/**
 * EW-RLS as the paper writes it, on the pairs (a_k, y_k − f_k(w_{k−1}) + a_kᵀw_{k−1}); for a linear
 * model this is plain EW-RLS, for a nonlinear one it is the paper's NTK-RLS (its Theorem 5):
 *   w_i = w_{i−1} + P a (y − f) / (λ^i + aᵀPa),  P_i = P − P a aᵀ P / (λ^i + aᵀPa).
 * Note λ^i (not λ) in the denominators; λ = 0 gives λ^i = 0 for i ≥ 1.
 */
export class EWRLS extends BaseLearner {
  readonly name: string;
  readonly lambda: number; readonly p0: number;
  P: Tensor;
  constructor(model: StreamModel, o: RLSOptions = {}) {
    super(model);
    this.lambda = o.lambda ?? learnerDefaults.lambda;
    this.p0 = o.p0 ?? learnerDefaults.p0;
    if (!(this.lambda >= 0 && this.lambda <= 1)) throw new Error(`EWRLS: lambda must be in [0, 1], got ${o.lambda}`);
    if (!(this.p0 > 0 && Number.isFinite(this.p0))) throw new Error(`EWRLS: p0 must be positive and finite, got ${o.p0}`);
    this.name = model.isLinear ? 'ew-rls' : 'ntk-rls';
    const p = model.numParams;
    this.P = torch.scope(() => scaledIdentity(p, this.p0)).keep();
  }
  protected update(x: Tensor, y: number): StepInfo {
    const where = `${this.name}.observe (point ${this.steps + 1})`;
    const i = this.steps + 1;
    const li = this.lambda === 0 ? 0 : Math.pow(this.lambda, i);
    const plan = torch.scope(() => {
      const { f, a } = this.model.outputAndGrad(x);
      checkOutput(f, a, where, this.model.isLinear);
      const Pa = this.P.mv(a);
      const denom = li + a.dot(Pa).item();
      if (!(denom > 0)) return { r: f - y, skip: true as const };
      const dw = Pa.mul((y - f) / denom);
      return { r: f - y, skip: false as const, dw, Pa, denom };
    });
    this.steps++;
    if (plan.skip) return { step: this.steps, residual: plan.r, skipped: true, stored: 0 };
    // commit: w and P change only here, after every check passed
    this.model.addToParams(plan.dw);
    torch.noGrad(() => this.P.addr_(plan.Pa, plan.Pa, -1 / plan.denom)); // P − Pa Paᵀ / denom, in place
    torch.dispose(plan.dw, plan.Pa);
    return { step: this.steps, residual: plan.r, skipped: false, stored: 0 };
  }
  memoryFloats(): number { return this.P.numel; }
  protected extraState(): LearnerState { return { tensors: { P: this.P.clone() }, meta: { lambda: this.lambda, p0: this.p0 } }; }
  protected loadExtra(s: LearnerState): void {
    const P = s.tensors.P;
    const p = this.model.numParams;
    if (!P || P.shape.join() !== `${p},${p}`) throw new Error(`${this.name}.loadState: field 'P' must have shape [${p}, ${p}]`);
    this.P.dispose();
    this.P = torch.scope(() => P.to('float64').clone()).keep();
  }
  override dispose(): void { this.P.dispose(); }
}
