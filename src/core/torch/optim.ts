// torch.optim for TypeScript: SGD (momentum, dampening, Nesterov, weight decay), Adam, AdamW
// (single-tensor or foreach), with PyTorch's update rules and state_dict/load_state_dict; the LR
// schedules the papers use (step, cosine, poly) and two stateful schedulers (ScheduledLR,
// ReduceLROnPlateau); torch.nn.utils.clip_grad_norm_.
import { Tensor, noGrad, scope, zerosLike, stack, lazy } from './tensor.ts';

export interface ParamGroup { params: Tensor[]; lr: number }

/** Hyper-parameter values (torch's param_groups entry, without the params). */
export type HyperParams = Record<string, number | boolean | number[]>;

/**
 * An optimizer's state, as torch.optim's state_dict(): what a checkpoint must hold to continue
 * the same updates.
 */
export interface OptimizerStateDict {
  /** per-parameter tensors, '<i>.<key>': i indexes optimizer.params, keys as torch's (exp_avg, exp_avg_sq, momentum_buffer) */
  tensors: Record<string, Tensor>;
  /** per-parameter numbers ('<i>.step') and 'lr' */
  scalars: Record<string, number>;
  /** the hyper-parameters (lr, betas, eps, weightDecay, momentum, …); loaded back when present */
  hyper?: HyperParams;
}

// aten::_foreach_* ops: one native call over a list of tensors (CPU: the per-tensor kernels in a loop).
const fe = {
  mulS_: lazy('_foreach_mul_.Scalar'), addL_: lazy('_foreach_add_.List'), addL: lazy('_foreach_add.List'),
  addcmul_: lazy('_foreach_addcmul_.Scalar'), addcdiv_: lazy('_foreach_addcdiv_.Scalar'), sqrt: lazy('_foreach_sqrt'),
  divS_: lazy('_foreach_div_.Scalar'), addS_: lazy('_foreach_add_.Scalar'), norm: lazy('_foreach_norm.Scalar'),
};

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
  /** The hyper-parameters (torch's param_groups entry): what loadStateDict sets back. Subclasses add theirs. */
  hyperParams(): HyperParams { return { lr: this.lr }; }
  /** Sets hyper-parameters from hyperParams() (unknown names are an error; lr must be ≥ 0). */
  protected loadHyperParams(h: HyperParams): void {
    for (const [k, v] of Object.entries(h)) {
      if (k === 'lr') {
        if (!(typeof v === 'number' && v >= 0)) throw new Error(`optimizer state: lr must be a number >= 0, got ${JSON.stringify(v)}`);
        this.lr = v;
      } else if (!this.setHyper(k, v)) throw new Error(`optimizer state: ${this.constructor.name} has no hyper-parameter '${k}'`);
    }
  }
  /** Sets one hyper-parameter other than lr; false when this optimizer has none of that name. */
  protected setHyper(_name: string, _value: number | boolean | number[]): boolean { return false; }

  /**
   * The optimizer's state (torch.optim's state_dict): per-parameter tensors (the live ones, not
   * copies: save them before the next step), per-parameter numbers, and the hyper-parameters.
   */
  stateDict(): OptimizerStateDict {
    const tensors: Record<string, Tensor> = {};
    const scalars: Record<string, number> = { lr: this.lr };
    this.params.forEach((p, i) => {
      for (const [k, v] of Object.entries(this.state.get(p) ?? {})) {
        if (typeof v === 'number') scalars[`${i}.${k}`] = v; else tensors[`${i}.${k}`] = v;
      }
    });
    return { tensors, scalars, hyper: this.hyperParams() };
  }
  /**
   * Replaces the state with `sd` (torch.optim's load_state_dict): the per-parameter state is
   * copied in (to each parameter's device and dtype), the hyper-parameters set when `sd.hyper` is given (else
   * lr from `sd.scalars.lr`). Keys are '<i>.<key>'; a key for a parameter that does not exist or
   * a tensor whose shape is not its parameter's is an error naming the key.
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const next = new Map<Tensor, Record<string, Tensor | number>>();
    try {
      for (const [k, v] of [...Object.entries(sd.tensors), ...Object.entries(sd.scalars)]) {
        const dot = k.indexOf('.');
        if (dot < 0) continue;
        const i = k.slice(0, dot);
        const p = /^\d+$/.test(i) ? this.params[Number(i)] : undefined;
        if (!p) throw new Error(`optimizer state has key '${k}' for a parameter that does not exist (the optimizer has ${this.params.length})`);
        if (typeof v !== 'number' && v.shape.join(',') !== p.shape.join(',')) {
          throw new Error(`optimizer state '${k}' has shape [${v.shape}] but parameter ${i} has [${p.shape}]`);
        }
        let slot = next.get(p);
        if (!slot) { slot = {}; next.set(p, slot); }
        // on the parameter's device and dtype, as torch.optim's load_state_dict casts it
        slot[k.slice(dot + 1)] = typeof v === 'number' ? v : noGrad(() => v.to({ device: p.device, dtype: p.dtype, copy: true }).keep());
      }
      if (sd.hyper) this.loadHyperParams(sd.hyper); else this.lr = sd.scalars.lr ?? this.lr;
    } catch (e) {
      for (const s of next.values()) for (const v of Object.values(s)) if (typeof v !== 'number') v.dispose();
      throw e;
    }
    this.dispose();
    for (const [p, s] of next) this.state.set(p, s);
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
  override hyperParams(): HyperParams {
    return { lr: this.lr, momentum: this.momentum, dampening: this.dampening, nesterov: this.nesterov, weightDecay: this.weightDecay };
  }
  protected override setHyper(name: string, v: number | boolean | number[]): boolean {
    if (name === 'nesterov') {
      if (v !== this.nesterov) throw new Error(`optimizer state: nesterov is ${v} in the state but ${this.nesterov} here`);
      return true;
    }
    if (name !== 'momentum' && name !== 'dampening' && name !== 'weightDecay') return false;
    if (typeof v !== 'number') throw new Error(`optimizer state: ${name} must be a number`);
    this[name] = v;
    return true;
  }
  protected update(p: Tensor, g0: Tensor): void {
    let g = this.weightDecay ? g0.add(p, this.weightDecay) : g0;
    if (this.momentum) {
      const s = this.slot(p);
      let buf = s.momentum_buffer as Tensor | undefined;
      if (!buf) {
        buf = g.clone().keep();
        s.momentum_buffer = buf;
      } else {
        buf.mul_(this.momentum).add_(g, 1 - this.dampening);
      }
      g = this.nesterov ? g.add(buf, this.momentum) : buf;
    }
    p.add_(g, -this.lr);
  }
}

export interface AdamOptions {
  lr?: number; betas?: [number, number]; eps?: number; weightDecay?: number; amsgrad?: boolean;
  /**
   * One native call per operation over all parameters (PyTorch 1.13's _multi_tensor_adam(w),
   * foreach=True) instead of one per parameter: ~10 calls a step instead of ~10 per parameter,
   * much faster for models with many small tensors. The same update, but the first moment is
   * m·β1 + (1−β1)·g (foreach) where the single-tensor path computes lerp(m, g, 1−β1): the two
   * agree to rounding, not bit for bit (libtorch 1.13 has no _foreach_lerp_), so the default
   * stays false and a run keeps one setting. Checkpoints are interchangeable (same state keys).
   */
  foreach?: boolean;
}

/** torch.optim.Adam (L2 weight decay added to the gradient). */
export class Adam extends Optimizer {
  betas: [number, number]; eps: number; weightDecay: number;
  readonly decoupled: boolean; readonly foreach: boolean;
  constructor(params: Tensor[], o: AdamOptions = {}, decoupled = false) {
    super(params, o.lr ?? 1e-3);
    this.betas = o.betas ?? [0.9, 0.999]; this.eps = o.eps ?? 1e-8;
    this.weightDecay = o.weightDecay ?? (decoupled ? 1e-2 : 0); this.decoupled = decoupled;
    this.foreach = o.foreach ?? false;
  }
  override hyperParams(): HyperParams {
    return { lr: this.lr, betas: [...this.betas], eps: this.eps, weightDecay: this.weightDecay, decoupled: this.decoupled, foreach: this.foreach };
  }
  protected override setHyper(name: string, v: number | boolean | number[]): boolean {
    if (name === 'decoupled') {
      if (v !== this.decoupled) throw new Error(`optimizer state: written by ${v ? 'AdamW' : 'Adam'}, loaded into ${this.decoupled ? 'AdamW' : 'Adam'}`);
      return true;
    }
    if (name === 'foreach') return true; // how the update is computed, not state: this optimizer's own setting stays
    if (name === 'betas') {
      if (!Array.isArray(v) || v.length !== 2 || !v.every((b) => typeof b === 'number')) throw new Error('optimizer state: betas must be two numbers');
      this.betas = [v[0]!, v[1]!];
      return true;
    }
    if (name !== 'eps' && name !== 'weightDecay') return false;
    if (typeof v !== 'number') throw new Error(`optimizer state: ${name} must be a number`);
    this[name] = v;
    return true;
  }
  override step(): void {
    if (this.foreach) this.stepForeach(); else super.step();
  }
  /** The multi-tensor update: parameters grouped by their step count (equal unless some missed a step). */
  private stepForeach(): void {
    const [b1, b2] = this.betas;
    noGrad(() => scope(() => {
      const groups = new Map<number, { p: Tensor[]; g: Tensor[]; m: Tensor[]; v: Tensor[] }>();
      for (const p of this.params) {
        const g = p.grad;
        if (!g) continue;
        const s = this.slot(p);
        const step = ((s.step as number | undefined) ?? 0) + 1;
        s.step = step;
        const m = (s.exp_avg as Tensor | undefined) ?? (s.exp_avg = zerosLike(p).keep()) as Tensor;
        const v = (s.exp_avg_sq as Tensor | undefined) ?? (s.exp_avg_sq = zerosLike(p).keep()) as Tensor;
        const grp = groups.get(step) ?? { p: [], g: [], m: [], v: [] };
        grp.p.push(p); grp.g.push(g); grp.m.push(m); grp.v.push(v);
        groups.set(step, grp);
      }
      for (const [step, { p, g: g0, m, v }] of groups) {
        if (this.decoupled && this.weightDecay) fe.mulS_(p, 1 - this.lr * this.weightDecay);
        const g = !this.decoupled && this.weightDecay ? fe.addL(g0, p, this.weightDecay) as Tensor[] : g0;
        fe.mulS_(m, b1); fe.addL_(m, g, 1 - b1);
        fe.mulS_(v, b2); fe.addcmul_(v, g, g, 1 - b2);
        const bc1 = 1 - b1 ** step, bc2 = 1 - b2 ** step;
        const denom = fe.sqrt(v) as Tensor[];
        fe.divS_(denom, Math.sqrt(bc2));
        fe.addS_(denom, this.eps);
        fe.addcdiv_(p, m, denom, -this.lr / bc1);
      }
    }));
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

/**
 * torch.optim.AdamW: decoupled weight decay p ← p·(1 − lr·wd). `{ foreach: true }` takes the
 * multi-tensor path (see AdamOptions.foreach).
 */
export class AdamW extends Adam {
  constructor(params: Tensor[], o: AdamOptions = {}) { super(params, o, true); }
}

export interface ClipGradNormOptions {
  /** the p of the norm (default 2; Infinity: the largest |g|) */
  normType?: number;
  /** throw when the total norm is NaN or ±Infinity instead of scaling by it (default false, as torch) */
  errorIfNonfinite?: boolean;
}

/**
 * torch.nn.utils.clip_grad_norm_ (PyTorch 1.13, bit for bit): the total norm is the norm of the
 * per-gradient norms, ‖(‖g₁‖, …, ‖gₙ‖)‖, and when it exceeds maxNorm every .grad is scaled in
 * place by maxNorm / (total + 1e-6). One native call for the norms, one for the scaling, one
 * sync. Parameters without a gradient are skipped. Returns the norm before clipping (0 when no
 * parameter has a gradient).
 */
export function clipGradNorm(params: Iterable<Tensor>, maxNorm: number, o: ClipGradNormOptions = {}): number {
  const normType = o.normType ?? 2;
  if (!(maxNorm >= 0)) throw new Error(`clipGradNorm: maxNorm must be >= 0, got ${maxNorm}`);
  return noGrad(() => scope(() => {
    const gs: Tensor[] = [];
    for (const p of params) { const g = p.grad; if (g) gs.push(g); }
    if (!gs.length) return 0;
    const total = stack(fe.norm(gs, normType) as Tensor[]).norm(normType).item();
    if (o.errorIfNonfinite && !Number.isFinite(total)) {
      throw new Error(`clipGradNorm: the total norm of order ${normType} of the gradients is ${total}; the gradients cannot be clipped (errorIfNonfinite)`);
    }
    const coef = maxNorm / (total + 1e-6);
    if (coef < 1) fe.mulS_(gs, coef);
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

// ---------------------------------------------------------------- stateful schedulers
/**
 * What a checkpoint needs of a stateful helper (a scheduler, a plateau tracker, an EMA of
 * numbers): its state as JSON, and back. saveTrainingCheckpoint stores any of these.
 */
export interface Stateful {
  stateDict(): Record<string, unknown>;
  loadStateDict(state: Record<string, unknown>): void;
}

/**
 * torch.optim.lr_scheduler.LambdaLR over a Schedule: sets the optimizer's lr to schedule.lr(0)
 * now, and to schedule.lr(t) at the t-th step(). Its state is the step count; loading it leaves
 * the optimizer's lr alone (as torch: the optimizer's own state carries the lr, which another
 * scheduler such as ReduceLROnPlateau may have changed since).
 */
export class ScheduledLR implements Stateful {
  /** steps taken (torch's last_epoch) */
  lastStep = 0;
  constructor(readonly optimizer: Optimizer, readonly schedule: Schedule) { optimizer.lr = schedule.lr(0); }
  /** Advances one step; returns the new lr. */
  step(): number {
    this.lastStep++;
    this.optimizer.lr = this.schedule.lr(this.lastStep);
    return this.optimizer.lr;
  }
  stateDict(): Record<string, unknown> { return { lastStep: this.lastStep }; }
  loadStateDict(s: Record<string, unknown>): void {
    const t = s.lastStep;
    if (!(typeof t === 'number' && Number.isInteger(t) && t >= 0)) throw new Error(`ScheduledLR state: lastStep must be a non-negative integer, got ${JSON.stringify(t)}`);
    this.lastStep = t;
  }
}

export interface PlateauOptions {
  /** 'min': the metric should fall (a loss); 'max': rise (an accuracy). Default 'min'. */
  mode?: 'min' | 'max';
  /** lr ← max(lr·factor, minLr) on a plateau (default 0.1) */
  factor?: number;
  /** evaluations without improvement tolerated before a cut (default 10) */
  patience?: number;
  /** what counts as an improvement (default 1e-4) */
  threshold?: number;
  /** 'rel': better than best·(1 ∓ threshold); 'abs': better than best ∓ threshold (default 'rel') */
  thresholdMode?: 'rel' | 'abs';
  /** evaluations to wait after a cut before counting again (default 0) */
  cooldown?: number;
  minLr?: number;
  /** a cut smaller than this is skipped (default 1e-8) */
  eps?: number;
}

/** torch.optim.lr_scheduler.ReduceLROnPlateau: cuts the lr when a metric stops improving. */
export class ReduceLROnPlateau implements Stateful {
  readonly mode: 'min' | 'max'; readonly factor: number; readonly patience: number; readonly threshold: number;
  readonly thresholdMode: 'rel' | 'abs'; readonly cooldown: number; readonly minLr: number; readonly eps: number;
  best: number;
  numBadEpochs = 0;
  cooldownCounter = 0;
  /** evaluations seen (torch's last_epoch) */
  lastStep = 0;
  constructor(readonly optimizer: Optimizer, o: PlateauOptions = {}) {
    this.mode = o.mode ?? 'min'; this.factor = o.factor ?? 0.1; this.patience = o.patience ?? 10;
    this.threshold = o.threshold ?? 1e-4; this.thresholdMode = o.thresholdMode ?? 'rel';
    this.cooldown = o.cooldown ?? 0; this.minLr = o.minLr ?? 0; this.eps = o.eps ?? 1e-8;
    if (!(this.factor < 1 && this.factor >= 0)) throw new Error(`ReduceLROnPlateau: factor must be in [0, 1), got ${this.factor}`);
    this.best = this.mode === 'min' ? Infinity : -Infinity;
  }
  private better(a: number): boolean {
    const t = this.threshold;
    if (this.mode === 'min') return this.thresholdMode === 'rel' ? a < this.best * (1 - t) : a < this.best - t;
    return this.thresholdMode === 'rel' ? a > this.best * (1 + t) : a > this.best + t;
  }
  /** Records one evaluation of the metric; returns the (possibly cut) lr. */
  step(metric: number): number {
    this.lastStep++;
    if (this.better(metric)) { this.best = metric; this.numBadEpochs = 0; } else this.numBadEpochs++;
    if (this.cooldownCounter > 0) { this.cooldownCounter--; this.numBadEpochs = 0; }
    if (this.numBadEpochs > this.patience) {
      const old = this.optimizer.lr, next = Math.max(old * this.factor, this.minLr);
      if (old - next > this.eps) this.optimizer.lr = next;
      this.cooldownCounter = this.cooldown;
      this.numBadEpochs = 0;
    }
    return this.optimizer.lr;
  }
  // JSON has no Infinity: the initial best is stored as null
  stateDict(): Record<string, unknown> {
    return {
      best: Number.isFinite(this.best) ? this.best : null, numBadEpochs: this.numBadEpochs,
      cooldownCounter: this.cooldownCounter, lastStep: this.lastStep,
    };
  }
  loadStateDict(s: Record<string, unknown>): void {
    const int = (k: string) => {
      const v = s[k];
      if (!(typeof v === 'number' && Number.isInteger(v) && v >= 0)) throw new Error(`ReduceLROnPlateau state: ${k} must be a non-negative integer, got ${JSON.stringify(v)}`);
      return v;
    };
    if (s.best !== null && typeof s.best !== 'number') throw new Error(`ReduceLROnPlateau state: best must be a number or null, got ${JSON.stringify(s.best)}`);
    this.best = s.best ?? (this.mode === 'min' ? Infinity : -Infinity);
    this.numBadEpochs = int('numBadEpochs'); this.cooldownCounter = int('cooldownCounter'); this.lastStep = int('lastStep');
  }
}
