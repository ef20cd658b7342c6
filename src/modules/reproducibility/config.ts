// reproducibility — the one source of every default: the names the commands accept, the defaults of
// `measure` and `sweep`, and the presets of the sweep (scales tiny, default and paper: the problem
// sizes, budgets and pair counts of each experiment E1–E7). commands.ts builds its zod defaults from
// here, and the typed API (makeProblem, the setting runners) reads the same objects.
// Plain data only: --help and the dashboard's forms read this file without loading the engine.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Problems of `measure --problem`. */
export const PROBLEMS = ['quadratic', 'ridge', 'followup', 'lad', 'logistic'] as const;
export type ProblemName = (typeof PROBLEMS)[number];
/** Methods of `measure --optimizer`. */
export const OPTIMIZERS = ['gd', 'agd', 'reg-gd', 'reg-agd', 'sgd-avg', 'sgd-last', 'subgradient-avg', 'svrg', 'torch-sgd', 'torch-adam'] as const;
export type OptimizerName = (typeof OPTIMIZERS)[number];
/** The error-prone oracles of size δ (makeOracle). */
export const ORACLES = ['init-sphere', 'init-antipodal', 'init-adversarial', 'grad-adversarial', 'grad-random', 'grad-ones', 'stochastic'] as const;
export type OracleName = (typeof ORACLES)[number];
/** `measure --oracle`: the oracles of size δ, and minibatch sampling from a finite sum. */
export const MEASURE_ORACLES = [...ORACLES, 'minibatch'] as const;
/** 95% intervals: Student t or percentile bootstrap. */
export const INTERVALS = ['t', 'bootstrap'] as const;
/** The settings of `sweep` (experiments E1–E7, see README.md). */
export const SETTINGS = ['smooth-init', 'smooth-gradient', 'stochastic', 'strongly-convex', 'nonsmooth', 'finite-sum', 'followup'] as const;
export type SettingName = (typeof SETTINGS)[number];
/** Presets of `sweep`: tiny (seconds), default (a few minutes on 2 cores), paper (to T = 1e5; long). */
export const SCALES = ['tiny', 'default', 'paper'] as const;
export type Scale = (typeof SCALES)[number];

/** The bundled UCI digits (data/digits.csv.gz), the default data of the logistic problem and the finite-sum setting. */
export const DEFAULT_DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../data/digits.csv.gz');

/** One-vs-rest L2-regularized logistic regression on labelled data: positive class and μ. */
export const LOGISTIC = { positive: 3, mu: 0.1 } as const;

/** Tolerance of every exponent check: fitted log–log slopes within ±0.15 of the bound's exponent. */
export const SLOPE_TOLERANCE = 0.15;

/** Defaults of `measure` (a quick command: seconds with these). */
export const MEASURE = {
  problem: 'quadratic' as ProblemName,
  oracle: 'stochastic' as (typeof MEASURE_ORACLES)[number],
  batch: 10,
  optimizer: 'sgd-avg' as OptimizerName,
  budget: 500,
  delta: 0.1,
  epsilon: 0.05,
  pairs: 2000,
  lambda: 0.05,
  dim: 4,
  interval: 't' as (typeof INTERVALS)[number],
  positive: LOGISTIC.positive as number,
};

/** Defaults of `sweep`. */
export const SWEEP = {
  settings: [...SETTINGS] as SettingName[],
  scale: 'default' as Scale,
  positive: LOGISTIC.positive as number,
};

/** What each experiment of the sweep needs at one scale (T: oracle calls per run; pairs: run pairs). */
export interface SweepPreset {
  /** E1: GD, AGD, Reg-GD, Reg-AGD on the follow-up's quadratic, inexact init of size δ; `records` log-spaced trace points */
  smoothInit: { d: number; T: number; pairs: number; records: number; delta: number; lambda: number };
  /** E2: GD on a quadratic with a flat direction, δ-inexact gradients, sweeps over T and ε */
  smoothGradient: { eigenvalues: number[]; pairs: number; delta: number; Ts: number[]; epss: number[] };
  /** E3: averaged and last-iterate SGD, η = D²/(εT); sweeps over T (at eps, delta), δ and ε (at TforSweeps) */
  stochastic: { eps: number; delta: number; Ts: number[]; deltas: number[]; epss: number[]; TforSweeps: number; pairs: number; eigenvalues: number[] };
  /** E4: GD on ridge (n × d, μ); init sweep at initFractions sixths of the largest T above rounding, gradient sweeps over T and δ */
  stronglyConvex: { n: number; d: number; mu: number; delta: number; Ts: number[]; initFractions: number[]; deltas: number[] };
  /** E5: averaged subgradient method on LAD (n × d) at accuracy eps; stochastic noise sigma, init size delta */
  nonsmooth: { n: number; d: number; eps: number; sigma: number; delta: number; Ts: number[]; pairs: number };
  /** E6: the follow-up's replication (step lr, regularization lambda, all-ones gradient error delta) */
  followup: { d: number; T: number; lr: number; lambda: number; delta: number; records: number };
  /** E7: minibatch SGD and SVRG on logistic regression (first maxRows rows when set) */
  finiteSum: { maxRows?: number; batch: number; Ts: number[]; pairs: number; eps: number };
}

const E1 = { delta: 0.1, lambda: 0.05, pairs: 100, records: 10 };
const E2 = { eigenvalues: [0, 0.05, 0.2, 0.5, 1], pairs: 100, delta: 1e-3, Ts: [50, 100, 200, 400, 800, 1600], epss: [0.04, 0.02, 0.01, 0.005, 0.0025] };
const E3 = { delta: 0.1, deltas: [0.05, 0.1, 0.2], eigenvalues: [0, 0.5, 1] };
const E4 = { n: 200, d: 20, mu: 0.1, delta: 0.1, Ts: [10, 20, 40, 80, 160, 320, 640], initFractions: [1, 2, 3, 4, 6], deltas: [0.025, 0.05, 0.1, 0.2] };
const E5 = { n: 50, d: 8, eps: 0.2, sigma: 0.3, delta: 0.1 };
const E6 = { d: 100, T: 10000, lr: 0.01, lambda: 0.05, delta: 0.1, records: 7 };
const E7 = { batch: 10, pairs: 100, eps: 0.01 };

/** The sweep's presets, one per scale. */
export const SWEEP_PRESETS: Record<Scale, SweepPreset> = {
  tiny: {
    smoothInit: { ...E1, d: 20, T: 300, pairs: 50, records: 6 },
    smoothGradient: { ...E2, eigenvalues: [0, 0.3, 1], pairs: 20, Ts: [25, 50, 100, 200], epss: [0.04, 0.02, 0.01, 0.005] },
    stochastic: { ...E3, eps: 0.05, Ts: [100, 200, 400, 800], epss: [0.1, 0.05, 0.025], TforSweeps: 400, pairs: 10000, eigenvalues: [0, 1] },
    stronglyConvex: { ...E4, n: 40, d: 5, Ts: [10, 20, 40, 80, 160] },
    nonsmooth: { ...E5, n: 30, d: 4, Ts: [250, 500, 1000, 2000], pairs: 1000 },
    followup: { ...E6, d: 20, T: 1000 },
    finiteSum: { ...E7, maxRows: 600, batch: 5, Ts: [200, 400, 800, 1600], pairs: 50 },
  },
  default: {
    smoothInit: { ...E1, d: 100, T: 3000 },
    smoothGradient: E2,
    stochastic: { ...E3, eps: 0.02, Ts: [250, 500, 1000, 2000, 4000], epss: [0.08, 0.04, 0.02], TforSweeps: 1000, pairs: 4000 },
    stronglyConvex: E4,
    nonsmooth: { ...E5, Ts: [500, 1000, 2000, 4000], pairs: 1000 },
    followup: E6,
    finiteSum: { ...E7, Ts: [250, 500, 1000, 2000, 4000] },
  },
  paper: {
    smoothInit: { ...E1, d: 100, T: 10000 },
    smoothGradient: E2,
    stochastic: { ...E3, eps: 0.01, Ts: [1000, 3000, 10000, 30000, 100000], epss: [0.04, 0.02, 0.01], TforSweeps: 3000, pairs: 1000 },
    stronglyConvex: E4,
    nonsmooth: { ...E5, Ts: [1000, 3000, 10000, 30000], pairs: 2000 },
    followup: E6,
    finiteSum: { ...E7, Ts: [1000, 3000, 10000, 30000] },
  },
};
