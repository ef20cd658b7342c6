// Out-of-core path (disk.ts): the same cells, flow table (row for row) and change points as the
// in-memory path, for CSV, Parquet and SUMO FCD XML, with tiny append chunks and a low DuckDB
// memory limit; the same error messages and lenient counts; flows.parquet is real Parquet.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parquetReadObjects, asyncBufferFromFile } from 'hyparquet';
import { syntheticPoints } from '../../../src/modules/traffic/synthetic.ts';
import { ingest } from '../../../src/modules/traffic/ingest.ts';
import { runPipeline, detectAll, chooseStorage, type AnalyzeOptions } from '../../../src/modules/traffic/pipeline.ts';
import { flowsOutOfCore } from '../../../src/modules/traffic/disk.ts';
import { writeFlowsParquet } from '../../../src/modules/traffic/outputs.ts';
import { Rng } from '../../../src/core/rng.ts';
import type { FlowSeries } from '../../../src/modules/traffic/types.ts';
import '../../../src/modules/traffic/commands.ts';
import { runCommand } from '../../../src/core/runner.ts';
import { fileURLToPath } from 'node:url';

const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/traffic/sumo_fcd.xml.gz');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-disk-test-'));
const DISK = { chunkRows: 7, memoryLimit: '32MB', threads: 1 };
const cli = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-disk-cli-'));
after(() => { fs.rmSync(dir, { recursive: true, force: true }); fs.rmSync(cli, { recursive: true, force: true }); });

/**
 * Synthetic lon/lat trajectories made harder for the out-of-core path: vehicles renamed so that one
 * object makes many trips (overlapping ones give speed outliers), exact duplicate rows, and the
 * rows shuffled so that no stage may rely on file order.
 */
function makeRows() {
  const g = syntheticPoints({ family: 'a', seed: 11, volume: 10, T: 40, nChanges: 2, minSpacing: 10, geoOrigin: { lon0: 153.02, lat0: -27.47 } });
  const p = g.points;
  const rows: [string, number, string, string][] = [];
  for (let i = 0; i < p.n; i++) {
    const k = p.obj[i]!;
    rows.push([`car-${(k * 37) % 61}${k % 3 === 0 ? '-x' : ''}`, p.t[i]!, p.x[i]!.toFixed(7), p.y[i]!.toFixed(7)]);
    if (i % 97 === 0) rows.push(rows[rows.length - 1]!);
  }
  const perm = new Rng(5).permutation(rows.length);
  return { rows: perm.map((i) => rows[i]!), truth: g.truth.changepoints };
}

function writeCsv(file: string, rows: [string, number, string, string][], extra = ''): void {
  fs.writeFileSync(file, 'vehicle,ts,lng,lat\n' + rows.map((r) => r.join(',')).join('\n') + '\n' + extra);
}

function writeFcd(file: string, rows: [string, number, string, string][]): void {
  const byT = new Map<number, [string, number, string, string][]>();
  for (const r of rows) (byT.get(r[1]) ?? byT.set(r[1], []).get(r[1])!).push(r);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<fcd-export>', '  <timestep time="0.00"/>'];
  for (const t of [...byT.keys()].sort((a, b) => a - b)) {
    out.push(`  <timestep time="${t}">`);
    for (const r of byT.get(t)!) out.push(`    <vehicle id="${r[0]}" x="${r[2]}" y="${r[3]}" angle="0.00" type="DEFAULT_VEHTYPE" speed="10.00" pos="1.0" lane="e_0" slope="0.00"/>`);
    out.push('  </timestep>');
  }
  out.push('</fcd-export>');
  fs.writeFileSync(file, out.join('\n') + '\n');
}

function assertSameFlows(a: FlowSeries, b: FlowSeries, what: string): void {
  assert.ok(a.slice.length > 40, `${what}: ${a.slice.length} flow rows`);
  assert.deepEqual([a.T, a.N, a.t0, a.sliceS], [b.T, b.N, b.t0, b.sliceS], `${what}: T, N, t0, sliceS`);
  for (const k of ['slice', 'src', 'dst', 'moves', 'objects'] as const) assert.deepEqual([...b[k]], [...a[k]], `${what}: column ${k}`);
}

async function compare(file: string, o: AnalyzeOptions, what: string) {
  const mem = await ingest(file, o.ingest);
  const m = await runPipeline(mem.points, mem.geo, { compare: false, ...o });
  const d = await flowsOutOfCore(file, o, DISK);
  const dd = detectAll(d.flows, { compare: false, ...o });
  assert.deepEqual(d.report, mem.report, `${what}: ingest report`);
  assert.deepEqual(d.cleaning, { n: m.trips.n, nTrips: m.trips.nTrips, dropped: m.trips.dropped }, `${what}: cleaning`);
  assert.deepEqual(d.geo, m.trips.geo, `${what}: projection origin`);
  assert.deepEqual([...d.part.sx], [...m.part.sx], `${what}: seeds x`);
  assert.deepEqual([...d.part.sy], [...m.part.sy], `${what}: seeds y`);
  assert.equal(d.part.coverageRadius, m.part.coverageRadius, `${what}: coverage radius`);
  assertSameFlows(m.flows, d.flows, what);
  assert.deepEqual(dd.primary.changepoints, m.primary.changepoints, `${what}: change points`);
  return { m, d };
}

test('out of core = in memory (cells, flow table row for row, change points): CSV, Parquet, SUMO FCD XML', async () => {
  const { rows, truth } = makeRows();
  const csv = path.join(dir, 'pts.csv');
  writeCsv(csv, rows);
  const o: AnalyzeOptions = { ingest: { columns: { id: 'vehicle', time: 'ts' } }, detector: 'pelt' };
  const { m, d } = await compare(csv, o, 'csv');
  // the data exercises the cleaning rules, and the detector finds the planted changes
  assert.ok(d.cleaning.dropped.duplicates > 10 && d.cleaning.dropped.speed > 0, JSON.stringify(d.cleaning.dropped));
  assert.ok(d.cleaning.nTrips > 5 * 61, `${d.cleaning.nTrips} trips of 61 objects`);
  assert.ok(m.primary.changepoints.length >= 1, `cps ${m.primary.changepoints} (truth ${truth})`);
  assert.ok(d.disk.dbBytes > 0);

  const pq = path.join(dir, 'pts.parquet');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:'); const con = await inst.connect();
  await con.run(`COPY (SELECT * FROM read_csv('${csv}', header=true, columns={'vehicle': 'VARCHAR', 'ts': 'DOUBLE', 'lng': 'DOUBLE', 'lat': 'DOUBLE'})) TO '${pq}' (FORMAT parquet, ROW_GROUP_SIZE 2000)`);
  con.closeSync(); inst.closeSync();
  await compare(pq, o, 'parquet');

  const xml = path.join(dir, 'fcd.xml');
  writeFcd(xml, rows);
  const fx = await compare(xml, { detector: 'pelt' }, 'fcd');
  assert.equal(fx.d.report.coords, 'geo');
});

test('out of core on the SUMO fixture (real FCD, .xml.gz): the same flow table and the four phase boundaries', { skip: !fs.existsSync(FIXTURE) && 'fixture missing' }, async () => {
  const mem = await ingest(FIXTURE);
  const m = await runPipeline(mem.points, mem.geo, { compare: false });
  const d = await flowsOutOfCore(FIXTURE, {}, { chunkRows: 512, memoryLimit: '32MB', threads: 1 });
  assertSameFlows(m.flows, d.flows, 'sumo fixture');
  assert.deepEqual(detectAll(d.flows, { compare: false }).primary.changepoints, [24, 40, 60, 76]);
  assert.deepEqual(m.primary.changepoints, [24, 40, 60, 76]);
});

test('out of core: trip sampling (maxTrips), OD mode, --until, and the SQL engine on the disk table agree with memory', async () => {
  const { rows } = makeRows();
  const csv = path.join(dir, 'pts2.csv');
  writeCsv(csv, rows);
  const base: AnalyzeOptions = { ingest: { columns: { id: 'vehicle', time: 'ts' } }, partition: { maxTrips: 150, seed: 3 } };
  const { d } = await compare(csv, base, 'sampled');
  assert.equal(d.disk.sampledTrips, 150);
  const od = await compare(csv, { ...base, flows: { mode: 'od', sliceS: 1800 } }, 'od');
  const odMoves = od.m.flows.moves.reduce((a, b) => a + b, 0);
  assert.ok(odMoves > 0 && odMoves <= od.m.trips.nTrips, `OD: at most one edge per trip (${odMoves} of ${od.m.trips.nTrips})`);
  const until = await compare(csv, { ...base, flows: { until: 20 * 900 } }, 'until');
  assert.equal(until.d.flows.T, 20);
  // engine both: flows.sql on the disk table equals the streaming aggregate (checked inside too)
  const both = await flowsOutOfCore(csv, { ...base, engine: 'both' }, DISK);
  assertSameFlows(d.flows, both.flowsSql!, 'flows.sql on disk');
});

test('out of core: the same errors with file:line:field, and the same lenient counts', async () => {
  const { rows } = makeRows();
  const bad = path.join(dir, 'bad.csv');
  writeCsv(bad, rows.slice(0, 3000), 'car-1,notatime,153.0,-27.4\ncar-2,100,153.0\n');
  const o: AnalyzeOptions = { ingest: { columns: { id: 'vehicle', time: 'ts' } } };
  await assert.rejects(flowsOutOfCore(bad, o, DISK), /bad\.csv:3002: field 'ts': bad timestamp \(expected/);
  await assert.rejects(flowsOutOfCore(bad, { ingest: { columns: { id: 'nope' } } }, DISK), /bad\.csv:1: field 'id': mapped column 'nope' is missing/);
  const lenient: AnalyzeOptions = { ingest: { ...o.ingest, lenient: true } };
  const mem = await ingest(bad, lenient.ingest);
  const d = await flowsOutOfCore(bad, lenient, DISK);
  assert.deepEqual(d.report.skipped, { badTime: 1, columnCount: 1 });
  assert.deepEqual(d.report, mem.report);
  // a quoted file restarts the reader with csv-parse: the DuckDB table is reset, nothing counted twice
  const quoted = path.join(dir, 'quoted.csv');
  writeCsv(quoted, rows.slice(0, 3000), '"car, 9",100,153.0,-27.4\n');
  const q = await flowsOutOfCore(quoted, o, DISK);
  assert.equal(q.report.kept, (await ingest(quoted, o.ingest)).report.kept);
  assert.equal(q.report.kept, 3001);
});

test('flows.parquet is real Parquet (read back with hyparquet) equal to the in-memory flow table; analyze --storage disk', async () => {
  const { rows } = makeRows();
  const csv = path.join(dir, 'pts3.csv');
  writeCsv(csv, rows);
  const root = cli;
  const r = await runCommand('traffic', 'analyze', { file: csv, id: 'vehicle', time: 'ts', storage: 'disk', duckdbMemory: '32MB', compare: false }, { root, seed: 1 });
  assert.equal(r.run.status, 'done', String(r.run.error));
  const summary = r.summary as Record<string, unknown>, runDir = path.join(root, r.run.id);
  assert.equal(summary.storage, 'disk');
  assert.ok(!fs.existsSync(path.join(runDir, 'duckdb')), 'the database is removed unless --keep-db');
  // the in-memory path on the same input (the analyze defaults: partition seed = run seed)
  const mem = await ingest(csv, { columns: { id: 'vehicle', time: 'ts' } });
  const m = await runPipeline(mem.points, mem.geo, { partition: { seed: 1 }, compare: false });
  assert.deepEqual(
    [summary.points, summary.trips, summary.cells, summary.flowRows, summary.changepointSlices],
    [m.trips.n, m.trips.nTrips, m.part.sx.length, m.flows.slice.length, m.primary.changepoints],
  );
  const file = path.join(runDir, 'flows.parquet');
  const bytes = fs.readFileSync(file);
  assert.equal(bytes.subarray(0, 4).toString(), 'PAR1'); assert.equal(bytes.subarray(-4).toString(), 'PAR1');
  const back = await parquetReadObjects({ file: await asyncBufferFromFile(file) }) as Record<string, number | bigint>[];
  assert.equal(back.length, m.flows.slice.length, 'rows');
  assert.deepEqual(Object.keys(back[0]!), ['slice', 'slice_start', 'src', 'dst', 'moves', 'objects']);
  back.forEach((row, i) => {
    assert.deepEqual([row.slice, row.slice_start, row.src, row.dst, Number(row.moves), Number(row.objects)],
      [m.flows.slice[i], m.flows.t0 + m.flows.slice[i]! * m.flows.sliceS, m.flows.src[i], m.flows.dst[i], m.flows.moves[i], m.flows.objects[i]], `row ${i}`);
  });
  assert.deepEqual(fs.readdirSync(runDir).filter((f) => f.includes('.tmp')), [], 'no temp files left');
  assert.equal(chooseStorage(csv, { storage: 'auto' }), 'memory');
  assert.equal(chooseStorage(csv, { storage: 'auto', disk: { aboveMB: fs.statSync(csv).size / 2e6 } }), 'disk');
  const bad = path.join(root, 'bad.csv'); fs.writeFileSync(bad, 'object_id,t,lon,lat\na,1,153,-27\na,zz,153,-27\n');
  await assert.rejects(runCommand('traffic', 'analyze', { file: bad, storage: 'disk' }, { root }), /bad\.csv:3: field 't': bad timestamp \(expected/);
  for (const id of fs.readdirSync(root)) assert.ok(!fs.existsSync(path.join(root, id, 'duckdb')), `${id}: no database left behind`);
  // an empty table is still a valid file; a failed write leaves no file behind
  const empty: FlowSeries = {
    slice: new Int32Array(0), src: new Int32Array(0), dst: new Int32Array(0), moves: new Float64Array(0),
    objects: new Float64Array(0), T: 0, N: 0, t0: 0, sliceS: 900,
  };
  const ef = path.join(dir, 'empty.parquet');
  await writeFlowsParquet(ef, empty);
  assert.equal((await parquetReadObjects({ file: await asyncBufferFromFile(ef) })).length, 0);
});
