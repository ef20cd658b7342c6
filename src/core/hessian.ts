// Hessian tools shared by the optimization papers: Hessian-vector products by double backward,
// power iteration, Lanczos with full reorthogonalization and dense Hessians built from HVPs.
// Everything works on flat vectors (1-D tensors, float64 recommended) through a `MatVec`, so the
// same eigen-solvers serve a flat-parameter model, an nn.Module's parameter list or a plain matrix.
import * as torch from './torch/index.ts';
import type { Tensor } from './torch/index.ts';
// trace (Hutchinson) and spectral density (stochastic Lanczos quadrature), PyHessian's estimators
export * from './hessian-spectrum.ts';

/** A symmetric linear operator on flat vectors of length n. */
export type MatVec = (v: Tensor) => Tensor;

/** Flattens a list of tensors into one 1-D tensor (null entries become zeros shaped like `like`). */
export function flatten(ts: readonly (Tensor | null)[], like?: readonly Tensor[]): Tensor {
  return torch.scope(() => torch.cat(ts.map((t, i) => {
    if (t) return t.reshape(-1);
    const l = like?.[i];
    if (!l) throw new Error('flatten: a null tensor needs a template (like)');
    return torch.zerosLike(l).reshape(-1);
  })));
}

/** Splits a flat vector into views shaped like `like` (the inverse of flatten). */
export function unflatten(v: Tensor, like: readonly Tensor[]): Tensor[] {
  const out: Tensor[] = [];
  let off = 0;
  for (const p of like) {
    out.push(v.narrow(0, off, p.numel).view(p.shape));
    off += p.numel;
  }
  if (off !== v.numel) throw new Error(`unflatten: vector has ${v.numel} entries, the parameters have ${off}`);
  return out;
}

/**
 * Hessian-vector product operator of `lossFn` at the current values of `params`.
 * The gradient is computed once with a graph (createGraph), then each product is one more
 * backward through it: H v = ∇(∇L · v). Call dispose() to free the graph.
 */
export interface HvpOperator {
  /** number of parameters (length of the flat vectors) */
  n: number;
  /** L(θ) (detached) */
  loss: number;
  /** ∇L(θ), flat, detached */
  grad: Tensor;
  matvec: MatVec;
  dispose(): void;
}

export function hvpOperator(lossFn: () => Tensor, params: readonly Tensor[]): HvpOperator {
  if (params.length === 0) throw new Error('hvpOperator: no parameters');
  for (const p of params) if (!p.requiresGrad) throw new Error('hvpOperator: every parameter must require grad');
  const [lossValue, gflat] = torch.scope(() => {
    const loss = lossFn();
    if (loss.numel !== 1) throw new Error(`hvpOperator: the loss must be a scalar, got shape [${loss.shape}]`);
    const gs = torch.grad(loss, [...params], { createGraph: true, allowUnused: true });
    const g = torch.cat(gs.map((t, i) => (t ?? torch.zerosLike(params[i]!)).reshape(-1)));
    return [loss.item(), g] as const;
  });
  const n = gflat.numel;
  const gDetached = gflat.detach().keep();
  const haveGraph = gflat.requiresGrad; // false when the loss is linear in θ (Hessian 0)
  let disposed = false;
  return {
    n,
    loss: lossValue,
    grad: gDetached,
    matvec(v: Tensor): Tensor {
      if (disposed) throw new Error('hvpOperator: used after dispose()');
      if (v.numel !== n) throw new Error(`hvp: vector has ${v.numel} entries, expected ${n}`);
      if (!haveGraph) return torch.zeros([n], { dtype: gflat.dtype });
      return torch.scope(() => {
        const dot = gflat.mul(v.detach()).sum();
        const hs = torch.grad(dot, [...params], { retainGraph: true, allowUnused: true });
        // one flat parameter (the dynamics objectives): its gradient is already the flat HVP
        if (hs.length === 1) return (hs[0] ?? torch.zerosLike(params[0]!)).reshape(-1).detach();
        return torch.cat(hs.map((t, i) => (t ?? torch.zerosLike(params[i]!)).reshape(-1))).detach();
      });
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      gflat.dispose();
      gDetached.dispose();
    },
  };
}

/** One Hessian-vector product H(θ)·v for a function of a flat parameter vector θ (no graph kept). */
export function hvpFlat(f: (theta: Tensor) => Tensor, theta: Tensor, v: Tensor): Tensor {
  return torch.scope(() => {
    const t = theta.detach().clone().requiresGrad_();
    const op = hvpOperator(() => f(t), [t]);
    try { return op.matvec(v); } finally { op.dispose(); }
  });
}

/** Gradient of a function of a flat parameter vector (detached) and the value. */
export function gradFlat(f: (theta: Tensor) => Tensor, theta: Tensor): { loss: number; grad: Tensor } {
  return torch.scope(() => {
    const t = theta.detach().clone().requiresGrad_();
    const l = f(t);
    const [g] = torch.grad(l, [t], { allowUnused: true });
    return { loss: l.item(), grad: (g ?? torch.zerosLike(t)).detach() };
  });
}

/** The operator of an explicit symmetric matrix (for tests and quadratic objectives). */
export function matrixOperator(a: Tensor): MatVec {
  return (v) => a.mv(v);
}

// ------------------------------------------------------------------ eigen-solvers

export interface EigOptions {
  /** random start seed (deterministic) */
  seed?: number;
  /** relative tolerance on the eigenvalue residual (default 1e-10) */
  tol?: number;
  /** dtype of the work vectors (default float64) */
  dtype?: 'float64' | 'float32';
}

/**
 * Seeded uint32 stream (splitmix32), so start and probe vectors never touch libtorch's global
 * generator (which drives model init).
 */
export function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function startVector(n: number, o: EigOptions): Tensor {
  const next = splitmix32(o.seed ?? 12345);
  const a = new Float64Array(n);
  for (let i = 0; i < n; i++) a[i] = next() / 2147483648 - 1; // uniform(-1, 1)
  return torch.scope(() => {
    const v = torch.tensor(a, { dtype: o.dtype ?? 'float64' });
    return v.div(v.norm().item());
  });
}

export interface PowerResult {
  /** eigenvalue of largest magnitude (Rayleigh quotient) */
  value: number;
  /** unit eigenvector (caller disposes) */
  vector: Tensor;
  iterations: number;
  converged: boolean;
}

/**
 * Power iteration for the eigenvalue of largest magnitude. Stops when the Rayleigh quotient
 * changes by less than tol·|λ| and the residual ‖Av − λv‖ < sqrt(tol)·|λ|, or after maxIter.
 */
export function powerIteration(matvec: MatVec, n: number, o: EigOptions & { maxIter?: number } = {}): PowerResult {
  const tol = o.tol ?? 1e-12;
  const maxIter = o.maxIter ?? 10000;
  let v = startVector(n, o);
  let lambda = 0;
  let it = 0;
  let converged = false;
  for (it = 1; it <= maxIter; it++) {
    const [next, lam, res] = torch.scope(() => {
      const w = matvec(v);
      const l = w.dot(v).item();
      const r = w.sub(v.mul(l)).norm().item();
      const nw = w.norm().item();
      if (nw === 0) return [v.clone(), 0, 0] as const;
      return [w.div(nw), l, r] as const;
    });
    v.dispose();
    v = next;
    const change = Math.abs(lam - lambda);
    lambda = lam;
    // Rayleigh-quotient error is O(res²/gap): a residual of √tol·|λ| gives ~tol relative accuracy.
    if (res === 0 || (change <= tol * Math.abs(lam) && res <= Math.sqrt(tol) * Math.abs(lam))) {
      converged = true;
      break;
    }
  }
  // final Rayleigh quotient at the returned vector
  const value = torch.scope(() => matvec(v).dot(v).item());
  return { value, vector: v, iterations: Math.min(it, maxIter), converged };
}

export interface LanczosOptions extends EigOptions {
  /** Krylov dimension cap (default min(n, max(4k + 20, 40)) grown up to min(n, 300) until converged) */
  maxIter?: number;
  /** 'LA': largest algebraic (default; sharpness), 'LM': largest magnitude (scipy eigsh default) */
  which?: 'LA' | 'LM';
  /** also return the Ritz vectors (default true) */
  vectors?: boolean;
}

export interface LanczosResult {
  /** top-k eigenvalues, descending (by value for LA, by magnitude for LM) */
  values: number[];
  /** unit Ritz vectors as rows of a k×n tensor (caller disposes), when requested */
  vectors: Tensor | null;
  /** residual norms |β_m s_{m,i}| = ‖A y_i − θ_i y_i‖ */
  residuals: number[];
  iterations: number;
  converged: boolean;
}

/**
 * Lanczos with full reorthogonalization (classical Gram–Schmidt, twice) in float64. Builds the
 * Krylov basis Q and tridiagonal T, takes Ritz pairs from eigh(T) and stops when the top-k
 * residuals fall below tol·max|θ|, when the Krylov space is invariant, or at maxIter.
 */
export function lanczos(matvec: MatVec, n: number, k: number, o: LanczosOptions = {}): LanczosResult {
  if (!(k >= 1 && k <= n)) throw new Error(`lanczos: k must be in [1, ${n}], got ${k}`);
  const tol = o.tol ?? 1e-10;
  const which = o.which ?? 'LA';
  const maxIter = Math.min(n, o.maxIter ?? 300);
  const dtype = o.dtype ?? 'float64';
  // The Krylov basis lives in one preallocated m×n buffer (grown by doubling), so the
  // reorthogonalization reads a view of it instead of re-stacking all previous vectors each step.
  let cap = Math.min(maxIter, 64);
  let Qbuf = torch.empty([cap, n], { dtype });
  const alpha: number[] = [];
  const beta: number[] = [];
  let q = startVector(n, o);
  let result: { values: number[]; residuals: number[]; S: Tensor; idx: number[] } | null = null;
  let converged = false;
  const checkEvery = Math.max(1, Math.min(10, k));
  try {
    for (let j = 0; j < maxIter; j++) {
      if (j === cap) {
        const grown = torch.empty([Math.min(maxIter, cap * 2), n], { dtype });
        torch.scope(() => { grown.narrow(0, 0, cap).copy_(Qbuf); });
        Qbuf.dispose();
        Qbuf = grown;
        cap = grown.shape[0]!;
      }
      torch.scope(() => { Qbuf.select(0, j).copy_(q); });
      const [w, a, b] = torch.scope(() => {
        let w = matvec(q);
        if (w.dtype !== dtype) w = w.to(dtype);
        const a = w.dot(q).item();
        // full reorthogonalization against all previous vectors, classical Gram–Schmidt twice
        // ("twice is enough"): w ← w − Qᵀ(Q w), fused into one addmv per pass
        const Qm = Qbuf.narrow(0, 0, j + 1);
        for (let pass = 0; pass < 2; pass++) w = addmv(w, Qm.t(), Qm.mv(w), 1, -1);
        const b = w.norm().item();
        return [w, a, b] as const;
      });
      q.dispose();
      alpha.push(a);
      const m = alpha.length;
      const last = m === maxIter || !(b > 1e-14 * Math.max(1, ...alpha.map(Math.abs)));
      if (last || (m >= k && (m % checkEvery === 0))) {
        result?.S.dispose();
        result = ritz(alpha, beta, b, k, which);
        const scale = Math.max(...result.values.map(Math.abs), 1e-300);
        if (last || result.residuals.every((r) => r <= tol * scale)) {
          converged = result.residuals.every((r) => r <= tol * scale) || !(b > 1e-14);
          w.dispose();
          break;
        }
      }
      beta.push(b);
      q = torch.scope(() => w.div(b));
      w.dispose();
    }
    const r = result!;
    let vectors: Tensor | null = null;
    if (o.vectors ?? true) {
      vectors = torch.scope(() => {
        const Qm = Qbuf.narrow(0, 0, alpha.length); // m×n
        const sel = r.S.index([null, torch.tensor(r.idx, { dtype: 'int64' })]); // m×k
        const Y = sel.t().mm(Qm); // k×n
        return Y.div(Y.norm(2, 1, true));
      });
    }
    r.S.dispose();
    return { values: r.values, vectors, residuals: r.residuals, iterations: alpha.length, converged };
  } finally {
    Qbuf.dispose();
  }
}

const addmvOp = torch.op('addmv');
/** self·beta + alpha·(mat @ vec) in one kernel. */
function addmv(self: Tensor, mat: Tensor, vec: Tensor, beta: number, alpha: number): Tensor {
  return addmvOp(self, mat, vec, beta, alpha) as Tensor;
}

function ritz(alpha: number[], beta: number[], bLast: number, k: number, which: 'LA' | 'LM') {
  const m = alpha.length;
  return torch.scope(() => {
    const T = new Float64Array(m * m);
    for (let i = 0; i < m; i++) {
      T[i * m + i] = alpha[i]!;
      if (i + 1 < m) { T[i * m + i + 1] = beta[i]!; T[(i + 1) * m + i] = beta[i]!; }
    }
    const [evals, evecs] = torch.linalg.eigh(torch.tensor(T, { shape: [m, m], dtype: 'float64' }));
    const ev = Array.from(evals.toFloat64Array());
    const S = Array.from(evecs.toFloat64Array()); // row-major m×m, column i = eigvec i
    const order = ev.map((_, i) => i).sort((a, b) => which === 'LA' ? ev[b]! - ev[a]! : Math.abs(ev[b]!) - Math.abs(ev[a]!));
    const idx = order.slice(0, Math.min(k, m));
    const values = idx.map((i) => ev[i]!);
    const residuals = idx.map((i) => Math.abs(bLast * S[(m - 1) * m + i]!));
    return { values, residuals, S: evecs, idx };
  });
}

/** The dense n×n matrix of a linear operator, column by column (symmetrized: (H + Hᵀ)/2). */
export function denseFromOperator(matvec: MatVec, n: number, o: { dtype?: 'float64' | 'float32'; symmetrize?: boolean } = {}): Tensor {
  return torch.scope(() => {
    const dtype = o.dtype ?? 'float64';
    const I = torch.eye(n, n, { dtype });
    const cols: Tensor[] = [];
    for (let i = 0; i < n; i++) cols.push(torch.scope(() => matvec(I.select(0, i))));
    const H = torch.stack(cols, 1);
    return (o.symmetrize ?? true) ? H.add(H.t()).mul(0.5) : H;
  });
}

/** Dense Hessian of lossFn w.r.t. params (n HVPs). */
export function denseHessian(lossFn: () => Tensor, params: readonly Tensor[]): Tensor {
  const op = hvpOperator(lossFn, params);
  try { return denseFromOperator(op.matvec, op.n); } finally { op.dispose(); }
}

export interface TopEigenOptions extends LanczosOptions {
  /** 'lanczos' (default), 'power' (k = 1 only, largest magnitude) or 'dense' (eigh of n HVPs) */
  method?: 'lanczos' | 'power' | 'dense';
}

/** Top-k Hessian eigenvalues (and eigenvectors as k×n rows) of lossFn at the current params. */
export function topHessianEigen(
  lossFn: () => Tensor,
  params: readonly Tensor[],
  k: number,
  o: TopEigenOptions = {},
): { values: number[]; vectors: Tensor | null } {
  const op = hvpOperator(lossFn, params);
  try {
    return eigenOfOperator(op.matvec, op.n, k, o);
  } finally {
    op.dispose();
  }
}

/** Top-k eigenpairs of a symmetric operator by the chosen method. */
export function eigenOfOperator(matvec: MatVec, n: number, k: number, o: TopEigenOptions = {}): { values: number[]; vectors: Tensor | null } {
  const method = o.method ?? 'lanczos';
  if (method === 'power') {
    if (k !== 1) throw new Error('power iteration gives one eigenpair: use k = 1 or method lanczos');
    const r = powerIteration(matvec, n, o);
    if (o.vectors === false) { r.vector.dispose(); return { values: [r.value], vectors: null }; }
    const vec = torch.scope(() => r.vector.reshape(1, n));
    r.vector.dispose();
    return { values: [r.value], vectors: vec };
  }
  if (method === 'dense') {
    return torch.scope(() => {
      const H = denseFromOperator(matvec, n, { dtype: o.dtype });
      const [ev, U] = torch.linalg.eigh(H);
      const e = Array.from(ev.toFloat64Array());
      const order = e.map((_, i) => i).sort((a, b) => (o.which ?? 'LA') === 'LA' ? e[b]! - e[a]! : Math.abs(e[b]!) - Math.abs(e[a]!)).slice(0, k);
      const vectors = o.vectors === false ? null : U.index([null, torch.tensor(order, { dtype: 'int64' })]).t().contiguous();
      return { values: order.map((i) => e[i]!), vectors };
    });
  }
  const r = lanczos(matvec, n, k, o);
  return { values: r.values, vectors: r.vectors };
}
