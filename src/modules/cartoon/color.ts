// Colour spaces as differentiable tensor ops (CARTOONER composes a texture map L and colour ab in
// CIE Lab) and the paper's HSV colour augmentation with the L-caching trick. Tensors are [N, 3, H, W] or [3, H, W],
// channel dim = -3. sRGB in [0, 1], D65 white, L in [0, 100], a/b roughly in [-110, 110].
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';

const WHITE = [0.95047, 1.0, 1.08883];
// linear sRGB → XYZ (IEC 61966-2-1, D65)
const M = [
  [0.4124564, 0.3575761, 0.1804375],
  [0.2126729, 0.7151522, 0.072175],
  [0.0193339, 0.119192, 0.9503041],
];
const MINV = invert3(M);
const DELTA = 6 / 29;

function invert3(m: number[][]): number[][] {
  const [a, b, c] = m[0]!, [d, e, f] = m[1]!, [g, h, i] = m[2]!;
  const A = e! * i! - f! * h!, B = -(d! * i! - f! * g!), C = d! * h! - e! * g!;
  const det = a! * A + b! * B + c! * C;
  return [
    [A / det, -(b! * i! - c! * h!) / det, (b! * f! - c! * e!) / det],
    [B / det, (a! * i! - c! * g!) / det, -(a! * f! - c! * d!) / det],
    [C / det, -(a! * h! - b! * g!) / det, (a! * e! - b! * d!) / det],
  ];
}

function channels(x: Tensor, what: string): [Tensor, Tensor, Tensor] {
  if (x.ndim < 3 || x.shape[x.ndim - 3] !== 3) throw new Error(`${what}: expected [..., 3, H, W], got shape [${x.shape}]`);
  return x.unbind(x.ndim - 3) as [Tensor, Tensor, Tensor];
}
function mix(m: number[][], c: [Tensor, Tensor, Tensor]): [Tensor, Tensor, Tensor] {
  return m.map((r) => c[0].mul(r[0]!).add(c[1].mul(r[1]!)).add(c[2].mul(r[2]!))) as [Tensor, Tensor, Tensor];
}

/** sRGB gamma → linear (gradient-safe: the power branch never sees values below the knee). */
export function srgbToLinear(c: Tensor): Tensor {
  return torch.scope(() => torch.where(c.le(0.04045), c.div(12.92), c.clamp(0.04045).add(0.055).div(1.055).pow(2.4)));
}
export function linearToSrgb(c: Tensor): Tensor {
  return torch.scope(() => torch.where(c.le(0.0031308), c.mul(12.92), c.clamp(0.0031308).pow(1 / 2.4).mul(1.055).sub(0.055)));
}

/** sRGB [.., 3, H, W] in [0, 1] → CIE Lab (D65), differentiable. */
export function rgbToLab(rgb: Tensor): Tensor {
  return torch.scope(() => {
    const lin = channels(rgb, 'rgbToLab').map(srgbToLinear) as [Tensor, Tensor, Tensor];
    const xyz = mix(M, lin).map((t, k) => t.div(WHITE[k]!));
    const f = xyz.map((t) => torch.where(t.gt(DELTA ** 3), t.clamp(DELTA ** 3).pow(1 / 3), t.div(3 * DELTA * DELTA).add(4 / 29)));
    const L = f[1]!.mul(116).sub(16);
    const a = f[0]!.sub(f[1]!).mul(500);
    const b = f[1]!.sub(f[2]!).mul(200);
    return torch.stack([L, a, b], rgb.ndim - 3);
  });
}

/** CIE Lab → sRGB, differentiable; out-of-gamut values are clamped to [0, 1] when clamp is set. */
export function labToRgb(lab: Tensor, clamp = true): Tensor {
  return torch.scope(() => {
    const [L, a, b] = channels(lab, 'labToRgb');
    const fy = L.add(16).div(116);
    const f = [fy.add(a.div(500)), fy, fy.sub(b.div(200))];
    const xyz = f.map((t, k) => torch.where(t.gt(DELTA), t.pow(3), t.sub(4 / 29).mul(3 * DELTA * DELTA)).mul(WHITE[k]!)) as [Tensor, Tensor, Tensor];
    const lin = mix(MINV, xyz).map((t) => (clamp ? t.clamp(0, 1) : t));
    const out = lin.map(linearToSrgb);
    return torch.stack(clamp ? out.map((t) => t.clamp(0, 1)) : out, lab.ndim - 3);
  });
}

/** sRGB → HSV, all in [0, 1] (hue as a fraction of a turn). Exact inverse of hsvToRgb. */
export function rgbToHsv(rgb: Tensor): Tensor {
  return torch.scope(() => {
    const [r, g, b] = channels(rgb, 'rgbToHsv');
    const v = r.maximum(g).maximum(b);
    const mn = r.minimum(g).minimum(b);
    const d = v.sub(mn);
    const zero = d.eq(0);
    const dsafe = torch.where(zero, 1, d);
    const hr = g.sub(b).div(dsafe).remainder(6);
    const hg = b.sub(r).div(dsafe).add(2);
    const hb = r.sub(g).div(dsafe).add(4);
    let h = torch.where(v.eq(r), hr, torch.where(v.eq(g), hg, hb)).div(6);
    h = torch.where(zero, 0, h);
    h = torch.where(h.ge(1), h.sub(1), h); // remainder can give exactly 6 for tiny negatives
    const s = torch.where(v.eq(0), 0, d.div(torch.where(v.eq(0), 1, v)));
    return torch.stack([h, s, v], rgb.ndim - 3);
  });
}

export function hsvToRgb(hsv: Tensor): Tensor {
  return torch.scope(() => {
    const [h, s, v] = channels(hsv, 'hsvToRgb');
    const h6 = h.remainder(1).mul(6);
    const i = h6.floor();
    const f = h6.sub(i);
    const p = v.mul(s.rsub(1));
    const q = v.mul(f.mul(s).rsub(1));
    const t = v.mul(f.rsub(1).mul(s).rsub(1));
    const pick = (vals: Tensor[]) => {
      let out = vals[5]!;
      for (let k = 4; k >= 0; k--) out = torch.where(i.eq(k), vals[k]!, out);
      return out;
    };
    const r = pick([v, q, p, p, t, v]);
    const g = pick([t, v, v, q, p, p]);
    const b = pick([p, p, t, v, v, q]);
    return torch.stack([r, g, b], hsv.ndim - 3);
  });
}

export interface HsvJitter {
  /** hue rotation in degrees */
  hue: number;
  /** saturation scale */
  sat: number;
  /** value scale */
  val: number;
}

/**
 * Applies an HSV perturbation to an sRGB image (hue rotation, saturation and value scale). Given a
 * list of jitters, sample i of the batch [N, 3, H, W] gets jitter i.
 */
export function hsvPerturb(rgb: Tensor, j: HsvJitter | HsvJitter[]): Tensor {
  return torch.scope(() => {
    const [h, s, v] = channels(rgbToHsv(rgb), 'hsvPerturb');
    const per = (k: keyof HsvJitter, scale = 1): number | Tensor => {
      if (!Array.isArray(j)) return j[k] * scale;
      if (rgb.ndim !== 4 || j.length !== rgb.shape[0]) throw new Error(`hsvPerturb: ${j.length} jitters for a batch of shape [${rgb.shape}]`);
      return torch.tensor(j.map((x) => x[k] * scale), { dtype: rgb.dtype }).reshape([j.length, 1, 1]);
    };
    const h2 = h.add(per('hue', 1 / 360)).remainder(1);
    return hsvToRgb(torch.stack([h2, s.mul(per('sat')).clamp(0, 1), v.mul(per('val')).clamp(0, 1)], rgb.ndim - 3));
  });
}

/**
 * The paper's HSV colour augmentation with the L-caching trick: perturb in HSV, convert to Lab,
 * and put the un-augmented lightness back, so only chroma changes. Returns the augmented Lab.
 */
export function augmentLab(rgb: Tensor, j: HsvJitter | HsvJitter[]): Tensor {
  return torch.scope(() => {
    const L0 = rgbToLab(rgb).narrow(rgb.ndim - 3, 0, 1);
    const lab = rgbToLab(hsvPerturb(rgb, j));
    return torch.cat([L0, lab.narrow(rgb.ndim - 3, 1, 2)], rgb.ndim - 3);
  });
}

/** Draws a jitter with our ranges [recon: the paper's were not recovered]: hue U(−180°, 180°) w.p. 0.8, sat U(0.5, 1.5), val U(0.8, 1.2). */
export function randomJitter(rng: { random(): number }, o: { hueProb?: number; sat?: [number, number]; val?: [number, number] } = {}): HsvJitter {
  const p = o.hueProb ?? 0.8, sat = o.sat ?? [0.5, 1.5], val = o.val ?? [0.8, 1.2];
  const hue = rng.random() < p ? (rng.random() * 2 - 1) * 180 : 0;
  return { hue, sat: sat[0] + rng.random() * (sat[1] - sat[0]), val: val[0] + rng.random() * (val[1] - val[0]) };
}

/** Network input normalisation: L/50 − 1, a/110, b/110. */
export function normLab(lab: Tensor): Tensor {
  return torch.scope(() => {
    const [L, a, b] = channels(lab, 'normLab');
    return torch.stack([L.div(50).sub(1), a.div(110), b.div(110)], lab.ndim - 3);
  });
}

/** Hue angle (degrees) and chroma of Lab ab (the LCh cylinder). */
export function labHueChroma(lab: Tensor): { hue: Tensor; chroma: Tensor } {
  return torch.scope(() => {
    const [, a, b] = channels(lab, 'labHueChroma');
    return { hue: b.atan2(a).mul(180 / Math.PI), chroma: a.square().add(b.square()).sqrt() };
  });
}

/** Rotates the hue of an sRGB image by `deg` degrees in HSV (the colour-map edit of `apply --hue-shift` and the hue-following metric). */
export function rotateHue(rgb: Tensor, deg: number): Tensor {
  return hsvPerturb(rgb, { hue: deg, sat: 1, val: 1 });
}
