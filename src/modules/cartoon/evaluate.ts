// [ours] Controllability metrics (README.md, "Measured"): stroke width W(α_s), abstraction
// (high-frequency ratio), colour following (circular hue error), disentanglement and continuity,
// with Spearman's rank correlation for monotonicity. Plus KID on fixed random CNN features (the paper
// reports FID and a user study; its numbers are not reproduced here).
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { distanceTransform } from './raster.ts';
import { RandomFeatureNet } from './losses.ts';
import { EVALUATE, LEVELS, type StrokeMask } from './config.ts';

/** A cartoonizer as the metrics see it: sRGB photo and colour map [N, 3, H, W] → Lab [N, 3, H, W]. */
export type CartoonFn = (photo: Tensor, map: Tensor, alphaS: number, alphaA: number) => Tensor;

function maxFilter(a: Float32Array, h: number, w: number, r: number, min = false): Float32Array {
  const tmp = new Float32Array(h * w), out = new Float32Array(h * w);
  const better = min ? (x: number, y: number) => x < y : (x: number, y: number) => x > y;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let m = a[y * w + x]!;
    for (let d = -r; d <= r; d++) { const xx = x + d; if (xx >= 0 && xx < w && better(a[y * w + xx]!, m)) m = a[y * w + xx]!; }
    tmp[y * w + x] = m;
  }
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    let m = tmp[y * w + x]!;
    for (let d = -r; d <= r; d++) { const yy = y + d; if (yy >= 0 && yy < h && better(tmp[yy * w + x]!, m)) m = tmp[yy * w + x]!; }
    out[y * w + x] = m;
  }
  return out;
}

/** Sobel gradient magnitude of a single-channel image. */
export function sobel(a: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w);
  const at = (y: number, x: number) => a[Math.min(h - 1, Math.max(0, y)) * w + Math.min(w - 1, Math.max(0, x))]!;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const gx = at(y - 1, x + 1) + 2 * at(y, x + 1) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y, x - 1) - at(y + 1, x - 1);
    const gy = at(y + 1, x - 1) + 2 * at(y + 1, x) + at(y + 1, x + 1) - at(y - 1, x - 1) - 2 * at(y - 1, x) - at(y - 1, x + 1);
    out[y * w + x] = Math.hypot(gx, gy) / 8;
  }
  return out;
}

/**
 * The ink mask of strokeWidth's default 'ink' mode [ours]: pixels whose L is below τ (default 20), i.e.
 * the near-black ink that cartoon outlines are drawn in (the procedural targets' ink has L ≈ 4, the
 * classic mode's L = 8). Thicker strokes only ever add ink, also where they run into a dark region.
 */
export function inkMask(L: Float32Array, _h: number, _w: number, o: { tau?: number } = {}): Uint8Array {
  const tau = o.tau ?? 20;
  return Uint8Array.from(L, (v) => (v < tau ? 1 : 0));
}

/**
 * The 'tophat' mask (the module's earlier default): black top-hat closing(L) − L > τ with a square
 * window of radius r (default min(h, w)/8 px, at least 3). It measures dark lines against their local
 * background, but a stroke that thickens into an adjacent dark region (hair, a dark coat) makes a dark
 * blob wider than the window, which leaves the mask: W can then fall as the strokes thicken.
 */
export function tophatMask(L: Float32Array, h: number, w: number, o: { tau?: number; radius?: number } = {}): Uint8Array {
  const r = o.radius ?? Math.max(3, Math.round(Math.min(h, w) / 8));
  const closing = maxFilter(maxFilter(L, h, w, r), h, w, r, true);
  const tau = o.tau ?? 20;
  return Uint8Array.from(closing, (c, i) => (c - L[i]! > tau ? 1 : 0));
}

/** Ink coverage: the fraction of pixels in the ink mask (thicker strokes → more ink). */
export function inkCoverage(L: Float32Array, h: number, w: number, o: { tau?: number } = {}): number {
  const m = inkMask(L, h, w, o);
  let n = 0;
  for (const v of m) n += v;
  return n / m.length;
}

export interface StrokeOptions {
  /**
   * How the stroke map is binarised [ours, see the README]. 'ink' (default): near-black ink, L < τ.
   * 'tophat': closing(L) − L > τ (dark against the local background, window `radius`). 'sobel': a
   * Sobel magnitude > τ; Sobel marks the two *sides* of a line, each about two pixels wide
   * whatever the line's width, so it under-reads thick strokes.
   */
  edge?: StrokeMask;
  /** threshold in L units (ink: L below τ, default 20; tophat: darker than the local background by τ, 20; sobel: gradient per px, 8) */
  tau?: number;
  /** top-hat window radius in px ('tophat' only) */
  radius?: number;
}

/**
 * Stroke width W [ours]: binarise the stroke map, take the distance transform inside it, and average
 * 2·DT − ½ over the skeleton (pixels where DT is a local maximum). A w-px line reads w ± ½
 * (odd widths have one centre pixel with DT = (w+1)/2, even widths two with DT = w/2).
 * Returns 0 when there are no strokes.
 */
export function strokeWidth(L: Float32Array, h: number, w: number, o: StrokeOptions = {}): number {
  const edge = o.edge ?? EVALUATE.strokeMask;
  let mask: Uint8Array;
  if (edge === 'sobel') {
    const g = sobel(L, h, w);
    const tau = o.tau ?? 8;
    mask = Uint8Array.from(g, (v) => (v > tau ? 1 : 0));
  } else if (edge === 'tophat') {
    mask = tophatMask(L, h, w, o);
  } else {
    mask = inkMask(L, h, w, o);
  }
  const bg = Uint8Array.from(mask, (m) => 1 - m);
  const dt = distanceTransform(bg, h, w);
  let sum = 0, n = 0;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    if (!mask[i]) continue;
    const d = dt[i]!;
    let peak = true;
    for (let dy = -1; dy <= 1 && peak; dy++) for (let dx = -1; dx <= 1; dx++) {
      const yy = y + dy, xx = x + dx;
      if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
      if (dt[yy * w + xx]! > d) { peak = false; break; }
    }
    if (peak) { sum += 2 * d - 0.5; n++; }
  }
  return n ? sum / n : 0;
}

/** Abstraction A [ours]: variance of the Laplacian over the variance of L (lower = more abstract). */
export function highFrequencyRatio(L: Float32Array, h: number, w: number): number {
  let m = 0;
  for (const v of L) m += v;
  m /= L.length;
  let vt = 0;
  for (const v of L) vt += (v - m) ** 2;
  vt /= L.length;
  const lap: number[] = [];
  for (let y = 1; y < h - 1; y++) for (let x = 1; x < w - 1; x++) {
    const i = y * w + x;
    lap.push(L[i - 1]! + L[i + 1]! + L[i - w]! + L[i + w]! - 4 * L[i]!);
  }
  const lm = lap.reduce((a, b) => a + b, 0) / lap.length;
  const lv = lap.reduce((a, b) => a + (b - lm) ** 2, 0) / lap.length;
  return vt > 0 ? lv / vt : 0;
}

/** Spearman rank correlation (average ranks for ties). NaN when either side is constant. */
export function spearman(x: number[], y: number[]): number {
  if (x.length !== y.length || x.length < 2) throw new Error(`spearman: need two equal-length series of ≥ 2 values, got ${x.length} and ${y.length}`);
  const rank = (v: number[]) => {
    const idx = v.map((_, i) => i).sort((a, b) => v[a]! - v[b]!);
    const r = new Array<number>(v.length);
    for (let i = 0; i < idx.length;) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
      for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const rx = rank(x), ry = rank(y);
  const mx = rx.reduce((a, b) => a + b, 0) / rx.length, my = ry.reduce((a, b) => a + b, 0) / ry.length;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < rx.length; i++) { sxy += (rx[i]! - mx) * (ry[i]! - my); sxx += (rx[i]! - mx) ** 2; syy += (ry[i]! - my) ** 2; }
  return sxy / Math.sqrt(sxx * syy);
}

/** Wraps an angle difference (degrees) into (−180, 180]. */
export function wrapDeg(d: number): number {
  let x = ((d + 180) % 360 + 360) % 360 - 180;
  if (x === -180) x = 180;
  return x;
}

/**
 * Circular mean hue difference (degrees) of Lab images a − b over pixels where both have chroma > minChroma.
 * Returns {shift, pixels}.
 */
export function meanHueShift(labA: Tensor, labB: Tensor, minChroma = 15): { shift: number; pixels: number } {
  const [a, b] = [labA, labB].map((t) => torch.noGrad(() => torch.scope(() => t.detach().to('float64').contiguous().toFloat64Array())));
  const n = labA.shape[labA.ndim - 1]! * labA.shape[labA.ndim - 2]!;
  const imgs = labA.ndim === 4 ? labA.shape[0]! : 1;
  let sx = 0, sy = 0, cnt = 0;
  for (let k = 0; k < imgs; k++) {
    const o = k * 3 * n;
    for (let i = 0; i < n; i++) {
      const a1 = a![o + n + i]!, b1 = a![o + 2 * n + i]!, a2 = b![o + n + i]!, b2 = b![o + 2 * n + i]!;
      if (Math.hypot(a1, b1) <= minChroma || Math.hypot(a2, b2) <= minChroma) continue;
      const d = Math.atan2(b1, a1) - Math.atan2(b2, a2);
      sx += Math.cos(d); sy += Math.sin(d); cnt++;
    }
  }
  return { shift: cnt ? (Math.atan2(sy, sx) * 180) / Math.PI : NaN, pixels: cnt };
}

/** Channel c of image i of a Lab batch as a Float32Array. */
export function channel(lab: Tensor, i: number, c: number): Float32Array {
  return torch.noGrad(() => torch.scope(() => lab.select(0, i).select(0, c).detach().to('float32').contiguous().toTypedArray())) as Float32Array;
}

export interface ControlReport {
  levels: number[];
  /** W per image per level */
  strokeWidth: number[][];
  /**
   * Spearman(level, W): pooled over all (image, level) pairs (image-to-image offsets dilute it), the
   * mean of the per-image values, and that of the image-averaged curve W̄(level)
   */
  strokeSpearman: number;
  strokeSpearmanPerImage: number;
  strokeSpearmanMeanCurve: number;
  /** HF ratio per image per level (α_a sweep) */
  hfRatio: number[][];
  abstractionSpearman: number;
  abstractionSpearmanPerImage: number;
  abstractionSpearmanMeanCurve: number;
  /** continuity at half-integer levels: mean |out(k+½) − (out(k)+out(k+1))/2| / mean |out(k+1) − out(k)| */
  continuity: { stroke: number; abstraction: number };
  /** hue following: measured output hue shift for each map rotation θ */
  hue: { theta: number; shift: number; error: number }[];
  /** disentanglement: max |ΔL| when only the colour map changes; max |Δab| when only α changes */
  disentangle: { maxDeltaLForMapEdit: number; maxDeltaAbForAlphaEdit: number };
}

function pooledSpearman(levels: number[], vals: number[][]): { all: number; perImage: number; meanCurve: number } {
  const xs: number[] = [], ys: number[] = [], per: number[] = [];
  for (const row of vals) {
    levels.forEach((l, k) => { xs.push(l); ys.push(row[k]!); });
    const s = spearman(levels, row);
    per.push(Number.isNaN(s) ? 0 : s);
  }
  const curve = levels.map((_, k) => vals.reduce((a, row) => a + row[k]!, 0) / vals.length);
  const mc = spearman(levels, curve);
  return { all: spearman(xs, ys), perImage: per.reduce((a, b) => a + b, 0) / per.length, meanCurve: Number.isNaN(mc) ? 0 : mc };
}

/**
 * Measures the controls of a cartoonizer on photos (sRGB [N, 3, H, W]) and their colour maps.
 * rotate(map, θ) gives the hue-edited colour map.
 */
export function controllability(fn: CartoonFn, photos: Tensor, maps: Tensor, rotate: (map: Tensor, deg: number) => Tensor,
  o: { levels?: number[]; fixed?: number; thetas?: number[]; stroke?: StrokeOptions } = {}): ControlReport {
  const levels = o.levels ?? Array.from({ length: LEVELS }, (_, i) => i + 1);
  const fixed = o.fixed ?? 1;
  const thetas = o.thetas ?? [60, 120, 180];
  const N = photos.shape[0]!, H = photos.shape[2]!, W = photos.shape[3]!;
  return torch.noGrad(() => {
    const sw: number[][] = Array.from({ length: N }, () => []);
    const hf: number[][] = Array.from({ length: N }, () => []);
    const outsS: Tensor[] = [], outsA: Tensor[] = [];
    for (const l of levels) {
      const s = fn(photos, maps, l, fixed).keep();
      const a = fn(photos, maps, fixed, l).keep();
      outsS.push(s); outsA.push(a);
      for (let i = 0; i < N; i++) {
        sw[i]!.push(strokeWidth(channel(s, i, 0), H, W, o.stroke));
        hf[i]!.push(highFrequencyRatio(channel(a, i, 0), H, W));
      }
    }
    const cont = (outs: Tensor[], which: 'stroke' | 'abstraction') => torch.scope(() => {
      let num = 0, den = 0;
      for (let k = 0; k + 1 < levels.length; k++) {
        const mid = (levels[k]! + levels[k + 1]!) / 2;
        const m = which === 'stroke' ? fn(photos, maps, mid, fixed) : fn(photos, maps, fixed, mid);
        const interp = outs[k]!.add(outs[k + 1]!).div(2);
        num += m.sub(interp).abs().mean().item();
        den += outs[k + 1]!.sub(outs[k]!).abs().mean().item();
      }
      return den > 0 ? num / den : 0;
    });
    const continuity = { stroke: cont(outsS, 'stroke'), abstraction: cont(outsA, 'abstraction') };
    const hue = torch.scope(() => {
      const base = fn(photos, maps, 3, 3);
      return thetas.map((theta) => {
        const r = fn(photos, rotate(maps, theta), 3, 3);
        const { shift } = meanHueShift(r, base);
        return { theta, shift, error: Math.abs(wrapDeg(shift - theta)) };
      });
    });
    const dis = torch.scope(() => {
      const a = fn(photos, maps, 2, 4);
      const b = fn(photos, rotate(maps, 90), 2, 4);
      const c = fn(photos, maps, 4.5, 1.5);
      return {
        maxDeltaLForMapEdit: a.narrow(1, 0, 1).sub(b.narrow(1, 0, 1)).abs().max().item(),
        maxDeltaAbForAlphaEdit: a.narrow(1, 1, 2).sub(c.narrow(1, 1, 2)).abs().max().item(),
      };
    });
    torch.dispose(outsS, outsA);
    const s = pooledSpearman(levels, sw);
    const a = pooledSpearman(levels, hf);
    return {
      levels, strokeWidth: sw, strokeSpearman: s.all, strokeSpearmanPerImage: s.perImage, strokeSpearmanMeanCurve: s.meanCurve,
      hfRatio: hf, abstractionSpearman: a.all, abstractionSpearmanPerImage: a.perImage, abstractionSpearmanMeanCurve: a.meanCurve,
      continuity, hue, disentangle: dis,
    };
  });
}

/**
 * KID (Bińkowski et al. 2018): unbiased MMD² with the cubic polynomial kernel on features of a fixed
 * random CNN (spatially averaged). Not comparable with published FID/KID (no Inception weights).
 */
export function kid(labA: Tensor, labB: Tensor): number {
  const net = new RandomFeatureNet(99);
  try {
    return torch.noGrad(() => torch.scope(() => {
      const fa = net.forward(labA.narrow(1, 0, 1)).mean([2, 3]).to('float64');
      const fb = net.forward(labB.narrow(1, 0, 1)).mean([2, 3]).to('float64');
      const d = fa.shape[1]!;
      const k = (x: Tensor, y: Tensor) => x.matmul(y.t()).div(d).add(1).pow(3);
      const m = fa.shape[0]!, n = fb.shape[0]!;
      if (m < 2 || n < 2) throw new Error(`kid: needs at least 2 images per set, got ${m} and ${n}`);
      const kxx = k(fa, fa), kyy = k(fb, fb), kxy = k(fa, fb);
      const sxx = kxx.sum().sub(kxx.diagonal().sum()).div(m * (m - 1));
      const syy = kyy.sum().sub(kyy.diagonal().sum()).div(n * (n - 1));
      return sxx.add(syy).sub(kxy.mean().mul(2)).item();
    }));
  } finally {
    net.dispose();
  }
}
