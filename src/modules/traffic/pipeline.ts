// The whole pipeline S0–S5 for one file: ingest → clean/trips → partition → assign → flows
// (in memory and/or DuckDB SQL) → change-points → outputs. Used by `paperlab traffic analyze`.
import type { RunContext } from '../../core/context.ts';
import { ingest, type IngestOptions, type IngestReport } from './ingest.ts';
import { project, cleanAndSplit, type CleanOptions } from './clean.ts';
import { partition, assignCells, type PartitionOptions, type Partition } from './partition.ts';
import { buildFlows, buildFlowsDuckDB, type FlowOptions } from './flows.ts';
import { detect, sliceStats, type DetectorName, type DetectOptions, type DetectResult } from './detect.ts';
import { penaltySweep } from './pelt.ts';
import { scoreChangepoints, type CpScores } from './metrics.ts';
import type { FlowSeries, PointTable, TripTable } from './types.ts';
import * as out from './outputs.ts';
import { flowsOutOfCore, type DiskOptions } from './disk.ts';
import fs from 'node:fs';

export interface AnalyzeOptions {
  ingest?: IngestOptions;
  clean?: CleanOptions;
  partition?: PartitionOptions;
  flows?: FlowOptions;
  engine?: 'memory' | 'duckdb' | 'both';
  /**
   * where the points live: typed arrays in memory, or DuckDB on disk (out of core, disk.ts; peak
   * memory independent of the file size); auto = disk when the file is larger than disk.aboveMB
   */
  storage?: 'auto' | 'memory' | 'disk';
  disk?: DiskOptions & { aboveMB?: number };
  detector?: DetectorName;
  /** also run the other detectors and report them (not used for the primary result) */
  compare?: boolean;
  detect?: DetectOptions;
  penSweep?: boolean;
  /** ground truth: times of day 'HH:MM[:SS]' or slice indices */
  truth?: string[];
  margin?: number;
}

export function flowsEqual(a: FlowSeries, b: FlowSeries): { equal: boolean; firstDiff: number } {
  const n = Math.max(a.slice.length, b.slice.length);
  for (let i = 0; i < n; i++) {
    if (a.slice[i] !== b.slice[i] || a.src[i] !== b.src[i] || a.dst[i] !== b.dst[i] || a.moves[i] !== b.moves[i] || a.objects[i] !== b.objects[i]) return { equal: false, firstDiff: i };
  }
  return { equal: a.T === b.T && a.N === b.N, firstDiff: -1 };
}

/** 'HH:MM[:SS]' (time of day, in the day of t0) or an integer slice index -> slice index. */
export function truthSlices(truth: string[], f: { t0: number; sliceS: number }): number[] {
  return truth.map((s) => {
    const m = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s.trim());
    if (m) {
      const day = Math.floor(f.t0 / 86400) * 86400;
      return Math.round((day + Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3] ?? 0) - f.t0) / f.sliceS);
    }
    const k = Number(s);
    if (!Number.isInteger(k)) throw new Error(`truth: '${s}' is neither HH:MM nor a slice index`);
    return k;
  });
}

export interface PipelineResult {
  report: IngestReport; trips: TripTable; part: Partition; flows: FlowSeries; flowsSql?: FlowSeries;
  primary: DetectResult; others: DetectResult[]; evaluation?: Record<string, CpScores>; truth?: number[];
}

/** Runs S1–S4 on a point table already in memory (metres or lon/lat per `geo`). */
export async function runPipeline(points: PointTable, geo: boolean, o: AnalyzeOptions, hooks: { log?: (m: string) => void; stage?: (name: string) => void; tick?: () => void } = {}): Promise<Omit<PipelineResult, 'report'>> {
  const r = await flowsInMemory(points, geo, o, hooks);
  hooks.stage?.('detect');
  return { ...r, ...detectAll(r.flows, o, hooks.tick) };
}

/** S1–S3 on a point table in memory: clean/trips, partition, assign, flows (and the SQL check). */
export async function flowsInMemory(points: PointTable, geo: boolean, o: AnalyzeOptions, hooks: { log?: (m: string) => void; stage?: (name: string) => void } = {}): Promise<Pick<PipelineResult, 'trips' | 'part' | 'flows' | 'flowsSql'>> {
  if (geo) project(points);
  hooks.stage?.('clean');
  const trips = cleanAndSplit(points, { maxGapS: o.flows?.maxGapS ?? o.clean?.maxGapS, ...o.clean });
  if (trips.n < 2) throw new Error(`${points.source ?? 'input'}: fewer than 2 points left after cleaning`);
  hooks.stage?.('partition');
  const part = partition(trips, o.partition);
  const cell = assignCells(trips, part);
  hooks.log?.(`${trips.n} points, ${trips.nTrips} trips, ${part.sx.length} cells (coverage radius ${part.coverageRadius.toFixed(0)} m)`);
  hooks.stage?.('flows');
  const fo: FlowOptions = { ...o.flows, maxGapS: o.flows?.maxGapS ?? o.clean?.maxGapS ?? 120 };
  const engine = o.engine ?? 'memory';
  let flows: FlowSeries, flowsSql: FlowSeries | undefined;
  if (engine === 'duckdb') flows = flowsSql = await buildFlowsDuckDB(trips, part, fo);
  else flows = buildFlows(trips, cell, part.sx.length, fo);
  if (engine === 'both') {
    flowsSql = await buildFlowsDuckDB(trips, part, fo);
    checkBoth(flows, flowsSql, hooks.log);
  }
  return { trips, part, flows, flowsSql };
}

function checkBoth(flows: FlowSeries, flowsSql: FlowSeries | undefined, log?: (m: string) => void): void {
  if (!flowsSql) return;
  const eq = flowsEqual(flows, flowsSql);
  if (!eq.equal) throw new Error(`in-memory and SQL flow tables differ (first differing row ${eq.firstDiff})`);
  log?.(`in-memory and DuckDB SQL flow tables agree (${flows.slice.length} rows)`);
}

/** S4 on a flow table: the primary detector, optionally the others, and scores against the truth. */
export function detectAll(flows: FlowSeries, o: AnalyzeOptions, tick?: () => void): Pick<PipelineResult, 'primary' | 'others' | 'evaluation' | 'truth'> {
  const det = o.detector ?? 'pelt';
  const primary = detect(flows, det, o.detect, tick);
  const others = o.compare ? (['pelt', 'graphscope', 'lad'] as const).filter((d) => d !== det).map((d) => detect(flows, d, o.detect, tick)) : [];
  let evaluation: Record<string, CpScores> | undefined, truth: number[] | undefined;
  if (o.truth?.length) {
    truth = truthSlices(o.truth, flows);
    evaluation = {};
    for (const r of [primary, ...others]) evaluation[r.detector] = scoreChangepoints(r.changepoints, truth, flows.T, o.margin ?? 1);
  }
  return { primary, others, evaluation, truth };
}

/** memory or disk for `storage: auto`: disk when the (uncompressed, estimated ×6 for .gz) file exceeds aboveMB. */
export function chooseStorage(file: string, o: AnalyzeOptions): 'memory' | 'disk' {
  const s = o.storage ?? 'memory';
  if (s !== 'auto') return s;
  const bytes = fs.existsSync(file) ? fs.statSync(file).size * (file.endsWith('.gz') ? 6 : 1) : 0;
  return bytes > (o.disk?.aboveMB ?? 1000) * 1e6 ? 'disk' : 'memory';
}

/** analyze <file>: the whole pipeline with outputs written into the run folder. */
export async function analyzeFile(file: string, o: AnalyzeOptions, ctx: RunContext): Promise<Record<string, unknown>> {
  const stages = ['ingest', 'clean', 'partition', 'flows', 'detect', 'outputs'];
  const bar = ctx.progress(stages.length, 'traffic analyze');
  const ib: { bar: ReturnType<RunContext['progress']> | null } = { bar: null };
  let lastPos = 0;
  const ingestOpts: IngestOptions = {
    ...o.ingest, signal: ctx.signal,
    onProgress: (done, total) => { ib.bar ??= ctx.progress(total, 'read'); ib.bar.tick(done - lastPos); lastPos = done; },
  };
  const storage = chooseStorage(file, o);
  let report: IngestReport, part: Partition, flows: FlowSeries, flowsSqlRes: FlowSeries | undefined;
  let cleaning: { n: number; nTrips: number; dropped: { duplicates: number; speed: number } }, geoOrigin: { lon0: number; lat0: number } | null;
  let diskInfo: Record<string, unknown> | undefined;
  const logRead = (r: IngestReport) => {
    const skippedTotal = Object.values(r.skipped).reduce((a, b) => a + b, 0);
    ctx.log(`read ${r.kept} of ${r.rows} rows from ${r.file} (${r.format}, ${r.coords}, time ${r.timeUnit})${skippedTotal ? `; skipped ${JSON.stringify(r.skipped)}` : ''}`);
  };
  if (storage === 'disk') {
    const dir = ctx.path('duckdb');
    let r: Awaited<ReturnType<typeof flowsOutOfCore>>;
    try {
      r = await flowsOutOfCore(file, { ...o, ingest: ingestOpts }, { ...o.disk, dir }, {
        log: (m) => ctx.log(m), signal: ctx.signal,
        progress: (total, label) => { ib.bar?.done(); ib.bar = null; return ctx.progress(total, label); },
      });
    } finally {
      if (!o.disk?.keep) fs.rmSync(dir, { recursive: true, force: true });
    }
    ({ report, part, flows, cleaning, geo: geoOrigin } = r);
    flowsSqlRes = r.flowsSql;
    if (o.engine === 'both') checkBoth(flows, flowsSqlRes, (m) => ctx.log(m));
    diskInfo = { storage: 'disk', ...r.disk };
    logRead(report);
    bar.tick(4, { stage: 'flows' });
  } else {
    const ing = await ingest(file, ingestOpts);
    ib.bar?.done();
    report = ing.report;
    logRead(report);
    bar.tick(1, { stage: 'ingest' });
    const res = await flowsInMemory(ing.points, ing.geo, o, {
      log: (m) => ctx.log(m),
      stage: (s) => { ctx.throwIfAborted(); if (s !== 'clean') bar.tick(1, { stage: s }); },
    });
    ({ part, flows } = res); flowsSqlRes = res.flowsSql;
    cleaning = { n: res.trips.n, nTrips: res.trips.nTrips, dropped: res.trips.dropped };
    geoOrigin = res.trips.geo && ing.geo ? res.trips.geo : null;
    bar.tick(1, { stage: 'detect' });
  }
  ctx.throwIfAborted();
  const { primary, others, evaluation, truth } = detectAll(flows, o);
  const res = { evaluation, truth, flowsSql: flowsSqlRes };
  bar.tick(1, { stage: 'detect' });
  const stats = sliceStats(flows);
  const scores: Record<string, Float64Array> = { [primary.detector]: primary.scores };
  for (const r of others) scores[r.detector] = r.scores;
  const segs = out.segmentSummaries(flows, primary.changepoints);
  ctx.writeJson('cells.geojson', out.cellsGeoJson(part, geoOrigin));
  ctx.writeText('flows.csv', out.flowsCsv(flows));
  await out.writeFlowsParquet(ctx.path('flows.parquet'), flows);
  ctx.writeJson('flows.geojson', out.flowsGeoJson(flows, part, geoOrigin, segs.map((s) => ({ start: s.start_slice, end: s.end_slice }))));
  const cpJson = (r: DetectResult) => r.changepoints.map((c) => ({ slice: c, time: flows.t0 + c * flows.sliceS, time_of_day: out.timeOfDay(flows.t0 + c * flows.sliceS), score: r.scores[c] }));
  const sweep = o.penSweep ? penaltySweep(flows, o.detect?.pelt).map(({ penScale, beta, nChangepoints }) => ({ penScale, beta, nChangepoints })) : undefined;
  ctx.writeJson('changepoints.json', {
    detector: primary.detector, params: { ...o.detect, flows: o.flows, partition: o.partition }, info: primary.info,
    slice_seconds: flows.sliceS, t0: flows.t0, n_slices: flows.T, n_cells: flows.N,
    changepoints: cpJson(primary), segments: segs,
    others: Object.fromEntries(others.map((r) => [r.detector, { changepoints: cpJson(r), info: r.info }])),
    ...(sweep ? { penalty_sweep: sweep } : {}),
    ...(res.evaluation ? { truth: res.truth, evaluation: res.evaluation } : {}),
    ingest: report, cleaning: { points: cleaning.n, trips: cleaning.nTrips, dropped: cleaning.dropped }, storage: diskInfo ?? { storage: 'memory' },
  });
  ctx.writeText('scores.csv', out.scoresCsv(flows, stats, scores));
  // plots (each well under 2 s, whatever the size: the heat map and flow map are direct SVG)
  const segRanges = segs.map((s) => ({ start: s.start_slice, end: s.end_slice }));
  const plots: [string, () => Record<string, unknown> | string | Promise<string>][] = [
    ['timeseries', () => out.timeSeriesPlot(stats, flows, primary.changepoints, `${report.file}: flow per ${flows.sliceS / 60} min, change-points (${primary.detector}, red)${res.truth ? ', truth dashed' : ''}`, res.truth)],
    ['scores', () => out.scoresPlot(flows, scores, primary.changepoints)],
    ['heatmap', () => out.heatmapPlot(flows)],
    ['flowmap', () => out.flowMapSvg(flows, part, segRanges)],
  ];
  const pb = ctx.progress(plots.length, 'plots');
  for (const [name, make] of plots) {
    ctx.throwIfAborted();
    await ctx.plot(name, await make());
    pb.tick(1, { plot: name });
  }
  pb.done();
  bar.tick(1, { stage: 'outputs' });
  bar.done();
  return {
    file: report.file, rows: report.rows, points: cleaning.n, skipped: report.skipped, dropped: cleaning.dropped, trips: cleaning.nTrips, storage,
    cells: part.sx.length, slices: flows.T, flowRows: flows.slice.length,
    detector: primary.detector, changepoints: cpJson(primary).map((c) => c.time_of_day), changepointSlices: primary.changepoints,
    others: Object.fromEntries(others.map((r) => [r.detector, r.changepoints])),
    ...(res.evaluation ? { truth: res.truth, f1: Object.fromEntries(Object.entries(res.evaluation).map(([k, v]) => [k, v.f1])) } : {}),
    ...(res.flowsSql && o.engine === 'both' ? { sqlAgrees: true } : {}),
    ...(diskInfo ? { disk: diskInfo } : {}),
  };
}
