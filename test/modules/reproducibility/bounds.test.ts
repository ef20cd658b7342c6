// Spec B.3 (i)–(vi): the deviation inequalities hold on every run pair (relative slack 1e-9), the
// tight constructions meet them with equality, and the SGD closed form matches Monte Carlo.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import type { Tensor } from '../../../src/core/torch/index.ts';
import {
  spectrumQuadratic, ridge, ladRegression, inexactInit, inexactGradient, stochasticGradient, gradientDescent, regularized,
  subgradientAveraged, sgdLast, sgdAveraged, measureDeviation, pairDeviations, gdInitBound, gdInexactBound, gdContraction,
  scInexactBound, regGdInexactBound, subgradientBound, sgdQuadraticDeviation, sgdBound,
  type Optimizer, type Oracle, type Problem,
} from '../../../src/modules/reproducibility/index.ts';

torch.setNumThreads(1);
const SLACK = 1 + 1e-9;

/** Per-pair squared distances at every t = 0..T (t = 0: the starts). */
function perPairTrace(opt: Optimizer, p: Problem, o: Oracle, T: number, R: number, seed: number): Float64Array[] {
  torch.manualSeed(seed);
  const x0 = o.init(p, 2 * R);
  const out: Float64Array[] = [];
  let calls = 0;
  const y = opt.run(x0, (x: Tensor) => o.grad(p, x, calls++), T, {
    recordAt: Array.from({ length: T + 1 }, (_, i) => i), record: (_t, xt) => { out.push(pairDeviations(xt)); },
  });
  torch.dispose(x0, y);
  return out;
}

function randomSpectrum(seed: number, d: number, L: number, withZero: boolean): number[] {
  const ev: number[] = [];
  let s = seed * 7919 + 1;
  for (let i = 0; i < d; i++) { s = (s * 48271) % 2147483647; ev.push((L * s) / 2147483647); }
  ev[0] = withZero ? 0 : ev[0]!;
  ev[d - 1] = L;
  return ev;
}

test('(i) GD is non-expansive: under inexact init every pair stays within its start distance ≤ δ², at every t', () => {
  for (const seed of [1, 2, 3]) {
    const p = spectrumQuadratic({ eigenvalues: randomSpectrum(seed, 6, 2, true), seed });
    const lr = 1.9 / p.constants.L;
    const tr = perPairTrace(gradientDescent({ lr }), p, inexactInit(0.2, 'sphere'), 40, 100, seed);
    for (const dev of tr) for (let i = 0; i < dev.length; i++) {
      assert.ok(dev[i]! <= tr[0]![i]! * SLACK, `pair ${i}: ${dev[i]} > start ${tr[0]![i]}`);
      assert.ok(dev[i]! <= gdInitBound(0.2) * SLACK);
    }
    p.dispose();
  }
});

test('(ii) GD with δ-inexact gradients: ≤ 4η²δ²T² for every pair; equality for ±δ along the flat direction', () => {
  const p = spectrumQuadratic({ eigenvalues: [0, 0.3, 0.7, 1], seed: 4 });
  const lr = 1 / p.constants.L, delta = 0.05, T = 50;
  const rnd = perPairTrace(gradientDescent({ lr }), p, inexactGradient(delta, 'random'), T, 100, 9);
  rnd.forEach((dev, t) => dev.forEach((v) => assert.ok(v <= gdInexactBound(lr, delta, t) * SLACK)));
  const adv = perPairTrace(gradientDescent({ lr }), p, inexactGradient(delta, 'adversarial'), T, 3, 9);
  adv.forEach((dev, t) => dev.forEach((v) => assert.ok(Math.abs(v - gdInexactBound(lr, delta, t)) <= 1e-9 * Math.max(1e-30, gdInexactBound(lr, delta, t)), `t=${t}: ${v} vs ${gdInexactBound(lr, delta, t)}`)));
  p.dispose();
});

test('(iii) strongly convex GD: init deviation ≤ q^{2t}·(start), inexact-gradient deviation ≤ (2ηδ(1−q^t)/(1−q))² with equality along the min eigenvector', () => {
  const p = ridge({ n: 40, d: 5, mu: 0.1, seed: 6 });
  const { L, mu } = p.constants;
  for (const lr of [1 / L, 2 / (L + mu)]) {
    const q = gdContraction(lr, mu, L);
    const init = perPairTrace(gradientDescent({ lr }), p, inexactInit(0.1, 'sphere'), 30, 100, 2);
    init.forEach((dev, t) => dev.forEach((v, i) => assert.ok(v <= q ** (2 * t) * init[0]![i]! * SLACK + 1e-30)));
    const g = perPairTrace(gradientDescent({ lr }), p, inexactGradient(0.1, 'random'), 30, 100, 2);
    g.forEach((dev, t) => dev.forEach((v) => assert.ok(v <= scInexactBound(lr, 0.1, q, t) * SLACK)));
    assert.ok(scInexactBound(lr, 0.1, q, 10_000) <= (2 * 0.1 / mu) ** 2 * SLACK);
    if (lr === 1 / L) {
      const a = perPairTrace(gradientDescent({ lr }), p, inexactGradient(0.1, 'adversarial'), 30, 2, 2);
      a.forEach((dev, t) => dev.forEach((v) => assert.ok(Math.abs(v - scInexactBound(lr, 0.1, q, t)) <= 1e-9 * scInexactBound(lr, 0.1, q, t) + 1e-30)));
    }
  }
  p.dispose();
});

test('(iv) Reg-GD with inexact gradients stays ≤ (2δ/λ)² at every T on a problem with a flat direction', () => {
  const p = spectrumQuadratic({ eigenvalues: [0, 0.5, 1], seed: 8 });
  const lam = 0.05, lr = 1 / (p.constants.L + lam), delta = 0.01;
  for (const mode of ['adversarial', 'random'] as const) {
    const tr = perPairTrace(regularized(gradientDescent({ lr }), lam), p, inexactGradient(delta, mode), 300, mode === 'random' ? 100 : 2, 1);
    tr.forEach((dev, t) => dev.forEach((v) => {
      assert.ok(v <= regGdInexactBound(lr, delta, lam, 0, p.constants.L, t) * SLACK);
      assert.ok(v <= (2 * delta / lam) ** 2 * SLACK);
    }));
    if (mode === 'adversarial') {
      // GD without regularization has left the cap far behind by then
      const gd = gdInexactBound(1 / p.constants.L, delta, 300);
      assert.ok(gd > 10 * (2 * delta / lam) ** 2);
    }
  }
  p.dispose();
});

test('(v) subgradient method on LAD: ‖x_t − x_t′‖² ≤ start + 4η²G²t per pair; averaged ≤ start + 2η²G²(T+1)', () => {
  for (const seed of [1, 2]) {
    const p = ladRegression({ n: 20, d: 4, seed });
    const { G } = p.constants;
    const lr = 0.05, T = 60;
    const last = perPairTrace(gradientDescent({ lr }), p, inexactInit(0.2, 'sphere'), T, 100, seed);
    last.forEach((dev, t) => dev.forEach((v, i) => assert.ok(v <= (last[0]![i]! + 4 * lr * lr * G * G * t) * SLACK)));
    const avg = perPairTrace(subgradientAveraged(lr), p, inexactInit(0.2, 'sphere'), T, 100, seed);
    avg.forEach((dev, t) => dev.forEach((v, i) => assert.ok(v <= subgradientBound(lr, G, t, 'average', avg[0]![i]!) * SLACK)));
    p.dispose();
  }
});

test('(vi) SGD on a quadratic: Monte Carlo over 20,000 pairs within 3 standard errors of the closed form (last and averaged)', () => {
  const p = spectrumQuadratic({ eigenvalues: [0, 0.5, 1], seed: 2 });
  const delta = 0.3, lr = 0.2, T = 30;
  for (const [opt, out] of [[sgdLast(lr), 'last'], [sgdAveraged(lr), 'average']] as const) {
    const r = measureDeviation(opt, p, stochasticGradient(delta), T, { pairs: 20000, seed: 4 });
    const cf = sgdQuadraticDeviation(p.eigen!.values, (delta * delta) / p.d, lr, T, out);
    assert.ok(Math.abs(r.mean - cf) <= 3 * r.stderr, `${out}: MC ${r.mean} ± ${r.stderr} vs closed form ${cf}`);
    assert.ok(r.mean <= sgdBound(lr, delta, T, out));
    // flat direction alone: 2η²s²T (last) or 2η²s²(T+1)(2T+1)/(6T) (average)
    const s2 = (delta * delta) / p.d;
    const flat = out === 'last' ? 2 * lr * lr * s2 * T : (2 * lr * lr * s2 * (T + 1) * (2 * T + 1)) / (6 * T);
    assert.ok(Math.abs(sgdQuadraticDeviation([0], s2, lr, T, out) - flat) <= 16 * Number.EPSILON * flat);
  }
  p.dispose();
});
