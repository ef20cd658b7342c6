// Greedy, the paper's extreme-forgetting baseline.
import * as torch from '../../../core/torch/index.ts';
import { BaseLearner } from './base.ts';
import type { StepInfo, LearnerState } from './types.ts';

type Tensor = torch.Tensor;

/** Greedy (the paper's baseline): ignores the input and predicts the most recent label (0 before any label, ours). */
export class Greedy extends BaseLearner {
  readonly name = 'greedy';
  last = 0;
  protected update(_x: Tensor, y: number): StepInfo {
    const r = this.last - y;
    this.last = y;
    this.steps++;
    return { step: this.steps, residual: r, skipped: false, stored: 0 };
  }
  protected override predictChecked(X: Tensor): Tensor {
    return torch.full([X.shape[0]!], this.last, { dtype: 'float64' });
  }
  memoryFloats(): number { return 1; }
  protected extraState(): LearnerState { return { tensors: {}, meta: { last: this.last } }; }
  protected loadExtra(s: LearnerState): void { this.last = Number(s.meta.last ?? 0); }
}
