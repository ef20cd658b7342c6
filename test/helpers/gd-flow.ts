// EoS-1 (Cohen et al.): GD against RK4 gradient flow on chebyshev-3-20 with the `regression` net,
// η = 0.25, compared at steps 0, 200, …, 1400. For one init seed, asserts that GD stays within
// 0.05 × the flow's distance from θ₀ while the flow sharpness is below 2/η, and has left the flow
// (> 5 × the largest distance before, > 0.05 × the flow's distance) once it is above 1.15·2/η.
// Used by the fast single-seed test and the multi-seed acceptance test.
import assert from 'node:assert/strict';
import * as torch from '../../src/core/torch/index.ts';
import * as D from '../../src/core/dynamics/index.ts';

export function assertGdTracksFlowUntilEoS(seed: number): void {
  const data = D.chebyshev(3, 20);
  const obj = D.supervised(D.regressionNet(), data, 'mse');
  const eta = 0.25;
  const keep = Array.from({ length: 8 }, (_, i) => i * 200); // t = 0 … 350
  torch.manualSeed(seed);
  const th0 = obj.init();
  const r = D.runGD(obj, { eta, maxSteps: 1400, theta0: th0, keepAt: keep });
  const fl = D.gradientFlow(obj, th0, { times: keep.map((s) => s * eta), alpha: 2, eigEvery: 50 });
  const dist = keep.map((s, i) => torch.scope(() => r.kept.get(s)!.sub(fl.thetas[i]!).norm().item()));
  const moved = keep.map((_, i) => torch.scope(() => fl.thetas[i]!.sub(th0).norm().item()));
  const below = keep.map((_, i) => i).filter((i) => i > 0 && fl.sharpness[i]! < 2 / eta);
  const above = keep.map((_, i) => i).filter((i) => fl.sharpness[i]! > 1.15 * (2 / eta));
  const report = `seed ${seed}: flow S/(2/η) ${fl.sharpness.map((x) => (x * eta / 2).toFixed(2)).join(' ')}; `
    + `GD–flow distance ${dist.map((x) => x.toExponential(1)).join(' ')}; flow moved ${moved.map((x) => x.toFixed(2)).join(' ')}`;
  assert.ok(below.length >= 3 && above.length >= 1, `precondition; ${report}`);
  const maxBelow = Math.max(...below.map((i) => dist[i]!));
  for (const i of below) assert.ok(dist[i]! <= 0.05 * moved[i]!, `GD stays close to the flow while S < 2/η (t = ${keep[i]! * eta}); ${report}`);
  for (const i of above) {
    assert.ok(dist[i]! > 5 * maxBelow && dist[i]! > 0.05 * moved[i]!, `GD has left the flow at t = ${keep[i]! * eta}; ${report}`);
  }
  torch.dispose(fl.thetas, [...r.kept.values()], r.theta, th0, data.X, data.y);
  obj.dispose?.();
}
