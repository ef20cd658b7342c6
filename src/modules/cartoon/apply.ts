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
import { APPLY, OUTPUT_DEPTHS, type OutputDepth } from './config.ts';
import { writeFileAtomic } from '../../core/io/atomic.ts';

/** The small model shipped with the package (trained on the procedural generator; see README). */
export const SHIPPED_MODEL = fileURLToPath(new URL('./assets/cartooner-small.safetensors', import.meta.url));

/**
 * The longer-side bound that brings a w×h photo within `maxSide` and the pixel budget `maxPixels`
 * (only shrinking, aspect kept), with the reason in words; null when the photo fits as it is.
 */
export function fitBound(w: number, h: number, o: { maxSide?: number; maxPixels?: number }): { side: number; reason: string } | null {
  const long = Math.max(w, h);
  let side = long;
  const why: string[] = [];
  if (o.maxSide && long > o.maxSide) { side = o.maxSide; why.push(`--max-side ${o.maxSide}`); }
  if (o.maxPixels && w * h > o.maxPixels) {
    const s = Math.floor(long * Math.sqrt(o.maxPixels / (w * h)));
    if (s < side) { side = s; why.splice(0, why.length, `pixel budget ${+(o.maxPixels / 1e6).toPrecision(3)} MP`); }
  }
  return side < long ? { side, reason: why.join(', ') } : null;
}

/** Width and height from the file header, or null when sharp cannot read it (readImage then reports it with the file name). */
export async function imageSize(file: string): Promise<{ width: number; height: number } | null> {
  if (!fs.existsSync(file)) return null;
  try {
    const m = await sharp(file).metadata();
    return m.width && m.height ? { width: m.width, height: m.height } : null;
  } catch { return null; }
}

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
  /** also shrink so the longer side is at most this (default: none) */
  maxSide?: number;
  /** pixel budget: a larger photo is scaled down to fit it (default APPLY.maxPixels, 4 MP) */
  maxPixels?: number;
  /** '8' (PNG/JPEG by extension, the default), '16' (16-bit PNG) or 'float' (.npy float32 [H, W, 3]) */
  depth?: OutputDepth;
  /** also write the photo as it was cartoonized (after any scaling) to this 8-bit PNG: the run's own copy of its input */
  photoOut?: string;
}

/** The extensions each output depth accepts. */
export const DEPTH_EXTENSIONS: Record<OutputDepth, RegExp> = { '8': /\.(png|jpe?g)$/i, '16': /\.png$/i, float: /\.npy$/i };

/** sRGB [1, 3, H, W] or [3, H, W] → HWC float32 values clamped to [0, 1]. */
function hwcFloat32(rgb: Tensor): { data: Float32Array; width: number; height: number } {
  return torch.noGrad(() => torch.scope(() => {
    const t = rgb.ndim === 4 ? rgb.select(0, 0) : rgb;
    const [c, h, w] = t.shape as [number, number, number];
    if (c !== 3) throw new Error(`expected an RGB tensor [3, H, W], got shape [${rgb.shape}]`);
    const data = t.detach().to('float32').clamp(0, 1).permute([1, 2, 0]).contiguous().toTypedArray() as Float32Array;
    return { data: Float32Array.from(data), width: w, height: h };
  }));
}

/** Writes sRGB [1, 3, H, W] in [0, 1] as a 16-bit PNG: round(v·65535) per channel (sharp, colourspace rgb16). */
export async function writePng16(file: string, rgb: Tensor): Promise<void> {
  const { data, width, height } = hwcFloat32(rgb);
  const u16 = Uint16Array.from(data, (v) => Math.round(v * 65535));
  const buf = await sharp(u16, { raw: { width, height, channels: 3, premultiplied: false } }).toColourspace('rgb16').png().toBuffer();
  writeFileAtomic(file, buf);
}

/** Writes sRGB [1, 3, H, W] as NumPy .npy (format 1.0), float32 little-endian, shape (H, W, 3), values clamped to [0, 1]. */
export function writeNpyFloat32(file: string, rgb: Tensor): void {
  const { data, width, height } = hwcFloat32(rgb);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${height}, ${width}, 3), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n'; // 10 + header length: a multiple of 64
  const head = Buffer.alloc(10 + header.length);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  head.write(header, 10, 'latin1');
  const body = Buffer.alloc(data.length * 4);
  for (let i = 0; i < data.length; i++) body.writeFloatLE(data[i]!, i * 4);
  writeFileAtomic(file, Buffer.concat([head, body]));
}

/** Reads a float32 little-endian C-order .npy (as writeNpyFloat32 writes it): the values and the shape. */
export function readNpyFloat32(file: string): { data: Float32Array; shape: number[] } {
  const b = fs.readFileSync(file);
  if (b.length < 10 || b.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not a .npy file`);
  const major = b[6]!;
  const hl = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + hl);
  if (!/'descr':\s*'<f4'/.test(header) || /'fortran_order':\s*True/.test(header)) throw new Error(`${file}: only little-endian float32 C-order .npy is supported (header ${header.trim()})`);
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((x, y) => x * y, 1);
  const off = start + hl;
  if (b.length - off !== n * 4) throw new Error(`${file}: ${b.length - off} data bytes for shape (${shape.join(', ')}) float32`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = b.readFloatLE(off + 4 * i);
  return { data, shape };
}

/** Writes sRGB [1, 3, H, W] at the given depth (the extension must match: DEPTH_EXTENSIONS). */
export async function writeCartoon(output: string, rgb: Tensor, depth: OutputDepth = '8'): Promise<void> {
  if (!OUTPUT_DEPTHS.includes(depth)) throw new Error(`depth must be one of ${OUTPUT_DEPTHS.join(', ')}, got '${depth}'`);
  if (!DEPTH_EXTENSIONS[depth].test(output)) {
    throw new Error(`output '${output}' must end in ${depth === '8' ? '.png, .jpg or .jpeg' : depth === '16' ? '.png (16-bit PNG)' : '.npy (float32)'} for depth ${depth}`);
  }
  fs.mkdirSync(path.dirname(path.resolve(output)), { recursive: true });
  if (depth === '16') await writePng16(output, rgb);
  else if (depth === 'float') writeNpyFloat32(output, rgb);
  else await writeImage(output, rgb);
}

function checkLevel(name: string, v: number): void {
  if (!Number.isFinite(v)) throw new Error(`${name} must be a finite number in [1, 5], got ${v}`);
}

/**
 * Cartoonizes one image file into `output` (8-bit PNG or JPEG by extension, 16-bit PNG or float32
 * .npy by `depth`). Returns the size, and how it was scaled down (null: full resolution).
 */
export async function applyFile(
  cz: Cartoonizer, input: string, output: string, options: ApplyOptions = {},
): Promise<{ width: number; height: number; resized: string | null }> {
  const o = {
    ...options, stroke: options.stroke ?? APPLY.stroke, abstraction: options.abstraction ?? APPLY.abstraction,
    hueShift: options.hueShift ?? APPLY.hueShift, maxSide: options.maxSide ?? APPLY.maxSide, maxPixels: options.maxPixels ?? APPLY.maxPixels,
  };
  checkLevel('stroke', o.stroke);
  checkLevel('abstraction', o.abstraction);
  if (!Number.isFinite(o.hueShift)) throw new Error(`hue-shift must be a finite number of degrees, got ${o.hueShift}`);
  const src = await imageSize(input);
  const fit = src ? fitBound(src.width, src.height, o) : null;
  const photo = await readPhoto(input, fit?.side ?? o.maxSide);
  let map: Tensor | null = null;
  try {
    if (o.photoOut) await writeImage(o.photoOut, photo);
    map = o.colourMap ? await readColourMap(o.colourMap, photo) : photoColourMap(photo, o.segments);
    const rgb = torch.scope(() => {
      const m = o.hueShift ? rotateHue(map!, o.hueShift) : map!;
      return labToRgb(cz.lab(photo, m, o.stroke, o.abstraction));
    });
    try { await writeCartoon(output, rgb, o.depth ?? APPLY.depth); } finally { rgb.dispose(); }
    const [h, w] = [photo.shape[2]!, photo.shape[3]!];
    const resized = fit && src ? `scaled down from ${src.width}×${src.height} to ${w}×${h} (${fit.reason})` : null;
    return { width: photo.shape[3]!, height: photo.shape[2]!, resized };
  } finally {
    photo.dispose();
    map?.dispose();
  }
}
