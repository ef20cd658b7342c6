// The streaming interface every learner implements: observe(x, y) once per stream point, predict(x)
// at any time, state()/loadState() to continue a stream elsewhere.
import type { Tensor } from '../../../core/torch/index.ts';
import type { StreamModel } from '../models.ts';

export type SampleInput = Tensor | readonly number[] | Float64Array;

/** What one observe() did. residual = f(x; w_before) − y (the error the step corrects). */
export interface StepInfo {
  step: number;
  residual: number;
  skipped: boolean;
  /** number of stored directions (or 0 for learners without a basis) */
  stored: number;
  /** ORFit: ‖ã‖, the norm of the new gradient orthogonal to the stored ones (0 when skipped) */
  directionNorm?: number;
}

export interface LearnerState {
  tensors: Record<string, Tensor>;
  meta: Record<string, number | string | boolean | null>;
}

export interface StreamLearner {
  readonly name: string;
  readonly model: StreamModel;
  /** points observed so far */
  readonly steps: number;
  observe(x: SampleInput, y: number): StepInfo;
  predict(x: SampleInput): number;
  /** predictions for a batch [n, ...inputShape] → [n] */
  predictBatch(X: Tensor): Tensor;
  /** floats held by the learner besides w (basis, covariance, ...) */
  memoryFloats(): number;
  /** everything needed to continue the stream (tensors are copies owned by the caller) */
  state(): LearnerState;
  loadState(s: LearnerState): void;
  dispose(): void;
}
