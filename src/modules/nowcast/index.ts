// nowcast — SIANet rain nowcasting and the shift-robust training recipe on Weather4cast 2022 data:
// the typed API and the commands (registered in commands.ts; this file registers nothing).
// Seo et al., arXiv 2212.02968 (paper A: augmentation policy, smoothness loss, test-time ensemble)
// and arXiv 2212.02952 (paper B: SIANet). What is implemented where: README.md.
//   config.ts      every default (presets paper, tiny, quick, s) and the names the schemas accept
//   geometry.ts    the 252² input, its central 42² target block, ×6 upsampling
//   data.ts        W4C22 release paths, preprocessing, samples, submission (re-exports hdf5.ts: HDF5 incl. float16;
//                  splits.ts: the splits table in either layout, windows)
//   model.ts       the organisers' 3D U-Net and SIANet (factorised/LCAM blocks, CenterCrop, STR)
//   losses.ts      weighted BCE, deep supervision, paper A's smoothness loss
//   recipe.ts      augmentation policy (AP), its inverse, random augmentation, ensemble (GAE)
//   train.ts       the training loop (core multi-tensor AdamW)
//   evaluate.ts    ensemble predictions, scores, tuned threshold, reference predictors;  metrics.ts  IoU & co.
//   synth.ts       the synthetic advecting-rain generator;  samples.ts  its files, sample sets, benchmark
//   io.ts          file-backed datasets and model files;  init.ts  train --init;  plots.ts  the figures
//   ablation.ts    paper A's ablation and its checks;  experiments.ts  the run bodies;  commands.ts  the schemas
export {
  describeCommand, synthCommand, trainCommand, evalCommand, predictCommand, ablateCommand,
  describeParams, synthParams, trainParams, evalParams, predictParams, ablateParams,
  type DescribeParams, type SynthParams, type TrainParams, type EvalParams, type PredictParams, type AblateParams,
} from './commands.ts';
export { runDescribe, runSynth, runTrain, runEval, runPredict, runAblate, ablateOptions, predictCells } from './experiments.ts';
export * from './config.ts';
export * from './geometry.ts';
export * from './data.ts';
export * from './model.ts';
export * from './losses.ts';
export * from './metrics.ts';
export * from './recipe.ts';
export * from './train.ts';
export * from './evaluate.ts';
export * from './io.ts';
export * from './init.ts';
export * from './synth.ts';
export * from './samples.ts';
export * from './ablation.ts';
export * from './plots.ts';
