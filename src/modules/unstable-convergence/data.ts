// The data sets of the EoS / unstable-convergence experiments: the synthetic ones of Cohen et al.
// at CPU scale and the real image data users have (CIFAR-10 as released, MNIST IDX, the UCI 8×8
// digits bundled with the project), loaded by core/dynamics/datasets.ts with this module's sizes.
import type { Rng } from '../../core/rng.ts';
import { loadNamedDataset, outputDim, type Dataset, type DataSpec as CoreDataSpec } from '../../core/dynamics/index.ts';
import { DATASETS, GMM_POINTS, IMAGE_TEST_POINTS } from './config.ts';

export { DATASETS, outputDim };
export type DatasetName = string;

export type DataSpec = Omit<CoreDataSpec, 'gmmPoints' | 'testPoints'>;

export function loadDataset(spec: DataSpec, rng: Rng): Dataset {
  return loadNamedDataset({ ...spec, gmmPoints: GMM_POINTS, testPoints: IMAGE_TEST_POINTS }, rng);
}
