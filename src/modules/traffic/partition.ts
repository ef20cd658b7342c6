// The paper's first stage, network partitioning: seed points from the trajectories are grouped
// into cells of a desired radius and the cells are the Voronoi tessellation of the group centres —
// the spatial generalisation of Andrienko & Andrienko (IEEE TVCG 17(2), 2011): characteristic points
// of each trip, grouping with a maximum radius R on a grid index, one redistribution pass, small
// groups dropped, boundary seeds on a 2R lattice, Voronoi cells (d3-delaunay) clipped to the
// bounding box enlarged by R, and nearest-seed assignment with a KD-tree (kdbush). The thresholds
// are ours [recon] (config.ts).
import { Delaunay } from 'd3-delaunay';
import KDBush from 'kdbush';
import { Rng } from '../../core/rng.ts';
import type { TripTable } from './types.ts';
import { defaults } from './config.ts';

export interface PartitionOptions {
  radiusM?: number;
  minAngleDeg?: number;
  minStopS?: number;
  minDistM?: number;
  /** default maxDistPerRadius·R = 2R [recon] */
  maxDistM?: number;
  minGroupSize?: number;
  /** sample at most this many trips for characteristic points (default 200 000) */
  maxTrips?: number;
  seed?: number;
}

export interface Partition {
  sx: Float64Array; sy: Float64Array;
  /** characteristic points per seed (0 for boundary seeds) */
  count: Int32Array;
  boundary: Uint8Array;
  /** Voronoi polygon rings per seed (metres) */
  polygons: [number, number][][];
  bbox: [number, number, number, number];
  radiusM: number;
  /** max over assigned points of the nearest-seed distance (set by assign) */
  coverageRadius: number;
  nCharacteristic: number;
}

/**
 * Characteristic points of one trip (indices into the table), after Andrienko & Andrienko: the first
 * and last point, a point every maxDistM, stops (≥ minStopS within minDistM) and turns (≥ minAngleDeg).
 */
export function characteristicPoints(p: TripTable, a: number, b: number, o: Required<Pick<PartitionOptions, 'minAngleDeg' | 'minStopS' | 'minDistM' | 'maxDistM'>>, out: number[]): void {
  const { x, y, t } = p;
  const d = (i: number, j: number) => Math.hypot(x[i]! - x[j]!, y[i]! - y[j]!);
  out.push(a);
  if (b - a < 2) { if (b - 1 > a) out.push(b - 1); return; }
  const cosMin = Math.cos((o.minAngleDeg * Math.PI) / 180);
  let i = a, j = a + 1;
  while (j < b - 1) {
    if (d(i, j) >= o.maxDistM) { out.push(j); i = j; j++; continue; }
    let k = j + 1;
    while (k < b && d(j, k) < o.minDistM) k++;
    if (k >= b) break;
    if (t[k - 1]! - t[j]! >= o.minStopS) { out.push(j); i = j; j = k; continue; }
    if (d(i, j) >= o.minDistM) {
      const ux = x[j]! - x[i]!, uy = y[j]! - y[i]!, vx = x[k]! - x[j]!, vy = y[k]! - y[j]!;
      const c = (ux * vx + uy * vy) / (Math.hypot(ux, uy) * Math.hypot(vx, vy));
      if (c <= cosMin) { out.push(j); i = j; j = k; continue; }
    }
    j++;
  }
  out.push(b - 1);
}

/** Trip ranges [start, end) in a TripTable (rows of one trip are contiguous). */
export function tripRanges(p: TripTable): Int32Array {
  const r = new Int32Array(p.nTrips * 2);
  for (let i = 0; i < p.n; i++) { const k = p.trip[i]!; if (i === 0 || p.trip[i - 1] !== k) r[2 * k] = i; r[2 * k + 1] = i + 1; }
  return r;
}

/** Characteristic-point options with their defaults (config.ts; maxDistM = 2R [recon]). */
export function cpOptions(opts: PartitionOptions = {}) {
  const d = defaults.partition, R = opts.radiusM ?? d.radiusM;
  if (!(R > 0)) throw new Error(`radiusM must be > 0, got ${R}`);
  return {
    R, minAngleDeg: opts.minAngleDeg ?? d.minAngleDeg, minStopS: opts.minStopS ?? d.minStopS,
    minDistM: opts.minDistM ?? d.minDistM, maxDistM: opts.maxDistM ?? d.maxDistPerRadius * R,
  };
}

/**
 * Deterministic trip order that does not depend on row order or id names: (start t, x, y, end t,
 * length), ties by trip index (stable sort); then a seeded sample of at most maxTrips trips.
 */
export function tripOrder(nTrips: number, key: (k: number) => [number, number, number, number, number], opts: PartitionOptions = {}): number[] {
  const K = new Float64Array(5 * nTrips);
  for (let k = 0; k < nTrips; k++) K.set(key(k), 5 * k);
  const order = Array.from({ length: nTrips }, (_, k) => k);
  order.sort((u, v) => {
    const a = 5 * u, b = 5 * v;
    return (K[a]! - K[b]!) || (K[a + 1]! - K[b + 1]!) || (K[a + 2]! - K[b + 2]!) || (K[a + 3]! - K[b + 3]!) || (K[a + 4]! - K[b + 4]!);
  });
  return sampleTrips(order, opts);
}

/** At most opts.maxTrips (default 200 000) trips of a sorted order, by a seeded shuffle: the partition only needs the spatial distribution. */
export function sampleTrips(order: number[], opts: PartitionOptions = {}): number[] {
  const maxTrips = opts.maxTrips ?? defaults.partition.maxTrips;
  if (order.length > maxTrips) { const rng = new Rng(opts.seed ?? defaults.partition.seed); return rng.shuffle(order).slice(0, maxTrips); }
  return order;
}

export function partition(p: TripTable, opts: PartitionOptions = {}): Partition {
  const o = cpOptions(opts);
  if (p.n === 0) throw new Error('partition: no points');
  const ranges = tripRanges(p);
  const order = tripOrder(p.nTrips, (k) => { const a = ranges[2 * k]!, e = ranges[2 * k + 1]!; return [p.t[a]!, p.x[a]!, p.y[a]!, p.t[e - 1]!, e - a]; }, opts);
  const cp: number[] = [];
  for (const k of order) characteristicPoints(p, ranges[2 * k]!, ranges[2 * k + 1]!, o, cp);
  const cx = new Float64Array(cp.length), cy = new Float64Array(cp.length);
  cp.forEach((i, q) => { cx[q] = p.x[i]!; cy[q] = p.y[i]!; });
  // bounding box of all points
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < p.n; i++) { const x = p.x[i]!, y = p.y[i]!; if (x < x0) x0 = x; if (x > x1) x1 = x; if (y < y0) y0 = y; if (y > y1) y1 = y; }
  return partitionFromCharacteristic(cx, cy, [x0, y0, x1, y1], opts);
}

/**
 * Grouping and Voronoi cells from the characteristic points (in processing order) and the bounding box of all points
 * [x0, y0, x1, y1]: grouping, redistribution, small groups dropped, boundary seeds, Voronoi cells.
 */
export function partitionFromCharacteristic(cx: Float64Array, cy: Float64Array, box: [number, number, number, number], opts: PartitionOptions = {}): Partition {
  const { R } = cpOptions(opts);
  const cpLength = cx.length;
  // ---- grouping with maximum radius R on a grid of side R
  const gx: number[] = [], gy: number[] = [], gn: number[] = [];
  const grid = new Map<string, number[]>();
  const cellKey = (x: number, y: number) => `${Math.floor(x / R)},${Math.floor(y / R)}`;
  const nearestGroup = (x: number, y: number): number => {
    const bx = Math.floor(x / R), by = Math.floor(y / R);
    let best = -1, bd = R * R;
    for (let dx = -1; dx <= 1; dx++) for (let dy = -1; dy <= 1; dy++) {
      for (const g of grid.get(`${bx + dx},${by + dy}`) ?? []) {
        const dd = (gx[g]! - x) ** 2 + (gy[g]! - y) ** 2;
        if (dd <= bd && (dd < bd || best < 0 || g < best)) { bd = dd; best = g; }
      }
    }
    return best;
  };
  for (let q = 0; q < cpLength; q++) {
    const x = cx[q]!, y = cy[q]!;
    const g = nearestGroup(x, y);
    if (g < 0) {
      const id = gx.length; gx.push(x); gy.push(y); gn.push(1);
      const k = cellKey(x, y); (grid.get(k) ?? grid.set(k, []).get(k)!).push(id);
    } else {
      const before = cellKey(gx[g]!, gy[g]!);
      gn[g]!++; gx[g] = gx[g]! + (x - gx[g]!) / gn[g]!; gy[g] = gy[g]! + (y - gy[g]!) / gn[g]!;
      const after = cellKey(gx[g]!, gy[g]!);
      if (after !== before) {
        const l = grid.get(before)!; l.splice(l.indexOf(g), 1);
        (grid.get(after) ?? grid.set(after, []).get(after)!).push(g);
      }
    }
  }
  // redistribution: nearest centre for every point, means recomputed once
  const G = gx.length;
  const idx0 = buildIndex(Float64Array.from(gx), Float64Array.from(gy));
  const sumX = new Float64Array(G), sumY = new Float64Array(G), cnt = new Int32Array(G);
  const gxa = Float64Array.from(gx), gya = Float64Array.from(gy);
  const nn = new Nearest(idx0, gxa, gya);
  for (let q = 0; q < cpLength; q++) { const g = nn.find(cx[q]!, cy[q]!); sumX[g]! += cx[q]!; sumY[g]! += cy[q]!; cnt[g]!++; }
  const minGroup = opts.minGroupSize ?? defaults.partition.minGroupSize;
  const seeds: { x: number; y: number; n: number; boundary: boolean }[] = [];
  for (let g = 0; g < G; g++) if (cnt[g]! >= minGroup) seeds.push({ x: sumX[g]! / cnt[g]!, y: sumY[g]! / cnt[g]!, n: cnt[g]!, boundary: false });
  const [x0, y0, x1, y1] = box;
  if (seeds.length === 0) seeds.push({ x: (x0 + x1) / 2, y: (y0 + y1) / 2, n: 0, boundary: true });
  // boundary seeds on a 2R lattice
  {
    const sx = Float64Array.from(seeds, (s) => s.x), sy = Float64Array.from(seeds, (s) => s.y);
    const nn2 = new Nearest(buildIndex(sx, sy), sx, sy);
    for (let lx = x0; lx <= x1 + 1e-9; lx += 2 * R) for (let ly = y0; ly <= y1 + 1e-9; ly += 2 * R) {
      const g = nn2.find(lx, ly);
      if (Math.hypot(sx[g]! - lx, sy[g]! - ly) > 2 * R) seeds.push({ x: lx, y: ly, n: 0, boundary: true });
    }
  }
  // cell ids sorted by position: stable under renaming, row order and translation
  seeds.sort((a, b) => (a.x - b.x) || (a.y - b.y));
  const sx = Float64Array.from(seeds, (s) => s.x), sy = Float64Array.from(seeds, (s) => s.y);
  const bbox: [number, number, number, number] = [x0 - R, y0 - R, x1 + R, y1 + R];
  return {
    sx, sy, count: Int32Array.from(seeds, (s) => s.n), boundary: Uint8Array.from(seeds, (s) => (s.boundary ? 1 : 0)),
    polygons: voronoiPolygons(sx, sy, bbox), bbox, radiusM: R, coverageRadius: 0, nCharacteristic: cpLength,
  };
}

export function voronoiPolygons(sx: Float64Array, sy: Float64Array, bbox: [number, number, number, number]): [number, number][][] {
  const n = sx.length;
  const pts = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) { pts[2 * i] = sx[i]!; pts[2 * i + 1] = sy[i]!; }
  const v = new Delaunay(pts).voronoi(bbox);
  return Array.from({ length: n }, (_, i) => (v.cellPolygon(i) ?? []) as [number, number][]);
}

export function buildIndex(sx: Float64Array, sy: Float64Array): KDBush {
  const idx = new KDBush(sx.length);
  for (let i = 0; i < sx.length; i++) idx.add(sx[i]!, sy[i]!);
  idx.finish();
  return idx;
}

/**
 * Exact nearest seed with a kdbush index: the previous answer gives an upper bound d on the
 * nearest distance (consecutive points are close), and a radius-d query returns a handful of
 * candidates. Ties go to the lowest seed id.
 */
export class Nearest {
  private prev = 0; private buf: Uint32Array;
  constructor(private idx: KDBush, private sx: Float64Array, private sy: Float64Array) { this.buf = new Uint32Array(sx.length); }
  find(x: number, y: number): number {
    const sx = this.sx, sy = this.sy;
    const p = this.prev;
    const r = Math.sqrt((sx[p]! - x) * (sx[p]! - x) + (sy[p]! - y) * (sy[p]! - y)) * (1 + 1e-12) + 1e-9;
    const m = this.idx.withinInto(x, y, r, this.buf);
    let best = p, bd = (x - sx[p]!) * (x - sx[p]!) + (y - sy[p]!) * (y - sy[p]!);
    for (let q = 0; q < m; q++) {
      const s = this.buf[q]!;
      const dd = (x - sx[s]!) * (x - sx[s]!) + (y - sy[s]!) * (y - sy[s]!);
      if (dd < bd || (dd === bd && s < best)) { bd = dd; best = s; }
    }
    this.prev = best;
    return best;
  }
}

/** Cell of every point (nearest seed); sets part.coverageRadius. */
export function assignCells(p: { n: number; x: Float64Array; y: Float64Array }, part: Partition): Int32Array {
  const nn = new Nearest(buildIndex(part.sx, part.sy), part.sx, part.sy);
  const cell = new Int32Array(p.n);
  let cov = 0;
  for (let i = 0; i < p.n; i++) {
    const c = nn.find(p.x[i]!, p.y[i]!);
    cell[i] = c;
    const d = (p.x[i]! - part.sx[c]!) ** 2 + (p.y[i]! - part.sy[c]!) ** 2;
    if (d > cov) cov = d;
  }
  part.coverageRadius = Math.max(part.coverageRadius, Math.sqrt(cov));
  return cell;
}
