// Acceptance (npm run test:acceptance): GD against gradient flow on EoS-1 (Cohen et al.: GD follows
// the flow while the sharpness is below 2/η and leaves it after), over several init seeds. The fast
// single-seed check is in test/modules/unstable-convergence/eos.test.ts.
//
// Seeds: init seeds 0–3 (4 seeds), η = 0.25, 1400 steps, compared at steps 0, 200, …, 1400 with RK4
// gradient flow. Asserted per seed: at ≥ 3 comparison times the flow sharpness is < 2/η and at ≥ 1 it
// is > 1.15·2/η (precondition); while < 2/η the GD–flow distance ≤ 0.05 × the flow's distance from θ₀;
// once > 1.15·2/η the distance > 5 × the largest distance before and > 0.05 × the flow's distance.
//
// Labels (defined in src/modules/unstable-convergence/README.md): EoS-1 is Cohen et al.'s
// chebyshev-3-20 regression with the `regression` net (MSE, full-batch GD, float64); B-1 / B-2 are
// the unstable-convergence probes of Ahn, Zhang & Sra on it at a large η and on a small-η control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import * as D from '../../../src/core/dynamics/index.ts';

// Over init seeds 0–3. Before the crossing GD is stable (not chaotic) and stays
// within O(η) of the flow; the distance is compared to how far the flow has moved from θ₀. Measured on
// seeds 0–7: while the flow sharpness is below 2/η the GD–flow distance is ≤ 0.024 of the flow's
// distance from θ₀ (0.0072–0.060 in absolute terms: the former absolute bound 0.05 failed on seed 4);
// once it is above 1.15·2/η the distance is ≥ 0.108 of it and ≥ 10× the largest distance before.
test('GD vs gradient flow (RK4), seeds 0–3: GD tracks the flow while sharpness < 2/η and departs from it after the flow sharpness passes 2/η', () => {
  const data = D.chebyshev(3, 20);
  const obj = D.supervised(D.regressionNet(), data, 'mse');
  const eta = 0.25;
  const keep = Array.from({ length: 8 }, (_, i) => i * 200); // t = 0 … 350
  for (const seed of [0, 1, 2, 3]) {
    torch.manualSeed(seed);
    const th0 = obj.init();
    const r = D.runGD(obj, { eta, maxSteps: 1400, theta0: th0, keepAt: keep });
    const fl = D.gradientFlow(obj, th0, { times: keep.map((s) => s * eta), alpha: 2, eigEvery: 50 });
    const dist = keep.map((s, i) => torch.scope(() => r.kept.get(s)!.sub(fl.thetas[i]!).norm().item()));
    const moved = keep.map((_, i) => torch.scope(() => fl.thetas[i]!.sub(th0).norm().item()));
    const below = keep.map((_, i) => i).filter((i) => i > 0 && fl.sharpness[i]! < 2 / eta);
    const above = keep.map((_, i) => i).filter((i) => fl.sharpness[i]! > 1.15 * (2 / eta));
    const report = `seed ${seed}: flow S/(2/η) ${fl.sharpness.map((x) => (x * eta / 2).toFixed(2)).join(' ')}; GD–flow distance ${dist.map((x) => x.toExponential(1)).join(' ')}; flow moved ${moved.map((x) => x.toFixed(2)).join(' ')}`;
    assert.ok(below.length >= 3 && above.length >= 1, `precondition; ${report}`);
    const maxBelow = Math.max(...below.map((i) => dist[i]!));
    for (const i of below) assert.ok(dist[i]! <= 0.05 * moved[i]!, `GD stays close to the flow while S < 2/η (t = ${keep[i]! * eta}); ${report}`);
    for (const i of above) assert.ok(dist[i]! > 5 * maxBelow && dist[i]! > 0.05 * moved[i]!, `GD has left the flow at t = ${keep[i]! * eta}; ${report}`);
    torch.dispose(fl.thetas, [...r.kept.values()], r.theta, th0);
  }
  torch.dispose(data.X, data.y); obj.dispose?.();
});
