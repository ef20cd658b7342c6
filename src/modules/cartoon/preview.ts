// cartoon — the dashboard's live preview of `apply` (commands.ts `preview`): the same cartoonizer at
// a bounded preview size, for the stroke α_s / abstraction α_a / hue-shift controls. It runs in one
// long-lived worker process, so the model is loaded once per checkpoint and the photo with its
// colour map (SLIC superpixels, the slow part) is kept between ticks: a tick only runs the texture
// controller and decoders (and rotates the map's hue).
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { encodePng } from '../../core/io/image.ts';
import { InputFileError } from '../../core/errors.ts';
import { labToRgb, rotateHue } from './color.ts';
import { defaultSegments } from './raster.ts';
import { fitBound, imageSize, openCartoonizer, photoColourMap, readColourMap, readPhoto, type Cartoonizer } from './apply.ts';
import type { ApplyParams } from './commands.ts';

const engines = new Map<string, Cartoonizer>();
const MAX_ENGINES = 2;
let cached: { key: string; photo: Tensor; map: Tensor } | null = null;

function engine(p: Pick<ApplyParams, 'checkpoint' | 'classic'>): Cartoonizer {
  const key = p.classic ? 'classic' : `model:${p.checkpoint ?? ''}`;
  let cz = engines.get(key);
  if (!cz) {
    cz = openCartoonizer({ checkpoint: p.checkpoint, classic: p.classic });
    if (engines.size >= MAX_ENGINES) {
      const [oldest] = engines.keys();
      engines.get(oldest!)!.dispose();
      engines.delete(oldest!);
    }
    engines.set(key, cz);
  }
  return cz;
}

/**
 * The photo at preview size and its colour map, kept while the file, the budget and the map's
 * parameters stay the same. The map has as many superpixels as the full-resolution run would use,
 * so the preview's flat regions match the run's.
 */
async function photoAndMap(p: ApplyParams, maxPixels: number): Promise<{ photo: Tensor; map: Tensor }> {
  const st = fs.statSync(p.input);
  const key = JSON.stringify([p.input, st.mtimeMs, st.size, maxPixels, p.maxSide, p.maxPixels, p.segments, p.colourMap]);
  if (cached?.key === key) return cached;
  const src = await imageSize(p.input);
  if (!src) throw new InputFileError(`${path.basename(p.input)}: not an image (PNG, JPEG, WebP or TIFF) that can be read`);
  const full = fitBound(src.width, src.height, { maxSide: p.maxSide, maxPixels: p.maxPixels });
  const fw = full ? Math.round(src.width * full.side / Math.max(src.width, src.height)) : src.width;
  const fh = full ? Math.round(src.height * full.side / Math.max(src.width, src.height)) : src.height;
  const fit = fitBound(src.width, src.height, { maxSide: p.maxSide, maxPixels: Math.min(maxPixels, p.maxPixels) });
  const photo = await readPhoto(p.input, fit?.side);
  let map: Tensor;
  try {
    map = p.colourMap ? await readColourMap(p.colourMap, photo) : photoColourMap(photo, p.segments ?? defaultSegments(fh, fw));
  } catch (e) { photo.dispose(); throw e; }
  if (cached) { cached.photo.dispose(); cached.map.dispose(); }
  cached = { key, photo, map };
  return cached;
}

/** The cartoon of `p.input` at preview size (within maxPixels) with p's controls, as PNG bytes. */
export async function preview(p: ApplyParams, maxPixels: number): Promise<Uint8Array> {
  const cz = engine(p);
  const { photo, map } = await photoAndMap(p, maxPixels);
  const rgb = torch.scope(() => {
    const m = p.hueShift ? rotateHue(map, p.hueShift) : map;
    return labToRgb(cz.lab(photo, m, p.stroke, p.abstraction));
  });
  try { return await encodePng(rgb); } finally { rgb.dispose(); }
}
