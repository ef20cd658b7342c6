// The traffic commands through the real command line (bin/paperlab.js): parameters as a user types
// them, what a run writes, and what the schema refuses before any run exists.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { syntheticPoints, writePointsCsv } from '../../../src/modules/traffic/synthetic.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-cli-test-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const bin = fileURLToPath(new URL('../../../bin/paperlab.js', import.meta.url));
const home = path.join(tmp, 'runs');
const cli = (args: string[]) => spawnSync(process.execPath, [bin, 'traffic', ...args, '--quiet'], { encoding: 'utf8', env: { ...process.env, PAPERLAB_HOME: home } });

const DAY = 1_700_006_400; // an epoch midnight
// projected metres (x, y columns), epoch seconds, 40 slices of 15 min from DAY
const g = syntheticPoints({ family: 'b', seed: 5, volume: 30, T: 40, nChanges: 2, minSpacing: 10, t0: DAY });
const metresCsv = path.join(tmp, 'metres.csv');
writePointsCsv(metresCsv, g.points, false);

function analyze(args: string[]) {
  const r = cli(['analyze', metresCsv, '--json', ...args]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { dir: string; summary: Record<string, unknown> };
  const json = (f: string) => JSON.parse(fs.readFileSync(path.join(out.dir, f), 'utf8'));
  return { ...out, json, files: fs.readdirSync(out.dir) };
}

test('issue #24: analyze <file> --t0 <n> --until <n> runs and honours both; --no-plots writes the files but no plot', () => {
  const t0 = DAY - 3600, until = DAY + 20 * 900;
  const r = analyze(['--t0', String(t0), '--until', String(until), '--no-plots', '--no-compare']);
  const cp = r.json('changepoints.json');
  assert.equal(cp.t0, t0, 'slice 0 starts at --t0');
  assert.equal(cp.n_slices, 24, 'four slices before DAY, none at or after --until');
  assert.equal(r.summary.slices, 24);
  const slices = fs.readFileSync(path.join(r.dir, 'flows.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[0]));
  assert.ok(slices.length > 50 && Math.min(...slices) >= 4 && Math.max(...slices) <= 23, `flow slices ${Math.min(...slices)}..${Math.max(...slices)}`);
  for (const c of cp.changepoints) assert.ok(c.time >= t0 && c.time < until);
  for (const f of ['cells.geojson', 'flows.csv', 'flows.parquet', 'flows.geojson', 'changepoints.json', 'scores.csv']) assert.ok(r.files.includes(f), `${f} written`);
  assert.deepEqual(r.files.filter((f) => /\.(png|svg)$/.test(f)), [], 'no plots with --no-plots');
});

test('issue #24: cells.geojson of projected input names metres as metres (seed_x_m/seed_y_m, no seed_lon/seed_lat)', () => {
  const r = analyze(['--no-plots', '--no-compare']);
  const cells = r.json('cells.geojson');
  assert.match(cells.crs_note, /local metres/);
  assert.equal(cells.local_metres, undefined);
  for (const f of cells.features) {
    const p = f.properties;
    assert.equal('seed_lon' in p || 'seed_lat' in p, false, 'no lon/lat names for metres');
    assert.ok(Number.isFinite(p.seed_x_m) && Number.isFinite(p.seed_y_m));
  }
  // the seeds are in the input's own metres (the generator's grid spans 0..3 km)
  const xs = cells.features.map((f: { properties: { seed_x_m: number } }) => f.properties.seed_x_m);
  assert.ok(Math.min(...xs) > -1500 && Math.max(...xs) < 4500, `seed x ${Math.min(...xs)}..${Math.max(...xs)}`);
});

test('issue #24: --features scalar runs the volume-only [total, #edges] baseline from the command line', () => {
  const r = analyze(['--features', 'scalar', '--no-plots', '--no-compare']);
  const cp = r.json('changepoints.json');
  assert.equal(cp.params.pelt.features, 'scalar');
  assert.equal(cp.info.features, 2, 'two feature columns');
  const edges = analyze(['--no-plots', '--no-compare']).json('changepoints.json');
  assert.equal(edges.params.pelt.features, 'edges');
  assert.ok(edges.info.features > 2);
});

test('CLI: a bad item of a list parameter is refused by the schema (exit 2, the parameter and the valid values named) and no run is created', () => {
  const before = fs.existsSync(home) ? fs.readdirSync(home) : [];
  const d = cli(['synthetic', '--detectors', 'pelt,nope']);
  assert.equal(d.status, 2, d.stderr);
  assert.match(d.stderr, /parameter 'detectors\.1'.*expected one of "pelt"\|"graphscope"\|"lad"/);
  const f = cli(['synthetic', '--families', 'a,q']);
  assert.equal(f.status, 2, f.stderr);
  assert.match(f.stderr, /parameter 'families\.1'.*expected one of "a"\|"b"\|"null"/);
  const t = cli(['analyze', metresCsv, '--truth', '06:00,noon']);
  assert.equal(t.status, 2, t.stderr);
  assert.match(t.stderr, /parameter 'truth\.1': a time of day HH:MM\[:SS\] or a slice index/);
  const after = fs.existsSync(home) ? fs.readdirSync(home) : [];
  assert.deepEqual(after.filter((x) => !before.includes(x) && x.includes('traffic')), [], 'no run folder');
});

const FIX = fileURLToPath(new URL('../../fixtures/traffic/', import.meta.url));

test('issue #23: analyze reads the releases as shipped (Porto detected, --cost rbf --search binseg), a corrupt twin exits 4 naming file and line', () => {
  const r = cli(['analyze', path.join(FIX, 'porto/train.csv'), '--json', '--no-plots', '--no-compare', '--cost', 'rbf', '--search', 'binseg']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { dir: string; summary: { points: number; trips: number; skipped: Record<string, number> } };
  assert.ok(out.summary.points > 500 && out.summary.trips >= 30, JSON.stringify(out.summary));
  assert.equal(out.summary.skipped.emptyPolyline, 1);
  const cp = JSON.parse(fs.readFileSync(path.join(out.dir, 'changepoints.json'), 'utf8'));
  assert.equal(cp.params.pelt.cost, 'rbf'); assert.equal(cp.params.pelt.search, 'binseg');
  const cells = JSON.parse(fs.readFileSync(path.join(out.dir, 'cells.geojson'), 'utf8'));
  assert.equal(cells.local_metres.projection, 'aeqd');
  const [lon, lat] = cells.features[0].geometry.coordinates[0][0];
  assert.ok(lon > -8.8 && lon < -8.4 && lat > 41 && lat < 41.3, `Porto cells in lon/lat: ${lon}, ${lat}`);
  const bad = cli(['analyze', path.join(FIX, 'tdrive_corrupt'), '--no-plots']);
  assert.equal(bad.status, 4, bad.stderr);
  assert.match(bad.stderr, /tdrive_corrupt\/3\.txt:4: field 'date time': expected yyyy-mm-dd hh:mm:ss/);
  assert.ok(!bad.stderr.includes('2008-02-30'), 'no content echoed');
});

test('issue #23: --search dynp without --n-bkps and an unknown --crs are usage errors (exit 2)', () => {
  const d = cli(['analyze', path.join(FIX, 'tdrive'), '--search', 'dynp', '--no-plots']);
  assert.equal(d.status, 2, d.stderr);
  assert.match(d.stderr, /--search dynp needs --n-bkps/);
  const c = cli(['analyze', metresCsv, '--crs', 'EPSG:999999', '--no-plots']);
  assert.equal(c.status, 2, c.stderr);
  assert.match(c.stderr, /--crs: unknown or unusable CRS/);
});
