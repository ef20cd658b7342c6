// CARTOONER (Ahn et al., CVPR 2023) at CPU scale, block by block as the paper's model overview
// (its Fig. 3) draws it: shared encoder E, texture decoder S_tex (predicts Lab L) with the texture
// controller (stroke unit and abstraction unit, five branches each, nearest-two interpolation),
// colour decoder S_col (predicts ab from the photo and a superpixel colour map), and the
// multi-texture discriminator. Layer sizes are [recon] (the paper's were not recovered); the
// defaults live in config.ts.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { nn, F } from '../../core/torch/index.ts';
import { labToRgb, normLab, rgbToLab } from './color.ts';
import { DEFAULT_CONFIG, LEVELS, TRAIN, type CartoonerConfig } from './config.ts';

export function resolveConfig(c: Partial<CartoonerConfig> = {}): CartoonerConfig {
  const cfg = { ...DEFAULT_CONFIG, ...c };
  if (!Number.isInteger(cfg.channels) || cfg.channels < 2 || cfg.channels % 2) throw new Error(`cartoon config: channels must be an even integer ≥ 2, got ${cfg.channels}`);
  if (cfg.kernels.length !== cfg.branches) throw new Error(`cartoon config: ${cfg.branches} branches need ${cfg.branches} kernel sizes, got [${cfg.kernels}]`);
  for (const k of cfg.kernels) if (!(k % 2 === 1 && k > 0)) throw new Error(`cartoon config: kernel sizes must be odd, got ${k}`);
  return cfg;
}

function conv(i: number, o: number, k: number, extra: nn.ConvOpts = {}): nn.Conv2d {
  return new nn.Conv2d(i, o, k, { padding: Math.floor(k / 2), ...extra });
}

/** conv3×3 → LReLU → conv3×3, plus the input. */
export class ResBlock extends nn.Module {
  readonly c1: nn.Conv2d; readonly c2: nn.Conv2d;
  constructor(ch: number, readonly slope = 0.2) {
    super();
    this.c1 = this.child('c1', conv(ch, ch, 3));
    this.c2 = this.child('c2', conv(ch, ch, 3));
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => x.add(this.c2.forward(this.c1.forward(x).leakyRelu(this.slope))));
  }
}

/** Shared encoder E: conv3×3(3→C/2)·LReLU; conv3×3 s2 (C/2→C)·LReLU; 2 residual blocks. Input: normalised Lab. */
export class Encoder extends nn.Module {
  readonly c1: nn.Conv2d; readonly c2: nn.Conv2d; readonly r1: ResBlock; readonly r2: ResBlock;
  constructor(ch: number, readonly slope: number) {
    super();
    this.c1 = this.child('c1', conv(3, ch / 2, 3));
    this.c2 = this.child('c2', conv(ch / 2, ch, 3, { stride: 2 }));
    this.r1 = this.child('r1', new ResBlock(ch, slope));
    this.r2 = this.child('r2', new ResBlock(ch, slope));
  }
  forward(labN: Tensor): Tensor {
    return torch.scope(() => {
      const h = this.c2.forward(this.c1.forward(labN).leakyRelu(this.slope)).leakyRelu(this.slope);
      return this.r2.forward(this.r1.forward(h));
    });
  }
}

/** Stroke-unit branch: conv3×3 → LReLU → conv3×3 (C ch). */
export class StrokeBranch extends nn.Module {
  readonly c1: nn.Conv2d; readonly c2: nn.Conv2d;
  constructor(ch: number, readonly slope: number) {
    super();
    this.c1 = this.child('c1', conv(ch, ch, 3));
    this.c2 = this.child('c2', conv(ch, ch, 3));
  }
  forward(f: Tensor): Tensor { return torch.scope(() => this.c2.forward(this.c1.forward(f).leakyRelu(this.slope))); }
}

/** Abstraction-unit branch: depthwise conv K×K → conv1×1 ([ours] depthwise-separable, so K = 19 stays cheap on a CPU). */
export class AbstractionBranch extends nn.Module {
  readonly dw: nn.Conv2d; readonly pw: nn.Conv2d;
  constructor(ch: number, readonly kernel: number) {
    super();
    this.dw = this.child('dw', conv(ch, ch, kernel, { groups: ch }));
    this.pw = this.child('pw', conv(ch, ch, 1));
    // [ours] the pointwise conv starts at zero, so switching the unit on at stage 2 leaves the
    // stage-1 output unchanged until the abstraction unit has learned something
    nn.init.zeros_(this.pw.weight);
    nn.init.zeros_(this.pw.bias!);
  }
  forward(f: Tensor): Tensor { return torch.scope(() => this.pw.forward(this.dw.forward(f))); }
}

/**
 * Nearest-two selection, our reading of the paper's gating of the controller branches [recon]:
 * i = floor(α), j = min(i+1, N), w = α − i; u = (1 − w)·g_i + w·g_j. α is clamped to [1, N] [ours].
 * Only the selected branches run.
 */
export function selectBranches(n: number, alpha: number): { i: number; j: number; w: number } {
  if (!Number.isFinite(alpha)) throw new Error(`texture level must be a finite number, got ${alpha}`);
  const a = Math.min(n, Math.max(1, alpha));
  const i = Math.floor(a);
  const j = Math.min(i + 1, n);
  return { i, j, w: a - i };
}

export class MultiBranchUnit extends nn.Module {
  readonly branches: nn.Module[];
  constructor(branches: nn.Module[]) {
    super();
    this.branches = branches.map((b, k) => this.child(`b${k + 1}`, b));
  }
  forward(f: Tensor, alpha: number): Tensor {
    const { i, j, w } = selectBranches(this.branches.length, alpha);
    return torch.scope(() => {
      const gi = this.branches[i - 1]!.forward(f) as Tensor;
      if (w === 0 || i === j) return gi;
      const gj = this.branches[j - 1]!.forward(f) as Tensor;
      return gi.mul(1 - w).add(gj.mul(w));
    });
  }
}

/** The texture controller: stroke unit + abstraction unit, outputs summed, plus the residual [recon]. */
export class TextureController extends nn.Module {
  readonly stroke: MultiBranchUnit; readonly abstraction: MultiBranchUnit;
  /** stage 1 trains without the abstraction unit; it is switched on for stage 2 and inference */
  abstractionOn = false;
  constructor(readonly cfg: CartoonerConfig) {
    super();
    this.stroke = this.child('stroke', new MultiBranchUnit(Array.from({ length: cfg.branches }, () => new StrokeBranch(cfg.channels, cfg.slope))));
    this.abstraction = this.child('abstraction', new MultiBranchUnit(cfg.kernels.map((k) => new AbstractionBranch(cfg.channels, k))));
  }
  /**
   * α may be one level for the whole batch, or one level per equal-size group of consecutive
   * samples (training draws several levels per step so every branch is updated each step).
   */
  forward(f: Tensor, alphaS: number | number[], alphaA: number | number[]): Tensor {
    if (Array.isArray(alphaS) || Array.isArray(alphaA)) {
      const as = Array.isArray(alphaS) ? alphaS : null, aa = Array.isArray(alphaA) ? alphaA : null;
      const g = (as ?? aa)!.length;
      if (as && aa && as.length !== aa.length) throw new Error(`texture controller: ${as.length} stroke levels but ${aa.length} abstraction levels`);
      if (f.shape[0]! % g) throw new Error(`texture controller: batch of ${f.shape[0]} does not split into ${g} level groups`);
      return torch.scope(() => torch.cat(
        f.chunk(g, 0).map((fg, k) => this.forward(fg, as ? as[k]! : (alphaS as number), aa ? aa[k]! : (alphaA as number))),
        0,
      ));
    }
    return torch.scope(() => {
      let u = this.stroke.forward(f, alphaS);
      if (this.abstractionOn) u = u.add(this.abstraction.forward(f, alphaA));
      return this.cfg.controllerResidual ? f.add(u) : u;
    });
  }
}

/** S_tex after the controller: 2 res blocks → bilinear ×2 → conv3×3(C→C/2) → conv3×3(C/2→1) → tanh → L ∈ [0, 100]. */
export class TextureDecoder extends nn.Module {
  readonly r1: ResBlock; readonly r2: ResBlock; readonly c1: nn.Conv2d; readonly c2: nn.Conv2d;
  constructor(ch: number, readonly slope: number) {
    super();
    this.r1 = this.child('r1', new ResBlock(ch, slope));
    this.r2 = this.child('r2', new ResBlock(ch, slope));
    this.c1 = this.child('c1', conv(ch, ch / 2, 3));
    this.c2 = this.child('c2', conv(ch / 2, 1, 3));
  }
  forward(f: Tensor, size: [number, number]): Tensor {
    return torch.scope(() => {
      const h = F.interpolate(this.r2.forward(this.r1.forward(f)), { size, mode: 'bilinear' });
      return this.c2.forward(this.c1.forward(h).leakyRelu(this.slope)).tanh().add(1).mul(50);
    });
  }
}

/**
 * S_col: concat(E features, colour-map ab at feature resolution) → conv3×3 → 2 res blocks →
 * bilinear ×2 → [concat full-resolution map ab, recon] → conv3×3 → 2 ch → tanh × 110.
 */
export class ColorDecoder extends nn.Module {
  readonly cin: nn.Conv2d; readonly r1: ResBlock; readonly r2: ResBlock; readonly cout: nn.Conv2d;
  constructor(readonly cfg: CartoonerConfig) {
    super();
    const ch = cfg.channels;
    this.cin = this.child('cin', conv(ch + 2, ch, 3));
    this.r1 = this.child('r1', new ResBlock(ch, cfg.slope));
    this.r2 = this.child('r2', new ResBlock(ch, cfg.slope));
    this.cout = this.child('cout', conv(ch + (cfg.mapSkip ? 2 : 0), 2, 3));
  }
  forward(feat: Tensor, mapAbN: Tensor): Tensor {
    return torch.scope(() => {
      const [hf, wf] = feat.shape.slice(2) as [number, number];
      const small = F.adaptiveAvgPool2d(mapAbN, [hf, wf]);
      let h = this.cin.forward(torch.cat([feat, small], 1)).leakyRelu(this.cfg.slope);
      h = F.interpolate(this.r2.forward(this.r1.forward(h)), { size: mapAbN.shape.slice(2), mode: 'bilinear' });
      if (this.cfg.mapSkip) h = torch.cat([h, mapAbN], 1);
      return this.cout.forward(h).tanh().mul(110);
    });
  }
}

export interface CartoonOutput {
  /** texture map: Lab L [N, 1, H, W] from S_tex alone */
  L: Tensor;
  /** Lab ab [N, 2, H, W] from S_col alone */
  ab: Tensor;
  /** concat(L, ab) [N, 3, H, W] */
  lab: Tensor;
}

/** CARTOONER: E, S_tex (controller inside), S_col. Inputs are sRGB [N, 3, H, W] with H, W even. */
export class Cartooner extends nn.Module {
  readonly cfg: CartoonerConfig;
  readonly encoder: Encoder; readonly controller: TextureController;
  readonly texture: TextureDecoder; readonly color: ColorDecoder;
  constructor(cfg: Partial<CartoonerConfig> = {}) {
    super();
    this.cfg = resolveConfig(cfg);
    this.encoder = this.child('encoder', new Encoder(this.cfg.channels, this.cfg.slope));
    this.controller = this.child('controller', new TextureController(this.cfg));
    this.texture = this.child('texture', new TextureDecoder(this.cfg.channels, this.cfg.slope));
    this.color = this.child('color', new ColorDecoder(this.cfg));
  }

  private check(photo: Tensor, what: string): void {
    if (photo.ndim !== 4 || photo.shape[1] !== 3) throw new Error(`Cartooner: ${what} must be sRGB [N, 3, H, W], got [${photo.shape}]`);
    if (photo.shape[2]! % 2 || photo.shape[3]! % 2) throw new Error(`Cartooner: ${what} height and width must be even, got ${photo.shape[2]}×${photo.shape[3]}`);
  }

  encode(photo: Tensor): Tensor {
    this.check(photo, 'photo');
    return torch.scope(() => this.encoder.forward(normLab(rgbToLab(photo))));
  }
  /** S_tex: the L channel for texture level (α_s, α_a). */
  textureL(feat: Tensor, size: [number, number], alphaS: number | number[], alphaA: number | number[]): Tensor {
    return torch.scope(() => this.texture.forward(this.controller.forward(feat, alphaS, alphaA), size));
  }
  /** S_col: the ab channels from the photo features and a colour map (sRGB). No α input. */
  colorAb(feat: Tensor, map: Tensor): Tensor {
    this.check(map, 'colour map');
    return torch.scope(() => this.color.forward(feat, rgbToLab(map).narrow(1, 1, 2).div(110)));
  }

  forward(photo: Tensor, map: Tensor, alphaS: number | number[], alphaA: number | number[]): CartoonOutput {
    this.check(photo, 'photo');
    if (map.shape.join() !== photo.shape.join()) throw new Error(`Cartooner: colour map [${map.shape}] must match the photo [${photo.shape}]`);
    return torch.scope(() => {
      const feat = this.encode(photo);
      const size = photo.shape.slice(2) as [number, number];
      const L = this.textureL(feat, size, alphaS, alphaA);
      const ab = this.colorAb(feat, map);
      return { L, ab, lab: torch.cat([L, ab], 1) };
    });
  }

  /** sRGB cartoon [N, 3, H, W] (L and ab concatenated, converted back to RGB). */
  cartoonize(photo: Tensor, map: Tensor, alphaS: number, alphaA: number): Tensor {
    return torch.scope(() => labToRgb(this.forward(photo, map, alphaS, alphaA).lab));
  }
}

// ------------------------------------------------------------------ discriminator
/** Conv2d with spectral normalisation (Miyato et al. 2018): W / σ(W), σ by one power iteration per call. */
export class SNConv2d extends nn.Module {
  readonly weight: Tensor; readonly bias: Tensor;
  constructor(
    readonly inC: number,
    readonly outC: number,
    readonly k: number,
    readonly stride = 1,
    readonly padding = Math.floor(k / 2),
    readonly spectral = true,
  ) {
    super();
    const c = new nn.Conv2d(inC, outC, k);
    this.weight = this.param('weight', c.weight.detach().clone());
    this.bias = this.param('bias', c.bias!.detach().clone());
    c.dispose();
    this.buffer('u', torch.scope(() => F.normalize(torch.randn([outC]), 2, 0)));
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      let w = this.weight;
      if (this.spectral) {
        const wm = this.weight.reshape([this.outC, -1]);
        if (this.training) {
          torch.noGrad(() => {
            const wd = wm.detach();
            const v = F.normalize(wd.t().mv(this.getBuffer('u')), 2, 0);
            const u = F.normalize(wd.mv(v), 2, 0);
            this.getBuffer('u').copy_(u);
          });
        }
        const u = this.getBuffer('u').clone(); // a copy: later calls update the buffer in place
        const v = torch.noGrad(() => F.normalize(wm.detach().t().mv(u), 2, 0));
        const sigma = u.dot(wm.mv(v));
        w = this.weight.div(sigma);
      }
      return F.conv2d(x, w, this.bias, { stride: this.stride, padding: this.padding });
    });
  }
}

/**
 * Multi-texture discriminator [paper: exists; internals recon]: PatchGAN on normalised L —
 * conv4×4 s2 (1→32), conv4×4 s2 (32→64), conv3×3 (64→64), LReLU each, then one conv3×3 head per level.
 */
export class MultiTextureDiscriminator extends nn.Module {
  readonly c1: SNConv2d; readonly c2: SNConv2d; readonly c3: SNConv2d; readonly heads: SNConv2d[];
  constructor(readonly levels = LEVELS, readonly width = TRAIN.discWidth, spectral = true, readonly slope = 0.2) {
    super();
    this.c1 = this.child('c1', new SNConv2d(1, width, 4, 2, 1, spectral));
    this.c2 = this.child('c2', new SNConv2d(width, 2 * width, 4, 2, 1, spectral));
    this.c3 = this.child('c3', new SNConv2d(2 * width, 2 * width, 3, 1, 1, spectral));
    this.heads = Array.from({ length: levels }, (_, k) => this.child(`head${k + 1}`, new SNConv2d(2 * width, 1, 3, 1, 1, spectral)));
  }
  /** L in [0, 100] [N, 1, H, W] → patch scores of head `level` (1-based) [N, 1, H/4, W/4]. */
  forward(L: Tensor, level: number): Tensor {
    if (!Number.isInteger(level) || level < 1 || level > this.levels) throw new Error(`discriminator: level must be an integer in 1..${this.levels}, got ${level}`);
    return torch.scope(() => {
      const x = L.div(50).sub(1);
      const h = this.c3.forward(this.c2.forward(this.c1.forward(x).leakyRelu(this.slope)).leakyRelu(this.slope)).leakyRelu(this.slope);
      return this.heads[level - 1]!.forward(h);
    });
  }
}
