// The data sets of the EoS / unstable-convergence experiments: the synthetic ones of Cohen et al.
// at CPU scale and the real image data users have (CIFAR-10 binary batches, MNIST IDX, the UCI
// 8×8 digits bundled with the project).
import * as torch from '../../core/torch/index.ts';
import type { Rng } from '../../core/rng.ts';
import {
  chebyshev, linearTask, gaussianMixture, standardize, readCifar10Binary, readMnist, readDigits, cifar10Dataset, DIGITS_PATH,
  type Dataset, type ImageSet,
} from '../../core/dynamics/index.ts';
import { UsageError } from '../../core/errors.ts';
import { DATASETS, GMM_POINTS, IMAGE_TEST_POINTS, CIFAR_PATTERN } from './config.ts';

export { DATASETS };
export type DatasetName = (typeof DATASETS)[number] | string;

export interface DataSpec {
  dataset: DatasetName;
  /** keep the first N training examples (omitted: all; gmm: the number of points, omitted: GMM_POINTS) */
  nTrain?: number;
  /** files for cifar10 (comma-separated .bin batches) or mnist (images,labels); digits: omitted means the bundled copy */
  dataPath?: string;
  /** cifar10*: the folder holding the release (cifar-10-batches-bin / -py) */
  dataRoot?: string;
  layout?: 'auto' | 'bin' | 'py';
  /** Gaussian-mixture options */
  gmmClasses: number;
  gmmDim: number;
}

function fromImages(set: ImageSet, nTrain: number | undefined, name: string): Dataset {
  return torch.scope(() => {
    const n = set.images.shape[0]!;
    const keep = nTrain !== undefined ? Math.min(nTrain, n) : n;
    // hold out the rest (up to IMAGE_TEST_POINTS) as the test split
    const nTest = Math.min(IMAGE_TEST_POINTS, n - keep);
    const tr = set.images.narrow(0, 0, keep);
    const te = nTest > 0 ? set.images.narrow(0, keep, nTest) : undefined;
    // scale to [0, 1] (digits: /16), then standardize per feature with the train statistics
    const scale = name === 'digits' ? 1 / 16 : 1 / 255;
    const s = standardize(tr, te, scale);
    return {
      name: `${name}-${keep}`, X: s.train, y: set.labels.narrow(0, 0, keep).contiguous(), classes: set.classes,
      Xtest: s.test, ytest: te ? set.labels.narrow(0, keep, nTest).contiguous() : undefined,
    };
  });
}

export function loadDataset(spec: DataSpec, rng: Rng): Dataset {
  const m = /^chebyshev-(\d+)-(\d+)$/.exec(spec.dataset);
  if (m) return chebyshev(Number(m[1]), Number(m[2]));
  switch (spec.dataset) {
    case 'linear-50-50': return linearTask(rng, 50, 50);
    case 'gmm': return gaussianMixture(rng, { n: spec.nTrain ?? GMM_POINTS, d: spec.gmmDim, classes: spec.gmmClasses });
    case 'digits': {
      const set = readDigits(spec.dataPath ?? DIGITS_PATH);
      try { return fromImages(set, spec.nTrain, 'digits'); } finally { torch.dispose(set.images, set.labels); }
    }
    case 'cifar10': {
      if (spec.dataRoot) return cifar10Dataset('cifar10', spec.dataRoot, { layout: spec.layout, nTrain: spec.nTrain, testLimit: IMAGE_TEST_POINTS });
      if (!spec.dataPath) throw new UsageError('dataset cifar10 needs dataRoot (the folder holding cifar-10-batches-bin or cifar-10-batches-py) or dataPath (comma-separated binary batches)');
      const set = readCifar10Binary(spec.dataPath.split(',').map((s) => s.trim()), { limit: spec.nTrain !== undefined ? spec.nTrain + IMAGE_TEST_POINTS : undefined });
      try { return fromImages(set, spec.nTrain, 'cifar10'); } finally { torch.dispose(set.images, set.labels); }
    }
    case 'mnist': {
      const parts = (spec.dataPath ?? '').split(',').map((s) => s.trim());
      if (parts.length !== 2) throw new Error('dataset mnist needs dataPath "images-idx3-ubyte[.gz],labels-idx1-ubyte[.gz]"');
      const set = readMnist(parts[0]!, parts[1]!, { limit: spec.nTrain !== undefined ? spec.nTrain + IMAGE_TEST_POINTS : undefined });
      try { return fromImages(set, spec.nTrain, 'mnist'); } finally { torch.dispose(set.images, set.labels); }
    }
    default:
      if (CIFAR_PATTERN.test(spec.dataset)) {
        if (!spec.dataRoot) throw new UsageError(`dataset ${spec.dataset} needs dataRoot: the folder holding cifar-10-batches-bin or cifar-10-batches-py`);
        return cifar10Dataset(spec.dataset, spec.dataRoot, { layout: spec.layout, nTrain: spec.nTrain, testLimit: IMAGE_TEST_POINTS });
      }
      throw new UsageError(`unknown dataset '${spec.dataset}' (${DATASETS.join(', ')}, cifar10-<N>k[-<c>cls])`);
  }
}

/** Output dimension the model needs for this data and loss. */
export function outputDim(d: Dataset): number {
  if (d.classes > 0) return d.classes;
  return d.y.shape[1] ?? 1;
}
