// A-GEM [ours: not in the paper]: a continual-learning comparator for the dashboard. It stores raw
// data (a replay buffer), so no claim of the paper rests on it.
import * as torch from '../../../core/torch/index.ts';
import type { StreamModel } from '../models.ts';
import { learnerDefaults } from '../config.ts';
import { BaseLearner, checkOutput, gradientStepOptions } from './base.ts';
import type { StepInfo, LearnerState } from './types.ts';

type Tensor = torch.Tensor;

export interface AGEMOptions {
  /** replay buffer size (most recent points) */
  buffer?: number;
  lr?: number;
  innerSteps?: number;
}

/**
 * A-GEM (Chaudhry et al., ICLR 2019) with one point per task: gradient steps on the new point; when
 * the step's gradient g conflicts with the mean loss gradient g_ref on a replay buffer of recent
 * points (gᵀg_ref < 0), it is projected: g ← g − (gᵀg_ref / ‖g_ref‖²) g_ref. Stores raw data.
 */
export class AGEM extends BaseLearner {
  readonly name = 'a-gem';
  readonly bufferSize: number; readonly lr: number; readonly innerSteps: number;
  private xs: Tensor[] = [];
  private ys: number[] = [];
  /** inner steps whose gradient was projected so far */
  projections = 0;
  constructor(model: StreamModel, o: AGEMOptions = {}) {
    super(model);
    this.bufferSize = o.buffer ?? learnerDefaults.buffer;
    if (!Number.isInteger(this.bufferSize) || this.bufferSize < 1) throw new Error(`AGEM: buffer must be a positive integer, got ${o.buffer}`);
    ({ lr: this.lr, innerSteps: this.innerSteps } = gradientStepOptions('AGEM', o));
  }
  /** mean gradient of ½(f − y)² over the buffer (null when empty) */
  referenceGradient(): Tensor | null {
    if (this.xs.length === 0) return null;
    return torch.scope(() => {
      let g = torch.zeros([this.model.numParams], { dtype: 'float64' });
      this.xs.forEach((xb, j) => {
        const { f, a } = this.model.outputAndGrad(xb);
        g = g.add(a, (f - this.ys[j]!) / this.xs.length);
      });
      return g;
    });
  }
  protected update(x: Tensor, y: number): StepInfo {
    const where = `a-gem.observe (point ${this.steps + 1})`;
    const w0 = this.model.getParams();
    let r0 = NaN, projected = 0;
    try {
      for (let s = 0; s < this.innerSteps; s++) {
        torch.scope(() => {
          const { f, a } = this.model.outputAndGrad(x);
          checkOutput(f, a, where, this.model.isLinear);
          if (s === 0) r0 = f - y;
          let g = a.mul(f - y);
          const gr = this.referenceGradient();
          if (gr) {
            const dot = g.dot(gr).item(), nn = gr.dot(gr).item();
            if (dot < 0 && nn > 0) { g = g.sub(gr.mul(dot / nn)); projected++; }
          }
          this.model.addToParams(g.mul(-this.lr));
        });
      }
    } catch (e) {
      this.model.setParams(w0);
      throw e;
    } finally {
      w0.dispose();
    }
    this.projections += projected;
    this.xs.push(x.clone().keep());
    this.ys.push(y);
    if (this.xs.length > this.bufferSize) { this.xs.shift()!.dispose(); this.ys.shift(); }
    this.steps++;
    return { step: this.steps, residual: r0, skipped: false, stored: this.xs.length };
  }
  memoryFloats(): number { return this.xs.length * (this.model.numParams + 1); }
  protected extraState(): LearnerState {
    const shape = [this.xs.length, ...this.model.inputShape];
    return {
      tensors: { bufferX: this.xs.length ? torch.stack(this.xs) : torch.zeros(shape, { dtype: 'float64' }), bufferY: torch.tensor(Float64Array.from(this.ys), { dtype: 'float64' }) },
      meta: { projections: this.projections },
    };
  }
  protected loadExtra(s: LearnerState): void {
    const { bufferX, bufferY } = s.tensors;
    if (!bufferX || !bufferY || bufferX.shape[0] !== bufferY.numel) throw new Error('a-gem.loadState: fields \'bufferX\' and \'bufferY\' must hold the same number of points');
    for (const t of this.xs) t.dispose();
    this.xs = torch.scope(() => bufferX.to('float64').unbind(0).map((t) => t.contiguous())).map((t) => t.keep());
    this.ys = bufferY.toArray();
    this.projections = Number(s.meta.projections ?? 0);
  }
  override dispose(): void { for (const t of this.xs) t.dispose(); this.xs = []; }
}
