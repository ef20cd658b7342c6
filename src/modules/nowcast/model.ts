// The models: the organisers' W4C22 3D U-Net baseline (ELEKTRONN3 lineage) and SIANet (paper B)
// (factorised spatiotemporal blocks or LCAM, CenterCrop, Spatiotemporal Refinement), NCDHW layout.
import * as torch from '../../core/torch/index.ts';
import * as nn from '../../core/torch/nn.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { type Geometry, cropStart, upsample } from './geometry.ts';
import { PAPER, DESCRIBE, FULL, type ModelName } from './config.ts';

export type { ModelName } from './config.ts';

const F = torch.F;
const featureDropout = torch.lazy('feature_dropout');
type Dt = 'float32' | 'float64';

/** Xavier-normal weights, zero bias (the organisers' baseline init), for convs and transposed convs. */
function xavier<M extends nn.Conv3d | nn.ConvTranspose3d>(m: M): M {
  nn.init.xavierNormal_(m.weight);
  if (m.bias) nn.init.zeros_(m.bias);
  return m;
}

type K3 = [number, number, number];

function conv(inC: number, outC: number, k: K3, o: { bias?: boolean; dilation?: K3; groups?: number; dtype?: Dt } = {}): nn.Conv3d {
  const d = o.dilation ?? [1, 1, 1];
  const pad = k.map((kk, i) => (d[i]! * (kk - 1)) / 2) as [number, number, number];
  return xavier(new nn.Conv3d(inC, outC, k, { padding: pad, dilation: d, groups: o.groups, bias: o.bias ?? true, dtype: o.dtype }));
}

/** Dropout3d: zeroes whole channels (B, C, 1, 1, 1) with probability p, scales by 1/(1−p). */
export class Dropout3d extends nn.Module {
  constructor(readonly p: number) { super(); }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return featureDropout(x, this.p, true); // aten::feature_dropout, as torch.nn.Dropout3d
  }
}

export type BlockType = 'plain' | 'factorized' | 'lcam';

export interface LcamOptions {
  /** number of channel groups g */
  groups: number;
  /** spatial kernel per group (dilation (1, 3, 3)) */
  kernels: number[];
}
/** Paper B's text: g = 2 with k = 3, 5 was best on W4C22 (the figure shows g = 4, k = 3, 5, 7, 9). */
export const LCAM_TEXT: LcamOptions = { groups: 2, kernels: [3, 5] };
export const LCAM_FIGURE: LcamOptions = { groups: 4, kernels: [3, 5, 7, 9] };

/** Large Context Aggregation Module's grouped dilated spatial convolutions (paper B). */
class LcamSpatial extends nn.Module {
  readonly convs: nn.Conv3d[];
  readonly sizes: number[];
  constructor(c: number, o: LcamOptions, dtype?: Dt) {
    super();
    if (o.kernels.length !== o.groups) throw new Error(`LCAM: ${o.groups} groups need ${o.groups} kernel sizes, got [${o.kernels}]`);
    const base = Math.floor(c / o.groups);
    // [recon] channels not divisible by g: the last group takes the remainder
    this.sizes = o.kernels.map((_, i) => (i === o.groups - 1 ? c - base * (o.groups - 1) : base));
    if (this.sizes.some((s) => s <= 0)) throw new Error(`LCAM: ${c} channels cannot be split into ${o.groups} groups`);
    this.convs = o.kernels.map((k, i) => this.child(`group${i}`, conv(this.sizes[i]!, this.sizes[i]!, [1, k, k], { dilation: [1, 3, 3], dtype })));
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => torch.cat(x.split(this.sizes, 1).map((p, i) => this.convs[i]!.forward(p)), 1));
  }
}

/**
 * One U-Net convolution block.
 * - plain (the organisers' baseline): conv3³ → BN → Dropout3d → ReLU → conv3³ → BN → Dropout3d → ReLU
 * - factorized (SIANet released code): conv1×3×3 → BN → Drop → ReLU → conv3×1×1 → conv3³ → BN → Drop → ReLU
 * - lcam (paper B): conv1×3×3 → BN → Drop → ReLU → g grouped dilated 1×k×k → concat → conv3×1×1 → conv3³ → BN → Drop → ReLU
 * Decoder blocks take dropout 0 (the baseline's decoder has no dropout).
 */
export class ConvBlock extends nn.Module {
  readonly convA: nn.Conv3d; readonly bnA: nn.BatchNorm3d; readonly dropA: Dropout3d;
  readonly lcam?: LcamSpatial; readonly convT?: nn.Conv3d;
  readonly convB: nn.Conv3d; readonly bnB: nn.BatchNorm3d; readonly dropB: Dropout3d;
  constructor(readonly type: BlockType, inC: number, outC: number, dropout: number, lcam: LcamOptions = LCAM_TEXT, dtype?: Dt) {
    super();
    const first: [number, number, number] = type === 'plain' ? [3, 3, 3] : [1, 3, 3];
    this.convA = this.child('conv1', conv(inC, outC, first, { dtype }));
    this.bnA = this.child('bn1', new nn.BatchNorm3d(outC, { dtype }));
    this.dropA = this.child('drop1', new Dropout3d(dropout));
    if (type === 'lcam') this.lcam = this.child('lcam', new LcamSpatial(outC, lcam, dtype));
    if (type !== 'plain') this.convT = this.child('tconv', conv(outC, outC, [3, 1, 1], { dtype }));
    this.convB = this.child('conv2', conv(outC, outC, [3, 3, 3], { dtype }));
    this.bnB = this.child('bn2', new nn.BatchNorm3d(outC, { dtype }));
    this.dropB = this.child('drop2', new Dropout3d(dropout));
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      let h = this.dropA.forward(this.bnA.forward(this.convA.forward(x))).relu();
      if (this.lcam) h = this.lcam.forward(h);
      if (this.convT) h = this.convT.forward(h);
      return this.dropB.forward(this.bnB.forward(this.convB.forward(h))).relu();
    });
  }
}

/** Decoder level: ConvTranspose3d(k2, s2) → BN → ReLU, autocrop to the skip, concat [up, skip], block (2c → c). */
class UpLevel extends nn.Module {
  readonly up: nn.ConvTranspose3d; readonly bn: nn.BatchNorm3d; readonly block: ConvBlock;
  constructor(type: BlockType, inC: number, outC: number, lcam: LcamOptions, dtype?: Dt) {
    super();
    this.up = this.child('upconv', xavier(new nn.ConvTranspose3d(inC, outC, 2, { stride: 2, dtype })));
    this.bn = this.child('upbn', new nn.BatchNorm3d(outC, { dtype }));
    this.block = this.child('block', new ConvBlock(type, 2 * outC, outC, 0, lcam, dtype));
  }
  forward(x: Tensor, skip: Tensor): Tensor {
    return torch.scope(() => {
      let u = this.bn.forward(this.up.forward(x)).relu();
      // ELEKTRONN3 autocrop: slice [(us−ds)//2, (us+ds)//2) on every spatial axis where sizes differ
      for (let d = 2; d < 5; d++) {
        const us = u.shape[d]!, ds = skip.shape[d]!;
        if (us !== ds) u = u.narrow(d, Math.floor((us - ds) / 2), ds);
      }
      return this.block.forward(torch.cat([u, skip], 1));
    });
  }
}

export interface UNetOptions {
  inChannels: number;
  /** start width f; level i has f·2^i channels */
  startFilters: number;
  /** U-Net levels (5 in the papers; 3–4 at S scale) */
  depth: number;
  dropout: number;
  tIn: number;
  tOut: number;
  blockType: BlockType;
  lcam?: LcamOptions;
  dtype?: Dt;
}

/** The shared 5-level U-Net skeleton: encoder with ceil-mode max-pooling, Dropout3d on skips and bottleneck. */
export class UNetBody extends nn.Module {
  readonly down: ConvBlock[]; readonly ups: UpLevel[]; readonly skipDrop: Dropout3d;
  constructor(readonly o: UNetOptions) {
    super();
    if (o.depth < 2) throw new Error(`U-Net depth must be ≥ 2, got ${o.depth}`);
    const lc = o.lcam ?? LCAM_TEXT;
    this.down = [];
    for (let i = 0; i < o.depth; i++) {
      const inC = i === 0 ? o.inChannels : o.startFilters * 2 ** (i - 1);
      this.down.push(this.child(`down${i}`, new ConvBlock(o.blockType, inC, o.startFilters * 2 ** i, o.dropout, lc, o.dtype)));
    }
    this.ups = [];
    for (let i = o.depth - 1; i >= 1; i--) {
      const c = o.startFilters * 2 ** i;
      this.ups.push(this.child(`up${o.depth - 1 - i}`, new UpLevel(o.blockType, c, c / 2, lc, o.dtype)));
    }
    this.skipDrop = this.child('skipdrop', new Dropout3d(o.dropout));
  }
  /** (B, C, tIn, H, W) → (B, f, tIn, H, W) */
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      const skips: Tensor[] = [];
      let h = x;
      for (let i = 0; i < this.o.depth; i++) {
        h = this.down[i]!.forward(h);
        if (i < this.o.depth - 1) {
          skips.push(this.skipDrop.forward(h));
          h = F.maxPool3d(h, 2, { ceilMode: true });
        } else h = this.skipDrop.forward(h);
      }
      for (let i = 0; i < this.ups.length; i++) h = this.ups[i]!.forward(h, skips[skips.length - 1 - i]!);
      return h;
    });
  }
}

/** Output head: (B, f, tIn, H, W) → reshape (B, f·tIn, 1, H, W) channel-major → 1×1×1 conv to tOut → (B, tOut, 1, H, W). */
class TimeHead extends nn.Module {
  readonly conv: nn.Conv3d;
  constructor(f: number, tIn: number, tOut: number, dtype?: Dt) { super(); this.conv = this.child('conv', conv(f * tIn, tOut, [1, 1, 1], { dtype })); }
  forward(h: Tensor): Tensor {
    const [B, f, T, H, W] = h.shape as [number, number, number, number, number];
    return torch.scope(() => this.conv.forward(h.reshape([B, f * T, 1, H, W])));
  }
}

export interface ModelOutput {
  /** logits (B, 1, tOut, H_out, W_out) at the target resolution */
  logits: Tensor;
  /** SIANet: y_early logits (B, 1, tOut, crop, crop) before the STR */
  early?: Tensor;
  /** SIANet: y_final logits (B, 1, tOut, crop, crop) */
  final?: Tensor;
}

export interface NowcastModel extends nn.Module {
  readonly kind: 'unet3d' | 'sianet';
  forward(x: Tensor): ModelOutput;
}

export interface BaselineOptions extends Omit<UNetOptions, 'blockType' | 'lcam'> { geometry: Geometry }

/**
 * The organisers' 3D U-Net: plain blocks; the head maps the whole input grid to the target
 * grid with no crop (at the competition ratios the output side equals the input side).
 */
export class UNet3D extends nn.Module implements NowcastModel {
  readonly kind = 'unet3d' as const;
  readonly body: UNetBody; readonly head: TimeHead;
  constructor(readonly o: BaselineOptions) {
    super();
    this.body = this.child('body', new UNetBody({ ...o, blockType: 'plain' }));
    this.head = this.child('head', new TimeHead(o.startFilters, o.tIn, o.tOut, o.dtype));
  }
  forward(x: Tensor): ModelOutput {
    return torch.scope(() => {
      const y = this.head.forward(this.body.forward(x)); // (B, tOut, 1, H, W)
      const [B, T, , H, W] = y.shape as [number, number, number, number, number];
      return { logits: y.reshape([B, 1, T, H, W]) };
    });
  }
}

/** Residual large-kernel spatiotemporal attention (3-D VAN LKA): y + proj_out(gate(GELU(proj_in(y)))). */
export class LargeKernelAttention3d extends nn.Module {
  readonly projIn: nn.Conv3d; readonly dw5: nn.Conv3d; readonly dw7: nn.Conv3d; readonly pw: nn.Conv3d; readonly projOut: nn.Conv3d;
  constructor(hidden: number, dtype?: Dt) {
    super();
    this.projIn = this.child('proj_in', conv(1, hidden, [1, 1, 1], { dtype }));
    this.dw5 = this.child('dwconv5', conv(hidden, hidden, [5, 5, 5], { groups: hidden, dtype }));
    this.dw7 = this.child('dwconv7_dil3', conv(hidden, hidden, [7, 7, 7], { groups: hidden, dilation: [3, 3, 3], dtype }));
    this.pw = this.child('conv1', conv(hidden, hidden, [1, 1, 1], { dtype }));
    this.projOut = this.child('proj_out', conv(hidden, 1, [1, 1, 1], { dtype }));
  }
  forward(y: Tensor): Tensor {
    return torch.scope(() => {
      const u = this.projIn.forward(y).gelu();
      const gate = u.mul(this.pw.forward(this.dw7.forward(this.dw5.forward(u))));
      return y.add(this.projOut.forward(gate));
    });
  }
}

/** ResNet bottleneck (3-D): 1³ → BN → ReLU → 3³ → BN → ReLU → 1³ → BN, + shortcut, ReLU. */
class Bottleneck3d extends nn.Module {
  readonly c1: nn.Conv3d; readonly b1: nn.BatchNorm3d; readonly c2: nn.Conv3d; readonly b2: nn.BatchNorm3d;
  readonly c3: nn.Conv3d; readonly b3: nn.BatchNorm3d; readonly proj?: nn.Conv3d; readonly projBn?: nn.BatchNorm3d;
  constructor(inC: number, width: number, expansion: number, bnMomentum: number, dtype?: Dt) {
    super();
    const out = width * expansion, bn = (c: number) => new nn.BatchNorm3d(c, { momentum: bnMomentum, dtype });
    this.c1 = this.child('conv1', conv(inC, width, [1, 1, 1], { bias: false, dtype })); this.b1 = this.child('bn1', bn(width));
    this.c2 = this.child('conv2', conv(width, width, [3, 3, 3], { bias: false, dtype })); this.b2 = this.child('bn2', bn(width));
    this.c3 = this.child('conv3', conv(width, out, [1, 1, 1], { bias: false, dtype })); this.b3 = this.child('bn3', bn(out));
    if (inC !== out) {
      this.proj = this.child('downsample', conv(inC, out, [1, 1, 1], { bias: false, dtype }));
      this.projBn = this.child('downsample_bn', bn(out));
    }
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      const h = this.b3.forward(this.c3.forward(this.b2.forward(this.c2.forward(this.b1.forward(this.c1.forward(x)).relu())).relu()));
      const s = this.proj ? this.projBn!.forward(this.proj.forward(x)) : x;
      return h.add(s).relu();
    });
  }
}

/**
 * Spatiotemporal Refinement (STR, paper B): LKA residual, then the refiner
 * conv3³(1→h, no bias) → BN → ReLU → conv3³(h→h, no bias) → BN → ReLU → 2 bottlenecks (width h/2, ×4) → conv1³(→1, no bias).
 * BatchNorm momentum 0.01. h = 64 in the paper, 16 at S scale.
 */
export class SpatiotemporalRefinement extends nn.Module {
  readonly lka: LargeKernelAttention3d;
  readonly c1: nn.Conv3d; readonly b1: nn.BatchNorm3d; readonly c2: nn.Conv3d; readonly b2: nn.BatchNorm3d;
  readonly r1: Bottleneck3d; readonly r2: Bottleneck3d; readonly out: nn.Conv3d;
  constructor(hidden: number, dtype?: Dt) {
    super();
    const m = 0.01, w = hidden / 2;
    if (!Number.isInteger(w)) throw new Error(`STR hidden width must be even, got ${hidden}`);
    this.lka = this.child('lka', new LargeKernelAttention3d(hidden, dtype));
    this.c1 = this.child('conv1', conv(1, hidden, [3, 3, 3], { bias: false, dtype })); this.b1 = this.child('bn1', new nn.BatchNorm3d(hidden, { momentum: m, dtype }));
    // no bias, as the released code's Learnable_Filter.conv2 (bias=False): at h = 64 and start width 32
    // SIANet has 17,857,825 parameters (a bias here would add h, and a BatchNorm follows it anyway)
    this.c2 = this.child('conv2', conv(hidden, hidden, [3, 3, 3], { bias: false, dtype })); this.b2 = this.child('bn2', new nn.BatchNorm3d(hidden, { momentum: m, dtype }));
    this.r1 = this.child('layer1', new Bottleneck3d(hidden, w, 4, m, dtype));
    this.r2 = this.child('layer2', new Bottleneck3d(4 * w, w, 4, m, dtype));
    this.out = this.child('conv_out', conv(4 * w, 1, [1, 1, 1], { bias: false, dtype }));
  }
  forward(y: Tensor): Tensor {
    return torch.scope(() => {
      const a = this.lka.forward(y);
      let h = this.b1.forward(this.c1.forward(a)).relu();
      h = this.b2.forward(this.c2.forward(h)).relu();
      return this.out.forward(this.r2.forward(this.r1.forward(h)));
    });
  }
}

export interface SIANetOptions extends Omit<UNetOptions, 'blockType'> {
  geometry: Geometry;
  blockType?: 'factorized' | 'lcam' | 'plain';
  /** CenterCrop before the head (ablation switch; default on) */
  centerCrop?: boolean;
  /** Spatiotemporal Refinement (ablation switch; default on) */
  str?: boolean;
  /** STR hidden width (64 in the paper) */
  strHidden?: number;
}

/**
 * SIANet (paper B): the U-Net skeleton with factorised (or LCAM) blocks; head → CenterCrop to the
 * target block → reshape (B, 1, tOut, crop, crop) = y_early → STR = y_final → trilinear ×scale.
 */
export class SIANet extends nn.Module implements NowcastModel {
  readonly kind = 'sianet' as const;
  readonly body: UNetBody; readonly head: TimeHead; readonly str?: SpatiotemporalRefinement;
  constructor(readonly o: SIANetOptions) {
    super();
    this.body = this.child('body', new UNetBody({ ...o, blockType: o.blockType ?? 'factorized' }));
    this.head = this.child('head', new TimeHead(o.startFilters, o.tIn, o.tOut, o.dtype));
    if (o.str !== false) this.str = this.child('str', new SpatiotemporalRefinement(o.strHidden ?? PAPER.strHidden, o.dtype));
  }
  forward(x: Tensor): ModelOutput {
    const g = this.o.geometry;
    return torch.scope(() => {
      const y = this.head.forward(this.body.forward(x)); // (B, tOut, 1, H, W)
      const [B, T, , H, W] = y.shape as [number, number, number, number, number];
      if (this.o.centerCrop === false) {
        // ablation: no crop; the STR (if any) runs on the full grid (only valid when scale = 1 output)
        const full = y.reshape([B, 1, T, H, W]);
        return { logits: this.str ? this.str.forward(full) : full };
      }
      const s = cropStart(g);
      const early = y.narrow(3, s, g.cropSize).narrow(4, s, g.cropSize).reshape([B, 1, T, g.cropSize, g.cropSize]);
      const final = this.str ? this.str.forward(early) : early;
      return { logits: upsample(final, g.scale), early, final };
    });
  }
}


export interface BuildOptions {
  model: ModelName;
  geometry: Geometry;
  inChannels: number;
  startFilters: number;
  depth?: number;
  dropout?: number;
  blockType?: 'factorized' | 'lcam';
  lcam?: LcamOptions;
  centerCrop?: boolean;
  str?: boolean;
  strHidden?: number;
  dtype?: Dt;
}

export function buildModel(o: BuildOptions): NowcastModel {
  const common = {
    inChannels: o.inChannels, startFilters: o.startFilters, depth: o.depth ?? PAPER.depth, dropout: o.dropout ?? PAPER.dropout,
    tIn: o.geometry.tIn, tOut: o.geometry.tOut, dtype: o.dtype,
  };
  if (!(o.startFilters >= 1 && Number.isInteger(o.startFilters))) throw new Error(`startFilters must be a positive integer, got ${o.startFilters}`);
  if (o.model === 'unet3d') return new UNet3D({ ...common, geometry: o.geometry });
  if (o.model === 'sianet') {
    const blockType = o.blockType ?? PAPER.blockType;
    return new SIANet({ ...common, geometry: o.geometry, blockType, lcam: o.lcam, centerCrop: o.centerCrop, str: o.str, strHidden: o.strHidden });
  }
  throw new Error(`unknown model '${o.model as string}'; valid: unet3d, sianet`);
}

/** Parameters per part: the U-Net encoder and decoder, the time head and (SIANet) the STR's attention and refiner. */
export interface ParameterParts { encoder: number; decoder: number; head: number; strAttention?: number; strRefiner?: number }

/** Parameter counts of a model's parts (they sum to numParameters()). */
export function parameterParts(m: UNet3D | SIANet): ParameterParts {
  const sum = (ms: nn.Module[]) => ms.reduce((s, x) => s + x.numParameters(), 0);
  const parts: ParameterParts = { encoder: sum(m.body.down), decoder: sum(m.body.ups), head: m.head.numParameters() };
  if (m instanceof SIANet && m.str) {
    parts.strAttention = m.str.lka.numParameters();
    parts.strRefiner = m.str.numParameters() - parts.strAttention;
  }
  return parts;
}

export interface ParameterCount {
  startFilters: number; unet3d: number; sianet: number; sianetLcam: number;
  parts: { unet3d: ParameterParts; sianet: ParameterParts; sianetLcam: ParameterParts };
}

/** The full geometry's input channels and slots, and the STR width, for parameterCounts (default: config.ts DESCRIBE). */
export interface CountOptions { inChannels?: number; tIn?: number; tOut?: number; strHidden?: number }

/** Exact parameter counts (conv weights and biases, BatchNorm affine) per start width, both models, full geometry, in total and per part. */
export function parameterCounts(widths: number[] = DESCRIBE.widths, o: CountOptions = {}): ParameterCount[] {
  return widths.map((f) => {
    const g: Geometry = { ...FULL, tIn: o.tIn ?? DESCRIBE.tIn, tOut: o.tOut ?? DESCRIBE.tOut };
    const count = (b: BuildOptions) => torch.noGrad(() => {
      const m = buildModel(b) as UNet3D | SIANet;
      const r = { total: m.numParameters(), parts: parameterParts(m) };
      m.dispose();
      return r;
    });
    const base = { geometry: g, inChannels: o.inChannels ?? DESCRIBE.inChannels, startFilters: f, strHidden: o.strHidden ?? DESCRIBE.strHidden };
    const u = count({ ...base, model: 'unet3d' }), s = count({ ...base, model: 'sianet' }), l = count({ ...base, model: 'sianet', blockType: 'lcam' });
    return { startFilters: f, unet3d: u.total, sianet: s.total, sianetLcam: l.total, parts: { unet3d: u.parts, sianet: s.parts, sianetLcam: l.parts } };
  });
}
