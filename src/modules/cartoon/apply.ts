// Inference: read a photo (PNG/JPEG/... via sharp), build or read its colour map, optionally rotate
// its hue, run CARTOONER (or the classic cartoonizer) at texture level (α_s, α_a), write PNG/JPEG.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { readImage, writeImage } from '../../core/io/image.ts';
import { labToRgb, rotateHue } from './color.ts';
import { colourMap, defaultSegments } from './raster.ts';
import { planarToTensor, tensorToPlanar } from './data.ts';
import { classicCartoon } from './classic.ts';
import { loadModel, type ModelInfo } from './train.ts';
import type { Cartooner } from './model.ts';
import { APPLY } from './config.ts';

/** The small model shipped with the package (trained on the procedural generator; see README). */
export const SHIPPED_MODEL = fileURLToPath(new URL('./assets/cartooner-small.safetensors', import.meta.url));

/** Reads a photo as sRGB [1, 3, H, W], longer side fitted to maxSide, H and W rounded down to even. */
export async function readPhoto(file: string, maxSide?: number): Promise<Tensor> {
  // only shrink: a photo already within maxSide keeps its size
  let fit = maxSide;
  if (maxSide && fs.existsSync(file)) {
    try {
      const m = await sharp(file).metadata();
      if (m.width && m.height && Math.max(m.width, m.height) <= maxSide) fit = undefined;
    } catch { /* readImage reports undecodable files with the file name */ }
  }
  const t = await readImage(file, { channels: 3, maxSide: fit });
  return torch.scope(() => {
    const [, h, w] = t.shape as [number, number, number];
    if (h < 2 || w < 2) throw new Error(`${file}: image is ${w}×${h}, too small`);
    const out = t.narrow(1, 0, h - (h % 2)).narrow(2, 0, w - (w % 2)).unsqueeze(0).contiguous();
    t.dispose();
    return out;
  });
}

/** The superpixel colour map of a photo [1, 3, H, W] (SLIC, mean colour per segment). */
export function photoColourMap(photo: Tensor, segments?: number): Tensor {
  const p = tensorToPlanar(photo);
  return planarToTensor([colourMap(p, segments ?? defaultSegments(p.h, p.w))]);
}

/** Reads a user colour map and resizes it to the photo. */
export async function readColourMap(file: string, photo: Tensor): Promise<Tensor> {
  const t = await readImage(file, { channels: 3, width: photo.shape[3]!, height: photo.shape[2]! });
  const out = t.unsqueeze(0);
  t.dispose();
  return out;
}

export interface Cartoonizer {
  readonly kind: 'model' | 'classic';
  readonly info?: ModelInfo;
  readonly model?: Cartooner;
  /** photo and map sRGB [N, 3, H, W] → Lab [N, 3, H, W] */
  lab(photo: Tensor, map: Tensor, alphaS: number, alphaA: number): Tensor;
  dispose(): void;
}

export function openCartoonizer(o: { checkpoint?: string; classic?: boolean }): Cartoonizer {
  if (o.classic) {
    return { kind: 'classic', lab: (p, m, s, a) => classicCartoon(p, m, s, a), dispose() {} };
  }
  const file = o.checkpoint || SHIPPED_MODEL;
  if (!o.checkpoint && !fs.existsSync(file)) throw new Error(`the shipped model ${file} is missing; pass --checkpoint or --classic`);
  const { model, info } = loadModel(file);
  return {
    kind: 'model', info, model,
    lab: (p, m, s, a) => torch.noGrad(() => model.forward(p, m, s, a).lab),
    dispose: () => model.dispose(),
  };
}

/** Controls of one cartoonization; absent fields take the defaults of `cartoon apply` (config.ts APPLY). */
export interface ApplyOptions {
  /** stroke thickness α_s ∈ [1, 5] */
  stroke?: number;
  /** abstraction α_a ∈ [1, 5] */
  abstraction?: number;
  /** rotate the colour map's hue by this many degrees */
  hueShift?: number;
  /** an edited colour map image (default: SLIC superpixels of the photo) */
  colourMap?: string;
  /** SLIC segments of the colour map (default: raster.ts defaultSegments) */
  segments?: number;
  /** shrink so the longer side is at most this (Infinity: keep the size) */
  maxSide?: number;
}

function checkLevel(name: string, v: number): void {
  if (!Number.isFinite(v)) throw new Error(`${name} must be a finite number in [1, 5], got ${v}`);
}

/** Cartoonizes one image file into `output` (PNG or JPEG by extension). Returns the output sRGB. */
export async function applyFile(cz: Cartoonizer, input: string, output: string, options: ApplyOptions = {}): Promise<{ width: number; height: number }> {
  const o = {
    ...options, stroke: options.stroke ?? APPLY.stroke, abstraction: options.abstraction ?? APPLY.abstraction,
    hueShift: options.hueShift ?? APPLY.hueShift, maxSide: options.maxSide ?? APPLY.maxSide,
  };
  checkLevel('stroke', o.stroke);
  checkLevel('abstraction', o.abstraction);
  if (!Number.isFinite(o.hueShift)) throw new Error(`hue-shift must be a finite number of degrees, got ${o.hueShift}`);
  const photo = await readPhoto(input, o.maxSide);
  let map: Tensor | null = null;
  try {
    map = o.colourMap ? await readColourMap(o.colourMap, photo) : photoColourMap(photo, o.segments);
    const rgb = torch.scope(() => {
      const m = o.hueShift ? rotateHue(map!, o.hueShift) : map!;
      return labToRgb(cz.lab(photo, m, o.stroke, o.abstraction));
    });
    fs.mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
    await writeImage(output, rgb);
    rgb.dispose();
    return { width: photo.shape[3]!, height: photo.shape[2]! };
  } finally {
    photo.dispose();
    map?.dispose();
  }
}
