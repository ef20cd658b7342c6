// The generated timelines as data: the W4C22 files (writeTimeline, writeSynthetic), in-memory
// sample sets (timelineSamples with the channel statistics of the training split), and the
// synthetic benchmark of the ablation and of `train` without a data root (buildBench).
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { type Geometry, GEOMETRIES, outSize } from './geometry.ts';
import {
  CHANNELS, type ChannelName, type ChannelStat, type SplitRow,
  HRIT_KEY, OPERA_KEY, hritPath, operaPath, splitsCsvPath, writeDataset, writeSplits, preprocessHrit, preprocessOpera,
} from './data.ts';
import { defaultSynthConfig, synthPlan, generateTimeline, cellSeed, slotsOf, testTargetSlots, synthRange, type SynthConfig, type Timeline } from './synth.ts';
import { FOUR_CHANNELS, type BenchOptions } from './config.ts';

export type { BenchOptions } from './config.ts';

// ------------------------------------------------------------------ W4C22 files
function gather(src: Float32Array, per: number, slots: number[]): Float32Array {
  const out = new Float32Array(slots.length * per);
  slots.forEach((s, i) => out.set(src.subarray(s * per, (s + 1) * per), i * per));
  return out;
}

/**
 * Writes one timeline in the W4C22 layout: HRIT train/val/test, OPERA train/val, the splits CSV
 * rows for the year (appended by the caller), plus `<region>.test.rates.crop.h5` holding the test
 * targets (synthetic only: the real competition hides them).
 */
export async function writeTimeline(root: string, tl: Timeline, g: Geometry): Promise<string[]> {
  const n = g.inSize, ho = outSize(g), yr = tl.year.year, reg = tl.region.name;
  const files: string[] = [];
  for (const split of ['train', 'val', 'test'] as const) {
    const slots = slotsOf(tl, split);
    const f = hritPath(root, yr, reg, split);
    await writeDataset(f, HRIT_KEY, gather(tl.hrit, 11 * n * n, slots), [slots.length, 11, n, n]);
    files.push(f);
    if (split !== 'test') {
      const o = operaPath(root, yr, reg, split);
      await writeDataset(o, OPERA_KEY, gather(tl.radar, ho * ho, slots), [slots.length, 1, ho, ho]);
      files.push(o);
    }
  }
  const tt = testTargetSlots(tl, g.tIn, g.tOut);
  const tf = path.join(root, String(yr), 'OPERA', `${reg}.test.rates.crop.h5`);
  await writeDataset(tf, OPERA_KEY, gather(tl.radar, ho * ho, tt), [tt.length, 1, ho, ho]);
  files.push(tf);
  return files;
}

/** Writes the whole synthetic data set (every planned cell) and each year's splits CSV. */
export async function writeSynthetic(
  root: string, cfg: SynthConfig, seed: number, plan = synthPlan(), onCell?: (i: number, n: number) => void,
): Promise<{ files: string[]; cells: number }> {
  const files: string[] = [];
  const rowsByYear = new Map<number, SplitRow[]>();
  let i = 0;
  for (const c of plan.cells) {
    const tl = generateTimeline(cfg, c.region, c.year, cellSeed(seed, c.region.name, c.year.year));
    files.push(...(await writeTimeline(root, tl, cfg.geometry)));
    rowsByYear.set(c.year.year, tl.rows); // every region of a year shares the same table
    onCell?.(++i, plan.cells.length);
  }
  for (const [y, rows] of rowsByYear) { const f = splitsCsvPath(root, y); writeSplits(f, rows); files.push(f); }
  return { files, cells: plan.cells.length };
}

// ------------------------------------------------------------------ in-memory samples
/** A batch-ready set of samples: x (N, C, tIn, H, W), y and mask (N, 1, tOut, h, w). */
export interface SampleSet { x: Tensor; y: Tensor; mask: Tensor; cell: string; region: string; year: number }

/** Per-channel μ, σ of raw satellite values over timelines (the synthetic replacement of the organisers' HRIT_STATS table). */
export function estimateStats(tls: Timeline[], g: Geometry): Record<string, ChannelStat> {
  const n = g.inSize * g.inSize;
  const out: Record<string, ChannelStat> = {};
  CHANNELS.forEach((c, ch) => {
    let s = 0, s2 = 0, k = 0;
    for (const tl of tls) for (const t of slotsOf(tl, 'train')) {
      const off = t * 11 * n + ch * n;
      for (let p = 0; p < n; p += 3) { const v = tl.hrit[off + p]!; s += v; s2 += v * v; k++; }
    }
    const mu = s / Math.max(1, k);
    const sigma = Math.sqrt(Math.max(1e-12, s2 / Math.max(1, k) - mu * mu));
    out[c] = { ...synthRange(c), mu, sigma: Math.max(sigma, 1e-3) };
  });
  return out;
}

/**
 * Builds samples from a timeline: starts are slot indices; input = slots s…s+tIn−1,
 * target = s+tIn…s+tIn+tOut−1. Channels are selected and preprocessed with `stats`.
 */
export function timelineSamples(tl: Timeline, g: Geometry, starts: number[], channels: readonly ChannelName[], stats: Record<string, ChannelStat>): SampleSet {
  const n = g.inSize, ho = outSize(g), C = channels.length;
  const idx = channels.map((c) => CHANNELS.indexOf(c));
  const N = starts.length;
  const xs = new Float32Array(N * C * g.tIn * n * n);
  const rs = new Float32Array(N * g.tOut * ho * ho);
  starts.forEach((s, i) => {
    for (let c = 0; c < C; c++) for (let t = 0; t < g.tIn; t++) {
      const src = (s + t) * 11 * n * n + idx[c]! * n * n;
      xs.set(tl.hrit.subarray(src, src + n * n), ((i * C + c) * g.tIn + t) * n * n);
    }
    for (let t = 0; t < g.tOut; t++) {
      const src = (s + g.tIn + t) * ho * ho;
      rs.set(tl.radar.subarray(src, src + ho * ho), (i * g.tOut + t) * ho * ho);
    }
  });
  return torch.scope(() => {
    const xr = torch.tensor(xs, { shape: [N, C, g.tIn, n, n] });
    const x = preprocessHrit(xr, channels, 1, stats);
    const { label, mask } = preprocessOpera(torch.tensor(rs, { shape: [N, 1, g.tOut, ho, ho] }));
    return { x, y: label, mask, cell: `${tl.region.name}/${tl.year.year}`, region: tl.region.name, year: tl.year.year };
  });
}

/** Training starts of a timeline (slot indices) that pass the contiguity check (no dropped slot inside). */
export function trainStarts(tl: Timeline, g: Geometry, stride = 1): number[] {
  const L = g.tIn + g.tOut;
  const ok = (t: number) => tl.rows[t]!.split === 'training' && tl.rows[t]!.all_vars === 1;
  const out: number[] = [];
  for (let s = 0; s + L <= tl.nSlots; s += stride) {
    let good = true;
    for (let k = 0; k < L; k++) if (!ok(s + k)) { good = false; break; }
    if (good) out.push(s);
  }
  return out;
}

/** Test starts: the first input slot of each test sequence. */
export function testStarts(tl: Timeline, g: Geometry): number[] {
  const ins = slotsOf(tl, 'test');
  return ins.filter((_, i) => i % g.tIn === 0);
}

// ------------------------------------------------------------------ the benchmark
export interface Bench {
  geometry: Geometry;
  channels: ChannelName[];
  train: SampleSet[];
  val: SampleSet[];
  coreTest: SampleSet[];
  transferTest: SampleSet[];
  coreCells: string[];
  transferCells: string[];
  dispose(): void;
}

/** Generates the synthetic benchmark in memory: core training/validation/test sets and the transfer test sets. */
export function buildBench(o: BenchOptions): Bench {
  const g = GEOMETRIES[o.geometry];
  const cfg = defaultSynthConfig(g, { trainDays: o.trainDays, slotsPerDay: o.slotsPerDay, valSeqs: 2, testSeqs: o.testSeqs });
  const plan = synthPlan({ coreRegions: o.coreRegions, transferRegions: o.transferRegions });
  const tls: { tl: Timeline; set: 'core' | 'transfer' }[] = plan.cells.map((c) => ({ tl: generateTimeline(cfg, c.region, c.year, cellSeed(o.seed, c.region.name, c.year.year)), set: c.set }));
  const coreTl = tls.filter((t) => t.set === 'core').map((t) => t.tl);
  const stats = estimateStats(coreTl, g);
  const channels = FOUR_CHANNELS;
  const trainSets: SampleSet[] = [], valSets: SampleSet[] = [], coreTest: SampleSet[] = [], transferTest: SampleSet[] = [];
  for (const { tl, set } of tls) {
    if (set === 'core') {
      const st = trainStarts(tl, g, o.trainStride);
      const nVal = Math.max(1, Math.floor(st.length / 10));
      trainSets.push(timelineSamples(tl, g, st.slice(0, st.length - nVal), channels, stats));
      valSets.push(timelineSamples(tl, g, st.slice(st.length - nVal), channels, stats));
      coreTest.push(timelineSamples(tl, g, testStarts(tl, g), channels, stats));
    } else transferTest.push(timelineSamples(tl, g, testStarts(tl, g), channels, stats));
  }
  const all = [...trainSets, ...valSets, ...coreTest, ...transferTest];
  return {
    geometry: g, channels, train: trainSets, val: valSets, coreTest, transferTest,
    coreCells: coreTest.map((s) => s.cell), transferCells: transferTest.map((s) => s.cell),
    dispose: () => { for (const s of all) torch.dispose(s.x, s.y, s.mask); },
  };
}
