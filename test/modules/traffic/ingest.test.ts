import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ingest, TrafficInputError, parseTime } from '../../../src/modules/traffic/ingest.ts';
import { cleanAndSplit, project } from '../../../src/modules/traffic/clean.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-ingest-'));
const write = (name: string, text: string) => { const f = path.join(dir, name); fs.writeFileSync(f, text); return f; };

const ROWS = [
  ['a', 1700000000, 153.0, -27.4], ['a', 1700000015, 153.001, -27.4], ['b', 1700000003, 153.01, -27.41], ['b', 1700000033, 153.012, -27.41],
];

test('CSV: epoch seconds, epoch ms and ISO-8601 give the same times; columns auto-detected', async () => {
  const s = write('s.csv', 'object_id,t,lon,lat\n' + ROWS.map((r) => r.join(',')).join('\n') + '\n');
  const ms = write('ms.csv', 'vehicle_id;timestamp;longitude;latitude\n' + ROWS.map((r) => [r[0], Number(r[1]) * 1000, r[2], r[3]].join(';')).join('\n') + '\n');
  const iso = write('iso.csv', 'id,time,lng,lat\n' + ROWS.map((r) => [r[0], new Date(Number(r[1]) * 1000).toISOString(), r[2], r[3]].join(',')).join('\n') + '\n');
  const a = await ingest(s), b = await ingest(ms, { delimiter: ';' }), c = await ingest(iso);
  assert.equal(a.report.timeUnit, 's'); assert.equal(b.report.timeUnit, 'ms'); assert.equal(c.report.timeUnit, 'iso');
  for (const r of [a, b, c]) {
    assert.equal(r.points.n, 4); assert.equal(r.geo, true);
    assert.deepEqual([...r.points.t], ROWS.map((x) => Number(x[1])));
    assert.deepEqual(r.points.ids, ['a', 'b']);
  }
  assert.equal(parseTime('2023-11-14 22:13:20', 'iso'), 1700000000, 'no zone = UTC');
  assert.equal(parseTime('2023-11-14T23:13:20+01:00', 'iso'), 1700000000);
  assert.ok(Number.isNaN(parseTime('14/11/2023', 'iso')));
});

test('explicit column mapping, projected metres, speed', async () => {
  const f = write('m.csv', 'veh,when,east,north,v\nx1,10,1000.5,2000,3.5\nx1,20,1010,2000,4\n');
  const r = await ingest(f, { columns: { id: 'veh', time: 'when', x: 'east', y: 'north', speed: 'v' } });
  assert.equal(r.geo, false);
  assert.deepEqual([...r.points.x], [1000.5, 1010]);
  assert.deepEqual([...r.points.speed!], [3.5, 4]);
  await assert.rejects(ingest(f, { columns: { id: 'vehicle' } }), (e: Error) => e instanceof TrafficInputError && /field 'id'.*'vehicle' is missing \(not among the \d+ header column/.test(e.message) && !e.message.includes('when'));
});

test('Must show: malformed row, missing column, bad timestamp → error with line number; lenient skips and counts', async () => {
  const bad = write('bad.csv', 'object_id,t,lon,lat\na,1,153,-27\na,2,153.001\nb,xx,153,-27\nb,4,153,-27\n');
  await assert.rejects(ingest(bad), (e: Error) => /bad\.csv:3: expected 4 fields, got 3/.test(e.message));
  const badT = write('badt.csv', 'object_id,t,lon,lat\na,1,153,-27\nb,xx,153,-27\n');
  await assert.rejects(ingest(badT), (e: Error) => /badt\.csv:3: field 't': bad timestamp \(expected/.test(e.message) && !e.message.includes("'xx'"));
  const noCol = write('nocol.csv', 'object_id,lon,lat\na,153,-27\n');
  await assert.rejects(ingest(noCol), (e: Error) => /nocol\.csv:1: field 'time': no column for 'time'/.test(e.message));
  const badXY = write('badxy.csv', 'object_id,t,lon,lat\na,1,153,-27\na,2,NaN,-27\na,3,153,-95\n');
  await assert.rejects(ingest(badXY), (e: Error) => /badxy\.csv:3: field 'lon': not a finite number$/.test(e.message));
  const quote = write('quote.csv', 'object_id,t,lon,lat\na,1,153,-27\n"a,2,153,-27\nb,3,153,-27\n');
  await assert.rejects(ingest(quote), (e: Error) => /quote\.csv:\d*: .*malformed CSV/.test(e.message));
  const r = await ingest(bad, { lenient: true });
  assert.equal(r.points.n, 2);
  assert.equal(r.report.rows, 4);
  assert.deepEqual(r.report.skipped, { columnCount: 1, badTime: 1 });
  assert.equal(r.report.kept + 2, r.report.rows, 'every row is either kept or counted');
  const r2 = await ingest(badXY, { lenient: true });
  assert.deepEqual(r2.report.skipped, { badCoordinate: 2 });
  await assert.rejects(ingest(path.join(dir, 'none.csv')), /none\.csv: file not found/);
});

test('quoted CSV (embedded delimiter and newline) falls back to csv-parse with the same line numbers', async () => {
  const f = write('q.csv', 'object_id,t,lon,lat\n"bus, 12",1,153,-27\n"bus, 12",2,153.001,-27\n"multi\nline",3,153,-27\nz,bad,153,-27\n');
  await assert.rejects(ingest(f), (e: Error) => /q\.csv:6: field 't': bad timestamp/.test(e.message) && !e.message.includes("'bad'"));
  const r = await ingest(f, { lenient: true });
  assert.deepEqual(r.points.ids, ['bus, 12', 'multi\nline']);
  assert.equal(r.points.n, 3);
  assert.deepEqual(r.report.skipped, { badTime: 1 });
});

test('gzip, SUMO xml2csv CSV with empty timesteps, Parquet via DuckDB', async () => {
  const csv = 'timestep_time,vehicle_angle,vehicle_id,vehicle_lane,vehicle_pos,vehicle_slope,vehicle_speed,vehicle_type,vehicle_x,vehicle_y\n' +
    '0.00,,,,,,,,,\n' +
    '15.00,90.00,v1,e_0,5.0,0.00,10.0,DEFAULT_VEHTYPE,153.010000,-27.450000\n' +
    '30.00,90.00,v1,e_0,155.0,0.00,10.0,DEFAULT_VEHTYPE,153.011500,-27.450000\n';
  const gz = path.join(dir, 'fcd.csv.gz'); fs.writeFileSync(gz, zlib.gzipSync(csv));
  const r = await ingest(gz);
  assert.equal(r.points.n, 2); assert.equal(r.geo, true);
  assert.deepEqual(r.report.skipped, { emptyTimestep: 1 });
  assert.deepEqual([...r.points.speed!], [10, 10]);
  // Parquet written by DuckDB from a CSV; read back row group by row group
  const src = write('pq.csv', 'object_id,t,x,y\n' + Array.from({ length: 3000 }, (_, i) => `v${i % 7},${i},${i * 1.5},${-i}`).join('\n') + '\n');
  const pq = path.join(dir, 'pts.parquet');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:'); const con = await inst.connect();
  await con.run(`COPY (SELECT * FROM read_csv('${src}', header=true)) TO '${pq}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  con.closeSync(); inst.closeSync();
  const a = await ingest(src), b = await ingest(pq);
  assert.equal(b.report.format, 'parquet');
  assert.deepEqual([...b.points.t], [...a.points.t]); assert.deepEqual([...b.points.x], [...a.points.x]);
  assert.deepEqual(b.points.ids, a.points.ids); assert.equal(b.geo, false);
  const notPq = write('fake.parquet', 'hello');
  await assert.rejects(ingest(notPq), /fake\.parquet: not a readable Parquet file/);
});

test('SUMO FCD XML: vehicles and persons, empty timesteps, geo detection, errors with line numbers', async () => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<fcd-export>
  <timestep time="0.00"/>
  <timestep time="45.00">
    <vehicle id="am_17" x="153.024240" y="-27.456755" angle="180.00" type="DEFAULT_VEHTYPE" speed="14.23" pos="216.49" lane="G8G7_0" slope="0.00"/>
    <person id="p1" x="153.02" y="-27.45" angle="0" speed="1.2"/>
  </timestep>
  <timestep time="60.00">
    <vehicle id="am_17" x="153.024240" y="-27.458755" angle="180.00" speed="14.00"/>
  </timestep>
</fcd-export>
`;
  const f = write('fcd.xml', xml);
  const r = await ingest(f);
  assert.equal(r.report.format, 'fcd'); assert.equal(r.geo, true);
  assert.equal(r.points.n, 3);
  assert.deepEqual([...r.points.t], [45, 45, 60]);
  assert.deepEqual(r.points.ids, ['am_17', 'p1']);
  const metres = write('fcdm.xml', xml.replaceAll('153.02', '1530.2').replaceAll('-27.45', '2745.'));
  assert.equal((await ingest(metres)).geo, false);
  const missing = write('fcd_bad.xml', xml.replace(' x="153.024240" y="-27.458755"', ' y="-27.458755"'));
  await assert.rejects(ingest(missing), (e: Error) => /fcd_bad\.xml:9: field 'x': <vehicle> has no 'x' attribute/.test(e.message));
  const lenient = await ingest(missing, { lenient: true });
  assert.equal(lenient.points.n, 2); assert.deepEqual(lenient.report.skipped, { missingField: 1 });
  const trunc = write('fcd_trunc.xml', xml.slice(0, xml.indexOf('<timestep time="60.00">') + 30));
  await assert.rejects(ingest(trunc), /fcd_trunc\.xml:\d+: malformed XML/);
  const notFcd = write('other.xml', '<root><a/></root>');
  await assert.rejects(ingest(notFcd), /no <fcd-export> root/);
});

test('cleaning: duplicates and speed outliers are dropped and counted, trips split at gaps', () => {
  const pts = {
    n: 7, obj: Int32Array.from([0, 0, 0, 0, 0, 0, 1]), ids: ['a', 'b'],
    t: Float64Array.from([0, 10, 10, 20, 21, 500, 0]), x: Float64Array.from([0, 100, 100, 200, 5000, 210, 0]), y: new Float64Array(7), geo: null,
  };
  const c = cleanAndSplit(pts, { maxGapS: 120, maxSpeedMps: 60 });
  assert.deepEqual(c.dropped, { duplicates: 1, speed: 1 });
  assert.equal(c.n, 5);
  assert.equal(c.nTrips, 3);
  assert.deepEqual([...c.trip], [0, 0, 0, 1, 2]);
  // projection (aeqd on WGS 84): 0.01° of latitude at 27.495°S is the meridian arc M·Δφ = 1108.11 m
  // (the spherical equirectangular approximation said 1111.95)
  const p = project({ n: 2, obj: new Int32Array(2), ids: ['a'], t: new Float64Array(2), x: Float64Array.from([153, 153]), y: Float64Array.from([-27.5, -27.49]), geo: null });
  assert.ok(Math.abs(p.y[1]! - p.y[0]! - 1108.11) < 0.01, `${p.y[1]! - p.y[0]!}`);
});
