// Cleaning (before the paper's network partitioning): projection to local metres (proj4, crs.ts), sort by
// (object, t), exact-duplicate removal, speed filter, trip splitting by gap [recon: the paper does
// not describe its cleaning]. Every removed point is counted; no transition crosses a trip boundary.
import type { PointTable, TripTable } from './types.ts';
import { defaults } from './config.ts';
import { fromLocal, toLocal } from './crs.ts';

/** Mean Earth radius (m) of the equirectangular comparison. */
export const R_EARTH = 6_371_008.8;

/**
 * Projects lon/lat to local metres: proj4's azimuthal equidistant projection about the centre of the
 * data's bounding box (crs.ts says why). [choice] the bbox centre instead of the mean: it does not
 * depend on row order. Modifies the table in place and records the origin.
 */
export function project(p: PointTable, origin?: { lon0: number; lat0: number }): PointTable {
  if (p.n === 0) { p.geo = origin ?? { lon0: 0, lat0: 0 }; return p; }
  let o = origin;
  if (!o) {
    let a = Infinity, b = -Infinity, c = Infinity, d = -Infinity;
    for (let i = 0; i < p.n; i++) { const x = p.x[i]!, y = p.y[i]!; if (x < a) a = x; if (x > b) b = x; if (y < c) c = y; if (y > d) d = y; }
    o = { lon0: (a + b) / 2, lat0: (c + d) / 2 };
  }
  const fwd = toLocal(o);
  for (let i = 0; i < p.n; i++) { const [x, y] = fwd(p.x[i]!, p.y[i]!); p.x[i] = x; p.y[i] = y; }
  p.geo = o;
  return p;
}

/** Inverse of project (metres -> [lon, lat]). */
export function unproject(geo: { lon0: number; lat0: number }, x: number, y: number): [number, number] {
  return fromLocal(geo)(x, y);
}

/** The equirectangular approximation about an origin that project used before proj4 (kept for comparison). */
export function equirectangular(o: { lon0: number; lat0: number }, lon: number, lat: number): [number, number] {
  const k = (Math.PI / 180) * R_EARTH, cos = Math.cos((o.lat0 * Math.PI) / 180);
  return [(lon - o.lon0) * k * cos, (lat - o.lat0) * k];
}

export interface CleanOptions { maxGapS?: number; maxSpeedMps?: number }

/**
 * Sorts by (object id string, t, x, y) — a total order that does not depend on row order —
 * drops exact duplicates, drops points implying speed > maxSpeedMps from the previous kept point,
 * and starts a new trip when the gap to the previous kept point exceeds maxGapS.
 */
export function cleanAndSplit(p: PointTable, o: CleanOptions = {}): TripTable {
  const maxGap = o.maxGapS ?? defaults.clean.maxGapS, maxSpeed = o.maxSpeedMps ?? defaults.clean.maxSpeedMps;
  if (!(maxGap > 0)) throw new Error(`maxGapS must be > 0, got ${maxGap}`);
  if (!(maxSpeed > 0)) throw new Error(`maxSpeedMps must be > 0, got ${maxSpeed}`);
  // objects ranked by id string so that the result does not depend on first appearance
  const rank = new Int32Array(p.ids.length);
  const byName = p.ids.map((_, i) => i).sort((a, b) => (p.ids[a]! < p.ids[b]! ? -1 : p.ids[a]! > p.ids[b]! ? 1 : 0));
  byName.forEach((o2, r) => { rank[o2] = r; });
  const idx = new Uint32Array(p.n);
  for (let i = 0; i < p.n; i++) idx[i] = i;
  const { obj, t, x, y } = p;
  idx.sort((a, b) => (rank[obj[a]!]! - rank[obj[b]!]!) || (t[a]! - t[b]!) || (x[a]! - x[b]!) || (y[a]! - y[b]!));
  const keep = new Uint32Array(p.n);
  const trip = new Int32Array(p.n);
  let n = 0, nTrips = 0, dup = 0, fast = 0;
  for (let q = 0; q < p.n; q++) {
    const i = idx[q]!;
    if (n > 0) {
      const j = keep[n - 1]!;
      if (obj[j] === obj[i]) {
        const dt = t[i]! - t[j]!;
        const dd = Math.hypot(x[i]! - x[j]!, y[i]! - y[j]!);
        if (dt === 0 && dd === 0) { dup++; continue; }
        if (dt <= maxGap) {
          if (dt === 0 || dd / dt > maxSpeed) { fast++; continue; }
          keep[n] = i; trip[n] = trip[n - 1]!; n++; continue;
        }
      }
    }
    keep[n] = i; trip[n] = nTrips++; n++;
  }
  const sel = <T extends Float64Array | Int32Array>(a: T): T => {
    const out = new (a.constructor as new (n: number) => T)(n);
    for (let q = 0; q < n; q++) out[q] = a[keep[q]!]!;
    return out;
  };
  // object indices renumbered by id rank so that they too do not depend on row order
  const objOut = new Int32Array(n); for (let q = 0; q < n; q++) objOut[q] = rank[obj[keep[q]!]!]!;
  return {
    n, obj: objOut, ids: byName.map((i) => p.ids[i]!), t: sel(t), x: sel(x), y: sel(y), speed: p.speed ? sel(p.speed) : undefined,
    geo: p.geo, source: p.source, trip: trip.slice(0, n), nTrips, dropped: { duplicates: dup, speed: fast },
  };
}
