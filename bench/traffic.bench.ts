// traffic: points/second of ingest + partition + flows on a large synthetic CSV (in-memory path
// and DuckDB SQL path), against a straightforward NumPy/PyTorch reference (csv reader, brute-force
// nearest seed, np.unique aggregation, given seeds); and the change-point stage (PELT) against
// exhaustive optimal partitioning in NumPy with the same cost and penalty (results must agree).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { syntheticPoints, syntheticFlows } from '../src/modules/traffic/synthetic.ts';
import { ingest } from '../src/modules/traffic/ingest.ts';
import { cleanAndSplit } from '../src/modules/traffic/clean.ts';
import { partition, assignCells } from '../src/modules/traffic/partition.ts';
import { buildFlows, buildFlowsDuckDB } from '../src/modules/traffic/flows.ts';
import { buildFeatures, L2Cost, pelt, penaltyFor } from '../src/modules/traffic/detectors/index.ts';
import { flowsEqual } from '../src/modules/traffic/pipeline.ts';
import { flowsOutOfCore } from '../src/modules/traffic/disk.ts';
import { writePointsCsv } from '../src/modules/traffic/synthetic.ts';
import type { BenchHelper } from './helper.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
// 8500 → 10.0 M points (351 MB CSV), the benchmark size (~3 min); TRAFFIC_BENCH_VOLUME=400 for a 0.47 M-point quick run
const VOLUME = Number(process.env.TRAFFIC_BENCH_VOLUME ?? 8500);
const REFERENCE = 'NumPy + torch.cdist (csv reader, given seeds, no cleaning/partition)';

export default async function (h: BenchHelper): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-bench-'));
  const csv = path.join(dir, 'points.csv');
  const g = syntheticPoints({ family: 'a', seed: 1, volume: VOLUME, gridSide: 5, spacingM: 1200, noiseM: 0 });
  writePointsCsv(csv, g.points, false);
  const nPts = g.points.n;
  const mb = fs.statSync(csv).size / 1e6;
  let peak = 0;
  const sample = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 50);

  const stages: Record<string, number> = {};
  const clock = async <T>(name: string, f: () => T | Promise<T>): Promise<T> => {
    const s = performance.now();
    const r = await f();
    stages[name] = (stages[name] ?? 0) + performance.now() - s;
    return r;
  };
  const t0 = performance.now();
  const { points } = await clock('ingest', () => ingest(csv));
  const trips = await clock('clean', () => cleanAndSplit(points));
  const part = await clock('partition', () => partition(trips));
  const cell = await clock('assign', () => assignCells(trips, part));
  const mem = await clock('flows', () => buildFlows(trips, cell, part.sx.length));
  const memMs = performance.now() - t0;
  const sqlStart = performance.now();
  const sql = await buildFlowsDuckDB(trips, part, {});
  const sqlFlowMs = performance.now() - sqlStart;
  const sqlMs = stages.ingest! + stages.clean! + stages.partition! + stages.assign! + sqlFlowMs; // assign gives coverageRadius for B
  clearInterval(sample);
  peak = Math.max(peak, process.memoryUsage().rss);
  const eq = flowsEqual(mem, sql);
  if (!eq.equal) throw new Error(`traffic bench: in-memory and SQL flows differ at row ${eq.firstDiff}`);
  // out of core: the same file with the points in DuckDB on disk (memory_limit 256MB), all stages
  const diskStart = performance.now();
  const cpu0 = process.cpuUsage();
  const disk = await flowsOutOfCore(csv, {}, { dir: path.join(dir, 'disk'), memoryLimit: '256MB' });
  const diskMs = performance.now() - diskStart;
  const diskCpu = process.cpuUsage(cpu0);
  const eqDisk = flowsEqual(mem, disk.flows);
  if (!eqDisk.equal) throw new Error(`traffic bench: in-memory and out-of-core flows differ at row ${eqDisk.firstDiff}`);
  const moves = mem.moves.reduce((a, b) => a + b, 0);

  if (!h.hasPythonTorch()) { console.log('traffic bench: python torch missing, reference skipped'); return; }
  const cfgPath = path.join(dir, 'cfg.json');
  fs.writeFileSync(cfgPath, JSON.stringify({ csv, sx: [...part.sx], sy: [...part.sy], t0: mem.t0, slice: mem.sliceS, maxGap: 120 }));
  const ref = fs.readFileSync(path.join(here, 'traffic_ref.py'), 'utf8');
  const py = h.python<{ rows: number; moves: number; ms: number; read_ms: number }>(`${ref}\nprint(json.dumps(points_flows(json.load(open('${cfgPath}')))))`);
  if (py.moves !== moves || py.rows !== mem.slice.length) throw new Error(`traffic bench: reference flows differ (ours ${mem.slice.length} rows/${moves} moves, reference ${py.rows}/${py.moves})`);
  const stageNote = Object.entries(stages).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)} s`).join(', ');
  const rate = (ms: number) => `${((nPts / ms) * 60_000 / 1e6).toFixed(1)} M points/min`;
  h.record({
    name: 'traffic: ingest+partition+flows, in-memory', paperlabMs: memMs, referenceMs: py.ms, reference: REFERENCE,
    note: `${(nPts / 1e6).toFixed(2)} M points (${mb.toFixed(0)} MB CSV), ${part.sx.length} cells, ${mem.slice.length} flow rows: ${rate(memMs)} (ref ${rate(py.ms)}); ${stageNote}; peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`,
  });
  h.record({
    name: 'traffic: ingest+partition+flows, DuckDB SQL', paperlabMs: sqlMs, referenceMs: py.ms, reference: REFERENCE,
    note: `same input; SQL flows stage ${(sqlFlowMs / 1000).toFixed(1)} s (load + flows.sql); ${rate(sqlMs)}; identical to in-memory table`,
  });
  h.record({
    name: 'traffic: ingest+partition+flows, out of core (DuckDB on disk)', paperlabMs: diskMs, referenceMs: py.ms, reference: REFERENCE,
    note: `same input, --storage disk (points in a DuckDB file, memory_limit 256MB, streamed per object): ${rate(diskMs)} wall, ${((diskCpu.user + diskCpu.system) / 1000).toFixed(0)} ms CPU (all threads); database ${(disk.disk.dbBytes / 1e6).toFixed(0)} MB; identical flow table and cells`,
  });

  // change-point stage: 10 days of 15-min slices (T = 960), all ordered pairs of 16 cells
  const days = 10;
  const f = syntheticFlows({ family: 'a', seed: 3, T: 96 * days, nChanges: 4 * days, minSpacing: 8 }).flows;
  const fm = buildFeatures(f);
  const { beta } = penaltyFor(fm);
  const cost = new L2Cost(fm);
  let cps: number[] = [];
  const ours = await h.timeIt(() => { cps = pelt(new L2Cost(fm), beta, 2); }, { warmup: 1, reps: 5 });
  void cost;
  const cfg2 = path.join(dir, 'cp.json');
  fs.writeFileSync(cfg2, JSON.stringify({ X: [...fm.X], T: fm.T, d: fm.d, beta }));
  const r2 = h.python<{ ms: number; cps: number[] }>(`${ref}\nprint(json.dumps(changepoints(json.load(open('${cfg2}')))))`);
  if (JSON.stringify(r2.cps) !== JSON.stringify(cps)) throw new Error(`traffic bench: PELT ${cps.length} cps vs exhaustive ${r2.cps.length}: differ`);
  h.record({
    name: 'traffic: change-points PELT (T=960, d=' + fm.d + ')', paperlabMs: ours, referenceMs: r2.ms, reference: 'NumPy optimal partitioning, same cost/penalty (no pruning)',
    note: `${cps.length} change-points, identical to the exhaustive optimum; ${f.T} slices × ${fm.d} edge features`,
  });
  fs.rmSync(dir, { recursive: true, force: true });
}
