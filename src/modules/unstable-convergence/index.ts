// Module `unstable-convergence`: Ahn, Zhang & Sra, "Understanding the unstable convergence of
// gradient descent" (ICML 2022), on the edge-of-stability experiments of Cohen et al. (ICLR 2021) —
// the typed API. Files: config.ts (defaults), commands.ts (schemas, registration), experiments.ts
// (the run bodies), data.ts (data sets), evaluate.ts (EoS window, probe medians), quadratic.ts (the
// quadratic sanity cases). The training machinery (flat-θ models, the GD runner, gradient flow, the
// probe monitor) is shared with threshold-neurons in src/core/dynamics. The per-step probes (RP, DS,
// DSint, alignment, gradient cosine, S/MSS) are a monitor any training loop can attach:
// `new UnstableConvergenceMonitor().observe({params, loss}, step, η)`. See README.md.
export {
  eos, probes, quadratic, thresholds, eosParams, probesParams, quadraticParams, momentumThresholdsParams,
  type EosParams, type ProbesParams, type QuadraticParams, type MomentumThresholdsParams,
} from './commands.ts';
export { defaults, quick, DATASETS, LOSSES, MOMENTA, ARCH_PATTERN } from './config.ts';
export {
  runEos, runProbes, runQuadratic, momentumThresholds, runMomentumThresholds, buildObjective,
  type EosInput, type ProbesInput, type QuadraticInput, type MomentumThresholdsInput,
} from './experiments.ts';
export { eosWindow, probeStats } from './evaluate.ts';
export { quadraticRuns, momentumThresholdRows } from './quadratic.ts';
export { loadDataset, outputDim, type DataSpec, type DatasetName } from './data.ts';
export {
  UnstableConvergenceMonitor, maxStableSharpness, runGD, runGDAsync, gradientFlow,
  type ProbeRow, type ProbeTarget, type GDOptions, type GDResult, type GDRow,
} from '../../core/dynamics/index.ts';
