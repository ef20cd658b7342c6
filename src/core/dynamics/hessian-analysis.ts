// The Hessian of a saved model on its data, as PyHessian reports it (Yao et al. 2020): top-k
// eigenvalues, the trace (Hutchinson) and the spectral density (SLQ), for the whole model or
// restricted to one parameter tensor's diagonal block H_bb = P_b H P_b ("per layer").
// Hessian-vector products are accumulated over physical batches as PyHessian's
// dataloader_hv_product and Cohen et al.'s compute_hvp do: H v = Σ_b (|b|/N) H_b v.
import * as torch from '../torch/index.ts';
import type { Tensor } from '../torch/index.ts';
import { InputFileError } from '../errors.ts';
import { hvpOperator, lanczos, hutchinsonTrace, slqDensity, type MatVec, type SlqRun } from '../hessian.ts';
import type { FlatModel, Objective } from './objective.ts';

/** BatchNorm buffers in a state dict: not parameters (batch statistics are used, as in training). */
const BUFFER = /(^|\.)(running_mean|running_var|num_batches_tracked)$/;

/**
 * θ from a state dict: every layout block by its reference name (model.stateNames) or its layout
 * name, or a flat 'theta' vector (the `eos` checkpoints). Errors name the file and the key.
 */
export function thetaFromStateDict(model: FlatModel, sd: Record<string, Tensor>, file: string): { theta: Tensor; unused: string[] } {
  if (sd.theta && Object.keys(sd).every((k) => k === 'theta' || k === 'velocity')) {
    if (sd.theta.numel !== model.layout.dim) {
      throw new InputFileError(`${file}: key 'theta' has ${sd.theta.numel} values, model ${model.name} has ${model.layout.dim} parameters`, { file });
    }
    return { theta: torch.scope(() => sd.theta!.reshape(-1).to('float64')), unused: Object.keys(sd).filter((k) => k !== 'theta') };
  }
  const used = new Set<string>();
  const blocks: Record<string, Tensor> = {};
  for (const e of model.layout.entries) {
    const key = [model.stateNames?.[e.name], e.name].find((k) => k !== undefined && k in sd);
    if (key === undefined) {
      const want = model.stateNames?.[e.name] ?? e.name;
      throw new InputFileError(`${file}: no key '${want}' (model ${model.name} needs ${model.layout.entries.length} parameter tensors; the file has ${Object.keys(sd).length} keys)`, { file });
    }
    const t = sd[key]!;
    if (t.shape.join(',') !== e.shape.join(',')) {
      throw new InputFileError(`${file}: key '${key}' has shape [${t.shape.join(', ')}], model ${model.name} needs [${e.shape.join(', ')}]`, { file });
    }
    blocks[e.name] = t;
    used.add(key);
  }
  const unused = Object.keys(sd).filter((k) => !used.has(k) && !BUFFER.test(k));
  return { theta: model.layout.pack(blocks), unused };
}

/**
 * H·v of the mean loss over `size` examples, one physical batch at a time (each HVP rebuilds the
 * batch's gradient graph, so memory holds one batch). Without batchLoss, or with one batch, the
 * whole loss is used once and its graph kept.
 */
export function batchedHvp(obj: Objective, theta: Tensor, physicalBatch?: number): { matvec: MatVec; n: number; loss: number; dispose(): void } {
  const th = theta.detach().clone().requiresGrad_().keep();
  const N = obj.size ?? 0;
  if (!obj.batchLoss || !physicalBatch || physicalBatch >= N) {
    const op = hvpOperator(() => obj.loss(th), [th]);
    return { matvec: op.matvec, n: op.n, loss: op.loss, dispose: () => { op.dispose(); th.dispose(); } };
  }
  const batches: Tensor[] = [];
  for (let s = 0; s < N; s += physicalBatch) batches.push(torch.arange(s, Math.min(N, s + physicalBatch), 1, { dtype: 'int64' }).keep());
  const each = (f: (op: ReturnType<typeof hvpOperator>, w: number) => void) => {
    for (const idx of batches) {
      const op = hvpOperator(() => obj.batchLoss!(th, idx), [th]);
      try { f(op, idx.numel / N); } finally { op.dispose(); }
    }
  };
  let loss = 0;
  each((op, w) => { loss += w * op.loss; });
  return {
    n: obj.dim,
    loss,
    matvec: (v) => {
      let acc = torch.zeros([obj.dim], { dtype: 'float64' });
      each((op, w) => { const next = torch.scope(() => acc.add(op.matvec(v).mul(w))); acc.dispose(); acc = next; });
      return acc;
    },
    dispose: () => { torch.dispose(batches, th); },
  };
}

/** The operator of the diagonal block H_bb (the entries [offset, offset + size) of θ). */
export function blockOperator(matvec: MatVec, n: number, offset: number, size: number): MatVec {
  return (vb) => torch.scope(() => {
    const v = torch.zeros([n], { dtype: 'float64' });
    v.narrow(0, offset, size).copy_(vb);
    return matvec(v).narrow(0, offset, size).contiguous();
  });
}

export interface SpectrumOptions {
  topK: number;
  /** Lanczos relative residual tolerance of the top-k eigenvalues */
  eigTol: number;
  trace: boolean;
  traceIter: number;
  traceTol: number;
  density: boolean;
  slqIter: number;
  slqRuns: number;
  seed: number;
}

export interface SpectrumReport {
  n: number;
  topEigenvalues: number[];
  eigResiduals: number[];
  trace: { value: number; stderr: number; samples: number; converged: boolean } | null;
  density: SlqRun[] | null;
}

/** Top-k, trace and SLQ density of one symmetric operator (k and the Lanczos steps capped at n). */
export function spectrumOf(matvec: MatVec, n: number, o: SpectrumOptions): SpectrumReport {
  const k = Math.min(o.topK, n);
  const l = lanczos(matvec, n, k, { tol: o.eigTol, vectors: false, seed: o.seed });
  const tr = o.trace ? hutchinsonTrace(matvec, n, { maxIter: o.traceIter, tol: o.traceTol, seed: o.seed }) : null;
  return {
    n,
    topEigenvalues: l.values,
    eigResiduals: l.residuals,
    trace: tr && { value: tr.trace, stderr: tr.stderr, samples: tr.iterations, converged: tr.converged },
    density: o.density ? slqDensity(matvec, n, { iter: Math.min(o.slqIter, n), nv: o.slqRuns, seed: o.seed }) : null,
  };
}
