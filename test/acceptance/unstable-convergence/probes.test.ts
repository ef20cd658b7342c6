// Acceptance (npm run test:acceptance): the unstable-convergence probes of Ahn, Zhang & Sra (relative
// progress RP, directional smoothness DSint, alignment) on EoS-1 over several init seeds. The fast
// single-seed check is in test/modules/unstable-convergence/eos.test.ts.
//
// Seeds: init seeds 0–5 (6 seeds), η = 0.5, time 400, probes every 5th step; B-2 control on seed 0's
// θ₀ (η = 0.05, 600 steps, probes every 60). Asserted per seed: crossing of 2/η in the first quarter
// of the run; every 5th step of the window probed; RP = −1 + η/2·DSint to 1e-8 at every probe; median
// S/(2/η) in [1, 1.1); some probed step with RP > 0; window last-quarter loss < 0.5·L₀. Asserted for a
// majority (≥ 3 of 6 seeds): median RP ∈ (−0.5, 0.5), median η/2·DSint ∈ (0.5, 1.5), median A2 > 0.5,
// median λ2/(2/η) > 0.9, A1 > 0.9 on ≥ 20 % of the window. Control: S < 2/η at every probe, median
// RP < −0.5, monotone loss.
//
// Labels (defined in src/modules/unstable-convergence/README.md): EoS-1 is Cohen et al.'s
// chebyshev-3-20 regression with the `regression` net (MSE, full-batch GD, float64); B-1 / B-2 are
// the unstable-convergence probes of Ahn, Zhang & Sra on it at a large η and on a small-η control.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import * as D from '../../../src/core/dynamics/index.ts';
import { probeStats } from '../../../src/modules/unstable-convergence/index.ts';

// The probe bands of Ahn, Zhang & Sra on EoS-1, unfiltered. The EoS window is every probed step from
// the first one whose sharpness is ≥ 2/η to the end of the run (nothing is dropped: no filter on
// the gradient cosine, the loss or the sharpness after the crossing). Probes every 5th step: an odd
// stride samples both phases of the period-2 oscillation alternately (an even stride would see only
// one phase). η = 0.5 (2/η = 4; θ₀'s sharpness is 0.68–0.98·2/η, GD crosses at step 55–150) for the
// module's default time η·steps = 400. At the old η = 0.25 the window was ~all "latent" EoS: S had
// passed 2/η but the unstable component had not yet grown from ~0, so GD moved like stable GD (median
// RP ≈ −1, cos = +1, A1 ≈ 0), broken only by short catapults — the cause of the earlier cos-filtered
// test. At η = 0.5 the window is bimodal over init seeds (measured on seeds 0–11, and 0–5 again with a
// 1e-12 init jitter, which moves no seed from one mode to the other): in 8 of 12 the oscillation is
// active (median RP −0.34…−0.02, η/2·DSint 0.66–0.98, A2 0.85–1.00), in 4 (seeds 2, 5, 9, 10) the
// window stays latent (median RP −0.94…−0.99, A2 0.00–0.22) although S sits at 1.01–1.06·2/η
// throughout. Over seeds 0–5, four are active. So the bands are asserted for a majority (≥ 3 of 6) of
// seeds, and what holds in every seed is asserted per seed: the crossing, the identity, median S/(2/η)
// in [1, 1.1) (measured 1.012–1.063), a step that raises the loss, and the loss over the run (median of
// the window's last quarter ≤ 0.264·L₀; against the loss at the crossing it is 0.16–0.91, and over the
// window it rises in 7 of 12 seeds — see the EoS-1 test — so it is not asserted there). The single-seed
// version of this test (seed 0) also asserted the last step's loss below half the crossing's: seeds
// 3, 4, 5 and 6 fail that by their endpoints.
test('unstable convergence on EoS-1 (chebyshev-3-20, η = 0.5, seeds 0–5): over the whole EoS window median RP ∈ (−0.5, 0.5), median η/2·DSint ∈ (0.5, 1.5), gradient in the top eigenspace in a majority of seeds; the small-η control has median RP < −0.5', () => {
  const data = D.chebyshev(3, 20);
  const obj = D.supervised(D.regressionNet(), data, 'mse');
  const eta = 0.5, mss = 2 / eta, T = 400;
  const q = (xs: number[]) => { const v = [...xs].sort((a, b) => a - b); return [0.1, 0.25, 0.5, 0.75, 0.9].map((z) => v[Math.floor(z * (v.length - 1))]!.toFixed(3)).join('/'); };
  const active: number[] = [], reports: string[] = [];
  let theta0Seed0: torch.Tensor | null = null;
  for (const seed of [0, 1, 2, 3, 4, 5]) {
    torch.manualSeed(seed);
    const theta0 = obj.init();
    const r = D.runGD(obj, { eta, maxSteps: T / eta, theta0, probeFreq: 5, probeOptions: { k: 2, points: 3, eigTol: 1e-6, quadTol: 1e-10 } });
    const st = probeStats(r.trace, mss);
    const win = r.trace.filter((x) => x.probe && x.step >= st.startStep!).map((x) => x.probe!);
    const lam2 = D.median(win.map((p) => p.eigs[1]! / mss));
    const a1Share = win.filter((p) => p.a1 > 0.9).length / win.length;
    const lw = r.trace.filter((x) => x.step >= (st.startStep ?? 0)).map((x) => x.loss);
    const lastQuarter = D.median(lw.slice(-Math.floor(lw.length / 4)));
    const report = `seed ${seed}: window from step ${st.startStep} (${win.length} probes): median RP ${st.medianRP.toFixed(3)}, η/2·DSint ${st.medianDSintEta.toFixed(3)}, S/(2/η) ${st.medianSharpRatio.toFixed(3)}, `
      + `RP q10/25/50/75/90 ${q(win.map((p) => p.rp))}, A1 ${q(win.map((p) => p.a1))}, A2 ${q(win.map((p) => p.ak))}, A1 > 0.9 on ${(100 * a1Share).toFixed(0)}%, λ2/(2/η) median ${lam2.toFixed(3)}; `
      + `loss ${r.trace[0]!.loss.toExponential(2)} → ${r.trace[st.startStep!]!.loss.toExponential(2)} at the crossing → ${lastQuarter.toExponential(2)} (window's last quarter)`;
    reports.push(report);
    console.log(`B-1 EoS-1 η=${eta} ${report}`);
    assert.ok(st.startStep !== null && st.startStep < 0.25 * (T / eta), `sharpness reaches 2/η early; ${report}`);
    assert.equal(win.length, st.probes);
    assert.equal(win.length, Math.floor((T / eta - st.startStep!) / 5) + 1, 'every 5th step of the window is probed');
    assert.ok(r.trace.filter((x) => x.probe).every((x) => x.probe!.identityGap < 1e-8), 'RP = −1 + η/2·DSint at every probed step');
    assert.ok(st.medianSharpRatio >= 1 && st.medianSharpRatio < 1.1, `the window is beyond 2/η; ${report}`);
    assert.ok(win.some((p) => p.rp > 0), `some steps increase the loss; ${report}`);
    assert.ok(lastQuarter < 0.5 * r.trace[0]!.loss, `GD still makes progress over the run; ${report}`);
    // The probe bands of Ahn, Zhang & Sra. Alignment: A1 > 0.5 does not hold here, and this is why: a second
    // Hessian eigenvalue also sits at the edge (median λ2 ≈ 0.93–0.98·2/η), GD oscillates in the span
    // of u1 and u2, and the two swap places on alternate steps of the period-2 cycle, so A1 = |⟨ĝ, u1⟩|
    // is bimodal (≈ 0 or ≈ 1) with median < 0.5 while the top-2 alignment A2 = ‖P₂ĝ‖ is ≈ 1 (the gradient lies
    // in the top eigenspace: A1 and Ak large for some k in 1–5). Counted: A2 median > 0.5, and the diagnosis itself
    // (λ2 > 0.9·2/η, A1 > 0.9 on ≥ 20 % of the window; measured 24–40 % in the active seeds).
    const bands = st.medianRP > -0.5 && st.medianRP < 0.5 && st.medianDSintEta > 0.5 && st.medianDSintEta < 1.5
      && st.medianAk > 0.5 && lam2 > 0.9 && a1Share >= 0.2;
    if (bands) active.push(seed);
    if (seed === 0) theta0Seed0 = theta0; else theta0.dispose();
    r.theta.dispose();
  }
  assert.ok(active.length >= 3, `the probe bands hold in ${active.length} of 6 seeds (${active}), fewer than 3:\n${reports.join('\n')}`);
  const theta0 = theta0Seed0!;
  // B-2 stable control (seed 0's θ₀): η small enough that S < 2/η throughout (stable GD is not
  // chaotic: nothing here depends on the last digits); probed every 60 steps over the whole run
  const c = D.runGD(obj, { eta: 0.05, maxSteps: 600, theta0, probeFreq: 60, probeOptions: { k: 2, points: 3 } });
  const cs = probeStats(c.trace, 2 / 0.05, true);
  const cp = c.trace.filter((x) => x.probe).map((x) => x.probe!);
  assert.ok(cp.every((p) => p.sharpRatio < 1));
  assert.ok(cs.medianRP < -0.5, `control: median RP ${cs.medianRP} < −0.5`);
  assert.ok(c.trace.slice(1).every((x, i) => x.loss <= c.trace[i]!.loss), 'control: monotone loss');
  console.log(`B-2 control η=0.05: ${JSON.stringify(cs)}`);
  torch.dispose(c.theta, theta0, data.X, data.y); obj.dispose?.();
});
