// prostate — the typed API of Z-SSMNet (zonal-aware self-supervised mesh network) for csPCa
// detection in bi-parametric MRI, and its commands (registered in commands.ts). Where things live:
// config.ts (every default), model.ts (MNet), losses.ts, data.ts (data set-up, network-ready
// cases), picai.ts / metaimage.ts / nifti.ts / volume.ts (formats), phantoms.ts, preprocess.ts,
// ssl.ts (pretext task) + pretrain.ts (SSL loop), augment.ts + train.ts (supervised loop),
// infer.ts (sliding window), postprocess.ts + evaluate.ts (PI-CAI), npy.ts + picaieval.ts (picai_eval's
// folders), compare.ts (permutation test), pipeline.ts, experiments.ts + evaluation-runs.ts (the
// commands' runs). README.md says which parts of the paper each implements.
export {
  describe as describeCommand, phantoms as phantomsCommand, pretrain as pretrainCommand, train as trainCommand,
  detect as detectCommand, evaluate as evaluateCommand, compareAlgorithms as compareAlgorithmsCommand, ablation as ablationCommand,
  demo as demoCommand,
  type DescribeParams, type PhantomsParams, type PretrainParams, type TrainParams, type DetectParams, type EvaluateParams,
  type CompareParams, type AblationParams, type DemoParams,
} from './commands.ts';
export { PAPER, CPU, QUICK, VARIANTS, FMUS, EXTRACTIONS, ABLATION_VARIANTS } from './config.ts';
export { MNet, ConvBlock, Down, Up, fmu, analyticParamCount, scaledWidths, FULL_WIDTHS, deepSupervisionScales, DS_WEIGHTS, heInit } from './model.ts';
export type { MNetConfig, FMUMode } from './model.ts';
export { focalLoss, focalCE, deepSupervisionLoss, restorationLoss } from './losses.ts';
export { readMetaImage, writeMetaImage, encodeMetaImage, decodeMetaImage, ImageFormatError } from './metaimage.ts';
export { readNifti, writeNifti, encodeNifti, decodeNifti } from './nifti.ts';
export {
  readImage, writeImage, loadCase, loadLabel, listCases, readMarksheet, writeMarksheet, makeFolds, loadFolds, readSplits, resolveSource, labelsRootOf,
  LAYOUT, LABELS, type PicaiSource, type SplitFold,
} from './picai.ts';
export { readNumpyVolume, decodeNpy, decodeNpz } from './npy.ts';
export { pairFolders, evaluateFolders, readSubjectList, readAnyVolume } from './picaieval.ts';
export { pairedPermutationTest, type PermutationResult } from './compare.ts';
export type { Volume, ElementType, Grid } from './volume.ts';
export { resample, makeVolume } from './volume.ts';
export { makePhantomCase, writePhantomDataset } from './phantoms.ts';
export { prepareCase, normalizeSupervised, normalizeSSL, adcStats } from './preprocess.ts';
export { ensureData, split, loadPrepared, toNetCases, type NetCase } from './data.ts';
export { makeSSLSample, localPixelShuffle, randomBezierMap, inPaint, outPaint, randomFlips, oneHotZones } from './ssl.ts';
export { pretrainSSL, restorationMSE, type PretrainOptions } from './pretrain.ts';
export { makeBatch, augmentBatch, type AugmentOptions } from './augment.ts';
export { trainDetector, transferWeights, type TrainOptions } from './train.ts';
export { predictCase, type InferOptions } from './infer.ts';
export { extractLesionCandidates, staticExtraction, removeOutsideGland, label26, cleanZonalMask } from './postprocess.ts';
export { evaluateCase, aggregate, auroc, lesionCurves, bootstrapCI, maxWeightAssignment } from './evaluate.ts';
export { detect, evaluateDetections, runPipeline, loadModel, saveModel, readModelFile, type SavedModel } from './pipeline.ts';
export { analyticParamCount as parameterCount } from './model.ts';
