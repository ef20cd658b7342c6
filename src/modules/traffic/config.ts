// traffic — the one source of every default: the names the commands accept, and the presets
// (paper, cpu, quick) of every stage. commands.ts builds its zod defaults from `defaults`
// (= presets.cpu), and the typed API (cleanAndSplit, partition, buildFlows, the detectors, the
// synthetic generator, analyzeFile) reads the same objects, so the CLI and the typed API agree.
// Plain data only: --help and the dashboard's forms read this file without loading the engine.
//
// The method: Kim, Zheng, Ahn, Papamanolis, Chao, "Graph-based Analysis of City-wide Traffic
// Dynamics using Time-evolving Graphs of Trajectory Data", ATRF 2016 (extended: Kim, Zheng,
// Corcoran, Ahn, Papamanolis, "Trajectory Flow Map", arXiv 2212.02927). The paper does not state
// its radius, slice length, thresholds or change-point algorithm; every number below is our
// reconstruction [recon] unless marked otherwise (see README.md).
// - paper  the paper's three stages with GraphScope (Sun et al., KDD 2007), the MDL graph-stream
//          segmentation that fits the paper's framing best [recon], as the primary detector;
// - cpu    the CLI defaults: PELT on flow vectors as the primary detector (GraphScope and LAD
//          compared), the same partition and slices;
// - quick  seconds-scale sizes (the tests and a first look on the dashboard).

/** input formats: generic CSV/Parquet/SUMO FCD, and the public releases (releases.ts) */
export const FORMATS = ['auto', 'csv', 'parquet', 'fcd', 'porto', 'geolife', 'tdrive'] as const;
export const TIME_UNITS = ['auto', 's', 'ms', 'iso'] as const;
export const COORDS = ['auto', 'geo', 'metres'] as const;
/** edges: cell transitions of consecutive points, or one origin→destination edge per trip */
export const FLOW_MODES = ['transitions', 'od'] as const;
/** flow aggregation: typed arrays, the portable SQL on DuckDB, or both (checked identical) */
export const ENGINES = ['memory', 'duckdb', 'both'] as const;
/** where the points live during a run */
export const STORAGES = ['auto', 'memory', 'disk'] as const;
export const DETECTORS = ['pelt', 'graphscope', 'lad'] as const;
export const WEIGHTS = ['moves', 'objects'] as const;
/** PELT features: log(1 + w), or volume-free shares (see detectors/features.ts) */
export const NORMALIZE = ['none', 'shares'] as const;
/** PELT features: one column per edge, or the [total weight, #edges] baseline */
export const FEATURES = ['edges', 'scalar'] as const;
/** segment costs of the change-point search (ruptures' names: detectors/costs.ts) */
export const COSTS = ['l2', 'l1', 'normal', 'rbf'] as const;
/** search methods (ruptures' Pelt, Dynp, Binseg, Window: detectors/search.ts) */
export const SEARCHES = ['pelt', 'dynp', 'binseg', 'window'] as const;
export const GS_MODES = ['batch', 'stream'] as const;
/** synthetic families: a = volume + structure change, b = structure only, null = no change */
export const FAMILIES = ['a', 'b', 'null'] as const;
export const POINT_FORMATS = ['csv', 'parquet'] as const;
/** a DuckDB memory_limit such as 512MB or 2GB */
export const MEMORY_SIZE = /^\s*\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|TB|TiB)\s*$/i;

export type Format = (typeof FORMATS)[number];
export type TimeUnit = (typeof TIME_UNITS)[number];
export type Coords = (typeof COORDS)[number];
export type FlowMode = (typeof FLOW_MODES)[number];
export type Engine = (typeof ENGINES)[number];
export type Storage = (typeof STORAGES)[number];
export type DetectorName = (typeof DETECTORS)[number];
export type Weight = (typeof WEIGHTS)[number];
export type Normalize = (typeof NORMALIZE)[number];
export type Features = (typeof FEATURES)[number];
export type CostName = (typeof COSTS)[number];
export type SearchName = (typeof SEARCHES)[number];
export type GsMode = (typeof GS_MODES)[number];
export type Family = (typeof FAMILIES)[number];
export type PointFormat = (typeof POINT_FORMATS)[number];

export interface Preset {
  /** S0: reading the file */
  ingest: { format: Format; timeUnit: TimeUnit; coords: Coords; delimiter: string; lenient: boolean };
  /** S1: a new trip after a gap > maxGapS; points implying > maxSpeedMps are dropped */
  clean: { maxGapS: number; maxSpeedMps: number };
  /**
   * S2, network partitioning (Andrienko & Andrienko 2011, spatial generalisation): characteristic
   * points (turns ≥ minAngleDeg, stops ≥ minStopS, at least every maxDistPerRadius·R), groups of
   * radius R, groups below minGroupSize dropped; at most maxTrips sampled trips
   */
  partition: {
    radiusM: number;
    minAngleDeg: number;
    minStopS: number;
    minDistM: number;
    maxDistPerRadius: number;
    minGroupSize: number;
    maxTrips: number;
    seed: number;
  };
  /** S3, graph generation: slices of sliceMin minutes */
  flows: { sliceMin: number; mode: FlowMode; weight: Weight };
  /** where the points live and how flows are aggregated */
  storage: { engine: Engine; storage: Storage; diskAboveMb: number; duckdbMemory: string; keepDb: boolean; chunkRows: number };
  /** S4 and the outputs of analyze */
  analyze: { detector: DetectorName; compare: boolean; penSweep: boolean; plots: boolean };
  /** PELT (Killick et al. 2012) on flow vectors; penalty β = penScale·σ̂²·d·ln T */
  pelt: {
    /** the segment cost and the search (ruptures' definitions: detectors/costs.ts, search.ts); jump, window width in slices */
    cost: CostName; search: SearchName; jump: number; width: number;
    normalize: Normalize;
    features: Features;
    minSlicesSeen: number;
    penScale: number;
    minSize: number;
    sweepLog10: [number, number];
    sweepPoints: number;
  };
  /** GraphScope (Sun, Faloutsos, Papadimitriou, Yu, KDD 2007) */
  graphscope: { mode: GsMode; edgeThreshold: number; maxGroups: number; minSegment: number };
  /** LAD (Huang, Hitti, Rabbany, Rabusseau, KDD 2020): windows of 1 h and 3 h at 15-min slices */
  lad: { k: number; shortWindow: number; longWindow: number; topFraction: number };
  /** change-point scoring: a prediction within ±margin slices of a true change point counts */
  evaluate: { margin: number };
  /** the planted-regime generator (flows and point trajectories) */
  generator: {
    T: number; gridSide: number; spacingM: number; nChanges: number; minSpacing: number; volume: number; decayM: number;
    sliceS: number; sampleS: number; speedMps: number; noiseM: number;
  };
  /** `synthetic`: detectors scored on planted changes */
  synthetic: { families: Family[]; detectors: DetectorName[]; seeds: number; T: number; gridSide: number; volume: number; points: boolean };
  /** `generate`: a synthetic GPS point file (geo: lon/lat about `origin`) */
  generate: {
    family: Family;
    volume: number;
    gridSide: number;
    T: number;
    geo: boolean;
    origin: { lon0: number; lat0: number };
    t0: number;
    format: PointFormat;
    name: string;
  };
  /** `sumo-demo`: the SUMO scenario's probe penetration, FCD period and phase boundaries */
  sumoDemo: { probability: number; periodS: number; truth: string[] };
}

const cpu: Preset = {
  ingest: { format: 'auto', timeUnit: 'auto', coords: 'auto', delimiter: ',', lenient: false },
  clean: { maxGapS: 120, maxSpeedMps: 60 },
  partition: { radiusM: 500, minAngleDeg: 30, minStopS: 60, minDistM: 50, maxDistPerRadius: 2, minGroupSize: 3, maxTrips: 200_000, seed: 0 },
  flows: { sliceMin: 15, mode: 'transitions', weight: 'moves' },
  storage: { engine: 'memory', storage: 'auto', diskAboveMb: 1000, duckdbMemory: '1GB', keepDb: false, chunkRows: 2048 },
  analyze: { detector: 'pelt', compare: true, penSweep: false, plots: true },
  pelt: { cost: 'l2', search: 'pelt', jump: 1, width: 8, normalize: 'none', features: 'edges', minSlicesSeen: 2, penScale: 1, minSize: 2, sweepLog10: [-2, 2], sweepPoints: 17 },
  graphscope: { mode: 'stream', edgeThreshold: 1, maxGroups: 20, minSegment: 2 },
  lad: { k: 6, shortWindow: 4, longWindow: 12, topFraction: 0.05 },
  evaluate: { margin: 1 },
  generator: { T: 96, gridSide: 4, spacingM: 1000, nChanges: 4, minSpacing: 8, volume: 1500, decayM: 1500, sliceS: 900, sampleS: 15, speedMps: 10, noiseM: 5 },
  synthetic: { families: ['a', 'b', 'null'], detectors: ['pelt', 'lad'], seeds: 10, T: 96, gridSide: 4, volume: 1500, points: false },
  generate: { family: 'a', volume: 150, gridSide: 4, T: 96, geo: true, origin: { lon0: 153.02, lat0: -27.47 }, t0: 0, format: 'csv', name: 'points' },
  sumoDemo: { probability: 0.5, periodS: 15, truth: ['06:00', '10:00', '15:00', '19:00'] },
};

export const presets: Record<'paper' | 'cpu' | 'quick', Preset> = {
  paper: { ...cpu, analyze: { ...cpu.analyze, detector: 'graphscope' }, synthetic: { ...cpu.synthetic, detectors: ['graphscope', 'pelt', 'lad'] } },
  cpu,
  quick: {
    ...cpu,
    analyze: { ...cpu.analyze, compare: false },
    synthetic: { ...cpu.synthetic, seeds: 2, T: 48 },
    generate: { ...cpu.generate, volume: 30, T: 48 },
  },
};

/** The CLI's and the typed API's defaults. */
export const defaults: Preset = presets.cpu;
