// Pure-TypeScript synthetic generator with planted regime changes [ours: the paper evaluates on
// Brisbane bus data, not on planted changes].
// Fixed N cells on a jittered grid; each regime r has an OD intensity matrix Λ_r from a gravity
// model with a regime-specific attraction pattern; per slice, counts ~ Poisson(v_r · V · Λ_r).
// Families: (a) volume + structure change, (b) structure only (constant v), null (one regime).
// Emits either flows (a FlowSeries, for the detectors) or point trajectories (for the whole
// pipeline), and writes point tables as CSV or Parquet (`generate`).
import fs from 'node:fs';
import { Rng } from '../../core/rng.ts';
import type { FlowSeries, PointTable } from './types.ts';
import { GrowF64, GrowI32 } from './types.ts';
import { fromLocal } from './crs.ts';
import { defaults, type Family, type PointFormat } from './config.ts';

export type { Family };
export type Pattern = 'inbound' | 'outbound' | 'east' | 'west' | 'north' | 'south' | 'uniform';
const PATTERNS: Pattern[] = ['inbound', 'outbound', 'east', 'west', 'north', 'south', 'uniform'];

export interface SyntheticOptions {
  family: Family;
  seed: number;
  /** slices (default 96 = one day of 15-min slices) */
  T?: number;
  /** cells per grid side (N = side²; default 4 -> 16 cells) */
  gridSide?: number;
  /** cell spacing in metres (default 1000) */
  spacingM?: number;
  /** planted change-points (default 4; ignored for null) */
  nChanges?: number;
  /** minimum distance between planted change-points and from the ends (default 8 slices) */
  minSpacing?: number;
  /** expected moves per slice at volume multiplier 1 (default 1500) */
  volume?: number;
  /** gravity distance decay in metres (default 1500) */
  decayM?: number;
}

export interface SyntheticTruth {
  changepoints: number[];
  regimes: { start: number; end: number; pattern: Pattern; volume: number }[];
  seeds: { x: Float64Array; y: Float64Array };
}

/** Poisson sample (Knuth for small means, rounded normal approximation for λ ≥ 30). */
export function poisson(rng: Rng, lambda: number): number {
  if (!(lambda > 0)) return 0;
  if (lambda < 30) {
    const L = Math.exp(-lambda);
    let k = 0, p = 1;
    do { k++; p *= rng.random(); } while (p > L);
    return k - 1;
  }
  return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * rng.normal()));
}

function cellGrid(rng: Rng, side: number, spacing: number): { x: Float64Array; y: Float64Array } {
  const n = side * side, x = new Float64Array(n), y = new Float64Array(n);
  for (let i = 0; i < side; i++) for (let j = 0; j < side; j++) {
    x[i * side + j] = j * spacing + rng.uniform(-0.15, 0.15) * spacing;
    y[i * side + j] = i * spacing + rng.uniform(-0.15, 0.15) * spacing;
  }
  return { x, y };
}

/** Gravity OD intensities (rows sum to anything; total normalised to 1), self-pairs zero. */
export function gravity(cx: Float64Array, cy: Float64Array, pattern: Pattern, decayM: number): Float64Array {
  const n = cx.length;
  let mx = 0, my = 0; for (let i = 0; i < n; i++) { mx += cx[i]!; my += cy[i]!; } mx /= n; my /= n;
  let span = 1; for (let i = 0; i < n; i++) span = Math.max(span, Math.abs(cx[i]! - mx), Math.abs(cy[i]! - my));
  const attract = (j: number): number => {
    const dx = (cx[j]! - mx) / span, dy = (cy[j]! - my) / span, r = Math.hypot(dx, dy);
    switch (pattern) {
      case 'inbound': return Math.exp(-3 * r);
      case 'outbound': return Math.exp(3 * r) / 8;
      case 'east': return Math.exp(2.5 * dx);
      case 'west': return Math.exp(-2.5 * dx);
      case 'north': return Math.exp(2.5 * dy);
      case 'south': return Math.exp(-2.5 * dy);
      default: return 1;
    }
  };
  const lam = new Float64Array(n * n);
  let tot = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    if (i === j) continue;
    const d = Math.hypot(cx[i]! - cx[j]!, cy[i]! - cy[j]!);
    const v = attract(j) * Math.exp(-d / decayM);
    lam[i * n + j] = v; tot += v;
  }
  for (let k = 0; k < lam.length; k++) lam[k] = lam[k]! / tot;
  return lam;
}

/** Planted change-points and the regime schedule. */
export function plantRegimes(rng: Rng, o: Required<Pick<SyntheticOptions, 'family' | 'T' | 'nChanges' | 'minSpacing'>>): SyntheticTruth['regimes'] {
  const K = o.family === 'null' ? 0 : o.nChanges;
  let cps: number[] = [];
  if (K > 0) {
    if ((K + 1) * o.minSpacing > o.T) throw new Error(`synthetic: ${K} change-points with spacing ${o.minSpacing} do not fit in T=${o.T}`);
    // stars and bars: gaps ≥ minSpacing
    const slack = o.T - (K + 1) * o.minSpacing;
    const cuts = Array.from({ length: K }, () => rng.int(0, slack + 1)).sort((a, b) => a - b);
    cps = cuts.map((c, i) => c + (i + 1) * o.minSpacing);
  }
  const vols = [0.35, 0.6, 1, 1.6];
  const regimes: SyntheticTruth['regimes'] = [];
  let prevP: Pattern | null = null, prevV = -1;
  const bounds = [0, ...cps, o.T];
  for (let r = 0; r + 1 < bounds.length; r++) {
    let p: Pattern;
    do { p = PATTERNS[rng.int(0, PATTERNS.length)]!; } while (p === prevP);
    let v = 1;
    if (o.family === 'a') { do { v = vols[rng.int(0, vols.length)]!; } while (v === prevV); }
    regimes.push({ start: bounds[r]!, end: bounds[r + 1]!, pattern: p, volume: v });
    prevP = p; prevV = v;
  }
  return regimes;
}

function withDefaults(o: SyntheticOptions) {
  const d = defaults.generator;
  return {
    family: o.family, seed: o.seed, T: o.T ?? d.T, gridSide: o.gridSide ?? d.gridSide, spacingM: o.spacingM ?? d.spacingM,
    nChanges: o.nChanges ?? d.nChanges, minSpacing: o.minSpacing ?? d.minSpacing, volume: o.volume ?? d.volume, decayM: o.decayM ?? d.decayM,
  };
}

/** Synthetic flow series (moves = objects: each move is one vehicle) with its ground truth. */
export function syntheticFlows(opts: SyntheticOptions): { flows: FlowSeries; truth: SyntheticTruth } {
  const o = withDefaults(opts);
  const rng = new Rng(o.seed);
  const seeds = cellGrid(rng, o.gridSide, o.spacingM);
  const N = seeds.x.length;
  const regimes = plantRegimes(rng, o);
  const lams = new Map<Pattern, Float64Array>();
  const slice = new GrowI32(), src = new GrowI32(), dst = new GrowI32(), mv = new GrowF64();
  for (const reg of regimes) {
    if (!lams.has(reg.pattern)) lams.set(reg.pattern, gravity(seeds.x, seeds.y, reg.pattern, o.decayM));
    const lam = lams.get(reg.pattern)!;
    for (let t = reg.start; t < reg.end; t++) {
      for (let k = 0; k < N * N; k++) {
        const c = poisson(rng, reg.volume * o.volume * lam[k]!);
        if (c > 0) { slice.push(t); src.push(Math.floor(k / N)); dst.push(k % N); mv.push(c); }
      }
    }
  }
  const moves = mv.finish();
  const flows: FlowSeries = {
    slice: slice.finish(), src: src.finish(), dst: dst.finish(), moves, objects: moves.slice(),
    T: o.T, N, t0: 0, sliceS: 900,
  };
  return { flows, truth: { changepoints: regimes.slice(1).map((r) => r.start), regimes, seeds } };
}

export interface SyntheticPointsOptions extends SyntheticOptions {
  sliceS?: number;
  /** GPS sampling interval (default 15 s) */
  sampleS?: number;
  /** vehicle speed m/s (default 10) */
  speedMps?: number;
  /** position noise (std, metres; default 5) */
  noiseM?: number;
  /** emit lon/lat about this origin instead of metres */
  geoOrigin?: { lon0: number; lat0: number } | null;
  /** time of slice 0 (default 0 = midnight) */
  t0?: number;
}

/**
 * Synthetic point trajectories: per slice, OD counts ~ Poisson(v·V·Λ_r); every trip is a straight
 * line from a random point near the origin cell's seed to one near the destination's seed,
 * departing uniformly within the slice, sampled every `sampleS` s. Object ids are `veh<k>`.
 */
export function syntheticPoints(opts: SyntheticPointsOptions): { points: PointTable; truth: SyntheticTruth; trips: number } {
  const o = withDefaults(opts), d = defaults.generator;
  const sliceS = opts.sliceS ?? d.sliceS, sampleS = opts.sampleS ?? d.sampleS, v = opts.speedMps ?? d.speedMps, noise = opts.noiseM ?? d.noiseM;
  const t0 = opts.t0 ?? 0;
  const rng = new Rng(o.seed);
  const seeds = cellGrid(rng, o.gridSide, o.spacingM);
  const N = seeds.x.length;
  const regimes = plantRegimes(rng, o);
  const ob = new GrowI32(), tt = new GrowF64(), xx = new GrowF64(), yy = new GrowF64();
  const ids: string[] = [];
  const jit = 0.3 * o.spacingM;
  for (const reg of regimes) {
    const lam = gravity(seeds.x, seeds.y, reg.pattern, o.decayM);
    for (let s = reg.start; s < reg.end; s++) {
      for (let k = 0; k < N * N; k++) {
        const c = poisson(rng, reg.volume * o.volume * lam[k]!);
        const i = Math.floor(k / N), j = k % N;
        for (let q = 0; q < c; q++) {
          const id = ids.length; ids.push(`veh${id}`);
          const ax = seeds.x[i]! + rng.uniform(-jit, jit), ay = seeds.y[i]! + rng.uniform(-jit, jit);
          const bx = seeds.x[j]! + rng.uniform(-jit, jit), by = seeds.y[j]! + rng.uniform(-jit, jit);
          const dur = Math.hypot(bx - ax, by - ay) / v;
          const dep = t0 + s * sliceS + rng.uniform(0, sliceS);
          const steps = Math.max(1, Math.ceil(dur / sampleS));
          for (let m = 0; m <= steps; m++) {
            const f = Math.min(1, (m * sampleS) / dur);
            ob.push(id); tt.push(Math.round((dep + Math.min(m * sampleS, dur)) * 1000) / 1000);
            xx.push(ax + f * (bx - ax) + noise * rng.normal()); yy.push(ay + f * (by - ay) + noise * rng.normal());
          }
        }
      }
    }
  }
  const n = ob.n;
  const x = xx.finish(), y = yy.finish();
  const geo = opts.geoOrigin ?? null;
  if (geo) {
    // the inverse of the local projection (crs.ts) about the origin: these are then lon/lat values (x = lon, y = lat)
    const inv = fromLocal(geo);
    for (let k = 0; k < n; k++) { const [lon, lat] = inv(x[k]!, y[k]!); x[k] = lon; y[k] = lat; }
  }
  return {
    points: { n, obj: ob.finish(), ids, t: tt.finish(), x, y, geo: null, source: 'synthetic' },
    truth: { changepoints: regimes.slice(1).map((r) => r.start), regimes, seeds }, trips: ids.length,
  };
}

/** Writes a point table as CSV (object_id,t,lon,lat when geo, else object_id,t,x,y). */
export function writePointsCsv(file: string, pts: PointTable, geo: boolean): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, geo ? 'object_id,t,lon,lat\n' : 'object_id,t,x,y\n');
    let buf: string[] = [];
    for (let i = 0; i < pts.n; i++) {
      buf.push(`${pts.ids[pts.obj[i]!]},${pts.t[i]},${geo ? pts.x[i]!.toFixed(7) : pts.x[i]!.toFixed(2)},${geo ? pts.y[i]!.toFixed(7) : pts.y[i]!.toFixed(2)}`);
      if (buf.length === 50000) { fs.writeSync(fd, buf.join('\n') + '\n'); buf = []; }
    }
    if (buf.length) fs.writeSync(fd, buf.join('\n') + '\n');
  } finally { fs.closeSync(fd); }
}

/** Writes a point table as CSV or Parquet (`<base>.csv` / `<base>.parquet`, Parquet through DuckDB); returns the file. */
export async function writePoints(base: string, pts: PointTable, geo: boolean, format: PointFormat = defaults.generate.format): Promise<string> {
  const csv = `${base}.csv`;
  writePointsCsv(csv, pts, geo);
  if (format === 'csv') return csv;
  const file = `${base}.parquet`;
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:'); const con = await inst.connect();
  try {
    await con.run(`COPY (SELECT * FROM read_csv('${csv.replaceAll("'", "''")}', header=true)) TO '${file.replaceAll("'", "''")}' (FORMAT parquet, ROW_GROUP_SIZE 100000)`);
  } finally { con.closeSync(); inst.closeSync(); fs.rmSync(csv); }
  return file;
}
