// The non-learned "classic" cartoonizer [ours]: edge-preserving smoothing (self-guided
// filter, He et al. 2013), superpixel flattening (SLIC region means) and XDoG lines (Winnemöller
// et al. 2012), with the same three controls as the model: smoothing radius and flattening ↔ α_a,
// line width ↔ α_s, colour map (e.g. hue-shifted) ↔ c. Like CARTOONER it composes L (texture) with
// ab (colour map), so colour edits never touch L and α never touches ab. Fallback and baseline.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { F } from '../../core/torch/index.ts';
import { rgbToLab } from './color.ts';
import { defaultSegments, distanceTransform, regionMeans, slic, type Planar } from './raster.ts';
import { tensorToPlanar } from './data.ts';
import { lineWidth } from './scenes.ts';
import { LEVELS } from './config.ts';
import { selectBranches } from './model.ts';

function boxFilter(x: Tensor, r: number): Tensor {
  return torch.scope(() => F.avgPool2d(F.pad(x, [r, r, r, r], 'replicate'), 2 * r + 1, { stride: 1 }));
}

/** Self-guided filter on a [N, 1, H, W] image (radius r, regulariser eps in the image's units²). */
export function guidedFilter(I: Tensor, r: number, eps: number): Tensor {
  if (r < 1) return I.clone();
  return torch.scope(() => {
    const mI = boxFilter(I, r);
    const vI = boxFilter(I.square(), r).sub(mI.square()).clamp(0);
    const a = vI.div(vI.add(eps));
    const b = mI.sub(a.mul(mI));
    return boxFilter(a, r).mul(I).add(boxFilter(b, r));
  });
}

export function gaussianBlur(x: Tensor, sigma: number): Tensor {
  if (sigma <= 0) return x.clone();
  return torch.scope(() => {
    const r = Math.max(1, Math.ceil(3 * sigma));
    const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
    const s = k.reduce((a, b) => a + b, 0);
    const C = x.shape[1]!;
    const kx = torch.tensor(k.map((v) => v / s), { dtype: x.dtype }).reshape([1, 1, 1, 2 * r + 1]).repeat([C, 1, 1, 1]);
    const ky = kx.reshape([C, 1, 2 * r + 1, 1]);
    const h = F.conv2d(F.pad(x, [r, r, 0, 0], 'replicate'), kx, null, { groups: C });
    return F.conv2d(F.pad(h, [0, 0, r, r], 'replicate'), ky, null, { groups: C });
  });
}

export interface ClassicOptions {
  /** XDoG: inner σ (px at 64-px scale; scaled with the image), k = σ_outer/σ_inner, threshold in L units */
  sigma?: number;
  k?: number;
  threshold?: number;
  /** ab smoothing σ (px) applied to the colour map's chroma */
  colourSigma?: number;
}

// SLIC is the slow part and depends only on the photo and K: keep the last few results.
const slicCache = new Map<string, { labels: Int32Array; count: number }>();
function cachedSlic(p: Planar, K: number): { labels: Int32Array; count: number } {
  let h = 0;
  for (let i = 0; i < p.data.length; i += 7) h = (Math.imul(h, 31) + Math.round(p.data[i]! * 65535)) | 0;
  const key = `${p.h}x${p.w}:${K}:${h}`;
  let r = slicCache.get(key);
  if (!r) {
    r = slic(p, K);
    slicCache.set(key, r);
    if (slicCache.size > 64) slicCache.delete(slicCache.keys().next().value!);
  }
  return r;
}

/**
 * Clean line extraction from a DoG response: hysteresis thresholding (pixels below −thr are strong,
 * below −thr/2 weak; weak pixels count only when 8-connected to a strong one, Canny's rule) and
 * removal of connected components smaller than `minArea` px (isolated specks that widening would
 * turn into dots), or whose bounding box is shorter than 2·√minArea (blobs rather than lines).
 * Returns the ink mask.
 */
export function hysteresisLines(dog: Float32Array, H: number, W: number, thr: number, minArea: number): Uint8Array {
  const ink = new Uint8Array(H * W), seen = new Uint8Array(H * W), stack: number[] = [], comp: number[] = [];
  const weak = (i: number) => dog[i]! < -0.5 * thr;
  for (let s = 0; s < H * W; s++) {
    if (seen[s] || !weak(s)) continue;
    seen[s] = 1; stack.push(s); comp.length = 0;
    let strong = false;
    while (stack.length) {
      const i = stack.pop()!;
      comp.push(i);
      if (dog[i]! < -thr) strong = true;
      const y = (i / W) | 0, x = i - y * W;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const yy = y + dy, xx = x + dx, j = yy * W + xx;
          if (yy < 0 || yy >= H || xx < 0 || xx >= W || seen[j] || !weak(j)) continue;
          seen[j] = 1; stack.push(j);
        }
      }
    }
    if (!strong || comp.length < minArea) continue;
    // a line, not a dot: its bounding box's longer side spans at least 2·√minArea px
    let y0 = H, y1 = 0, x0 = W, x1 = 0;
    for (const i of comp) { const y = (i / W) | 0, x = i - y * W; y0 = Math.min(y0, y); y1 = Math.max(y1, y); x0 = Math.min(x0, x); x1 = Math.max(x1, x); }
    if (Math.max(y1 - y0, x1 - x0) + 1 < 2 * Math.sqrt(minArea)) continue;
    for (const i of comp) ink[i] = 1;
  }
  return ink;
}

/** Sizes per abstraction level k = 1..5 [ours]: guided-filter radius (× image scale), SLIC share, flat share, softening σ. */
const LEVEL_SEGMENTS = [1, 0.6, 0.4, 0.25, 0.15];
const LEVEL_FLAT = [0.2, 0.4, 0.6, 0.8, 1.0];
const LEVEL_SOFTEN = [0, 0.4, 0.6, 0.8, 1.0];
const LEVEL_LINE_THRESHOLD = [1, 1.4, 1.8, 2.2, 2.6];

/**
 * The classic L at integer abstraction level k and line width `width` px: self-guided smoothing
 * (radius k·scale), blended with its superpixel means (fewer segments and more weight as k grows),
 * XDoG lines of the smoothed L (threshold grows with k, so detail lines drop out), widened to
 * `width`, and a final softening.
 */
function classicL(photoLab: Tensor, photo: Tensor, k: number, width: number, scale: number, lineScale: number, o: ClassicOptions): Tensor {
  return torch.scope(() => {
    const H = photo.shape[2]!, W = photo.shape[3]!;
    const L = photoLab.narrow(1, 0, 1);
    const g = guidedFilter(L, Math.max(1, Math.round(k * scale)), 4 * k * k);
    const K = Math.max(8, Math.round(defaultSegments(H, W) * LEVEL_SEGMENTS[k - 1]!));
    const { labels, count } = cachedSlic(tensorToPlanar(photo.narrow(0, 0, 1)), K);
    const flat = regionMeans(tensorToPlanar(g), labels, count);
    const flatT = torch.tensor(flat.data, { shape: [1, 1, H, W] }).to(L.dtype);
    const beta = LEVEL_FLAT[k - 1]!;
    const Lt = g.mul(1 - beta).add(flatT.mul(beta));
    // XDoG (binary form): dark side of G_σ − G_kσ on the smoothed (not the flattened) L
    const sigma = (o.sigma ?? 0.8) * lineScale, kk = o.k ?? 1.6, thr = (o.threshold ?? 2.5) * LEVEL_LINE_THRESHOLD[k - 1]!;
    const dog = gaussianBlur(g, sigma).sub(gaussianBlur(g, kk * sigma)).contiguous().toTypedArray() as Float32Array;
    const ink = hysteresisLines(dog, H, W, thr, Math.max(3, Math.round(6 * lineScale * lineScale)));
    // line width ↔ α_s: widen the lines by an anti-aliased distance band (continuous in width)
    const d = distanceTransform(ink, H, W);
    const anyInk = ink.some((x) => x > 0);
    const cov = Float32Array.from(d, (v) => (anyInk ? Math.min(1, Math.max(0, (width + 1) / 2 - v)) : 0));
    const covT = torch.tensor(cov, { shape: [1, 1, H, W] }).to(Lt.dtype);
    const out = Lt.mul(covT.rsub(1)).add(covT.mul(8));
    return gaussianBlur(out, LEVEL_SOFTEN[k - 1]! * lineScale).clamp(0, 100);
  });
}

/**
 * Classic cartoon of photos [N, 3, H, W] (sRGB) with colour maps `map` (sRGB, e.g. hue-shifted):
 * returns Lab [N, 3, H, W]. α_s, α_a ∈ [1, 5] (clamped), real-valued; α_a uses the same
 * nearest-two interpolation as the model's controller, α_s sets the line width continuously.
 */
export function classicCartoon(photo: Tensor, map: Tensor, alphaS: number, alphaA: number, o: ClassicOptions = {}): Tensor {
  if (photo.ndim !== 4 || photo.shape[1] !== 3) throw new Error(`classic cartoon: photo must be sRGB [N, 3, H, W], got [${photo.shape}]`);
  if (map.shape.join() !== photo.shape.join()) throw new Error(`classic cartoon: colour map [${map.shape}] must match the photo [${photo.shape}]`);
  if (!Number.isFinite(alphaS) || !Number.isFinite(alphaA)) throw new Error(`classic cartoon: levels must be finite, got α_s = ${alphaS}, α_a = ${alphaA}`);
  if (photo.shape[0]! > 1) {
    return torch.scope(() => torch.cat(
      Array.from({ length: photo.shape[0]! }, (_, i) => classicCartoon(photo.narrow(0, i, 1), map.narrow(0, i, 1), alphaS, alphaA, o)),
      0,
    ));
  }
  return torch.noGrad(() => torch.scope(() => {
    const H = photo.shape[2]!, W = photo.shape[3]!;
    // smoothing and flattening scale with the image (64-px scenes: 1); lines, their width and the
    // softening only with its square root, so a full-resolution photo gets crisp lines of a few px
    // rather than its 64-px rendering's lines magnified into blobs
    const scale = Math.min(H, W) / 64, lineScale = scale <= 1 ? scale : Math.sqrt(scale);
    const lab = rgbToLab(photo);
    const width = lineWidth(Math.min(LEVELS, Math.max(1, alphaS)), 64 * lineScale);
    const { i, j, w } = selectBranches(LEVELS, alphaA);
    let L = classicL(lab, photo, i, width, scale, lineScale, o);
    if (w > 0) L = L.mul(1 - w).add(classicL(lab, photo, j, width, scale, lineScale, o).mul(w));
    // colour: the (edited) colour map's chroma, lightly smoothed
    const ab = gaussianBlur(rgbToLab(map).narrow(1, 1, 2), (o.colourSigma ?? 0.5) * lineScale);
    return torch.cat([L, ab], 1);
  }));
}
