// Generic transformer parts the paper's blocks share: multi-head attention with separate W_q, W_k,
// W_v (the paper's names; it can record its head-averaged map for the explanations) and the MLP.
import * as torch from '../../../core/torch/index.ts';
import type { Tensor, Dtype } from '../../../core/torch/index.ts';

const { nn, F } = torch;

/** Multi-head attention with separate W_q, W_k, W_v (the paper's names); can record its map. */
export class Attention extends nn.Module {
  wq: InstanceType<typeof nn.Linear>; wk: InstanceType<typeof nn.Linear>; wv: InstanceType<typeof nn.Linear>; proj: InstanceType<typeof nn.Linear>;
  readonly headDim: number;
  /** when true, forward stores the head-averaged attention map [N, L, S] in `lastMap` */
  record = false;
  lastMap: { data: Float32Array; shape: number[] } | null = null;
  constructor(readonly dim: number, readonly heads: number, dtype: Dtype) {
    super();
    this.headDim = dim / heads;
    this.wq = this.child('wq', new nn.Linear(dim, dim, true, { dtype }));
    this.wk = this.child('wk', new nn.Linear(dim, dim, true, { dtype }));
    this.wv = this.child('wv', new nn.Linear(dim, dim, true, { dtype }));
    this.proj = this.child('proj', new nn.Linear(dim, dim, true, { dtype }));
  }
  forward(xq: Tensor, xkv: Tensor = xq): Tensor {
    const [N, L, D] = xq.shape as [number, number, number];
    const S = xkv.shape[1]!;
    const split = (x: Tensor, n: number) => x.reshape([N, n, this.heads, this.headDim]).transpose(1, 2);
    const q = split(this.wq.forward(xq), L), k = split(this.wk.forward(xkv), S), v = split(this.wv.forward(xkv), S);
    const a = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(this.headDim)).softmax(-1);
    if (this.record) {
      const m = torch.noGrad(() => torch.scope(() => a.detach().mean(1).to('float32').contiguous().toTypedArray()));
      this.lastMap = { data: m as Float32Array, shape: [N, L, S] };
    }
    return this.proj.forward(a.matmul(v).transpose(1, 2).reshape([N, L, D]));
  }
}

export class Mlp extends nn.Module {
  fc1: InstanceType<typeof nn.Linear>; fc2: InstanceType<typeof nn.Linear>;
  constructor(dim: number, ratio: number, dtype: Dtype, readonly p = 0) {
    super();
    this.fc1 = this.child('fc1', new nn.Linear(dim, Math.round(dim * ratio), true, { dtype }));
    this.fc2 = this.child('fc2', new nn.Linear(Math.round(dim * ratio), dim, true, { dtype }));
  }
  forward(x: Tensor): Tensor {
    const h = F.dropout(this.fc1.forward(x).gelu(), this.p, this.training);
    return F.dropout(this.fc2.forward(h), this.p, this.training);
  }
}
