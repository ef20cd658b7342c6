// Init jitter: a switch that perturbs every initialisation by a tiny relative amount, so that the
// test suite can be rerun on "another machine's rounding" (scripts/test-jitter.sh). A test of a
// training-dynamics claim must hold for any θ₀ in a small neighbourhood of the seeded one; a test of
// an exact identity must state its tolerance relative to the problem's scale. Neither may depend on
// the last digits of one trajectory, and the jitter makes such a dependence fail here, not on CI.
//
//   PAPERLAB_JITTER=1e-12        relative size ε (unset, empty or 0: off, every call is a no-op)
//   PAPERLAB_JITTER_SEED=3       which perturbation (default 0)
//
// Every initial parameter x is multiplied by (1 + ε·u), u ~ uniform(−1, 1) drawn from a fixed
// stream (Rng(seed), restarted at every call): the same x gets the same jitter, so two inits from
// the same torch seed stay equal (determinism and resume tests keep their meaning) and nothing draws
// from libtorch's generator (every other random stream is unchanged). Entries that are exactly 0 stay
// 0 (a relative perturbation): inits that are all zeros (the tied threshold model, ORFit's default
// w0 = 0) are not perturbed. Read here and nowhere else.
import * as torch from './torch/index.ts';
import type { Tensor } from './torch/index.ts';
import { Rng } from './rng.ts';

/** The relative jitter size ε from PAPERLAB_JITTER (0 when off). Read at each call. */
export function jitterScale(): number {
  const raw = process.env.PAPERLAB_JITTER?.trim();
  if (!raw) return 0;
  const eps = Number(raw);
  if (!(Number.isFinite(eps) && eps >= 0 && eps < 1e-3)) throw new Error(`PAPERLAB_JITTER must be a relative size in [0, 1e-3), got '${raw}'`);
  return eps;
}

function jitterSeed(): number {
  const raw = process.env.PAPERLAB_JITTER_SEED?.trim();
  if (!raw) return 0;
  const s = Number(raw);
  if (!(Number.isInteger(s) && s >= 0)) throw new Error(`PAPERLAB_JITTER_SEED must be a non-negative integer, got '${raw}'`);
  return s;
}

/** n factors 1 + ε·u, u ~ uniform(−1, 1), from the fixed stream. */
function factors(n: number, eps: number, stream: number): Float64Array {
  const rng = new Rng(0x6a177e12 + jitterSeed() + 7919 * stream);
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) f[i] = 1 + eps * (2 * rng.random() - 1);
  return f;
}

export interface JitterOptions {
  /**
   * Tensors only: draw one factor per entry of a row and apply the same factors to every row (the
   * first axis indexes independent runs that must start from the same point, e.g. the pairs of the
   * reproducibility harness).
   */
  sameRows?: boolean;
  /** which fixed stream (default 0): give the blocks of one init different streams */
  stream?: number;
}

/**
 * Perturbs an initialisation in place by a relative PAPERLAB_JITTER (no-op when unset) and returns
 * it. Tensors are changed under noGrad (leaf parameters included); float tensors only.
 */
export function jitterInit<T extends Tensor | Float64Array>(x: T, o: JitterOptions = {}): T {
  const eps = jitterScale();
  if (eps === 0) return x;
  if (x instanceof Float64Array) {
    const f = factors(x.length, eps, o.stream ?? 0);
    for (let i = 0; i < x.length; i++) x[i]! *= f[i]!;
    return x;
  }
  const t = x as Tensor;
  if (t.dtype !== 'float64' && t.dtype !== 'float32') return x;
  const rowShape = o.sameRows && t.ndim >= 1 ? t.shape.slice(1) : t.shape;
  const n = rowShape.reduce((a, b) => a * b, 1);
  if (n === 0) return x;
  torch.noGrad(() => torch.scope(() => {
    t.mul_(torch.tensor(factors(n, eps, o.stream ?? 0), { shape: rowShape, dtype: 'float64' }));
  }));
  return x;
}
