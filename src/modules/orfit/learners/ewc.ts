// Online EWC [ours: not in the paper]: a continual-learning comparator for the dashboard. It needs an
// extra hyperparameter (the penalty strength), so no claim of the paper rests on it.
import * as torch from '../../../core/torch/index.ts';
import type { StreamModel } from '../models.ts';
import { learnerDefaults } from '../config.ts';
import { BaseLearner, checkOutput, gradientStepOptions } from './base.ts';
import type { StepInfo, LearnerState } from './types.ts';

type Tensor = torch.Tensor;

export interface EWCOptions {
  /** penalty strength λ */
  lambda?: number;
  lr?: number;
  innerSteps?: number;
}

/**
 * Online EWC with one point per task: minimize ½(f − y)² + (λ/2) Σ_i F_i (w_i − w*_i)² by a few
 * gradient steps, where F is the running diagonal Fisher of earlier points (for squared loss,
 * Σ_k a_k², with a_k the output gradient after learning point k) and w* the parameters after the
 * previous point.
 */
export class EWC extends BaseLearner {
  readonly name = 'ewc';
  readonly lambda: number; readonly lr: number; readonly innerSteps: number;
  fisher: Tensor; anchor: Tensor;
  constructor(model: StreamModel, o: EWCOptions = {}) {
    super(model);
    this.lambda = o.lambda ?? learnerDefaults.ewcLambda;
    if (!(this.lambda >= 0)) throw new Error(`EWC: lambda must be ≥ 0, got ${o.lambda}`);
    ({ lr: this.lr, innerSteps: this.innerSteps } = gradientStepOptions('EWC', o));
    this.fisher = torch.zeros([model.numParams], { dtype: 'float64' }).keep();
    this.anchor = model.getParams().keep();
  }
  protected update(x: Tensor, y: number): StepInfo {
    const where = `ewc.observe (point ${this.steps + 1})`;
    const w0 = this.model.getParams();
    let r0 = NaN;
    try {
      const plan = torch.scope(() => {
        for (let s = 0; s < this.innerSteps; s++) {
          torch.scope(() => {
            const { f, a } = this.model.outputAndGrad(x);
            checkOutput(f, a, where, this.model.isLinear);
            if (s === 0) r0 = f - y;
            const penalty = this.model.getParams().sub(this.anchor).mul(this.fisher).mul(this.lambda);
            this.model.addToParams(a.mul(f - y).add(penalty).mul(-this.lr));
          });
        }
        const { f, a } = this.model.outputAndGrad(x);
        checkOutput(f, a, where, this.model.isLinear);
        return { fisher: this.fisher.add(a.square()), anchor: this.model.getParams() };
      });
      this.fisher.dispose(); this.anchor.dispose();
      this.fisher = plan.fisher.keep(); this.anchor = plan.anchor.keep();
    } catch (e) {
      this.model.setParams(w0);
      throw e;
    } finally {
      w0.dispose();
    }
    this.steps++;
    return { step: this.steps, residual: r0, skipped: false, stored: 0 };
  }
  memoryFloats(): number { return 2 * this.model.numParams; }
  protected extraState(): LearnerState { return { tensors: { fisher: this.fisher.clone(), anchor: this.anchor.clone() }, meta: {} }; }
  protected loadExtra(s: LearnerState): void {
    const { fisher, anchor } = s.tensors;
    const p = this.model.numParams;
    if (!fisher || !anchor || fisher.numel !== p || anchor.numel !== p) throw new Error(`ewc.loadState: fields 'fisher' and 'anchor' need ${p} values`);
    this.fisher.dispose(); this.anchor.dispose();
    this.fisher = torch.scope(() => fisher.to('float64').reshape(-1).clone()).keep();
    this.anchor = torch.scope(() => anchor.to('float64').reshape(-1).clone()).keep();
  }
  override dispose(): void { this.fisher.dispose(); this.anchor.dispose(); }
}
