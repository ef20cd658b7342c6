// The libtorch facade: `import * as torch from '../core/torch/index.ts'` reads like PyTorch.
export * from './tensor.ts';
export * as nn from './nn.ts';
export * as F from './functional.ts';
export * as optim from './optim.ts';
export { saveSafetensors, loadSafetensors, toSafetensors, fromSafetensors } from './serialize.ts';
export { loadStateDict, ndToTensor, type LoadedStateDict, type LoadStateDictOptions } from './statedict.ts';
export * as dist from './distributed.ts';
