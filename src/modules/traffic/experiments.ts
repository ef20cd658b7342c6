// traffic's run bodies: each command's parameters mapped onto the typed API (pipeline.ts,
// synthetic.ts, detectors/, metrics.ts), which does the work.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { RunContext } from '../../core/context.ts';
import { parseJson, UsageError } from '../../core/errors.ts';
import { analyzeFile, flowsInMemory, truthSlices, type AnalyzeOptions } from './pipeline.ts';
import { syntheticFlows, syntheticPoints, writePoints } from './synthetic.ts';
import { detect, type DetectResult } from './detectors/index.ts';
import { gridCells, writeSequence } from './report.ts';
import type { Partition } from './partition.ts';
import { sliceStats } from './distances.ts';
import { scoreChangepoints } from './metrics.ts';
import { timeSeriesPlot } from './outputs.ts';
import { defaults } from './config.ts';
import { analyzeParams, type AnalyzeParams, type EvaluateParams, type GenerateParams, type SumoDemoParams, type SyntheticParams } from './commands.ts';
import type { FlowSeries } from './types.ts';

type Cells = Pick<Partition, 'polygons' | 'sx' | 'sy' | 'count' | 'boundary'>;

/** The pipeline options of `analyze`'s parameters (the partition is seeded with the run seed). */
export function analyzeOptions(p: AnalyzeParams, seed: number): AnalyzeOptions {
  if (p.search === 'dynp' && !p.nBkps) throw new UsageError('--search dynp needs --n-bkps (the number of change points)');
  if (p.modes && p.format !== 'geolife' && p.format !== 'auto') throw new UsageError('--modes applies to --format geolife only');
  return {
    ingest: {
      format: p.format,
      columns: { id: p.id, time: p.time, lon: p.lon, lat: p.lat, x: p.x, y: p.y, speed: p.speed },
      timeUnit: p.timeUnit, coords: p.coords, lenient: p.lenient, delimiter: p.delimiter, crs: p.crs, modes: p.modes,
    },
    clean: { maxGapS: p.maxGapS, maxSpeedMps: p.maxSpeedMps },
    partition: { radiusM: p.radiusM, minGroupSize: p.minGroupSize, seed },
    flows: { sliceS: p.sliceMin * 60, t0: p.t0, until: p.until, maxGapS: p.maxGapS, mode: p.mode },
    engine: p.engine, storage: p.storage, disk: { aboveMB: p.diskAboveMb, memoryLimit: p.duckdbMemory, keep: p.keepDb },
    detector: p.detector, compare: p.compare, penSweep: p.penSweep,
    detect: {
      pelt: {
        weight: p.weight, features: p.features, normalize: p.normalize, penScale: p.penScale, nBkps: p.nBkps,
        cost: p.cost, search: p.search, jump: p.jump, minSize: p.minSize, width: p.width, pen: p.pen, gamma: p.gamma,
      },
      graphscope: { mode: p.gsMode, weight: p.weight, edgeThreshold: p.edgeThreshold }, lad: { p: p.ladTopFraction, weight: p.weight },
    },
    truth: p.truth, margin: p.margin, plots: p.plots,
  };
}

export async function analyze(p: AnalyzeParams, ctx: RunContext) {
  return analyzeFile(p.file, analyzeOptions(p, ctx.seed), ctx);
}

/** One planted sequence: flows (or points through the pipeline up to flows), its cells and its truth. */
async function plantedSequence(p: SyntheticParams, family: SyntheticParams['families'][number], seed: number): Promise<{ flows: FlowSeries; truth: number[]; cells: Cells }> {
  const o = { family, seed, T: p.T, gridSide: p.gridSide, volume: p.volume };
  if (!p.points) { const g = syntheticFlows(o); return { flows: g.flows, truth: g.truth.changepoints, cells: gridCells(g.truth.seeds, p.gridSide) }; }
  const g = syntheticPoints(o);
  const r = await flowsInMemory(g.points, false, {});
  return { flows: r.flows, truth: g.truth.changepoints, cells: r.part };
}

export async function synthetic(p: SyntheticParams, ctx: RunContext) {
  const bar = ctx.progress(p.families.length * p.seeds, 'synthetic');
  const summary: Record<string, Record<string, number>> = {};
  for (const fam of p.families) {
    const acc: Record<string, { f1: number; rand: number; none: number }> = {};
    for (let s = 0; s < p.seeds; s++) {
      ctx.throwIfAborted();
      const seed = ctx.seed * 1000 + s;
      const { flows, truth, cells } = await plantedSequence(p, fam, seed);
      const results: DetectResult[] = [];
      for (const d of p.detectors) {
        const r = detect(flows, d);
        results.push(r);
        const sc = scoreChangepoints(r.changepoints, truth, flows.T, p.margin);
        ctx.metrics.log({
          family: fam, seed, detector: d, f1: sc.f1, precision: sc.precision, recall: sc.recall,
          hausdorff: Number.isFinite(sc.hausdorff) ? sc.hausdorff : null, rand: sc.rand, nPred: sc.nPred,
          nTrue: sc.nTrue,
        });
        const a = (acc[d] ??= { f1: 0, rand: 0, none: 0 });
        a.f1 += sc.f1 / p.seeds; a.rand += sc.rand / p.seeds; if (sc.nPred === 0) a.none++;
      }
      // the first sequence as analyze writes its files, for the dashboard's map and timeline
      if (s === 0 && fam === p.families[0]) writeSequence(ctx, flows, cells, results, truth, `family ${fam}, seed ${seed}`);
      if (s === 0) await ctx.plot(`family_${fam}`, timeSeriesPlot(sliceStats(flows), flows, detect(flows, 'pelt').changepoints, `family ${fam}, seed ${seed}: PELT (red) vs planted (dashed)`, truth));
      bar.tick();
    }
    for (const [d, a] of Object.entries(acc)) summary[`${fam}/${d}`] = { meanF1: a.f1, meanRand: a.rand, seedsWithoutChangepoint: a.none };
  }
  bar.done();
  return summary;
}

export async function generate(p: GenerateParams, ctx: RunContext) {
  const g = syntheticPoints({
    family: p.family, seed: ctx.seed, volume: p.volume, gridSide: p.gridSide, T: p.T,
    geoOrigin: p.geo ? defaults.generate.origin : null, t0: p.t0,
  });
  const file = await writePoints(ctx.path(p.name), g.points, p.geo, p.format);
  const sliceS = defaults.generator.sliceS;
  ctx.writeJson('truth.json', { changepoint_slices: g.truth.changepoints, changepoint_times: g.truth.changepoints.map((c) => p.t0 + c * sliceS), regimes: g.truth.regimes });
  return { file, points: g.points.n, trips: g.trips, truth: g.truth.changepoints };
}

export function evaluate(p: EvaluateParams) {
  let pred: number[], T = p.T, t0 = 0, sliceS = p.sliceMin * 60;
  if (fs.existsSync(p.pred)) {
    const j = parseJson<{ changepoints: { slice: number }[]; n_slices: number; t0: number; slice_seconds: number }>(fs.readFileSync(p.pred, 'utf8'), p.pred);
    if (!Array.isArray(j?.changepoints)) throw new Error(`${p.pred}: field 'changepoints' is missing (expected the changepoints.json of an analyze run)`);
    pred = j.changepoints.map((c) => c.slice); T ??= j.n_slices; t0 = j.t0; sliceS = j.slice_seconds;
  } else pred = p.pred.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  if (!T) throw new Error('evaluate: give T (number of slices) when pred is a list');
  const truth = truthSlices(p.truth, { t0, sliceS });
  return { pred, truth, ...scoreChangepoints(pred, truth, T, p.margin) };
}

/** The SUMO demo day (scripts/traffic/sumo_scenario.sh, shipped in the package: `files`). */
export const SUMO_SCENARIO_SCRIPT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../scripts/traffic/sumo_scenario.sh');

export async function sumoDemo(p: SumoDemoParams, ctx: RunContext) {
  const script = SUMO_SCENARIO_SCRIPT;
  if (spawnSync('sh', ['-c', 'command -v sumo'], { encoding: 'utf8' }).status !== 0) {
    ctx.log('sumo is not installed (apt-get install -y sumo sumo-tools): skipped');
    return { skipped: true };
  }
  const dir = ctx.path('sumo');
  const r = spawnSync('bash', [script, dir, String(p.probability), String(p.periodS)], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`sumo_scenario.sh failed with status ${r.status}`);
  return analyze(analyzeParams.parse({ file: path.join(dir, 'fcd.xml'), truth: defaults.sumoDemo.truth }), ctx);
}
