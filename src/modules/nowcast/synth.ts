// Seeded synthetic "advecting rain" generator of spec §8.2, with region and season shift.
// Latent cloud water = Gaussian blobs moving with a regional prevailing wind and a rise-hold-decay
// life cycle; ~30% of blobs never precipitate. Radar truth is evaluated at fine-pixel centres of
// the central block; satellite channels derive from the cloud fraction c = 1 − exp(−f).
// The generator writes the exact W4C22 layout (HDF5 keys, CSV, buffers) so the real loader is
// tested end to end; the ablation uses the same arrays in memory.
import path from 'node:path';
import { Rng } from '../../core/rng.ts';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { type Geometry, cropStart, outSize } from './geometry.ts';
import {
  CHANNELS, type ChannelName, type ChannelStat, type SplitRow, NO_DATA, UNDETECTED, CORE_REGIONS, TRANSFER_REGIONS,
  HRIT_KEY, OPERA_KEY, hritPath, operaPath, splitsCsvPath, writeDataset, writeSplits, preprocessHrit, preprocessOpera,
} from './data.ts';

export interface RegionSpec {
  name: string;
  /** prevailing direction, degrees counter-clockwise from east (north = 90) */
  dirDeg: number;
  /** prevailing speed in coarse px per slot (0.2–0.8) */
  speed: number;
  /** blob spawn rate per slot per 576 coarse px² (24²) */
  lambda: number;
  /** seed of the static orographic enhancement map b_r */
  oroSeed: number;
  transfer: boolean;
}

export interface YearSpec { year: number; lambdaScale: number; speedScale: number; rotDeg: number; diurnalPhase: number; shifted: boolean }

export const TRAIN_YEARS: YearSpec[] = [
  { year: 2019, lambdaScale: 1, speedScale: 1, rotDeg: 0, diurnalPhase: 0, shifted: false },
  { year: 2020, lambdaScale: 1, speedScale: 1, rotDeg: 0, diurnalPhase: 0, shifted: false },
];
/** The shifted "year": λ ×1.3, speed ×1.2, directions +15°, diurnal phase shifted (§8.2). */
export const SHIFTED_YEAR: YearSpec = { year: 2021, lambdaScale: 1.3, speedScale: 1.2, rotDeg: 15, diurnalPhase: 0.125, shifted: true };

/**
 * The 10 synthetic regions: 7 core regions with directions within ±40° of east-north-east (22.5°),
 * 3 transfer regions outside that cone but with a positive east or north component, and a
 * different λ and orography.
 */
export function defaultRegions(): RegionSpec[] {
  const coreDirs = [-12, 0, 10, 22.5, 35, 48, 58];
  const coreSpeeds = [0.35, 0.5, 0.45, 0.6, 0.4, 0.55, 0.5];
  const core = CORE_REGIONS.map((name, i) => ({ name, dirDeg: coreDirs[i]!, speed: coreSpeeds[i]!, lambda: 0.3, oroSeed: 100 + i, transfer: false }));
  const trDirs = [105, -60, 80];
  const tr = TRANSFER_REGIONS.map((name, i) => ({ name, dirDeg: trDirs[i]!, speed: 0.6, lambda: 0.2, oroSeed: 200 + i, transfer: true }));
  return [...core, ...tr];
}

export interface SynthConfig {
  geometry: Geometry;
  slotsPerDay: number;
  /** training days per region-year (one slot in the middle is dropped to make a real gap) */
  trainDays: number;
  valSeqs: number;
  testSeqs: number;
  /** rain intensity scale and exponent: rate = I · (f(1+b))^γ · (1 + 0.2 n) */
  intensity: number;
  gamma: number;
  /** fraction of radar pixels set to the no-data code */
  maskFraction: number;
}

export function defaultSynthConfig(g: Geometry, o: Partial<SynthConfig> = {}): SynthConfig {
  return { geometry: g, slotsPerDay: 96, trainDays: 2, valSeqs: 6, testSeqs: 6, intensity: 1, gamma: 1.5, maskFraction: 0.005, ...o };
}

/** Synthetic clip ranges (physical units of the generator); μ, σ are estimated on training data. */
export function synthRange(c: ChannelName): { lo: number; hi: number } {
  if (c.startsWith('VIS')) return { lo: 0, hi: 1.2 };
  if (c.startsWith('WV')) return { lo: 0, hi: 300 };
  return { lo: 0, hi: 350 };
}

interface Blob { cx: number; cy: number; vx: number; vy: number; r: number; amp: number; born: number; life: number; rain: boolean }

/** One region-year timeline: satellite (N, 11, H, W), radar (N, 1, h, w) raw rates, and its rows. */
export interface Timeline {
  region: RegionSpec; year: YearSpec;
  /** satellite images of every slot, (nSlots, 11, H, W) */
  hrit: Float32Array;
  /** raw radar rates of every slot, (nSlots, 1, h, w) */
  radar: Float32Array;
  rows: SplitRow[];
  nSlots: number;
}

function orography(seed: number, n: number): Float64Array {
  const rng = new Rng(seed);
  const b = new Float64Array(n * n);
  for (let k = 0; k < 3; k++) {
    const cx = rng.uniform(0, n), cy = rng.uniform(0, n), s = rng.uniform(0.12, 0.25) * n, a = rng.uniform(0.4, 1);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) b[y * n + x]! += a * Math.exp(-((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2) / (2 * s * s));
  }
  return b;
}

/** A fast seeded normal source for pixel noise (xorshift32 + Box–Muller); the blob process keeps Rng. */
function fastNormal(seed: number): () => number {
  let x = (seed >>> 0) || 0x9e3779b9;
  let spare = NaN;
  const u = () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return (x + 0.5) / 4294967296; };
  return () => {
    if (!Number.isNaN(spare)) { const s = spare; spare = NaN; return s; }
    const r = Math.sqrt(-2 * Math.log(u())), th = 2 * Math.PI * u();
    spare = r * Math.sin(th);
    return r * Math.cos(th);
  };
}

function poisson(rng: Rng, lam: number): number {
  const L = Math.exp(-lam);
  let k = 0, p = 1;
  do { k++; p *= rng.random(); } while (p > L);
  return k - 1;
}

/** Life-cycle amplitude: rises over the first quarter of the lifetime, holds, decays over the last quarter. */
export function lifeCycle(age: number, life: number): number {
  if (age < 0 || age > life) return 0;
  const u = age / life;
  return u < 0.25 ? u / 0.25 : u > 0.75 ? (1 - u) / 0.25 : 1;
}

const dateOf = (day: number) => { const d = new Date(Date.UTC(2000, 0, 1) + day * 86400000); return d.toISOString().slice(0, 10).replace(/-/g, ''); };

/**
 * Generates one region-year: a continuous slot timeline split into training days, validation
 * sequences (tIn `validation_in` + tOut `validation_target`, with buffers) and test sequences.
 */
export function generateTimeline(cfg: SynthConfig, region: RegionSpec, year: YearSpec, seed: number): Timeline {
  const g = cfg.geometry;
  const n = g.inSize, ho = outSize(g), s0 = cropStart(g);
  const L = g.tIn + g.tOut, buffer = 4;
  const trainSlots = cfg.trainDays * cfg.slotsPerDay;
  const nSlots = trainSlots + cfg.valSeqs * (L + buffer) + cfg.testSeqs * (L + buffer);
  const rng = new Rng(seed);
  const b = orography(region.oroSeed, n);
  const ang = ((region.dirDeg + year.rotDeg) * Math.PI) / 180, speed = region.speed * year.speedScale;
  // array coordinates: x = column (east), y = row (south); north-moving means dy < 0
  const vx0 = speed * Math.cos(ang), vy0 = -speed * Math.sin(ang);
  const lam = region.lambda * year.lambdaScale * (n * n) / 576;
  const margin = Math.max(6, speed * 30);
  const blobs: Blob[] = [];
  const spawn = (t: number) => {
    for (;;) {
      const cx = rng.uniform(-margin, n + margin), cy = rng.uniform(-margin, n + margin);
      const bi = Math.min(n - 1, Math.max(0, Math.floor(cy))) * n + Math.min(n - 1, Math.max(0, Math.floor(cx)));
      if (rng.random() < 0.35 + 0.65 * Math.min(1, b[bi]!)) {
        const rain = rng.random() >= 0.3;
        blobs.push({
          cx, cy, vx: vx0 * (1 + 0.15 * rng.normal()) + 0.04 * rng.normal(), vy: vy0 * (1 + 0.15 * rng.normal()) + 0.04 * rng.normal(),
          r: rng.uniform(1.5, 4), amp: rain ? rng.uniform(0.7, 1.6) : rng.uniform(0.2, 0.45), born: t - rng.int(0, 8),
          life: rng.int(8, 41), rain,
        });
        return;
      }
    }
  };
  // warm-up so that the first slot already has blobs in every life stage
  for (let t = -40; t < 0; t++) { const k = poisson(rng, lam); for (let i = 0; i < k; i++) spawn(t); }
  const hrit = new Float32Array(nSlots * 11 * n * n);
  const radar = new Float32Array(nSlots * ho * ho);
  const fc = new Float64Array(n * n), fr = new Float64Array(ho * ho), cblur = new Float64Array(n * n);
  const irOffset = [2, -1, 0, -8, 1, 0, -6];
  const noise = fastNormal(rng.nextU32());
  for (let t = 0; t < nSlots; t++) {
    const k = poisson(rng, lam);
    for (let i = 0; i < k; i++) spawn(t);
    fc.fill(0); fr.fill(0);
    for (let bi = blobs.length - 1; bi >= 0; bi--) {
      const B = blobs[bi]!;
      const age = t - B.born;
      if (age > B.life) { blobs.splice(bi, 1); continue; }
      const a = B.amp * lifeCycle(age, B.life);
      if (a <= 0) continue;
      const cx = B.cx + B.vx * age, cy = B.cy + B.vy * age, inv = 1 / (2 * B.r * B.r), R = 3.5 * B.r;
      for (let y = Math.max(0, Math.floor(cy - R)); y < Math.min(n, Math.ceil(cy + R)); y++) {
        for (let x = Math.max(0, Math.floor(cx - R)); x < Math.min(n, Math.ceil(cx + R)); x++) {
          fc[y * n + x]! += a * Math.exp(-((x + 0.5 - cx) ** 2 + (y + 0.5 - cy) ** 2) * inv);
        }
      }
      if (!B.rain) continue;
      // fine pixel (i, j) centre in coarse coordinates: s0 + (i + 0.5) / scale
      const i0 = Math.max(0, Math.floor((cy - R - s0) * g.scale)), i1 = Math.min(ho, Math.ceil((cy + R - s0) * g.scale));
      const j0 = Math.max(0, Math.floor((cx - R - s0) * g.scale)), j1 = Math.min(ho, Math.ceil((cx + R - s0) * g.scale));
      for (let i = i0; i < i1; i++) {
        const yy = s0 + (i + 0.5) / g.scale;
        for (let j = j0; j < j1; j++) {
          const xx = s0 + (j + 0.5) / g.scale;
          fr[i * ho + j]! += a * Math.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) * inv);
        }
      }
    }
    // radar: rate = I (f (1 + b))^γ (1 + 0.2 n); 0.5% no-data; dry pixels occasionally "undetected"
    const rOff = t * ho * ho;
    for (let i = 0; i < ho; i++) {
      for (let j = 0; j < ho; j++) {
        const bb = b[(s0 + Math.floor(i / g.scale)) * n + s0 + Math.floor(j / g.scale)]!;
        let rate = cfg.intensity * (fr[i * ho + j]! * (1 + bb)) ** cfg.gamma * Math.max(0, 1 + 0.2 * noise());
        if (rate < 0.01 && rng.random() < 0.05) rate = UNDETECTED;
        if (rng.random() < cfg.maskFraction) rate = NO_DATA;
        radar[rOff + i * ho + j] = rate;
      }
    }
    // satellite from the cloud fraction
    for (let p = 0; p < n * n; p++) fc[p] = 1 - Math.exp(-fc[p]!);
    for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) {
      let sum = 0, cnt = 0;
      for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) {
        const yy = y + dy, xx = x + dx;
        if (yy >= 0 && yy < n && xx >= 0 && xx < n) { sum += fc[yy * n + xx]!; cnt++; }
      }
      cblur[y * n + x] = sum / cnt;
    }
    const slotOfDay = t % cfg.slotsPerDay;
    const daylight = Math.max(0, Math.sin(2 * Math.PI * (slotOfDay / cfg.slotsPerDay - 0.25 + year.diurnalPhase)));
    const off = t * 11 * n * n;
    for (let p = 0; p < n * n; p++) {
      const c = fc[p]!;
      for (let ch = 0; ch < 7; ch++) hrit[off + ch * n * n + p] = 285 - 55 * c + irOffset[ch]! + noise();
      hrit[off + 7 * n * n + p] = (0.05 + 0.6 * c) * daylight;
      hrit[off + 8 * n * n + p] = (0.06 + 0.65 * c) * daylight;
      hrit[off + 9 * n * n + p] = 235 - 15 * cblur[p]! + 0.3 * noise();
      hrit[off + 10 * n * n + p] = 250 - 18 * cblur[p]! + 0.3 * noise();
    }
  }
  // the splits table: training days (one dropped slot = a real gap), then validation and test sequences
  const rows: SplitRow[] = [];
  const gapSlot = Math.floor(trainSlots / 2) + 3;
  for (let t = 0; t < nSlots; t++) {
    // timestamps are real 15-min slots (96 a day) whatever the synthetic diurnal period slotsPerDay
    const day = Math.floor(t / 96), m = (t % 96) * 15;
    const time = `${String(Math.floor(m / 60)).padStart(2, '0')}${String(m % 60).padStart(2, '0')}00`;
    let split = 'training', type = '-';
    if (t >= trainSlots) {
      const u = t - trainSlots, valSpan = cfg.valSeqs * (L + buffer);
      const isVal = u < valSpan;
      const v = isVal ? u % (L + buffer) : (u - valSpan) % (L + buffer);
      const pre = isVal ? 'validation' : 'test';
      split = v < L ? pre : '-';
      type = v < g.tIn ? `${pre}_in` : v < L ? `${pre}_target` : `${pre}_buffer`;
      if (v >= L) split = '-';
    }
    const ok = t === gapSlot ? 0 : 1;
    rows.push({ time, date_str: dateOf(day + (year.year - 2000) * 400), date: '', RATE: ok, ACRR: ok, DBZH: ok, 'REFL-BT': ok, all_vars: ok, split, split_type: type });
  }
  return { region, year, hrit, radar, rows, nSlots };
}

/** Slot indices (into the timeline) of each split, in file order. */
export function slotsOf(tl: Timeline, split: 'train' | 'val' | 'test'): number[] {
  const want = { train: 'training', val: 'validation', test: 'test' }[split];
  const out: number[] = [];
  tl.rows.forEach((r, t) => { if (r.split === want && r.all_vars === 1 && (split !== 'test' || r.split_type === 'test_in')) out.push(t); });
  return out;
}

/** Test targets: for each test sequence, the tOut slots after its tIn input slots. */
export function testTargetSlots(tl: Timeline, tIn: number, tOut: number): number[] {
  const ins = slotsOf(tl, 'test');
  const out: number[] = [];
  for (let j = 0; j < ins.length; j += tIn) for (let k = 0; k < tOut; k++) out.push(ins[j + tIn - 1]! + 1 + k);
  return out;
}

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

export interface SynthPlan { regions: RegionSpec[]; years: YearSpec[]; cells: { region: RegionSpec; year: YearSpec; set: 'core' | 'transfer' }[] }

/** Core: 7 regions × 2 years (train/val/test). Transfer (test only): 3 new regions × 2 years + all regions in the shifted year. */
export function synthPlan(o: { coreRegions?: number; transferRegions?: number } = {}): SynthPlan {
  const all = defaultRegions();
  const core = all.filter((r) => !r.transfer).slice(0, o.coreRegions ?? 7);
  const tr = all.filter((r) => r.transfer).slice(0, o.transferRegions ?? 3);
  const cells: SynthPlan['cells'] = [];
  for (const y of TRAIN_YEARS) for (const r of core) cells.push({ region: r, year: y, set: 'core' });
  for (const y of TRAIN_YEARS) for (const r of tr) cells.push({ region: r, year: y, set: 'transfer' });
  for (const r of [...core, ...tr]) cells.push({ region: r, year: SHIFTED_YEAR, set: 'transfer' });
  return { regions: [...core, ...tr], years: [...TRAIN_YEARS, SHIFTED_YEAR], cells };
}

/** Writes the whole synthetic data set (every planned cell) and each year's splits CSV. */
export async function writeSynthetic(root: string, cfg: SynthConfig, seed: number, plan = synthPlan(), onCell?: (i: number, n: number) => void): Promise<{ files: string[]; cells: number }> {
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

export function cellSeed(seed: number, region: string, year: number): number {
  let h = seed * 1000003 + year;
  for (const ch of region) h = (h * 31 + ch.charCodeAt(0)) % 2147483647;
  return h;
}

// ------------------------------------------------------------------ in-memory samples
/** A batch-ready set of samples: x (N, C, tIn, H, W), y and mask (N, 1, tOut, h, w). */
export interface SampleSet { x: Tensor; y: Tensor; mask: Tensor; cell: string; region: string; year: number }

/** Per-channel μ, σ of raw satellite values over timelines (the synthetic replacement of the §2.3 table). */
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
