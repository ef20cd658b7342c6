// The public releases as shipped (fixtures: scripts/fixtures/traffic_releases.py): Porto taxi,
// Geolife 1.3, T-Drive; their corrupt twins; detection; streaming (a reader yields before it has read
// its file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { portoPoints, geolifePoints, tdrivePoints, detectRelease, utcSeconds, inputBytes, type ReleasePoint } from '../../../src/modules/traffic/releases.ts';
import { ingest } from '../../../src/modules/traffic/ingest.ts';
import { TrafficInputError } from '../../../src/modules/traffic/errors.ts';
import { InputFileError } from '../../../src/core/errors.ts';

const FIX = path.resolve('test/fixtures/traffic');
const all = async (g: AsyncGenerator<ReleasePoint>) => { const out: ReleasePoint[] = []; for await (const p of g) out.push(p); return out; };

test('Porto: one point per POLYLINE pair, 15 s apart from TIMESTAMP, one object per TRIP_ID', async () => {
  const file = path.join(FIX, 'porto/train.csv');
  const rows = parse(fs.readFileSync(file), { columns: true }) as Record<string, string>[];
  const counts: Record<string, number> = {};
  const pts = await all(portoPoints(file, { count: (r) => { counts[r] = (counts[r] ?? 0) + 1; } }));
  const polys = rows.map((r) => JSON.parse(r.POLYLINE!) as [number, number][]);
  assert.equal(pts.length, polys.reduce((s, p) => s + p.length, 0));
  assert.equal(counts.emptyPolyline, 1);
  const r0 = rows[0]!, p0 = polys[0]!;
  const first = pts.filter((p) => p.id === r0.TRIP_ID);
  assert.equal(first.length, p0.length);
  first.forEach((p, k) => { assert.equal(p.t, Number(r0.TIMESTAMP) + 15 * k); assert.equal(p.lon, p0[k]![0]); assert.equal(p.lat, p0[k]![1]); });
  assert.equal(new Set(pts.map((p) => p.id)).size, rows.length - 1);
  assert.equal(detectRelease(file), 'porto');
  const ing = await ingest(file);
  assert.equal(ing.report.format, 'porto'); assert.equal(ing.geo, true); assert.equal(ing.points.n, pts.length);
});

test('Porto corrupt twin: the truncated POLYLINE is named by file, line, record and field, without content', async () => {
  const file = path.join(FIX, 'porto_corrupt/train.csv');
  await assert.rejects(ingest(file, { format: 'porto' }), (e: Error) => {
    assert.ok(e instanceof TrafficInputError && e instanceof InputFileError);
    assert.match(e.message, /^train\.csv:4 \(record 3\): field 'POLYLINE': not valid JSON \(expected a list of \[lon, lat\] pairs\)$/);
    assert.ok(!/-8\.|41\./.test(e.message), 'no coordinates echoed');
    return true;
  });
  await assert.rejects(ingest(path.join(FIX, 'porto'), { format: 'porto' }), /porto: a folder: the Porto release is one CSV file/);
  const lenient = await ingest(file, { format: 'porto', lenient: true });
  assert.equal(lenient.report.skipped.badPolyline, 1);
  assert.ok(lenient.points.n > 500);
});

test('Geolife: .plt trajectories under Data/<user>/Trajectory, lat/lon order, GMT date+time = the days field', async () => {
  const root = path.join(FIX, 'geolife');
  const pts = await all(geolifePoints(root));
  assert.equal(pts.length, 6 * 60);
  assert.deepEqual([...new Set(pts.map((p) => p.id))], ['000/20081023025304', '000/20081024025304', '000/20081025025304', '010/20081023125304', '010/20081024125304', '010/20081025125304']);
  assert.equal(pts[0]!.t, Date.UTC(2008, 9, 23, 2, 53, 4) / 1000);
  assert.ok(pts.every((p) => p.lon > 116 && p.lon < 117 && p.lat > 39 && p.lat < 41));
  // the fifth field (days since 1899-12-30) agrees with date + time within a second
  const lines = fs.readFileSync(path.join(root, 'Data/000/Trajectory/20081023025304.plt'), 'utf8').split(/\r?\n/).slice(6, 66);
  lines.forEach((l, i) => { const days = Number(l.split(',')[4]); assert.ok(Math.abs((days - 25569) * 86400 - pts[i]!.t) < 1); });
  assert.equal(detectRelease(root), 'geolife');
  assert.equal(detectRelease(path.join(root, 'Data/010/Trajectory/20081023125304.plt')), 'geolife');
  const one = await all(geolifePoints(path.join(root, 'Data/010/Trajectory/20081023125304.plt')));
  assert.equal(one.length, 60); assert.equal(one[0]!.id, '010/20081023125304');
});

test('Geolife labels.txt: --modes keeps only the points inside intervals of those modes', async () => {
  const counts: Record<string, number> = {};
  const pts = await all(geolifePoints(path.join(FIX, 'geolife'), { modes: ['taxi'], count: (r) => { counts[r] = (counts[r] ?? 0) + 1; } }));
  // user 010: days 1 and 2 are taxi for the first 30 points (5 s apart), then walk; day 3 is walk
  assert.equal(pts.length, 60);
  assert.deepEqual([...new Set(pts.map((p) => p.id))], ['010/20081023125304', '010/20081024125304']);
  assert.equal(counts.noLabels, 180); assert.equal(counts.otherMode, 120);
});

test('Geolife corrupt twin: a .plt with five header lines is named by its path and line 6', async () => {
  const root = path.join(FIX, 'geolife_corrupt');
  await assert.rejects(ingest(root), (e: Error) => {
    assert.ok(e instanceof TrafficInputError);
    assert.equal(e.message, 'geolife_corrupt/Data/010/Trajectory/20081024125304.plt:6: a data record where the sixth header line belongs: a .plt file has six header lines');
    return true;
  });
});

test('T-Drive: <taxi>.txt files, no header, wall-clock times read as UTC', async () => {
  const root = path.join(FIX, 'tdrive');
  const pts = await all(tdrivePoints(root));
  assert.equal(pts.length, 5 * 80);
  assert.deepEqual([...new Set(pts.map((p) => p.id))], ['1', '2', '3', '4', '5']);
  const [id, dt, lon, lat] = fs.readFileSync(path.join(root, '1.txt'), 'utf8').split(/\r?\n/)[0]!.split(',');
  assert.deepEqual(pts[0], { id, t: Date.parse(`${dt!.replace(' ', 'T')}Z`) / 1000, lon: Number(lon), lat: Number(lat) });
  assert.equal(detectRelease(root), 'tdrive'); assert.equal(detectRelease(path.join(root, '2.txt')), 'tdrive');
  const ing = await ingest(root);
  assert.equal(ing.report.format, 'tdrive'); assert.equal(ing.points.n, 400);
  assert.ok(Number.isNaN(utcSeconds('2008-02-30', '10:00:00')) && Number.isNaN(utcSeconds('2008-02-02', '24:00:00')));
});

test('T-Drive corrupt twin: the impossible date is named by file, line and field, without content', async () => {
  const root = path.join(FIX, 'tdrive_corrupt');
  await assert.rejects(ingest(root, { format: 'tdrive' }), (e: Error) => {
    assert.equal(e.message, "tdrive_corrupt/3.txt:4: field 'date time': expected yyyy-mm-dd hh:mm:ss");
    return true;
  });
  const lenient = await ingest(root, { format: 'tdrive', lenient: true });
  assert.equal(lenient.report.skipped.badTime, 1); assert.equal(lenient.points.n, 79);
});

test('streaming: each reader is an async iterator that yields its first point long before the end of a large file (or folder)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-rel-'));
  try {
    const td = path.join(dir, '7.txt'), lines: string[] = [];
    for (let i = 0; i < 200_000; i++) lines.push(`7,2008-02-0${2 + Math.floor(i / 86400)} ${new Date((i % 86400) * 1000).toISOString().slice(11, 19)},116.${String(i % 100000).padStart(5, '0')},39.90000`);
    fs.writeFileSync(td, lines.join('\r\n'));
    const pt = path.join(dir, 'train.csv'), rows = ['"TRIP_ID","CALL_TYPE","ORIGIN_CALL","ORIGIN_STAND","TAXI_ID","TIMESTAMP","DAY_TYPE","MISSING_DATA","POLYLINE"'];
    const poly = `[${Array.from({ length: 40 }, (_, k) => `[-8.6${String(k).padStart(4, '0')},41.150000]`).join(',')}]`;
    for (let i = 0; i < 8000; i++) rows.push(`"${i}","C","","","2000${i % 400}","${1372636800 + i}","A","False","${poly}"`);
    fs.writeFileSync(pt, rows.join('\n'));
    const traj = path.join(dir, 'Data/042/Trajectory');
    fs.mkdirSync(traj, { recursive: true });
    const plt = ['Geolife trajectory', 'WGS 84', 'Altitude is in Feet', 'Reserved 3', '0,2,255,My Track,0,0,2,8421376', '0'];
    for (let i = 0; i < 60_000; i++) plt.push(`39.9${String(i % 1000).padStart(4, '0')},116.3${String(i % 977).padStart(4, '0')},0,100,39744.5,2008-10-23,${new Date((i % 86400) * 1000).toISOString().slice(11, 19)}`);
    for (const f of ['20081023000000.plt', '20081024000000.plt']) fs.writeFileSync(path.join(traj, f), plt.join('\r\n'));
    for (const [file, gen] of [[td, tdrivePoints], [pt, portoPoints], [path.join(dir, 'Data'), geolifePoints]] as const) {
      let read = 0;
      const it = gen(file, { onBytes: (n) => { read += n; } });
      assert.equal(typeof it[Symbol.asyncIterator], 'function');
      const size = fs.statSync(file).isDirectory() ? inputBytes(file) : fs.statSync(file).size;
      assert.ok(size > 4 << 20, `${size} bytes`);
      const first = await it.next();
      assert.equal(first.done, false);
      assert.ok(read < size / 8, `${path.basename(file)}: read ${read} of ${size} bytes before the first point`);
      await it.return(undefined);
    }
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('out of core = in memory for a release folder (T-Drive) and for --crs input (the same points as UTM 50N x/y)', async () => {
  const { runPipeline } = await import('../../../src/modules/traffic/pipeline.ts');
  const { flowsOutOfCore } = await import('../../../src/modules/traffic/disk.ts');
  const proj4 = (await import('proj4')).default;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-rel-disk-'));
  try {
    const root = path.join(FIX, 'tdrive');
    const utm = proj4('WGS84', 'EPSG:32650'), csv = path.join(dir, 'utm.csv'), lines = ['id,t,x,y'];
    for await (const p of tdrivePoints(root)) { const [x, y] = utm.forward([p.lon, p.lat]); lines.push(`${p.id},${p.t},${x},${y}`); }
    fs.writeFileSync(csv, lines.join('\n'));
    const base = { clean: { maxGapS: 900 }, flows: { maxGapS: 900, sliceS: 900 }, partition: { radiusM: 400, minGroupSize: 1 }, compare: false };
    const flows: number[][][] = [];
    for (const [file, ingestOpts] of [[root, { format: 'tdrive' as const }], [csv, { crs: 'EPSG:32650' }]] as const) {
      const mem = await ingest(file, ingestOpts);
      assert.equal(mem.geo, true);
      const m = await runPipeline(mem.points, mem.geo, { ...base, ingest: ingestOpts });
      const d = await flowsOutOfCore(file, { ...base, ingest: ingestOpts }, { chunkRows: 7, memoryLimit: '32MB', threads: 1, dir: path.join(dir, 'db') });
      assert.ok(m.flows.slice.length > 10, `${m.flows.slice.length} flow rows`);
      const cols = (f: typeof m.flows) => (['slice', 'src', 'dst', 'moves'] as const).map((k) => [...f[k]]);
      assert.deepEqual(cols(d.flows), cols(m.flows), path.basename(file));
      assert.ok(Math.abs(d.geo!.lon0 - 116.4) < 0.2 && Math.abs(d.geo!.lat0 - 39.9) < 0.2, 'projection origin in Beijing');
      flows.push(cols(m.flows));
    }
    // UTM → lon/lat → local metres reproduces the lon/lat run's flow table
    assert.deepEqual(flows[1], flows[0]);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
