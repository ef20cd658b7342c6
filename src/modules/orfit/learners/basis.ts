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

/** v − Uᵀ(U v), twice when `twice` (classical Gram–Schmidt with re-orthogonalization, CGS2). A copy of v when U is empty. */
export function projectOut(U: Tensor | null, v: Tensor, twice = true): Tensor {
  if (!U) return v.clone();
  return torch.scope(() => {
    const Ut = U.t();
    let r = v.sub(Ut.mv(U.mv(v)));
    if (twice) r = r.sub(Ut.mv(U.mv(r)));
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
  get stored(): number { return this.sigma.length; }

  /** Adds a direction (unit row u, norm s) and applies the retention rule. Takes ownership of u. */
  store(u: Tensor, s: number, step: number): void {
    const m = this.limit;
    if (m === 0) { u.dispose(); return; }
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
      drop = Math.floor(this.rng.random() * (k + 1));
      this.draws++;
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
   * One sequential Karhunen–Loève step (the paper's incremental PCA) with v′ = s·u: c = U v′,
   * ρ = ‖v′ − Uᵀc‖, K = [[diag Σ, c], [0, ρ]], K = Ũ S Ṽᵀ, [U; u′] ← Ũᵀ [U; u′], keep the top m.
   * V is never stored.
   */
  private skl(u: Tensor, s: number): void {
    const m = this.limit;
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
