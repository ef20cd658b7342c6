// traffic's commands: the parameter schemas (every default from config.ts) and a run that imports
// the implementation (experiments.ts) only when the command runs.
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import {
  defaults, COORDS, COSTS, DETECTORS, SEARCHES, ENGINES, FAMILIES, FEATURES, FLOW_MODES, FORMATS, GS_MODES, MEMORY_SIZE, NORMALIZE, POINT_FORMATS,
  STORAGES, TIME_UNITS, WEIGHTS,
} from './config.ts';

const impl = () => import('./experiments.ts');

/** A ground-truth change point: a time of day HH:MM[:SS] or a slice index. */
const truthItem = z.string().regex(/^\s*(\d{1,2}:\d{2}(:\d{2})?|\d+)\s*$/, 'a time of day HH:MM[:SS] or a slice index');
const margin = () => z.number().int().min(0).default(defaults.evaluate.margin).describe('evaluation margin in slices');
const sliceMin = (what = '') => z.number().positive().default(defaults.flows.sliceMin).describe(`time slice length in minutes (5, 10, 15, 30, 60 …)${what}`);
const column = (what: string) => z.string().min(1).optional().describe(`column of the ${what}`);

const i = defaults.ingest, c = defaults.clean, pa = defaults.partition, st = defaults.storage, an = defaults.analyze;
const pe = defaults.pelt, gs = defaults.graphscope, la = defaults.lad;
export const analyzeParams = z.object({
  file: z.string().min(1).describe('input file (.csv, .parquet, .xml SUMO FCD, optionally .gz; Porto train.csv; a Geolife .plt; a T-Drive .txt) or folder (Geolife Data/, T-Drive logs)').meta({ path: 'input' }),
  format: z.enum(FORMATS).default(i.format).describe('input format: csv, parquet, fcd, or a public release — porto (ECML/PKDD 15 taxi), geolife (1.3), tdrive (auto: from the extension and the first line)'),
  crs: z.string().min(1).optional().describe('CRS of projected x/y input (EPSG:xxxx, e.g. a UTM zone EPSG:32650, or a proj string); default: lon/lat input is projected to local metres (aeqd about the data centre), metres are used as they are'),
  modes: z.array(z.string().min(1)).optional().describe('geolife: keep only points inside labels.txt intervals of these transport modes, comma-separated (e.g. taxi,car)'),
  id: column('object id (auto-detected when not given)'),
  time: column('timestamp (auto-detected when not given)'),
  lon: column('longitude'),
  lat: column('latitude'),
  x: column('projected x (metres) or SUMO x'),
  y: column('projected y (metres) or SUMO y'),
  speed: column('speed in m/s (optional)'),
  timeUnit: z.enum(TIME_UNITS).default(i.timeUnit).describe('timestamps: epoch s, epoch ms, ISO-8601 (auto: from the first value)'),
  coords: z.enum(COORDS).default(i.coords).describe('x/y are lon/lat (geo) or metres; auto detects degrees (SUMO --fcd-output.geo)'),
  delimiter: z.string().min(1).max(1).default(i.delimiter).describe('CSV delimiter'),
  lenient: z.boolean().default(i.lenient).describe('skip and count bad rows instead of stopping at the first'),
  maxGapS: z.number().positive().default(c.maxGapS).describe('start a new trip after a gap longer than this (s)'),
  maxSpeedMps: z.number().positive().default(c.maxSpeedMps).describe('drop points implying a faster speed (m/s)'),
  radiusM: z.number().positive().default(pa.radiusM).describe('cell radius R (m) of the grouping'),
  minGroupSize: z.number().int().min(1).default(pa.minGroupSize).describe('drop groups with fewer characteristic points'),
  sliceMin: sliceMin(),
  t0: z.number().optional().describe('start of slice 0 in seconds (default: first time floored to the slice)'),
  until: z.number().optional().describe('ignore points at or after this time (s) (default: keep all)'),
  mode: z.enum(FLOW_MODES).default(defaults.flows.mode).describe('edges: cell transitions, or one OD edge per trip'),
  engine: z.enum(ENGINES).default(st.engine).describe('flow aggregation: typed arrays, the portable SQL on DuckDB, or both (checked identical)'),
  storage: z.enum(STORAGES).default(st.storage).describe('where the points live: typed arrays in memory, or out of core in a DuckDB file in the run folder (peak memory independent of the file size; identical results); auto = disk above --disk-above-mb'),
  diskAboveMb: z.number().positive().default(st.diskAboveMb).describe('storage auto: use disk when the input is larger than this many MB (×6 for .gz)'),
  duckdbMemory: z.string().regex(MEMORY_SIZE, 'a size like 512MB or 2GB').default(st.duckdbMemory).describe('storage disk: DuckDB memory_limit; sorts and joins above it spill to the run folder'),
  keepDb: z.boolean().default(st.keepDb).describe('storage disk: keep the DuckDB file (duckdb/points.duckdb: tables clean, trips, cp, seeds) after the run'),
  detector: z.enum(DETECTORS).default(an.detector).describe('primary change-point detector'),
  compare: z.boolean().default(an.compare).describe('also run and report the other two detectors'),
  weight: z.enum(WEIGHTS).default(defaults.flows.weight).describe('edge weight'),
  features: z.enum(FEATURES).default(pe.features).describe('PELT features: one column per edge (flow graph), or the scalar [total weight, #edges] baseline'),
  normalize: z.enum(NORMALIZE).default(pe.normalize).describe('PELT edge features: log(1+w), or volume-free shares log(1 + d·w/Σw) (structure only)'),
  cost: z.enum(COSTS).default(pe.cost).describe('segment cost of the change-point search (ruptures\' definitions): l2 mean shift, l1 robust, normal mean+covariance (low-dimensional features), rbf kernel'),
  search: z.enum(SEARCHES).default(pe.search).describe('change-point search: pelt (exact, penalty), dynp (exact, needs --n-bkps), binseg, window (ruptures\' definitions)'),
  jump: z.number().int().min(1).default(pe.jump).describe('candidate change points every this many slices'),
  minSize: z.number().int().min(1).default(pe.minSize).describe('minimum segment length in slices (raised to the cost\'s own minimum)'),
  width: z.number().int().min(2).default(pe.width).describe('window search: width of the two adjacent windows together, in slices'),
  pen: z.number().positive().optional().describe('the penalty itself (default: the cost\'s BIC-like penalty × --pen-scale)'),
  gamma: z.number().positive().optional().describe('rbf kernel bandwidth γ (default: 1/median of the pairwise squared distances)'),
  penScale: z.number().positive().default(pe.penScale).describe('PELT penalty multiplier'),
  nBkps: z.number().int().min(1).optional().describe('PELT: known number of change-points (default: found with the penalty)'),
  penSweep: z.boolean().default(an.penSweep).describe('report #change-points over log-spaced penalties'),
  gsMode: z.enum(GS_MODES).default(gs.mode).describe('GraphScope: streaming (original) or batch dynamic programming'),
  edgeThreshold: z.number().positive().default(gs.edgeThreshold).describe('GraphScope: an edge is present in a slice when its weight ≥ this'),
  ladTopFraction: z.number().positive().max(1).default(la.topFraction).describe('LAD: fraction of slices reported'),
  truth: z.array(truthItem).default(() => []).describe('ground truth change-points, comma-separated HH:MM (or slice indices), for F1'),
  margin: margin(),
  plots: z.boolean().default(an.plots).describe('draw the plots (--no-plots for a fast analysis: files only)'),
});
export type AnalyzeParams = z.infer<typeof analyzeParams>;

export const analyze = defineCommand({
  name: 'analyze',
  description: 'Trajectory file (CSV, Parquet, SUMO FCD XML; .gz ok) → cells, flow graphs (flows.parquet/.csv), change-points, GeoJSON and plots. --storage disk (or auto for big files) keeps the points in DuckDB on disk so that files larger than memory work, with the same results',
  positional: ['file'],
  params: analyzeParams,
  run: async (p, ctx) => (await impl()).analyze(p, ctx),
});

const sy = defaults.synthetic;
export const syntheticParams = z.object({
  families: z.array(z.enum(FAMILIES)).min(1).default(() => [...sy.families]).describe('families, comma-separated: a (volume+structure), b (structure only), null'),
  detectors: z.array(z.enum(DETECTORS)).min(1).default(() => [...sy.detectors]).describe('detectors, comma-separated'),
  seeds: z.number().int().min(1).max(1000).default(sy.seeds).describe('number of seeds per family'),
  T: z.number().int().min(8).default(sy.T).describe('slices per sequence'),
  gridSide: z.number().int().min(2).max(20).default(sy.gridSide).describe('cells per side of the jittered grid'),
  volume: z.number().positive().default(sy.volume).describe('expected moves per slice at volume 1'),
  margin: margin(),
  points: z.boolean().default(sy.points).describe('generate point trajectories and run the whole pipeline'),
});
export type SyntheticParams = z.infer<typeof syntheticParams>;

export const synthetic = defineCommand({
  name: 'synthetic',
  description: 'Planted regime changes (families a, b, null): detector F1 / Hausdorff / Rand over seeds',
  quick: true,
  params: syntheticParams,
  run: async (p, ctx) => (await impl()).synthetic(p, ctx),
});

const ge = defaults.generate;
export const generateParams = z.object({
  family: z.enum(FAMILIES).default(ge.family).describe('a: volume+structure, b: structure only, null: no change'),
  volume: z.number().positive().default(ge.volume).describe('expected trips per slice at volume 1'),
  gridSide: z.number().int().min(2).max(30).default(ge.gridSide).describe('cells per side of the generating grid'),
  T: z.number().int().min(8).default(ge.T).describe('slices of 15 minutes'),
  geo: z.boolean().default(ge.geo).describe('write lon/lat about Brisbane instead of metres'),
  t0: z.number().default(ge.t0).describe('time of slice 0 in seconds (0: seconds from midnight; e.g. 1700006400 for epoch)'),
  format: z.enum(POINT_FORMATS).default(ge.format).describe('output format (Parquet is written with DuckDB)'),
  name: z.string().default(ge.name).describe('output file name (without extension) in the run folder').meta({ path: 'output' }),
});
export type GenerateParams = z.infer<typeof generateParams>;

export const generate = defineCommand({
  name: 'generate',
  description: 'Write a synthetic GPS point file (CSV or Parquet) with planted regime changes',
  params: generateParams,
  run: async (p, ctx) => (await impl()).generate(p, ctx),
});

export const evaluateParams = z.object({
  pred: z.string().min(1).describe('changepoints.json of an analyze run, or comma-separated slice indices').meta({ path: 'input', notPath: '^[\\d\\s,]*$' }),
  truth: z.array(truthItem).min(1).describe('comma-separated HH:MM times or slice indices'),
  T: z.number().int().min(1).optional().describe('number of slices (default: read from changepoints.json)'),
  sliceMin: sliceMin(' when pred is a list'),
  margin: margin(),
});
export type EvaluateParams = z.infer<typeof evaluateParams>;

export const evaluate = defineCommand({
  name: 'evaluate',
  description: 'Score predicted change-points (changepoints.json or a list) against the truth',
  params: evaluateParams,
  run: async (p) => (await impl()).evaluate(p),
});

const su = defaults.sumoDemo;
export const sumoDemoParams = z.object({
  probability: z.number().positive().max(1).default(su.probability).describe('probe penetration'),
  periodS: z.number().positive().default(su.periodS).describe('FCD sampling period (s)'),
});
export type SumoDemoParams = z.infer<typeof sumoDemoParams>;

export const sumoDemo = defineCommand({
  name: 'sumo-demo',
  description: 'Build the SUMO demo scenario (scripts/traffic/sumo_scenario.sh; needs Debian sumo, sumo-tools) and analyze it',
  params: sumoDemoParams,
  run: async (p, ctx) => (await impl()).sumoDemo(p, ctx),
});

registerModule({
  name: 'traffic',
  title: 'City-wide traffic dynamics from trajectories',
  description: 'Trajectories → data-driven Voronoi cells → time-evolving flow graphs → change-points (PELT, GraphScope, LAD), with in-memory and portable-SQL (DuckDB) flow aggregation.',
  papers: [
    'Kim, Zheng, Ahn, Papamanolis, Chao: Graph-based Analysis of City-wide Traffic Dynamics using Time-evolving Graphs of Trajectory Data, ATRF 2016',
    'Kim, Zheng, Corcoran, Ahn, Papamanolis: Trajectory Flow Map, arXiv 2212.02927',
  ],
  commands: [analyze, synthetic, generate, evaluate, sumoDemo],
});
