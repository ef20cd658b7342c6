// MNet (Dong et al., IJCAI 2022), the mesh backbone of Z-SSMNet, block by block as MNet's reference code.
// Tensors are N×C×Z×Y×X. Column 1 is 2-D (kernel 1×3×3), deeper columns start with extra 3-D
// pooling steps; Down/Up blocks fuse the 2-D and 3-D branches with a feature merging unit (FMU).
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';

export type FMUMode = 'sub' | 'sum' | 'cat';
export type Branch = '2d' | '3d' | 'both';

export interface MNetConfig {
  inChannels: number;
  numClasses: number;
  /** widths kn of the five levels; the paper uses (32, 48, 64, 80, 96) */
  widths: [number, number, number, number, number];
  fmu: FMUMode;
  /** evaluate all seven heads (training) or only the first */
  deepSupervision: boolean;
  /** Pool3d uses (2,2,2) only while the input's Z >= minZ, else (1,2,2) */
  minZ: number;
  /** the paper's ablations: 'mesh' (full), '2d' (column 1 only), '3d' (3-D blocks only) */
  variant: 'mesh' | '2d' | '3d';
  dtype: 'float32' | 'float64';
}

export const FULL_WIDTHS: MNetConfig['widths'] = [32, 48, 64, 80, 96];

export function mnetConfig(o: Partial<MNetConfig> = {}): MNetConfig {
  return { inChannels: 6, numClasses: 2, widths: FULL_WIDTHS, fmu: 'sub', deepSupervision: true, minZ: 8, variant: 'mesh', dtype: 'float32', ...o };
}

/** Scales the paper's widths by a multiplier (at least 1 channel each) for CPU-scale runs. */
export function scaledWidths(mult: number): MNetConfig['widths'] {
  return FULL_WIDTHS.map((w) => Math.max(1, Math.round(w * mult))) as MNetConfig['widths'];
}

/** Feature merging unit: |a − b| (default), a + b, or channel concatenation. */
export function fmu(a: Tensor, b: Tensor, mode: FMUMode): Tensor {
  if (a.shape.join() !== b.shape.join()) throw new Error(`FMU: shapes [${a.shape}] and [${b.shape}] differ`);
  if (mode === 'sub') return torch.scope(() => a.sub(b).abs());
  if (mode === 'sum') return a.add(b);
  return torch.cat([a, b], 1);
}

/** InstanceNorm over Z,Y,X per sample and channel, affine (γ=1, β=0), eps 1e-5. */
class InstanceNorm3d extends torch.nn.Module {
  weight: Tensor; bias: Tensor;
  constructor(c: number, dtype: MNetConfig['dtype']) {
    super();
    this.weight = this.param('weight', torch.ones([c], { dtype }));
    this.bias = this.param('bias', torch.zeros([c], { dtype }));
  }
  forward(x: Tensor): Tensor { return torch.F.instanceNorm(x, this.weight, this.bias, 1e-5); }
}

/** CB2d / CB3d: (conv → InstanceNorm → LeakyReLU(0.01)) × 2; kernel 1×3×3 or 3×3×3. */
export class ConvBlock extends torch.nn.Module {
  conv1: torch.nn.Conv3d; norm1: InstanceNorm3d; conv2: torch.nn.Conv3d; norm2: InstanceNorm3d;
  constructor(cin: number, cout: number, readonly kind: '2d' | '3d', dtype: MNetConfig['dtype']) {
    super();
    const k = kind === '2d' ? [1, 3, 3] : [3, 3, 3];
    const p = kind === '2d' ? [0, 1, 1] : [1, 1, 1];
    this.conv1 = this.child('conv1', new torch.nn.Conv3d(cin, cout, k, { padding: p, dtype }));
    this.norm1 = this.child('norm1', new InstanceNorm3d(cout, dtype));
    this.conv2 = this.child('conv2', new torch.nn.Conv3d(cout, cout, k, { padding: p, dtype }));
    this.norm2 = this.child('norm2', new InstanceNorm3d(cout, dtype));
  }
  forward(x: Tensor): Tensor {
    return torch.scope(() => {
      const h = this.norm1.forward(this.conv1.forward(x)).leakyRelu(0.01);
      return this.norm2.forward(this.conv2.forward(h)).leakyRelu(0.01);
    });
  }
}

export function pool2d(x: Tensor): Tensor { return torch.F.maxPool3d(x, [1, 2, 2]); }
export function pool3d(x: Tensor, minZ: number): Tensor {
  return torch.F.maxPool3d(x, x.shape[2]! >= minZ ? [2, 2, 2] : [1, 2, 2]);
}

export interface Pair2 { d2?: Tensor; d3?: Tensor }

/** Down(cin, cout, in, out): pooling per `in` (none for the first block), then CB2d and/or CB3d. */
export class Down extends torch.nn.Module {
  cb2d: ConvBlock | null; cb3d: ConvBlock | null;
  constructor(readonly cin: number, readonly cout: number, readonly pool: 'none' | Branch, readonly out: Branch, readonly cfg: MNetConfig) {
    super();
    const c = pool === 'both' && cfg.fmu === 'cat' ? 2 * cin : cin;
    this.cb2d = out !== '3d' ? this.child('CB2d', new ConvBlock(c, cout, '2d', cfg.dtype)) : null;
    this.cb3d = out !== '2d' ? this.child('CB3d', new ConvBlock(c, cout, '3d', cfg.dtype)) : null;
  }
  /** x: a tensor, or [x2d, x3d] when pool = both */
  forward(x: Tensor | [Tensor, Tensor]): Pair2 {
    return torch.scope(() => {
      let h: Tensor;
      if (this.pool === 'both') {
        const [a, b] = x as [Tensor, Tensor];
        h = fmu(pool2d(a), pool3d(b, this.cfg.minZ), this.cfg.fmu);
      } else {
        const t = x as Tensor;
        h = this.pool === 'none' ? t : this.pool === '2d' ? pool2d(t) : pool3d(t, this.cfg.minZ);
      }
      return { d2: this.cb2d?.forward(h), d3: this.cb3d?.forward(h) };
    });
  }
}

/** Trilinear resize to a spatial size, half-pixel centres (align_corners = false). */
export function upsample(x: Tensor, size: readonly number[]): Tensor {
  if (x.shape.slice(2).join() === size.join()) return x.view(x.shape);
  return torch.F.interpolate(x, { size, mode: 'trilinear', alignCorners: false });
}

/** Up(cin, cout, out): upsample (x2d, x3d) to the skip size; concat[FMU(skips), FMU(ups)]; CB per `out`. */
export class Up extends torch.nn.Module {
  cb2d: ConvBlock | null; cb3d: ConvBlock | null;
  constructor(readonly cin: number, readonly cout: number, readonly out: Branch, readonly cfg: MNetConfig) {
    super();
    const c = cfg.fmu === 'cat' ? 2 * cin : cin;
    this.cb2d = out !== '3d' ? this.child('CB2d', new ConvBlock(c, cout, '2d', cfg.dtype)) : null;
    this.cb3d = out !== '2d' ? this.child('CB3d', new ConvBlock(c, cout, '3d', cfg.dtype)) : null;
  }
  forward(x2d: Tensor, skip2d: Tensor, x3d: Tensor, skip3d: Tensor): Pair2 {
    return torch.scope(() => {
      const size = skip2d.shape.slice(2);
      const h = torch.cat([fmu(skip2d, skip3d, this.cfg.fmu), fmu(upsample(x2d, size), upsample(x3d, size), this.cfg.fmu)], 1);
      return { d2: this.cb2d?.forward(h), d3: this.cb3d?.forward(h) };
    });
  }
}

type DownSpec = [name: string, cinLevel: number, coutLevel: number, pool: 'none' | Branch, out: Branch];
type UpSpec = [name: string, cinFromWidths: (w: number[]) => number, coutLevel: number, out: Branch];

/** Encoder table (MNet's blocks): cin/cout as indices into kn (−1 = input channels). */
export const DOWN_TABLE: DownSpec[] = [
  ['down11', -1, 0, 'none', 'both'], ['down12', 0, 1, '2d', 'both'], ['down13', 1, 2, '2d', 'both'],
  ['down14', 2, 3, '2d', 'both'], ['bottleneck1', 3, 4, '2d', '2d'],
  ['down21', 0, 1, '3d', 'both'], ['down22', 1, 2, 'both', 'both'], ['down23', 2, 3, 'both', 'both'],
  ['bottleneck2', 3, 4, 'both', 'both'],
  ['down31', 1, 2, '3d', 'both'], ['down32', 2, 3, 'both', 'both'], ['bottleneck3', 3, 4, 'both', 'both'],
  ['down41', 2, 3, '3d', 'both'], ['bottleneck4', 3, 4, 'both', 'both'],
  ['bottleneck5', 3, 4, '3d', '3d'],
];
/** Decoder table (MNet's blocks): cin = skip width + incoming width (FMU sub/sum). */
export const UP_TABLE: UpSpec[] = [
  ['up41', (k) => k[3]! + k[4]!, 3, '3d'], ['up31', (k) => k[3]! + k[4]!, 3, 'both'], ['up32', (k) => k[2]! + k[3]!, 2, '3d'],
  ['up21', (k) => k[3]! + k[4]!, 3, 'both'], ['up22', (k) => k[2]! + k[3]!, 2, 'both'], ['up23', (k) => k[1]! + k[2]!, 1, '3d'],
  ['up11', (k) => k[3]! + k[4]!, 3, '2d'], ['up12', (k) => k[2]! + k[3]!, 2, '2d'], ['up13', (k) => k[1]! + k[2]!, 1, '2d'],
  ['up14', (k) => k[0]! + k[1]!, 0, 'both'],
];
/** Head input widths, in head order: [up14, up23, up13, up32, up12, up41, up11]. */
export const HEAD_LEVELS = [0, 1, 1, 2, 2, 3, 3];

/**
 * The parameter count computed from the block tables above alone (not from the built module):
 * per CB: 2 convs (weights + biases) + 2 InstanceNorms (γ, β); heads without bias.
 */
export function analyticParamCount(cfg: Pick<MNetConfig, 'inChannels' | 'numClasses' | 'widths' | 'fmu'>): number {
  const k = cfg.widths;
  const f = cfg.fmu === 'cat' ? 2 : 1;
  const cb = (cin: number, cout: number, kv: number) => cin * cout * kv + cout + 2 * cout + cout * cout * kv + cout + 2 * cout;
  const blocks = (cin: number, cout: number, out: Branch) => (out !== '3d' ? cb(cin, cout, 9) : 0) + (out !== '2d' ? cb(cin, cout, 27) : 0);
  let n = 0;
  for (const [, ci, co, pool, out] of DOWN_TABLE) n += blocks(ci < 0 ? cfg.inChannels : (pool === 'both' ? f : 1) * k[ci]!, k[co]!, out);
  for (const [, cin, co, out] of UP_TABLE) n += blocks(f * cin(k), k[co]!, out);
  for (const l of HEAD_LEVELS) n += k[l]! * cfg.numClasses;
  return n;
}

/**
 * The mesh network. forward(x) returns the logits of the evaluated heads, highest resolution
 * first: seven with deep supervision, else one. The 2d/3d ablation variants keep the same
 * parameters and zero the other branch's contribution.
 * [recon] ablation semantics: '2d' drops every CB3d output (replaced by the CB2d output of the
 * same block where the mesh needs a 3-D tensor), '3d' the converse. Full mesh is the default.
 */
export class MNet extends torch.nn.Module {
  readonly cfg: MNetConfig;
  readonly downs = new Map<string, Down>();
  readonly ups = new Map<string, Up>();
  readonly heads: torch.nn.Conv3d[] = [];

  constructor(cfg: Partial<MNetConfig> = {}) {
    super();
    this.cfg = mnetConfig(cfg);
    const k = this.cfg.widths;
    for (const [name, ci, co, pool, out] of DOWN_TABLE) {
      this.downs.set(name, this.child(name, new Down(ci < 0 ? this.cfg.inChannels : k[ci]!, k[co]!, pool, out, this.cfg)));
    }
    for (const [name, cin, co, out] of UP_TABLE) this.ups.set(name, this.child(name, new Up(cin(k), k[co]!, out, this.cfg)));
    HEAD_LEVELS.forEach((l, i) => {
      this.heads.push(this.child(`out${i + 1}`, new torch.nn.Conv3d(k[l]!, this.cfg.numClasses, 1, { bias: false, dtype: this.cfg.dtype })));
    });
  }

  private d(name: string): Down { return this.downs.get(name)!; }
  private u(name: string): Up { return this.ups.get(name)!; }

  forward(x: Tensor): Tensor[] {
    if (x.ndim !== 5) throw new Error(`MNet: input must be N×C×Z×Y×X, got shape [${x.shape}]`);
    if (x.shape[1] !== this.cfg.inChannels) throw new Error(`MNet: input has ${x.shape[1]} channels, the network expects ${this.cfg.inChannels}`);
    if (x.shape[3]! < 16 || x.shape[4]! < 16) throw new Error(`MNet: Y and X must be >= 16 (four in-plane poolings), got [${x.shape}]`);
    return torch.scope(() => {
      const v = this.cfg.variant;
      // ablation: make a pair's 3-D (or 2-D) member a copy of the other branch
      const mix = (p: Pair2): Pair2 => {
        if (v === '2d' && p.d2 && p.d3) return { d2: p.d2, d3: p.d2 };
        if (v === '3d' && p.d2 && p.d3) return { d2: p.d3, d3: p.d3 };
        return p;
      };
      const D = (name: string, inp: Tensor | [Tensor, Tensor]) => mix(this.d(name).forward(inp));
      const U = (name: string, a: Tensor, b: Tensor, c: Tensor, e: Tensor) => mix(this.u(name).forward(a, b, c, e));
      const down11 = D('down11', x);
      const down12 = D('down12', down11.d2!);
      const down13 = D('down13', down12.d2!);
      const down14 = D('down14', down13.d2!);
      const bottleNeck1 = D('bottleneck1', down14.d2!);
      const down21 = D('down21', down11.d3!);
      const down22 = D('down22', [down21.d2!, down12.d3!]);
      const down23 = D('down23', [down22.d2!, down13.d3!]);
      const bottleNeck2 = D('bottleneck2', [down23.d2!, down14.d3!]);
      const down31 = D('down31', down21.d3!);
      const down32 = D('down32', [down31.d2!, down22.d3!]);
      const bottleNeck3 = D('bottleneck3', [down32.d2!, down23.d3!]);
      const down41 = D('down41', down31.d3!);
      const bottleNeck4 = D('bottleneck4', [down41.d2!, down32.d3!]);
      const bottleNeck5 = D('bottleneck5', down41.d3!);

      const up41 = U('up41', bottleNeck4.d2!, down41.d2!, bottleNeck5.d3!, down41.d3!);
      const up31 = U('up31', bottleNeck3.d2!, down32.d2!, bottleNeck4.d3!, down32.d3!);
      const up32 = U('up32', up31.d2!, down31.d2!, up41.d3!, down31.d3!);
      const up21 = U('up21', bottleNeck2.d2!, down23.d2!, bottleNeck3.d3!, down23.d3!);
      const up22 = U('up22', up21.d2!, down22.d2!, up31.d3!, down22.d3!);
      const up23 = U('up23', up22.d2!, down21.d2!, up32.d3!, down21.d3!);
      const up11 = U('up11', bottleNeck1.d2!, down14.d2!, bottleNeck2.d3!, down14.d3!);
      const up12 = U('up12', up11.d2!, down13.d2!, up21.d3!, down13.d3!);
      const up13 = U('up13', up12.d2!, down12.d2!, up22.d3!, down12.d3!);
      const up14 = U('up14', up13.d2!, down11.d2!, up23.d3!, down11.d3!);

      const feats = [up14.d2!.add(up14.d3!), up23.d3!, up13.d2!, up32.d3!, up12.d2!, up41.d3!, up11.d2!];
      const n = this.cfg.deepSupervision ? 7 : 1;
      return feats.slice(0, n).map((f, i) => this.heads[i]!.forward(f));
    });
  }

  /** Parameter counts per block, plus the total and the analytic count from the block tables. */
  describe(): { blocks: { name: string; params: number }[]; total: number; analytic: number } {
    const blocks = this.children().map(([name, m]) => ({ name, params: m.numParameters() }));
    return { blocks, total: this.numParameters(), analytic: analyticParamCount(this.cfg) };
  }
}

/**
 * The deep-supervision z-scales of nnU-Net v1 (as the paper's detector trains) for a patch depth Z, per head:
 * [1,1,1], [z1,.5,.5], [1,.5,.5], [z2,.25,.25], [1,.25,.25], [z3,.125,.125], [1,.125,.125].
 */
export function deepSupervisionScales(patchZ: number): number[][] {
  const [z1, z2, z3] = patchZ >= 32 ? [0.5, 0.25, 0.125] : patchZ >= 16 ? [0.5, 0.25, 0.25] : patchZ >= 8 ? [0.5, 0.5, 0.5] : [1, 1, 1];
  return [[1, 1, 1], [z1, 0.5, 0.5], [1, 0.5, 0.5], [z2, 0.25, 0.25], [1, 0.25, 0.25], [z3, 0.125, 0.125], [1, 0.125, 0.125]];
}
export const DS_WEIGHTS = [1, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125];

/** Re-initialise conv weights He-normal (slope 0.01), biases 0: nnU-Net's InitWeights_He. */
export function heInit(net: MNet): void {
  for (const [name, p] of net.namedParameters()) {
    if (/conv\d\.weight$|out\d\.weight$/.test(name)) torch.nn.init.kaimingNormal_(p, 0.01);
    else if (/conv\d\.bias$/.test(name)) torch.nn.init.zeros_(p);
  }
}
