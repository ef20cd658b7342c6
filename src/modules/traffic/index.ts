// traffic — trajectories → Voronoi cells → time-evolving flow graphs → city-wide change points:
// Kim, Zheng, Ahn, Papamanolis, Chao (ATRF 2016) / Kim et al., arXiv 2212.02927 (Trajectory Flow Map).
// The typed API and the commands (registered in commands.ts; this file registers nothing).
//   const { points, geo } = await ingest('gps.csv');
//   const r = await runPipeline(points, geo, { detector: 'pelt' });   // r.flows, r.primary.changepoints
//   new Pelt({ normalize: 'shares' }).fit(r.flows).predict().changepoints
// Not a deep-learning pipeline, so its files stand for the usual model/data/train/evaluate split
// like this (README.md has the table):
//   data        ingest.ts (CSV/Parquet/FCD readers), releases.ts (Porto, Geolife, T-Drive as shipped),
//               crs.ts (proj4: local aeqd metres, --crs), clean.ts (projection, trips), synthetic.ts
//               (planted-regime generator and point writers)
//   pipeline    the paper's stages: partition.ts (network partitioning), flows.ts + flows.sql (graph
//               generation), pipeline.ts (the stages composed for one file), disk.ts + duckdb.ts
//               (the same stages out of core)
//   model       detectors/ (change-point detection: Pelt — any cost × search of costs.ts/search.ts —,
//               GraphScope, Lad behind one fit/predict interface; ChangePoints, ruptures' interface)
//   evaluate    metrics.ts (change-point scores), distances.ts, outputs.ts + report.ts (files and plots)
//   config.ts   every default;  commands.ts  the schemas;  experiments.ts  the run bodies
export * from './types.ts';
export * from './config.ts';
export { ingest, TrafficInputError, parseTime, resolveColumns, type IngestOptions, type IngestReport, type ColumnMap } from './ingest.ts';
export { project, unproject, equirectangular, cleanAndSplit, R_EARTH, type CleanOptions } from './clean.ts';
export { localProjection, toLocal, fromLocal, crsToLonLat } from './crs.ts';
export {
  RELEASES, portoPoints, geolifePoints, geolifeLabels, tdrivePoints, releasePoints, detectRelease, inputBytes,
  type Release, type ReleasePoint, type ReleaseOptions,
} from './releases.ts';
export { partition, partitionFromCharacteristic, assignCells, characteristicPoints, voronoiPolygons, type Partition, type PartitionOptions } from './partition.ts';
export { buildFlows, buildFlowsDuckDB, flowsSql, flowsSqlOn, FlowAggregator, FLOWS_SQL_PATH, type FlowOptions } from './flows.ts';
export * from './detectors/index.ts';
export { sliceStats, type SliceStats } from './distances.ts';
export { scoreChangepoints, prf, hausdorff, annotationError, randIndex, type CpScores } from './metrics.ts';
export { syntheticFlows, syntheticPoints, writePointsCsv, writePoints, type SyntheticOptions } from './synthetic.ts';
export { runPipeline, flowsInMemory, flowsForFile, detectAll, analyzeFile, flowsEqual, truthSlices, chooseStorage, type AnalyzeOptions, type FileFlows } from './pipeline.ts';
export { flowsOutOfCore, type DiskOptions, type DiskPipelineResult, type OutOfCoreOptions } from './disk.ts';
export * as outputs from './outputs.ts';
export {
  analyze as analyzeCommand, synthetic as syntheticCommand, generate as generateCommand, evaluate as evaluateCommand, sumoDemo as sumoDemoCommand,
  analyzeParams, syntheticParams, generateParams, evaluateParams, sumoDemoParams,
  type AnalyzeParams, type SyntheticParams, type GenerateParams, type EvaluateParams, type SumoDemoParams,
} from './commands.ts';
export { analyze, synthetic, generate, evaluate, sumoDemo, analyzeOptions, SUMO_SCENARIO_SCRIPT } from './experiments.ts';
