// Per-step probes of unstable convergence (Ahn, Zhang & Sra 2022), as a monitor that any training
// loop can attach: it needs only the parameter tensors and a closure computing the full loss.
//   RP    = [L(θ − ηg) − L(θ)] / (η‖g‖²)                       relative progress
//   DS    = ĝᵀ ∇²L(θ) ĝ                                        directional smoothness
//   DSint = 2 ∫₀¹ (1 − s) ĝᵀ ∇²L(θ − sηg) ĝ ds                  (composite Gauss–Legendre)
//   identity: RP = −1 + (η/2)·DSint (Taylor with integral remainder; exact for C² losses)
//   A1 = |⟨ĝ, u₁⟩|, Ak = ‖P_k ĝ‖ (top-k Ritz vectors), cos(g_{t−1}, g_t), S/MSS.
import * as torch from '../torch/index.ts';
import type { Tensor } from '../torch/index.ts';
import { hvpOperator, lanczos, type HvpOperator } from '../hessian.ts';

/** What a monitor probes: the parameters (leaves requiring grad) and the full-batch loss. */
export interface ProbeTarget {
  params: readonly Tensor[];
  /** full training loss at the current parameter values (with graph) */
  loss: () => Tensor;
}

export interface ProbeRow {
  step: number;
  loss: number;
  gradNorm: number;
  rp: number;
  ds: number;
  dsInt: number;
  /** |RP − (−1 + η/2·DSint)|: the quadrature check of the identity */
  identityGap: number;
  /** η/2 · DS and η/2 · DSint (≈ 1 at the edge of stability) */
  dsEta: number;
  dsIntEta: number;
  sharpness: number;
  /** the top-k Ritz values (descending; k = MonitorOptions.k), of which sharpness is the first */
  eigs: number[];
  /** S/MSS: S·η/2 for plain GD, S / ((2+2β)/η) with Polyak momentum, … */
  sharpRatio: number;
  a1: number;
  ak: number;
  /** cos(g_{t−1}, g_t) when the previous step was probed, else null */
  gradCos: number | null;
  /** number of quadrature panels the adaptive rule used */
  panels: number;
}

export interface MonitorOptions {
  /** Gauss–Legendre points per panel (3, 4 or 5; default 5) */
  points?: 3 | 4 | 5;
  /** refine panels until η/2·|ΔDSint| ≤ this (default 1e-11) */
  quadTol?: number;
  /** maximum panels (default 64) */
  maxPanels?: number;
  /** number of Ritz vectors for Ak (default 5, capped at the dimension) */
  k?: number;
  /** Lanczos tolerance (default 1e-8) */
  eigTol?: number;
  /** skip the eigen-solve (no sharpness / alignment) */
  noEigen?: boolean;
}

const GL: Record<number, { x: number[]; w: number[] }> = {
  3: { x: [-Math.sqrt(3 / 5), 0, Math.sqrt(3 / 5)], w: [5 / 9, 8 / 9, 5 / 9] },
  4: {
    x: [-0.8611363115940526, -0.3399810435848563, 0.3399810435848563, 0.8611363115940526],
    w: [0.3478548451374538, 0.6521451548625461, 0.6521451548625461, 0.3478548451374538],
  },
  5: {
    x: [-0.906179845938664, -0.5384693101056831, 0, 0.5384693101056831, 0.906179845938664],
    w: [0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665, 0.2369268850561891],
  },
};

export function getFlat(params: readonly Tensor[]): Tensor {
  return torch.noGrad(() => torch.scope(() => torch.cat(params.map((p) => p.detach().reshape(-1)))));
}

export function setFlat(params: readonly Tensor[], v: Tensor): void {
  torch.noGrad(() => torch.scope(() => {
    let off = 0;
    for (const p of params) {
      p.copy_(v.narrow(0, off, p.numel).view(p.shape));
      off += p.numel;
    }
  }));
}

/**
 * DSint = 2 ∫₀¹ (1 − s) q(s) ds by composite Gauss–Legendre with `rule`, doubling the panels until
 * η/2·|ΔDSint| ≤ tol·max(1, η/2·|DSint|) or maxPanels is reached. Returns the integral and the panels.
 */
function integrateDsInt(
  q: (s: number) => number,
  eta: number,
  rule: { x: number[]; w: number[] },
  tol: number,
  maxPanels: number,
): { value: number; panels: number } {
  const integrate = (P: number) => {
    let acc = 0;
    for (let p = 0; p < P; p++) {
      for (let i = 0; i < rule.x.length; i++) {
        const s = (p + (rule.x[i]! + 1) / 2) / P;
        acc += (rule.w[i]! / (2 * P)) * 2 * (1 - s) * q(s);
      }
    }
    return acc;
  };
  let P = 1;
  let I = integrate(1);
  while (P < maxPanels) {
    const I2 = integrate(2 * P);
    P *= 2;
    const done = (eta / 2) * Math.abs(I2 - I) <= tol * Math.max(1, Math.abs((eta / 2) * I2));
    I = I2;
    if (done) break;
  }
  return { value: I, panels: P };
}

/**
 * The unstable-convergence monitor. Call observe() at a step (before the update) with the step
 * size η and the optimizer's maximum stable sharpness; it restores the parameters exactly.
 */
export class UnstableConvergenceMonitor {
  private prev: { step: number; g: Tensor } | null = null;
  readonly rows: ProbeRow[] = [];
  constructor(readonly o: MonitorOptions = {}) {}

  observe(target: ProbeTarget, step: number, eta: number, mss = 2 / eta): ProbeRow {
    if (!(eta > 0)) throw new Error(`probe: step size must be > 0, got ${eta}`);
    const params = target.params;
    const theta0 = getFlat(params);
    try {
      const op = hvpOperator(target.loss, params);
      let row: ProbeRow;
      try {
        row = torch.scope(() => this.probe(target, op, theta0, step, eta, mss));
      } finally {
        op.dispose();
      }
      this.rows.push(row);
      return row;
    } finally {
      setFlat(params, theta0);
      theta0.dispose();
    }
  }

  /** The probes at θ_t = theta0 (op: the HVP operator there); moves the parameters, observe() restores them. */
  private probe(target: ProbeTarget, op: HvpOperator, theta0: Tensor, step: number, eta: number, mss: number): ProbeRow {
    const params = target.params;
    const g = op.grad;
    const gn2 = g.dot(g).item();
    const gn = Math.sqrt(gn2);
    const gh = gn > 0 ? g.div(gn) : g.clone();
    const ds = op.matvec(gh).dot(gh).item();
    const eig = this.o.noEigen ? { sharp: NaN, eigs: [] as number[], a1: NaN, ak: NaN } : this.alignment(op, gh);
    // L(θ − ηg)
    setFlat(params, theta0.sub(g.mul(eta)));
    const l1 = torch.noGrad(() => target.loss().item());
    const rp = gn2 > 0 ? (l1 - op.loss) / (eta * gn2) : 0;
    // DSint: the directional smoothness along the segment θ → θ − ηg
    const q = (s: number) => {
      setFlat(params, theta0.sub(g.mul(s * eta)));
      const o2 = hvpOperator(target.loss, params);
      try { return o2.matvec(gh).dot(gh).item(); } finally { o2.dispose(); }
    };
    const { value: I, panels } = integrateDsInt(q, eta, GL[this.o.points ?? 5]!, this.o.quadTol ?? 1e-11, this.o.maxPanels ?? 64);
    let gradCos: number | null = null;
    if (this.prev && this.prev.step === step - 1) {
      const pg = this.prev.g;
      const d = pg.norm().item() * gn;
      gradCos = d > 0 ? pg.dot(g).item() / d : null;
    }
    this.prev?.g.dispose();
    this.prev = { step, g: g.clone().keep() };
    return {
      step, loss: op.loss, gradNorm: gn, rp, ds, dsInt: I,
      identityGap: Math.abs(rp - (-1 + (eta / 2) * I)),
      dsEta: (eta / 2) * ds, dsIntEta: (eta / 2) * I,
      sharpness: eig.sharp, eigs: eig.eigs, sharpRatio: eig.sharp / mss, a1: eig.a1, ak: eig.ak, gradCos, panels,
    };
  }

  /** Top-k Ritz pairs at θ_t: the sharpness, the Ritz values, A1 = |⟨ĝ, u₁⟩| and Ak = ‖P_k ĝ‖. */
  private alignment(op: HvpOperator, gh: Tensor): { sharp: number; eigs: number[]; a1: number; ak: number } {
    const k = Math.min(this.o.k ?? 5, op.n);
    const r = lanczos(op.matvec, op.n, k, { tol: this.o.eigTol ?? 1e-8 });
    const proj = r.vectors!.mv(gh);
    const out = { sharp: r.values[0]!, eigs: r.values, a1: proj.select(0, 0).abs().item(), ak: proj.norm().item() };
    r.vectors!.dispose();
    return out;
  }

  dispose(): void {
    this.prev?.g.dispose();
    this.prev = null;
  }
}

/** Median of the finite values (NaN when none). */
export function median(xs: readonly (number | null | undefined)[]): number {
  const v = xs.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}
