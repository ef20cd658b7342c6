// The whole pipeline for one file: ingest → clean/trips → partition → assign → flows (in memory
// and/or DuckDB SQL, points in memory or on disk) → change points → outputs (report.ts). The paper's
// three stages are partition.ts, flows.ts and detectors/. Used by `paperlab traffic analyze`.
import fs from 'node:fs';
import type { RunContext } from '../../core/context.ts';
import { ingest, type IngestOptions, type IngestReport } from './ingest.ts';
import { inputBytes } from './releases.ts';
import { project, cleanAndSplit, type CleanOptions } from './clean.ts';
import { partition, assignCells, type PartitionOptions, type Partition } from './partition.ts';
import { buildFlows, buildFlowsDuckDB, type FlowOptions } from './flows.ts';
import { detect, type DetectOptions, type DetectResult } from './detectors/index.ts';
import { scoreChangepoints, type CpScores } from './metrics.ts';
import type { FlowSeries, PointTable, TripTable } from './types.ts';
import { flowsOutOfCore, type DiskOptions } from './disk.ts';
import { writeAnalysis } from './report.ts';
import { defaults, DETECTORS, type DetectorName, type Engine, type Storage } from './config.ts';

/** Options of the pipeline; every default comes from config.ts (`defaults`), as the CLI's. */
export interface AnalyzeOptions {
  ingest?: IngestOptions;
  clean?: CleanOptions;
  partition?: PartitionOptions;
  flows?: FlowOptions;
  engine?: Engine;
  /**
   * where the points live: typed arrays in memory, or DuckDB on disk (out of core, disk.ts; peak
   * memory independent of the file size); auto (default) = disk when the file is larger than disk.aboveMB
   */
  storage?: Storage;
  disk?: DiskOptions & { aboveMB?: number };
  detector?: DetectorName;
  /** also run the other detectors and report them (not used for the primary result; default true) */
  compare?: boolean;
  detect?: DetectOptions;
  penSweep?: boolean;
  /** ground truth: times of day 'HH:MM[:SS]' or slice indices */
  truth?: string[];
  margin?: number;
  /** analyzeFile: draw the plots (default true) */
  plots?: boolean;
}

export function flowsEqual(a: FlowSeries, b: FlowSeries): { equal: boolean; firstDiff: number } {
  const n = Math.max(a.slice.length, b.slice.length);
  for (let i = 0; i < n; i++) {
    const same = a.slice[i] === b.slice[i] && a.src[i] === b.src[i] && a.dst[i] === b.dst[i]
      && a.moves[i] === b.moves[i] && a.objects[i] === b.objects[i];
    if (!same) return { equal: false, firstDiff: i };
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
  const fo: FlowOptions = { ...o.flows, maxGapS: o.flows?.maxGapS ?? o.clean?.maxGapS ?? defaults.clean.maxGapS };
  const engine = o.engine ?? defaults.storage.engine;
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
  const det = o.detector ?? defaults.analyze.detector;
  const primary = detect(flows, det, o.detect, tick);
  const others = (o.compare ?? defaults.analyze.compare) ? DETECTORS.filter((d) => d !== det).map((d) => detect(flows, d, o.detect, tick)) : [];
  let evaluation: Record<string, CpScores> | undefined, truth: number[] | undefined;
  if (o.truth?.length) {
    truth = truthSlices(o.truth, flows);
    evaluation = {};
    for (const r of [primary, ...others]) evaluation[r.detector] = scoreChangepoints(r.changepoints, truth, flows.T, o.margin ?? defaults.evaluate.margin);
  }
  return { primary, others, evaluation, truth };
}

/** memory or disk for `storage: auto`: disk when the (uncompressed, estimated ×6 for .gz) file or folder exceeds aboveMB. */
export function chooseStorage(file: string, o: AnalyzeOptions): 'memory' | 'disk' {
  const s = o.storage ?? defaults.storage.storage;
  if (s !== 'auto') return s;
  const bytes = fs.existsSync(file) ? inputBytes(file) * (file.endsWith('.gz') ? 6 : 1) : 0;
  return bytes > (o.disk?.aboveMB ?? defaults.storage.diskAboveMb) * 1e6 ? 'disk' : 'memory';
}

/** The cells and flow table of one file, with what reading and cleaning reported. */
export interface FileFlows {
  report: IngestReport; part: Partition; flows: FlowSeries; flowsSql?: FlowSeries;
  cleaning: { n: number; nTrips: number; dropped: { duplicates: number; speed: number } };
  /** projection origin when the input was lon/lat */
  geo: { lon0: number; lat0: number } | null;
  storage: 'memory' | 'disk';
  disk?: Record<string, unknown>;
}

/** Ingest through flows for a file, in memory or out of core (`stage` reports progress). */
export async function flowsForFile(file: string, o: AnalyzeOptions, ctx: RunContext, stage: (name: string, n?: number) => void): Promise<FileFlows> {
  const ib: { bar: ReturnType<RunContext['progress']> | null } = { bar: null };
  let lastPos = 0;
  const ingestOpts: IngestOptions = {
    ...o.ingest, signal: ctx.signal,
    onProgress: (done, total) => { ib.bar ??= ctx.progress(total, 'read'); ib.bar.tick(done - lastPos); lastPos = done; },
  };
  const logRead = (r: IngestReport) => {
    const skippedTotal = Object.values(r.skipped).reduce((a, b) => a + b, 0);
    ctx.log(`read ${r.kept} of ${r.rows} rows from ${r.file} (${r.format}, ${r.coords}, time ${r.timeUnit})${skippedTotal ? `; skipped ${JSON.stringify(r.skipped)}` : ''}`);
  };
  if (chooseStorage(file, o) === 'disk') {
    const dir = ctx.path('duckdb');
    let r: Awaited<ReturnType<typeof flowsOutOfCore>>;
    try {
      r = await flowsOutOfCore(file, { ...o, ingest: ingestOpts }, { ...o.disk, dir }, {
        log: (m) => ctx.log(m), signal: ctx.signal,
        progress: (total, label) => { ib.bar?.done(); ib.bar = null; return ctx.progress(total, label); },
      });
    } finally {
      if (!(o.disk?.keep ?? defaults.storage.keepDb)) fs.rmSync(dir, { recursive: true, force: true });
    }
    if (o.engine === 'both') checkBoth(r.flows, r.flowsSql, (m) => ctx.log(m));
    logRead(r.report);
    stage('flows', 4);
    return { report: r.report, part: r.part, flows: r.flows, flowsSql: r.flowsSql, cleaning: r.cleaning, geo: r.geo, storage: 'disk', disk: { storage: 'disk', ...r.disk } };
  }
  const ing = await ingest(file, ingestOpts);
  ib.bar?.done();
  logRead(ing.report);
  stage('ingest');
  const res = await flowsInMemory(ing.points, ing.geo, o, {
    log: (m) => ctx.log(m),
    stage: (s) => { ctx.throwIfAborted(); if (s !== 'clean') stage(s); },
  });
  stage('detect');
  return {
    report: ing.report, part: res.part, flows: res.flows, flowsSql: res.flowsSql, storage: 'memory',
    cleaning: { n: res.trips.n, nTrips: res.trips.nTrips, dropped: res.trips.dropped },
    geo: res.trips.geo && ing.geo ? res.trips.geo : null,
  };
}

/** analyze <file>: the whole pipeline with its outputs (report.ts) written into the run folder. */
export async function analyzeFile(file: string, o: AnalyzeOptions, ctx: RunContext): Promise<Record<string, unknown>> {
  const stages = ['ingest', 'clean', 'partition', 'flows', 'detect', 'outputs'];
  const bar = ctx.progress(stages.length, 'traffic analyze');
  const ff = await flowsForFile(file, o, ctx, (s, n = 1) => bar.tick(n, { stage: s }));
  ctx.throwIfAborted();
  const det = detectAll(ff.flows, o);
  bar.tick(1, { stage: 'detect' });
  const summary = await writeAnalysis(ctx, ff, det, o);
  bar.tick(1, { stage: 'outputs' });
  bar.done();
  return summary;
}
