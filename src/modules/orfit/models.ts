// Models seen by the streaming learners as one flat parameter vector w ∈ R^p.
// ORFit needs, per arriving sample, the scalar output f(x; w) and its gradient a = ∇_w f(x; w) at
// the *current* parameters (the paper's one-pass setting: a_k is taken at w_{k−1}). A linear model gives a = x; any facade nn.Module gives it
// through autograd (the per-sample Jacobian of its scalar output).
import * as torch from '../../core/torch/index.ts';
import { jitterInit } from '../../core/jitter.ts';

type Tensor = torch.Tensor;

/** What every learner needs from a model: flat parameters, output and its gradient, batch prediction. */
export interface StreamModel {
  /** p, the number of parameters */
  readonly numParams: number;
  /** the shape of one input sample (without a batch axis) */
  readonly inputShape: readonly number[];
  /** true when f is linear in w (then a does not depend on w) */
  readonly isLinear: boolean;
  /** a float64 copy of w, flat [p] (the caller owns it) */
  getParams(): Tensor;
  /** w ← value (flat [p]) */
  setParams(w: Tensor): void;
  /** w ← w + alpha·delta (flat [p]; alpha defaults to 1) */
  addToParams(delta: Tensor, alpha?: number): void;
  /** f(x; w) and a = ∇_w f(x; w) for one sample x of shape inputShape (a is owned by the caller) */
  outputAndGrad(x: Tensor): { f: number; a: Tensor };
  /** f for a batch [n, ...inputShape] → [n] (no graph) */
  predictBatch(X: Tensor): Tensor;
  dispose(): void;
}

/** f(x; w) = wᵀx, p = d: the model of the paper's experiments (no bias, as in the paper). */
export class LinearModel implements StreamModel {
  readonly isLinear = true;
  readonly inputShape: readonly number[];
  private w: Tensor;
  constructor(readonly numParams: number, w0?: Tensor) {
    if (!Number.isInteger(numParams) || numParams < 1) throw new Error(`LinearModel: dimension must be a positive integer, got ${numParams}`);
    this.inputShape = [numParams];
    if (w0 && (w0.numel !== numParams)) throw new Error(`LinearModel: w0 has ${w0.numel} entries but the dimension is ${numParams}`);
    // w0 is copied, then jittered when PAPERLAB_JITTER is set (a no-op on the default w0 = 0)
    this.w = jitterInit((w0 ? torch.noGrad(() => torch.scope(() => w0.reshape(-1).to('float64').clone())) : torch.zeros([numParams], { dtype: 'float64' })).keep());
  }
  getParams(): Tensor { return this.w.clone(); }
  setParams(w: Tensor): void {
    checkFlat(w, this.numParams);
    torch.noGrad(() => this.w.copy_(w));
  }
  addToParams(delta: Tensor, alpha = 1): void {
    checkFlat(delta, this.numParams);
    torch.noGrad(() => this.w.add_(delta, alpha));
  }
  outputAndGrad(x: Tensor): { f: number; a: Tensor } {
    return { f: torch.scope(() => this.w.dot(x).item()), a: x.dtype === 'float64' ? x.clone() : torch.scope(() => x.to('float64').clone()) };
  }
  predictBatch(X: Tensor): Tensor { return torch.noGrad(() => torch.scope(() => X.to('float64').mv(this.w))); }
  dispose(): void { this.w.dispose(); }
}

function checkFlat(t: Tensor, p: number): void {
  if (t.ndim !== 1 || t.shape[0] !== p) throw new Error(`parameter vector must have shape [${p}], got [${t.shape}]`);
}

/**
 * Any facade module with a scalar output per sample: `forward(X[n, ...inputShape])` returning [n] or
 * [n, 1]. Parameters are converted to float64 and seen as one flat vector (depth-first order of
 * `module.parameters()`).
 */
export class ModuleModel implements StreamModel {
  readonly isLinear = false;
  readonly numParams: number;
  private readonly params: Tensor[];
  constructor(readonly module: torch.nn.Module, readonly inputShape: readonly number[]) {
    module.to('float64');
    this.params = module.parameters();
    this.numParams = this.params.reduce((s, q) => s + q.numel, 0);
    if (this.numParams === 0) throw new Error('ModuleModel: the module has no parameters');
  }
  getParams(): Tensor {
    return torch.noGrad(() => torch.scope(() => torch.cat(this.params.map((q) => q.detach().reshape(-1)))));
  }
  private forEachSlice(flat: Tensor, fn: (param: Tensor, part: Tensor) => void): void {
    checkFlat(flat, this.numParams);
    torch.noGrad(() => torch.scope(() => {
      let off = 0;
      for (const q of this.params) {
        fn(q, flat.narrow(0, off, q.numel).reshape(q.shape));
        off += q.numel;
      }
    }));
  }
  setParams(w: Tensor): void { this.forEachSlice(w, (q, part) => q.copy_(part)); }
  addToParams(delta: Tensor, alpha = 1): void { this.forEachSlice(delta, (q, part) => q.add_(part, alpha)); }
  outputAndGrad(x: Tensor): { f: number; a: Tensor } {
    return torch.scope(() => {
      const out = (this.module.forward(x.to('float64').unsqueeze(0)) as Tensor).reshape(-1);
      if (out.numel !== 1) throw new Error(`ModuleModel: the model must have one scalar output per sample, got ${out.numel} values`);
      const gs = torch.grad(out.sum(), this.params, { allowUnused: true });
      const a = torch.cat(gs.map((g, i) => (g ?? torch.zerosLike(this.params[i]!)).reshape(-1)));
      return { f: out.detach().item(), a };
    });
  }
  predictBatch(X: Tensor): Tensor {
    return torch.noGrad(() => torch.scope(() => (this.module.forward(X.to('float64')) as Tensor).reshape(-1)));
  }
  /**
   * For models with C outputs per sample [ours: the paper treats scalar outputs only]: the outputs f [C] and the Jacobian
   * J [C, p] at the current parameters (one backward pass per output).
   */
  outputsAndJacobian(x: Tensor): { f: number[]; J: Tensor } {
    return torch.scope(() => {
      const out = (this.module.forward(x.to('float64').unsqueeze(0)) as Tensor).reshape(-1);
      const C = out.numel;
      const rows: Tensor[] = [];
      for (let c = 0; c < C; c++) {
        const gs = torch.grad(out.select(0, c), this.params, { allowUnused: true, retainGraph: c < C - 1 });
        rows.push(torch.cat(gs.map((g, i) => (g ?? torch.zerosLike(this.params[i]!)).reshape(-1))));
      }
      return { f: out.detach().toArray(), J: torch.stack(rows) };
    });
  }
  dispose(): void { this.module.dispose(); }
}

/**
 * Two-layer tanh network in NTK scaling [ours: the nonlinear run]: f(x) = vᵀ tanh(W x / √d) / √H with
 * W, v ~ N(0, 1). As H grows the network stays closer to its linearization.
 */
export class TanhMLP extends torch.nn.Module {
  W: Tensor; v: Tensor;
  constructor(readonly inDim: number, readonly hidden: number) {
    super();
    this.W = this.param('W', jitterInit(torch.randn([hidden, inDim], { dtype: 'float64' })));
    this.v = this.param('v', jitterInit(torch.randn([hidden], { dtype: 'float64' }), { stream: 1 }));
  }
  forward(X: Tensor): Tensor {
    return torch.scope(() => X.matmul(this.W.t()).mul(1 / Math.sqrt(this.inDim)).tanh().mv(this.v).mul(1 / Math.sqrt(this.hidden)));
  }
}
