// traffic: trajectories → Voronoi cells → time-evolving flow graphs → city-wide change-points.
// Kim, Zheng, Ahn, Papamanolis, Chao (ATRF 2016) / Kim et al., arXiv 2212.02927 (Trajectory Flow Map).
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import { parseJson } from '../../core/errors.ts';
import { lineChart } from '../../core/plots.ts';
import { analyzeFile, runPipeline, truthSlices, flowsEqual } from './pipeline.ts';
import { syntheticFlows, syntheticPoints, type Family } from './synthetic.ts';
import { detect, sliceStats } from './detect.ts';
import { scoreChangepoints } from './metrics.ts';
import { timeSeriesPlot } from './outputs.ts';
import type { PointTable } from './types.ts';

export * from './types.ts';
export { ingest, TrafficInputError, parseTime, resolveColumns, type IngestOptions, type IngestReport, type ColumnMap } from './ingest.ts';
export { project, unproject, cleanAndSplit, type CleanOptions } from './clean.ts';
export { partition, partitionFromCharacteristic, assignCells, characteristicPoints, voronoiPolygons, type Partition, type PartitionOptions } from './partition.ts';
export { buildFlows, buildFlowsDuckDB, flowsSql, flowsSqlOn, FlowAggregator, FLOWS_SQL_PATH, type FlowOptions } from './flows.ts';
export { detect, sliceStats, type DetectorName, type DetectResult, type DetectOptions } from './detect.ts';
export { detectPelt, buildFeatures, pelt, optimalK, penaltySweep, noiseScale, L2Cost, type PeltOptions } from './pelt.ts';
export { detectGraphScope, segmentCost, searchPartition, logStar, type GraphScopeOptions } from './graphscope.ts';
export { detectLad, type LadOptions } from './lad.ts';
export { scoreChangepoints, prf, hausdorff, annotationError, randIndex, type CpScores } from './metrics.ts';
export { syntheticFlows, syntheticPoints, type SyntheticOptions, type Family } from './synthetic.ts';
export { runPipeline, flowsInMemory, detectAll, analyzeFile, flowsEqual, truthSlices, chooseStorage, type AnalyzeOptions } from './pipeline.ts';
export { flowsOutOfCore, type DiskOptions, type DiskPipelineResult } from './disk.ts';
export * as outputs from './outputs.ts';

const list = (s: string) => s.split(',').map((x) => x.trim()).filter(Boolean);
const opt = (s: string) => (s === '' ? undefined : s);

export const analyzeCmd = defineCommand({
  name: 'analyze',
  description: 'Trajectory file (CSV, Parquet, SUMO FCD XML; .gz ok) → cells, flow graphs (flows.parquet/.csv), change-points, GeoJSON and plots. --storage disk (or auto for big files) keeps the points in DuckDB on disk so that files larger than memory work, with the same results',
  positional: ['file'],
  params: z.object({
    file: z.string().min(1).describe('input file: .csv, .parquet, .xml (SUMO FCD), optionally .gz').meta({ path: 'input' }),
    format: z.enum(['auto', 'csv', 'parquet', 'fcd']).default('auto').describe('input format (auto: from the extension)'),
    id: z.string().default('').describe('column of the object id (auto-detected when empty)'),
    time: z.string().default('').describe('column of the timestamp (auto-detected when empty)'),
    lon: z.string().default('').describe('column of the longitude'),
    lat: z.string().default('').describe('column of the latitude'),
    x: z.string().default('').describe('column of the projected x (metres) or SUMO x'),
    y: z.string().default('').describe('column of the projected y (metres) or SUMO y'),
    speed: z.string().default('').describe('column of the speed in m/s (optional)'),
    timeUnit: z.enum(['auto', 's', 'ms', 'iso']).default('auto').describe('timestamps: epoch s, epoch ms, ISO-8601 (auto: from the first value)'),
    coords: z.enum(['auto', 'geo', 'metres']).default('auto').describe('x/y are lon/lat (geo) or metres; auto detects degrees (SUMO --fcd-output.geo)'),
    delimiter: z.string().min(1).max(1).default(',').describe('CSV delimiter'),
    lenient: z.boolean().default(false).describe('skip and count bad rows instead of stopping at the first'),
    maxGapS: z.number().positive().default(120).describe('start a new trip after a gap longer than this (s)'),
    maxSpeedMps: z.number().positive().default(60).describe('drop points implying a faster speed (m/s)'),
    radiusM: z.number().positive().default(500).describe('cell radius R (m) of the grouping'),
    minGroupSize: z.number().int().min(1).default(3).describe('drop groups with fewer characteristic points'),
    sliceMin: z.number().positive().default(15).describe('time slice length in minutes (5, 10, 15, 30, 60 …)'),
    t0: z.number().nullable().default(null).describe('start of slice 0 in seconds (default: first time floored to the slice)'),
    until: z.number().nullable().default(null).describe('ignore points at or after this time (s)'),
    mode: z.enum(['transitions', 'od']).default('transitions').describe('edges: cell transitions, or one OD edge per trip'),
    engine: z.enum(['memory', 'duckdb', 'both']).default('memory').describe('flow aggregation: typed arrays, the portable SQL on DuckDB, or both (checked identical)'),
    storage: z.enum(['auto', 'memory', 'disk']).default('auto').describe('where the points live: typed arrays in memory, or out of core in a DuckDB file in the run folder (peak memory independent of the file size; identical results); auto = disk above --disk-above-mb'),
    diskAboveMb: z.number().positive().default(1000).describe('storage auto: use disk when the input is larger than this many MB (×6 for .gz)'),
    duckdbMemory: z.string().regex(/^\s*\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)\s*$/i, 'a size like 512MB or 2GB').default('1GB').describe('storage disk: DuckDB memory_limit; sorts and joins above it spill to the run folder'),
    keepDb: z.boolean().default(false).describe('storage disk: keep the DuckDB file (duckdb/points.duckdb: tables clean, trips, cp, seeds) after the run'),
    detector: z.enum(['pelt', 'graphscope', 'lad']).default('pelt').describe('primary change-point detector'),
    compare: z.boolean().default(true).describe('also run and report the other two detectors'),
    weight: z.enum(['moves', 'objects']).default('moves').describe('edge weight'),
    normalize: z.enum(['none', 'shares']).default('none').describe('PELT features: log(1+w), or shares w/Σw (structure only)'),
    penScale: z.number().positive().default(1).describe('PELT penalty multiplier'),
    nBkps: z.number().int().min(0).default(0).describe('PELT: known number of change-points (0 = use the penalty)'),
    penSweep: z.boolean().default(false).describe('report #change-points over log-spaced penalties'),
    gsMode: z.enum(['batch', 'stream']).default('stream').describe('GraphScope: streaming (original) or batch dynamic programming'),
    edgeThreshold: z.number().positive().default(1).describe('GraphScope: an edge is present in a slice when its weight ≥ this'),
    ladTopFraction: z.number().positive().max(1).default(0.05).describe('LAD: fraction of slices reported'),
    truth: z.string().default('').describe('ground truth change-points, comma-separated HH:MM (or slice indices), for F1'),
    margin: z.number().int().min(0).default(1).describe('evaluation margin in slices'),
  }),
  async run(p, ctx) {
    return analyzeFile(p.file, {
      ingest: { format: p.format, columns: { id: opt(p.id), time: opt(p.time), lon: opt(p.lon), lat: opt(p.lat), x: opt(p.x), y: opt(p.y), speed: opt(p.speed) }, timeUnit: p.timeUnit, coords: p.coords, lenient: p.lenient, delimiter: p.delimiter },
      clean: { maxGapS: p.maxGapS, maxSpeedMps: p.maxSpeedMps },
      partition: { radiusM: p.radiusM, minGroupSize: p.minGroupSize, seed: ctx.seed },
      flows: { sliceS: p.sliceMin * 60, t0: p.t0, until: p.until, maxGapS: p.maxGapS, mode: p.mode },
      engine: p.engine, storage: p.storage, disk: { aboveMB: p.diskAboveMb, memoryLimit: p.duckdbMemory, keep: p.keepDb },
      detector: p.detector, compare: p.compare, penSweep: p.penSweep,
      detect: {
        pelt: { weight: p.weight, normalize: p.normalize, penScale: p.penScale, nBkps: p.nBkps || null },
        graphscope: { mode: p.gsMode, weight: p.weight, edgeThreshold: p.edgeThreshold }, lad: { p: p.ladTopFraction, weight: p.weight },
      },
      truth: list(p.truth), margin: p.margin,
    }, ctx);
  },
});

export const syntheticCmd = defineCommand({
  name: 'synthetic',
  description: 'Planted regime changes (families a, b, null): detector F1 / Hausdorff / Rand over seeds',
  quick: true,
  params: z.object({
    families: z.string().default('a,b,null').describe('comma list of a (volume+structure), b (structure only), null'),
    detectors: z.string().default('pelt,lad').describe('comma list of pelt, graphscope, lad'),
    seeds: z.number().int().min(1).max(1000).default(10).describe('number of seeds per family'),
    T: z.number().int().min(8).default(96).describe('slices per sequence'),
    gridSide: z.number().int().min(2).max(20).default(4).describe('cells per side of the jittered grid'),
    volume: z.number().positive().default(1500).describe('expected moves per slice at volume 1'),
    margin: z.number().int().min(0).default(1).describe('evaluation margin in slices'),
    points: z.boolean().default(false).describe('generate point trajectories and run the whole S1–S4 pipeline'),
  }),
  async run(p, ctx) {
    const fams = list(p.families) as Family[], dets = list(p.detectors) as ('pelt' | 'graphscope' | 'lad')[];
    for (const f of fams) if (!['a', 'b', 'null'].includes(f)) throw new Error(`families: unknown family '${f}'`);
    for (const d of dets) if (!['pelt', 'graphscope', 'lad'].includes(d)) throw new Error(`detectors: unknown detector '${d}'`);
    const bar = ctx.progress(fams.length * p.seeds, 'synthetic');
    const summary: Record<string, Record<string, number>> = {};
    for (const fam of fams) {
      const acc: Record<string, { f1: number; rand: number; haus: number; none: number }> = {};
      for (let s = 0; s < p.seeds; s++) {
        ctx.throwIfAborted();
        const seed = ctx.seed * 1000 + s;
        let flows, truth;
        if (p.points) {
          const g = syntheticPoints({ family: fam, seed, T: p.T, gridSide: p.gridSide, volume: p.volume });
          const r = await runPipeline(g.points, false, { detector: 'pelt' });
          flows = r.flows; truth = g.truth;
        } else ({ flows, truth } = syntheticFlows({ family: fam, seed, T: p.T, gridSide: p.gridSide, volume: p.volume }));
        for (const d of dets) {
          const r = detect(flows, d, { graphscope: { mode: 'stream' } });
          const sc = scoreChangepoints(r.changepoints, truth.changepoints, flows.T, p.margin);
          ctx.metrics.log({ family: fam, seed, detector: d, f1: sc.f1, precision: sc.precision, recall: sc.recall, hausdorff: Number.isFinite(sc.hausdorff) ? sc.hausdorff : null, rand: sc.rand, nPred: sc.nPred, nTrue: sc.nTrue });
          const a = (acc[d] ??= { f1: 0, rand: 0, haus: 0, none: 0 });
          a.f1 += sc.f1 / p.seeds; a.rand += sc.rand / p.seeds; if (sc.nPred === 0) a.none++;
        }
        if (s === 0) await ctx.plot(`family_${fam}`, timeSeriesPlot(sliceStats(flows), flows, detect(flows, 'pelt').changepoints, `family ${fam}, seed ${seed}: PELT (red) vs planted (dashed)`, truth.changepoints));
        bar.tick();
      }
      for (const [d, a] of Object.entries(acc)) summary[`${fam}/${d}`] = { meanF1: a.f1, meanRand: a.rand, seedsWithoutChangepoint: a.none };
    }
    bar.done();
    return summary;
  },
});

export const generateCmd = defineCommand({
  name: 'generate',
  description: 'Write a synthetic GPS point file (CSV or Parquet) with planted regime changes',
  params: z.object({
    family: z.enum(['a', 'b', 'null']).default('a').describe('a: volume+structure, b: structure only, null: no change'),
    volume: z.number().positive().default(150).describe('expected trips per slice at volume 1'),
    gridSide: z.number().int().min(2).max(30).default(4).describe('cells per side of the generating grid'),
    T: z.number().int().min(8).default(96).describe('slices of 15 minutes'),
    geo: z.boolean().default(true).describe('write lon/lat about Brisbane instead of metres'),
    epoch: z.number().default(0).describe('time of slice 0 (0 = seconds from midnight; e.g. 1700006400 for epoch)'),
    format: z.enum(['csv', 'parquet']).default('csv').describe('output format (Parquet is written with DuckDB)'),
    name: z.string().default('points').describe('output file name (without extension) in the run folder').meta({ path: 'output' }),
  }),
  async run(p, ctx) {
    const g = syntheticPoints({ family: p.family, seed: ctx.seed, volume: p.volume, gridSide: p.gridSide, T: p.T, geoOrigin: p.geo ? { lon0: 153.02, lat0: -27.47 } : null, t0: p.epoch });
    const csv = ctx.path(`${p.name}.csv`);
    writePointsCsv(csv, g.points, p.geo);
    let file = csv;
    if (p.format === 'parquet') {
      file = ctx.path(`${p.name}.parquet`);
      const { DuckDBInstance } = await import('@duckdb/node-api');
      const inst = await DuckDBInstance.create(':memory:'); const con = await inst.connect();
      await con.run(`COPY (SELECT * FROM read_csv('${csv.replaceAll("'", "''")}', header=true)) TO '${file.replaceAll("'", "''")}' (FORMAT parquet, ROW_GROUP_SIZE 100000)`);
      con.closeSync(); inst.closeSync(); fs.rmSync(csv);
    }
    const sliceS = 900;
    ctx.writeJson('truth.json', { changepoint_slices: g.truth.changepoints, changepoint_times: g.truth.changepoints.map((c) => p.epoch + c * sliceS), regimes: g.truth.regimes });
    return { file, points: g.points.n, trips: g.trips, truth: g.truth.changepoints };
  },
});

/** Writes a point table as CSV (object_id,t,lon,lat or object_id,t,x,y). */
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

export const evaluateCmd = defineCommand({
  name: 'evaluate',
  description: 'Score predicted change-points (changepoints.json or a list) against the truth',
  params: z.object({
    pred: z.string().min(1).describe('changepoints.json of an analyze run, or comma-separated slice indices').meta({ path: 'input', notPath: '^[\\d\\s,]*$' }),
    truth: z.string().min(1).describe('comma-separated HH:MM times or slice indices'),
    T: z.number().int().min(0).default(0).describe('number of slices (read from changepoints.json when 0)'),
    sliceMin: z.number().positive().default(15).describe('slice length when pred is a list'),
    margin: z.number().int().min(0).default(1).describe('margin in slices'),
  }),
  run(p) {
    let pred: number[], T = p.T, t0 = 0, sliceS = p.sliceMin * 60;
    if (fs.existsSync(p.pred)) {
      const j = parseJson<{ changepoints: { slice: number }[]; n_slices: number; t0: number; slice_seconds: number }>(fs.readFileSync(p.pred, 'utf8'), p.pred);
      if (!Array.isArray(j?.changepoints)) throw new Error(`${p.pred}: field 'changepoints' is missing (expected the changepoints.json of an analyze run)`);
      pred = j.changepoints.map((c) => c.slice); T ||= j.n_slices; t0 = j.t0; sliceS = j.slice_seconds;
    } else pred = list(p.pred).map(Number);
    if (!T) throw new Error('evaluate: give T (number of slices) when pred is a list');
    const truth = truthSlices(list(p.truth), { t0, sliceS });
    return { pred, truth, ...scoreChangepoints(pred, truth, T, p.margin) };
  },
});

/** The spec's SUMO day (scripts/traffic/sumo_scenario.sh, shipped in the package: `files`). */
export const SUMO_SCENARIO_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/traffic/sumo_scenario.sh');

export const sumoDemoCmd = defineCommand({
  name: 'sumo-demo',
  description: 'Build the SUMO scenario of the spec (needs Debian sumo, sumo-tools) and analyze it',
  params: z.object({
    probability: z.number().positive().max(1).default(0.5).describe('probe penetration'),
    periodS: z.number().positive().default(15).describe('FCD sampling period (s)'),
  }),
  async run(p, ctx) {
    const script = SUMO_SCENARIO_SCRIPT;
    if (spawnSync('sh', ['-c', 'command -v sumo'], { encoding: 'utf8' }).status !== 0) {
      ctx.log('sumo is not installed (apt-get install -y sumo sumo-tools): skipped');
      return { skipped: true };
    }
    const dir = ctx.path('sumo');
    const r = spawnSync('bash', [script, dir, String(p.probability), String(p.periodS)], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`sumo_scenario.sh failed with status ${r.status}`);
    return analyzeCmd.run(analyzeCmd.params.parse({ file: path.join(dir, 'fcd.xml'), truth: '06:00,10:00,15:00,19:00' }), ctx) as Promise<Record<string, unknown>>;
  },
});

void lineChart; void flowsEqual;

registerModule({
  name: 'traffic',
  title: 'City-wide traffic dynamics from trajectories',
  description: 'Trajectories → data-driven Voronoi cells → time-evolving flow graphs → change-points (PELT, GraphScope, LAD), with in-memory and portable-SQL (DuckDB) flow aggregation.',
  papers: [
    'Kim, Zheng, Ahn, Papamanolis, Chao: Graph-based Analysis of City-wide Traffic Dynamics using Time-evolving Graphs of Trajectory Data, ATRF 2016',
    'Kim, Zheng, Corcoran, Ahn, Papamanolis: Trajectory Flow Map, arXiv 2212.02927',
  ],
  commands: [analyzeCmd, syntheticCmd, generateCmd, evaluateCmd, sumoDemoCmd],
});
