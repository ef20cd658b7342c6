// Shared machinery of the training-dynamics modules (threshold-neurons, unstable-convergence).
export * from './objective.ts';
export * from './models.ts';
export * from './archs.ts';
export * from './tasks.ts';
export * from './loaders.ts';
export * from './cifar.ts';
export * from './cifar-pickle.ts';
export * from './datasets.ts';
export * from './hessian-analysis.ts';
export * from './gd.ts';
export * from './probes.ts';
export * from './flow.ts';
export * from './plots.ts';
