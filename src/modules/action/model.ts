// Cross-modal 3D deformable transformer (Kim, Ahn, Ko, ICCV 2023, arXiv 2212.05638), read top to
// bottom: RGB backbone → RGB tokens Z; pose embedding → pose tokens P; two cross-modal tokens
// (c_rgb, c_pose); L blocks of [3D deformable attention (3D token search + attention),
// local joint-stride attention, temporal-stride attention]; classifier on the cross-modal tokens.
//
// What the paper fixes is marked [paper]; everything the spec reconstructs is [recon] and sits
// behind a field of ActionConfig so alternatives can be tried (see spec vision.md Part B).
import * as torch from '../../core/torch/index.ts';
import type { Tensor, Dtype } from '../../core/torch/index.ts';

const { nn, F } = torch;

export type JointGrouping = 'stride' | 'parts';
export type HeadMode = 'concat' | 'sum';

export interface ActionConfig {
  numClasses: number;
  /** joints per body (25 NTU, 13 Penn) */
  joints: number;
  /** bodies stacked along the joint axis (NTU keeps ≤ 2) */
  bodies: number;
  /** channels per joint: 3 (x, y, z) or 2 (x, y), +1 with a confidence channel */
  coordDim: number;
  /** frames T of the pose sequence and of the RGB clip */
  frames: number;
  /** token width D */
  dim: number;
  heads: number;
  mlpRatio: number;
  /** blocks L [paper: repeated L times] */
  depth: number;
  /** use the RGB path (false: pose-only mode, spec B.3) */
  rgb: boolean;
  /** RGB crop side (pixels) */
  imgSize: number;
  /** [recon] backbone: conv3d channel widths and (t, h, w) strides, one per layer */
  backboneChannels: number[];
  backboneStrides: [number, number, number][];
  backboneKernel: number;
  /** [recon] reference grid G_t×G_h×G_w; null = half the token resolution on each axis */
  grid: [number, number, number] | null;
  /** [recon] offset range s in grid cells: Δ = tanh(·)·s */
  offsetRange: number;
  /** [recon] offset groups: 1 = shared across heads, `heads` = one offset field per head group */
  offsetGroups: number;
  /** false: offsets frozen at zero (the uniform reference grid), for the ablation */
  learnOffsets: boolean;
  /** [recon] padding of the trilinear sampler outside the volume */
  samplePadding: 'zeros' | 'border';
  /** [recon] joint groups for local joint-stride attention */
  jointGrouping: JointGrouping;
  /** s_j: joints j, j+s_j, … form one group (stride grouping) */
  jointStride: number;
  /** s_t: frames t ≡ r (mod s_t) form one temporal subset */
  temporalStride: number;
  /** [recon] the temporal update of a frame token is added back to each joint of that frame */
  temporalToJoints: boolean;
  /** [recon] classifier on concat(c_rgb, c_pose) or on their sum */
  head: HeadMode;
  dropout: number;
  dtype: Dtype;
}

export const DEFAULT_CONFIG: ActionConfig = {
  numClasses: 6, joints: 25, bodies: 1, coordDim: 3, frames: 16,
  dim: 64, heads: 4, mlpRatio: 2, depth: 3,
  rgb: true, imgSize: 48, backboneChannels: [16, 32, 64], backboneStrides: [[1, 2, 2], [2, 2, 2], [1, 2, 2]], backboneKernel: 3,
  grid: null, offsetRange: 2, offsetGroups: 1, learnOffsets: true, samplePadding: 'zeros',
  jointGrouping: 'stride', jointStride: 5, temporalStride: 2, temporalToJoints: true,
  head: 'concat', dropout: 0, dtype: 'float32',
};

export function makeConfig(o: Partial<ActionConfig> = {}): ActionConfig {
  const c = { ...DEFAULT_CONFIG, ...o };
  const bad = (field: string, msg: string): never => { throw new Error(`action config: '${field}' ${msg}`); };
  for (const k of ['numClasses', 'joints', 'bodies', 'coordDim', 'frames', 'dim', 'heads', 'depth', 'imgSize', 'jointStride', 'temporalStride', 'offsetGroups'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) bad(k, `must be a positive integer, got ${c[k]}`);
  }
  if (c.dim % c.heads) bad('dim', `(${c.dim}) must be divisible by heads (${c.heads})`);
  if (c.dim % c.offsetGroups) bad('offsetGroups', `(${c.offsetGroups}) must divide dim (${c.dim})`);
  if (c.backboneChannels.length !== c.backboneStrides.length) bad('backboneStrides', 'needs one (t,h,w) stride per backbone layer');
  if (!(c.offsetRange > 0)) bad('offsetRange', `must be > 0, got ${c.offsetRange}`);
  if (c.jointGrouping === 'parts' && c.joints !== 25) bad('jointGrouping', `'parts' is defined for the 25-joint NTU skeleton, got joints=${c.joints}`);
  return c;
}

const convOut = (n: number, k: number, s: number) => Math.floor((n + 2 * Math.floor(k / 2) - k) / s) + 1;

/** Token resolution (T', H', W') of the RGB backbone for a config. */
export function tokenShape(c: ActionConfig): [number, number, number] {
  let [t, h, w] = [c.frames, c.imgSize, c.imgSize];
  for (const s of c.backboneStrides) { t = convOut(t, c.backboneKernel, s[0]); h = convOut(h, c.backboneKernel, s[1]); w = convOut(w, c.backboneKernel, s[2]); }
  return [t, h, w];
}
export function gridShape(c: ActionConfig): [number, number, number] {
  if (c.grid) return c.grid;
  const [t, h, w] = tokenShape(c);
  return [Math.max(1, Math.floor(t / 2)), Math.max(1, Math.floor(h / 2)), Math.max(1, Math.floor(w / 2))];
}

/** NTU body-part groups (0-based): torso+head, left arm, right arm, left leg, right leg. */
export const NTU_PARTS: number[][] = [[0, 1, 2, 3, 20], [4, 5, 6, 7, 21, 22], [8, 9, 10, 11, 23, 24], [12, 13, 14, 15], [16, 17, 18, 19]];

/** Joint groups for local joint-stride attention over J·M joints (each joint in exactly one group). */
export function jointGroups(c: ActionConfig): number[][] {
  const groups: number[][] = [];
  for (let m = 0; m < c.bodies; m++) {
    const off = m * c.joints;
    if (c.jointGrouping === 'parts') for (const g of NTU_PARTS) groups.push(g.map((j) => j + off));
    else for (let r = 0; r < Math.min(c.jointStride, c.joints); r++) {
      const g: number[] = [];
      for (let j = r; j < c.joints; j += c.jointStride) g.push(j + off);
      groups.push(g);
    }
  }
  return groups;
}

// ------------------------------------------------------------------ building blocks

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

/** [recon] RGB backbone: a small 3D CNN (conv3d → BatchNorm3d → ReLU per layer) then a linear map to D. */
export class RGBBackbone extends nn.Module {
  convs: InstanceType<typeof nn.Conv3d>[] = [];
  norms: InstanceType<typeof nn.BatchNorm3d>[] = [];
  toTokens: InstanceType<typeof nn.Linear>;
  pos: Tensor;
  constructor(readonly c: ActionConfig) {
    super();
    let cin = 3;
    c.backboneChannels.forEach((cout, i) => {
      this.convs.push(this.child(`conv${i}`, new nn.Conv3d(cin, cout, c.backboneKernel, { stride: c.backboneStrides[i]!, padding: Math.floor(c.backboneKernel / 2), dtype: c.dtype })));
      this.norms.push(this.child(`bn${i}`, new nn.BatchNorm3d(cout, { dtype: c.dtype })));
      cin = cout;
    });
    this.toTokens = this.child('to_tokens', new nn.Linear(cin, c.dim, true, { dtype: c.dtype }));
    const [t, h, w] = tokenShape(c);
    this.pos = this.param('pos_embed', nn.init.truncNormal_(torch.empty([t, h, w, c.dim], { dtype: c.dtype }), 0.02));
  }
  /** video [B, 3, T, H, W] → Z [B, T', H', W', D] */
  forward(video: Tensor): Tensor {
    let x = video;
    for (let i = 0; i < this.convs.length; i++) x = this.norms[i]!.forward(this.convs[i]!.forward(x)).relu();
    return this.toTokens.forward(x.permute([0, 2, 3, 4, 1])).add(this.pos);
  }
}

/** Pose tokens: linear embedding of each joint's coordinates + learned joint and temporal embeddings. */
export class PoseEmbedding extends nn.Module {
  embed: InstanceType<typeof nn.Linear>;
  jointEmbed: Tensor; timeEmbed: Tensor;
  constructor(readonly c: ActionConfig) {
    super();
    this.embed = this.child('embed', new nn.Linear(c.coordDim, c.dim, true, { dtype: c.dtype }));
    this.jointEmbed = this.param('joint_embed', nn.init.truncNormal_(torch.empty([c.joints * c.bodies, c.dim], { dtype: c.dtype }), 0.02));
    this.timeEmbed = this.param('time_embed', nn.init.truncNormal_(torch.empty([c.frames, 1, c.dim], { dtype: c.dtype }), 0.02));
  }
  /** pose [B, T, J·M, C] → P [B, T, J·M, D] */
  forward(pose: Tensor): Tensor {
    return this.embed.forward(pose).add(this.jointEmbed).add(this.timeEmbed);
  }
}

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
      : torch.zeros([B!, this.c.offsetGroups, gt, gh, gw, 3], { dtype: vol.dtype });
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
    const cell = torch.tensor(this.grid.map((g) => 2 / g), { dtype: z.dtype });
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
    const idx = (a: number[]) => torch.tensor(a, { dtype: 'int64' });
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
      for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let i = 0; i < G * n; i++) out[(b * T + t) * J + this.order[i]!] = m[(b * T + t) * G * n + i]!;
    } else {
      this.groups.forEach((g, gi) => {
        const m = maps[gi]!;
        for (let bt = 0; bt < B * T; bt++) g.forEach((j, k) => { out[bt * J + j] = m[bt * g.length + k]!; });
      });
    }
    return { data: out, shape: [B, T, J] };
  }
}

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
        dfs[r] = run(frames.indexSelect(1, torch.tensor(ids, { dtype: 'int64' })).unsqueeze(1), 1).reshape([B!, ids.length, D!]);
        if (this.attn.record && this.attn.lastMap) maps.push({ r, m: this.attn.lastMap });
      }
      const order: number[] = [];
      for (let r = 0; r < st; r++) for (let t = r; t < T!; t += st) order.push(t);
      const inv = new Array<number>(T!); order.forEach((t, i) => { inv[t] = i; });
      df = torch.cat(dfs, 1).indexSelect(1, torch.tensor(inv, { dtype: 'int64' }));
    }
    if (this.attn.record) this.lastFrameMap = frameMap(maps, B!, T!, st);
    const dc = (dcs.length === 1 ? dcs[0]! : torch.stack(dcs, 0).sum(0)).div(st);
    const pNew = this.c.temporalToJoints ? p.add(df.unsqueeze(2)) : p;
    return [c.add(dc), pNew];
  }
}

/** Per-frame attention of the two cross-modal tokens (mean of their rows) over frame tokens. */
function frameMap(maps: { r: number; m: { data: Float32Array; shape: number[] } }[], B: number, T: number, st: number): { data: Float32Array; shape: number[] } {
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

/** One block ℓ: deformable attention (RGB), joint-stride attention, temporal-stride attention, MLP. */
export class CrossModalBlock extends nn.Module {
  deform: DeformableAttention3D | null;
  joint: LocalJointStrideAttention; temporal: TemporalStrideAttention;
  norm: InstanceType<typeof nn.LayerNorm>; mlp: Mlp;
  constructor(readonly c: ActionConfig) {
    super();
    this.deform = c.rgb ? this.child('deform', new DeformableAttention3D(c)) : null;
    this.joint = this.child('joint', new LocalJointStrideAttention(c));
    this.temporal = this.child('temporal', new TemporalStrideAttention(c));
    this.norm = this.child('norm', new nn.LayerNorm(c.dim, { dtype: c.dtype }));
    this.mlp = this.child('mlp', new Mlp(c.dim, c.mlpRatio, c.dtype, c.dropout));
  }
  forward(c: Tensor, z: Tensor | null, p: Tensor): [Tensor, Tensor | null, Tensor] {
    if (this.deform && z) [c, z] = this.deform.forward(c, z);
    [c, p] = this.joint.forward(c, p);
    [c, p] = this.temporal.forward(c, p);
    // [recon] pose-side MLP over [c_rgb; c_pose; P]
    const [B, T, J, D] = p.shape as number[];
    let x = torch.cat([c, p.reshape([B!, T! * J!, D!])], 1);
    x = x.add(this.mlp.forward(this.norm.forward(x)));
    return [x.narrow(1, 0, 2), z, x.narrow(1, 2, T! * J!).reshape([B!, T!, J!, D!])];
  }
}

export interface ActionInput {
  /** [B, T, J·M, C] */
  pose: Tensor;
  /** [B, 3, T, H, W] in [0, 1]; omit for pose-only */
  video?: Tensor | null;
}

/** The whole network. forward returns logits [B, numClasses]. */
export class CrossModalTransformer extends nn.Module {
  backbone: RGBBackbone | null;
  poseEmbed: PoseEmbedding;
  cRgb: Tensor; cPose: Tensor;
  blocks: CrossModalBlock[] = [];
  norm: InstanceType<typeof nn.LayerNorm>;
  head: InstanceType<typeof nn.Linear>;
  constructor(readonly config: ActionConfig) {
    super();
    const c = config;
    this.backbone = c.rgb ? this.child('backbone', new RGBBackbone(c)) : null;
    this.poseEmbed = this.child('pose_embed', new PoseEmbedding(c));
    this.cRgb = this.param('c_rgb', nn.init.truncNormal_(torch.empty([1, 1, c.dim], { dtype: c.dtype }), 0.02));
    this.cPose = this.param('c_pose', nn.init.truncNormal_(torch.empty([1, 1, c.dim], { dtype: c.dtype }), 0.02));
    for (let l = 0; l < c.depth; l++) this.blocks.push(this.child(`block${l}`, new CrossModalBlock(c)));
    this.norm = this.child('norm', new nn.LayerNorm(c.dim, { dtype: c.dtype }));
    this.head = this.child('head', new nn.Linear(c.head === 'concat' ? 2 * c.dim : c.dim, c.numClasses, true, { dtype: c.dtype }));
  }

  /** Checks input shapes and values; errors name the field. */
  check(x: ActionInput): void {
    const c = this.config;
    const ps = x.pose.shape;
    const want = [c.frames, c.joints * c.bodies, c.coordDim];
    if (ps.length !== 4 || ps[1] !== want[0] || ps[2] !== want[1] || ps[3] !== want[2]) {
      throw new Error(`action model: 'pose' must be [B, ${want.join(', ')}] (frames, joints·bodies, coords), got [${ps}]`);
    }
    if (x.video) {
      const vs = x.video.shape;
      if (!c.rgb) throw new Error("action model: got 'video' but the model was built pose-only (rgb=false)");
      if (vs.length !== 5 || vs[0] !== ps[0] || vs[1] !== 3 || vs[2] !== c.frames || vs[3] !== c.imgSize || vs[4] !== c.imgSize) {
        throw new Error(`action model: 'video' must be [${ps[0]}, 3, ${c.frames}, ${c.imgSize}, ${c.imgSize}], got [${vs}]`);
      }
    }
  }

  /** Final cross-modal tokens [B, 2, D] (after the last block and the norm). */
  features(x: ActionInput): Tensor {
    this.check(x);
    const B = x.pose.shape[0]!;
    let p = this.poseEmbed.forward(x.pose);
    let z = this.backbone && x.video ? this.backbone.forward(x.video) : null;
    const D = this.config.dim;
    let c = torch.cat([this.cRgb.expand([B, 1, D]), this.cPose.expand([B, 1, D])], 1);
    for (const blk of this.blocks) [c, z, p] = blk.forward(c, z, p);
    return this.norm.forward(c);
  }

  forward(x: ActionInput): Tensor {
    const c = this.features(x);
    const h = this.config.head === 'concat' ? c.reshape([c.shape[0]!, 2 * this.config.dim]) : c.sum(1);
    return this.head.forward(h);
  }

  /** Turns on recording of attention maps and offsets in every block (for explain/diagnostics). */
  setRecord(on: boolean): void {
    for (const b of this.blocks) {
      b.joint.attn.record = on; b.temporal.attn.record = on;
      if (b.deform) { b.deform.record = on; b.deform.attn.record = on; }
    }
  }

  /** Parameters of the 3D token search (offset networks). */
  offsetParameters(): Tensor[] {
    return this.blocks.flatMap((b) => (b.deform ? b.deform.search.parameters() : []));
  }
}

/**
 * Attention score-matrix entries per clip, full attention vs the paper's strided/deformable
 * attentions (spec B.7.3). Counts query×key pairs per head, summed over calls.
 */
export function attentionCost(c: ActionConfig): Record<string, number> {
  const J = c.joints * c.bodies, T = c.frames;
  const groups = jointGroups(c);
  const jointStrided = T * groups.reduce((s, g) => s + (g.length + 1) ** 2, 0);
  const jointFull = T * (J + 1) ** 2; // all joints of a frame in one call
  const st = Math.min(c.temporalStride, T);
  let temporalStrided = 0;
  for (let r = 0; r < st; r++) { const n = Math.ceil((T - r) / st); temporalStrided += (n + 2) ** 2; }
  const temporalFull = (T + 2) ** 2;
  const [t, h, w] = tokenShape(c);
  const [gt, gh, gw] = gridShape(c);
  const n = t * h * w;
  const deformable = (n + 2) * (gt * gh * gw + 2);
  const rgbFull = (n + 2) ** 2;
  return { jointStrided, jointFull, temporalStrided, temporalFull, deformable, rgbFull };
}
