// torch.nn for TypeScript: Module with parameters, buffers, children, train()/eval(), state dicts,
// and the layers the papers use, with PyTorch's default initializations.
import * as F from './functional.ts';
import { Tensor, empty, zeros, ones, noGrad, scope, cat } from './tensor.ts';
import { isDevice, aten, type Dtype, type Device } from './tensor.ts';

export { F };

/** Makes a leaf tensor that requires grad, kept out of any scope (it lives with its module). */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  return t.keep();
}

export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor | null>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();

  /** Registers (or replaces) a parameter; returns it. */
  protected param(name: string, t: Tensor | null): Tensor {
    const old = this._params.get(name);
    if (old && old !== t) old.dispose();
    this._params.set(name, t ? parameter(t) : null);
    return t as Tensor;
  }
  protected buffer(name: string, t: Tensor): Tensor {
    this._buffers.get(name)?.dispose();
    this._buffers.set(name, t.keep());
    return t;
  }
  protected getBuffer(name: string): Tensor {
    const b = this._buffers.get(name);
    if (!b) throw new Error(`${this.constructor.name}: no buffer '${name}'`);
    return b;
  }
  protected child<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    return m;
  }

  abstract forward(...args: any[]): any;

  /** Parameters of this module and its children, depth first. */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, p] of this._params) if (p) out.push([prefix + k, p]);
    for (const [k, c] of this._children) out.push(...c.namedParameters(`${prefix}${k}.`));
    return out;
  }
  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [k, b] of this._buffers) out.push([prefix + k, b]);
    for (const [k, c] of this._children) out.push(...c.namedBuffers(`${prefix}${k}.`));
    return out;
  }
  children(): [string, Module][] { return [...this._children]; }
  modules(): Module[] { return [this, ...[...this._children.values()].flatMap((c) => c.modules())]; }
  numParameters(): number { return this.parameters().reduce((s, p) => s + p.numel, 0); }

  train(on = true): this {
    this.training = on;
    for (const c of this._children.values()) c.train(on);
    return this;
  }
  eval(): this { return this.train(false); }

  /** Sets every parameter's .grad to null (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Record<string, Tensor> {
    return Object.fromEntries([...this.namedParameters(), ...this.namedBuffers()]);
  }

  /** Copies values in (shapes must match). strict: every key must be present both ways. */
  loadStateDict(sd: Record<string, Tensor>, strict = true): void {
    const own = this.stateDict();
    if (strict) {
      const missing = Object.keys(own).filter((k) => !(k in sd));
      const unexpected = Object.keys(sd).filter((k) => !(k in own));
      if (missing.length || unexpected.length) {
        throw new Error(`loadStateDict: missing keys [${missing.join(', ')}], unexpected keys [${unexpected.join(', ')}]`);
      }
    }
    noGrad(() => {
      for (const [k, t] of Object.entries(own)) {
        const src = sd[k];
        if (!src) continue;
        if (src.shape.join(',') !== t.shape.join(',')) {
          throw new Error(`loadStateDict: '${k}' has shape [${src.shape}] in the file but [${t.shape}] in the model`);
        }
        scope(() => t.copy_(src.dtype === t.dtype ? src : src.to(t.dtype)));
      }
    });
  }

  /**
   * torch's Module.to: moves parameters and buffers to a device ('cuda', 'cpu', 'meta') and/or
   * converts the floating ones to a dtype (e.g. float64 for the optimization papers). As in
   * PyTorch, parameters keep their identity where libtorch allows it (set_data, like
   * `param.data = param.data.to(...)`), so an optimizer made before the move still updates them,
   * and their .grad moves along; where it does not (to and from 'meta'), a new parameter replaces
   * the old one and the module's fields are repointed. Integer buffers change device only.
   */
  to(target: Dtype | Device | { device?: Device; dtype?: Dtype }): this {
    const o = typeof target === 'string' ? (isDevice(target) ? { device: target } : { dtype: target as Dtype }) : target;
    const want = (t: Tensor, floating: boolean) => ({
      device: o.device ?? t.device,
      dtype: o.dtype && floating && (t.dtype.startsWith('float') || t.dtype === 'bfloat16') ? o.dtype : t.dtype,
    });
    noGrad(() => {
      for (const m of this.modules()) {
        // Fields such as Linear.weight point at the old tensors: repoint them before the old ones are freed.
        const repoint = (old: Tensor, next: Tensor) => {
          for (const key of Object.keys(m)) if ((m as unknown as Record<string, unknown>)[key] === old) (m as unknown as Record<string, unknown>)[key] = next;
        };
        for (const [k, p] of m._params) {
          if (!p) continue;
          const w = want(p, true);
          if (w.device === p.device && w.dtype === p.dtype) continue;
          const n = p.to(w);
          if (moveInPlace(p, n)) { const g = p.grad; if (g) { p.grad = g.to(w); g.dispose(); } continue; }
          repoint(p, n); m.param(k, n);
        }
        for (const [k, b] of m._buffers) {
          const w = want(b, b.dtype === 'float32' || b.dtype === 'float64' || b.dtype === 'float16' || b.dtype === 'bfloat16');
          if (w.device === b.device && w.dtype === b.dtype) continue;
          const n = b.to(w);
          if (moveInPlace(b, n)) continue;
          repoint(b, n); m.buffer(k, n);
        }
      }
    });
    return this;
  }
  /** The device of the first parameter (or buffer); 'cpu' for a module without tensors. */
  get device(): Device {
    return (this.parameters()[0] ?? this.namedBuffers()[0]?.[1])?.device ?? 'cpu';
  }

  /** Frees every parameter and buffer. */
  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) t.dispose();
  }
}

/** t.set_data(next) when libtorch allows it (same tensor type): t keeps its identity; next is freed. */
function moveInPlace(t: Tensor, next: Tensor): boolean {
  try {
    aten.set_data(t, next);
  } catch {
    return false;
  }
  next.dispose();
  return true;
}

// ---------------------------------------------------------------- init (torch.nn.init)
export const init = {
  uniform_(t: Tensor, a: number, b: number): Tensor { noGrad(() => t.uniform_(a, b)); return t; },
  normal_(t: Tensor, mean = 0, std = 1): Tensor { noGrad(() => t.normal_(mean, std)); return t; },
  zeros_(t: Tensor): Tensor { noGrad(() => t.zero_()); return t; },
  ones_(t: Tensor): Tensor { noGrad(() => t.fill_(1)); return t; },
  constant_(t: Tensor, v: number): Tensor { noGrad(() => t.fill_(v)); return t; },
  /** fan_in and fan_out as torch.nn.init._calculate_fan_in_and_fan_out */
  fans(t: Tensor): [number, number] {
    const s = t.shape;
    if (s.length < 2) throw new Error('fan in/out needs at least 2 dims');
    const rf = s.slice(2).reduce((a, b) => a * b, 1);
    return [s[1]! * rf, s[0]! * rf];
  },
  kaimingUniform_(t: Tensor, a = 0, mode: 'fan_in' | 'fan_out' = 'fan_in', nonlinearity: 'leaky_relu' | 'relu' | 'linear' | 'tanh' = 'leaky_relu'): Tensor {
    const [fi, fo] = init.fans(t);
    const gain = nonlinearity === 'relu' ? Math.SQRT2 : nonlinearity === 'tanh' ? 5 / 3 : nonlinearity === 'linear' ? 1 : Math.sqrt(2 / (1 + a * a));
    const bound = Math.sqrt(3) * gain / Math.sqrt(mode === 'fan_in' ? fi : fo);
    return init.uniform_(t, -bound, bound);
  },
  kaimingNormal_(t: Tensor, a = 0, mode: 'fan_in' | 'fan_out' = 'fan_in', nonlinearity: 'leaky_relu' | 'relu' = 'leaky_relu'): Tensor {
    const [fi, fo] = init.fans(t);
    const gain = nonlinearity === 'relu' ? Math.SQRT2 : Math.sqrt(2 / (1 + a * a));
    return init.normal_(t, 0, gain / Math.sqrt(mode === 'fan_in' ? fi : fo));
  },
  xavierUniform_(t: Tensor, gain = 1): Tensor {
    const [fi, fo] = init.fans(t);
    const a = gain * Math.sqrt(6 / (fi + fo));
    return init.uniform_(t, -a, a);
  },
  xavierNormal_(t: Tensor, gain = 1): Tensor {
    const [fi, fo] = init.fans(t);
    return init.normal_(t, 0, gain * Math.sqrt(2 / (fi + fo)));
  },
  truncNormal_(t: Tensor, std = 0.02): Tensor {
    noGrad(() => scope(() => { t.normal_(0, std); t.clamp_(-2 * std, 2 * std); }));
    return t;
  },
};

/** PyTorch's default for Linear/Conv: kaiming_uniform(a=√5) weights, U(±1/√fan_in) bias. */
function defaultInit(w: Tensor, b: Tensor | null, fanInFrom: Tensor = w): void {
  init.kaimingUniform_(w, Math.sqrt(5));
  if (b) {
    const [fi] = init.fans(fanInFrom);
    const bound = fi > 0 ? 1 / Math.sqrt(fi) : 0;
    init.uniform_(b, -bound, bound);
  }
}

export interface FactoryOpts { dtype?: Dtype }

// ---------------------------------------------------------------- layers
export class Linear extends Module {
  weight: Tensor; bias: Tensor | null;
  constructor(readonly inFeatures: number, readonly outFeatures: number, bias = true, o: FactoryOpts = {}) {
    super();
    const dtype = o.dtype ?? 'float32';
    this.weight = this.param('weight', empty([outFeatures, inFeatures], { dtype }));
    this.bias = bias ? this.param('bias', empty([outFeatures], { dtype })) : this.param('bias', null);
    defaultInit(this.weight, this.bias);
  }
  forward(x: Tensor): Tensor { return F.linear(x, this.weight, this.bias); }
}

type Size = number | readonly number[];
function nTuple(v: Size, n: number): number[] { return typeof v === 'number' ? Array(n).fill(v) : [...v]; }

export interface ConvOpts extends FactoryOpts { stride?: Size; padding?: Size; dilation?: Size; groups?: number; bias?: boolean }

abstract class ConvNd extends Module {
  weight: Tensor; bias: Tensor | null;
  readonly stride: number[]; readonly padding: number[]; readonly dilation: number[]; readonly groups: number;
  constructor(readonly dims: number, readonly inChannels: number, readonly outChannels: number, kernelSize: Size, o: ConvOpts, transposed: boolean) {
    super();
    const k = nTuple(kernelSize, dims);
    this.stride = nTuple(o.stride ?? 1, dims);
    this.padding = nTuple(o.padding ?? 0, dims);
    this.dilation = nTuple(o.dilation ?? 1, dims);
    this.groups = o.groups ?? 1;
    if (inChannels % this.groups || outChannels % this.groups) throw new Error(`Conv: channels ${inChannels}→${outChannels} not divisible by groups ${this.groups}`);
    const dtype = o.dtype ?? 'float32';
    const wShape = transposed ? [inChannels, outChannels / this.groups, ...k] : [outChannels, inChannels / this.groups, ...k];
    this.weight = this.param('weight', empty(wShape, { dtype }));
    this.bias = o.bias === false ? this.param('bias', null) : this.param('bias', empty([outChannels], { dtype }));
    defaultInit(this.weight, this.bias);
  }
}

export class Conv1d extends ConvNd {
  constructor(inC: number, outC: number, k: Size, o: ConvOpts = {}) { super(1, inC, outC, k, o, false); }
  forward(x: Tensor): Tensor { return F.conv1d(x, this.weight, this.bias, this); }
}
export class Conv2d extends ConvNd {
  constructor(inC: number, outC: number, k: Size, o: ConvOpts = {}) { super(2, inC, outC, k, o, false); }
  forward(x: Tensor): Tensor { return F.conv2d(x, this.weight, this.bias, this); }
}
export class Conv3d extends ConvNd {
  constructor(inC: number, outC: number, k: Size, o: ConvOpts = {}) { super(3, inC, outC, k, o, false); }
  forward(x: Tensor): Tensor { return F.conv3d(x, this.weight, this.bias, this); }
}
export interface ConvTOpts extends ConvOpts { outputPadding?: Size }
export class ConvTranspose2d extends ConvNd {
  readonly outputPadding: number[];
  constructor(inC: number, outC: number, k: Size, o: ConvTOpts = {}) { super(2, inC, outC, k, o, true); this.outputPadding = nTuple(o.outputPadding ?? 0, 2); }
  forward(x: Tensor): Tensor { return F.convTranspose2d(x, this.weight, this.bias, this); }
}
export class ConvTranspose3d extends ConvNd {
  readonly outputPadding: number[];
  constructor(inC: number, outC: number, k: Size, o: ConvTOpts = {}) { super(3, inC, outC, k, o, true); this.outputPadding = nTuple(o.outputPadding ?? 0, 3); }
  forward(x: Tensor): Tensor { return F.convTranspose3d(x, this.weight, this.bias, this); }
}

export interface NormOpts extends FactoryOpts { eps?: number; momentum?: number; affine?: boolean; trackRunningStats?: boolean }

/** BatchNorm over dim 1 for [N, C], [N, C, L], [N, C, H, W] or [N, C, D, H, W]. */
export class BatchNorm extends Module {
  weight: Tensor | null; bias: Tensor | null;
  readonly eps: number; readonly momentum: number; readonly track: boolean;
  constructor(readonly numFeatures: number, o: NormOpts = {}) {
    super();
    const dtype = o.dtype ?? 'float32';
    this.eps = o.eps ?? 1e-5; this.momentum = o.momentum ?? 0.1; this.track = o.trackRunningStats ?? true;
    const affine = o.affine ?? true;
    this.weight = affine ? this.param('weight', ones([numFeatures], { dtype })) : null;
    this.bias = affine ? this.param('bias', zeros([numFeatures], { dtype })) : null;
    if (this.track) {
      this.buffer('running_mean', zeros([numFeatures], { dtype }));
      this.buffer('running_var', ones([numFeatures], { dtype }));
    }
  }
  forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numFeatures) throw new Error(`BatchNorm(${this.numFeatures}): input has shape [${x.shape}]`);
    const useBatch = this.training || !this.track;
    return F.batchNorm(x, this.track ? this.getBuffer('running_mean') : null, this.track ? this.getBuffer('running_var') : null,
      this.weight, this.bias, useBatch, this.momentum, this.eps);
  }
}
export class BatchNorm1d extends BatchNorm {}
export class BatchNorm2d extends BatchNorm {}
export class BatchNorm3d extends BatchNorm {}

export class GroupNorm extends Module {
  weight: Tensor | null; bias: Tensor | null;
  constructor(readonly numGroups: number, readonly numChannels: number, readonly o: NormOpts = {}) {
    super();
    if (numChannels % numGroups) throw new Error(`GroupNorm: ${numChannels} channels not divisible by ${numGroups} groups`);
    const dtype = o.dtype ?? 'float32';
    const affine = o.affine ?? true;
    this.weight = affine ? this.param('weight', ones([numChannels], { dtype })) : null;
    this.bias = affine ? this.param('bias', zeros([numChannels], { dtype })) : null;
  }
  forward(x: Tensor): Tensor { return F.groupNorm(x, this.numGroups, this.weight, this.bias, this.o.eps ?? 1e-5); }
}

export class InstanceNorm extends Module {
  weight: Tensor | null; bias: Tensor | null;
  constructor(readonly numFeatures: number, readonly o: NormOpts = {}) {
    super();
    const dtype = o.dtype ?? 'float32';
    this.weight = o.affine ? this.param('weight', ones([numFeatures], { dtype })) : null;
    this.bias = o.affine ? this.param('bias', zeros([numFeatures], { dtype })) : null;
  }
  forward(x: Tensor): Tensor { return F.instanceNorm(x, this.weight, this.bias, this.o.eps ?? 1e-5); }
}

export class LayerNorm extends Module {
  weight: Tensor | null; bias: Tensor | null;
  readonly shape: number[];
  constructor(normalizedShape: Size, readonly o: NormOpts & { elementwiseAffine?: boolean } = {}) {
    super();
    this.shape = nTuple(normalizedShape, 1);
    const dtype = o.dtype ?? 'float32';
    const affine = o.elementwiseAffine ?? true;
    this.weight = affine ? this.param('weight', ones(this.shape, { dtype })) : null;
    this.bias = affine ? this.param('bias', zeros(this.shape, { dtype })) : null;
  }
  forward(x: Tensor): Tensor { return F.layerNorm(x, this.shape, this.weight, this.bias, this.o.eps ?? 1e-5); }
}

export class Dropout extends Module {
  constructor(readonly p = 0.5) { super(); if (p < 0 || p > 1) throw new Error(`Dropout: p must be in [0, 1], got ${p}`); }
  forward(x: Tensor): Tensor { return F.dropout(x, this.p, this.training); }
}

export class Embedding extends Module {
  weight: Tensor;
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, o: FactoryOpts & { paddingIdx?: number } = {}) {
    super();
    this.weight = this.param('weight', empty([numEmbeddings, embeddingDim], { dtype: o.dtype ?? 'float32' }));
    init.normal_(this.weight);
    this.paddingIdx = o.paddingIdx ?? -1;
    if (this.paddingIdx >= 0) noGrad(() => scope(() => { this.weight.select(0, this.paddingIdx).zero_(); }));
  }
  readonly paddingIdx: number;
  forward(indices: Tensor): Tensor { return F.embedding(this.weight, indices, this.paddingIdx); }
}

/** A stateless function as a module (activations). */
export class Lambda extends Module {
  constructor(readonly fn: (x: Tensor) => Tensor, readonly label = 'Lambda') { super(); }
  forward(x: Tensor): Tensor { return this.fn(x); }
}
export class ReLU extends Lambda { constructor() { super((x) => x.relu(), 'ReLU'); } }
export class GELU extends Lambda { constructor() { super((x) => x.gelu(), 'GELU'); } }
export class SiLU extends Lambda { constructor() { super((x) => x.silu(), 'SiLU'); } }
export class Tanh extends Lambda { constructor() { super((x) => x.tanh(), 'Tanh'); } }
export class Sigmoid extends Lambda { constructor() { super((x) => x.sigmoid(), 'Sigmoid'); } }
export class LeakyReLU extends Lambda { constructor(slope = 0.01) { super((x) => x.leakyRelu(slope), 'LeakyReLU'); } }
export class Identity extends Lambda { constructor() { super((x) => x, 'Identity'); } }
export class Flatten extends Lambda { constructor(start = 1, end = -1) { super((x) => x.flatten(start, end), 'Flatten'); } }

export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.child(String(i), l));
  }
  forward(x: Tensor): Tensor {
    // Intermediates are freed as we go; the output is the caller's.
    let h = x;
    for (const l of this.layers) {
      const next = l.forward(h) as Tensor;
      if (h !== x && next !== h) h.dispose(); // autograd keeps what backward needs
      h = next;
    }
    return h;
  }
}

export class ModuleList extends Module {
  readonly items: Module[] = [];
  constructor(items: Module[] = []) { super(); items.forEach((m) => this.push(m)); }
  push(m: Module): void { this.child(String(this.items.length), m); this.items.push(m); }
  get length(): number { return this.items.length; }
  forward(): never { throw new Error('ModuleList has no forward; iterate over .items'); }
}

/**
 * torch.nn.MultiheadAttention (batch_first=True): query [N, L, E], key/value [N, S, E].
 * keyPaddingMask [N, S] bool (true = ignore); attnMask [L, S] bool (true = ignore) or additive.
 */
export class MultiheadAttention extends Module {
  inProjWeight: Tensor; inProjBias: Tensor | null;
  outProj: Linear;
  readonly headDim: number;
  constructor(readonly embedDim: number, readonly numHeads: number, o: FactoryOpts & { bias?: boolean; dropout?: number } = {}) {
    super();
    if (embedDim % numHeads) throw new Error(`MultiheadAttention: embedDim ${embedDim} not divisible by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    const dtype = o.dtype ?? 'float32';
    this.inProjWeight = this.param('in_proj_weight', empty([3 * embedDim, embedDim], { dtype }));
    init.xavierUniform_(this.inProjWeight);
    this.inProjBias = o.bias === false ? null : this.param('in_proj_bias', zeros([3 * embedDim], { dtype }));
    this.outProj = this.child('out_proj', new Linear(embedDim, embedDim, o.bias !== false, { dtype }));
    if (this.outProj.bias) init.zeros_(this.outProj.bias);
    this.dropoutP = o.dropout ?? 0;
  }
  readonly dropoutP: number;

  forward(query: Tensor, key: Tensor = query, value: Tensor = key, o: { keyPaddingMask?: Tensor; attnMask?: Tensor } = {}): Tensor {
    return scope(() => {
      const [N, L, E] = query.shape as [number, number, number];
      const S = key.shape[1]!;
      const [wq, wk, wv] = this.inProjWeight.chunk(3, 0) as [Tensor, Tensor, Tensor];
      const [bq, bk, bv] = this.inProjBias ? (this.inProjBias.chunk(3, 0) as [Tensor, Tensor, Tensor]) : [null, null, null];
      const heads = (x: Tensor, len: number) => x.reshape([N, len, this.numHeads, this.headDim]).transpose(1, 2);
      const q = heads(F.linear(query, wq, bq), L), k = heads(F.linear(key, wk, bk), S), v = heads(F.linear(value, wv, bv), S);
      let mask: Tensor | null = null; // additive [N or 1, 1, L, S]
      if (o.attnMask) mask = o.attnMask.dtype === 'bool' ? zeros(o.attnMask.shape, { dtype: q.dtype, device: q.device }).maskedFill(o.attnMask, -Infinity) : o.attnMask;
      if (o.keyPaddingMask) {
        const kp = zeros([N, 1, 1, S], { dtype: q.dtype, device: q.device }).maskedFill(o.keyPaddingMask.reshape([N, 1, 1, S]), -Infinity);
        mask = mask ? mask.add(kp) : kp;
      }
      const out = F.scaledDotProductAttention(q, k, v, mask, this.dropoutP, this.training);
      return this.outProj.forward(out.transpose(1, 2).reshape([N, L, E]));
    });
  }
}

/** Concatenate along channels (a common building block in U-Nets). */
export function concatChannels(xs: Tensor[]): Tensor { return cat(xs, 1); }
