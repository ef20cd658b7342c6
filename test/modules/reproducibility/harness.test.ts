import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import {
  spectrumQuadratic, ridge, ladRegression, stochasticGradient, inexactInit, inexactGradient, sgdAveraged, gradientDescent,
  fromTorchOptim, measureDeviation, meanInterval, fitLogLog, correlation, tQuantile975, pairDeviations,
} from '../../../src/modules/reproducibility/index.ts';

torch.setNumThreads(1);

test('same seed gives bit-identical results; a different seed gives different draws', () => {
  const p = spectrumQuadratic({ eigenvalues: [0, 0.5, 1], seed: 3 });
  const run = (seed: number) => measureDeviation(sgdAveraged(0.05), p, stochasticGradient(0.2), 100, { pairs: 300, seed, epsilon: 0.1, recordAt: [10, 50] });
  const a = run(7), b = run(7), c = run(8);
  assert.deepEqual(Array.from(a.deviations), Array.from(b.deviations));
  assert.deepEqual(Array.from(a.suboptimality.perRun), Array.from(b.suboptimality.perRun));
  assert.equal(a.mean, b.mean);
  assert.deepEqual(a.trace, b.trace);
  assert.notEqual(a.mean, c.mean);
  assert.ok(a.deviations.every((v, i) => v !== c.deviations[i]));
  p.dispose();
});

test('the two runs of a pair draw independent oracle noise (correlation ≈ 0), rows have the right variance', () => {
  const p = spectrumQuadratic({ eigenvalues: [0, 1, 2, 3], seed: 1 });
  const o = stochasticGradient(0.4);
  torch.manualSeed(11);
  const R = 5000;
  const x = o.init(p, 2 * R);
  const noise = torch.scope(() => o.grad(p, x, 0).sub(p.grad(x)));
  const a = torch.scope(() => noise.narrow(0, 0, R).flatten().toFloat64Array());
  const b = torch.scope(() => noise.narrow(0, R, R).flatten().toFloat64Array());
  const r = correlation(a, b);
  assert.ok(Math.abs(r) < 4 / Math.sqrt(a.length), `correlation ${r}`);
  // E‖ξ‖² = δ² exactly by construction: check within 3 standard errors
  const sq = torch.scope(() => noise.square().sum(1).toFloat64Array());
  const st = meanInterval(sq);
  assert.ok(Math.abs(st.mean - 0.16) < 3 * st.stderr, `E|xi|^2 = ${st.mean}`);
  // successive calls are fresh draws too
  const n2 = torch.scope(() => o.grad(p, x, 1).sub(p.grad(x)).narrow(0, 0, R).flatten().toFloat64Array());
  assert.ok(Math.abs(correlation(a, n2)) < 4 / Math.sqrt(a.length));
  torch.dispose(x, noise);
  p.dispose();
});

test('init oracles: starts within δ/2 of u0, pairs at most δ apart; gradient oracles within δ', () => {
  const p = ridge({ n: 30, d: 6, mu: 0.2, seed: 2 });
  torch.manualSeed(0);
  for (const mode of ['sphere', 'antipodal', 'adversarial'] as const) {
    const x0 = inexactInit(0.3, mode).init(p, 200);
    const off = torch.scope(() => x0.sub(p.u0.unsqueeze(0)).norm(2, 1).toFloat64Array());
    assert.ok(off.every((v) => Math.abs(v - 0.15) < 1e-12), mode);
    const dev = pairDeviations(x0);
    assert.ok(dev.every((v) => v <= 0.09 + 1e-12), mode);
    if (mode !== 'sphere') assert.ok(dev.every((v) => Math.abs(v - 0.09) < 1e-12), mode);
    x0.dispose();
  }
  for (const mode of ['adversarial', 'random'] as const) {
    const o = inexactGradient(0.3, mode);
    const x = o.init(p, 100);
    const err = torch.scope(() => o.grad(p, x, 0).sub(p.grad(x)).norm(2, 1).toFloat64Array());
    assert.ok(err.every((v) => Math.abs(v - 0.3) < 1e-12), mode);
    x.dispose();
  }
  p.dispose();
});

test('statistics: t quantile, interval coverage shape, log-log slope', () => {
  assert.ok(Math.abs(tQuantile975(10) - 2.228139) < 2e-3);
  assert.ok(Math.abs(tQuantile975(30) - 2.042272) < 1e-3);
  assert.ok(Math.abs(tQuantile975(1e6) - 1.959964) < 1e-5);
  const xs = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  const st = meanInterval(xs);
  assert.equal(st.mean, 5.5);
  assert.ok(st.lo < 5.5 && st.hi > 5.5 && Math.abs(st.hi - 5.5 - tQuantile975(9) * st.stderr) < 1e-12);
  const bs = meanInterval(xs, 'bootstrap', 1);
  assert.ok(bs.lo < 5.5 && bs.hi > 5.5 && bs.lo > 3 && bs.hi < 8);
  const f = fitLogLog([1, 10, 100], [3, 0.3, 0.03]);
  assert.ok(Math.abs(f.slope + 1) < 1e-12 && Math.abs(f.r2 - 1) < 1e-12);
});

test('any facade optimizer drops in: torch.optim.SGD equals our GD bit for bit; Adam runs; no tensor leak', () => {
  const p = spectrumQuadratic({ eigenvalues: [0, 0.4, 1], seed: 5 });
  const o = stochasticGradient(0.1);
  const before = torch.liveTensors();
  const a = measureDeviation(gradientDescent({ lr: 0.3 }), p, o, 60, { pairs: 50, seed: 1 });
  const b = measureDeviation(fromTorchOptim('torch.optim.SGD', (ps) => new torch.optim.SGD(ps, { lr: 0.3 })), p, o, 60, { pairs: 50, seed: 1 });
  assert.deepEqual(Array.from(a.deviations), Array.from(b.deviations));
  const c = measureDeviation(fromTorchOptim('torch.optim.Adam', (ps) => new torch.optim.Adam(ps, { lr: 0.01 })), p, o, 60, { pairs: 50, seed: 1 });
  assert.ok(Number.isFinite(c.mean) && c.mean > 0 && c.calls === 60);
  assert.equal(torch.liveTensors(), before);
  p.dispose();
});

test('bad input is rejected with a clear message', () => {
  const p = ladRegression({ n: 10, d: 3, seed: 0 });
  assert.throws(() => spectrumQuadratic({ eigenvalues: [0, Number.NaN] }), /eigenvalues\[1\]/);
  assert.throws(() => spectrumQuadratic({ eigenvalues: [-1, 1] }), /eigenvalues\[0\]/);
  assert.throws(() => ladRegression({ n: 2, d: 3 }), /n >= d/);
  assert.throws(() => stochasticGradient(Number.NaN), /delta/);
  assert.throws(() => gradientDescent({ lr: -1 }), /lr/);
  assert.throws(() => measureDeviation(gradientDescent({ lr: 0.1 }), p, stochasticGradient(0.1), 1.5), /budget/);
  assert.throws(() => measureDeviation(gradientDescent({ lr: 0.1 }), p, stochasticGradient(0.1), 10, { pairs: 0 }), /pairs/);
  assert.throws(() => p.value(torch.zeros([4, 5], { dtype: 'float64' })), /shape \[B, 3\]/);
  const q = spectrumQuadratic({ eigenvalues: [0, 1] });
  assert.throws(() => measureDeviation(gradientDescent({ lr: 5 }), q, stochasticGradient(0.1), 2000, { pairs: 2 }), /diverged/);
  p.dispose(); q.dispose();
});
