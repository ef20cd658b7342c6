// Small raster tools on planar Float32Arrays ([C][H][W], values in [0, 1]): the exact Euclidean
// distance transform, SLIC superpixels (the colour map the colour decoder reads), box blur and
// resizing. Used by the data generator, the classic cartoonizer and the controllability metrics.
import { SEGMENTS_AT_256 } from './config.ts';

export interface Planar {
  data: Float32Array;
  c: number;
  h: number;
  w: number;
}

export function planar(c: number, h: number, w: number): Planar {
  return { data: new Float32Array(c * h * w), c, h, w };
}

/**
 * Exact squared Euclidean distance transform (Felzenszwalb & Huttenlocher 2012): for each pixel the
 * squared distance to the nearest pixel where `feature` is true. Returns the distance (not squared).
 */
export function distanceTransform(feature: Uint8Array, h: number, w: number): Float32Array {
  const INF = 1e20;
  const f = new Float64Array(Math.max(h, w));
  const d = new Float64Array(Math.max(h, w));
  const v = new Int32Array(Math.max(h, w));
  const z = new Float64Array(Math.max(h, w) + 1);
  const grid = new Float64Array(h * w);
  for (let i = 0; i < h * w; i++) grid[i] = feature[i] ? 0 : INF;
  const pass = (n: number, get: (k: number) => number, set: (k: number, x: number) => void) => {
    for (let q = 0; q < n; q++) f[q] = get(q);
    let k = 0;
    v[0] = 0; z[0] = -INF; z[1] = INF;
    for (let q = 1; q < n; q++) {
      let s = ((f[q]! + q * q) - (f[v[k]!]! + v[k]! * v[k]!)) / (2 * q - 2 * v[k]!);
      while (s <= z[k]!) {
        k--;
        s = ((f[q]! + q * q) - (f[v[k]!]! + v[k]! * v[k]!)) / (2 * q - 2 * v[k]!);
      }
      k++;
      v[k] = q; z[k] = s; z[k + 1] = INF;
    }
    k = 0;
    for (let q = 0; q < n; q++) {
      while (z[k + 1]! < q) k++;
      d[q] = (q - v[k]!) * (q - v[k]!) + f[v[k]!]!;
    }
    for (let q = 0; q < n; q++) set(q, d[q]!);
  };
  for (let x = 0; x < w; x++) pass(h, (y) => grid[y * w + x]!, (y, val) => { grid[y * w + x] = val; });
  for (let y = 0; y < h; y++) pass(w, (x) => grid[y * w + x]!, (x, val) => { grid[y * w + x] = val; });
  const out = new Float32Array(h * w);
  for (let i = 0; i < h * w; i++) out[i] = Math.sqrt(grid[i]!);
  return out;
}

/** sRGB (planar, [0, 1]) → CIE Lab per pixel (plain JS, for SLIC and metrics). */
export function rgbToLabPlanar(img: Planar): Planar {
  const n = img.h * img.w;
  const out = planar(3, img.h, img.w);
  const lin = (c: number) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const f = (t: number) => (t > (6 / 29) ** 3 ? Math.cbrt(t) : t / (3 * (6 / 29) ** 2) + 4 / 29);
  for (let i = 0; i < n; i++) {
    const r = lin(img.data[i]!), g = lin(img.data[n + i]!), b = lin(img.data[2 * n + i]!);
    const X = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    const Y = 0.2126729 * r + 0.7151522 * g + 0.072175 * b;
    const Z = (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883;
    const fx = f(X), fy = f(Y), fz = f(Z);
    out.data[i] = 116 * fy - 16;
    out.data[n + i] = 500 * (fx - fy);
    out.data[2 * n + i] = 200 * (fy - fz);
  }
  return out;
}

/**
 * SLIC superpixels (Achanta et al. 2012) on an RGB image: k-means in (Lab, xy) with a local 2S
 * window, `compactness` m, then orphan fragments merged into a neighbour. Returns labels 0..K-1.
 */
export function slic(img: Planar, segments: number, o: { compactness?: number; iterations?: number } = {}): { labels: Int32Array; count: number } {
  const { h, w } = img;
  const n = h * w;
  const lab = rgbToLabPlanar(img);
  const m = o.compactness ?? 10;
  const S = Math.max(1, Math.sqrt(n / Math.max(1, segments)));
  const centres: number[][] = [];
  for (let y = S / 2; y < h; y += S) for (let x = S / 2; x < w; x += S) {
    const xi = Math.min(w - 1, Math.floor(x)), yi = Math.min(h - 1, Math.floor(y));
    const i = yi * w + xi;
    centres.push([lab.data[i]!, lab.data[n + i]!, lab.data[2 * n + i]!, xi, yi]);
  }
  const K = centres.length;
  const labels = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  const ratio = (m / S) ** 2;
  for (let it = 0; it < (o.iterations ?? 8); it++) {
    dist.fill(Infinity);
    for (let k = 0; k < K; k++) {
      const [L, A, B, cx, cy] = centres[k]!;
      const x0 = Math.max(0, Math.floor(cx! - 2 * S)), x1 = Math.min(w - 1, Math.ceil(cx! + 2 * S));
      const y0 = Math.max(0, Math.floor(cy! - 2 * S)), y1 = Math.min(h - 1, Math.ceil(cy! + 2 * S));
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) {
        const i = y * w + x;
        const dl = lab.data[i]! - L!, da = lab.data[n + i]! - A!, db = lab.data[2 * n + i]! - B!;
        const dx = x - cx!, dy = y - cy!;
        const D = dl * dl + da * da + db * db + ratio * (dx * dx + dy * dy);
        if (D < dist[i]!) { dist[i] = D; labels[i] = k; }
      }
    }
    const acc = Array.from({ length: K }, () => [0, 0, 0, 0, 0, 0]);
    for (let i = 0; i < n; i++) {
      const a = acc[labels[i]!]!;
      a[0]! += lab.data[i]!; a[1]! += lab.data[n + i]!; a[2]! += lab.data[2 * n + i]!;
      a[3]! += i % w; a[4]! += Math.floor(i / w); a[5]! += 1;
    }
    for (let k = 0; k < K; k++) {
      const a = acc[k]!;
      if (a[5]! > 0) centres[k] = [a[0]! / a[5]!, a[1]! / a[5]!, a[2]! / a[5]!, a[3]! / a[5]!, a[4]! / a[5]!];
    }
  }
  // connectivity: relabel 4-connected components; small ones (< S²/4) join the previous neighbour
  const out = new Int32Array(n).fill(-1);
  const minSize = Math.max(1, Math.floor((S * S) / 4));
  const stack: number[] = [];
  const comp: number[] = [];
  let next = 0;
  for (let s = 0; s < n; s++) {
    if (out[s] !== -1) continue;
    let adjacent = -1;
    comp.length = 0;
    stack.push(s);
    out[s] = next;
    while (stack.length) {
      const i = stack.pop()!;
      comp.push(i);
      const x = i % w, y = (i - x) / w;
      const nb = [x > 0 ? i - 1 : -1, x < w - 1 ? i + 1 : -1, y > 0 ? i - w : -1, y < h - 1 ? i + w : -1];
      for (const j of nb) {
        if (j < 0) continue;
        if (out[j] === -1 && labels[j] === labels[s]) { out[j] = next; stack.push(j); } else if (out[j] !== -1 && out[j] !== next) adjacent = out[j]!;
      }
    }
    if (comp.length < minSize && adjacent >= 0) for (const i of comp) out[i] = adjacent;
    else next++;
  }
  return { labels: out, count: next };
}

/** Fills each labelled region with its mean colour (the superpixel colour map). */
export function regionMeans(img: Planar, labels: Int32Array, count: number): Planar {
  const n = img.h * img.w;
  const sum = new Float64Array(count * img.c);
  const cnt = new Float64Array(count);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    cnt[l]! += 1;
    for (let c = 0; c < img.c; c++) sum[l * img.c + c]! += img.data[c * n + i]!;
  }
  const out = planar(img.c, img.h, img.w);
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    for (let c = 0; c < img.c; c++) out.data[c * n + i] = sum[l * img.c + c]! / cnt[l]!;
  }
  return out;
}

/** The colour map C (the paper's colour-decoder input): SLIC superpixels filled with their mean colour [recon]. */
export function colourMap(img: Planar, segments: number): Planar {
  const { labels, count } = slic(img, segments);
  return regionMeans(img, labels, count);
}

/** Number of SLIC segments for an image, scaled from 200 at 256 px (config.ts SEGMENTS_AT_256; 60 at 64 px) [recon]. */
export function defaultSegments(h: number, w: number): number {
  return Math.max(20, Math.round(SEGMENTS_AT_256 * Math.sqrt((h * w) / (256 * 256)) * (h * w < 100 * 100 ? 1.2 : 1)));
}

/** Bilinear resize of a planar image (align corners false, as F.interpolate). */
export function resize(img: Planar, h: number, w: number): Planar {
  const out = planar(img.c, h, w);
  const sy = img.h / h, sx = img.w / w;
  for (let y = 0; y < h; y++) {
    const fy = Math.min(img.h - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(img.h - 1, y0 + 1), wy = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(img.w - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(img.w - 1, x0 + 1), wx = fx - x0;
      for (let c = 0; c < img.c; c++) {
        const base = c * img.h * img.w;
        const v = (1 - wy) * ((1 - wx) * img.data[base + y0 * img.w + x0]! + wx * img.data[base + y0 * img.w + x1]!)
          + wy * ((1 - wx) * img.data[base + y1 * img.w + x0]! + wx * img.data[base + y1 * img.w + x1]!);
        out.data[c * h * w + y * w + x] = v;
      }
    }
  }
  return out;
}

export function crop(img: Planar, y: number, x: number, h: number, w: number): Planar {
  const out = planar(img.c, h, w);
  for (let c = 0; c < img.c; c++) for (let r = 0; r < h; r++) {
    const src = c * img.h * img.w + (y + r) * img.w + x;
    out.data.set(img.data.subarray(src, src + w), c * h * w + r * w);
  }
  return out;
}

/** Separable Gaussian blur of a planar image (edge-clamped). */
export function blurPlanar(img: Planar, sigma: number): Planar {
  if (sigma <= 0) return img;
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const ks = k.reduce((a, b) => a + b, 0);
  const { c, h, w } = img;
  const tmp = new Float32Array(c * h * w), out = planar(c, h, w);
  for (let ch = 0; ch < c; ch++) {
    const o = ch * h * w;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      let s = 0;
      for (let d = -r; d <= r; d++) s += k[d + r]! * img.data[o + y * w + Math.min(w - 1, Math.max(0, x + d))]!;
      tmp[o + y * w + x] = s / ks;
    }
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
      let s = 0;
      for (let d = -r; d <= r; d++) s += k[d + r]! * tmp[o + Math.min(h - 1, Math.max(0, y + d)) * w + x]!;
      out.data[o + y * w + x] = s / ks;
    }
  }
  return out;
}
