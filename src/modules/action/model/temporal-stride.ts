// Temporal stride attention (the paper's temporal attention over a strided subset of frames): the T
// frames split into s_t interleaved subsets, each attended over with the two cross-modal tokens, so
// no call sees all frames at once.
import * as torch from '../../../core/torch/index.ts';
import type { Tensor } from '../../../core/torch/index.ts';
import type { ActionConfig } from '../config.ts';
import { Attention } from './layers.ts';

const { nn } = torch;

/**
 * Temporal-stride attention [paper]: frames split into s_t interleaved subsets {t ≡ r mod s_t};
 * each subset attends over [c_rgb; c_pose; per-frame pooled pose tokens]; cross-modal updates are
 * averaged over subsets. [recon] frame-token updates go back to every joint of that frame.
 */
export class TemporalStrideAttention extends nn.Module {
  norm: InstanceType<typeof nn.LayerNorm>; attn: Attention;
  /** last per-frame attention of the cross-modal tokens [B, T] (when attn.record) */
  lastFrameMap: { data: Float32Array; shape: number[] } | null = null;
  constructor(readonly c: ActionConfig) {
    super();
    this.norm = this.child('norm', new nn.LayerNorm(c.dim, { dtype: c.dtype }));
    this.attn = this.child('attn', new Attention(c.dim, c.heads, c.dtype));
  }
  forward(c: Tensor, p: Tensor): [Tensor, Tensor] {
    const [B, T, , D] = p.shape as number[];
    const st = Math.min(this.c.temporalStride, T!);
    const frames = this.norm.forward(p.mean(2)); // [B, T, D]
    const cn = this.norm.forward(c);
    const dcs: Tensor[] = [];
    const dfs: Tensor[] = new Array(st);
    const maps: { r: number; m: { data: Float32Array; shape: number[] } }[] = [];
    // fr: [B, nsub, len, D]
    const run = (fr: Tensor, nsub: number) => {
      const len = fr.shape[2]!;
      const seq = torch.cat([cn.unsqueeze(1).expand([B!, nsub, 2, D!]).reshape([B! * nsub, 2, D!]), fr.reshape([B! * nsub, len, D!])], 1);
      const out = this.attn.forward(seq, seq);
      dcs.push(out.narrow(1, 0, 2).reshape([B!, nsub, 2, D!]).sum(1));
      return out.narrow(1, 2, len);
    };
    let df: Tensor;
    if (T! % st === 0) {
      // [B, T/st, st, D] → subset r holds frames r, r+st, …
      const fr = frames.reshape([B!, T! / st, st, D!]).transpose(1, 2);
      const out = run(fr, st).reshape([B!, st, T! / st, D!]);
      if (this.attn.record && this.attn.lastMap) maps.push({ r: -1, m: this.attn.lastMap });
      df = out.transpose(1, 2).reshape([B!, T!, D!]);
    } else {
      for (let r = 0; r < st; r++) {
        const ids: number[] = [];
        for (let t = r; t < T!; t += st) ids.push(t);
        dfs[r] = run(frames.indexSelect(1, torch.tensor(ids, { dtype: 'int64', device: frames.device })).unsqueeze(1), 1).reshape([B!, ids.length, D!]);
        if (this.attn.record && this.attn.lastMap) maps.push({ r, m: this.attn.lastMap });
      }
      const order: number[] = [];
      for (let r = 0; r < st; r++) for (let t = r; t < T!; t += st) order.push(t);
      const inv = new Array<number>(T!); order.forEach((t, i) => { inv[t] = i; });
      df = torch.cat(dfs, 1).indexSelect(1, torch.tensor(inv, { dtype: 'int64', device: frames.device }));
    }
    if (this.attn.record) this.lastFrameMap = frameMap(maps, B!, T!, st);
    const dc = (dcs.length === 1 ? dcs[0]! : torch.stack(dcs, 0).sum(0)).div(st);
    const pNew = this.c.temporalToJoints ? p.add(df.unsqueeze(2)) : p;
    return [c.add(dc), pNew];
  }
}

/** Per-frame attention of the two cross-modal tokens (mean of their rows) over frame tokens. */
function frameMap(
  maps: { r: number; m: { data: Float32Array; shape: number[] } }[],
  B: number,
  T: number,
  st: number,
): { data: Float32Array; shape: number[] } {
  const out = new Float32Array(B * T);
  for (const { r, m } of maps) {
    const [N, L, S] = m.shape as [number, number, number];
    const nsub = r < 0 ? st : 1;
    const len = S - 2;
    for (let i = 0; i < N; i++) {
      const b = Math.floor(i / nsub), sub = r < 0 ? i % nsub : r;
      for (let k = 0; k < len; k++) {
        const t = sub + k * st;
        out[b * T + t] = 0.5 * (m.data[i * L * S + 2 + k]! + m.data[i * L * S + S + 2 + k]!);
      }
    }
  }
  return { data: out, shape: [B, T] };
}
