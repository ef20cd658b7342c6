// Module `threshold-neurons`: Ahn, Bubeck, Chewi, Lee, Suarez, Zhang, "Learning threshold neurons
// via the edge of stability" (NeurIPS 2023, arXiv 2212.07469) — the typed API. Files: config.ts
// (defaults), commands.ts (schemas, registration), experiments.ts (the run bodies), data.ts
// (sparse-coding data), model.ts (the nets, the mean model, ℓ(xy) as objectives), mean-model.ts
// (closed-form mean-model GD), xy.ts (closed-form ℓ(xy) GD), train.ts (one sweep run per η),
// evaluate.ts (initial sharpness, the kink). See README.md.
export {
  sweep, trajectory, xy, sweepParams, meanTrajectoryParams, xyParams,
  type SweepParams, type MeanTrajectoryParams, type XyParams,
} from './commands.ts';
export { defaults, quick, MODELS, VARIANTS, REDUCTIONS, ENGINES, XY_LOSSES } from './config.ts';
export { runSweep, runMeanTrajectory, runXy, parseGrid, type SweepInput, type MeanTrajectoryInput, type XyInput } from './experiments.ts';
export { sparseCoding, linearAccuracy, type SparseCodingData } from './data.ts';
export {
  fullNetForward, meanModelForward, thresholdObjective, predictedThreshold, predictedMeanModelSharpness,
  xyLoss, xyObjective, xyCurvatureAtZero, type NetVariant, type Reduction, type XyLoss, type ThresholdModelOptions,
} from './model.ts';
export { FastMeanModel, meanModelGD, eigSym3, type MeanState } from './mean-model.ts';
export { xyGD, xySharpness, xyDerivs } from './xy.ts';
export { sweepRunFast, sweepRunAutograd, fastPair, type SweepRow } from './train.ts';
export { initialSharpness, findKink } from './evaluate.ts';
