// First-order methods, vectorized over runs ([B, d] iterates), each spending exactly `budget`
// oracle calls; one small class per method (its constructor takes the method's settings, `run`
// does the work), in the style of torch.optim. The reproducibility-optimal methods of Ahn et al.
// 2022 next to the common ones:
//   GradientDescent: GD (optimal under inexact init / inexact gradients, smooth convex)  [paper]
//     with output 'average': SGD with iterate averaging (the stochastic trade-off,
//     Θ(δ²/(ε²T)))                                          [paper; averaging is our reading, recon]
//     and the subgradient method with averaging (non-smooth; bound (v) of bounds.ts)      [recon]
//   NesterovAGD — fast but not more reproducible                                          [common]
//   Regularized: X on F + (λ/2)‖x − x0‖² (Zhang et al. 2023's regularization, an *additional* method)
//   TorchOptim: any torch.optim optimizer of the facade; SVRG: variance reduction on finite sums
// The lower-case factories (gradientDescent, sgdAveraged, ...) build them; makeOptimizer builds
// one from the `measure --optimizer` name.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { FiniteSumAccess } from './oracles.ts';
import type { Problem } from './problems/index.ts';
import { OPTIMIZERS, type OptimizerName } from './config.ts';

/** One oracle call for every run of the batch: x [B, d] → gradient estimate [B, d]. */
export type GradFn = (x: Tensor) => Tensor;

export interface RunHooks {
  /** oracle-call counts t at which to report the current output (t = 0 is the start) */
  recordAt?: readonly number[];
  /** receives the output the method would return after t calls (do not keep the tensor) */
  record?(t: number, output: Tensor): void;
  /** checked between steps; an aborted signal stops the run with an error */
  signal?: AbortSignal;
  /** called after every step with the number of calls made */
  onStep?(t: number): void;
}

export interface Optimizer {
  readonly name: string;
  /**
   * Runs `budget` oracle calls from x0 [B, d] (not consumed) and returns the output [B, d].
   * `finiteSum` is present with a minibatch oracle (variance-reduced methods need it).
   */
  run(x0: Tensor, grad: GradFn, budget: number, hooks?: RunHooks, finiteSum?: FiniteSumAccess): Tensor;
}

function checkBudget(name: string, budget: number): void {
  if (!(Number.isInteger(budget) && budget >= 0)) throw new Error(`${name}: budget must be an integer >= 0, got ${budget}`);
}
function checkLr(name: string, lr: number): void {
  if (!(Number.isFinite(lr) && lr > 0)) throw new Error(`${name}: lr must be a finite number > 0, got ${lr}`);
}

/** Shared loop: state advanced by `step`, output read by `output`, records taken at hooks.recordAt. */
function drive<S extends Record<string, Tensor | number>>(name: string, state: S, budget: number, hooks: RunHooks | undefined,
  step: (s: S, t: number) => S, output: (s: S) => Tensor): Tensor {
  checkBudget(name, budget);
  const rec = new Set(hooks?.recordAt ?? []);
  const record = (t: number) => {
    if (hooks?.record && rec.has(t)) torch.scope(() => { hooks.record!(t, output(state)); });
  };
  record(0);
  for (let t = 0; t < budget; t++) {
    if (hooks?.signal?.aborted) { torch.dispose(state); throw new Error(`${name}: interrupted`); }
    const next = torch.scope(() => step(state, t));
    for (const [k, v] of Object.entries(state)) if (typeof v !== 'number' && next[k] !== v) v.dispose();
    state = next;
    record(t + 1);
    hooks?.onStep?.(t + 1);
  }
  const out = torch.scope(() => output(state).clone());
  torch.dispose(state);
  return out;
}

// ------------------------------------------------------------------ gradient descent family
export interface GDOptions {
  lr: number;
  /** 'last' returns x_T; 'average' returns (1/T)·Σ_{t=1..T} x_t (uniform iterate averaging) */
  output?: 'last' | 'average';
  name?: string;
}

/**
 * x_{t+1} = x_t − η·g(x_t). With exact/inexact deterministic gradients this is GD; with a
 * stochastic oracle SGD; with subgradients the subgradient method. The update is written
 * x.add(g, −η), the same rounding as torch.optim.SGD, so `TorchOptim(SGD)` matches bit for bit.
 */
export class GradientDescent implements Optimizer {
  readonly name: string;
  readonly lr: number;
  readonly output: 'last' | 'average';

  /** `lr`: the step η > 0; `output`: the last iterate (default) or the uniform average; `name`: the label in results. */
  constructor(o: GDOptions) {
    checkLr('gradientDescent', o.lr);
    this.lr = o.lr;
    this.output = o.output ?? 'last';
    this.name = o.name ?? (this.output === 'average' ? 'GD-avg' : 'GD');
  }

  run(x0: Tensor, grad: GradFn, budget: number, hooks?: RunHooks): Tensor {
    const avg = this.output === 'average', lr = this.lr;
    const s0: Record<string, Tensor> = { x: x0.clone() };
    if (avg) s0.avg = x0.clone();
    // The state is updated in place (its own clones of x0): x ← x − η g is add_ with the same kernel
    // and rounding as x.add(g, −η); the running mean is one lerp_ (avg + w·(x − avg)) instead of a
    // sub and an add; no [B, d] result is allocated besides the oracle's answer.
    return drive(this.name, s0, budget, hooks, (s, t): Record<string, Tensor> => {
      const x = s.x!.add_(grad(s.x!), -lr);
      if (!avg) return { x };
      // running mean of x_1..x_{t+1}
      const a = s.avg!;
      if (t === 0) a.copy_(x); else a.lerp_(x, 1 / (t + 1));
      return { x, avg: a };
    }, (s) => (avg ? s.avg! : s.x!));
  }
}

/** GD (or SGD, or the subgradient method, by the oracle it is given). */
export const gradientDescent = (o: GDOptions) => new GradientDescent(o);
/** SGD with uniform averaging of the iterates (the stochastic setting's method). */
export const sgdAveraged = (lr: number) => new GradientDescent({ lr, output: 'average', name: 'SGD-avg' });
/** SGD returning the last iterate (common practice). */
export const sgdLast = (lr: number) => new GradientDescent({ lr, output: 'last', name: 'SGD-last' });
/** Subgradient method with averaging (non-smooth convex). */
export const subgradientAveraged = (lr: number) => new GradientDescent({ lr, output: 'average', name: 'Subgradient-avg' });

export interface AGDOptions {
  lr: number;
  /** 'nesterov' uses β_t = t/(t+3) (smooth convex); a number is a constant momentum (strongly convex) */
  momentum?: 'nesterov' | number;
  name?: string;
}

/**
 * Nesterov's accelerated gradient: x_{t+1} = y_t − η·g(y_t), y_{t+1} = x_{t+1} + β_t (x_{t+1} − x_t),
 * y_0 = x_0; returns x_T. One oracle call per step.
 */
export class NesterovAGD implements Optimizer {
  readonly name: string;
  readonly lr: number;
  readonly momentum: 'nesterov' | number;

  /** `lr`: the step η > 0; `momentum`: 'nesterov' (default, β_t = t/(t+3)) or a constant in [0, 1); `name`: the label. */
  constructor(o: AGDOptions) {
    checkLr('nesterovAGD', o.lr);
    const m = o.momentum ?? 'nesterov';
    if (m !== 'nesterov' && !(m >= 0 && m < 1)) throw new Error(`nesterovAGD: momentum must be 'nesterov' or in [0, 1), got ${m}`);
    this.lr = o.lr;
    this.momentum = m;
    this.name = o.name ?? 'AGD';
  }

  run(x0: Tensor, grad: GradFn, budget: number, hooks?: RunHooks): Tensor {
    const m = this.momentum, lr = this.lr;
    return drive(this.name, { x: x0.clone(), y: x0.clone() }, budget, hooks, (s, t) => {
      const x = s.y!.add(grad(s.y!), -lr);
      const beta = m === 'nesterov' ? t / (t + 3) : m;
      const y = x.add(x.sub(s.x!), beta);
      return { x, y };
    }, (s) => s.x!);
  }
}

export const nesterovAGD = (o: AGDOptions) => new NesterovAGD(o);

/**
 * The regularization of Zhang et al. 2023: run `inner` on F_λ(x) = F(x) + (λ/2)‖x − x0‖², x0 each
 * run's own start. One oracle call of F per call of F_λ. [additional method, not Ahn et al.'s]
 */
export class Regularized implements Optimizer {
  readonly name: string;

  /** `inner`: the method run on F_λ; `lambda`: λ > 0. */
  constructor(readonly inner: Optimizer, readonly lambda: number) {
    if (!(Number.isFinite(lambda) && lambda > 0)) throw new Error(`regularized: lambda must be > 0, got ${lambda}`);
    this.name = `Reg-${inner.name}`;
  }

  run(x0: Tensor, grad: GradFn, budget: number, hooks?: RunHooks): Tensor {
    const center = x0.clone();
    try {
      return this.inner.run(x0, (x) => torch.scope(() => grad(x).add(x.sub(center), this.lambda)), budget, hooks);
    } finally {
      center.dispose();
    }
  }
}

export const regularized = (inner: Optimizer, lambda: number) => new Regularized(inner, lambda);

// ------------------------------------------------------------------ any torch.optim optimizer
/**
 * Drops any facade optimizer (torch.optim.SGD, Adam, AdamW, ...) into the harness: the batch of
 * iterates is one parameter tensor [B, d]; each step sets its .grad to the oracle's answer and
 * calls step(). With output 'average' the uniform iterate average is returned.
 */
export class TorchOptim implements Optimizer {
  readonly output: 'last' | 'average';

  /** `name`: the label; `make`: builds the optimizer over the given parameters; `o.output`: 'last' (default) or 'average'. */
  constructor(readonly name: string, readonly make: (params: Tensor[]) => torch.optim.Optimizer, o: { output?: 'last' | 'average' } = {}) {
    this.output = o.output ?? 'last';
  }

  run(x0: Tensor, grad: GradFn, budget: number, hooks?: RunHooks): Tensor {
    const name = this.name;
    checkBudget(name, budget);
    const p = x0.clone().requiresGrad_(true);
    const opt = this.make([p]);
    let avg: Tensor | null = this.output === 'average' ? x0.clone() : null;
    const rec = new Set(hooks?.recordAt ?? []);
    const out = () => (avg ?? p);
    try {
      if (hooks?.record && rec.has(0)) torch.scope(() => hooks.record!(0, out().detach()));
      for (let t = 0; t < budget; t++) {
        if (hooks?.signal?.aborted) throw new Error(`${name}: interrupted`);
        const g = torch.noGrad(() => torch.scope(() => grad(p.detach())));
        p.grad = g;
        g.dispose();
        opt.step();
        opt.zeroGrad();
        if (avg) {
          const a = avg;
          avg = torch.noGrad(() => torch.scope(() => (t === 0 ? p.detach().clone() : a.add(p.detach().sub(a), 1 / (t + 1)))));
          a.dispose();
        }
        if (hooks?.record && rec.has(t + 1)) torch.scope(() => hooks.record!(t + 1, out().detach()));
        hooks?.onStep?.(t + 1);
      }
      return torch.noGrad(() => torch.scope(() => out().detach().clone()));
    } finally {
      opt.dispose();
      p.dispose();
      avg?.dispose();
    }
  }
}

export const fromTorchOptim = (name: string, make: (params: Tensor[]) => torch.optim.Optimizer, o: { output?: 'last' | 'average' } = {}) =>
  new TorchOptim(name, make, o);

// ------------------------------------------------------------------ variance reduction
/**
 * SVRG (Johnson & Zhang 2013), option I (last iterate): each epoch takes the full gradient at an
 * anchor (⌈n/m⌉ calls), then `epoch` steps x ← x − η(∇f_S(x) − ∇f_S(anchor) + ∇F(anchor)) with a
 * fresh sample S per step (2 calls). Needs finite-sum access (the minibatch oracle); under the
 * black-box stochastic oracle of Ahn et al. no full gradient exists, so it does not apply there.
 */
export class SVRG implements Optimizer {
  readonly name: string;
  readonly lr: number;
  readonly epoch: number;

  /** `lr`: the step η > 0; `epoch`: inner steps per full gradient (integer ≥ 1); `name`: the label. */
  constructor(o: { lr: number; epoch: number; name?: string }) {
    checkLr('svrg', o.lr);
    if (!(Number.isInteger(o.epoch) && o.epoch >= 1)) throw new Error(`svrg: epoch must be an integer >= 1, got ${o.epoch}`);
    this.lr = o.lr;
    this.epoch = o.epoch;
    this.name = o.name ?? 'SVRG';
  }

  run(x0: Tensor, _grad: GradFn, budget: number, hooks?: RunHooks, fs?: FiniteSumAccess): Tensor {
    const name = this.name;
    checkBudget(name, budget);
    if (!fs) throw new Error(`${name}: needs a finite-sum oracle (minibatch); the oracle given has no component gradients`);
    const fullCost = Math.ceil(fs.n / fs.batch);
    if (budget < fullCost + 2) throw new Error(`${name}: budget ${budget} is below one epoch's cost (${fullCost} + 2 calls)`);
    const B = x0.shape[0]!;
    let x = x0.clone();
    let used = 0;
    try {
      while (used + fullCost + 2 <= budget) {
        if (hooks?.signal?.aborted) throw new Error(`${name}: interrupted`);
        const anchor = x.clone();
        const mu = fs.full(anchor);
        used += fullCost;
        for (let k = 0; k < this.epoch && used + 2 <= budget; k++) {
          const next = torch.scope(() => {
            const idx = fs.sample(B);
            const g = fs.component(x, idx).sub(fs.component(anchor, idx)).add(mu);
            return x.add(g, -this.lr);
          });
          x.dispose();
          x = next;
          used += 2;
          hooks?.onStep?.(used);
        }
        torch.dispose(anchor, mu);
      }
      return x;
    } catch (e) {
      x.dispose();
      throw e;
    }
  }
}

export const svrg = (o: { lr: number; epoch: number; name?: string }) => new SVRG(o);

// ------------------------------------------------------------------ by name (the measure command)
/** The step size `measure` uses when --lr is not given: 1/L (smooth), or D²/(εT) capped at 1/L (stochastic / non-smooth). */
export function defaultStep(problem: Problem, oracleKind: string, budget: number, epsilon: number): number {
  const { L, D } = problem.constants;
  if (problem.setting === 'nonsmooth-convex' || oracleKind === 'stochastic') {
    const lr = (D * D) / (epsilon * Math.max(1, budget));
    return Number.isFinite(L) ? Math.min(lr, 1 / L) : lr;
  }
  return 1 / L;
}

/** The method of a `measure --optimizer` name with step `lr` (momentum from μ and L where it needs them). */
export function makeOptimizer(name: OptimizerName, lr: number, lambda: number, mu: number, L: number): Optimizer {
  switch (name) {
    case 'gd': return gradientDescent({ lr });
    case 'agd': return nesterovAGD({ lr, momentum: mu > 0 ? (Math.sqrt(L / mu) - 1) / (Math.sqrt(L / mu) + 1) : 'nesterov' });
    case 'reg-gd': return regularized(gradientDescent({ lr }), lambda);
    case 'reg-agd': { const k = (L + lambda) / (mu + lambda); return regularized(nesterovAGD({ lr, momentum: (Math.sqrt(k) - 1) / (Math.sqrt(k) + 1) }), lambda); }
    case 'sgd-avg': return sgdAveraged(lr);
    case 'sgd-last': return sgdLast(lr);
    case 'subgradient-avg': return subgradientAveraged(lr);
    case 'svrg': return svrg({ lr: lr / 4, epoch: 100 });
    case 'torch-sgd': return fromTorchOptim('torch.optim.SGD', (ps) => new torch.optim.SGD(ps, { lr }));
    case 'torch-adam': return fromTorchOptim('torch.optim.Adam', (ps) => new torch.optim.Adam(ps, { lr }));
    default: throw new Error(`unknown optimizer '${name as string}'. Valid: ${OPTIMIZERS.join(', ')}`);
  }
}
