// The problems with known constants, one file per family, and the factory the `measure` command uses.
import { readLabeledCsv } from '../data.ts';
import { DEFAULT_DATA, LOGISTIC, PROBLEMS, type ProblemName } from '../config.ts';
import type { Problem } from './problem.ts';
import { spectrumQuadratic, ridge, followUpQuadratic, diagonalQuadratic, withStart, type QuadraticProblem } from './quadratic.ts';
import { ladRegression } from './lad.ts';
import { logisticFromData } from './logistic.ts';

export { randomOrthogonal, type Problem, type ProblemConstants, type Setting } from './problem.ts';
export * from './quadratic.ts';
export * from './lad.ts';
export * from './logistic.ts';

/**
 * A problem of `measure --problem` at dimension `dim`: quadratic (eigenvalues evenly spaced in [0, 1],
 * a flat direction, D = 1), ridge (n = 4·dim), followup, lad (n = 4·dim, flat), or one-vs-rest logistic
 * regression on `data` (default: the bundled digits; `dim` is then the data's). `spectrum` (quadratic
 * only) makes it the diagonal quadratic ½Σλᵢxᵢ²; `start` (quadratic, ridge, followup) replaces u0.
 */
export function makeProblem(name: ProblemName, dim: number, seed: number, data?: string, positive: number = LOGISTIC.positive,
  o: { spectrum?: readonly number[] | undefined; start?: readonly number[] | undefined } = {}): Problem {
  if (o.spectrum) {
    if (name !== 'quadratic') throw new Error(`makeProblem: a spectrum sets the quadratic problem, not ${name}`);
    return diagonalQuadratic(o.spectrum, o.start);
  }
  if (o.start) {
    if (name === 'logistic' || name === 'lad') throw new Error(`makeProblem: problem ${name} keeps its own start`);
    return withStart(makeProblem(name, dim, seed) as QuadraticProblem, o.start);
  }
  switch (name) {
    case 'logistic': return logisticFromData(readLabeledCsv(data ?? DEFAULT_DATA), { positive, mu: LOGISTIC.mu });
    case 'quadratic': return spectrumQuadratic({ eigenvalues: Array.from({ length: dim }, (_, i) => i / Math.max(1, dim - 1)), seed, D: 1 });
    case 'ridge': return ridge({ n: 4 * dim, d: dim, mu: 0.1, seed });
    case 'followup': return followUpQuadratic({ d: dim, seed });
    case 'lad': return ladRegression({ n: 4 * dim, d: dim, seed });
    default: throw new Error(`unknown problem '${name as string}'. Valid: ${PROBLEMS.join(', ')}`);
  }
}
