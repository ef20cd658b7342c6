// Acceptance (npm run test:acceptance): EoS-2 and EoS-3 (labels defined in
// src/modules/unstable-convergence/README.md) — Cohen et al.'s edge of stability on a deep linear
// net and on an fc-tanh net (MSE against CE) — over several init seeds, at CI size. The fast
// single-seed checks are in test/modules/unstable-convergence/eos-2-3.test.ts.
//
// Seeds and intervals asserted:
// - EoS-2: init seeds 0–2 (3 seeds; data seed 0). Per seed: the small-η run (η = 5e-5) stays below its
//   2/η, starts below and ends above 1.1× the large run's 2/η = 10 000; the large run (η = 2e-4, 400
//   steps) crosses 2/η by step 100; window median S/(2/η) in [0.95, 1.2]; second-half median in
//   [0.95, 1.2] with every sample in [0.85, 1.4]; cos(g_t, g_t+1) < 0 on ≥ 30 % of the window; some
//   loss increase; window last-quarter loss < 0.8 × first quarter; last-tenth loss < 0.6·L₀; no
//   tensor leaks.
// - EoS-3: init seeds 0–2 (3 seeds; data seed 0). Per seed at η = 0.2 (500 steps): MSE sharpness
//   rises at every sample from step 100 and more than doubles, below 2/η; both losses reach train
//   accuracy ≥ 0.99; CE sharpness stays < 0.25·2/η and ends < 0.5 × its peak; MSE ends > 5× CE; the
//   MSE end > 1.2 × the 2/η of η = 0.4. At η = 0.4 (MSE, 500 steps): crossing by step 300;
//   second-half median S/(2/η) in [0.95, 1.1] with samples in [0.85, 1.25]; window median in
//   [0.95, 1.15]; cos < 0 on ≥ 40 % and loss up on ≥ 10 % of the window; window last-quarter loss
//   < 0.5 × first quarter.
//
// EoS-2: linear-50-50 with the reference `deeplinear` net (20 bias-free 50×50 layers,
// Xavier-normal, 50 000 parameters), MSE, full-batch GD in float64, sharpness by Lanczos on HVPs.
//
// CI-size protocol (what was cut from the EoS-1 protocol): per init seed, one EoS run of 400 steps
// (time η·t = 0.08) with the sharpness every 20 steps, and a small-η reference run of 300 steps
// (time 0.015) with the sharpness every 150 steps, instead of long runs over an η grid with eigFreq
// 10. Lanczos stops at a relative residual of 1e-3, which bounds the eigenvalue error by 1e-3·λ — two
// orders below the bands. Data seed 0 (reference make_linear_dataset), init seeds 0–2.
//
// Both tests assert windowed statistics per seed (helpers.ts), with bounds set from measurements over
// more seeds and 1e-12 init perturbations; see the comment above each test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import * as D from '../../../src/core/dynamics/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import { eosStats, describeEos } from '../../modules/unstable-convergence/helpers.ts';

// Measured on init seeds 0–7 (seeds 4–5 with a 1e-12 init jitter): crossing at step 20–60; window
// median S/(2/η) 1.048–1.142, second half median 1.043–1.136 ("at or slightly above 2/η") with every
// sample in 1.010–1.267; cos(g_t, g_t+1) < 0
// on 47–88 % of the window's steps; median loss of the window's last quarter / first quarter
// 0.55–0.64; last-tenth loss ≤ 0.44·L₀; small-η sharpness at its end 12 556–31 791 (2/η = 10 000).
// The overshoot right after the crossing is reported, not bounded: the unstable component grows from
// rounding-level amplitude, so its size depends on the BLAS (seed 2 peaks at 2.16·2/η with
// OPENBLAS_CORETYPE=Haswell and at 3.09·2/η without; 1.43–2.03 for the other seeds); "no runaway" is
// the plateau bound. (The single-seed test this replaces required every second-half sample in
// [0.9, 1.1] and a peak below 2: seeds 1, 2, 4 and 7 break one or the other.) A 1e-12 init jitter
// leaves the printed statistics unchanged here, so robustness is over seeds.
test('EoS-2 deeplinear on linear-50-50 (seeds 0–2): where the small-η sharpness exceeds 2/η, the η run hovers at or slightly above 2/η while the loss still decreases', () => {
  const data = D.linearTask(new Rng(0), 50, 50);
  const obj = D.supervised(D.deepLinearNet(20, 50), data, 'mse');
  assert.equal(obj.dim, 50_000);
  const etaSmall = 5e-5, eta = 2e-4, mss = 2 / eta;
  for (const seed of [0, 1, 2]) {
    torch.manualSeed(seed);
    const theta0 = obj.init();
    const live = torch.liveTensors();
    // small-η reference (2/η = 40 000): stable, and its sharpness (progressive sharpening, ≈ gradient
    // flow) rises past the big run's 2/η = 10 000 within the first fifth of the big run's time
    const small = D.runGD(obj, { eta: etaSmall, maxSteps: 300, eigFreq: 150, neigs: 1, eigTol: 1e-3, theta0 });
    const sSmall = small.trace.filter((r) => r.sharpness !== undefined).map((r) => r.sharpness!);
    assert.ok(Math.max(...sSmall) < 2 / etaSmall, `seed ${seed}: small-η run stays below its 2/η: ${sSmall}`);
    assert.ok(sSmall[0]! < mss && sSmall.at(-1)! > 1.1 * mss, `seed ${seed}: small-η sharpness rises past 2/η = ${mss}: ${sSmall.map((x) => x.toFixed(0))}`);

    const big = D.runGD(obj, { eta, maxSteps: 400, eigFreq: 20, neigs: 1, eigTol: 1e-3, theta0 });
    assert.equal(big.stopReason, 'maxSteps');
    const s = eosStats(big.trace, mss);
    const msg = `seed ${seed}: ${describeEos(s)}`;
    console.log(`EoS-2 η=${eta} ${msg}; small-η S ${sSmall.map((x) => x.toFixed(0)).join(' ')}`);
    assert.ok(s.crossStep !== null && s.crossStep <= 100, `sharpness reaches 2/η early; ${msg}`);
    // The window runs from the first sample with S ≥ 2/η to the end of the run. Right after the
    // crossing the sharpness overshoots (the unstable component grows from ~0 before it can act);
    // the plateau is the window's second half.
    assert.ok(s.median >= 0.95 && s.median <= 1.2, `window median S/(2/η) in [0.95, 1.2]; ${msg}`);
    assert.ok(s.halfMedian >= 0.95 && s.halfMedian <= 1.2 && s.halfMin >= 0.85 && s.halfMax <= 1.4, `plateau (no runaway): median in [0.95, 1.2], every sample in [0.85, 1.4]; ${msg}`);
    assert.ok(s.negCosFrac >= 0.3, `GD oscillates along the sharp direction; ${msg}`);
    // the loss: non-monotone in the window, yet down over the window and over the run
    assert.ok(s.upFrac > 0, `non-monotone loss at the edge of stability; ${msg}`);
    assert.ok(s.lossLastQuarter < 0.8 * s.lossFirstQuarter, `loss decreases over the EoS window; ${msg}`);
    assert.ok(s.lossLastTenth < 0.6 * s.loss0, `and over the run; ${msg}`);
    torch.dispose(small.theta, big.theta);
    assert.equal(torch.liveTensors(), live, 'no tensors leak across the runs');
    theta0.dispose();
  }
  torch.dispose(data.X, data.y); obj.dispose?.();
});

// EoS-3: a 10-class Gaussian mixture (d = 32, class means of norm ≈ 3, unit noise) with fc-tanh,
// MSE against CE. CI size (what was cut): n = 200 training points instead of ≈ 1000 and two hidden
// layers of width 64 instead of 200 (6 922 parameters instead of ≈ 49 000); runs of 500 steps; the
// sharpness every 25 steps on the EoS run and every 100 steps on the others. Same θ₀ for all runs of
// a seed; init seeds 0–2. Measured on seeds 0–5 and on seeds 0–2 with 1e-12 init jitters, 1 and 2
// threads, with and without OPENBLAS_CORETYPE=Haswell:
// - η = 0.2: MSE sharpness 2.46–2.94 → 7.21–8.67 (2/η = 10), rising at every sample from step 100
//   (seed 2 dips at step 100); CE sharpness peaks at 0.92–1.02 and ends at 0.23–0.26; both fit.
// - η = 0.4 (MSE): crossing at step 150–175, then an overshoot to 1.43–1.54·2/η and a plateau: window
//   median S/(2/η) 1.044–1.084, second-half median 1.035–1.061 with samples in 0.96–1.13 (the overshoot
//   is reported, not bounded: it depends on rounding, see EoS-2); sustained
//   oscillation (cos(g_t, g_t+1) < 0 on 69–78 % of steps, loss up on 24–34 %); the loss's last-quarter
//   median is 0.21–0.28 of its first-quarter median. (The single-seed test this replaces required every
//   second-half sample in [0.9, 1.1]; seed 0's samples reach 1.10 and, on one BLAS, went just past it.)
test('EoS-3 fc-tanh on a Gaussian mixture (seeds 0–2): MSE sharpens progressively (and at larger η reaches and hovers at 2/η); CE sharpness peaks low and falls as the loss nears zero', () => {
  const data = D.gaussianMixture(new Rng(0), { n: 200, nTest: 10, d: 32, classes: 10 });
  const model = D.fcNet([32, 64, 64, 10], 'tanh');
  const mse = D.supervised(model, data, 'mse');
  const ce = D.supervised(model, data, 'ce');
  const sharp = (r: D.GDResult) => r.trace.filter((x) => x.sharpness !== undefined).map((x) => x.sharpness!);
  const fmt = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(' ');
  const etaSmall = 0.2; // 2/η = 10: both losses stay stable
  const eta = 0.4, mss = 2 / eta;
  for (const seed of [0, 1, 2]) {
    torch.manualSeed(seed);
    const theta0 = model.init();
    const mSmall = D.runGD(mse, { eta: etaSmall, maxSteps: 500, eigFreq: 100, neigs: 1, eigTol: 1e-4, accFreq: 100, theta0 });
    const cSmall = D.runGD(ce, { eta: etaSmall, maxSteps: 500, eigFreq: 100, neigs: 1, eigTol: 1e-4, accFreq: 100, theta0 });
    const sm = sharp(mSmall), sc = sharp(cSmall);
    const tag = `seed ${seed}: MSE S ${fmt(sm)}; CE S ${fmt(sc)}`;
    // progressive sharpening on MSE: from step 100 on, every sample is above the previous one, and it
    // ends at over twice its initial value, below 2/η
    assert.ok(sm.every((s, i) => i < 2 || s > sm[i - 1]!), `MSE sharpness rises monotonically; ${tag}`);
    assert.ok(sm.at(-1)! > 2 * sm[0]! && Math.max(...sm) < 2 / etaSmall, `MSE sharpness more than doubles, below 2/η; ${tag}`);
    // CE at the same η, same θ₀, same data: it fits the training set as well, but its sharpness stays
    // far from 2/η and falls late in training (the softmax saturates as the loss → 0)
    assert.ok(cSmall.trace.at(-1)!.acc! >= 0.99 && mSmall.trace.at(-1)!.acc! >= 0.99, `both fit the training set; ${tag}`);
    assert.ok(Math.max(...sc) < 0.25 * (2 / etaSmall), `CE sharpness stays far below 2/η; ${tag}`);
    assert.ok(sc.at(-1)! < 0.5 * Math.max(...sc), `CE sharpness falls late in training; ${tag}`);
    assert.ok(sm.at(-1)! > 5 * sc.at(-1)!, `MSE ends far sharper than CE; ${tag}`);
    // larger η on MSE: 2/η = 5, which the small-η run's sharpness passes
    assert.ok(sm.at(-1)! > 1.2 * mss, `small-η MSE sharpness exceeds 1.2·2/η = ${1.2 * mss}; ${tag}`);
    const big = D.runGD(mse, { eta, maxSteps: 500, eigFreq: 25, neigs: 1, eigTol: 1e-4, accFreq: 100, theta0 });
    const s = eosStats(big.trace, mss);
    const msg = `seed ${seed}, η = ${eta}: ${describeEos(s)}`;
    console.log(`EoS-3 ${tag}; ${msg}`);
    assert.ok(s.crossStep !== null && s.crossStep <= 300, `MSE sharpness reaches 2/η; ${msg}`);
    // hovers: the plateau (second half of the window) has its median in [0.95, 1.1]·2/η and every
    // sample within [0.85, 1.25]·2/η; the whole window's median is in [0.95, 1.15]
    assert.ok(s.halfMedian >= 0.95 && s.halfMedian <= 1.1 && s.halfMin >= 0.85 && s.halfMax <= 1.25, `hovers at 2/η; ${msg}`);
    assert.ok(s.median >= 0.95 && s.median <= 1.15, `window median in [0.95, 1.15]; ${msg}`);
    assert.ok(s.negCosFrac >= 0.4 && s.upFrac >= 0.1, `sustained oscillation, non-monotone loss; ${msg}`);
    assert.ok(s.lossLastQuarter < 0.5 * s.lossFirstQuarter, `the loss still decreases over the EoS window; ${msg}`);
    torch.dispose(mSmall.theta, cSmall.theta, big.theta, theta0);
  }
  torch.dispose(data.X, data.y, data.Xtest, data.ytest);
  mse.dispose?.(); ce.dispose?.();
});
