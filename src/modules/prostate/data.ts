// The data a run works on: a PI-CAI folder (or phantoms generated into the run), its fold split,
// prepared cases (preprocess.ts), and the network-ready cases the loops and inference read —
// 3 normalised images plus the one-hot zonal mask (the paper's zonal-aware input fusion).
// The file formats live in picai.ts / metaimage.ts / nifti.ts, the phantom generator in phantoms.ts.
import fs from 'node:fs';
import path from 'node:path';
import { listCases, loadFolds, loadCase } from './picai.ts';
import { writePhantomDataset, type PhantomDatasetOptions } from './phantoms.ts';
import { prepareCase, adcStats, normalizeSupervised, type AdcStats, type Prepared } from './preprocess.ts';
import type { Shape3 } from './ssl.ts';

export interface DataSpec {
  /** a PI-CAI folder; left out → generate phantoms into `phantomDir` */
  data?: string;
  phantomDir: string;
  phantom: PhantomDatasetOptions;
}

/** Resolves the data folder, generating phantoms when none is given. */
export function ensureData(d: DataSpec, log?: (m: string) => void): string {
  if (d.data) {
    const root = path.resolve(d.data);
    if (!fs.existsSync(root)) throw new Error(`data folder '${root}' does not exist`);
    return root;
  }
  if (!fs.existsSync(path.join(d.phantomDir, 'images'))) {
    const r = writePhantomDataset(d.phantomDir, d.phantom);
    log?.(`wrote ${r.keys.length} phantom cases (${r.positives} positive) to ${d.phantomDir}`);
  }
  return d.phantomDir;
}

export interface SplitResult { train: string[]; test: string[]; folds: string[][] }

/** Held-out fold(s) `fold` form the test set; the others train. */
export function split(root: string, fold: number | number[], k = 5, seed = 0): SplitResult {
  const folds = loadFolds(root, k, seed);
  const held = typeof fold === 'number' ? [fold] : fold;
  for (const f of held) if (f < 0 || f >= folds.length) throw new Error(`fold ${f} does not exist (the data has ${folds.length} folds)`);
  const all = new Set(listCases(root));
  const test = held.flatMap((f) => folds[f]!).filter((c) => all.has(c));
  const train = folds.filter((_, i) => !held.includes(i)).flat().filter((c) => all.has(c));
  return { train, test, folds };
}

export function loadPrepared(root: string, keys: string[], onCase?: () => void): Prepared[] {
  return keys.map((k) => { const p = prepareCase(loadCase(root, k)); onCase?.(); return p; });
}

/** The binary lesion label of a prepared case on its original T2W grid (null when it has none). */
export function originalLabel(c: Prepared, root: string): Uint8Array | null {
  const lc = loadCase(root, c.key);
  return lc.label ? Uint8Array.from(lc.label.data as ArrayLike<number>) : null;
}

// ------------------------------------------------------------------ network-ready cases
export interface NetCase {
  key: string;
  shape: Shape3;
  /** 6 channels [T2W, ADC, HBV, bg, PZ, TZ], each [Z, Y, X] */
  channels: Float32Array[];
  zones: Uint8Array;
  label: Uint8Array | null;
  prepared: Prepared;
}

export interface ChannelOptions {
  /** zonal awareness: append the one-hot zonal mask (6 channels); off → 3 image channels (ablation) */
  zonal?: boolean;
}

/** Normalised network inputs (supervised path): 3 images + one-hot zones. */
export function toNetCases(cases: Prepared[], stats: AdcStats = adcStats(cases), o: ChannelOptions = {}): NetCase[] {
  return cases.map((c) => {
    const imgs = normalizeSupervised(c, stats);
    const chans: Float32Array[] = [...imgs];
    if (o.zonal ?? true) {
      for (let z = 0; z < 3; z++) chans.push(Float32Array.from(c.zones, (v) => (v === z ? 1 : 0)));
    }
    return { key: c.key, shape: c.shape, channels: chans, zones: c.zones, label: c.label, prepared: c };
  });
}
