// The cross-modal 3D deformable transformer (Kim, Ahn, Ko, ICCV 2023, arXiv 2212.05638, its Fig. 2),
// one file per block the paper names, read in this order:
//   tokens.ts           RGB backbone → RGB tokens Z; pose embedding → pose tokens P
//   deformable.ts       3D deformable attention: 3D token search (3DTS) offsets, trilinear sampling, attention
//   joint-stride.ts     local joint stride attention (pose side, within each frame)
//   temporal-stride.ts  temporal stride attention (over interleaved subsets of frames)
//   transformer.ts      CrossModalBlock (the three in turn) and CrossModalTransformer (two cross-modal
//                       tokens c_rgb, c_pose through L blocks, then the classifier)
//   layers.ts           the attention and MLP they share;  shapes.ts  makeConfig and the shapes it implies
//   weights.ts          model.safetensors (weights, config and class names) written and read back
// What the paper fixes is marked [paper]; what we reconstruct where it is silent is marked [recon] and
// sits behind a field of ActionConfig (config.ts) so alternatives can be tried (README.md lists them).
export { makeConfig, tokenShape, gridShape, jointGroups, NTU_PARTS, configFor, attentionCost } from './shapes.ts';
export { Attention, Mlp } from './layers.ts';
export { RGBBackbone, PoseEmbedding } from './tokens.ts';
export { TokenSearch3D, sampleTrilinear, referenceGrid, DeformableAttention3D } from './deformable.ts';
export { LocalJointStrideAttention } from './joint-stride.ts';
export { TemporalStrideAttention } from './temporal-stride.ts';
export { CrossModalBlock, CrossModalTransformer, type ActionInput } from './transformer.ts';
export { saveModel, loadModel } from './weights.ts';
