// Shared plumbing of the learners: input checks (shape, dtype, finiteness) that run before any state
// change, and a base class whose observe() validates first and then calls the learner's update.
import * as torch from '../../../core/torch/index.ts';
import type { StreamModel } from '../models.ts';
import { learnerDefaults } from '../config.ts';
import type { SampleInput, StepInfo, LearnerState, StreamLearner } from './types.ts';

type Tensor = torch.Tensor;

/**
 * Input check shared by every learner: shape, dtype, finiteness. Throws before any state change.
 * Returns a float64 tensor the caller must dispose (a fresh view/copy; x itself is never mutated).
 */
export function toSample(x: SampleInput, shape: readonly number[], where: string): Tensor {
  let t: Tensor;
  if (x instanceof torch.Tensor) {
    if (x.isDisposed) throw new Error(`${where}: x is a disposed tensor`);
    if (x.shape.length !== shape.length || x.shape.some((s, i) => s !== shape[i])) {
      throw new Error(`${where}: dimension mismatch: x has shape [${x.shape}] but the model expects [${shape}]`);
    }
    if (x.dtype !== 'float64' && x.dtype !== 'float32') throw new Error(`${where}: x must be a floating tensor, got ${x.dtype}`);
    // finiteness checked on a host copy (one native call instead of three tensor ops)
    const data = x.toTypedArray() as Float64Array | Float32Array;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) throw new Error(`${where}: x contains NaN or Inf (entry ${i})`);
    t = x.dtype === 'float64' && !x.requiresGrad ? x.view(shape) : torch.noGrad(() => torch.scope(() => x.detach().to('float64').clone()));
  } else {
    const n = shape.reduce((a, b) => a * b, 1);
    if (x.length !== n) throw new Error(`${where}: dimension mismatch: x has ${x.length} values but the model expects ${n} (shape [${shape}])`);
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]!)) throw new Error(`${where}: x contains NaN or Inf (entry ${i})`);
    t = torch.tensor(Float64Array.from(x as ArrayLike<number>), { shape, dtype: 'float64' });
  }
  return t;
}

/** s·I as a float64 [p, p] tensor: eye's one pass over p² entries, then its diagonal set (no second pass). */
export function scaledIdentity(p: number, s: number): Tensor {
  const P = torch.eye(p, p, { dtype: 'float64' });
  if (s !== 1) P.diagonal().fill_(s);
  return P;
}

export function checkTarget(y: number, where: string): void {
  if (typeof y !== 'number' || !Number.isFinite(y)) throw new Error(`${where}: target y must be a finite number, got ${y}`);
}

/** Shared plumbing: validation first, then a learner-specific update that mutates state only at its end. */
export abstract class BaseLearner implements StreamLearner {
  abstract readonly name: string;
  steps = 0;
  constructor(readonly model: StreamModel) {}
  protected abstract update(x: Tensor, y: number): StepInfo;
  observe(x: SampleInput, y: number): StepInfo {
    const where = `${this.name}.observe (point ${this.steps + 1})`;
    checkTarget(y, where);
    const t = toSample(x, this.model.inputShape, where);
    try {
      return this.update(t, y);
    } finally {
      t.dispose();
    }
  }
  predict(x: SampleInput): number {
    const t = toSample(x, this.model.inputShape, `${this.name}.predict`);
    try {
      return torch.scope(() => this.predictBatch(t.unsqueeze(0)).item());
    } finally {
      t.dispose();
    }
  }
  predictBatch(X: Tensor): Tensor {
    const s = this.model.inputShape;
    if (X.ndim !== s.length + 1 || s.some((d, i) => X.shape[i + 1] !== d)) {
      throw new Error(`${this.name}.predictBatch: dimension mismatch: X has shape [${X.shape}] but needs [n, ${s}]`);
    }
    return this.predictChecked(X);
  }
  /** predictions for a batch whose shape was checked */
  protected predictChecked(X: Tensor): Tensor { return this.model.predictBatch(X); }
  abstract memoryFloats(): number;
  protected abstract extraState(): LearnerState;
  protected abstract loadExtra(s: LearnerState): void;
  state(): LearnerState {
    const e = this.extraState();
    return { tensors: { w: this.model.getParams(), ...e.tensors }, meta: { name: this.name, steps: this.steps, ...e.meta } };
  }
  loadState(s: LearnerState): void {
    if (s.meta.name !== this.name) throw new Error(`${this.name}.loadState: the state belongs to '${s.meta.name}'`);
    const w = s.tensors.w;
    if (!w) throw new Error(`${this.name}.loadState: field 'w' is missing`);
    if (w.numel !== this.model.numParams) throw new Error(`${this.name}.loadState: field 'w' has ${w.numel} values, the model has ${this.model.numParams} parameters`);
    this.loadExtra(s);
    torch.scope(() => this.model.setParams(w.to('float64')));
    this.steps = Number(s.meta.steps);
  }
  dispose(): void {}
}

/** Finite check of the model's output and gradient (a NaN here must not reach w). */
export function checkOutput(f: number, a: Tensor, where: string, aIsInput = false): void {
  if (!Number.isFinite(f)) throw new Error(`${where}: the model output is not finite (${f})`);
  // a linear model's gradient is the (already validated) input itself
  if (!aIsInput && !torch.scope(() => a.isfinite().all().item())) throw new Error(`${where}: the model gradient contains NaN or Inf`);
}

/** lr and innerSteps of the gradient-step baselines (OGD, EWC, A-GEM), with their defaults, checked. */
export function gradientStepOptions(who: string, o: { lr?: number; innerSteps?: number }): { lr: number; innerSteps: number } {
  const lr = o.lr ?? learnerDefaults.lr, innerSteps = o.innerSteps ?? learnerDefaults.innerSteps;
  if (!(lr > 0)) throw new Error(`${who}: lr must be positive, got ${o.lr}`);
  if (!Number.isInteger(innerSteps) || innerSteps < 1) throw new Error(`${who}: innerSteps must be a positive integer, got ${o.innerSteps}`);
  return { lr, innerSteps };
}
