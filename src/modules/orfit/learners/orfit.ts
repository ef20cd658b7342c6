// ORFit, the update of Min, Ahn, Azizan, "One-Pass Learning via Bridging Orthogonal Gradient Descent
// and Recursive Least-Squares" (IEEE CDC 2022, arXiv 2207.13853), and One-Step SGD (its step with an
// always-empty memory). The stored directions and their retention rule live in basis.ts.
import * as torch from '../../../core/torch/index.ts';
import type { StreamModel } from '../models.ts';
import { MEMORY_RULES, learnerDefaults, type MemoryRule } from '../config.ts';
import { BaseLearner, checkOutput, checkTarget, toSample } from './base.ts';
import { DirectionMemory, projectOut } from './basis.ts';
import type { SampleInput, StepInfo, LearnerState } from './types.ts';

type Tensor = torch.Tensor;
export type { MemoryRule };

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

/**
 * ORFit: on (x, y), with a = ∇f(x; w) at the current w (the gradient *before* the step, which is
 * what makes the paper's Theorem 5 hold for nonlinear models), ã = a − Proj_B(a), g̃ = r·ã
 * (r = f − y), η = r / (aᵀg̃), w ← w − η g̃, then store ã. A step along ã leaves every earlier
 * prediction of a linear model unchanged (the paper's Lemma 1) and fits the new point exactly.
 * B is kept as orthonormal rows U [k, p] with norms σ (singular values of the stored matrix).
 * A point whose ã vanishes (‖ã‖ ≤ τ‖a‖: it lies in the stored span) is skipped and counted (ours).
 */
export class ORFit extends BaseLearner {
  readonly name: string;
  readonly memory: number;
  readonly rule: MemoryRule;
  readonly tol: number;
  readonly reorthogonalize: boolean;
  private readonly mem: DirectionMemory;
  /** points skipped because their gradient lay in the stored span */
  skipped = 0;

  constructor(model: StreamModel, o: ORFitOptions = {}) {
    super(model);
    this.memory = o.memory ?? Infinity;
    if (!(this.memory >= 0) || (Number.isFinite(this.memory) && !Number.isInteger(this.memory))) {
      throw new Error(`ORFit: memory must be a non-negative integer or Infinity, got ${o.memory}`);
    }
    this.rule = o.rule ?? 'ipca';
    if (!MEMORY_RULES.includes(this.rule)) throw new Error(`ORFit: unknown memory rule '${this.rule}'. Valid rules: ${MEMORY_RULES.join(', ')}`);
    this.tol = o.tol ?? learnerDefaults.tol;
    if (!(this.tol >= 0 && this.tol < 1)) throw new Error(`ORFit: tol must be in [0, 1), got ${o.tol}`);
    this.reorthogonalize = o.reorthogonalize ?? learnerDefaults.reorthogonalize;
    this.mem = new DirectionMemory(model.numParams, this.memory, this.rule, o.seed ?? learnerDefaults.seed);
    this.name = o.name ?? (this.memory === 0 ? 'one-step-sgd'
      : !Number.isFinite(this.memory) ? 'orfit' : this.rule === 'random' ? 'orfit-random' : this.rule === 'latest' ? 'orfit-latest' : 'orfit');
  }

  /** orthonormal stored directions, one per row (a view; do not dispose); null while empty */
  get U(): Tensor | null { return this.mem.U; }
  /** their norms ‖ã‖ (descending after an IPCA step; in arrival order otherwise) */
  get sigma(): readonly number[] { return this.mem.sigma; }
  /** arrival index (1-based step) of each stored direction; for IPCA after the first SVD, -1 */
  get origin(): readonly number[] { return this.mem.origin; }
  get stored(): number { return this.mem.stored; }

  /** v − Proj_B(v): v − Uᵀ(U v), twice (CGS2) unless reorthogonalize is off */
  project(v: Tensor): Tensor { return projectOut(this.U, v, this.reorthogonalize, this.mem.Ut); }

  protected update(x: Tensor, y: number): StepInfo {
    const where = `${this.name}.observe (point ${this.steps + 1})`;
    // Everything is computed first; state changes only in the commit below.
    const plan = torch.scope(() => {
      const { f, a } = this.model.outputAndGrad(x);
      checkOutput(f, a, where, this.model.isLinear);
      const r = f - y;
      const at = this.project(a);
      // ‖a‖², aᵀã and ‖ã‖² read from the 2×2 Gram matrix of [a; ã]: one product and one copy out
      // instead of three reductions and three reads
      const S = torch.stack([a, at]);
      const G = S.mm(S.t()).toFloat64Array();
      const aNorm = Math.sqrt(G[0]!), aTat = G[1]!, atNorm = Math.sqrt(G[3]!);
      if (aNorm === 0 || atNorm <= this.tol * aNorm) return { r, skip: true as const };
      // g̃ = r ã ; η = r / (aᵀ g̃) ; w ← w − η g̃  =  w − (r / aᵀã) ã
      return { r, skip: false as const, at, scale: -r / aTat, atNorm };
    });
    this.steps++;
    if (plan.skip) {
      this.skipped++;
      return { step: this.steps, residual: plan.r, skipped: true, stored: this.stored, directionNorm: 0 };
    }
    this.model.addToParams(plan.at, plan.scale);
    // store ã itself (u = ã/‖ã‖ is formed in the memory's buffer); the memory takes ownership
    this.mem.store(plan.at, plan.atNorm, this.steps, true);
    return { step: this.steps, residual: plan.r, skipped: false, stored: this.stored, directionNorm: plan.atNorm };
  }

  /**
   * Vector outputs [ours: the paper treats scalar outputs only]. The C rows of the output Jacobian at
   * the current w are fitted at once, at a fixed linearization point:
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
      for (const d of plan.dirs) this.mem.store(d.u, d.s, this.steps);
      return {
        step: this.steps,
        residual: Math.max(...plan.r.map(Math.abs)),
        skipped: false,
        stored: this.stored,
        directionNorm: Math.min(...plan.dirs.map((d) => d.s)),
      };
    } finally {
      xt.dispose();
    }
  }

  memoryFloats(): number { return this.stored * (this.model.numParams + 1); }

  protected extraState(): LearnerState {
    const s = this.mem.state();
    return { tensors: s.tensors, meta: { skipped: this.skipped, ...s.meta, memory: Number.isFinite(this.memory) ? this.memory : -1, rule: this.rule } };
  }
  protected loadExtra(s: LearnerState): void {
    this.mem.load(s, this.name);
    this.skipped = Number(s.meta.skipped ?? 0);
  }
  override dispose(): void { this.mem.dispose(); }
}

/** One-Step SGD (the paper's baseline): ORFit's exact-fit step with an always-empty memory. */
export function oneStepSGD(model: StreamModel, o: { tol?: number } = {}): ORFit {
  return new ORFit(model, { memory: 0, tol: o.tol, name: 'one-step-sgd' });
}
