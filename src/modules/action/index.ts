// action — cross-modal learning with 3D deformable attention for action recognition (Kim, Ahn, Ko,
// ICCV 2023, arXiv 2212.05638): the typed API and the commands (registered in commands.ts).
//   const m = new CrossModalTransformer(makeConfig({ numClasses: 6 })); await trainModel(m, makeSynthetic(96, 60, 1));
// Files: config.ts (presets and every default), commands.ts (schemas), experiments.ts (the runs),
// model/ (the network, one file per block), data.ts + synthetic.ts + ntu.ts + penn.ts + pyskl.ts (data),
// skeleton.ts (layouts, bones, streams), clips.ts (clip sampling, multi-clip scores, fusion),
// train.ts, evaluate.ts, render.ts (figures). README.md says what each implements.
export * from './model/index.ts';
export * from './ntu.ts';
export * from './penn.ts';
export * from './pyskl.ts';
export * from './skeleton.ts';
export * from './clips.ts';
export * from './data.ts';
export * from './synthetic.ts';
export * from './train.ts';
export * from './evaluate.ts';
export * from './render.ts';
export {
  SYNTH_CLASSES, MODALITIES, JOINT_GROUPINGS, HEAD_MODES, SAMPLE_PADDINGS, DEFAULT_CONFIG, BLOB_MODEL, SYNTH_DEFAULTS, BLOB_DEFAULTS, AUGMENT_DEFAULTS,
  presets, defaults,
  type ActionConfig, type JointGrouping, type HeadMode, type Modality, type SamplePadding, type ModelDtype, type SynthOptions, type BlobOptions,
  type AugmentOptions, type ModelOptions, type Preset,
} from './config.ts';
export {
  train as trainCommand, evaluate as evaluateCommand, predict as predictCommand, explain as explainCommand, quick as quickCommand,
  offsets as offsetsCommand, cost as costCommand, fuse as fuseCommand,
  trainParams, evaluateParams, predictParams, explainParams, quickParams, offsetsParams, costParams, fuseParams,
  type TrainParams, type EvaluateParams, type PredictParams, type ExplainParams, type QuickParams, type OffsetsParams, type CostParams, type FuseParams,
} from './commands.ts';
export { train, evaluate, predict, explain, quick, offsets, cost, fuse, offsetAblation } from './experiments.ts';
