// Real coordinates: the local aeqd projection (crs.ts) against geodesic distances and areas on the
// WGS 84 ellipsoid, where the former equirectangular approximation about the bbox centre drifts; and
// --crs for projected input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import proj4 from 'proj4';
import { project, equirectangular, unproject } from '../../../src/modules/traffic/clean.ts';
import { crsToLonLat } from '../../../src/modules/traffic/crs.ts';
import { ingest } from '../../../src/modules/traffic/ingest.ts';
import { UsageError } from '../../../src/core/errors.ts';
import { Rng } from '../../../src/core/rng.ts';
import type { PointTable } from '../../../src/modules/traffic/types.ts';

const A = 6378137, F = 1 / 298.257223563, B = A * (1 - F), E2 = F * (2 - F);
const rad = (d: number) => (d * Math.PI) / 180;

/** Vincenty's inverse formula on WGS 84 (Survey Review 23(176), 1975): the geodesic distance in metres. */
function vincenty(lon1: number, lat1: number, lon2: number, lat2: number): number {
  const L = rad(lon2 - lon1), U1 = Math.atan((1 - F) * Math.tan(rad(lat1))), U2 = Math.atan((1 - F) * Math.tan(rad(lat2)));
  const sU1 = Math.sin(U1), cU1 = Math.cos(U1), sU2 = Math.sin(U2), cU2 = Math.cos(U2);
  let lam = L, prev = 0, sS = 0, cS = 0, sig = 0, c2a = 0, c2sm = 0;
  for (let it = 0; it < 200; it++) {
    const sl = Math.sin(lam), cl = Math.cos(lam);
    sS = Math.hypot(cU2 * sl, cU1 * sU2 - sU1 * cU2 * cl); cS = sU1 * sU2 + cU1 * cU2 * cl; sig = Math.atan2(sS, cS);
    const sa = (cU1 * cU2 * sl) / sS; c2a = 1 - sa * sa; c2sm = c2a ? cS - (2 * sU1 * sU2) / c2a : 0;
    const C = (F / 16) * c2a * (4 + F * (4 - 3 * c2a));
    prev = lam; lam = L + (1 - C) * F * sa * (sig + C * sS * (c2sm + C * cS * (-1 + 2 * c2sm * c2sm)));
    if (Math.abs(lam - prev) < 1e-13) break;
  }
  const u2 = (c2a * (A * A - B * B)) / (B * B);
  const Ak = 1 + (u2 / 16384) * (4096 + u2 * (-768 + u2 * (320 - 175 * u2))), Bk = (u2 / 1024) * (256 + u2 * (-128 + u2 * (74 - 47 * u2)));
  const dS = Bk * sS * (c2sm + (Bk / 4) * (cS * (-1 + 2 * c2sm * c2sm) - (Bk / 6) * c2sm * (-3 + 4 * sS * sS) * (-3 + 4 * c2sm * c2sm)));
  return B * Ak * (sig - dS);
}

/** The ellipsoid's area of a small lon/lat cell: M·N·cos φ·Δλ·Δφ (radii of curvature at its centre). */
function cellArea(lat: number, dLon: number, dLat: number): number {
  const s2 = Math.sin(rad(lat)) ** 2, M = (A * (1 - E2)) / (1 - E2 * s2) ** 1.5, N = A / Math.sqrt(1 - E2 * s2);
  return M * N * Math.cos(rad(lat)) * rad(dLon) * rad(dLat);
}

const shoelace = (p: [number, number][]) => Math.abs(p.reduce((s, [x, y], i) => { const [u, v] = p[(i + 1) % p.length]!; return s + x * v - u * y; }, 0)) / 2;

/** Worst relative errors of ~1 km segments and 0.01° cells spread over a lon/lat box, both projections. */
function drift(lon0: number, lat0: number, half: number, seed: number) {
  const rng = new Rng(seed), n = 400, lon = new Float64Array(4 * n), lat = new Float64Array(4 * n);
  for (let i = 0; i < n; i++) {
    const a = lon0 + (2 * rng.uniform() - 1) * half, b = lat0 + (2 * rng.uniform() - 1) * half, th = rng.uniform() * 2 * Math.PI;
    lon[4 * i] = a; lat[4 * i] = b; lon[4 * i + 1] = a + 0.01 * Math.cos(th); lat[4 * i + 1] = b + 0.01 * Math.sin(th);
    lon[4 * i + 2] = a + 0.01; lat[4 * i + 2] = b; lon[4 * i + 3] = a; lat[4 * i + 3] = b + 0.01;
  }
  // the corners of the box fix its bounding box (so its centre is lon0, lat0)
  lon[0] = lon0 - half; lat[0] = lat0 - half; lon[4] = lon0 + half; lat[4] = lat0 + half;
  const P: PointTable = { n: 4 * n, obj: new Int32Array(4 * n), ids: [''], t: new Float64Array(4 * n), x: Float64Array.from(lon), y: Float64Array.from(lat), geo: null };
  project(P);
  assert.ok(Math.abs(P.geo!.lon0 - lon0) < 0.02 && Math.abs(P.geo!.lat0 - lat0) < 0.02);
  const eq = (i: number) => equirectangular(P.geo!, lon[i]!, lat[i]!);
  let dAeqd = 0, dEq = 0, aAeqd = 0, aEq = 0;
  for (let i = 2; i < n; i++) { // 0 and 1 hold the box corners
    const k = 4 * i, g = vincenty(lon[k]!, lat[k]!, lon[k + 1]!, lat[k + 1]!);
    dAeqd = Math.max(dAeqd, Math.abs(Math.hypot(P.x[k + 1]! - P.x[k]!, P.y[k + 1]! - P.y[k]!) / g - 1));
    const [x0, y0] = eq(k), [x1, y1] = eq(k + 1);
    dEq = Math.max(dEq, Math.abs(Math.hypot(x1 - x0, y1 - y0) / g - 1));
    // the cell (lon, lat)–(lon+0.01, lat+0.01): three projected corners and the fourth by parallelogram
    const area = cellArea(lat[k]! + 0.005, 0.01, 0.01);
    const c = [k, k + 2, k + 3].map((j) => [P.x[j]!, P.y[j]!] as [number, number]);
    const sq: [number, number][] = [c[0]!, c[1]!, [c[1]![0] + c[2]![0] - c[0]![0], c[1]![1] + c[2]![1] - c[0]![1]], c[2]!];
    aAeqd = Math.max(aAeqd, Math.abs(shoelace(sq) / area - 1));
    const e = [k, k + 2, k + 3].map(eq);
    aEq = Math.max(aEq, Math.abs(shoelace([e[0]!, e[1]!, [e[1]![0] + e[2]![0] - e[0]![0], e[1]![1] + e[2]![1] - e[0]![1]], e[2]!]) / area - 1));
  }
  return { dAeqd, dEq, aAeqd, aEq };
}

test('a city-wide box (Beijing, ±0.45°): aeqd distances and cell areas within 1e-4 of the ellipsoid; equirectangular drifts > 3e-3', () => {
  const r = drift(116.4, 39.9, 0.45, 1);
  assert.ok(r.dAeqd < 1e-4, `aeqd distance error ${r.dAeqd}`);
  assert.ok(r.aAeqd < 2e-4, `aeqd area error ${r.aAeqd}`); // the cells' own non-parallelogram shape adds ~1e-4
  assert.ok(r.dEq > 3e-3, `equirectangular distance error ${r.dEq}`);
  assert.ok(r.aEq > 3e-3, `equirectangular area error ${r.aEq}`);
});

test('a wide box (±6°, a T-Drive-like extent with outliers): aeqd within 4e-3, equirectangular off by > 5e-2', () => {
  const r = drift(116.4, 39.9, 6, 2);
  assert.ok(r.dAeqd < 4e-3, `aeqd distance error ${r.dAeqd}`);
  assert.ok(r.dEq > 5e-2, `equirectangular distance error ${r.dEq}`);
  assert.ok(r.aAeqd < 8e-3 && r.aEq > 5e-2, `areas: aeqd ${r.aAeqd}, equirectangular ${r.aEq}`);
});

test('distances from the projection centre are geodesic distances; unproject inverts project', () => {
  const P: PointTable = { n: 3, obj: new Int32Array(3), ids: [''], t: new Float64Array(3), x: Float64Array.from([-9, -8.2, -8.5]), y: Float64Array.from([40.9, 41.4, 41.0]), geo: null };
  project(P);
  const { lon0, lat0 } = P.geo!;
  for (const [lon, lat] of [[-9, 40.9], [-8.2, 41.4], [-8.5, 41.0]] as const) {
    const i = [-9, -8.2, -8.5].indexOf(lon);
    close(Math.hypot(P.x[i]!, P.y[i]!), vincenty(lon0, lat0, lon, lat), 1e-9);
    const [l2, p2] = unproject(P.geo!, P.x[i]!, P.y[i]!);
    assert.ok(Math.abs(l2 - lon) < 1e-9 && Math.abs(p2 - lat) < 1e-9);
  }
});

function close(a: number, b: number, rel: number) { assert.ok(Math.abs(a - b) <= rel * Math.max(1, Math.abs(b)), `${a} vs ${b}`); }

test('--crs: UTM (EPSG:32650) and proj-string input is taken back to lon/lat; unknown CRS is a usage error', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-crs-'));
  try {
    const ll = [[116.31, 39.98], [116.32, 39.99], [116.4, 39.9]] as const;
    const utm = proj4('WGS84', 'EPSG:32650');
    const file = path.join(dir, 'utm.csv');
    fs.writeFileSync(file, `id,t,x,y\n${ll.map(([a, b], i) => { const [x, y] = utm.forward([a, b]); return `v,${i * 10},${x},${y}`; }).join('\n')}\n`);
    const r = await ingest(file, { crs: 'EPSG:32650' });
    assert.equal(r.geo, true);
    ll.forEach(([a, b], i) => { assert.ok(Math.abs(r.points.x[i]! - a) < 1e-8 && Math.abs(r.points.y[i]! - b) < 1e-8, `point ${i}`); });
    const viaString = crsToLonLat('+proj=utm +zone=50 +datum=WGS84 +units=m');
    const [x, y] = utm.forward([116.31, 39.98]), [a, b] = viaString(x, y);
    assert.ok(Math.abs(a - 116.31) < 1e-9 && Math.abs(b - 39.98) < 1e-9);
    assert.throws(() => crsToLonLat('EPSG:999999'), (e: Error) => e instanceof UsageError && /unknown or unusable CRS/.test(e.message));
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
