// tools — defaults of the everyday commands (the one source of every default; imports only zod).
import { z } from 'zod';

/** `paperlab convert`: which key prefix to strip by default ('auto': wrapper prefixes every key shares). */
export const convertDefaults = {
  prefix: 'auto',
} as const;

export const prefixSchema = z.string().min(1);

/**
 * `paperlab hessian`: PyHessian's defaults (top_n, trace maxIter/tol, density iter/n_v,
 * density_generate's sigma_squared), fewer grid points than its 10 000 (the CSV stays small).
 */
export const hessianDefaults = {
  loss: 'mse' as const,
  layout: 'auto' as const,
  topK: 5,
  eigTol: 1e-6,
  trace: true,
  traceIter: 100,
  traceTol: 1e-3,
  density: true,
  slqIter: 100,
  slqRuns: 1,
  bins: 1000,
  sigmaSquared: 1e-5,
  perLayer: false,
};
