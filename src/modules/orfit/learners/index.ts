// The streaming learners, one file each behind one interface (types.ts): ORFit and One-Step SGD
// (orfit.ts) with their bounded memory (basis.ts), the paper's baselines Greedy, OGD and EW-RLS /
// NTK-RLS, our comparators (Kalman, EWC, A-GEM), the offline references, and the factory by CLI name.
export type { SampleInput, StepInfo, LearnerState, StreamLearner } from './types.ts';
export { toSample, BaseLearner } from './base.ts';
export { RowBasis, DirectionMemory, projectOut } from './basis.ts';
export { ORFit, oneStepSGD, type ORFitOptions, type MemoryRule } from './orfit.ts';
export { Greedy } from './greedy.ts';
export { OGD, type OGDOptions } from './ogd.ts';
export { EWRLS, type RLSOptions } from './rls.ts';
export { KalmanRLS, type KalmanOptions } from './kalman.ts';
export { EWC, type EWCOptions } from './ewc.ts';
export { AGEM, type AGEMOptions } from './agem.ts';
export { minNormInterpolant, multiPassSGD, type MultiPassOptions } from './offline.ts';
export { createLearner, type LearnerConfig } from './factory.ts';
