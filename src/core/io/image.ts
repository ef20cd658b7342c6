// Images ↔ tensors with sharp (PNG, JPEG, WebP, TIFF in; PNG/JPEG out). Tensors are float32
// [C, H, W] in [0, 1], C = 3 (RGB) or 1 (gray), as torchvision's to_tensor.
import fs from 'node:fs';
import path from 'node:path';
import sharp, { type OutputInfo } from 'sharp';
import { tensor, noGrad, scope, type Tensor } from '../torch/tensor.ts';
import { writeFileAtomic } from './atomic.ts';

export interface ReadImageOptions {
  /** 3 → RGB (alpha dropped), 1 → grayscale */
  channels?: 1 | 3;
  /** resize to exactly width × height (fill), or fit the longer side to `maxSide` */
  width?: number;
  height?: number;
  maxSide?: number;
}

/** Reads an image file into a float32 [C, H, W] tensor in [0, 1]. Errors name the file. */
export async function readImage(file: string, o: ReadImageOptions = {}): Promise<Tensor> {
  if (!fs.existsSync(file)) throw new Error(`${file}: no such image file`);
  return decodeImage(fs.readFileSync(file), o, file);
}

export async function decodeImage(bytes: Uint8Array, o: ReadImageOptions = {}, source = '<image>'): Promise<Tensor> {
  const channels = o.channels ?? 3;
  let img = sharp(bytes, { failOn: 'error' });
  if (o.width && o.height) img = img.resize(o.width, o.height, { fit: 'fill' });
  else if (o.maxSide) img = img.resize(o.maxSide, o.maxSide, { fit: 'inside', withoutEnlargement: false });
  img = channels === 1 ? img.grayscale() : img.removeAlpha().toColourspace('srgb');
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await img.raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new Error(`${source}: cannot decode image (${(e as Error).message})`);
  }
  const { width, height } = raw.info;
  const c = raw.info.channels;
  const hwc = tensor(new Uint8Array(raw.data.buffer, raw.data.byteOffset, raw.data.byteLength), { shape: [height, width, c] });
  return scope(() => {
    let t = hwc.permute([2, 0, 1]).to('float32').div(255);
    if (c !== channels) t = channels === 1 ? t.mean(0, true) : t.slice(0, 0, 3);
    hwc.dispose();
    return t.contiguous();
  });
}

/** Encodes a [C, H, W] (or [1, C, H, W]) tensor in [0, 1] as PNG bytes. */
export async function encodePng(t: Tensor): Promise<Buffer> {
  const { data, width, height, channels } = toHwcBytes(t);
  return sharp(data, { raw: { width, height, channels } }).png().toBuffer();
}

/** Writes a [C, H, W] tensor in [0, 1] to a PNG or JPEG file (by extension), atomically. */
export async function writeImage(file: string, t: Tensor): Promise<void> {
  const { data, width, height, channels } = toHwcBytes(t);
  const img = sharp(data, { raw: { width, height, channels } });
  const ext = path.extname(file).toLowerCase();
  const buf = ext === '.jpg' || ext === '.jpeg' ? await img.jpeg({ quality: 92 }).toBuffer() : await img.png().toBuffer();
  writeFileAtomic(file, buf);
}

function toHwcBytes(t0: Tensor): { data: Buffer; width: number; height: number; channels: 1 | 3 | 4 } {
  const t = t0.ndim === 4 ? t0.select(0, 0) : t0;
  if (t.ndim !== 3) throw new Error(`image tensor must be [C, H, W], got shape [${t0.shape}]`);
  const [c, h, w] = t.shape as [number, number, number];
  if (c !== 1 && c !== 3 && c !== 4) throw new Error(`image tensor must have 1, 3 or 4 channels, got ${c}`);
  const bytes = noGrad(() => scope(() => t.detach().clamp(0, 1).mul(255).round().to('uint8').permute([1, 2, 0]).contiguous().toTypedArray()));
  if (t !== t0) t.dispose();
  return { data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), width: w, height: h, channels: c as 1 | 3 | 4 };
}
