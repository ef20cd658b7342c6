// Gradient descent of the η sweep: one run per step size from the same θ₀, by the closed-form
// mean-model evaluator (mean-model.ts) or by libtorch autograd (core/dynamics runGDAsync), each
// reduced to the row the sweep reports.
import { runGDAsync, hessianEigs, type Objective } from '../../core/dynamics/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { FastMeanModel, meanModelGD, eigSym3 } from './mean-model.ts';
import type { SparseCodingData } from './data.ts';
import type { Reduction } from './model.ts';

export interface SweepRow { eta: number; steps: number; finalB: number; testAcc: number; trainLoss: number; finalSharpness: number | null; diverged: boolean }

/** The mean model's train and test sets in the closed-form evaluator. */
export interface FastPair { tr: FastMeanModel; te: FastMeanModel }

export function fastPair(train: SparseCodingData, test: SparseCodingData, reduction: Reduction): FastPair {
  return { tr: new FastMeanModel(train, reduction), te: new FastMeanModel(test, 'mean') };
}

/** One mean-model GD run from θ₀ = (a⁺, a⁻, b) by the closed-form evaluator. */
export function sweepRunFast(m: FastPair, theta0: Float64Array, eta: number, steps: number): SweepRow {
  const r = meanModelGD(m.tr, { ap: theta0[0]!, am: theta0[1]!, b: theta0[2]! }, eta, steps);
  const end = m.tr.evaluate(r.state, true);
  return {
    eta, steps, finalB: r.state.b, testAcc: m.te.evaluate(r.state).accuracy, trainLoss: end.loss,
    finalSharpness: eigSym3(end.hess!).values[0]!, diverged: r.diverged,
  };
}

/** One GD run from θ₀ through libtorch autograd; the bias b is θ's last entry. */
export async function sweepRunAutograd(obj: Objective, theta0: Tensor, eta: number, steps: number, eig: 'dense' | 'lanczos', signal: AbortSignal): Promise<SweepRow> {
  const r = await runGDAsync(obj, { eta, maxSteps: steps, theta0, accFreq: 1e12, testFreq: 1e12, divergeLoss: 1e8, signal });
  try {
    const th = r.theta.toFloat64Array();
    const last = r.trace.at(-1)!;
    const fin = Number.isFinite(last.loss) ? hessianEigs(obj, r.theta, 1, { method: eig, tol: 1e-8 }).values[0]! : null;
    return { eta, steps, finalB: th[th.length - 1]!, testAcc: obj.test!.accuracy!(r.theta), trainLoss: last.loss, finalSharpness: fin, diverged: r.stopReason === 'diverged' };
  } finally {
    r.theta.dispose();
  }
}
