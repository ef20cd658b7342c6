// The models of "Learning threshold neurons via the edge of stability" (Ahn, Bubeck, Chewi, Lee,
// Suarez, Zhang 2023) as objectives of one flat float64 parameter vector:
//  - the two-layer ReLU net with a single shared bias b (eq. 2), default form [recon]:
//      f(x) = Σᵢ a⁺ᵢ relu(xᵢ + b) − a⁻ᵢ relu(−xᵢ + b)          (first layer fixed to ±eᵢ)
//    alternative [recon] (flag variant = 'first-layer'):
//      f(x) = Σᵢ relu(a⁺ᵢ xᵢ + b) − relu(−a⁻ᵢ xᵢ + b)
//  - the weight-tied mean model [recon]: f(x) = a⁺ Σᵢ relu(xᵢ + b) − a⁻ Σᵢ relu(−xᵢ + b)
//  - the single-neuron model F(x, y) = ℓ(x·y).
// Loss: logistic ℓ_log(y f(x)) = log(1 + e^{−y f}), mean or sum over samples (flag [recon]).
// Tags: [paper] as the paper states it; [recon] our reconstruction where the paper leaves a choice
// open (the module README lists them). Defaults of the options are those of config.ts.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { Objective } from '../../core/dynamics/index.ts';
import { jitterInit } from '../../core/jitter.ts';
import type { SparseCodingData } from './data.ts';
import { defaults, type VARIANTS, type REDUCTIONS, type XY_LOSSES } from './config.ts';

export type NetVariant = (typeof VARIANTS)[number];
export type Reduction = (typeof REDUCTIONS)[number];

/** Per-example outputs of the full two-layer net. θ = [a⁺ (d), a⁻ (d), b]. */
export function fullNetForward(theta: Tensor, X: Tensor, variant: NetVariant = defaults.sweep.variant): Tensor {
  const d = X.shape[1]!;
  if (theta.numel !== 2 * d + 1) throw new Error(`threshold net: θ has ${theta.numel} entries, need 2d + 1 = ${2 * d + 1}`);
  const ap = theta.narrow(0, 0, d), am = theta.narrow(0, d, d), b = theta.narrow(0, 2 * d, 1);
  if (variant === 'output-layer') return X.add(b).relu().mv(ap).sub(X.neg().add(b).relu().mv(am));
  if (variant === 'first-layer') return X.mul(ap).add(b).relu().sum(1).sub(X.mul(am).neg().add(b).relu().sum(1));
  throw new Error(`unknown network variant '${variant as string}' (output-layer, first-layer)`);
}

/** Per-example outputs of the weight-tied mean model. θ = [a⁺, a⁻, b]. */
export function meanModelForward(theta: Tensor, X: Tensor): Tensor {
  if (theta.numel !== 3) throw new Error(`mean model: θ has ${theta.numel} entries, need 3 (a⁺, a⁻, b)`);
  const ap = theta.narrow(0, 0, 1), am = theta.narrow(0, 1, 1), b = theta.narrow(0, 2, 1);
  return X.add(b).relu().sum(1).mul(ap).sub(X.neg().add(b).relu().sum(1).mul(am));
}

function logistic(out: Tensor, y: Tensor, reduction: Reduction): Tensor {
  const per = out.mul(y).neg().softplus(); // log(1 + e^{−y f})
  return reduction === 'mean' ? per.mean() : per.sum();
}

export interface ThresholdModelOptions {
  model: 'full' | 'mean';
  variant?: NetVariant;
  reduction?: Reduction;
  /** init std of a± (default: full 1/√(2d) [paper]; mean 0 [recon]) */
  initStd?: number;
}

/** The training objective (and test accuracy) of a threshold-neuron model on sparse-coding data. */
export function thresholdObjective(train: SparseCodingData, test: SparseCodingData | null, o: ThresholdModelOptions): Objective {
  const d = train.X.shape[1]!;
  const variant = o.variant ?? defaults.sweep.variant;
  const reduction = o.reduction ?? defaults.data.reduction;
  const fwd = o.model === 'mean' ? meanModelForward : (th: Tensor, X: Tensor) => fullNetForward(th, X, variant);
  const dim = o.model === 'mean' ? 3 : 2 * d + 1;
  const std = o.initStd ?? (o.model === 'mean' ? 0 : 1 / Math.sqrt(2 * d));
  const acc = (th: Tensor, X: Tensor, y: Tensor) => torch.noGrad(() => torch.scope(() => fwd(th, X).mul(y).gt(0).to('float64').mean().item()));
  const obj: Objective = {
    name: `threshold-${o.model}${o.model === 'full' ? `-${variant}` : ''}-${reduction}`,
    dim,
    loss: (th) => logistic(fwd(th, train.X), train.y, reduction),
    accuracy: (th) => acc(th, train.X, train.y),
    // a± ~ N(0, std²) entrywise, b = 0 [paper init for the full net]
    init: () => jitterInit(torch.scope(() => torch.cat([torch.randn([dim - 1], { dtype: 'float64' }).mul(std), torch.zeros([1], { dtype: 'float64' })]))),
  };
  if (test) obj.test = { loss: (th) => logistic(fwd(th, test.X), test.y, 'mean'), accuracy: (th) => acc(th, test.X, test.y) };
  return obj;
}

/** Predicted sharpness of the tied model at (0, 0, 0): ℓ''(0)·d²/(2π)·‖(1, −1)‖²/... = d²/(4π) (mean reduction). */
export function predictedMeanModelSharpness(d: number, n = 1, reduction: Reduction = defaults.data.reduction): number {
  return (d * d) / (4 * Math.PI) * (reduction === 'sum' ? n : 1);
}

/** η* = 2 / (d²/(4π)) = 8π/d² (mean reduction). */
export function predictedThreshold(d: number, n = 1, reduction: Reduction = defaults.data.reduction): number {
  return 2 / predictedMeanModelSharpness(d, n, reduction);
}

// ---------------------------------------------------------------- ℓ(xy)
export type XyLoss = (typeof XY_LOSSES)[number];

/** ℓ(s) options: √(1+s²) (ℓ''(0)=1), log(1+e^s)+log(1+e^{−s}) (ℓ''(0)=1/2), and half of the latter (1/4). */
export function xyLoss(name: XyLoss, s: Tensor): Tensor {
  if (name === 'sqrt') return s.square().add(1).sqrt();
  if (name === 'symlogistic') return s.softplus().add(s.neg().softplus());
  if (name === 'halfsymlogistic') return s.softplus().add(s.neg().softplus()).mul(0.5);
  throw new Error(`unknown ℓ '${name as string}' (sqrt, symlogistic, halfsymlogistic)`);
}

export function xyCurvatureAtZero(name: XyLoss): number {
  return name === 'sqrt' ? 1 : name === 'symlogistic' ? 0.5 : 0.25;
}

export function xyObjective(name: XyLoss, x0: number, y0: number): Objective {
  return {
    name: `xy-${name}`,
    dim: 2,
    loss: (th) => xyLoss(name, th.narrow(0, 0, 1).mul(th.narrow(0, 1, 1))).sum(),
    init: () => jitterInit(torch.tensor([x0, y0], { dtype: 'float64' })),
  };
}
