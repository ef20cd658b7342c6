// The seeded synthetic "advecting rain" generator (ours; README.md describes it), with region and
// season shift: 7 core regions whose winds blow within ±40° of east-north-east, 3 transfer regions
// outside that cone, and a shifted year (more storms, faster, directions +15°, diurnal phase moved).
// Latent cloud water = Gaussian blobs moving with a regional prevailing wind and a rise-hold-decay
// life cycle; ~30% of blobs never precipitate. Radar truth is evaluated at fine-pixel centres of
// the central block; satellite channels derive from the cloud fraction c = 1 − exp(−f).
// samples.ts writes the timelines in the exact W4C22 layout (so the real loader is tested end to
// end) or cuts them into in-memory sample sets (the ablation's benchmark).
import { Rng } from '../../core/rng.ts';
import { type Geometry, cropStart, outSize } from './geometry.ts';
import { type ChannelName, type SplitRow, NO_DATA, UNDETECTED, CORE_REGIONS, TRANSFER_REGIONS } from './data.ts';
import { SYNTH } from './config.ts';

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
/** The shifted "year": λ ×1.3, speed ×1.2, directions +15°, diurnal phase shifted. */
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

/** The generator's defaults (config.ts SYNTH.generator) at geometry g, overridden by o. */
export function defaultSynthConfig(g: Geometry, o: Partial<SynthConfig> = {}): SynthConfig {
  return { geometry: g, ...SYNTH.generator, ...o };
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

/** Slots between two validation or test sequences. */
const SEQ_BUFFER = 4;
/** Per-channel offsets of the 7 IR-like channels (K). */
const IR_OFFSET = [2, -1, 0, -8, 1, 0, -6];

/** The latent field's blobs: Poisson arrivals biased toward the orography, drifting with the region's wind. */
class BlobProcess {
  readonly blobs: Blob[] = [];
  private readonly vx0: number; private readonly vy0: number; private readonly lam: number; private readonly margin: number;
  constructor(private readonly n: number, region: RegionSpec, year: YearSpec, private readonly b: Float64Array, private readonly rng: Rng) {
    const ang = ((region.dirDeg + year.rotDeg) * Math.PI) / 180, speed = region.speed * year.speedScale;
    // array coordinates: x = column (east), y = row (south); north-moving means dy < 0
    this.vx0 = speed * Math.cos(ang); this.vy0 = -speed * Math.sin(ang);
    this.lam = region.lambda * year.lambdaScale * (n * n) / 576;
    this.margin = Math.max(6, speed * 30);
  }
  /** The blobs born at slot t (Poisson with rate λ). */
  arrivals(t: number): void {
    const k = poisson(this.rng, this.lam);
    for (let i = 0; i < k; i++) this.spawn(t);
  }
  private spawn(t: number): void {
    const { n, b, rng, margin } = this;
    for (;;) {
      const cx = rng.uniform(-margin, n + margin), cy = rng.uniform(-margin, n + margin);
      const bi = Math.min(n - 1, Math.max(0, Math.floor(cy))) * n + Math.min(n - 1, Math.max(0, Math.floor(cx)));
      if (rng.random() < 0.35 + 0.65 * Math.min(1, b[bi]!)) {
        const rain = rng.random() >= 0.3;
        this.blobs.push({
          cx, cy, vx: this.vx0 * (1 + 0.15 * rng.normal()) + 0.04 * rng.normal(), vy: this.vy0 * (1 + 0.15 * rng.normal()) + 0.04 * rng.normal(),
          r: rng.uniform(1.5, 4), amp: rain ? rng.uniform(0.7, 1.6) : rng.uniform(0.2, 0.45), born: t - rng.int(0, 8),
          life: rng.int(8, 41), rain,
        });
        return;
      }
    }
  }
  /**
   * Renders slot t: the latent field f at coarse pixels into fc (every blob) and at the fine pixel
   * centres of the central block into fr (raining blobs only). Blobs past their lifetime are dropped.
   */
  render(t: number, g: Geometry, fc: Float64Array, fr: Float64Array): void {
    const n = this.n, ho = outSize(g), s0 = cropStart(g);
    fc.fill(0); fr.fill(0);
    for (let bi = this.blobs.length - 1; bi >= 0; bi--) {
      const B = this.blobs[bi]!;
      const age = t - B.born;
      if (age > B.life) { this.blobs.splice(bi, 1); continue; }
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
  }
}

/** Radar of slot t: rate = I (f (1 + b))^γ (1 + 0.2 n); a fraction maskFraction no-data; dry pixels occasionally "undetected". */
function radarSlot(cfg: SynthConfig, b: Float64Array, fr: Float64Array, out: Float32Array, t: number, noise: () => number, rng: Rng): void {
  const g = cfg.geometry, n = g.inSize, ho = outSize(g), s0 = cropStart(g);
  const rOff = t * ho * ho;
  for (let i = 0; i < ho; i++) {
    for (let j = 0; j < ho; j++) {
      const bb = b[(s0 + Math.floor(i / g.scale)) * n + s0 + Math.floor(j / g.scale)]!;
      let rate = cfg.intensity * (fr[i * ho + j]! * (1 + bb)) ** cfg.gamma * Math.max(0, 1 + 0.2 * noise());
      if (rate < 0.01 && rng.random() < 0.05) rate = UNDETECTED;
      if (rng.random() < cfg.maskFraction) rate = NO_DATA;
      out[rOff + i * ho + j] = rate;
    }
  }
}

/**
 * Satellite of slot t from the cloud fraction c = 1 − exp(−f) (fc is overwritten with c): 7 IR-like
 * channels ≈ 285 − 55c K, 2 VIS-like (0.05 + 0.6c) × daylight, 2 WV-like ≈ 235 − 15·blur(c).
 */
function satelliteSlot(cfg: SynthConfig, year: YearSpec, fc: Float64Array, cblur: Float64Array, out: Float32Array, t: number, noise: () => number): void {
  const n = cfg.geometry.inSize;
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
    for (let ch = 0; ch < 7; ch++) out[off + ch * n * n + p] = 285 - 55 * c + IR_OFFSET[ch]! + noise();
    out[off + 7 * n * n + p] = (0.05 + 0.6 * c) * daylight;
    out[off + 8 * n * n + p] = (0.06 + 0.65 * c) * daylight;
    out[off + 9 * n * n + p] = 235 - 15 * cblur[p]! + 0.3 * noise();
    out[off + 10 * n * n + p] = 250 - 18 * cblur[p]! + 0.3 * noise();
  }
}

/** The splits table: training days (one dropped slot = a real gap), then validation and test sequences with buffers. */
function splitsTable(cfg: SynthConfig, year: YearSpec, nSlots: number, trainSlots: number): SplitRow[] {
  const g = cfg.geometry, L = g.tIn + g.tOut;
  const rows: SplitRow[] = [];
  const gapSlot = Math.floor(trainSlots / 2) + 3;
  for (let t = 0; t < nSlots; t++) {
    // timestamps are real 15-min slots (96 a day) whatever the synthetic diurnal period slotsPerDay
    const day = Math.floor(t / 96), m = (t % 96) * 15;
    const time = `${String(Math.floor(m / 60)).padStart(2, '0')}${String(m % 60).padStart(2, '0')}00`;
    let split = 'training', type = '-';
    if (t >= trainSlots) {
      const u = t - trainSlots, valSpan = cfg.valSeqs * (L + SEQ_BUFFER);
      const isVal = u < valSpan;
      const v = isVal ? u % (L + SEQ_BUFFER) : (u - valSpan) % (L + SEQ_BUFFER);
      const pre = isVal ? 'validation' : 'test';
      split = v < L ? pre : '-';
      type = v < g.tIn ? `${pre}_in` : v < L ? `${pre}_target` : `${pre}_buffer`;
      if (v >= L) split = '-';
    }
    const ok = t === gapSlot ? 0 : 1;
    rows.push({ time, date_str: dateOf(day + (year.year - 2000) * 400), date: '', RATE: ok, ACRR: ok, DBZH: ok, 'REFL-BT': ok, all_vars: ok, split, split_type: type });
  }
  return rows;
}

/**
 * Generates one region-year: a continuous slot timeline split into training days, validation
 * sequences (tIn `validation_in` + tOut `validation_target`, with buffers) and test sequences.
 */
export function generateTimeline(cfg: SynthConfig, region: RegionSpec, year: YearSpec, seed: number): Timeline {
  const g = cfg.geometry;
  const n = g.inSize, ho = outSize(g);
  const L = g.tIn + g.tOut;
  const trainSlots = cfg.trainDays * cfg.slotsPerDay;
  const nSlots = trainSlots + cfg.valSeqs * (L + SEQ_BUFFER) + cfg.testSeqs * (L + SEQ_BUFFER);
  const rng = new Rng(seed);
  const b = orography(region.oroSeed, n);
  const blobs = new BlobProcess(n, region, year, b, rng);
  // warm-up so that the first slot already has blobs in every life stage
  for (let t = -40; t < 0; t++) blobs.arrivals(t);
  const hrit = new Float32Array(nSlots * 11 * n * n);
  const radar = new Float32Array(nSlots * ho * ho);
  const fc = new Float64Array(n * n), fr = new Float64Array(ho * ho), cblur = new Float64Array(n * n);
  const noise = fastNormal(rng.nextU32());
  for (let t = 0; t < nSlots; t++) {
    blobs.arrivals(t);
    blobs.render(t, g, fc, fr);
    radarSlot(cfg, b, fr, radar, t, noise, rng);
    satelliteSlot(cfg, year, fc, cblur, hrit, t, noise);
  }
  return { region, year, hrit, radar, rows: splitsTable(cfg, year, nSlots, trainSlots), nSlots };
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

/** The generator seed of one region-year cell of a data set drawn with `seed`. */
export function cellSeed(seed: number, region: string, year: number): number {
  let h = seed * 1000003 + year;
  for (const ch of region) h = (h * 31 + ch.charCodeAt(0)) % 2147483647;
  return h;
}
