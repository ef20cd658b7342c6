// The training kit every trainer uses (ARCHITECTURE.md, "Training plumbing lives once"): one
// checkpoint record and its resume, gradient clipping, the optimizers and schedulers with their
// state, the generators with theirs. A module's loop imports from here and writes only its
// paper's step. How to move a loop onto it: README.md in this folder.
export {
  saveTrainingCheckpoint, restoreTrainingCheckpoint, modelTensorsOf, stepTag, CheckpointError, CHECKPOINT_FORMAT,
  type TrainingParts, type TrainingCheckpoint, type RestoredCheckpoint, type RestoreOptions, type Named,
} from './checkpoint.ts';
export {
  clipGradNorm, Optimizer, SGD, Adam, AdamW, ScheduledLR, ReduceLROnPlateau, stepLR, cosineLR, polyLR, applySchedule,
  type ClipGradNormOptions, type OptimizerStateDict, type HyperParams, type Stateful, type Schedule, type PlateauOptions,
  type AdamOptions, type SGDOptions,
} from '../torch/optim.ts';
export { Rng, type RngState } from '../rng.ts';
export { manualSeed, getRngState, setRngState, hasRngState } from '../torch/tensor.ts';
export { GradScaler, MixedPrecision, type GradScalerOptions } from './amp.ts';
export { PRECISIONS, precisionParam, type Precision } from './precision.ts';
