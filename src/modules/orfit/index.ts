// orfit — one-pass learning with Orthogonal Recursive Fitting (Min, Ahn, Azizan, CDC 2022).
// Registers the CLI commands and exports the typed streaming API:
//   const l = new ORFit(new LinearModel(p), { memory: 10 }); l.observe(x, y); l.predict(x);
import { registerModule } from '../../core/registry.ts';
import { syntheticCommand, rotatedDigitsCommand, nonlinearCommand, streamCsvCommand } from './experiments.ts';

export { LinearModel, ModuleModel, TanhMLP, type StreamModel } from './models.ts';
export {
  ORFit, Greedy, OGD, EWRLS, KalmanRLS, EWC, AGEM, RowBasis, DirectionMemory, projectOut, oneStepSGD, minNormInterpolant, multiPassSGD, toSample,
  type StreamLearner, type StepInfo, type LearnerState, type ORFitOptions, type MemoryRule, type OGDOptions, type RLSOptions, type KalmanOptions, type EWCOptions, type AGEMOptions, type SampleInput,
  type MultiPassOptions, type LearnerConfig,
} from './learners/index.ts';
export { syntheticStream, readDigitsCsv, readIdx, writeIdx, readMnist, rotateImage, resizeBilinear, rotatedDigitTask, readCsvStream, BUNDLED_DIGITS, type ImageSet, type RotatedTask } from './data.ts';
export { rmse, seenErrors, aggregate, bandChart, constantPredictionRmse } from './evaluate.ts';
export { createLearner, parseMethods, METHODS, type Method } from './experiments.ts';

registerModule({
  name: 'orfit',
  title: 'ORFit: one-pass learning',
  description: 'Orthogonal Recursive Fitting: fit each streamed point exactly while leaving earlier predictions unchanged; memory-bounded with incremental PCA; RLS/OGD/SGD baselines.',
  papers: ['Y. Min, K. Ahn, N. Azizan. One-Pass Learning via Bridging Orthogonal Gradient Descent and Recursive Least-Squares. IEEE CDC 2022 (arXiv 2207.13853)'],
  commands: [syntheticCommand, rotatedDigitsCommand, nonlinearCommand, streamCsvCommand],
});
