import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticPoints } from '../../../src/modules/traffic/synthetic.ts';
import { runPipeline } from '../../../src/modules/traffic/pipeline.ts';
import { ingest } from '../../../src/modules/traffic/ingest.ts';
import { scoreChangepoints } from '../../../src/modules/traffic/metrics.ts';
import { truthSlices } from '../../../src/modules/traffic/pipeline.ts';
import { Rng } from '../../../src/core/rng.ts';
import type { PointTable } from '../../../src/modules/traffic/types.ts';
import '../../../src/modules/traffic/commands.ts';
import { runCommand } from '../../../src/core/runner.ts';
import { writePointsCsv } from '../../../src/modules/traffic/synthetic.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURE = path.resolve(here, '../../fixtures/traffic/sumo_fcd.xml.gz');

function base(): PointTable {
  return syntheticPoints({ family: 'a', seed: 21, volume: 30, T: 40, nChanges: 2, minSpacing: 10 }).points;
}
function copy(p: PointTable): PointTable {
  return { ...p, obj: p.obj.slice(), t: p.t.slice(), x: p.x.slice(), y: p.y.slice(), ids: [...p.ids] };
}
async function result(p: PointTable) {
  const r = await runPipeline(p, false, { detector: 'pelt', compare: false });
  return { flows: r.flows, cps: r.primary.changepoints, cells: r.part.sx.length };
}
function sameFlows(a: Awaited<ReturnType<typeof result>>, b: Awaited<ReturnType<typeof result>>, what: string) {
  assert.equal(a.cells, b.cells, `${what}: number of cells`);
  assert.deepEqual([...a.flows.slice], [...b.flows.slice], `${what}: slices`);
  assert.deepEqual([...a.flows.src], [...b.flows.src], `${what}: src`);
  assert.deepEqual([...a.flows.dst], [...b.flows.dst], `${what}: dst`);
  assert.deepEqual([...a.flows.moves], [...b.flows.moves], `${what}: moves`);
  assert.deepEqual([...a.flows.objects], [...b.flows.objects], `${what}: objects`);
  assert.deepEqual(a.cps, b.cps, `${what}: change-points`);
}

test('Must show: results do not depend on row order, id naming, or a shift of times/coordinates', async () => {
  const p0 = base();
  const ref = await result(copy(p0));
  assert.ok(ref.flows.slice.length > 200 && ref.cps.length >= 1, `reference: ${ref.flows.slice.length} rows, cps ${ref.cps}`);
  const rng = new Rng(9);
  // 1. row order
  const perm = rng.permutation(p0.n);
  const shuf = copy(p0);
  for (let i = 0; i < p0.n; i++) { shuf.obj[i] = p0.obj[perm[i]!]!; shuf.t[i] = p0.t[perm[i]!]!; shuf.x[i] = p0.x[perm[i]!]!; shuf.y[i] = p0.y[perm[i]!]!; }
  sameFlows(ref, await result(shuf), 'row order');
  // 2. id naming (a random bijection to other names, which also changes their sort order)
  const renamed = copy(p0);
  const names = rng.permutation(p0.ids.length);
  renamed.ids = p0.ids.map((_, i) => `car-${(names[i]! * 7919) % 100003}-${i % 3}`);
  sameFlows(ref, await result(renamed), 'id naming');
  // 3. shift of all times (to an epoch day) and of all coordinates
  const shifted = copy(p0);
  for (let i = 0; i < p0.n; i++) { shifted.t[i] = p0.t[i]! + 1_700_006_400; shifted.x[i] = p0.x[i]! + 250_000; shifted.y[i] = p0.y[i]! - 6_000_000; }
  const s = await result(shifted);
  assert.equal(s.flows.t0, ref.flows.t0 + 1_700_006_400);
  sameFlows(ref, s, 'shift');
});

test('Must show: SUMO fixture — every phase boundary found within ±1 slice by the default detector', { skip: !fs.existsSync(FIXTURE) && 'fixture missing' }, async () => {
  const { points, geo, report } = await ingest(FIXTURE);
  assert.equal(report.format, 'fcd'); assert.equal(geo, true);
  const r = await runPipeline(points, geo, { compare: false });
  const truth = truthSlices(['06:00', '10:00', '15:00', '19:00'], r.flows);
  assert.deepEqual(truth, [24, 40, 60, 76]);
  const sc = scoreChangepoints(r.primary.changepoints, truth, r.flows.T, 1);
  assert.equal(sc.recall, 1, `found ${r.primary.changepoints} for truth ${truth}`);
});

test('paperlab traffic analyze: end to end from a CSV file, both engines, outputs written', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-cli-'));
  const g = syntheticPoints({ family: 'b', seed: 5, volume: 30, T: 40, nChanges: 2, minSpacing: 10, geoOrigin: { lon0: 153.02, lat0: -27.47 } });
  const file = path.join(root, 'pts.csv');
  writePointsCsv(file, g.points, true);
  const res = await runCommand('traffic', 'analyze', { file, engine: 'both', compare: false, truth: g.truth.changepoints.map(String) }, { root, seed: 1 });
  assert.equal(res.run.status, 'done', String(res.run.error));
  const s = res.summary as { sqlAgrees: boolean; f1: { pelt: number }; cells: number };
  assert.equal(s.sqlAgrees, true);
  assert.ok(s.f1.pelt >= 0.66, `F1 ${s.f1.pelt}`);
  const dir = path.join(root, res.run.id);
  for (const f of ['cells.geojson', 'flows.csv', 'flows.parquet', 'flows.geojson', 'changepoints.json', 'scores.csv', 'timeseries.png', 'timeseries.svg', 'flowmap.png', 'heatmap.png']) {
    assert.ok(fs.existsSync(path.join(dir, f)), `${f} written`);
  }
  // flows.parquet is real Parquet with the rows of flows.csv
  const { parquetReadObjects, asyncBufferFromFile } = await import('hyparquet');
  const pq = await parquetReadObjects({ file: await asyncBufferFromFile(path.join(dir, 'flows.parquet')) }) as Record<string, number | bigint>[];
  const csvRows = fs.readFileSync(path.join(dir, 'flows.csv'), 'utf8').trim().split('\n').slice(1);
  assert.equal(pq.length, csvRows.length);
  assert.ok(pq.length > 50);
  pq.forEach((r, i) => assert.equal([r.slice, r.slice_start, r.src, r.dst, r.moves, r.objects].map(String).join(','), csvRows[i], `flows.parquet row ${i}`));
  const cells = JSON.parse(fs.readFileSync(path.join(dir, 'cells.geojson'), 'utf8'));
  assert.equal(cells.features.length, s.cells);
  const [lon, lat] = cells.features[0].geometry.coordinates[0][0];
  assert.ok(Math.abs(lon - 153.02) < 0.2 && Math.abs(lat + 27.47) < 0.2, 'cells are in lon/lat');
  // lon/lat input: seed_lon/seed_lat in degrees beside the projected seed_x_m/seed_y_m, and the projection
  const p0 = cells.features[0].properties;
  assert.ok(Math.abs(p0.seed_lon - 153.02) < 0.2 && Math.abs(p0.seed_lat + 27.47) < 0.2, 'seed_lon/seed_lat in degrees');
  assert.ok(Number.isFinite(p0.seed_x_m) && Math.abs(p0.seed_x_m) < 20_000, 'seed_x_m in local metres');
  assert.equal(cells.local_metres.projection, 'aeqd');
  assert.match(cells.local_metres.proj, /^\+proj=aeqd \+lat_0=\S+ \+lon_0=\S+ .*\+datum=WGS84 \+units=m/);
  const cp = JSON.parse(fs.readFileSync(path.join(dir, 'changepoints.json'), 'utf8'));
  assert.ok(Array.isArray(cp.segments) && cp.segments.length === cp.changepoints.length + 1);
  // a bad file is a failed run with a clear message
  const bad = path.join(root, 'bad.csv'); fs.writeFileSync(bad, 'object_id,t,lon,lat\na,1,153,-27\na,zz,153,-27\n');
  await assert.rejects(runCommand('traffic', 'analyze', { file: bad }, { root }), /bad\.csv:3: field 't': bad timestamp \(expected/);
});

test('registered commands: synthetic (quick) and evaluate', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-cmd-'));
  const r = await runCommand('traffic', 'synthetic', { families: ['b'], detectors: ['pelt'], seeds: 2 }, { root, seed: 4 });
  assert.equal((r.summary as Record<string, { meanF1: number }>)['b/pelt']!.meanF1, 1);
  const e = await runCommand('traffic', 'evaluate', { pred: '24,41,70', truth: ['06:00', '10:00', '15:00', '19:00'], T: 96 }, { root });
  const s = e.summary as { truth: number[]; truePositives: number; f1: number };
  assert.deepEqual(s.truth, [24, 40, 60, 76]);
  assert.equal(s.truePositives, 2);
  await assert.rejects(runCommand('traffic', 'synthetic', { families: ['q'] }, { root }), /parameter 'families\.0'.*expected one of "a"\|"b"\|"null"/);
  // evaluate reads T (and t0, the slice length) from an analyze run's changepoints.json when not given
  const cp = path.join(root, 'cp.json');
  fs.writeFileSync(cp, JSON.stringify({ changepoints: [{ slice: 24 }, { slice: 41 }], n_slices: 96, t0: 0, slice_seconds: 900 }));
  const e2 = await runCommand('traffic', 'evaluate', { pred: cp, truth: ['06:00', '10:00'] }, { root });
  assert.equal((e2.summary as { f1: number }).f1, 1);
});
