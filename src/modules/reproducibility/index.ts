// reproducibility — the typed API. How far two runs of an optimizer drift apart under error-prone
// oracles: Ahn, Jain, Ji, Kale, Netrapalli, Shamir, "Reproducibility in Optimization: Theoretical
// Framework and Limits", NeurIPS 2022, with the follow-up Zhang, Yang, Karbasi, He, NeurIPS 2023.
// Not a deep-learning module, so its files follow the paper's axes rather than model/train:
//   problems/      problems with known constants (L, μ, G, D, F*), one file per family
//   oracles.ts     the error-prone oracles of size δ (init, gradient, stochastic, minibatch)
//   optimizers.ts  the methods, one class each (GD/SGD, AGD, Reg-X, SVRG, any torch.optim)
//   harness.ts     measureDeviation: the (ε, δ)-deviation over many run pairs, with statistics
//   bounds.ts      the bounds with their constants and exact closed forms
//   evaluate.ts    sweep rows, summary rows (fitted vs bound exponents), tables and plots
//   settings/      the experiments E1–E7 of `sweep`;  data.ts  labelled CSV reader
//   config.ts      every default;  commands.ts  the schemas;  experiments.ts  the run bodies
// Registration happens in commands.ts; this file registers nothing.
export { measure as measureCommand, sweep as sweepCommand, measureParams, sweepParams, settingSchema, type MeasureParams, type SweepParams } from './commands.ts';
export { measure, sweep } from './experiments.ts';
export * from './config.ts';
export * from './problems/index.ts';
export * from './oracles.ts';
export * from './optimizers.ts';
export * from './harness.ts';
export * from './bounds.ts';
export * from './evaluate.ts';
export * from './settings/index.ts';
export * from './data.ts';
