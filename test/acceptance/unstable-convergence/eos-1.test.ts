// Acceptance (npm run test:acceptance): EoS-1, the edge of stability of Cohen et al. on
// chebyshev-3-20, over several init seeds. The fast single-run check of the same claim is in
// test/modules/unstable-convergence/eos.test.ts.
//
// Seeds: init seeds 0–3 (4 seeds; the data is fixed). Per seed a small-η reference run (η = 0.1,
// time 400) and runs at η = 0.3 and 0.5 (time 400, sharpness every 10 steps). Asserted per seed and η:
//   - the small-η run stays below its 2/η = 20 and ends above 1.3·2/η of the large η (precondition)
//   - crossing of 2/η at ≤ 0.65 (η = 0.3) / 0.3 (η = 0.5) of the run
//   - window median S/(2/η) in [0.95, 1.15]; p10 ≥ 0.75, p90 ≤ 1.4; p90·2/η < 0.8 × the small-η end
//   - loss up on ≥ 2 % of the window's steps; last-tenth loss < 0.15·L₀ (η = 0.3) / 0.5·L₀ (η = 0.5)
//   - η = 0.3: window loss last quarter < first quarter; η = 0.5: cos(g_t, g_t+1) < 0 on ≥ 25 % and
//     loss up on ≥ 10 % of the window's steps.
//
// Labels (defined in src/modules/unstable-convergence/README.md): EoS-1 is Cohen et al.'s
// chebyshev-3-20 regression with the `regression` net (MSE, full-batch GD, float64); B-1 / B-2 are
// the unstable-convergence probes of Ahn, Zhang & Sra on it at a large η and on a small-η control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import * as D from '../../../src/core/dynamics/index.ts';
import { eosStats, describeEos } from '../../modules/unstable-convergence/helpers.ts';

// EoS-1 over four init seeds (0–3), asserted per seed with margins measured over seeds
// 0–7 and 1e-12 init perturbations (PAPERLAB_JITTER), at 1 and 2 threads, with and without
// OPENBLAS_CORETYPE=Haswell. GD at the edge of stability is chaotic: any of these changes every
// sample of the trajectory after a few hundred steps, so only windowed statistics are asserted (the
// EoS window: crossing of 2/η → end of the run; sharpness every 10 steps). Two step sizes, because
// this problem shows the two faces of EoS in different places:
// - η = 0.3 (2/η = 6.67): self-stabilisation in catapults. S climbs past 2/η to ≈ 1.2·2/η, a loss
//   spike (×30–80 over ~20 steps) knocks it back to ≈ 0.9·2/η, and it climbs again; loss up on
//   4–18 % of steps. Measured (8 seeds + perturbations): window median S/(2/η) 0.985–1.049, p10 ≥ 0.817,
//   p90 ≤ 1.192, peak ≤ 1.246, crossing at ≤ 0.51 of the run; the loss goes down over the window
//   (median of its last quarter / first quarter 0.78–0.95) and over the run (last tenth ≤ 0.074·L₀).
// - η = 0.5 (2/η = 4; θ₀ starts at 0.68–0.92·2/η): sustained period-2 oscillation, cos(g_t, g_t+1) < 0
//   on 37–78 % of the window's steps and the loss up on 18–36 %. Measured: median S/(2/η) 1.002–1.094,
//   p10 ≥ 0.868, p90 ≤ 1.306, crossing at ≤ 0.19 of the run, last tenth ≤ 0.32·L₀ (the overshoot
//   right after the crossing, 1.33–1.86, grows from rounding-level amplitude and is not bounded). The
//   paper's "loss keeps decreasing over long timescales" does NOT hold here: the last quarter of the
//   window sits above the first in 6 of 8 seeds (×0.82–1.66), and runs of time 1600 show the loss
//   creeping up (e.g. 0.058 → 0.083) while S stays at 1.04–1.12·2/η. So at η = 0.5 the loss is
//   asserted only over the run, and the window trend is printed. (The previous single-seed test ran
//   η = 0.25, where GD spends ~90 % of the window below-the-edge between one or two catapults, and
//   asserted the loss at the last step — which on one BLAS was the top of a catapult.)
test('EoS on chebyshev-3-20 (seeds 0–3): where the small-η sharpness exceeds 2/η, the large-η sharpness hovers at 2/η (catapults at η = 0.3, sustained oscillation at η = 0.5) and the loss still decreases', () => {
  const data = D.chebyshev(3, 20);
  const obj = D.supervised(D.regressionNet(), data, 'mse');
  const T = 400; // time η·steps of every run
  for (const seed of [0, 1, 2, 3]) {
    torch.manualSeed(seed);
    const theta0 = obj.init();
    // small-η reference run (its 2/η = 20): stays stable while its sharpness rises (progressive
    // sharpening) past both 2/η below; measured at its end 11.3–12.1 (seeds 0–7), from 2.7–3.7
    const small = D.runGD(obj, { eta: 0.1, maxSteps: T / 0.1, eigFreq: 400, neigs: 1, eigTol: 1e-6, theta0 });
    const sSmall = small.trace.filter((r) => r.sharpness !== undefined).map((r) => r.sharpness!);
    assert.ok(Math.max(...sSmall) < 20, `seed ${seed}: the small-η run stays below its 2/η: ${sSmall.map((x) => x.toFixed(2))}`);
    for (const eta of [0.3, 0.5]) {
      const mss = 2 / eta;
      assert.ok(sSmall.at(-1)! > 1.3 * mss, `seed ${seed}: precondition: small-η sharpness ${sSmall.at(-1)} ends above 1.3·2/η = ${1.3 * mss}`);
      const big = D.runGD(obj, { eta, maxSteps: Math.round(T / eta), eigFreq: 10, neigs: 1, eigTol: 1e-6, theta0 });
      assert.equal(big.stopReason, 'maxSteps');
      const s = eosStats(big.trace, mss);
      const msg = `seed ${seed}, η = ${eta}: ${describeEos(s)}`;
      console.log(`EoS-1 ${msg}`);
      assert.ok(s.crossStep !== null && s.crossStep <= (eta === 0.3 ? 0.65 : 0.3) * s.lastStep, `sharpness reaches 2/η; ${msg}`);
      // it hovers at 2/η instead of following the small-η run up
      assert.ok(s.median >= 0.95 && s.median <= 1.15, `median S/(2/η) in [0.95, 1.15]; ${msg}`);
      assert.ok(s.p10 >= 0.75 && s.p90 <= 1.4, `S/(2/η) p10–p90 within [0.75, 1.4]; ${msg}`);
      assert.ok(s.p90 * mss < 0.8 * sSmall.at(-1)!, `while the small-η run went on sharpening (${sSmall.at(-1)}); ${msg}`);
      // the loss: non-monotone in the window, down over the run
      assert.ok(s.upFrac >= 0.02, `non-monotone loss at the edge of stability; ${msg}`);
      assert.ok(s.lossLastTenth < (eta === 0.3 ? 0.15 : 0.5) * s.loss0, `the loss decreases over the run; ${msg}`);
      if (eta === 0.3) {
        // and over the window (long timescale) in the catapult regime
        assert.ok(s.lossLastQuarter < s.lossFirstQuarter, `loss decreases over the EoS window; ${msg}`);
      } else {
        // sustained EoS: the gradient flips sign along the sharp direction on a large share of steps
        assert.ok(s.negCosFrac >= 0.25 && s.upFrac >= 0.1, `sustained oscillation; ${msg}`);
      }
      big.theta.dispose();
    }
    torch.dispose(small.theta, theta0);
  }
  torch.dispose(data.X, data.y); obj.dispose?.();
});
