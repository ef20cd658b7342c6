// Preprocessing of the paper's two paths (nnU-Net v1 for the detector; the SSL data preparation of
// the reference code): resample ADC/HBV onto the T2W grid, resample to the network spacing,
// normalise (nnU-Net style for supervised training; min–max/ADC/3000 for SSL), crop ROIs, and
// map network outputs back to the original T2W grid.
import { resample, respacedGrid, gridOf, sameGrid, toFloat32, makeVolume, type Grid, type Volume } from './volume.ts';
import type { PicaiCase } from './picai.ts';
import { NotFoundError } from '../../core/errors.ts';

/** Target spacing [sx, sy, sz] = 0.5 × 0.5 × 3.0 mm (z, y, x = 3.0 × 0.5 × 0.5). */
export const TARGET_SPACING: [number, number, number] = [0.5, 0.5, 3.0];

export interface Prepared {
  key: string;
  /** [Z, Y, X] */
  shape: [number, number, number];
  /** raw (not yet normalised) image channels on the network grid: T2W, ADC, HBV */
  images: [Float32Array, Float32Array, Float32Array];
  zones: Uint8Array;
  label: Uint8Array | null;
  /** the network grid and the original T2W grid (to map predictions back) */
  grid: Grid;
  original: Grid;
}

/** Resamples one case onto the T2W grid, then onto the target spacing. Zones/labels by nearest neighbour. */
export function prepareCase(c: PicaiCase, spacing: [number, number, number] = TARGET_SPACING): Prepared {
  for (const [name, v] of [['t2w', c.t2w], ['adc', c.adc], ['hbv', c.hbv]] as const) {
    for (let i = 0; i < v.data.length; i++) {
      if (!Number.isFinite(v.data[i]!)) throw new Error(`case ${c.key}: ${name} image holds ${v.data[i]} at voxel ${i}; images must be finite`);
    }
  }
  const t2 = gridOf(c.t2w);
  const target = sameGrid({ ...t2, spacing }, t2) ? t2 : respacedGrid(t2, spacing);
  const img = (v: Volume) => toFloat32(resample(sameGrid(gridOf(v), t2) ? v : resample(v, t2, 'linear'), target, 'linear'));
  const lab = (v: Volume | null) => (v ? Uint8Array.from(resample(v, target, 'nearest').data as ArrayLike<number>) : null);
  const zones = lab(c.zones) ?? lab(c.gland);
  if (!zones) throw new NotFoundError(`case ${c.key}: no zonal mask (anatomical_delineations/zonal_pz_tz/AI/Yuan23 of picai_labels: pass --labels <picai_labels checkout>) nor whole-gland mask; Z-SSMNet needs one`);
  return {
    key: c.key, shape: [target.dims[2], target.dims[1], target.dims[0]],
    images: [img(c.t2w), img(c.adc), img(c.hbv)], zones, label: lab(c.label), grid: target, original: t2,
  };
}

function meanStd(a: ArrayLike<number>, mask?: ArrayLike<number>): [number, number] {
  let s = 0, s2 = 0, n = 0;
  for (let i = 0; i < a.length; i++) if (!mask || mask[i]) { s += a[i]!; s2 += a[i]! * a[i]!; n++; }
  const m = s / Math.max(1, n);
  return [m, Math.sqrt(Math.max(s2 / Math.max(1, n) - m * m, 1e-12))];
}

export interface AdcStats { lo: number; hi: number; mean: number; std: number }

/**
 * Dataset-level ADC statistics, as nnU-Net's "CT" normalisation: 0.5/99.5 percentiles of
 * foreground voxels, then mean/std of the clipped foreground. [recon] foreground = gland (zones > 0);
 * nnU-Net v1 uses the label foreground.
 */
export function adcStats(cases: Prepared[]): AdcStats {
  const vals: number[] = [];
  for (const c of cases) for (let i = 0; i < c.zones.length; i++) if (c.zones[i]) vals.push(c.images[1][i]!);
  if (!vals.length) throw new Error('adcStats: no foreground voxels in any case');
  vals.sort((a, b) => a - b);
  const q = (p: number) => vals[Math.min(vals.length - 1, Math.max(0, Math.round(p * (vals.length - 1))))]!;
  const lo = q(0.005), hi = q(0.995);
  const clipped = vals.map((v) => Math.min(hi, Math.max(lo, v)));
  const [mean, std] = meanStd(clipped);
  return { lo, hi, mean, std };
}

/** Supervised normalisation: T2W and HBV per-image z-score, ADC clipped and z-scored with dataset stats. */
export function normalizeSupervised(c: Prepared, adc: AdcStats): [Float32Array, Float32Array, Float32Array] {
  const z = (a: Float32Array) => { const [m, s] = meanStd(a); return a.map((v) => (v - m) / s); };
  const ad = c.images[1].map((v) => (Math.min(adc.hi, Math.max(adc.lo, v)) - adc.mean) / adc.std);
  return [z(c.images[0]), ad, z(c.images[2])];
}

/** SSL normalisation: T2W/HBV min–max to [0, 1] per volume; ADC clipped to [0, 3000] / 3000. */
export function normalizeSSL(c: Prepared): [Float32Array, Float32Array, Float32Array] {
  const mm = (a: Float32Array) => {
    let lo = Infinity, hi = -Infinity;
    for (const v of a) { if (v < lo) lo = v; if (v > hi) hi = v; }
    const r = hi - lo || 1;
    return a.map((v) => (v - lo) / r);
  };
  return [mm(c.images[0]), c.images[1].map((v) => Math.min(3000, Math.max(0, v)) / 3000), mm(c.images[2])];
}

/** Bounding box [z0, z1), [y0, y1), [x0, x1) of zones > 0 grown by `margin` voxels (clamped). */
export function glandBox(c: Prepared, margin = 50): [number, number, number, number, number, number] {
  const [Z, Y, X] = c.shape;
  let z0 = Z, z1 = 0, y0 = Y, y1 = 0, x0 = X, x1 = 0;
  for (let z = 0; z < Z; z++) for (let y = 0; y < Y; y++) for (let x = 0; x < X; x++) {
    if (!c.zones[(z * Y + y) * X + x]) continue;
    z0 = Math.min(z0, z); z1 = Math.max(z1, z + 1); y0 = Math.min(y0, y); y1 = Math.max(y1, y + 1); x0 = Math.min(x0, x); x1 = Math.max(x1, x + 1);
  }
  if (z1 === 0) return [0, Z, 0, Y, 0, X];
  return [
    Math.max(0, z0 - margin), Math.min(Z, z1 + margin), Math.max(0, y0 - margin), Math.min(Y, y1 + margin),
    Math.max(0, x0 - margin), Math.min(X, x1 + margin),
  ];
}

/** Maps a probability volume on the network grid back to the original T2W grid (linear). */
export function toOriginalGrid(p: Float32Array, c: Prepared): Float32Array {
  if (sameGrid(c.grid, c.original)) return p;
  const v = makeVolume(c.grid.dims, { data: p, spacing: c.grid.spacing, origin: c.grid.origin, direction: c.grid.direction });
  return toFloat32(resample(v, c.original, 'linear'));
}
