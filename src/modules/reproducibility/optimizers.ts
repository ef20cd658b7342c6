// First-order methods, vectorized over runs ([B, d] iterates), each spending exactly `budget`
// oracle calls. The paper's reproducibility-optimal methods next to the common ones:
//   GD (optimal under inexact init / inexact gradients, smooth convex)            [paper]
//   SGD with iterate averaging (the stochastic trade-off, Θ(δ²/(ε²T)))             [paper; averaging is our reading, recon]
//   subgradient method with averaging (non-smooth)                                 [spec B.3 (v), recon]
//   AGD (Nesterov) — fast but not more reproducible                                [common]
//   Reg-X: X on F + (λ/2)‖x − x0‖² (the follow-up's regularization, an *additional* method)
//   SGD last iterate, torch.optim optimizers through `fromTorchOptim` (any facade optimizer)
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { FiniteSumAccess } from './oracles.ts';

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
 * x.add(g, −η), the same rounding as torch.optim.SGD, so `fromTorchOptim(SGD)` matches bit for bit.
 */
export function gradientDescent(o: GDOptions): Optimizer {
  checkLr('gradientDescent', o.lr);
  const avg = (o.output ?? 'last') === 'average';
  const name = o.name ?? (avg ? 'GD-avg' : 'GD');
  return {
    name,
    run(x0, grad, budget, hooks) {
      const s0: Record<string, Tensor> = { x: x0.clone() };
      if (avg) s0.avg = x0.clone();
      return drive(name, s0, budget, hooks, (s, t): Record<string, Tensor> => {
        const x = s.x!.add(grad(s.x!), -o.lr);
        if (!avg) return { x };
        // running mean of x_1..x_{t+1}
        return { x, avg: t === 0 ? x.clone() : s.avg!.add(x.sub(s.avg!), 1 / (t + 1)) };
      }, (s) => (avg ? s.avg! : s.x!));
    },
  };
}

/** SGD with uniform averaging of the iterates (the stochastic setting's method). */
export const sgdAveraged = (lr: number) => gradientDescent({ lr, output: 'average', name: 'SGD-avg' });
/** SGD returning the last iterate (common practice). */
export const sgdLast = (lr: number) => gradientDescent({ lr, output: 'last', name: 'SGD-last' });
/** Subgradient method with averaging (non-smooth convex). */
export const subgradientAveraged = (lr: number) => gradientDescent({ lr, output: 'average', name: 'Subgradient-avg' });

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
export function nesterovAGD(o: AGDOptions): Optimizer {
  checkLr('nesterovAGD', o.lr);
  const m = o.momentum ?? 'nesterov';
  if (m !== 'nesterov' && !(m >= 0 && m < 1)) throw new Error(`nesterovAGD: momentum must be 'nesterov' or in [0, 1), got ${m}`);
  const name = o.name ?? 'AGD';
  return {
    name,
    run(x0, grad, budget, hooks) {
      return drive(name, { x: x0.clone(), y: x0.clone() }, budget, hooks, (s, t) => {
        const x = s.y!.add(grad(s.y!), -o.lr);
        const beta = m === 'nesterov' ? t / (t + 3) : m;
        const y = x.add(x.sub(s.x!), beta);
        return { x, y };
      }, (s) => s.x!);
    },
  };
}

/**
 * The follow-up's regularization (Zhang et al. 2023): run `inner` on F_λ(x) = F(x) + (λ/2)‖x − x0‖²,
 * x0 each run's own start. One oracle call of F per call of F_λ. [additional method, not the paper's]
 */
export function regularized(inner: Optimizer, lambda: number): Optimizer {
  if (!(Number.isFinite(lambda) && lambda > 0)) throw new Error(`regularized: lambda must be > 0, got ${lambda}`);
  const name = `Reg-${inner.name}`;
  return {
    name,
    run(x0, grad, budget, hooks) {
      const center = x0.clone();
      try {
        return inner.run(x0, (x) => torch.scope(() => grad(x).add(x.sub(center), lambda)), budget, hooks);
      } finally {
        center.dispose();
      }
    },
  };
}

// ------------------------------------------------------------------ any torch.optim optimizer
/**
 * Drops any facade optimizer (torch.optim.SGD, Adam, AdamW, ...) into the harness: the batch of
 * iterates is one parameter tensor [B, d]; each step sets its .grad to the oracle's answer and
 * calls step(). With output 'average' the uniform iterate average is returned.
 */
export function fromTorchOptim(name: string, make: (params: Tensor[]) => torch.optim.Optimizer,
  o: { output?: 'last' | 'average' } = {}): Optimizer {
  const avgOut = (o.output ?? 'last') === 'average';
  return {
    name,
    run(x0, grad, budget, hooks) {
      checkBudget(name, budget);
      const p = x0.clone().requiresGrad_(true);
      const opt = make([p]);
      let avg: Tensor | null = avgOut ? x0.clone() : null;
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
    },
  };
}

// ------------------------------------------------------------------ variance reduction
/**
 * SVRG (Johnson & Zhang 2013), option I (last iterate): each epoch takes the full gradient at an
 * anchor (⌈n/m⌉ calls), then `epoch` steps x ← x − η(∇f_S(x) − ∇f_S(anchor) + ∇F(anchor)) with a
 * fresh sample S per step (2 calls). Needs finite-sum access (the minibatch oracle); under the
 * paper's black-box stochastic oracle no full gradient exists, so it does not apply there.
 */
export function svrg(o: { lr: number; epoch: number; name?: string }): Optimizer {
  checkLr('svrg', o.lr);
  if (!(Number.isInteger(o.epoch) && o.epoch >= 1)) throw new Error(`svrg: epoch must be an integer >= 1, got ${o.epoch}`);
  const name = o.name ?? 'SVRG';
  return {
    name,
    run(x0, _grad, budget, hooks, fs) {
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
          for (let k = 0; k < o.epoch && used + 2 <= budget; k++) {
            const next = torch.scope(() => {
              const idx = fs.sample(B);
              const g = fs.component(x, idx).sub(fs.component(anchor, idx)).add(mu);
              return x.add(g, -o.lr);
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
    },
  };
}
