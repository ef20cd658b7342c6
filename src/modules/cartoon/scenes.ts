// [ours] The procedural photo/cartoon generator with known answers: every scene is rendered as a
// "photo" (textured, shaded, noisy) and as flat cartoons at any outline width and abstraction level,
// so paired targets exist for every (α_s, α_a). Also the per-level resolution ratios of the paper's
// target cartoons (config.ts TARGET_SIDES_256), which set the outline widths here and the critic's
// target resolution in data.ts.
import { Rng } from '../../core/rng.ts';
import { blurPlanar, colourMap, defaultSegments, distanceTransform, planar, type Planar } from './raster.ts';
import { LEVELS, SCENE_SIZE, TARGET_SIDES_256 } from './config.ts';

/** Target side for level k (1-based) for patches of `size` px (same ratios, scaled down). */
export function targetSide(k: number, size: number): number {
  return Math.round((TARGET_SIDES_256[k - 1]! / 256) * size);
}
/** Resolution ratio of level k: how much thicker strokes look in a fixed-size window. */
export function levelRatio(k: number): number {
  return TARGET_SIDES_256[k - 1]! / 256;
}

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
  /** the superpixel colour map of the photo (the colour decoder's input) */
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

type RGB = [number, number, number];
/** A scene's layout: horizon, sky gradient and ground colours, and the shapes painted over them. */
interface Layout { size: number; horizon: number; skyTop: RGB; skyBot: RGB; ground: RGB; shapes: Shape[] }

/** Draws a random layout: 4–9 ellipses and polygons, half of them small, over sky and ground. */
function drawLayout(rng: Rng, size: number): Layout {
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
  return { size, horizon, skyTop, skyBot, ground, shapes };
}

/**
 * Paints the photo over the full label map: sky gradient, textured ground, textured and shaded
 * shapes, sensor noise. Also returns `base`, the untextured colour of each pixel (the cartoon fills' source).
 */
function paintPhoto(rng: Rng, l: Layout, full: Int32Array): { photo: Planar; base: Planar } {
  const { size, horizon, skyTop, skyBot, ground, shapes } = l;
  const n = size * size;
  const noiseA = valueNoise(rng, size, Math.max(2, size / 8), 3);
  const noiseB = valueNoise(rng, size, Math.max(1, size / 16), 2);
  const base = planar(3, size, size), photo = planar(3, size, size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) {
    const p = y * size + x;
    const lab = full[p]!;
    let col: RGB;
    let tex = 0;
    if (lab === 0) {
      const t = Math.min(1, (y + 0.5) / horizon);
      col = [0, 1, 2].map((c) => skyTop[c]! * (1 - t) + skyBot[c]! * t) as RGB;
      tex = 0.03 * noiseA[p]!;
    } else if (lab === 1) {
      col = ground;
      tex = 0.35 * noiseB[p]! + 0.1 * noiseA[p]!;
    } else {
      const s = shapes[lab - 2]!;
      const shade = 1 + s.shade * ((y - s.cy) / Math.max(1, s.ry));
      col = s.colour.map((c) => c * shade) as RGB;
      tex = s.texture * (lab % 2 ? noiseA[p]! : noiseB[p]!);
    }
    for (let c = 0; c < 3; c++) {
      base.data[c * n + p] = Math.min(1, Math.max(0, col[c]!));
      const v = col[c]! * (1 + tex) + 0.015 * rng.normal();
      photo.data[c * n + p] = Math.min(1, Math.max(0, v));
    }
  }
  return { photo, base };
}

/** Flat fill of abstraction level k+1: region means of the untextured colour, plus a fraction of the photo's texture. */
function levelFill(k: number, lab: Int32Array, full: Int32Array, regions: number, photo: Planar, base: Planar): Planar {
  const n = photo.h * photo.w;
  const cnt = new Float64Array(regions), sum = new Float64Array(regions * 3);
  for (let p = 0; p < n; p++) { cnt[lab[p]!]! += 1; for (let c = 0; c < 3; c++) sum[lab[p]! * 3 + c]! += base.data[c * n + p]!; }
  const fill = planar(3, photo.h, photo.w);
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
  return fill;
}

/** Generates one scene: photo, colour map, and everything needed to render its cartoons. */
export function makeScene(rng: Rng, size = SCENE_SIZE, segments = defaultSegments(size, size)): Scene {
  const n = size * size;
  const layout = drawLayout(rng, size);
  const { horizon, shapes } = layout;
  const full = labelMap(size, horizon, shapes, () => true);
  for (let i = 0; i < shapes.length; i++) {
    let a = 0;
    for (let p = 0; p < n; p++) if (full[p] === 2 + i) a++;
    shapes[i]!.area = a / n;
  }
  const { photo, base } = paintPhoto(rng, layout, full);
  const labels: Int32Array[] = [], boundaryDist: Float32Array[] = [], fills: Planar[] = [];
  for (let k = 0; k < LEVELS; k++) {
    const lab = k === 0 ? full : labelMap(size, horizon, shapes, (s) => s.area >= ABSTRACTION_MIN_AREA[k]!);
    labels.push(lab);
    boundaryDist.push(boundaryDistance(lab, size, size));
    fills.push(levelFill(k, lab, full, shapes.length + 2, photo, base));
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
