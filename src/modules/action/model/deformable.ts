// 3D deformable attention (the paper's Fig. 2(b)): the 3D token search (3DTS) predicts offsets Δ of a
// reference grid over the RGB token volume Z; Z is sampled trilinearly at (grid + Δ) into the
// deformable tokens Z̃; the RGB tokens and the two cross-modal tokens attend to [c_rgb; c_pose; Z̃].
// Gradients reach the offsets through the interpolation weights.
import * as torch from '../../../core/torch/index.ts';
import type { Tensor, Dtype } from '../../../core/torch/index.ts';
import type { ActionConfig } from '../config.ts';
import { gridShape } from './shapes.ts';
import { Attention, Mlp } from './layers.ts';

const { nn, F } = torch;

/**
 * 3D token search (3DTS) [paper names it; layers recon]: depthwise conv3d 3×3×3 → GELU → conv 1×1×1
 * to 3 channels per offset group, applied to Z pooled to the reference grid; Δ = tanh(·)·s in grid
 * cells. The last layer is zero-initialised so training starts on the uniform grid.
 */
export class TokenSearch3D extends nn.Module {
  dw: InstanceType<typeof nn.Conv3d>; pw: InstanceType<typeof nn.Conv3d>;
  constructor(readonly c: ActionConfig) {
    super();
    this.dw = this.child('dw', new nn.Conv3d(c.dim, c.dim, 3, { padding: 1, groups: c.dim, dtype: c.dtype }));
    this.pw = this.child('pw', new nn.Conv3d(c.dim, 3 * c.offsetGroups, 1, { dtype: c.dtype }));
    nn.init.zeros_(this.pw.weight);
    nn.init.zeros_(this.pw.bias!);
  }
  /** pooled [B, D, Gt, Gh, Gw] → offsets [B, g, Gt, Gh, Gw, 3] as (Δt, Δy, Δx) in grid cells */
  forward(pooled: Tensor): Tensor {
    const [B, , gt, gh, gw] = pooled.shape as number[];
    const o = this.pw.forward(this.dw.forward(pooled).gelu()).tanh().mul(this.c.offsetRange);
    return o.reshape([B!, this.c.offsetGroups, 3, gt!, gh!, gw!]).permute([0, 1, 3, 4, 5, 2]);
  }
}

/**
 * Trilinear sampling of a volume at normalised (t, y, x) positions, per offset group:
 * vol [B, D, T', H', W'], pos [B, g, Gt, Gh, Gw, 3] → [B, Gt·Gh·Gw, D]. Gradients flow to pos.
 */
export function sampleTrilinear(vol: Tensor, pos: Tensor, padding: 'zeros' | 'border' = 'zeros'): Tensor {
  const [B, D, T, H, W] = vol.shape as number[];
  const g = pos.shape[1]!;
  const [gt, gh, gw] = pos.shape.slice(2, 5) as number[];
  // grid_sample's last axis is (x, y, z) = (w, h, t): flip our (t, y, x)
  const grid = pos.flip(-1).reshape([B! * g, gt!, gh!, gw!, 3]);
  const v = vol.reshape([B! * g, D! / g, T!, H!, W!]);
  const s = F.gridSample(v, grid, { mode: 'bilinear', paddingMode: padding, alignCorners: false }); // [B·g, D/g, Gt, Gh, Gw]
  return s.reshape([B!, D!, gt! * gh! * gw!]).transpose(1, 2);
}

/** Uniform reference grid of Gt×Gh×Gw cell centres in normalised (t, y, x), align_corners=False. */
export function referenceGrid(g: [number, number, number], dtype: Dtype): Tensor {
  return torch.scope(() => {
    const ax = (n: number) => torch.arange(0, n, 1, { dtype }).mul(2).add(1).div(n).sub(1);
    const [t, y, x] = [ax(g[0]), ax(g[1]), ax(g[2])];
    return torch.stack([
      t.reshape([g[0], 1, 1]).expand([g[0], g[1], g[2]]),
      y.reshape([1, g[1], 1]).expand([g[0], g[1], g[2]]),
      x.reshape([1, 1, g[2]]).expand([g[0], g[1], g[2]]),
    ], -1).contiguous();
  });
}

/**
 * 3D deformable attention [paper]: Q = [c_rgb; c_pose; Z]·W_q, K/V = [c_rgb; c_pose; Z̃]·W_k/W_v where
 * Z̃ = Z sampled trilinearly at (grid + Δ), Δ from the 3D token search; then MLP. Pre-norm [recon].
 */
export class DeformableAttention3D extends nn.Module {
  norm1: InstanceType<typeof nn.LayerNorm>; norm2: InstanceType<typeof nn.LayerNorm>;
  search: TokenSearch3D; attn: Attention; mlp: Mlp;
  readonly grid: [number, number, number];
  /** set record=true to keep the last offsets (grid cells) for diagnostics */
  record = false;
  lastOffsets: { data: Float32Array; shape: number[] } | null = null;
  /** for tests: an additive offset (grid cells) applied on top of the predicted one */
  offsetProbe: Tensor | null = null;
  constructor(readonly c: ActionConfig) {
    super();
    this.grid = gridShape(c);
    this.norm1 = this.child('norm1', new nn.LayerNorm(c.dim, { dtype: c.dtype }));
    this.norm2 = this.child('norm2', new nn.LayerNorm(c.dim, { dtype: c.dtype }));
    this.search = this.child('search', new TokenSearch3D(c));
    this.attn = this.child('attn', new Attention(c.dim, c.heads, c.dtype));
    this.mlp = this.child('mlp', new Mlp(c.dim, c.mlpRatio, c.dtype, c.dropout));
    this.buffer('ref', referenceGrid(this.grid, c.dtype));
  }
  /** Offsets in grid cells [B, g, Gt, Gh, Gw, 3] (zero when learnOffsets is off). */
  offsets(vol: Tensor): Tensor {
    const [B] = vol.shape as number[];
    const [gt, gh, gw] = this.grid;
    let off = this.c.learnOffsets
      ? this.search.forward(F.adaptiveAvgPool3d(vol, this.grid))
      : torch.zeros([B!, this.c.offsetGroups, gt, gh, gw, 3], { dtype: vol.dtype, device: vol.device });
    if (this.offsetProbe) off = off.add(this.offsetProbe);
    return off;
  }
  /** c [B, 2, D], Z [B, T', H', W', D] → updated (c, Z) */
  forward(c: Tensor, z: Tensor): [Tensor, Tensor] {
    const [B, T, H, W, D] = z.shape as number[];
    const n = T! * H! * W!;
    const zn = this.norm1.forward(z);
    const vol = zn.permute([0, 4, 1, 2, 3]);
    const off = this.offsets(vol);
    if (this.record) this.lastOffsets = { data: torch.noGrad(() => torch.scope(() => off.detach().to('float32').contiguous().toTypedArray())) as Float32Array, shape: off.shape };
    const cell = torch.tensor(this.grid.map((g) => 2 / g), { dtype: z.dtype, device: z.device });
    const pos = this.getBuffer('ref').add(off.mul(cell));
    const zt = sampleTrilinear(vol, pos, this.c.samplePadding); // Z̃ [B, G, D]
    const cn = this.norm1.forward(c);
    const q = torch.cat([cn, zn.reshape([B!, n, D!])], 1);
    const kv = torch.cat([cn, zt], 1);
    let x = torch.cat([c, z.reshape([B!, n, D!])], 1).add(this.attn.forward(q, kv));
    x = x.add(this.mlp.forward(this.norm2.forward(x)));
    return [x.narrow(1, 0, 2), x.narrow(1, 2, n).reshape([B!, T!, H!, W!, D!])];
  }
}
