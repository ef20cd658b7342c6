// What `analyze` writes into the run folder: cells.geojson, flows.csv / flows.parquet /
// flows.geojson, changepoints.json, scores.csv, the plots (unless plots: false), and the run summary.
import type { RunContext } from '../../core/context.ts';
import type { AnalyzeOptions, FileFlows, PipelineResult } from './pipeline.ts';
import { Pelt, type DetectResult } from './detectors/index.ts';
import { voronoiPolygons, type Partition } from './partition.ts';
import type { FlowSeries } from './types.ts';
import { sliceStats, type SliceStats } from './distances.ts';
import * as out from './outputs.ts';
import { defaults } from './config.ts';

type Detection = Pick<PipelineResult, 'primary' | 'others' | 'evaluation' | 'truth'>;

/** Change points with their times and scores, as changepoints.json lists them. */
function cpJson(ff: Pick<FileFlows, 'flows'>, r: DetectResult) {
  const { t0, sliceS } = ff.flows;
  return r.changepoints.map((c) => ({ slice: c, time: t0 + c * sliceS, time_of_day: out.timeOfDay(t0 + c * sliceS), score: r.scores[c] }));
}

/** Writes the files and plots of an analysis; returns the run summary. */
export async function writeAnalysis(ctx: RunContext, ff: FileFlows, det: Detection, o: AnalyzeOptions): Promise<Record<string, unknown>> {
  const { flows, part, report, cleaning } = ff, { primary, others, evaluation, truth } = det;
  const stats = sliceStats(flows);
  const scores: Record<string, Float64Array> = { [primary.detector]: primary.scores };
  for (const r of others) scores[r.detector] = r.scores;
  const segs = out.segmentSummaries(flows, primary.changepoints);
  const segRanges = segs.map((s) => ({ start: s.start_slice, end: s.end_slice }));
  ctx.writeJson('cells.geojson', out.cellsGeoJson(part, ff.geo));
  ctx.writeText('flows.csv', out.flowsCsv(flows));
  await out.writeFlowsParquet(ctx.path('flows.parquet'), flows);
  ctx.writeJson('flows.geojson', out.flowsGeoJson(flows, part, ff.geo, segRanges));
  const sweep = o.penSweep
    ? new Pelt(o.detect?.pelt).fit(flows).sweep().map(({ penScale, beta, nChangepoints }) => ({ penScale, beta, nChangepoints }))
    : undefined;
  ctx.writeJson('changepoints.json', {
    detector: primary.detector, params: { ...o.detect, flows: o.flows, partition: o.partition }, info: primary.info,
    slice_seconds: flows.sliceS, t0: flows.t0, n_slices: flows.T, n_cells: flows.N,
    changepoints: cpJson(ff, primary), segments: segs,
    others: Object.fromEntries(others.map((r) => [r.detector, { changepoints: cpJson(ff, r), info: r.info }])),
    ...(sweep ? { penalty_sweep: sweep } : {}),
    ...(evaluation ? { truth, evaluation } : {}),
    ingest: report, cleaning: { points: cleaning.n, trips: cleaning.nTrips, dropped: cleaning.dropped }, storage: ff.disk ?? { storage: 'memory' },
  });
  ctx.writeText('scores.csv', out.scoresCsv(flows, stats, scores));
  if (o.plots ?? defaults.analyze.plots) await drawPlots(ctx, ff, det, stats, scores, segRanges);
  else ctx.log('plots skipped (--no-plots)');
  return {
    file: report.file, rows: report.rows, points: cleaning.n, skipped: report.skipped, dropped: cleaning.dropped, trips: cleaning.nTrips, storage: ff.storage,
    cells: part.sx.length, slices: flows.T, flowRows: flows.slice.length,
    detector: primary.detector, changepoints: cpJson(ff, primary).map((c) => c.time_of_day), changepointSlices: primary.changepoints,
    others: Object.fromEntries(others.map((r) => [r.detector, r.changepoints])),
    ...(evaluation ? { truth, f1: Object.fromEntries(Object.entries(evaluation).map(([k, v]) => [k, v.f1])) } : {}),
    ...(ff.flowsSql && o.engine === 'both' ? { sqlAgrees: true } : {}),
    ...(ff.disk ? { disk: ff.disk } : {}),
  };
}

/** The four plots (each well under 2 s, whatever the size: the heat map and flow map are direct SVG). */
async function drawPlots(
  ctx: RunContext,
  ff: FileFlows,
  det: Detection,
  stats: SliceStats,
  scores: Record<string, Float64Array>,
  segRanges: { start: number; end: number }[],
): Promise<void> {
  const { flows, part, report } = ff, { primary, truth } = det;
  const plots: [string, () => Record<string, unknown> | string | Promise<string>][] = [
    ['timeseries', () => out.timeSeriesPlot(stats, flows, primary.changepoints, `${report.file}: flow per ${flows.sliceS / 60} min, change-points (${primary.detector}, red)${truth ? ', truth dashed' : ''}`, truth)],
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
}

/** Cells of a synthetic grid (its seeds in metres): the Voronoi polygons inside the seeds' box padded by half a grid step. */
export function gridCells(seeds: { x: Float64Array; y: Float64Array }, gridSide: number): Pick<Partition, 'polygons' | 'sx' | 'sy' | 'count' | 'boundary'> {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (let i = 0; i < seeds.x.length; i++) {
    x0 = Math.min(x0, seeds.x[i]!); x1 = Math.max(x1, seeds.x[i]!); y0 = Math.min(y0, seeds.y[i]!); y1 = Math.max(y1, seeds.y[i]!);
  }
  const pad = Math.max(x1 - x0, y1 - y0, 1) / Math.max(1, gridSide - 1) / 2;
  const n = seeds.x.length;
  const polygons = voronoiPolygons(seeds.x, seeds.y, [x0 - pad, y0 - pad, x1 + pad, y1 + pad]);
  return { sx: seeds.x, sy: seeds.y, count: new Int32Array(n), boundary: new Uint8Array(n), polygons };
}

/**
 * One planted sequence's files, as analyze names them, for the dashboard's traffic viewer: cells.geojson
 * (metres), flows.csv, scores.csv (one score column per detector) and changepoints.json (the first
 * detector's change points, the others', the planted truth, `sequence` naming the family and seed).
 */
export function writeSequence(
  ctx: Pick<RunContext, 'writeJson' | 'writeText'>, flows: FlowSeries, cells: Pick<Partition, 'polygons' | 'sx' | 'sy' | 'count' | 'boundary'>,
  results: DetectResult[], truth: number[], sequence: string,
): void {
  const [primary, ...others] = results;
  if (!primary) return;
  ctx.writeJson('cells.geojson', { ...out.cellsGeoJson(cells, null), crs_note: 'synthetic grid: coordinates in metres' });
  ctx.writeText('flows.csv', out.flowsCsv(flows));
  ctx.writeText('scores.csv', out.scoresCsv(flows, sliceStats(flows), Object.fromEntries(results.map((r) => [r.detector, r.scores]))));
  const ff = { flows };
  ctx.writeJson('changepoints.json', {
    sequence, detector: primary.detector, info: primary.info, slice_seconds: flows.sliceS, t0: flows.t0, n_slices: flows.T, n_cells: flows.N,
    changepoints: cpJson(ff, primary), segments: out.segmentSummaries(flows, primary.changepoints), truth,
    others: Object.fromEntries(others.map((r) => [r.detector, { changepoints: cpJson(ff, r), info: r.info }])),
  });
}
