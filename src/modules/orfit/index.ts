// orfit — one-pass learning with Orthogonal Recursive Fitting (Min, Ahn, Azizan, CDC 2022): the typed
// streaming API and the commands (registered in commands.ts).
//   const l = new ORFit(new LinearModel(p), { memory: 10 }); l.observe(x, y); l.predict(x);
// Not a deep-learning module, so its files differ from the usual model/train split (see README.md):
// models.ts (f(x; w) seen as a flat w), learners/ (the paper's algorithms, one file each),
// stream.ts (the streaming loops, in place of train.ts), data.ts, evaluate.ts, experiments.ts,
// config.ts (presets and defaults), commands.ts (schemas).
export { LinearModel, ModuleModel, TanhMLP, type StreamModel } from './models.ts';
export {
  ORFit, Greedy, OGD, EWRLS, KalmanRLS, EWC, AGEM, RowBasis, DirectionMemory, projectOut, oneStepSGD, minNormInterpolant, multiPassSGD, toSample, createLearner,
  type StreamLearner, type StepInfo, type LearnerState, type ORFitOptions, type MemoryRule,
  type OGDOptions, type RLSOptions, type KalmanOptions, type EWCOptions, type AGEMOptions,
  type SampleInput, type MultiPassOptions, type LearnerConfig,
} from './learners/index.ts';
export { syntheticStream, readDigitsCsv, readIdx, writeIdx, readMnist, rotateImage, resizeBilinear, rotatedDigitTask, readCsvStream, readCsvFeatures, readWeights, BUNDLED_DIGITS, type ImageSet, type RotatedTask } from './data.ts';
export { rmse, seenErrors, aggregate, bandChart, constantPredictionRmse } from './evaluate.ts';
export { METHODS, MEMORY_RULES, presets, defaults, learnerDefaults, type Method, type Preset } from './config.ts';
export {
  synthetic as syntheticCommand, rotatedDigits as rotatedDigitsCommand, nonlinear as nonlinearCommand, streamCsv as streamCsvCommand,
  syntheticParams, rotatedDigitsParams, nonlinearParams, streamCsvParams,
  type SyntheticParams, type RotatedDigitsParams, type NonlinearParams, type StreamCsvParams,
} from './commands.ts';
export { synthetic, rotatedDigits, nonlinear, streamCsv } from './experiments.ts';
