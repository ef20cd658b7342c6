// Local joint stride attention (the paper's pose-side spatial attention): within each frame, the
// joints are split into groups (index stride s_j, or NTU body parts [recon]) and each group attends
// over [c_pose; its joints]; the c_pose updates are averaged over groups and frames.
import * as torch from '../../../core/torch/index.ts';
import type { Tensor } from '../../../core/torch/index.ts';
import type { ActionConfig } from '../config.ts';
import { jointGroups } from './shapes.ts';
import { Attention } from './layers.ts';

const { nn } = torch;

/**
 * Local joint-stride attention [paper]: within each frame and joint group, attend over
 * [c_pose; group joints]; the c_pose updates are averaged over groups and frames.
 */
export class LocalJointStrideAttention extends nn.Module {
  norm: InstanceType<typeof nn.LayerNorm>; attn: Attention;
  readonly groups: number[][];
  readonly equal: boolean;
  readonly order: number[];
  readonly inverse: number[];
  /** last per-joint attention of c_pose [B, T, J·M] (when attn.record) */
  lastJointMap: { data: Float32Array; shape: number[] } | null = null;
  constructor(readonly c: ActionConfig) {
    super();
    this.norm = this.child('norm', new nn.LayerNorm(c.dim, { dtype: c.dtype }));
    this.attn = this.child('attn', new Attention(c.dim, c.heads, c.dtype));
    this.groups = jointGroups(c);
    this.equal = this.groups.every((g) => g.length === this.groups[0]!.length);
    this.order = this.groups.flat();
    this.inverse = new Array(this.order.length);
    this.order.forEach((j, i) => { this.inverse[j] = i; });
  }
  forward(c: Tensor, p: Tensor): [Tensor, Tensor] {
    const [B, T, J, D] = p.shape as number[];
    const cPose = c.narrow(1, 1, 1); // [B, 1, D]
    const pn = this.norm.forward(p);
    const cn = this.norm.forward(cPose);
    const idx = (a: number[]) => torch.tensor(a, { dtype: 'int64', device: p.device });
    const dcs: Tensor[] = [];
    const dps: Tensor[] = [];
    const maps: Float32Array[] = [];
    const runGroup = (members: number[], G: number) => {
      const n = members.length / G;
      const pg = pn.indexSelect(2, idx(members)).reshape([B! * T! * G, n, D!]);
      const cg = cn.reshape([B!, 1, 1, D!]).expand([B!, T! * G, 1, D!]).reshape([B! * T! * G, 1, D!]);
      const seq = torch.cat([cg, pg], 1);
      const out = this.attn.forward(seq, seq);
      dcs.push(out.select(1, 0).reshape([B!, T! * G, D!]).sum(1));
      dps.push(out.narrow(1, 1, n).reshape([B!, T!, G * n, D!]));
      if (this.attn.record && this.attn.lastMap) {
        // row 0 (c_pose as query) over the joints of the group
        const m = this.attn.lastMap; const S = m.shape[2]!;
        const rows = new Float32Array(B! * T! * G * n);
        for (let r = 0; r < B! * T! * G; r++) for (let k = 0; k < n; k++) rows[r * n + k] = m.data[r * S * S + 1 + k]!;
        maps.push(rows);
      }
    };
    if (this.equal) runGroup(this.order, this.groups.length);
    else for (const g of this.groups) runGroup(g, 1);
    const nUpdates = T! * this.groups.length;
    const dc = dcs.length === 1 ? dcs[0]!.div(nUpdates) : torch.stack(dcs, 0).sum(0).div(nUpdates);
    const dp = (dps.length === 1 ? dps[0]! : torch.cat(dps, 2)).indexSelect(2, idx(this.inverse));
    if (this.attn.record) this.lastJointMap = this.jointMap(maps, B!, T!, J!);
    const cNew = torch.cat([c.narrow(1, 0, 1), cPose.add(dc.unsqueeze(1))], 1);
    return [cNew, p.add(dp)];
  }
  private jointMap(maps: Float32Array[], B: number, T: number, J: number): { data: Float32Array; shape: number[] } {
    const out = new Float32Array(B * T * J);
    if (this.equal) {
      const G = this.groups.length, n = this.groups[0]!.length, m = maps[0]!;
      for (let b = 0; b < B; b++) {
        for (let t = 0; t < T; t++) for (let i = 0; i < G * n; i++) out[(b * T + t) * J + this.order[i]!] = m[(b * T + t) * G * n + i]!;
      }
    } else {
      this.groups.forEach((g, gi) => {
        const m = maps[gi]!;
        for (let bt = 0; bt < B * T; bt++) g.forEach((j, k) => { out[bt * J + j] = m[bt * g.length + k]!; });
      });
    }
    return { data: out, shape: [B, T, J] };
  }
}
