// Objectives for full-batch training-dynamics experiments: a model as a function of one flat
// float64 parameter vector θ, a data set and a loss (reference conventions of Cohen et al.:
// mean over examples; MSE is 0.5·‖output − target‖² summed over outputs). Working on a flat θ
// makes gradients, Hessian-vector products, momentum and RK4 gradient flow one-liners.
import * as torch from '../torch/index.ts';
import type { Tensor } from '../torch/index.ts';
import { jitterInit } from '../jitter.ts';

export const F64 = { dtype: 'float64' as const };

/** Names and shapes of the parameter blocks inside the flat vector θ. */
export class ParamLayout {
  /** element count of each block, in layout order */
  readonly sizes: number[];
  readonly dim: number;
  constructor(readonly entries: readonly { name: string; shape: readonly number[] }[]) {
    this.sizes = entries.map((e) => e.shape.reduce((a, b) => a * b, 1));
    this.dim = this.sizes.reduce((a, b) => a + b, 0);
  }
  /** Views of θ by name (they keep θ's autograd graph). */
  views(theta: Tensor): Record<string, Tensor> {
    if (theta.ndim !== 1 || theta.numel !== this.dim) {
      throw new Error(`parameter vector has shape [${theta.shape}], the layout needs [${this.dim}]`);
    }
    // one split_with_sizes node: its backward writes θ's gradient in a single cat, where one
    // narrow per block would zero-fill a θ-sized buffer per block and add them all up
    const parts = theta.split(this.sizes, 0);
    const out: Record<string, Tensor> = {};
    this.entries.forEach((e, i) => { out[e.name] = parts[i]!.view([...e.shape]); });
    return out;
  }
  /** Concatenates named blocks (in layout order) into a flat θ. */
  pack(blocks: Record<string, Tensor>): Tensor {
    return torch.scope(() => torch.cat(this.entries.map((e) => {
      const b = blocks[e.name];
      if (!b) throw new Error(`pack: missing block '${e.name}'`);
      return b.reshape(-1).to('float64');
    })));
  }
}

/** A model as a function of (θ-views, inputs). */
export interface FlatModel {
  name: string;
  layout: ParamLayout;
  forward(p: Record<string, Tensor>, x: Tensor): Tensor;
  /** fresh initial θ (float64) drawn from libtorch's generator (seed with torch.manualSeed) */
  init(): Tensor;
  /** the reference's PyTorch state_dict key of each block whose layout name differs from it */
  stateNames?: Record<string, string>;
}

export type LossName = 'mse' | 'ce' | 'logistic';

/**
 * Loss of outputs against targets, averaged over examples.
 * mse: 0.5·Σ_outputs (o − t)²; for classes, t is one-hot. ce: softmax cross-entropy.
 * logistic: log(1 + e^{−y·o}) with y ∈ {−1, +1} and a scalar output.
 */
export function lossOf(name: LossName, out: Tensor, target: Tensor, reduction: 'mean' | 'sum' = 'mean'): Tensor {
  let per: Tensor;
  if (name === 'mse') per = out.sub(target).square().reshape(out.shape[0]!, -1).sum(1).mul(0.5);
  else if (name === 'ce') return torch.F.crossEntropy(out, target, { reduction });
  else if (name === 'logistic') per = out.reshape(-1).mul(target.reshape(-1)).neg().softplus();
  else throw new Error(`unknown loss '${name as string}' (mse, ce, logistic)`);
  return reduction === 'mean' ? per.mean() : per.sum();
}

/** Train/test tensors of a supervised task. y: float targets [n, out] for regression, int64 labels for classes, ±1 for logistic. */
export interface Dataset {
  name: string;
  X: Tensor;
  y: Tensor;
  /** number of classes (0 for regression) */
  classes: number;
  /** optional held-out split */
  Xtest?: Tensor;
  ytest?: Tensor;
}

/** What the GD runner, probes and gradient flow need. */
export interface Objective {
  name: string;
  dim: number;
  /** mean training loss at θ (a scalar tensor with graph w.r.t. θ) */
  loss(theta: Tensor): Tensor;
  /** mean loss over the examples `idx` (int64) — for the SGD variant of runGD (batchSize) */
  batchLoss?(theta: Tensor, idx: Tensor): Tensor;
  /** number of training examples (for mini-batching) */
  size?: number;
  /** loss used for Hessian eigenvalues (the abridged subset); defaults to loss */
  eigLoss?(theta: Tensor): Tensor;
  /** training accuracy in [0, 1] (classification only) */
  accuracy?(theta: Tensor): number;
  test?: { loss(theta: Tensor): Tensor; accuracy?(theta: Tensor): number };
  init(): Tensor;
  /** frees data tensors */
  dispose?(): void;
}

function accuracyOf(loss: LossName, out: Tensor, y: Tensor, classes: number): number {
  return torch.noGrad(() => torch.scope(() => {
    if (loss === 'logistic') return out.reshape(-1).mul(y.reshape(-1)).gt(0).to('float64').mean().item();
    if (classes > 0) return out.argmax(1).eq(y).to('float64').mean().item();
    return NaN;
  }));
}

/**
 * A supervised objective: model + data + loss. For MSE on a classification task the targets are
 * one-hot (reference convention). `abridged` keeps the first N examples for Hessian probes
 * (the reference computes eigenvalues on the first 5000).
 */
export function supervised(model: FlatModel, data: Dataset, loss: LossName, o: { abridged?: number } = {}): Objective {
  const n = data.X.shape[0]!;
  if (data.y.shape[0] !== n) throw new Error(`${data.name}: ${n} inputs but ${data.y.shape[0]} targets`);
  if (loss === 'ce' && data.classes < 2) throw new Error(`${data.name}: cross-entropy needs a classification task`);
  const target = (y: Tensor) => (loss === 'mse' && data.classes > 0)
    ? torch.F.oneHot(y, data.classes).to('float64') : y;
  const T = target(data.y).keep();
  const Ttest = data.ytest ? target(data.ytest).keep() : undefined;
  const nAb = Math.min(n, o.abridged ?? n);
  const Xab = nAb < n ? data.X.narrow(0, 0, nAb).keep() : data.X;
  const Tab = nAb < n ? T.narrow(0, 0, nAb).keep() : T;
  const f = (theta: Tensor, X: Tensor) => model.forward(model.layout.views(theta), X);
  const obj: Objective = {
    name: `${data.name}/${model.name}/${loss}`,
    dim: model.layout.dim,
    loss: (theta) => lossOf(loss, f(theta, data.X), T),
    eigLoss: nAb < n ? (theta) => lossOf(loss, f(theta, Xab), Tab) : undefined,
    batchLoss: (theta, idx) => lossOf(loss, f(theta, data.X.indexSelect(0, idx)), T.indexSelect(0, idx)),
    size: n,
    accuracy: data.classes > 0 || loss === 'logistic'
      ? (theta) => accuracyOf(loss, torch.noGrad(() => f(theta, data.X)), data.y, data.classes) : undefined,
    init: () => model.init(),
    dispose: () => torch.dispose(T, Ttest, nAb < n ? [Xab, Tab] : []),
  };
  if (data.Xtest && data.ytest && Ttest) {
    const Xt = data.Xtest, yt = data.ytest;
    obj.test = {
      loss: (theta) => lossOf(loss, f(theta, Xt), Ttest),
      accuracy: data.classes > 0 || loss === 'logistic'
        ? (theta) => accuracyOf(loss, torch.noGrad(() => f(theta, Xt)), yt, data.classes) : undefined,
    };
  }
  return obj;
}

/** ½ (θ − θ*)ᵀ A (θ − θ*): the quadratic sanity objective (unstable-convergence `quadratic` and `momentum-thresholds`). */
export function quadratic(A: Tensor, o: { center?: Tensor; init?: Tensor; name?: string } = {}): Objective {
  const n = A.shape[0]!;
  if (A.ndim !== 2 || A.shape[1] !== n) throw new Error(`quadratic: A must be square, got [${A.shape}]`);
  const c = o.center;
  return {
    name: o.name ?? `quadratic-${n}`,
    dim: n,
    loss: (theta) => {
      const d = c ? theta.sub(c) : theta;
      return d.dot(A.mv(d)).mul(0.5);
    },
    init: () => jitterInit(o.init ? o.init.clone() : torch.ones([n], F64)),
  };
}

/** A diagonal quadratic with the given spectrum. */
export function quadraticWithSpectrum(spectrum: readonly number[], init?: readonly number[]): Objective {
  const A = torch.tensor([...spectrum], F64).diag().keep();
  const x0 = init ? torch.tensor([...init], F64).keep() : undefined;
  const q = quadratic(A, { init: x0, name: `quadratic-spectrum-${spectrum.length}` });
  q.dispose = () => torch.dispose(A, x0);
  return q;
}
