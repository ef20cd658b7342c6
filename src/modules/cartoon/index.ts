// cartoon — the typed API. Interactive cartoonization with texture and colour controls: CARTOONER
// (Ahn, Kwon, Back, Hong, Kim, "Interactive Cartoonization with Controllable Perceptual Factors",
// CVPR 2023, arXiv 2212.09555) at CPU scale, plus a classic non-learned cartoonizer.
//   config.ts      every default (network shape, loss weights, presets quick/cpu/paper, command defaults)
//   model.ts       encoder, texture controller, texture and colour decoders, multi-texture discriminator
//   losses.ts      L_adv, L_content, L_tv, L_color and the [ours] paired terms
//   color.ts       sRGB ↔ Lab/HSV, the HSV colour augmentation with L-caching
//   scenes.ts      the procedural photo/cartoon generator with known answers
//   data.ts        training batches from it or from folders of photos and cartoons
//   raster.ts      distance transform, SLIC superpixels, resize/crop
//   train.ts       the two-stage trainer, checkpoints, model files
//   evaluate.ts    controllability metrics and KID;  classic.ts  the non-learned cartoonizer
//   apply.ts       photo in, cartoon out (and the shipped model's path)
//   commands.ts    the schemas;  experiments.ts  the run bodies
// Registration happens in commands.ts; this file registers nothing.
export {
  apply as applyCommand, train as trainCommand, evaluate as evaluateCommand, demo as demoCommand,
  applyParams, trainParams, evaluateParams, demoParams,
  type ApplyParams, type TrainParams, type EvaluateParams, type DemoParams,
} from './commands.ts';
export { apply, train, evaluate, demo } from './experiments.ts';
export * from './config.ts';
export * from './color.ts';
export * from './model.ts';
export * from './losses.ts';
export * from './data.ts';
export * from './scenes.ts';
export * from './train.ts';
export * from './evaluate.ts';
export * from './classic.ts';
export * from './apply.ts';
export * as raster from './raster.ts';
