// The three error-prone oracles of Ahn et al. 2022 (each of size δ), vectorized over runs.
//
// A batch holds B = 2R runs: rows 0..R−1 are the first run of each pair, rows R..2R−1 the second
// (pair i = rows i and R+i). Random oracles draw every row from libtorch's generator, seeded once
// per measurement, so the two runs of a pair use disjoint (independent) draws and the same seed
// reproduces every draw bit for bit.
//   1. δ-inexact initialization: x0 with ‖x0 − u0‖ ≤ δ/2 (two runs start at most δ apart), exact gradients.
//   2. δ-inexact deterministic gradient: ‖G(x) − ∇F(x)‖ ≤ δ at every query, possibly adversarial.
//   3. δ-inexact stochastic gradient: unbiased, E‖g − ∇F(x)‖² ≤ δ², fresh independent noise per call.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { Problem } from './problems/index.ts';
import { ORACLES, type OracleName } from './config.ts';

export { ORACLES, type OracleName };

export type OracleKind = 'init' | 'gradient' | 'stochastic';

/**
 * Finite-sum access for methods that need more than one minibatch gradient per point (variance
 * reduction): sample indices, component gradients at any point for a given sample (1 call each),
 * and the full gradient (⌈n/m⌉ calls). The harness counts these calls against the budget.
 */
export interface FiniteSumAccess {
  readonly n: number;
  readonly batch: number;
  sample(B: number): Tensor;
  component(x: Tensor, idx: Tensor): Tensor;
  full(x: Tensor): Tensor;
}

export interface Oracle {
  /** finite sums only (minibatch oracle) */
  readonly finiteSum?: FiniteSumAccess;
  readonly kind: OracleKind;
  readonly name: string;
  readonly delta: number;
  /** starting points [B, d] for B runs (B even; pairs are rows i and B/2 + i) */
  init(problem: Problem, B: number): Tensor;
  /** the oracle's answer at x [B, d] on its t-th call (t = 0, 1, ...) */
  grad(problem: Problem, x: Tensor, t: number): Tensor;
}

const F64 = { dtype: 'float64' as const };

function checkDelta(name: string, delta: number): void {
  if (!(Number.isFinite(delta) && delta >= 0)) throw new Error(`${name}: delta must be a finite number >= 0, got ${delta}`);
}

function repeatStart(problem: Problem, B: number): Tensor {
  if (!(Number.isInteger(B) && B >= 2 && B % 2 === 0)) throw new Error(`oracle: batch size must be an even integer >= 2, got ${B}`);
  return torch.scope(() => problem.u0.unsqueeze(0).expand(B, problem.d).contiguous());
}

/** Random unit vectors [n, d] (uniform on the sphere). */
function unitRows(n: number, d: number): Tensor {
  return torch.scope(() => {
    const z = torch.randn([n, d], F64);
    return z.div(z.norm(2, 1, true));
  });
}

/** The lower-bound direction: the problem's flattest direction, else e_1. */
function adversarialDirection(problem: Problem): Tensor {
  if (problem.flatDirection) return problem.flatDirection.clone();
  const e = new Float64Array(problem.d);
  e[0] = 1;
  return torch.tensor(e, F64);
}

/** ± a vector on the two halves of the batch: [B, d] with rows +v (first runs) and −v (second runs). */
function opposite(v: Tensor, B: number): Tensor {
  return torch.scope(() => {
    const R = B / 2;
    const s = torch.cat([torch.ones([R, 1], F64), torch.full([R, 1], -1, F64)], 0);
    return s.mul(v.unsqueeze(0));
  });
}

// ------------------------------------------------------------------ 1. inexact initialization
export type InitMode = 'sphere' | 'antipodal' | 'adversarial';

/**
 * δ-inexact initialization with exact gradients.
 * - 'sphere': each run starts uniformly on the sphere of radius δ/2 around u0.
 * - 'antipodal': the pair starts at u0 ± (δ/2)v, v a random unit vector (distance exactly δ).
 * - 'adversarial': u0 ± (δ/2)e along the flattest direction (distance exactly δ, never contracted).
 */
export function inexactInit(delta: number, mode: InitMode = 'sphere'): Oracle {
  checkDelta('inexactInit', delta);
  return {
    kind: 'init', name: `init-${mode}(δ=${delta})`, delta,
    init(problem, B) {
      return torch.scope(() => {
        const u = repeatStart(problem, B);
        const R = B / 2;
        let dir: Tensor;
        if (mode === 'sphere') dir = unitRows(B, problem.d);
        else if (mode === 'antipodal') { const v = unitRows(R, problem.d); dir = torch.cat([v, v.neg()], 0); } else if (mode === 'adversarial') dir = opposite(adversarialDirection(problem), B);
        else throw new Error(`inexactInit: unknown mode '${mode as string}' (sphere, antipodal, adversarial)`);
        return u.add(dir.mul(delta / 2));
      });
    },
    grad(problem, x) { return problem.grad(x); },
  };
}

/**
 * δ-inexact initialization along a given direction v: the pair starts at u0 ± (δ/2)v/‖v‖ (distance
 * exactly δ), exact gradients. On a quadratic with v an eigenvector of eigenvalue λ, GD at step η keeps
 * the gap on v: the deviation after T steps is (1 − ηλ)^{2T}δ².
 */
export function inexactInitAlong(delta: number, direction: readonly number[]): Oracle {
  checkDelta('inexactInitAlong', delta);
  const norm = Math.hypot(...direction);
  if (!(norm > 0 && Number.isFinite(norm))) throw new Error('inexactInitAlong: the direction must be finite and non-zero');
  return {
    kind: 'init', name: `init-direction(δ=${delta})`, delta,
    init(problem, B) {
      if (direction.length !== problem.d) throw new Error(`init-direction: the direction has ${direction.length} numbers, the problem's dimension is ${problem.d}`);
      return torch.scope(() => repeatStart(problem, B).add(opposite(torch.tensor(direction.map((v) => v / norm), F64), B).mul(delta / 2)));
    },
    grad(problem, x) { return problem.grad(x); },
  };
}

// ------------------------------------------------------------------ 2. inexact deterministic gradient
export type GradientErrorMode = 'adversarial' | 'random' | 'ones';

/**
 * δ-inexact deterministic gradients, exact start u0.
 * - 'adversarial': constant error +δe in the first run, −δe in the second, e the flattest Hessian
 *   direction (the construction that makes bound (ii) of bounds.ts an equality).
 * - 'random': a fresh random direction of norm exactly δ per call and run.
 * - 'ones' (Zhang et al. 2023's experiment, E6 here): the first run gets ∇F + δ·𝟙, the second the exact gradient (the
 *   deviation is then measured against the exact trajectory). Note ‖δ·𝟙‖ = δ√d.
 */
export function inexactGradient(delta: number, mode: GradientErrorMode = 'adversarial'): Oracle {
  checkDelta('inexactGradient', delta);
  const fixedError = (problem: Problem, B: number): Tensor => {
    if (mode === 'adversarial') return opposite(adversarialDirection(problem), B).mul(delta);
    const R = B / 2;
    return torch.cat([torch.full([R, problem.d], delta, F64), torch.zeros([R, problem.d], F64)], 0);
  };
  if (!['adversarial', 'random', 'ones'].includes(mode)) throw new Error(`inexactGradient: unknown mode '${mode}' (adversarial, random, ones)`);
  return {
    kind: 'gradient', name: `grad-${mode}(δ=${delta})`, delta,
    init(problem, B) { return repeatStart(problem, B); },
    grad(problem, x) {
      const B = x.shape[0]!;
      if (mode === 'random') return torch.scope(() => problem.grad(x).add(unitRows(B, problem.d).mul(delta)));
      return torch.scope(() => problem.grad(x).add(fixedError(problem, B)));
    },
  };
}

// ------------------------------------------------------------------ 3. stochastic gradient
/**
 * δ-inexact stochastic gradients: ∇F(x) + ξ with ξ ~ N(0, (δ²/d)·I) fresh per call and run, so
 * E‖ξ‖² = δ² exactly (per-coordinate variance s² = δ²/d, as in sgdQuadraticDeviation of bounds.ts).
 */
export function stochasticGradient(delta: number): Oracle {
  checkDelta('stochasticGradient', delta);
  return {
    kind: 'stochastic', name: `stochastic-gaussian(δ=${delta})`, delta,
    init(problem, B) { return repeatStart(problem, B); },
    grad(problem, x) {
      const s = delta / Math.sqrt(problem.d);
      // ∇F(x) is a fresh tensor: the noise is added to it in place
      return torch.scope(() => problem.grad(x).add_(torch.randn(x.shape, F64), s));
    },
  };
}

/**
 * Minibatch sampling from a finite sum: the mean of m component gradients drawn uniformly with
 * replacement, fresh per call and run. Its variance depends on x; `delta` is the largest exact
 * minibatch standard deviation at u0 and x* (an estimate of the sup over the path, reported).
 */
export function minibatchGradient(problem: Problem, batch: number): Oracle {
  if (!problem.componentGrad || !problem.minibatchVariance || !problem.n) {
    throw new Error(`minibatchGradient: ${problem.name} is not a finite sum (no component gradients)`);
  }
  if (!(Number.isInteger(batch) && batch >= 1)) throw new Error(`minibatchGradient: batch must be an integer >= 1, got ${batch}`);
  const xs = (problem as { xStar?: Tensor }).xStar;
  const v = Math.max(problem.minibatchVariance(problem.u0, batch), xs ? problem.minibatchVariance(xs, batch) : 0);
  const n = problem.n;
  return {
    kind: 'stochastic', name: `minibatch(m=${batch}, δ≈${Math.sqrt(v).toPrecision(3)})`, delta: Math.sqrt(v),
    finiteSum: {
      n, batch,
      sample: (B) => torch.randint(0, n, [B, batch]),
      component: (x, idx) => problem.componentGrad!(x, idx),
      full: (x) => problem.grad(x),
    },
    init(p, B) { return repeatStart(p, B); },
    grad(p, x) {
      return torch.scope(() => p.componentGrad!(x, torch.randint(0, n, [x.shape[0]!, batch])));
    },
  };
}

/** The oracle of a name in ORACLES (config.ts) with error size δ. */
export function makeOracle(name: OracleName, delta: number): Oracle {
  switch (name) {
    case 'init-sphere': return inexactInit(delta, 'sphere');
    case 'init-antipodal': return inexactInit(delta, 'antipodal');
    case 'init-adversarial': return inexactInit(delta, 'adversarial');
    case 'grad-adversarial': return inexactGradient(delta, 'adversarial');
    case 'grad-random': return inexactGradient(delta, 'random');
    case 'grad-ones': return inexactGradient(delta, 'ones');
    case 'stochastic': return stochasticGradient(delta);
    default: throw new Error(`unknown oracle '${name as string}'. Valid: ${ORACLES.join(', ')}`);
  }
}
