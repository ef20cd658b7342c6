// The W4C22 data layer (the competition's data format and the organisers' reference loader): file
// paths of the release layout, the reference preprocessing of special values, samples, and the
// submission writer. HDF5 reading and writing (float16 included) is hdf5.ts, the timestamps/splits
// table and its windows splits.ts; both are re-exported here.
import fs from 'node:fs';
import path from 'node:path';
import { zipSync } from 'fflate';
import { gzipSync } from 'node:zlib';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { writeFileAtomic } from '../../core/io/atomic.ts';
import { openImages, writeDataset, type H5Images } from './hdf5.ts';
import { CHANNELS, type ChannelName } from './config.ts';

// ------------------------------------------------------------------ constants (W4C22 files and reference loader)
export { h5, openImages, writeDataset, superblockEof, decodeHalf, halfBitsToNumber, H5Images, type OpenOptions, type H5Dtype, type StoredDtype } from './hdf5.ts';
export {
  readSplits, writeSplits, splitRows, rowMinutes, trainingWindows, validationWindows, testWindows, yearSplits, splitsCandidates, clearSplitsCache,
  SPLIT_COLUMNS, STAGE2_SPLITS, type SplitRow, type YearSplits,
} from './splits.ts';
export { CHANNELS, CORE_REGIONS, TRANSFER_REGIONS, type ChannelName } from './config.ts';

export interface ChannelStat { lo: number; hi: number; mu: number; sigma: number }
/** Reference clip ranges and standardisation constants of the organisers' loader. */
export const HRIT_STATS: Record<ChannelName, ChannelStat> = {
  IR_016: { lo: 0, hi: 1.02, mu: 0.06605569, sigma: 0.09920627 },
  IR_039: { lo: 0, hi: 350, mu: 273.2187, sigma: 15.98847 },
  IR_087: { lo: 0, hi: 350, mu: 268.3977, sigma: 17.49075 },
  IR_097: { lo: 0, hi: 350, mu: 246.1366, sigma: 10.81174 },
  IR_108: { lo: 0, hi: 350, mu: 270.1535, sigma: 18.49373 },
  IR_120: { lo: 0, hi: 350, mu: 268.7993, sigma: 18.42736 },
  IR_134: { lo: 0, hi: 350, mu: 250.6491, sigma: 11.70623 },
  VIS006: { lo: 0, hi: 1.02, mu: 0.06711527, sigma: 0.1101766 },
  VIS008: { lo: 0, hi: 1.2, mu: 0.08736397, sigma: 0.1326554 },
  WV_062: { lo: 0, hi: 300, mu: 232.1964, sigma: 5.531017 },
  WV_073: { lo: 0, hi: 300, mu: 248.0414, sigma: 9.495061 },
};
export const NO_DATA = -9999000;
export const UNDETECTED = -8888000;
export const HRIT_KEY = 'REFL-BT';
export const OPERA_KEY = 'rates.crop';
export const SUBMISSION_KEY = 'submission';
export type Split = 'train' | 'val' | 'test' | 'heldout';

/** Paper table names: boxi_0015 → R15, roxi_0004 → R04. */
export function regionLabel(region: string): string {
  const m = /_(\d{4})$/.exec(region);
  return m ? `R${m[1]!.slice(2)}` : region;
}

export function hritPath(root: string, year: number | string, region: string, split: Split): string {
  return path.join(root, String(year), 'HRIT', `${region}.${split}.reflbt0.ns.h5`);
}
export function operaPath(root: string, year: number | string, region: string, split: 'train' | 'val'): string {
  return path.join(root, String(year), 'OPERA', `${region}.${split}.rates.crop.h5`);
}
export function splitsCsvPath(root: string, year: number | string): string {
  return path.join(root, String(year), `timestamps_and_splits_${year}.csv`);
}

// ------------------------------------------------------------------ preprocessing (the organisers' reference loader)
/**
 * Reference satellite preprocessing on a (…, C, …) tensor whose channel axis is `channelDim`:
 * NaN/±inf → 0, clip to [lo, hi], standardise (x − μ)/σ, per channel in that order.
 */
export function preprocessHrit(x: Tensor, channels: readonly ChannelName[], channelDim = 1, stats: Record<string, ChannelStat> = HRIT_STATS): Tensor {
  if (x.shape[channelDim] !== channels.length) {
    throw new Error(`preprocessHrit: axis ${channelDim} has ${x.shape[channelDim]} channels but ${channels.length} names were given`);
  }
  return torch.scope(() => {
    const shape = x.shape.map((_, i) => (i === channelDim ? channels.length : 1));
    const col = (f: (s: ChannelStat) => number) =>
      torch.tensor(channels.map((c) => { const s = stats[c]; if (!s) throw new Error(`preprocessHrit: no statistics for channel '${c}'`); return f(s); }), { dtype: x.dtype === 'float64' ? 'float64' : 'float32', shape });
    const clean = torch.where(x.isfinite(), x, 0);
    return clean.maximum(col((s) => s.lo)).minimum(col((s) => s.hi)).sub(col((s) => s.mu)).div(col((s) => s.sigma));
  });
}

export interface RadarOptions {
  /** rain threshold in mm/h; default 0.2 (Stage 2) */
  threshold?: number;
  /** strict `>` comparison (Stage 1 uses rate > 0) instead of `≥` */
  strict?: boolean;
}

/**
 * Radar labels and mask from raw OPERA rates (the reference loader's rules).
 * - Mask, on raw values: exactly −9 999 000 (no data), NaN, ±∞, or > 128.
 * - Label: the rain rule on the raw value, rate ≥ τ (τ = 0.2 mm/h; `strict`: rate > τ). So +∞ is rain
 *   (1), −∞ is not (0), and NaN is 0 (it satisfies no comparison; the reference maps NaN to 0).
 *   −8 888 000 ("undetected") is not masked and is 0. The non-finite values are masked as well, so
 *   under the reference convention their label never reaches a score or a loss.
 */
export function preprocessOpera(raw: Tensor, o: RadarOptions = {}): { label: Tensor; mask: Tensor } {
  const thr = o.threshold ?? 0.2;
  return torch.scope(() => {
    const mask = raw.eq(NO_DATA).logicalOr(raw.isfinite().logicalNot()).logicalOr(raw.gt(128));
    const rain = o.strict ? raw.gt(thr) : raw.ge(thr);
    return { label: rain.to(raw.dtype === 'float64' ? 'float64' : 'float32'), mask };
  });
}

// ------------------------------------------------------------------ samples
export interface Sample {
  /** (C, tIn, H, W) standardised satellite input */
  x: Tensor;
  /** (1, tOut, h, w) 0/1 radar target (absent for test data) */
  y?: Tensor;
  /** (1, tOut, h, w) bool mask of no-data pixels */
  mask?: Tensor;
}

export interface RegionReader {
  hrit: H5Images;
  opera?: H5Images;
  close(): void;
}

/** Opens one region-year-split pair of files with the layout checks (11 HRIT channels, 1 OPERA channel, matching image counts). */
export async function openRegion(root: string, year: number | string, region: string, split: Split, o: { size?: number } = {}): Promise<RegionReader> {
  const hrit = await openImages(hritPath(root, year, region, split), HRIT_KEY, { channels: 11, size: o.size });
  let opera: H5Images | undefined;
  if (split === 'train' || split === 'val') {
    opera = await openImages(operaPath(root, year, region, split), OPERA_KEY, { channels: 1, length: hrit.length });
  }
  return { hrit, opera, close: () => { hrit.close(); opera?.close(); } };
}

/**
 * Reads one sample starting at image `start`: input images start…start+tIn−1 (channels selected,
 * preprocessed, laid out (C, T, H, W)) and, when radar is present, target images
 * start+tIn…start+tIn+tOut−1 as label and mask (1, tOut, h, w).
 */
export interface SampleOptions { channels?: readonly ChannelName[]; stats?: Record<string, ChannelStat>; radar?: RadarOptions }

export function readSample(r: RegionReader, start: number, tIn: number, tOut: number, o: SampleOptions = {}): Sample {
  const channels = o.channels ?? CHANNELS;
  const idx = channels.map((c) => { const k = CHANNELS.indexOf(c); if (k < 0) throw new Error(`unknown channel '${c}'; valid: ${CHANNELS.join(', ')}`); return k; });
  return torch.scope(() => {
    const raw = r.hrit.read(start, tIn); // (T, 11, H, W)
    const sel = raw.indexSelect(1, torch.tensor(idx, { dtype: 'int64' }));
    const x = preprocessHrit(sel, channels, 1, o.stats).permute([1, 0, 2, 3]).contiguous();
    if (!r.opera || start + tIn + tOut > r.opera.length) return { x };
    const rr = r.opera.read(start + tIn, tOut).permute([1, 0, 2, 3]); // (1, tOut, h, w)
    const { label, mask } = preprocessOpera(rr, o.radar);
    return { x, y: label, mask };
  });
}

// ------------------------------------------------------------------ submission (the W4C22 submission format)
/**
 * Writes `<dir>/<year>/<region>.pred.h5` with dataset 'submission' float32 (N, 1, T, H, W) of 0/1
 * (the competition README's shape (60, 1, 32, 252, 252); the starter kit's own writer squeezes it to
 * (60, 32, 252, 252)). `gzip`: `<region>.pred.h5.gz` instead, as the kit's mk_pred_*.sh scripts do.
 */
export async function writeSubmission(dir: string, year: number | string, region: string, pred: Tensor, o: { gzip?: boolean } = {}): Promise<string> {
  if (pred.ndim !== 5 || pred.shape[1] !== 1) throw new Error(`submission for ${region} ${year}: expected (N, 1, T, H, W) 0/1 values, got shape [${pred.shape}]`);
  const data = torch.scope(() => pred.gt(0.5).to('float32').contiguous().toTypedArray()) as Float32Array;
  const file = path.join(dir, String(year), `${region}.pred.h5`);
  await writeDataset(file, SUBMISSION_KEY, data, pred.shape, 'float32', 0);
  if (!o.gzip) return file;
  writeFileAtomic(`${file}.gz`, gzipSync(fs.readFileSync(file), { level: 9 }));
  fs.rmSync(file);
  return `${file}.gz`;
}

/** Zips every `<year>/<region>.pred.h5` under dir, keeping the year folders. */
export function zipSubmission(dir: string, zipFile: string): string[] {
  const entries: Record<string, Uint8Array> = {};
  for (const y of fs.readdirSync(dir).filter((d) => /^\d{4}$/.test(d)).sort()) {
    for (const f of fs.readdirSync(path.join(dir, y)).filter((f) => f.endsWith('.pred.h5') || f.endsWith('.pred.h5.gz')).sort()) {
      entries[`${y}/${f}`] = fs.readFileSync(path.join(dir, y, f));
    }
  }
  writeFileAtomic(zipFile, zipSync(entries, { level: 6 }));
  return Object.keys(entries);
}
