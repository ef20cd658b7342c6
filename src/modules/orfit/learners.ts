// Streaming learners on one interface: observe(x, y) once per stream point, predict(x) any time.
// ORFit (spec A.2) with its memory rules (A.3), and the paper's baselines (A.7): One-Step SGD,
// Greedy, OGD, EW-RLS / NTK-RLS and the Kalman-filter form of RLS. Offline references (min-norm
// interpolant, multi-pass SGD) live at the end; they need all data and are not streaming.
import * as torch from '../../core/torch/index.ts';
import type { StreamModel } from './models.ts';

type Tensor = torch.Tensor;
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

function checkTarget(y: number, where: string): void {
  if (typeof y !== 'number' || !Number.isFinite(y)) throw new Error(`${where}: target y must be a finite number, got ${y}`);
}

/** Shared plumbing: validation first, then a learner-specific update that mutates state only at its end. */
abstract class BaseLearner implements StreamLearner {
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
function checkOutput(f: number, a: Tensor, where: string, aIsInput = false): void {
  if (!Number.isFinite(f)) throw new Error(`${where}: the model output is not finite (${f})`);
  // a linear model's gradient is the (already validated) input itself
  if (!aIsInput && !torch.scope(() => a.isfinite().all().item())) throw new Error(`${where}: the model gradient contains NaN or Inf`);
}

// ---------------------------------------------------------------------------------- stored directions
/**
 * Orthonormal rows U [k, p] in a preallocated buffer (capacity doubles when full). Appending writes
 * one row in place instead of re-concatenating the whole matrix every step (torch.cat through the
 * addon is slow for this pattern). `U` is a view of the first k rows, or null when empty.
 */
export class RowBasis {
  private buf: Tensor | null = null;
  private view: Tensor | null = null;
  k = 0;
  constructor(readonly p: number, private readonly initialCapacity = 16) {}
  get U(): Tensor | null { return this.view; }
  private refresh(): void {
    this.view?.dispose();
    this.view = this.k > 0 ? this.buf!.narrow(0, 0, this.k).keep() : null;
  }
  private ensure(rows: number): void {
    const cap = this.buf ? this.buf.shape[0]! : 0;
    if (rows <= cap) return;
    const next = torch.zeros([Math.max(rows, cap * 2, this.initialCapacity), this.p], { dtype: 'float64' }).keep();
    if (this.buf && this.k > 0) torch.noGrad(() => torch.scope(() => { next.narrow(0, 0, this.k).copy_(this.buf!.narrow(0, 0, this.k)); }));
    this.buf?.dispose();
    this.buf = next;
  }
  append(u: Tensor): void {
    this.ensure(this.k + 1);
    torch.noGrad(() => torch.scope(() => { this.buf!.select(0, this.k).copy_(u); }));
    this.k++;
    this.refresh();
  }
  remove(j: number): void {
    const n = this.k - 1 - j;
    if (n > 0) torch.noGrad(() => torch.scope(() => { this.buf!.narrow(0, j, n).copy_(this.buf!.narrow(0, j + 1, n).clone()); }));
    this.k--;
    this.refresh();
  }
  /** content ← the rows of U (copied) */
  replace(U: Tensor | null): void {
    const rows = U ? U.shape[0]! : 0;
    this.ensure(rows);
    if (U && rows > 0) torch.noGrad(() => torch.scope(() => { this.buf!.narrow(0, 0, rows).copy_(U); }));
    this.k = rows;
    this.refresh();
  }
  dispose(): void {
    this.view?.dispose(); this.buf?.dispose();
    this.view = null; this.buf = null; this.k = 0;
  }
}

// ---------------------------------------------------------------------------------- ORFit
/**
 * Retention rule once more than `memory` directions would be stored (spec A.3):
 * - 'ipca'       the paper's incremental PCA (SKL incremental SVD), general small-SVD form;
 * - 'ipca-sort'  its exact equivalent for ORFit [derived]: keep the m largest ‖ã‖;
 * - 'random'     ORFit-random: keep m of the m+1 directions uniformly at random [paper; which m+1 → m is ours];
 * - 'latest'     ORFit-latest: keep the m most recent.
 */
export type MemoryRule = 'ipca' | 'ipca-sort' | 'random' | 'latest';

export interface ORFitOptions {
  /** memory limit m (number of stored directions); Infinity = unlimited; 0 = One-Step SGD */
  memory?: number;
  rule?: MemoryRule;
  /** degenerate-step threshold τ: skip when ‖ã‖ ≤ τ‖a‖ (ours, default 1e-10) */
  tol?: number;
  /** seed for the 'random' rule */
  seed?: number;
  /** two passes of classical Gram–Schmidt (default true); one pass when false */
  reorthogonalize?: boolean;
  name?: string;
}

/** Small deterministic generator whose whole state is one number (so it checkpoints). */
function mulberry32(state: number): { next(): number; state: number } {
  const g = {
    state: state >>> 0,
    next(): number {
      g.state = (g.state + 0x6d2b79f5) >>> 0;
      let t = g.state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    },
  };
  return g;
}

/**
 * ORFit (Min, Ahn, Azizan, CDC 2022), spec A.2: on (x, y), with a = ∇f(x; w) at the current w,
 * ã = a − Proj_B(a), g̃ = r·ã (r = f − y), η = r / (aᵀg̃), w ← w − η g̃, then store ã.
 * B is kept as orthonormal rows U [k, p] with norms σ (singular values of the stored matrix).
 */
export class ORFit extends BaseLearner {
  readonly name: string;
  readonly memory: number;
  readonly rule: MemoryRule;
  readonly tol: number;
  readonly reorthogonalize: boolean;
  private readonly basis: RowBasis;
  /** orthonormal stored directions, one per row (a view; do not dispose); null while empty */
  get U(): Tensor | null { return this.basis.U; }
  /** their norms ‖ã‖ (descending after an IPCA step; in arrival order otherwise) */
  sigma: number[] = [];
  /** arrival index (1-based step) of each stored direction; for IPCA after the first SVD, -1 */
  origin: number[] = [];
  skipped = 0;
  /** true once the IPCA basis has been replaced by singular vectors */
  private svdForm = false;
  private rng: { next(): number; state: number };

  constructor(model: StreamModel, o: ORFitOptions = {}) {
    super(model);
    this.memory = o.memory ?? Infinity;
    if (!(this.memory >= 0) || (Number.isFinite(this.memory) && !Number.isInteger(this.memory))) {
      throw new Error(`ORFit: memory must be a non-negative integer or Infinity, got ${o.memory}`);
    }
    this.rule = o.rule ?? 'ipca';
    if (!['ipca', 'ipca-sort', 'random', 'latest'].includes(this.rule)) throw new Error(`ORFit: unknown memory rule '${this.rule}'`);
    this.tol = o.tol ?? 1e-10;
    if (!(this.tol >= 0 && this.tol < 1)) throw new Error(`ORFit: tol must be in [0, 1), got ${o.tol}`);
    this.reorthogonalize = o.reorthogonalize ?? true;
    this.rng = mulberry32(o.seed ?? 0);
    this.basis = new RowBasis(model.numParams, Number.isFinite(this.memory) ? Math.max(1, Math.min(this.memory + 1, 4096)) : 16);
    this.name = o.name ?? (this.memory === 0 ? 'one-step-sgd'
      : !Number.isFinite(this.memory) ? 'orfit' : this.rule === 'random' ? 'orfit-random' : this.rule === 'latest' ? 'orfit-latest' : 'orfit');
  }

  get stored(): number { return this.sigma.length; }

  /** v − Uᵀ(U v), twice (CGS2) */
  project(v: Tensor): Tensor {
    const U = this.U;
    if (!U) return v.clone();
    return torch.scope(() => {
      const Ut = U.t();
      let r = v.sub(Ut.mv(U.mv(v)));
      if (this.reorthogonalize) r = r.sub(Ut.mv(U.mv(r)));
      return r;
    });
  }

  protected update(x: Tensor, y: number): StepInfo {
    const where = `${this.name}.observe (point ${this.steps + 1})`;
    // Everything is computed first; state changes only in the commit below.
    const plan = torch.scope(() => {
      const { f, a } = this.model.outputAndGrad(x);
      checkOutput(f, a, where, this.model.isLinear);
      const r = f - y;
      const at = this.project(a);
      const aNorm = a.norm().item();
      const atNorm = at.norm().item();
      if (aNorm === 0 || atNorm <= this.tol * aNorm) return { r, skip: true as const };
      // g̃ = r ã ; η = r / (aᵀ g̃) ; w ← w − η g̃  =  w − r ã / (aᵀã)
      const aTat = a.dot(at).item();
      const delta = at.mul(-r / aTat);
      const u = at.div(atNorm);
      return { r, skip: false as const, delta, u, atNorm };
    });
    this.steps++;
    if (plan.skip) {
      this.skipped++;
      return { step: this.steps, residual: plan.r, skipped: true, stored: this.stored, directionNorm: 0 };
    }
    this.model.addToParams(plan.delta);
    plan.delta.dispose();
    this.store(plan.u, plan.atNorm, this.steps);
    return { step: this.steps, residual: plan.r, skipped: false, stored: this.stored, directionNorm: plan.atNorm };
  }

  /**
   * Vector outputs [recon, spec A.6; the paper treats scalar outputs only]. The C rows of the output
   * Jacobian at the current w are fitted at once, at a fixed linearization point:
   * - 'sequential': C consecutive scalar ORFit steps on the linearized outputs;
   * - 'block': orthogonalize the C rows against B (CGS2), solve the C×C system J Ãᵀα = y − f so all
   *   outputs are fitted together, store an orthonormal basis of the rows (QR; σ = |R_ii|).
   * For models linear in w the two give the same w. Needs a model with outputsAndJacobian.
   */
  observeMulti(x: SampleInput, y: readonly number[], mode: 'sequential' | 'block' = 'sequential'): StepInfo {
    const where = `${this.name}.observeMulti (point ${this.steps + 1})`;
    const model = this.model as StreamModel & { outputsAndJacobian?: (x: Tensor) => { f: number[]; J: Tensor } };
    if (!model.outputsAndJacobian) throw new Error(`${where}: the model has no outputsAndJacobian (use a ModuleModel)`);
    y.forEach((v, c) => checkTarget(v, `${where}, output ${c}`));
    const xt = toSample(x, this.model.inputShape, where);
    try {
      const plan = torch.scope(() => {
        const { f, J } = model.outputsAndJacobian!(xt);
        if (f.length !== y.length) throw new Error(`${where}: the model has ${f.length} outputs but y has ${y.length} values`);
        f.forEach((v) => { if (!Number.isFinite(v)) throw new Error(`${where}: the model output is not finite (${v})`); });
        if (!J.isfinite().all().item()) throw new Error(`${where}: the model Jacobian contains NaN or Inf`);
        const C = f.length;
        const rowsJ = J.unbind(0);
        const r = f.map((v, c) => v - y[c]!);
        const dirs: { u: Tensor; s: number }[] = [];
        let delta = torch.zeros([this.model.numParams], { dtype: 'float64' });
        if (mode === 'sequential') {
          for (let c = 0; c < C; c++) {
            const a = rowsJ[c]!;
            let at = this.project(a);
            for (let pass = 0; pass < 2; pass++) for (const d of dirs) at = at.sub(d.u.mul(d.u.dot(at).item()));
            const an = at.norm().item();
            if (an <= this.tol * a.norm().item()) return { skip: true as const, r };
            const rc = f[c]! + a.dot(delta).item() - y[c]!;
            delta = delta.sub(at.mul(rc / a.dot(at).item()));
            dirs.push({ u: at.div(an), s: an });
          }
        } else {
          const At = torch.stack(rowsJ.map((a) => this.project(a))); // [C, p]
          const [Q, R] = torch.linalg.qr(At.t(), 'reduced'); // Ãᵀ = Q R
          const Rd = R.diagonal().abs().toArray();
          for (let c = 0; c < C; c++) if (Rd[c]! <= this.tol * rowsJ[c]!.norm().item()) return { skip: true as const, r };
          const G = J.mm(At.t()); // [C, C]
          const alpha = torch.linalg.solve(G, torch.tensor(r.map((v) => -v), { dtype: 'float64' }).unsqueeze(1)).reshape(-1);
          delta = alpha.matmul(At);
          const Qt = Q.t();
          for (let c = 0; c < C; c++) dirs.push({ u: Qt.select(0, c).contiguous(), s: Rd[c]! });
        }
        return { skip: false as const, r, delta, dirs };
      });
      this.steps++;
      if (plan.skip) {
        this.skipped++;
        return { step: this.steps, residual: Math.max(...plan.r.map(Math.abs)), skipped: true, stored: this.stored, directionNorm: 0 };
      }
      this.model.addToParams(plan.delta);
      plan.delta.dispose();
      for (const d of plan.dirs) this.store(d.u, d.s, this.steps);
      return { step: this.steps, residual: Math.max(...plan.r.map(Math.abs)), skipped: false, stored: this.stored, directionNorm: Math.min(...plan.dirs.map((d) => d.s)) };
    } finally {
      xt.dispose();
    }
  }

  /** Adds a direction (unit row u, norm s) and applies the memory rule. Takes ownership of u. */
  private store(u: Tensor, s: number, step: number): void {
    if (this.memory === 0) { u.dispose(); return; }
    const m = this.memory;
    const k = this.stored;
    if (k < m) {
      this.appendRow(u, s, step);
      if (this.rule === 'ipca' && this.stored === m && Number.isFinite(m)) this.toSvdForm();
      return;
    }
    // k === m: choose which m of the m+1 survive
    if (this.rule === 'ipca') { this.skl(u, s); return; }
    let drop: number;
    if (this.rule === 'ipca-sort') {
      // drop the smallest norm among the m stored and the new one (the new one loses ties)
      let minIdx = k, minVal = s;
      for (let j = 0; j < k; j++) if (this.sigma[j]! < minVal) { minVal = this.sigma[j]!; minIdx = j; }
      drop = minIdx;
    } else if (this.rule === 'latest') {
      drop = 0; // rows are kept in arrival order
    } else {
      drop = Math.floor(this.rng.next() * (k + 1));
    }
    if (drop === k) { u.dispose(); return; }
    this.appendRow(u, s, step);
    this.removeRow(drop);
  }

  private appendRow(u: Tensor, s: number, step: number): void {
    this.basis.append(u);
    u.dispose();
    this.sigma.push(s);
    this.origin.push(step);
  }

  private removeRow(j: number): void {
    this.basis.remove(j);
    this.sigma.splice(j, 1);
    this.origin.splice(j, 1);
  }

  /** IPCA start: replace the m stored columns by the left singular vectors and singular values. */
  private toSvdForm(): void {
    const old = this.U!;
    const [Unew, S] = torch.scope(() => {
      const M = old.t().mul(torch.tensor(this.sigma, { dtype: 'float64' })); // [p, m], columns σ_j u_j
      const [Us, Ss] = torch.linalg.svd(M, false);
      return [Us.t().contiguous(), Ss];
    });
    this.basis.replace(Unew);
    Unew.dispose();
    this.sigma = S.toArray();
    S.dispose();
    this.origin = this.origin.map(() => -1);
    this.svdForm = true;
  }

  /**
   * One sequential Karhunen–Loève step (spec A.3) with v′ = s·u: c = U v′, ρ = ‖v′ − Uᵀc‖,
   * K = [[diag Σ, c], [0, ρ]], K = Ũ S Ṽᵀ, [U; u′] ← Ũᵀ [U; u′], keep the top m. V is never stored.
   */
  private skl(u: Tensor, s: number): void {
    const m = this.memory;
    const old = this.U!;
    const [Unew, S] = torch.scope(() => {
      const v = u.mul(s);
      const c = old.mv(v);
      const resid = v.sub(old.t().mv(c));
      const rho = resid.norm().item();
      const uPerp = rho > 0 ? resid.div(rho) : u;
      const Kd = new Float64Array((m + 1) * (m + 1));
      const cArr = c.toFloat64Array();
      for (let j = 0; j < m; j++) { Kd[j * (m + 1) + j] = this.sigma[j]!; Kd[j * (m + 1) + m] = cArr[j]!; }
      Kd[m * (m + 1) + m] = rho;
      const Kt = torch.tensor(Kd, { shape: [m + 1, m + 1], dtype: 'float64' });
      const [Uk, Sk] = torch.linalg.svd(Kt, false);
      // Ũᵀ [U; u′] written as Ũᵀ[:, :m] U + Ũᵀ[:, m] u′ᵀ (no concatenation)
      const Ukt = Uk.t();
      const rotated = Ukt.narrow(1, 0, m).mm(old).add(Ukt.select(1, m).outer(uPerp));
      return [rotated.narrow(0, 0, m).contiguous(), Sk.narrow(0, 0, m).contiguous()];
    });
    u.dispose();
    this.basis.replace(Unew);
    Unew.dispose();
    this.sigma = S.toArray();
    S.dispose();
  }

  memoryFloats(): number { return this.stored * (this.model.numParams + 1); }

  protected extraState(): LearnerState {
    const p = this.model.numParams;
    return {
      tensors: {
        U: this.U ? this.U.clone() : torch.zeros([0, p], { dtype: 'float64' }),
        sigma: torch.tensor(Float64Array.from(this.sigma), { dtype: 'float64' }),
        origin: torch.tensor(Float64Array.from(this.origin), { dtype: 'float64' }),
      },
      meta: { skipped: this.skipped, svdForm: this.svdForm, rng: this.rng.state, memory: Number.isFinite(this.memory) ? this.memory : -1, rule: this.rule },
    };
  }
  protected loadExtra(s: LearnerState): void {
    const { U, sigma, origin } = s.tensors;
    if (!U || !sigma || !origin) throw new Error(`${this.name}.loadState: fields 'U', 'sigma', 'origin' are required`);
    if (U.ndim !== 2 || U.shape[1] !== this.model.numParams || U.shape[0] !== sigma.numel) {
      throw new Error(`${this.name}.loadState: field 'U' has shape [${U.shape}], expected [${sigma.numel}, ${this.model.numParams}]`);
    }
    if (U.shape[0] > this.memory) throw new Error(`${this.name}.loadState: ${U.shape[0]} stored directions exceed the memory ${this.memory}`);
    torch.scope(() => this.basis.replace(U.shape[0] ? U.to('float64') : null));
    this.sigma = sigma.toArray();
    this.origin = origin.toArray();
    this.skipped = Number(s.meta.skipped ?? 0);
    this.svdForm = Boolean(s.meta.svdForm);
    this.rng.state = Number(s.meta.rng ?? 0) >>> 0;
  }
  override dispose(): void { this.basis.dispose(); }
}

/** One-Step SGD [paper]: ORFit's exact-fit step with an always-empty basis. */
export function oneStepSGD(model: StreamModel, o: { tol?: number } = {}): ORFit {
  return new ORFit(model, { memory: 0, tol: o.tol, name: 'one-step-sgd' });
}

// ---------------------------------------------------------------------------------- Greedy
/** Greedy [paper]: ignores the input and predicts the most recent label (0 before any label, ours). */
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

// ---------------------------------------------------------------------------------- OGD
export interface OGDOptions {
  /** learning rate α of the inner gradient steps [ours: default 1e-3] */
  lr?: number;
  /** plain gradient steps per arriving point [ours: default 10] */
  innerSteps?: number;
  /** memory limit (latest m kept); default unlimited */
  memory?: number;
  tol?: number;
}

/** lr and innerSteps of the gradient-step baselines (OGD, EWC, A-GEM), defaults 1e-3 and 10, checked. */
function gradientStepOptions(who: string, o: { lr?: number; innerSteps?: number }): { lr: number; innerSteps: number } {
  const lr = o.lr ?? 1e-3, innerSteps = o.innerSteps ?? 10;
  if (!(lr > 0)) throw new Error(`${who}: lr must be positive, got ${o.lr}`);
  if (!Number.isInteger(innerSteps) || innerSteps < 1) throw new Error(`${who}: innerSteps must be a positive integer, got ${o.innerSteps}`);
  return { lr, innerSteps };
}

/**
 * OGD (Farajtabar et al., AISTATS 2020) with one point per task, as the paper describes it:
 * several gradient steps on ½(f − y)², each projected onto the complement of the stored gradients,
 * then the output gradient at the parameters *after* training is orthogonalized and stored.
 */
export class OGD extends BaseLearner {
  readonly name = 'ogd';
  readonly lr: number; readonly innerSteps: number; readonly memory: number; readonly tol: number;
  private readonly basis: RowBasis;
  get U(): Tensor | null { return this.basis.U; }
  constructor(model: StreamModel, o: OGDOptions = {}) {
    super(model);
    this.basis = new RowBasis(model.numParams);
    ({ lr: this.lr, innerSteps: this.innerSteps } = gradientStepOptions('OGD', o));
    this.memory = o.memory ?? Infinity;
    this.tol = o.tol ?? 1e-10;
  }
  private proj(v: Tensor): Tensor {
    const U = this.U;
    if (!U) return v.clone();
    return torch.scope(() => {
      const r = v.sub(U.t().mv(U.mv(v)));
      return r.sub(U.t().mv(U.mv(r)));
    });
  }
  protected update(x: Tensor, y: number): StepInfo {
    const where = `ogd.observe (point ${this.steps + 1})`;
    const w0 = this.model.getParams();
    let r0 = NaN;
    try {
      for (let s = 0; s < this.innerSteps; s++) {
        torch.scope(() => {
          const { f, a } = this.model.outputAndGrad(x);
          checkOutput(f, a, where);
          if (s === 0) r0 = f - y;
          this.model.addToParams(this.proj(a.mul(f - y)).mul(-this.lr));
        });
      }
      const u = torch.scope(() => {
        const { f, a } = this.model.outputAndGrad(x);
        checkOutput(f, a, where);
        const at = this.proj(a);
        const n = at.norm().item();
        return n > this.tol * a.norm().item() ? at.div(n) : null;
      });
      if (u) {
        this.basis.append(u);
        u.dispose();
        if (this.basis.k > this.memory) this.basis.remove(0);
      }
    } catch (e) {
      this.model.setParams(w0); // leave the state as it was
      throw e;
    } finally {
      w0.dispose();
    }
    this.steps++;
    return { step: this.steps, residual: r0, skipped: false, stored: this.U ? this.U.shape[0]! : 0 };
  }
  memoryFloats(): number { return this.U ? this.U.numel : 0; }
  protected extraState(): LearnerState {
    return { tensors: { U: this.U ? this.U.clone() : torch.zeros([0, this.model.numParams], { dtype: 'float64' }) }, meta: {} };
  }
  protected loadExtra(s: LearnerState): void {
    const U = s.tensors.U;
    if (!U || U.ndim !== 2 || U.shape[1] !== this.model.numParams) throw new Error(`ogd.loadState: field 'U' must have shape [k, ${this.model.numParams}]`);
    torch.scope(() => this.basis.replace(U.shape[0] ? U.to('float64') : null));
  }
  override dispose(): void { this.basis.dispose(); }
}

// ---------------------------------------------------------------------------------- RLS
const addrInplace = torch.lazy('addr_');
/** M ← M + alpha · u vᵀ in place (aten addr_): no p×p allocation per step */
function addr_(M: Tensor, u: Tensor, v: Tensor, alpha: number): void {
  torch.noGrad(() => (addrInplace(M, u, v, 1, alpha) as Tensor).dispose());
}

export interface RLSOptions {
  /** forgetting factor 0 ≤ λ ≤ 1 (λ = 1: plain RLS; λ = 0: the ORFit limit of Prop. 2) */
  lambda?: number;
  /** P_0 = p0 · I, i.e. prior Π = I / p0 (default 1) */
  p0?: number;
}

/**
 * EW-RLS (spec A.5), on the pairs (a_k, y_k − f_k(w_{k−1}) + a_kᵀw_{k−1}); for a linear model this
 * is plain EW-RLS, for a nonlinear one it is NTK-RLS (Theorem 5):
 *   w_i = w_{i−1} + P a (y − f) / (λ^i + aᵀPa),  P_i = P − P a aᵀ P / (λ^i + aᵀPa).
 * Note λ^i (not λ) in the denominators; λ = 0 gives λ^i = 0 for i ≥ 1.
 */
export class EWRLS extends BaseLearner {
  readonly name: string;
  readonly lambda: number; readonly p0: number;
  P: Tensor;
  constructor(model: StreamModel, o: RLSOptions = {}) {
    super(model);
    this.lambda = o.lambda ?? 1;
    this.p0 = o.p0 ?? 1;
    if (!(this.lambda >= 0 && this.lambda <= 1)) throw new Error(`EWRLS: lambda must be in [0, 1], got ${o.lambda}`);
    if (!(this.p0 > 0 && Number.isFinite(this.p0))) throw new Error(`EWRLS: p0 must be positive and finite, got ${o.p0}`);
    this.name = model.isLinear ? 'ew-rls' : 'ntk-rls';
    const p = model.numParams;
    this.P = torch.scope(() => torch.eye(p, p, { dtype: 'float64' }).mul(this.p0)).keep();
  }
  protected update(x: Tensor, y: number): StepInfo {
    const where = `${this.name}.observe (point ${this.steps + 1})`;
    const i = this.steps + 1;
    const li = this.lambda === 0 ? 0 : Math.pow(this.lambda, i);
    const plan = torch.scope(() => {
      const { f, a } = this.model.outputAndGrad(x);
      checkOutput(f, a, where);
      const Pa = this.P.mv(a);
      const denom = li + a.dot(Pa).item();
      if (!(denom > 0)) return { r: f - y, skip: true as const };
      const dw = Pa.mul((y - f) / denom);
      return { r: f - y, skip: false as const, dw, Pa, denom };
    });
    this.steps++;
    if (plan.skip) return { step: this.steps, residual: plan.r, skipped: true, stored: 0 };
    // commit: w and P change only here, after every check passed
    this.model.addToParams(plan.dw);
    addr_(this.P, plan.Pa, plan.Pa, -1 / plan.denom); // P − Pa Paᵀ / denom
    torch.dispose(plan.dw, plan.Pa);
    return { step: this.steps, residual: plan.r, skipped: false, stored: 0 };
  }
  memoryFloats(): number { return this.P.numel; }
  protected extraState(): LearnerState { return { tensors: { P: this.P.clone() }, meta: { lambda: this.lambda, p0: this.p0 } }; }
  protected loadExtra(s: LearnerState): void {
    const P = s.tensors.P;
    const p = this.model.numParams;
    if (!P || P.shape.join() !== `${p},${p}`) throw new Error(`${this.name}.loadState: field 'P' must have shape [${p}, ${p}]`);
    this.P.dispose();
    this.P = torch.scope(() => P.to('float64').clone()).keep();
  }
  override dispose(): void { this.P.dispose(); }
}

export interface KalmanOptions {
  /** P_0 = p0 · I (prior covariance of w) */
  p0?: number;
  /** measurement-noise variance R (constant), or 'ew' with lambda: R_i = λ^i (the EW-RLS equivalence) */
  R?: number | 'ew';
  lambda?: number;
  /** process-noise variance q: P ← P + qI before each update (random-walk weights); 0 = static */
  q?: number;
}

/**
 * The Kalman-filter form of RLS (extended Kalman filter for a nonlinear model) with the Joseph-form
 * covariance update: S = aᵀPa + R, K = Pa/S, w ← w + K(y − f),
 * P ← (I − K aᵀ) P (I − K aᵀ)ᵀ + R K Kᵀ  (written with rank-one terms, O(p²)).
 * With q = 0 and R_i = λ^i it equals EW-RLS; R → 0 approaches ORFit.
 */
export class KalmanRLS extends BaseLearner {
  readonly name = 'kalman';
  readonly p0: number; readonly R: number | 'ew'; readonly lambda: number; readonly q: number;
  P: Tensor;
  constructor(model: StreamModel, o: KalmanOptions = {}) {
    super(model);
    this.p0 = o.p0 ?? 1;
    this.R = o.R ?? 1;
    this.lambda = o.lambda ?? 1;
    this.q = o.q ?? 0;
    if (!(this.p0 > 0)) throw new Error(`KalmanRLS: p0 must be positive, got ${o.p0}`);
    if (this.R !== 'ew' && !(this.R >= 0)) throw new Error(`KalmanRLS: R must be ≥ 0 or 'ew', got ${o.R}`);
    if (!(this.lambda >= 0 && this.lambda <= 1)) throw new Error(`KalmanRLS: lambda must be in [0, 1], got ${o.lambda}`);
    if (!(this.q >= 0)) throw new Error(`KalmanRLS: q must be ≥ 0, got ${o.q}`);
    const p = model.numParams;
    this.P = torch.scope(() => torch.eye(p, p, { dtype: 'float64' }).mul(this.p0)).keep();
  }
  protected update(x: Tensor, y: number): StepInfo {
    const where = `kalman.observe (point ${this.steps + 1})`;
    const i = this.steps + 1;
    const R = this.R === 'ew' ? (this.lambda === 0 ? 0 : Math.pow(this.lambda, i)) : this.R;
    const plan = torch.scope(() => {
      const { f, a } = this.model.outputAndGrad(x);
      checkOutput(f, a, where);
      // predicted covariance P + qI, applied to a without forming it
      const Pa = this.q > 0 ? this.P.mv(a).add(a, this.q) : this.P.mv(a);
      const S = a.dot(Pa).item() + R;
      if (!(S > 0)) return { r: f - y, skip: true as const };
      const K = Pa.div(S);
      const dw = K.mul(y - f);
      return { r: f - y, skip: false as const, dw, Pa, K, S };
    });
    this.steps++;
    if (plan.skip) return { step: this.steps, residual: plan.r, skipped: true, stored: 0 };
    this.model.addToParams(plan.dw);
    if (this.q > 0) torch.noGrad(() => torch.scope(() => { this.P.diagonal().add_(this.q); }));
    // Joseph form: P − K(Pa)ᵀ − (Pa)Kᵀ + (aᵀPa + R) K Kᵀ, in place
    addr_(this.P, plan.K, plan.Pa, -1);
    addr_(this.P, plan.Pa, plan.K, -1);
    addr_(this.P, plan.K, plan.K, plan.S);
    torch.dispose(plan.dw, plan.Pa, plan.K);
    return { step: this.steps, residual: plan.r, skipped: false, stored: 0 };
  }
  memoryFloats(): number { return this.P.numel; }
  protected extraState(): LearnerState { return { tensors: { P: this.P.clone() }, meta: {} }; }
  protected loadExtra(s: LearnerState): void {
    const P = s.tensors.P;
    const p = this.model.numParams;
    if (!P || P.shape.join() !== `${p},${p}`) throw new Error(`kalman.loadState: field 'P' must have shape [${p}, ${p}]`);
    this.P.dispose();
    this.P = torch.scope(() => P.to('float64').clone()).keep();
  }
  override dispose(): void { this.P.dispose(); }
}

// ---------------------------------------------------------------------------------- EWC and A-GEM
// Not in the paper [ours, spec A.7 "optional"]: continual-learning comparators for the dashboard.
// Both need extra hyperparameters or stored data, so no claim of the paper rests on them.

export interface EWCOptions {
  /** penalty strength λ */
  lambda?: number;
  lr?: number;
  innerSteps?: number;
}

/**
 * Online EWC with one point per task: minimize ½(f − y)² + (λ/2) Σ_i F_i (w_i − w*_i)² by a few
 * gradient steps, where F is the running diagonal Fisher of earlier points (for squared loss,
 * Σ_k a_k², with a_k the output gradient after learning point k) and w* the parameters after the
 * previous point.
 */
export class EWC extends BaseLearner {
  readonly name = 'ewc';
  readonly lambda: number; readonly lr: number; readonly innerSteps: number;
  fisher: Tensor; anchor: Tensor;
  constructor(model: StreamModel, o: EWCOptions = {}) {
    super(model);
    this.lambda = o.lambda ?? 1;
    if (!(this.lambda >= 0)) throw new Error(`EWC: lambda must be ≥ 0, got ${o.lambda}`);
    ({ lr: this.lr, innerSteps: this.innerSteps } = gradientStepOptions('EWC', o));
    this.fisher = torch.zeros([model.numParams], { dtype: 'float64' }).keep();
    this.anchor = model.getParams().keep();
  }
  protected update(x: Tensor, y: number): StepInfo {
    const where = `ewc.observe (point ${this.steps + 1})`;
    const w0 = this.model.getParams();
    let r0 = NaN;
    try {
      const plan = torch.scope(() => {
        for (let s = 0; s < this.innerSteps; s++) {
          torch.scope(() => {
            const { f, a } = this.model.outputAndGrad(x);
            checkOutput(f, a, where);
            if (s === 0) r0 = f - y;
            const penalty = this.model.getParams().sub(this.anchor).mul(this.fisher).mul(this.lambda);
            this.model.addToParams(a.mul(f - y).add(penalty).mul(-this.lr));
          });
        }
        const { f, a } = this.model.outputAndGrad(x);
        checkOutput(f, a, where);
        return { fisher: this.fisher.add(a.square()), anchor: this.model.getParams() };
      });
      this.fisher.dispose(); this.anchor.dispose();
      this.fisher = plan.fisher.keep(); this.anchor = plan.anchor.keep();
    } catch (e) {
      this.model.setParams(w0);
      throw e;
    } finally {
      w0.dispose();
    }
    this.steps++;
    return { step: this.steps, residual: r0, skipped: false, stored: 0 };
  }
  memoryFloats(): number { return 2 * this.model.numParams; }
  protected extraState(): LearnerState { return { tensors: { fisher: this.fisher.clone(), anchor: this.anchor.clone() }, meta: {} }; }
  protected loadExtra(s: LearnerState): void {
    const { fisher, anchor } = s.tensors;
    const p = this.model.numParams;
    if (!fisher || !anchor || fisher.numel !== p || anchor.numel !== p) throw new Error(`ewc.loadState: fields 'fisher' and 'anchor' need ${p} values`);
    this.fisher.dispose(); this.anchor.dispose();
    this.fisher = torch.scope(() => fisher.to('float64').reshape(-1).clone()).keep();
    this.anchor = torch.scope(() => anchor.to('float64').reshape(-1).clone()).keep();
  }
  override dispose(): void { this.fisher.dispose(); this.anchor.dispose(); }
}

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
    this.bufferSize = o.buffer ?? 10;
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
          checkOutput(f, a, where);
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
    if (!bufferX || !bufferY || bufferX.shape[0] !== bufferY.numel) throw new Error(`a-gem.loadState: fields 'bufferX' and 'bufferY' must hold the same number of points`);
    for (const t of this.xs) t.dispose();
    this.xs = torch.scope(() => bufferX.to('float64').unbind(0).map((t) => t.contiguous())).map((t) => t.keep());
    this.ys = bufferY.toArray();
    this.projections = Number(s.meta.projections ?? 0);
  }
  override dispose(): void { for (const t of this.xs) t.dispose(); this.xs = []; }
}

// ---------------------------------------------------------------------------------- offline references
/** Closed form [paper, Thm 3]: w_0 + X⁺(Y − X w_0), the min-norm interpolant from w_0 (needs all data). */
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
 * Vanilla multi-pass SGD on the linear model [paper A.7]: cyclic single-sample steps on ½(wᵀx − y)²
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
