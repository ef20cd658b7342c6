// The Kalman-filter form of RLS (ours: a comparator beside EW-RLS; with R_i = λ^i it is EW-RLS).
import * as torch from '../../../core/torch/index.ts';
import type { StreamModel } from '../models.ts';
import { learnerDefaults } from '../config.ts';
import { BaseLearner, checkOutput, scaledIdentity } from './base.ts';
import type { StepInfo, LearnerState } from './types.ts';

type Tensor = torch.Tensor;

export interface KalmanOptions {
  /** P_0 = p0 · I (prior covariance of w) */
  p0?: number;
  /** measurement-noise variance R (constant), or 'ew' with lambda: R_i = λ^i (the EW-RLS equivalence) */
  R?: number | 'ew';
  lambda?: number;
  /** process-noise variance q: P ← P + qI before each update (random-walk weights); 0 = static */
  q?: number;
}

/**
 * The Kalman-filter form of RLS (extended Kalman filter for a nonlinear model) with the Joseph-form
 * covariance update: S = aᵀPa + R, K = Pa/S, w ← w + K(y − f),
 * P ← (I − K aᵀ) P (I − K aᵀ)ᵀ + R K Kᵀ  (written with rank-one terms, O(p²)).
 * With q = 0 and R_i = λ^i it equals EW-RLS; R → 0 approaches ORFit.
 */
export class KalmanRLS extends BaseLearner {
  readonly name = 'kalman';
  readonly p0: number; readonly R: number | 'ew'; readonly lambda: number; readonly q: number;
  P: Tensor;
  constructor(model: StreamModel, o: KalmanOptions = {}) {
    super(model);
    this.p0 = o.p0 ?? learnerDefaults.p0;
    this.R = o.R ?? learnerDefaults.R;
    this.lambda = o.lambda ?? learnerDefaults.lambda;
    this.q = o.q ?? learnerDefaults.q;
    if (!(this.p0 > 0)) throw new Error(`KalmanRLS: p0 must be positive, got ${o.p0}`);
    if (this.R !== 'ew' && !(this.R >= 0)) throw new Error(`KalmanRLS: R must be ≥ 0 or 'ew', got ${o.R}`);
    if (!(this.lambda >= 0 && this.lambda <= 1)) throw new Error(`KalmanRLS: lambda must be in [0, 1], got ${o.lambda}`);
    if (!(this.q >= 0)) throw new Error(`KalmanRLS: q must be ≥ 0, got ${o.q}`);
    const p = model.numParams;
    this.P = torch.scope(() => scaledIdentity(p, this.p0)).keep();
  }
  protected update(x: Tensor, y: number): StepInfo {
    const where = `kalman.observe (point ${this.steps + 1})`;
    const i = this.steps + 1;
    const R = this.R === 'ew' ? (this.lambda === 0 ? 0 : Math.pow(this.lambda, i)) : this.R;
    const plan = torch.scope(() => {
      const { f, a } = this.model.outputAndGrad(x);
      checkOutput(f, a, where, this.model.isLinear);
      // predicted covariance P + qI, applied to a without forming it
      const Pa = this.q > 0 ? this.P.mv(a).add(a, this.q) : this.P.mv(a);
      const S = a.dot(Pa).item() + R;
      if (!(S > 0)) return { r: f - y, skip: true as const };
      const K = Pa.div(S);
      const dw = K.mul(y - f);
      return { r: f - y, skip: false as const, dw, Pa, K, S };
    });
    this.steps++;
    if (plan.skip) return { step: this.steps, residual: plan.r, skipped: true, stored: 0 };
    this.model.addToParams(plan.dw);
    if (this.q > 0) torch.noGrad(() => torch.scope(() => { this.P.diagonal().add_(this.q); }));
    // Joseph form: P − K(Pa)ᵀ − (Pa)Kᵀ + (aᵀPa + R) K Kᵀ, in place
    torch.noGrad(() => { this.P.addr_(plan.K, plan.Pa, -1).addr_(plan.Pa, plan.K, -1).addr_(plan.K, plan.K, plan.S); });
    torch.dispose(plan.dw, plan.Pa, plan.K);
    return { step: this.steps, residual: plan.r, skipped: false, stored: 0 };
  }
  memoryFloats(): number { return this.P.numel; }
  protected extraState(): LearnerState { return { tensors: { P: this.P.clone() }, meta: {} }; }
  protected loadExtra(s: LearnerState): void {
    const P = s.tensors.P;
    const p = this.model.numParams;
    if (!P || P.shape.join() !== `${p},${p}`) throw new Error(`kalman.loadState: field 'P' must have shape [${p}, ${p}]`);
    this.P.dispose();
    this.P = torch.scope(() => P.to('float64').clone()).keep();
  }
  override dispose(): void { this.P.dispose(); }
}
