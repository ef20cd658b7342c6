// Training data for CARTOONER: batches of photos, colour maps, real cartoons at the level's target
// resolution (config.ts TARGET_SIDES_256) and, on synthetic data, paired targets; from the
// procedural generator (scenes.ts) or from folders of user photos and cartoons (PNG/JPEG via sharp).
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { readImage } from '../../core/io/image.ts';
import { Rng } from '../../core/rng.ts';
import { blurPlanar, colourMap, crop, defaultSegments, planar, resize, type Planar } from './raster.ts';
import { lineWidth, makeScene, renderCartoon, targetSide, type Scene } from './scenes.ts';
import { TRAIN } from './config.ts';

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

/** A random `size`-px crop of `img` after resizing its shorter side to `side` (the level's target resolution). */
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
  /** [ours] draw augmentPhoto for every photo of a batch (default: config.ts TRAIN.augment, off) */
  readonly augment: boolean;
  constructor(readonly size: number, count: number, seed: number, o: { augment?: boolean } = {}) {
    const rng = new Rng(seed);
    this.scenes = Array.from({ length: count }, () => makeScene(rng, size));
    this.augment = o.augment ?? TRAIN.augment;
  }
  batch(rng: Rng, n: number, o: { level: number; ks: number; ka: number }): Batch {
    const pick = Array.from({ length: n }, () => this.scenes[rng.int(0, this.scenes.length)]!);
    const inputs = pick.map((s) => (this.augment ? augmentPhoto(rng, s.photo, s.map) : { photo: s.photo, map: s.map }));
    // real cartoons: the level-1 cartoon (base width, base abstraction) of *other* scenes, resized to
    // the level's target side and cropped, so the critic sees strokes thicken with the level
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
