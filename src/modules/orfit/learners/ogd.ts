// OGD (Farajtabar et al., AISTATS 2020) with one point per task, the paper's continual-learning baseline.
import * as torch from '../../../core/torch/index.ts';
import type { StreamModel } from '../models.ts';
import { learnerDefaults } from '../config.ts';
import { BaseLearner, checkOutput, gradientStepOptions } from './base.ts';
import { RowBasis, projectOut } from './basis.ts';
import type { StepInfo, LearnerState } from './types.ts';

type Tensor = torch.Tensor;

export interface OGDOptions {
  /** learning rate α of the inner gradient steps [ours: default 1e-3] */
  lr?: number;
  /** plain gradient steps per arriving point [ours: default 10] */
  innerSteps?: number;
  /** memory limit (latest m kept); default unlimited */
  memory?: number;
  tol?: number;
}

/**
 * OGD (Farajtabar et al., AISTATS 2020) with one point per task, as the paper describes it:
 * several gradient steps on ½(f − y)², each projected onto the complement of the stored gradients,
 * then the output gradient at the parameters *after* training is orthogonalized and stored.
 */
export class OGD extends BaseLearner {
  readonly name = 'ogd';
  readonly lr: number; readonly innerSteps: number; readonly memory: number; readonly tol: number;
  private readonly basis: RowBasis;
  get U(): Tensor | null { return this.basis.U; }
  constructor(model: StreamModel, o: OGDOptions = {}) {
    super(model);
    this.basis = new RowBasis(model.numParams);
    ({ lr: this.lr, innerSteps: this.innerSteps } = gradientStepOptions('OGD', o));
    this.memory = o.memory ?? Infinity;
    this.tol = o.tol ?? learnerDefaults.tol;
  }
  /** v − Uᵀ(U v), twice (CGS2) */
  private proj(v: Tensor): Tensor { return projectOut(this.U, v, true, this.basis.Ut); }
  protected update(x: Tensor, y: number): StepInfo {
    const where = `ogd.observe (point ${this.steps + 1})`;
    const w0 = this.model.getParams();
    let r0 = NaN;
    try {
      for (let s = 0; s < this.innerSteps; s++) {
        torch.scope(() => {
          const { f, a } = this.model.outputAndGrad(x);
          checkOutput(f, a, where, this.model.isLinear);
          if (s === 0) r0 = f - y;
          this.model.addToParams(this.proj(a.mul(f - y)).mul(-this.lr));
        });
      }
      const u = torch.scope(() => {
        const { f, a } = this.model.outputAndGrad(x);
        checkOutput(f, a, where, this.model.isLinear);
        const at = this.proj(a);
        const n = at.norm().item();
        return n > this.tol * a.norm().item() ? at.div(n) : null;
      });
      if (u) {
        this.basis.append(u);
        u.dispose();
        if (this.basis.k > this.memory) this.basis.remove(0);
      }
    } catch (e) {
      this.model.setParams(w0); // leave the state as it was
      throw e;
    } finally {
      w0.dispose();
    }
    this.steps++;
    return { step: this.steps, residual: r0, skipped: false, stored: this.U ? this.U.shape[0]! : 0 };
  }
  memoryFloats(): number { return this.U ? this.U.numel : 0; }
  protected extraState(): LearnerState {
    return { tensors: { U: this.U ? this.U.clone() : torch.zeros([0, this.model.numParams], { dtype: 'float64' }) }, meta: {} };
  }
  protected loadExtra(s: LearnerState): void {
    const U = s.tensors.U;
    if (!U || U.ndim !== 2 || U.shape[1] !== this.model.numParams) throw new Error(`ogd.loadState: field 'U' must have shape [k, ${this.model.numParams}]`);
    torch.scope(() => this.basis.replace(U.shape[0] ? U.to('float64') : null));
  }
  override dispose(): void { this.basis.dispose(); }
}
