// The data sets of the training-dynamics experiments by name (Cohen et al.'s names where they have
// one): synthetic chebyshev-k-n, linear-50-50 and a Gaussian mixture; the bundled UCI digits; MNIST
// IDX files; CIFAR-10 as released (cifar10, cifar10-<N>k[-<c>cls] under a data root, or binary
// batches given by path). Shared by unstable-convergence and the `hessian` tool.
import * as torch from '../torch/index.ts';
import type { Rng } from '../rng.ts';
import { UsageError } from '../errors.ts';
import type { Dataset } from './objective.ts';
import { chebyshev, linearTask, gaussianMixture, standardize } from './tasks.ts';
import { readMnist, readDigits, DIGITS_PATH, type ImageSet } from './loaders.ts';
import { readCifar10Binary, cifar10Dataset } from './cifar.ts';

export const CIFAR_NAME = /^cifar10(-\d+k)?(-\d+cls)?$/;

export interface DataSpec {
  /** chebyshev-<k>-<n>, linear-50-50, gmm, digits, mnist, cifar10, cifar10-<N>k[-<c>cls] */
  dataset: string;
  /** keep the first N training examples (omitted: all; gmm: the number of points) */
  nTrain?: number;
  /** cifar10 (comma-separated .bin batches), mnist (images,labels), digits (CSV; omitted: the bundled copy) */
  dataPath?: string;
  /** cifar10*: the folder holding cifar-10-batches-bin or cifar-10-batches-py */
  dataRoot?: string;
  layout?: 'auto' | 'bin' | 'py';
  gmmClasses?: number;
  gmmDim?: number;
  /** Gaussian-mixture points when nTrain is omitted (default 1000) */
  gmmPoints?: number;
  /** held-out test images taken (at most; default 1000) */
  testPoints?: number;
}

/** Images → standardized float64 features; the images after the first nTrain (up to testPoints) are the test split. */
function fromImages(set: ImageSet, nTrain: number | undefined, name: string, testPoints: number): Dataset {
  return torch.scope(() => {
    const n = set.images.shape[0]!;
    const keep = nTrain !== undefined ? Math.min(nTrain, n) : n;
    const nTest = Math.min(testPoints, n - keep);
    const tr = set.images.narrow(0, 0, keep);
    const te = nTest > 0 ? set.images.narrow(0, keep, nTest) : undefined;
    // scale to [0, 1] (digits: /16), then standardize per feature with the train statistics
    const s = standardize(tr, te, name === 'digits' ? 1 / 16 : 1 / 255);
    return {
      name: `${name}-${keep}`, X: s.train, y: set.labels.narrow(0, 0, keep).contiguous(), classes: set.classes,
      Xtest: s.test, ytest: te ? set.labels.narrow(0, keep, nTest).contiguous() : undefined,
    };
  });
}

function images(set: ImageSet, spec: DataSpec, name: string, testPoints: number): Dataset {
  try { return fromImages(set, spec.nTrain, name, testPoints); } finally { torch.dispose(set.images, set.labels); }
}

export function loadNamedDataset(spec: DataSpec, rng: Rng): Dataset {
  const testPoints = spec.testPoints ?? 1000;
  const limit = spec.nTrain !== undefined ? spec.nTrain + testPoints : undefined;
  const m = /^chebyshev-(\d+)-(\d+)$/.exec(spec.dataset);
  if (m) return chebyshev(Number(m[1]), Number(m[2]));
  if (spec.dataset === 'linear-50-50') return linearTask(rng, 50, 50);
  if (spec.dataset === 'gmm') return gaussianMixture(rng, { n: spec.nTrain ?? spec.gmmPoints ?? 1000, d: spec.gmmDim ?? 32, classes: spec.gmmClasses ?? 2 });
  if (spec.dataset === 'digits') return images(readDigits(spec.dataPath ?? DIGITS_PATH), spec, 'digits', testPoints);
  if (spec.dataset === 'mnist') {
    const parts = (spec.dataPath ?? '').split(',').map((s) => s.trim());
    if (parts.length !== 2) throw new UsageError('dataset mnist needs dataPath "images-idx3-ubyte[.gz],labels-idx1-ubyte[.gz]"');
    return images(readMnist(parts[0]!, parts[1]!, { limit }), spec, 'mnist', testPoints);
  }
  if (CIFAR_NAME.test(spec.dataset)) {
    if (spec.dataRoot) return cifar10Dataset(spec.dataset, spec.dataRoot, { layout: spec.layout, nTrain: spec.nTrain, testLimit: testPoints });
    if (spec.dataset === 'cifar10' && spec.dataPath) return images(readCifar10Binary(spec.dataPath.split(',').map((s) => s.trim()), { limit }), spec, 'cifar10', testPoints);
    throw new UsageError(`dataset ${spec.dataset} needs dataRoot (the folder holding cifar-10-batches-bin or cifar-10-batches-py)`
      + (spec.dataset === 'cifar10' ? ' or dataPath (comma-separated binary batches)' : ''));
  }
  throw new UsageError(`unknown dataset '${spec.dataset}' (chebyshev-<k>-<n>, linear-50-50, gmm, digits, mnist, cifar10, cifar10-<N>k[-<c>cls])`);
}

/** Output dimension a model needs for this data: the classes, or the target width. */
export function outputDim(d: Dataset): number {
  if (d.classes > 0) return d.classes;
  return d.y.shape[1] ?? 1;
}
