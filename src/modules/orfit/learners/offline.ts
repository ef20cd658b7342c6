// Offline references: they need all the data at once, so they are not streaming learners. ORFit's one
// pass lands on the min-norm interpolant, the point multi-pass SGD converges to (the paper's Theorem 3).
import * as torch from '../../../core/torch/index.ts';

type Tensor = torch.Tensor;

/** The paper's Theorem 3 / Corollary 4 in closed form: w_0 + X⁺(Y − X w_0), the min-norm interpolant from w_0 (needs all data). */
export function minNormInterpolant(X: Tensor, Y: Tensor, w0?: Tensor): Tensor {
  return torch.scope(() => {
    const Xd = X.to('float64');
    const Yd = Y.to('float64').reshape(-1);
    const rhs = w0 ? Yd.sub(Xd.mv(w0)) : Yd;
    // X⁺ r via the SVD (stable for ill-conditioned X): V Σ⁻¹ Uᵀ r, tiny singular values dropped
    const [U, S, Vh] = torch.linalg.svd(Xd, false);
    const s = S.toFloat64Array();
    const cut = (s[0] ?? 0) * Math.max(...Xd.shape) * 2.220446049250313e-16;
    const inv = torch.tensor(Float64Array.from(s, (v) => (v > cut ? 1 / v : 0)), { dtype: 'float64' });
    const sol = Vh.t().mv(U.t().mv(rhs).mul(inv));
    return w0 ? sol.add(w0) : sol;
  });
}

export interface MultiPassOptions {
  lr: number;
  epochs: number;
  /** called after each epoch with the current w (do not keep it) */
  onEpoch?: (epoch: number, w: Tensor) => void;
  /** also called after these global step numbers (1-based), e.g. log-spaced checkpoints */
  onStep?: { at: Set<number>; fn: (step: number, w: Tensor) => void };
  signal?: AbortSignal;
}

/**
 * Vanilla multi-pass SGD on the linear model (the paper's reference for unlimited memory): cyclic single-sample steps on ½(wᵀx − y)²
 * with a fixed step size, in stream order, from w_0. Returns the final w.
 */
export function multiPassSGD(X: Tensor, Y: Tensor, w0: Tensor, o: MultiPassOptions): Tensor {
  const [K] = X.shape;
  const y = torch.scope(() => Y.to('float64').reshape(-1).toFloat64Array());
  const w = torch.scope(() => w0.to('float64').clone()).keep();
  const rows = torch.scope(() => X.to('float64').unbind(0));
  let step = 0;
  try {
    for (let e = 1; e <= o.epochs; e++) {
      if (o.signal?.aborted) throw new Error('multiPassSGD: interrupted');
      for (let k = 0; k < K!; k++) {
        const xk = rows[k]!;
        torch.noGrad(() => torch.scope(() => {
          const r = w.dot(xk).item() - y[k]!;
          w.add_(xk, -o.lr * r);
        }));
        step++;
        if (o.onStep?.at.has(step)) o.onStep.fn(step, w);
      }
      o.onEpoch?.(e, w);
    }
  } finally {
    torch.dispose(rows);
  }
  return w;
}
