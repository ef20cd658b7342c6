// What the dashboard's slice viewer (web/viewers/slices.js) reads beside the detection maps: the
// scans the detector saw and the zonal mask, all on the T2W grid of the detection map, so that a run
// folder holds everything its viewer needs even when the input data lives elsewhere.
//   volumes/<case>_t2w<ext>    T2W as read (its own element type)
//   volumes/<case>_adc<ext>    ADC, HBV: linearly resampled onto the T2W grid (float32) when their grid
//   volumes/<case>_hbv<ext>    differs (as the preprocessing does first; the as-read values otherwise)
//   volumes/<case>_zones<ext>  uint8: 1 = PZ, 2 = TZ (Yuan23), or 3 = whole gland when only that exists
//   volumes/<case>_label<ext>  uint8: the binarised csPCa lesion label, when the case has one
import path from 'node:path';
import { writeImage, type PicaiCase } from './picai.ts';
import { gridOf, makeVolume, resample, sameGrid, type Volume } from './volume.ts';

/** The zone codes of volumes/<case>_zones: PI-CAI's Yuan23 values, and 3 for a whole-gland mask. */
export const VIEWER_ZONES = { pz: 1, tz: 2, gland: 3 } as const;

/** Writes the scans and the zonal mask of one case into `dir` (the run's volumes/); returns the files. */
export function writeViewerVolumes(dir: string, c: PicaiCase, format: 'nii.gz' | 'mha'): string[] {
  const t2 = gridOf(c.t2w);
  const onT2 = (v: Volume) => (sameGrid(gridOf(v), t2) ? v : resample(v, t2, 'linear'));
  const out: [string, Volume][] = [['t2w', c.t2w], ['adc', onT2(c.adc)], ['hbv', onT2(c.hbv)]];
  const zones = c.zones ?? c.gland;
  if (zones) {
    const z = new Uint8Array(zones.data.length);
    for (let i = 0; i < z.length; i++) {
      const v = zones.data[i]!;
      z[i] = !v ? 0 : c.zones ? (v === 1 ? VIEWER_ZONES.pz : VIEWER_ZONES.tz) : VIEWER_ZONES.gland;
    }
    out.push(['zones', makeVolume(c.t2w.dims, { data: z, spacing: t2.spacing, origin: t2.origin, direction: t2.direction })]);
  }
  if (c.label) out.push(['label', { ...c.label, ...t2 }]);
  return out.map(([name, v]) => {
    const f = path.join(dir, `${c.key}_${name}.${format}`);
    writeImage(f, { ...v, meta: {} });
    return f;
  });
}
