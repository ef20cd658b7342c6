// unstable-convergence: the one source of every default. The command schemas (commands.ts) take their
// defaults from `defaults`, and the typed API (runEos, runProbes, runQuadratic, runMomentumThresholds)
// parses its input with the same schemas, so the CLI, the dashboard and code calling the functions
// agree. Sizes are CPU scale (Cohen et al.'s chebyshev-3-20 regression by default); `quick` is a
// seconds-scale preset (the tests' CLI runs). Plain data only: this file loads no engine.

export const DATASETS = ['chebyshev-3-20', 'chebyshev-4-20', 'chebyshev-5-20', 'linear-50-50', 'gmm', 'digits', 'cifar10', 'mnist'] as const;
/** Cohen et al.'s CIFAR-10 subsets (the first N training images), optionally of the classes 0…c−1 only */
export const CIFAR_PATTERN = /^cifar10(-\d+k)?(-\d+cls)?$/;
/** the CIFAR-10 release layouts: binary batches or Python pickles (auto: whichever is under dataRoot, binary first) */
export const CIFAR_LAYOUTS = ['auto', 'bin', 'py'] as const;
export const LOSSES = ['mse', 'ce', 'logistic'] as const;
/** what `probes` trains: a network on a data set, or a diagonal quadratic ½θᵀdiag(spectrum)θ */
export const OBJECTIVES = ['network', 'quadratic'] as const;
export const MOMENTA = ['none', 'polyak', 'nesterov'] as const;
/** the reference architectures of Cohen et al. (core/dynamics/models.ts modelByName) */
export const ARCH_PATTERN = /^(regression|deeplinear|fc-(relu|elu|tanh|hardtanh|softplus)(-depth\d+)?(-w\d+)?|cnn(-bn|-avgpool)?-(relu|elu|tanh)|vgg11(-bn)?|resnet32)$/;
/** points of the Gaussian mixture when nTrain is not given */
export const GMM_POINTS = 1000;
/** held-out test examples taken after the first nTrain of an image data set (at most) */
export const IMAGE_TEST_POINTS = 1000;

const data = { dataset: 'chebyshev-3-20' as const, gmmClasses: 2, gmmDim: 32, arch: 'regression', loss: 'mse' as const, layout: 'auto' as const };
/** the GD run of every η: length and optimizer */
const run = { time: 400, momentum: 'none' as const, beta: 0.9 };

// eos: η = 0.5 on chebyshev-3-20 crosses 2/η early and hovers there for the rest of the run (window
// median S/(2/η) 1.002–1.094 over seeds, README "Measured"); 0.1 and 0.25 show one catapult only.
export const defaults = {
  data,
  run,
  eos: { ...data, ...run, etas: [0.5], eigs: true, eigFreq: 10, neigs: 2, eigTol: 1e-6, flow: false, flowEvery: 50, checkpointEvery: 1000 },
  probes: { ...data, ...run, objective: 'network' as const, quadraticDim: 20, eta: 0.5, controlEta: 0.05, probeFreq: 5, k: 5 },
  quadratic: { dim: 100, etaInverseHalf: [90, 110], steps: 200 },
  momentumThresholds: { eta: 0.1, beta: 0.9, margin: 0.01, steps: 3000 },
};

/** Seconds-scale sizes (the tests' CLI runs). */
export const quick = {
  eos: { dataset: 'chebyshev-3-20' as const, etas: [0.3], time: 30, eigFreq: 10, probeFreq: 20, flow: true, flowEvery: 20 },
  probes: { steps: 120, eta: 0.5, controlEta: 0.05, probeFreq: 5, controlProbeFreq: 7, k: 2 },
  quadratic: { dim: 20, etaInverseHalf: [15, 25], steps: 50 },
};
