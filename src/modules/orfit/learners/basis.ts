// Stored directions: RowBasis (orthonormal rows in a growable buffer), the projection onto their
// orthogonal complement, and DirectionMemory — ORFit's bounded memory of the paper (Min, Ahn, Azizan,
// CDC 2022): incremental PCA by the sequential Karhunen–Loève (SKL) incremental SVD, its
// keep-largest-norms equivalent, and the paper's ORFit-random / ORFit-latest comparators.
import * as torch from '../../../core/torch/index.ts';
import { Rng } from '../../../core/rng.ts';
import type { MemoryRule } from '../config.ts';
import type { LearnerState } from './types.ts';

type Tensor = torch.Tensor;

/**
 * Orthonormal rows U [k, p] in a preallocated buffer (capacity doubles when full). Appending writes
 * one row in place instead of re-concatenating the whole matrix every step (torch.cat through the
 * addon is slow for this pattern). `U` is a view of the first k rows, or null when empty.
 */
export class RowBasis {
  private buf: Tensor | null = null;
  private view: Tensor | null = null;
  private viewT: Tensor | null = null;
  k = 0;
  constructor(readonly p: number, private readonly initialCapacity = 16) {}
  get U(): Tensor | null { return this.view; }
  /** Uᵀ [p, k], a view kept with U (rewritten in place by rotateWithSpare, so it stays valid there) */
  get Ut(): Tensor | null { return this.viewT; }
  private refresh(): void {
    this.view?.dispose(); this.viewT?.dispose();
    this.view = this.k > 0 ? this.buf!.narrow(0, 0, this.k).keep() : null;
    this.viewT = this.view ? this.view.t().keep() : null;
  }
  private ensure(rows: number): void {
    const cap = this.buf ? this.buf.shape[0]! : 0;
    if (rows <= cap) return;
    const next = torch.zeros([Math.max(rows, cap * 2, this.initialCapacity), this.p], { dtype: 'float64' }).keep();
    if (this.buf && this.k > 0) torch.noGrad(() => torch.scope(() => { next.narrow(0, 0, this.k).copy_(this.buf!.narrow(0, 0, this.k)); }));
    this.buf?.dispose();
    this.buf = next;
    this.refresh();
  }
  /** Appends the row u, or u / scale when `scale` is given (written straight into the buffer). */
  append(u: Tensor, scale?: number): void {
    this.ensure(this.k + 1);
    torch.noGrad(() => {
      const row = this.buf!.select(0, this.k);
      row.copy_(u);
      if (scale !== undefined) row.div_(scale);
      row.dispose();
    });
    this.k++;
    this.refresh();
  }
  /**
   * [U; u′] ← Q [U; u′], keeping k rows: `fill` writes u′ into the spare row k (a view of the
   * buffer), Q is [k, k + 1]. One product over the stored rows and the spare, written back in place.
   */
  rotateWithSpare(fill: (spare: Tensor) => void, Q: Tensor): void {
    if (!this.k || Q.ndim !== 2 || Q.shape[0] !== this.k || Q.shape[1] !== this.k + 1) throw new Error(`RowBasis.rotateWithSpare: Q must be [${this.k}, ${this.k + 1}]`);
    this.ensure(this.k + 1);
    torch.noGrad(() => torch.scope(() => {
      fill(this.buf!.select(0, this.k));
      this.view!.copy_(Q.mm(this.buf!.narrow(0, 0, this.k + 1)));
    }));
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
    this.view?.dispose(); this.viewT?.dispose(); this.buf?.dispose();
    this.view = null; this.viewT = null; this.buf = null; this.k = 0;
  }
}

// addmv(v, M, c, β = 1, α = −1) = v − M c in one op (the BLAS gemv with β = 1, α = −1)
const addmv = torch.lazy('addmv') as (v: Tensor, M: Tensor, c: Tensor, beta: number, alpha: number) => Tensor;

/**
 * v − Uᵀ(U v), twice when `twice` (classical Gram–Schmidt with re-orthogonalization, CGS2). A copy
 * of v when U is empty. Each pass is two ops: c = U v, then v − Uᵀc fused as one addmv. `Ut_`: Uᵀ
 * when the caller keeps it (RowBasis.Ut).
 */
export function projectOut(U: Tensor | null, v: Tensor, twice = true, Ut_?: Tensor | null): Tensor {
  if (!U) return v.clone();
  return torch.scope(() => {
    const Ut = Ut_ ?? U.t();
    let r = addmv(v, Ut, U.mv(v), 1, -1);
    if (twice) r = addmv(r, Ut, U.mv(r), 1, -1);
    return r;
  });
}

/**
 * At most `limit` stored directions (Infinity = unlimited, 0 = none): unit rows U with norms σ
 * (the singular values of the stored matrix) and the step each arrived at. store() appends a new
 * direction and, once more than `limit` would be kept, applies the retention rule.
 *
 * ORFit-random draws from core Rng (xoshiro128**); its state in state()/load() is the seed and the
 * number of draws so far, replayed on load (core Rng exposes no state of its own yet).
 */
export class DirectionMemory {
  private readonly basis: RowBasis;
  /** norms ‖ã‖ of the stored directions (descending after an IPCA step; in arrival order otherwise) */
  sigma: number[] = [];
  /** arrival index (1-based step) of each stored direction; -1 once IPCA has rotated the basis */
  origin: number[] = [];
  /** true once the IPCA basis has been replaced by singular vectors */
  svdForm = false;
  private rngSeed: number;
  private rng: Rng;
  private draws = 0;

  constructor(readonly p: number, readonly limit: number, readonly rule: MemoryRule, seed: number) {
    this.basis = new RowBasis(p, Number.isFinite(limit) ? Math.max(1, Math.min(limit + 1, 4096)) : 16);
    this.rngSeed = seed;
    this.rng = new Rng(seed);
  }

  /** orthonormal stored directions, one per row (a view; do not dispose); null while empty */
  get U(): Tensor | null { return this.basis.U; }
  /** Uᵀ (a view; do not dispose) */
  get Ut(): Tensor | null { return this.basis.Ut; }
  get stored(): number { return this.sigma.length; }

  /**
   * Adds a direction and applies the retention rule. Takes ownership of `v`: the unit row u, or with
   * `unnormalized` the direction ã = s·u itself (then u = ã / s is formed only where a row is stored,
   * and IPCA's step uses ã directly).
   */
  store(v: Tensor, s: number, step: number, unnormalized = false): void {
    const m = this.limit;
    if (m === 0) { v.dispose(); return; }
    const k = this.stored;
    if (k < m) {
      this.appendRow(v, s, step, unnormalized);
      if (this.rule === 'ipca' && this.stored === m && Number.isFinite(m)) this.toSvdForm();
      return;
    }
    // k === m: choose which m of the m+1 survive
    if (this.rule === 'ipca') { this.skl(v, s, unnormalized); return; }
    let drop: number;
    if (this.rule === 'ipca-sort') {
      // drop the smallest norm among the m stored and the new one (the new one loses ties)
      let minIdx = k, minVal = s;
      for (let j = 0; j < k; j++) if (this.sigma[j]! < minVal) { minVal = this.sigma[j]!; minIdx = j; }
      drop = minIdx;
    } else if (this.rule === 'latest') {
      drop = 0; // rows are kept in arrival order
    } else {
      drop = Math.floor(this.rng.random() * (k + 1));
      this.draws++;
    }
    if (drop === k) { v.dispose(); return; }
    this.appendRow(v, s, step, unnormalized);
    this.removeRow(drop);
  }

  private appendRow(v: Tensor, s: number, step: number, unnormalized: boolean): void {
    this.basis.append(v, unnormalized ? s : undefined);
    v.dispose();
    this.sigma.push(s);
    this.origin.push(step);
  }

  private removeRow(j: number): void {
    this.basis.remove(j);
    this.sigma.splice(j, 1);
    this.origin.splice(j, 1);
  }

  /** IPCA start: replace the m stored rows by the left singular vectors and singular values. */
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
   * One sequential Karhunen–Loève step (the paper's incremental PCA) with the new column v′ = ã = s·u:
   * c = U v′, ρ = ‖v′ − Uᵀc‖, u′ = (v′ − Uᵀc)/ρ, K = [[diag Σ, c], [0, ρ]], K = Ũ S Ṽᵀ,
   * [U; u′] ← Ũᵀ [U; u′], keep the top m (rows and singular values). V is never stored.
   */
  private skl(v: Tensor, s: number, unnormalized: boolean): void {
    const m = this.limit;
    const old = this.U!;
    const S = torch.noGrad(() => torch.scope(() => {
      const vv = unnormalized ? v : v.mul(s);
      const c = old.mv(vv);
      const resid = addmv(vv, this.Ut!, c, 1, -1);
      const rho = resid.norm().item();
      const Kd = new Float64Array((m + 1) * (m + 1));
      const cArr = c.toFloat64Array();
      for (let j = 0; j < m; j++) { Kd[j * (m + 1) + j] = this.sigma[j]!; Kd[j * (m + 1) + m] = cArr[j]!; }
      Kd[m * (m + 1) + m] = rho;
      const [Uk, Sk] = torch.linalg.svd(torch.tensor(Kd, { shape: [m + 1, m + 1], dtype: 'float64' }), false);
      // u′ goes to the spare row (v′'s own direction when it lies in the span: ρ = 0), then the
      // first m rows of Ũᵀ [U; u′] = Ũ[:, :m]ᵀ [U; u′] replace U in one product
      this.basis.rotateWithSpare((spare) => {
        spare.copy_(rho > 0 ? resid : vv);
        spare.div_(rho > 0 ? rho : s);
      }, Uk.narrow(1, 0, m).t());
      return Sk.toFloat64Array().subarray(0, m);
    }));
    v.dispose();
    this.sigma = Array.from(S);
  }

  /** tensors U, sigma, origin and meta svdForm, rngSeed, rngDraws (copies owned by the caller) */
  state(): LearnerState {
    return {
      tensors: {
        U: this.U ? this.U.clone() : torch.zeros([0, this.p], { dtype: 'float64' }),
        sigma: torch.tensor(Float64Array.from(this.sigma), { dtype: 'float64' }),
        origin: torch.tensor(Float64Array.from(this.origin), { dtype: 'float64' }),
      },
      meta: { svdForm: this.svdForm, rngSeed: this.rngSeed, rngDraws: this.draws },
    };
  }

  /** Restores what state() wrote; `who` names the learner in errors. Checks everything before changing anything. */
  load(s: LearnerState, who: string): void {
    const { U, sigma, origin } = s.tensors;
    if (!U || !sigma || !origin) throw new Error(`${who}.loadState: fields 'U', 'sigma', 'origin' are required`);
    if (U.ndim !== 2 || U.shape[1] !== this.p || U.shape[0] !== sigma.numel || origin.numel !== sigma.numel) {
      throw new Error(`${who}.loadState: field 'U' has shape [${U.shape}], expected [${sigma.numel}, ${this.p}] (one row per entry of 'sigma' and 'origin')`);
    }
    if (U.shape[0]! > this.limit) throw new Error(`${who}.loadState: ${U.shape[0]} stored directions exceed the memory ${this.limit}`);
    const seed = Number(s.meta.rngSeed ?? this.rngSeed), draws = Number(s.meta.rngDraws ?? 0);
    if (!Number.isFinite(seed) || !Number.isInteger(draws) || draws < 0) throw new Error(`${who}.loadState: meta 'rngSeed' must be a number and 'rngDraws' a non-negative integer`);
    torch.scope(() => this.basis.replace(U.shape[0] ? U.to('float64') : null));
    this.sigma = sigma.toArray();
    this.origin = origin.toArray();
    this.svdForm = Boolean(s.meta.svdForm);
    this.rngSeed = seed;
    this.rng = new Rng(seed);
    for (let i = 0; i < draws; i++) this.rng.random();
    this.draws = draws;
  }

  dispose(): void { this.basis.dispose(); }
}
