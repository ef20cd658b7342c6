// Sparse-coding classification data of Ahn et al. (2023), eq. (1) [paper]:
//   x = λ·y·e_j + ξ,  y ~ U{−1, +1},  j ~ U{1..d},  ξ ~ N(0, I_d).
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { Rng } from '../../core/rng.ts';

export interface SparseCodingData {
  X: Tensor;      // [n, d] float64
  y: Tensor;      // [n] float64 in {−1, +1}
  j: Int32Array;  // planted coordinate per example
}

export function sparseCoding(rng: Rng, n: number, d: number, lambda: number): SparseCodingData {
  if (!(Number.isInteger(n) && n >= 1)) throw new Error(`sparse coding: n must be a positive integer, got ${n}`);
  if (!(Number.isInteger(d) && d >= 1)) throw new Error(`sparse coding: d must be a positive integer, got ${d}`);
  if (!(lambda >= 0 && Number.isFinite(lambda))) throw new Error(`sparse coding: signal strength lambda must be ≥ 0, got ${lambda}`);
  const X = rng.normals(n * d);
  const y = new Float64Array(n);
  const j = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = rng.random() < 0.5 ? -1 : 1;
    j[i] = rng.int(0, d);
    X[i * d + j[i]!]! += lambda * y[i]!;
  }
  return { X: torch.tensor(X, { shape: [n, d] }), y: torch.tensor(y), j };
}

/** Φ(λ/√d): accuracy of the linear score Σᵢ xᵢ (the "no threshold" classifier). */
export function linearAccuracy(lambda: number, d: number): number {
  return 0.5 * (1 + erf(lambda / Math.sqrt(d) / Math.SQRT2));
}

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse; use a series/continued fraction via the complementary function.
  const t = 1 / (1 + 0.5 * Math.abs(x));
  const tau = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
    + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - tau : tau - 1;
}
