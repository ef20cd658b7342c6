// Training data for CARTOONER: the procedural photo/cartoon generator of §A.9 (known answers:
// every scene can be rendered as a "photo" and as a flat cartoon with a chosen outline width and
// abstraction), folders of user photos and cartoons (PNG/JPEG via sharp), and the per-level target
// resolutions of §A.3.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { readImage } from '../../core/io/image.ts';
import { Rng } from '../../core/rng.ts';
import { colourMap, crop, defaultSegments, distanceTransform, planar, resize, type Planar } from './raster.ts';

export const LEVELS = 5;
/** §A.3 [paper]: target side per texture level at 256-px scale. */
export const TARGET_SIDES_256 = [256, 320, 416, 544, 800];
/** Target side for level k (1-based) for patches of `size` px (same ratios, scaled down). */
export function targetSide(k: number, size: number): number {
  return Math.round((TARGET_SIDES_256[k - 1]! / 256) * size);
}
/** Resolution ratio of level k: how much thicker strokes look in a fixed-size window. */
export function levelRatio(k: number): number {
  return TARGET_SIDES_256[k - 1]! / 256;
}

// ------------------------------------------------------------------ procedural scenes
interface Shape {
  kind: 'ellipse' | 'polygon';
  cx: number; cy: number; rx: number; ry: number; angle: number;
  verts: [number, number][];
  colour: [number, number, number];
  texture: number; // amplitude of the noise texture in the photo
  shade: number;   // vertical shading gradient in the photo
  area: number;    // fraction of the image
}

export interface Scene {
  size: number;
  /** the photo, planar RGB in [0, 1] */
  photo: Planar;
  /** the superpixel colour map of the photo (§A.4) */
  map: Planar;
  /** per abstraction level (index k−1): region labels, distance to the nearest region boundary, flat fill */
  labels: Int32Array[];
  boundaryDist: Float32Array[];
  fills: Planar[];
}

/** Abstraction per level [ours]: regions smaller than this fraction of the image are merged away. */
export const ABSTRACTION_MIN_AREA = [0, 0.006, 0.015, 0.03, 0.06];
/** Abstraction per level [ours]: fraction of the photo's texture the cartoon keeps. */
export const ABSTRACTION_TEXTURE = [0.6, 0.35, 0.15, 0.05, 0];
/** Abstraction per level [ours]: Gaussian softening σ (px at 64 px) of the finished cartoon. */
export const ABSTRACTION_SOFTEN = [0, 0.4, 0.6, 0.8, 1.0];

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
/** Outline width at level 1, in pixels at 64 px; level k uses base · levelRatio(k). */
export const BASE_LINE_WIDTH_64 = 1.5;

function hsv(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6) % 6, f = h * 6 - Math.floor(h * 6);
  const p = v * (1 - s), q = v * (1 - f * s), t = v * (1 - (1 - f) * s);
  return ([[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]] as const)[i]!.slice() as [number, number, number];
}

/** Value noise with `octaves` octaves on a lattice of cell `cell` px, values in about [−1, 1]. */
function valueNoise(rng: Rng, size: number, cell: number, octaves = 3): Float32Array {
  const out = new Float32Array(size * size);
  let amp = 1, c = cell, norm = 0;
  for (let o = 0; o < octaves; o++) {
    const g = Math.ceil(size / c) + 2;
    const lat = Float32Array.from({ length: g * g }, () => rng.random() * 2 - 1);
    for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
      const fx = x / c, fy = y / c;
      const x0 = Math.floor(fx), y0 = Math.floor(fy);
      const sx = (fx - x0) * (fx - x0) * (3 - 2 * (fx - x0)), sy = (fy - y0) * (fy - y0) * (3 - 2 * (fy - y0));
      const v00 = lat[y0 * g + x0]!, v01 = lat[y0 * g + x0 + 1]!, v10 = lat[(y0 + 1) * g + x0]!, v11 = lat[(y0 + 1) * g + x0 + 1]!;
      out[y * size + x]! += amp * ((1 - sy) * ((1 - sx) * v00 + sx * v01) + sy * ((1 - sx) * v10 + sx * v11));
    }
    norm += amp; amp *= 0.5; c = Math.max(1, c / 2);
  }
  for (let i = 0; i < out.length; i++) out[i]! /= norm;
  return out;
}

function inside(s: Shape, x: number, y: number): boolean {
  if (s.kind === 'ellipse') {
    const dx = x - s.cx, dy = y - s.cy;
    const c = Math.cos(s.angle), sn = Math.sin(s.angle);
    const u = (dx * c + dy * sn) / s.rx, v = (-dx * sn + dy * c) / s.ry;
    return u * u + v * v <= 1;
  }
  let odd = false;
  const vs = s.verts;
  for (let i = 0, j = vs.length - 1; i < vs.length; j = i++) {
    const [xi, yi] = vs[i]!, [xj, yj] = vs[j]!;
    if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) odd = !odd;
  }
  return odd;
}

/** Region labels: 0 sky, 1 ground, 2 + i shape i (painted in order); shapes failing `keep` are skipped. */
function labelMap(size: number, horizon: number, shapes: Shape[], keep: (s: Shape) => boolean): Int32Array {
  const lab = new Int32Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    let l = y + 0.5 < horizon ? 0 : 1;
    for (let i = 0; i < shapes.length; i++) if (keep(shapes[i]!) && inside(shapes[i]!, x + 0.5, y + 0.5)) l = 2 + i;
    lab[y * size + x] = l;
  }
  return lab;
}

/** Distance (px) from each pixel to the nearest region boundary (pixels with a right/down neighbour of another label). */
export function boundaryDistance(labels: Int32Array, h: number, w: number): Float32Array {
  const b = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const i = y * w + x;
    if ((x < w - 1 && labels[i + 1] !== labels[i]) || (y < h - 1 && labels[i + w] !== labels[i])) b[i] = 1;
  }
  return distanceTransform(b, h, w);
}

/** Generates one scene: photo, colour map, and everything needed to render its cartoons. */
export function makeScene(rng: Rng, size = 64, segments = defaultSegments(size, size)): Scene {
  const n = size * size;
  const horizon = size * (0.3 + 0.3 * rng.random());
  const skyTop = hsv(0.5 + 0.2 * rng.random(), 0.3 + 0.5 * rng.random(), 0.6 + 0.4 * rng.random());
  const skyBot = hsv(rng.random() < 0.3 ? 0.05 + 0.1 * rng.random() : 0.5 + 0.15 * rng.random(), 0.1 + 0.4 * rng.random(), 0.8 + 0.2 * rng.random());
  const ground = hsv(0.05 + 0.35 * rng.random(), 0.3 + 0.6 * rng.random(), 0.3 + 0.5 * rng.random());
  const shapes: Shape[] = [];
  const count = 4 + rng.int(0, 6);
  for (let i = 0; i < count; i++) {
    const small = rng.random() < 0.5;
    const r = size * (small ? 0.03 + 0.05 * rng.random() : 0.1 + 0.15 * rng.random());
    const cx = size * rng.random(), cy = size * (0.15 + 0.8 * rng.random());
    const kind = rng.random() < 0.5 ? 'ellipse' : 'polygon';
    const rx = r * (0.6 + 0.8 * rng.random()), ry = r * (0.6 + 0.8 * rng.random());
    const nv = 3 + rng.int(0, 5);
    const verts: [number, number][] = [];
    for (let k = 0; k < nv; k++) {
      const a = ((k + 0.3 * rng.random()) / nv) * 2 * Math.PI;
      const rr = r * (0.7 + 0.5 * rng.random());
      verts.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
    }
    shapes.push({
      kind, cx, cy, rx, ry, angle: Math.PI * rng.random(), verts,
      colour: hsv(rng.random(), 0.35 + 0.6 * rng.random(), 0.25 + 0.7 * rng.random()),
      texture: 0.1 + 0.25 * rng.random(), shade: (rng.random() - 0.5) * 0.4, area: 0,
    });
  }
  const full = labelMap(size, horizon, shapes, () => true);
  for (let i = 0; i < shapes.length; i++) {
    let a = 0;
    for (let p = 0; p < n; p++) if (full[p] === 2 + i) a++;
    shapes[i]!.area = a / n;
  }
  // photo: sky gradient, textured ground, textured and shaded shapes, sensor noise
  const noiseA = valueNoise(rng, size, Math.max(2, size / 8), 3);
  const noiseB = valueNoise(rng, size, Math.max(1, size / 16), 2);
  const base = planar(3, size, size); // the untextured colour of each pixel (cartoon fill source)
  const photo = planar(3, size, size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const p = y * size + x;
    const l = full[p]!;
    let col: [number, number, number];
    let tex = 0;
    if (l === 0) {
      const t = Math.min(1, (y + 0.5) / horizon);
      col = [0, 1, 2].map((c) => skyTop[c]! * (1 - t) + skyBot[c]! * t) as [number, number, number];
      tex = 0.03 * noiseA[p]!;
    } else if (l === 1) {
      col = ground;
      tex = 0.35 * noiseB[p]! + 0.1 * noiseA[p]!;
    } else {
      const s = shapes[l - 2]!;
      const shade = 1 + s.shade * ((y - s.cy) / Math.max(1, s.ry));
      col = s.colour.map((c) => c * shade) as [number, number, number];
      tex = s.texture * (l % 2 ? noiseA[p]! : noiseB[p]!);
    }
    for (let c = 0; c < 3; c++) {
      base.data[c * n + p] = Math.min(1, Math.max(0, col[c]!));
      const v = col[c]! * (1 + tex) + 0.015 * rng.normal();
      photo.data[c * n + p] = Math.min(1, Math.max(0, v));
    }
  }
  const labels: Int32Array[] = [], boundaryDist: Float32Array[] = [], fills: Planar[] = [];
  for (let k = 0; k < LEVELS; k++) {
    const lab = k === 0 ? full : labelMap(size, horizon, shapes, (s) => s.area >= ABSTRACTION_MIN_AREA[k]!);
    labels.push(lab);
    boundaryDist.push(boundaryDistance(lab, size, size));
    // flat fill: region mean of the untextured colour, plus a fraction of the photo's texture
    const cnt = new Float64Array(shapes.length + 2), sum = new Float64Array((shapes.length + 2) * 3);
    for (let p = 0; p < n; p++) { cnt[lab[p]!]! += 1; for (let c = 0; c < 3; c++) sum[lab[p]! * 3 + c]! += base.data[c * n + p]!; }
    const fill = planar(3, size, size);
    const keepTex = ABSTRACTION_TEXTURE[k]!;
    for (let p = 0; p < n; p++) {
      const l = lab[p]!;
      for (let c = 0; c < 3; c++) {
        // the sky keeps its gradient (a cartoon sky is a smooth gradient); regions are flat
        const flat = l === 0 ? base.data[c * n + p]! : sum[l * 3 + c]! / cnt[l]!;
        const v = flat + (l === full[p] ? keepTex * (photo.data[c * n + p]! - base.data[c * n + p]!) : 0);
        fill.data[c * n + p] = Math.min(1, Math.max(0, v));
      }
    }
    fills.push(fill);
  }
  return { size, photo, map: colourMap(photo, segments), labels, boundaryDist, fills };
}

/** Outline colour of the procedural cartoons. */
const INK = [0.08, 0.07, 0.1];

/**
 * Renders a scene as a cartoon at abstraction level `ka` with outlines `width` px wide
 * (anti-aliased: coverage = clamp(width/2 + 0.5 − d, 0, 1), d the boundary distance).
 */
export function renderCartoon(scene: Scene, ka: number, width: number): Planar {
  const k = Math.min(LEVELS, Math.max(1, Math.round(ka))) - 1;
  const n = scene.size * scene.size;
  const fill = scene.fills[k]!, d = scene.boundaryDist[k]!;
  const out = planar(3, scene.size, scene.size);
  for (let p = 0; p < n; p++) {
    const cov = Math.min(1, Math.max(0, width / 2 + 0.5 - d[p]!));
    for (let c = 0; c < 3; c++) out.data[c * n + p] = fill.data[c * n + p]! * (1 - cov) + INK[c]! * cov;
  }
  return blurPlanar(out, ABSTRACTION_SOFTEN[k]! * (scene.size / 64));
}

/** Outline width (px) of stroke level ks for `size`-px scenes: base · levelRatio(ks). */
export function lineWidth(ks: number, size: number): number {
  const lo = Math.floor(ks), hi = Math.min(LEVELS, lo + 1), w = ks - lo;
  const r = (1 - w) * levelRatio(lo) + w * levelRatio(hi);
  return BASE_LINE_WIDTH_64 * (size / 64) * r;
}

export function planarToTensor(imgs: Planar[]): Tensor {
  if (imgs.length === 0) throw new Error('planarToTensor: empty batch');
  const { c, h, w } = imgs[0]!;
  const buf = new Float32Array(imgs.length * c * h * w);
  imgs.forEach((im, i) => {
    if (im.c !== c || im.h !== h || im.w !== w) throw new Error(`planarToTensor: image ${i} is ${im.c}×${im.h}×${im.w}, expected ${c}×${h}×${w}`);
    buf.set(im.data, i * c * h * w);
  });
  return torch.tensor(buf, { shape: [imgs.length, c, h, w] });
}

export function tensorToPlanar(t: Tensor): Planar {
  const x = t.ndim === 4 ? t.select(0, 0) : t;
  const [c, h, w] = x.shape as [number, number, number];
  const data = torch.noGrad(() => torch.scope(() => x.detach().to('float32').contiguous().toTypedArray())) as Float32Array;
  if (x !== t) x.dispose();
  return { data: Float32Array.from(data), c, h, w };
}

/** A random `size`-px crop of `img` after resizing its shorter side to `side` (target resolution of §A.3). */
export function levelCrop(rng: Rng, img: Planar, side: number, size: number): Planar {
  const s = side / Math.min(img.h, img.w);
  const h = Math.max(size, Math.round(img.h * s)), w = Math.max(size, Math.round(img.w * s));
  const r = h === img.h && w === img.w ? img : resize(img, h, w);
  return crop(r, rng.int(0, h - size + 1), rng.int(0, w - size + 1), size, size);
}

// ------------------------------------------------------------------ batches
export interface Batch {
  /** photos, sRGB [N, 3, S, S] */
  photo: Tensor;
  /** superpixel colour maps of the photos [N, 3, S, S] */
  map: Tensor;
  /** real cartoons for the adversarial loss at the batch's texture level [N, 3, S, S] */
  real: Tensor;
  /** paired cartoon targets (synthetic data only) at (ks, ka) [N, 3, S, S] */
  paired: Tensor | null;
}

export interface CartoonSource {
  readonly size: number;
  readonly paired: boolean;
  /** level: the resolution level of the real cartoons; ks/ka: the paired target's stroke/abstraction */
  batch(rng: Rng, n: number, o: { level: number; ks: number; ka: number }): Batch;
}

/**
 * [ours] Photo-side augmentation of the procedural pool. The procedural photos have step edges, flat
 * lighting and little noise; real photos have soft (defocused, downscaled) edges, other contrast and
 * gamma, and sensor noise. Each sample draws a Gaussian blur (σ up to 1.2 px at 64 px, p = 0.6), a
 * contrast/gamma/brightness change (applied to the colour map as well, so the map still matches the
 * photo's colours) and additive noise. The cartoon targets are untouched: they are rendered from the
 * scene's regions, so the model learns to put the outlines on soft edges too.
 */
export function augmentPhoto(rng: Rng, photo: Planar, map: Planar): { photo: Planar; map: Planar } {
  const sigma = rng.random() < 0.6 ? (0.3 + 0.9 * rng.random()) * (photo.h / 64) : 0;
  const contrast = 0.7 + 0.5 * rng.random();
  const gamma = Math.exp((rng.random() - 0.5) * 0.6);
  const bright = (rng.random() - 0.5) * 0.15;
  const noise = 0.03 * rng.random();
  const tone = (v: number) => Math.min(1, Math.max(0, (Math.pow(Math.max(0, v), gamma) - 0.5) * contrast + 0.5 + bright));
  const b = blurPlanar(photo, sigma);
  const p = planar(photo.c, photo.h, photo.w), m = planar(map.c, map.h, map.w);
  for (let i = 0; i < p.data.length; i++) p.data[i] = Math.min(1, Math.max(0, tone(b.data[i]!) + noise * rng.normal()));
  for (let i = 0; i < m.data.length; i++) m.data[i] = tone(map.data[i]!);
  return { photo: p, map: m };
}

/** The procedural generator as a training source (a fixed pool of scenes, sampled with replacement). */
export class SyntheticSource implements CartoonSource {
  readonly paired = true;
  readonly scenes: Scene[];
  /** [ours] draw augmentPhoto for every photo of a batch (off by default) */
  readonly augment: boolean;
  constructor(readonly size: number, count: number, seed: number, o: { augment?: boolean } = {}) {
    const rng = new Rng(seed);
    this.scenes = Array.from({ length: count }, () => makeScene(rng, size));
    this.augment = o.augment ?? false;
  }
  batch(rng: Rng, n: number, o: { level: number; ks: number; ka: number }): Batch {
    const pick = Array.from({ length: n }, () => this.scenes[rng.int(0, this.scenes.length)]!);
    const inputs = pick.map((s) => (this.augment ? augmentPhoto(rng, s.photo, s.map) : { photo: s.photo, map: s.map }));
    // real cartoons: the level-1 cartoon (base width, base abstraction) of *other* scenes, resized to
    // the level's target side and cropped (§A.3), so the critic sees strokes thicken with the level
    const reals = Array.from({ length: n }, () => {
      const s = this.scenes[rng.int(0, this.scenes.length)]!;
      return levelCrop(rng, renderCartoon(s, 1, lineWidth(1, this.size)), targetSide(o.level, this.size), this.size);
    });
    return {
      photo: planarToTensor(inputs.map((x) => x.photo)),
      map: planarToTensor(inputs.map((x) => x.map)),
      real: planarToTensor(reals),
      paired: planarToTensor(pick.map((s) => renderCartoon(s, o.ka, lineWidth(o.ks, this.size)))),
    };
  }
}

const IMAGE_EXT = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff']);
export function listImages(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: not a folder of images`);
  const files = fs.readdirSync(dir).filter((f) => IMAGE_EXT.has(path.extname(f).toLowerCase())).sort().map((f) => path.join(dir, f));
  if (files.length === 0) throw new Error(`${dir}: no PNG/JPEG images found`);
  return files;
}

export async function loadPlanar(file: string, maxSide?: number): Promise<Planar> {
  const t = await readImage(file, { channels: 3, maxSide });
  const p = tensorToPlanar(t);
  t.dispose();
  return p;
}

/** Folders of the user's photos and cartoons (unpaired), read with sharp. Colour maps by SLIC per crop. */
export class FolderSource implements CartoonSource {
  readonly paired = false;
  private constructor(readonly size: number, readonly photos: Planar[], readonly cartoons: Planar[]) {}
  static async open(photoDir: string, cartoonDir: string, size: number, workSide = size * 2): Promise<FolderSource> {
    const load = async (files: string[]) => {
      const out: Planar[] = [];
      for (const f of files) {
        const img = await loadPlanar(f, workSide);
        if (img.h < size || img.w < size) throw new Error(`${f}: image is ${img.w}×${img.h}, smaller than the ${size}-px training patch`);
        out.push(img);
      }
      return out;
    };
    return new FolderSource(size, await load(listImages(photoDir)), await load(listImages(cartoonDir)));
  }
  batch(rng: Rng, n: number, o: { level: number }): Batch {
    const photos: Planar[] = [], maps: Planar[] = [], reals: Planar[] = [];
    for (let i = 0; i < n; i++) {
      const p = this.photos[rng.int(0, this.photos.length)]!;
      const c = crop(p, rng.int(0, p.h - this.size + 1), rng.int(0, p.w - this.size + 1), this.size, this.size);
      photos.push(c);
      maps.push(colourMap(c, defaultSegments(this.size, this.size)));
      const cart = this.cartoons[rng.int(0, this.cartoons.length)]!;
      reals.push(levelCrop(rng, cart, targetSide(o.level, this.size), this.size));
    }
    return { photo: planarToTensor(photos), map: planarToTensor(maps), real: planarToTensor(reals), paired: null };
  }
}
