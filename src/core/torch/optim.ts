// torch.optim for TypeScript: SGD (momentum, dampening, Nesterov, weight decay), Adam, AdamW,
// with PyTorch's update rules, and the LR schedules the papers use (step, cosine, poly).
import { Tensor, noGrad, scope, zerosLike } from './tensor.ts';

export interface ParamGroup { params: Tensor[]; lr: number }

export abstract class Optimizer {
  readonly params: Tensor[];
  lr: number;
  protected readonly state = new Map<Tensor, Record<string, Tensor | number>>();
  constructor(params: Tensor[], lr: number) {
    if (!(lr >= 0)) throw new Error(`optimizer: lr must be >= 0, got ${lr}`);
    if (params.length === 0) throw new Error('optimizer got an empty parameter list');
    this.params = params;
    this.lr = lr;
  }
  /** Sets every parameter's .grad to null. */
  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }
  /** One update from the parameters' current .grad (parameters without grad are skipped). */
  step(): void {
    noGrad(() => {
      for (const p of this.params) {
        const g = p.grad;
        if (!g) continue;
        scope(() => this.update(p, g));
        g.dispose();
      }
    });
  }
  protected abstract update(p: Tensor, g: Tensor): void;
  protected slot(p: Tensor): Record<string, Tensor | number> {
    let s = this.state.get(p);
    if (!s) { s = {}; this.state.set(p, s); }
    return s;
  }
  /** Optimizer state as tensors + numbers, for checkpoints. */
  stateDict(): { tensors: Record<string, Tensor>; scalars: Record<string, number> } {
    const tensors: Record<string, Tensor> = {};
    const scalars: Record<string, number> = { lr: this.lr };
    this.params.forEach((p, i) => {
      for (const [k, v] of Object.entries(this.state.get(p) ?? {})) {
        if (typeof v === 'number') scalars[`${i}.${k}`] = v; else tensors[`${i}.${k}`] = v;
      }
    });
    return { tensors, scalars };
  }
  loadStateDict(sd: { tensors: Record<string, Tensor>; scalars: Record<string, number> }): void {
    this.lr = sd.scalars.lr ?? this.lr;
    for (const [k, v] of [...Object.entries(sd.tensors), ...Object.entries(sd.scalars)]) {
      const dot = k.indexOf('.');
      if (dot < 0) continue;
      const p = this.params[Number(k.slice(0, dot))];
      if (!p) throw new Error(`optimizer state has key '${k}' for a parameter that does not exist`);
      this.slot(p)[k.slice(dot + 1)] = typeof v === 'number' ? v : v.clone().keep();
    }
  }
  dispose(): void {
    for (const s of this.state.values()) for (const v of Object.values(s)) if (typeof v !== 'number') v.dispose();
    this.state.clear();
  }
}

export interface SGDOptions { lr: number; momentum?: number; dampening?: number; nesterov?: boolean; weightDecay?: number }

/** torch.optim.SGD: buf = μ·buf + (1−τ)·g; step = nesterov ? g + μ·buf : buf. */
export class SGD extends Optimizer {
  /** mutable: schedules such as nnU-Net's lower momentum mid-run */
  momentum: number; dampening: number; readonly nesterov: boolean; weightDecay: number;
  constructor(params: Tensor[], o: SGDOptions) {
    super(params, o.lr);
    this.momentum = o.momentum ?? 0; this.dampening = o.dampening ?? 0;
    this.nesterov = o.nesterov ?? false; this.weightDecay = o.weightDecay ?? 0;
    if (this.nesterov && (this.momentum <= 0 || this.dampening !== 0)) throw new Error('SGD: Nesterov momentum requires a momentum and zero dampening');
  }
  protected update(p: Tensor, g0: Tensor): void {
    let g = this.weightDecay ? g0.add(p, this.weightDecay) : g0;
    if (this.momentum) {
      const s = this.slot(p);
      let buf = s.momentum_buffer as Tensor | undefined;
      if (!buf) { buf = g.clone().keep(); s.momentum_buffer = buf; }
      else buf.mul_(this.momentum).add_(g, 1 - this.dampening);
      g = this.nesterov ? g.add(buf, this.momentum) : buf;
    }
    p.add_(g, -this.lr);
  }
}

export interface AdamOptions { lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean }

/** torch.optim.Adam (L2 weight decay added to the gradient). */
export class Adam extends Optimizer {
  readonly betas: [number, number]; readonly eps: number; readonly weightDecay: number; readonly decoupled: boolean;
  constructor(params: Tensor[], o: AdamOptions = {}, decoupled = false) {
    super(params, o.lr ?? 1e-3);
    this.betas = o.betas ?? [0.9, 0.999]; this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? (decoupled ? 1e-2 : 0); this.decoupled = decoupled;
  }
  protected update(p: Tensor, g0: Tensor): void {
    const [b1, b2] = this.betas;
    const s = this.slot(p);
    if (this.decoupled && this.weightDecay) p.mul_(1 - this.lr * this.weightDecay);
    const g = !this.decoupled && this.weightDecay ? g0.add(p, this.weightDecay) : g0;
    const step = ((s.step as number | undefined) ?? 0) + 1;
    s.step = step;
    const m = (s.exp_avg as Tensor | undefined) ?? (s.exp_avg = zerosLike(p).keep()) as Tensor;
    const v = (s.exp_avg_sq as Tensor | undefined) ?? (s.exp_avg_sq = zerosLike(p).keep()) as Tensor;
    m.lerp_(g, 1 - b1);
    v.mul_(b2).addcmul_(g, g, 1 - b2);
    const bc1 = 1 - b1 ** step, bc2 = 1 - b2 ** step;
    const denom = v.sqrt().div(Math.sqrt(bc2)).add(this.eps);
    p.addcdiv_(m, denom, -this.lr / bc1);
  }
}

/** torch.optim.AdamW: decoupled weight decay p ← p·(1 − lr·wd). */
export class AdamW extends Adam {
  constructor(params: Tensor[], o: AdamOptions = {}) { super(params, o, true); }
}

/**
 * torch.nn.utils.clip_grad_norm_: scales every .grad so that their joint 2-norm is at most
 * maxNorm. Returns the norm before clipping.
 */
export function clipGradNorm(params: Tensor[], maxNorm: number): number {
  return noGrad(() => scope(() => {
    const gs = params.map((p) => p.grad).filter((g): g is Tensor => g !== null);
    if (!gs.length) return 0;
    const total = Math.sqrt(gs.reduce((s, g) => s + g.pow(2).sum().item(), 0));
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) for (const g of gs) g.mul_(coef);
    return total;
  }));
}

// ---------------------------------------------------------------- schedules
export interface Schedule { lr(step: number): number }

/** Multiplies the base lr by gamma every stepSize steps (StepLR). */
export function stepLR(base: number, stepSize: number, gamma = 0.1): Schedule {
  return { lr: (t) => base * gamma ** Math.floor(t / stepSize) };
}
/** Cosine annealing from base to minLr over total steps, with optional linear warm-up. */
export function cosineLR(base: number, total: number, minLr = 0, warmup = 0): Schedule {
  return {
    lr: (t) => {
      if (t < warmup) return base * (t + 1) / warmup;
      const p = Math.min(1, (t - warmup) / Math.max(1, total - warmup));
      return minLr + 0.5 * (base - minLr) * (1 + Math.cos(Math.PI * p));
    },
  };
}
/** Polynomial decay base·(1 − t/total)^power (as nnU-Net's poly schedule, power 0.9). */
export function polyLR(base: number, total: number, power = 0.9): Schedule {
  return { lr: (t) => base * Math.max(0, 1 - t / total) ** power };
}
/** Applies a schedule to an optimizer at step t. */
export function applySchedule(opt: Optimizer, s: Schedule, t: number): number {
  opt.lr = s.lr(t);
  return opt.lr;
}
