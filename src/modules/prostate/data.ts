// The data a run works on: a PI-CAI folder (or phantoms generated into the run), its fold split,
// prepared cases (preprocess.ts), and the network-ready cases the loops and inference read —
// 3 normalised images plus the one-hot zonal mask (the paper's zonal-aware input fusion).
// The file formats live in picai.ts / metaimage.ts / nifti.ts, the phantom generator in phantoms.ts.
import fs from 'node:fs';
import path from 'node:path';
import { listCases, loadFolds, loadCase, readSplits, sourceOf, resolveSource, type DataRoot, type PicaiSource } from './picai.ts';
import { UsageError } from '../../core/errors.ts';
import { writePhantomDataset, type PhantomDatasetOptions } from './phantoms.ts';
import { prepareCase, adcStats, normalizeSupervised, type AdcStats, type Prepared } from './preprocess.ts';
import type { Shape3 } from './ssl.ts';

export interface DataSpec {
  /** a PI-CAI folder (images/ + labels/) or the images release itself; left out → generate phantoms into `phantomDir` */
  data?: string;
  /** a picai_labels checkout (default: `data`/labels) */
  labels?: string;
  /** official splits: a splits_final.json-style file or a folder of picai ds-configs */
  splits?: string;
  phantomDir: string;
  phantom: PhantomDatasetOptions;
}

/** Resolves the data folder, generating phantoms when none is given. */
export function ensureData(d: DataSpec, log?: (m: string) => void): PicaiSource {
  if (d.data) return resolveSource(d.data, d.labels, d.splits);
  if (!fs.existsSync(path.join(d.phantomDir, 'images'))) {
    const r = writePhantomDataset(d.phantomDir, d.phantom);
    log?.(`wrote ${r.keys.length} phantom cases (${r.positives} positive) to ${d.phantomDir}`);
  }
  return resolveSource(d.phantomDir, d.labels, d.splits);
}

export interface SplitResult {
  train: string[]; test: string[]; folds: string[][];
  /** cases the official split names that the images folder lacks (a partial download) */
  missing: number;
}

/**
 * Held-out fold(s) `fold` form the test set. With official splits (`--splits`) fold k trains on its
 * `train` list and holds out its `val` list, as nnU-Net reads splits_final.json; otherwise the other
 * folds train. Cases missing from the images folder are left out (and counted).
 */
export function split(root: DataRoot, fold: number | number[], k = 5, seed = 0): SplitResult {
  const src = sourceOf(root);
  const held = typeof fold === 'number' ? [fold] : fold;
  const all = new Set(listCases(src));
  if (src.splits) {
    const sp = readSplits(src.splits);
    for (const f of held) if (f < 0 || f >= sp.length) throw new UsageError(`fold ${f} does not exist (${src.splits} has ${sp.length} folds)`);
    const testAll = held.flatMap((f) => sp[f]!.val), testSet = new Set(testAll);
    const trainAll = [...new Set(held.flatMap((f) => sp[f]!.train))].filter((c) => !testSet.has(c));
    const named = new Set([...testAll, ...trainAll]);
    return {
      train: trainAll.filter((c) => all.has(c)), test: testAll.filter((c) => all.has(c)), folds: sp.map((f) => f.val),
      missing: [...named].filter((c) => !all.has(c)).length,
    };
  }
  const folds = loadFolds(src, k, seed);
  for (const f of held) if (f < 0 || f >= folds.length) throw new UsageError(`fold ${f} does not exist (the data has ${folds.length} folds)`);
  const test = held.flatMap((f) => folds[f]!).filter((c) => all.has(c));
  const train = folds.filter((_, i) => !held.includes(i)).flat().filter((c) => all.has(c));
  return { train, test, folds, missing: 0 };
}

export function loadPrepared(root: DataRoot, keys: string[], onCase?: () => void): Prepared[] {
  const src = sourceOf(root);
  return keys.map((k) => { const p = prepareCase(loadCase(src, k)); onCase?.(); return p; });
}

/** The binary lesion label of a prepared case on its original T2W grid (null when it has none). */
export function originalLabel(c: Prepared, root: DataRoot): Uint8Array | null {
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
