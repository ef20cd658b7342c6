import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../../src/core/torch/index.ts';
import * as D from '../../../src/core/dynamics/index.ts';
import { probeStats, runQuadratic, momentumThresholds } from '../../../src/modules/unstable-convergence/index.ts';
import { runCommand } from '../../../src/core/runner.ts';
import { eosStats, describeEos } from './helpers.ts';

// EoS-1 (spec §2.3) over four init seeds (0–3), asserted per seed with margins measured over seeds
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

test('EoS-4 quadratic: with η = 2/90 exactly the components λ > 90 grow with alternating sign; with η = 2/110 all converge', () => {
  const rows: Record<string, unknown>[] = [];
  const r = runQuadratic({ dim: 100, etaInverseHalf: [90, 110], steps: 300 }, { metrics: { log: (x) => rows.push(x), rows: () => [] } });
  const [a, b] = r.runs as { growingFrom: number | null; growingCount: number; alternatingSigns: boolean; maxAbs: number }[];
  assert.equal(a!.growingFrom, 91);
  assert.equal(a!.growingCount, 10);
  assert.ok(a!.alternatingSigns);
  assert.equal(b!.growingCount, 0);
  assert.ok(b!.maxAbs < 1);
  const t = momentumThresholds({ eta: 0.1, beta: 0.9, margin: 0.01, steps: 2500 });
  assert.ok(t.every((x) => x.convergesBelow && x.divergesAbove));
});

test('CLI path: momentum-thresholds, quadratic and a tiny eos run with probes and gradient flow write summaries, traces and plots', async () => {
  await import('../../../src/modules/unstable-convergence/index.ts');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'uc-'));
  const q = await runCommand('unstable-convergence', 'quadratic', { dim: 20, etaInverseHalf: '15,25', steps: 50 }, { root });
  assert.equal(q.run.status, 'done');
  assert.ok(fs.existsSync(path.join(q.run.dir, 'components.png')));
  const e = await runCommand('unstable-convergence', 'eos', {
    dataset: 'chebyshev-3-20', etas: '0.3', time: 30, eigFreq: 10, probeFreq: 20, flow: true, flowEvery: 20,
  }, { root });
  assert.equal(e.run.status, 'done', String(e.run.error));
  for (const f of ['loss.png', 'sharpness.svg', 'gd_vs_flow.png', 'probes.png', 'trace.csv', 'summary_per_eta.json']) {
    assert.ok(fs.existsSync(path.join(e.run.dir, f)), f);
  }
  const runs = (e.summary as { runs: { eta: number; mss: number; finalLoss: number }[] }).runs;
  assert.equal(runs[0]!.mss, 2 / 0.3);
  // B-1/B-2 probes command at tiny size: EoS run probed every 5th step, control every 7th
  const pr = await runCommand('unstable-convergence', 'probes', { time: 0, steps: 120, eta: 0.5, controlEta: 0.05, probeFreq: 5, controlProbeFreq: 7, k: 2 }, { root });
  assert.equal(pr.run.status, 'done', String(pr.run.error));
  assert.ok(fs.existsSync(path.join(pr.run.dir, 'probes.png')));
  const ps = pr.summary as { eos: { startStep: number; probes: number; maxIdentityGap: number }; control: { probes: number; medianRP: number } };
  assert.ok(ps.eos.startStep !== null && ps.eos.probes === Math.floor((120 - ps.eos.startStep) / 5) + 1, JSON.stringify(ps.eos));
  assert.ok(ps.eos.maxIdentityGap < 1e-8);
  assert.equal(ps.control.probes, 18, 'control: steps 0, 7, …, 119');
  assert.ok(ps.control.medianRP < -0.5);
  // real data: the bundled digits through the same command
  const d = await runCommand('unstable-convergence', 'eos', {
    dataset: 'digits', nTrain: 200, arch: 'fc-tanh-depth1-w16', loss: 'mse', etas: '0.5', time: 0, steps: 40, eigFreq: 20,
  }, { root });
  assert.equal(d.run.status, 'done', String(d.run.error));
  const dr = (d.summary as { runs: { finalLoss: number; finalAcc: number }[] }).runs[0]!;
  assert.ok(dr.finalLoss < 0.5 && dr.finalAcc > 0.5, `digits learns: ${JSON.stringify(dr)}`);
  await assert.rejects(runCommand('unstable-convergence', 'eos', { dataset: 'cifar10' }, { root }).then((r) => { if (r.run.status !== 'done') throw new Error(String(r.run.error)); }), /dataPath/);
  fs.rmSync(root, { recursive: true, force: true });
});

// Paper B probe bands (spec §4.3) on EoS-1, unfiltered. The EoS window is every probed step from
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
    // Paper B's bands. Alignment: the spec's A1 > 0.5 does not hold here, and this is why: a second
    // Hessian eigenvalue also sits at the edge (median λ2 ≈ 0.93–0.98·2/η), GD oscillates in the span
    // of u1 and u2, and the two swap places on alternate steps of the period-2 cycle, so A1 = |⟨ĝ, u1⟩|
    // is bimodal (≈ 0 or ≈ 1) with median < 0.5 while the top-2 alignment A2 = ‖P₂ĝ‖ is ≈ 1 (spec §4.1
    // item 4: "A1 and Ak large, k = 1–5"). Counted: A2 median > 0.5, and the diagnosis itself
    // (λ2 > 0.9·2/η, A1 > 0.9 on ≥ 20 % of the window; measured 24–40 % in the active seeds).
    const bands = st.medianRP > -0.5 && st.medianRP < 0.5 && st.medianDSintEta > 0.5 && st.medianDSintEta < 1.5
      && st.medianAk > 0.5 && lam2 > 0.9 && a1Share >= 0.2;
    if (bands) active.push(seed);
    if (seed === 0) theta0Seed0 = theta0; else theta0.dispose();
    r.theta.dispose();
  }
  assert.ok(active.length >= 3, `Paper B's bands hold in ${active.length} of 6 seeds (${active}), fewer than 3:\n${reports.join('\n')}`);
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

test('eos run interrupted mid-way resumes from its checkpoint and finishes with the same result as an uninterrupted run', async () => {
  await import('../../../src/modules/unstable-convergence/index.ts');
  const { resumeRun } = await import('../../../src/core/runner.ts');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'uc-resume-'));
  const params = { dataset: 'chebyshev-3-20', etas: '0.2', time: 0, steps: 800, eigFreq: 0, checkpointEvery: 100 };
  const full = await runCommand('unstable-convergence', 'eos', params, { root });
  const ac = new AbortController();
  let runId = '';
  const first = await runCommand('unstable-convergence', 'eos', params, {
    root, signal: ac.signal,
    onEvent: (e) => {
      if (e.type === 'start') runId = e.run.id;
      if (e.type === 'progress' && e.value >= 300) ac.abort();
    },
  }).catch((e) => e);
  assert.ok(first instanceof Error, 'interrupted');
  const again = await resumeRun(runId, { root });
  assert.equal(again.run.status, 'done', String(again.run.error));
  const a = (full.summary as any).runs[0], b = (again.summary as any).runs[0];
  assert.equal(b.steps, 800);
  assert.ok(Math.abs(a.finalLoss - b.finalLoss) < 1e-12 * Math.max(1, a.finalLoss), `${a.finalLoss} vs ${b.finalLoss}`);
  fs.rmSync(root, { recursive: true, force: true });
});

test('the probe monitor attaches to an nn.Module training loop (parameter list + loss closure)', () => {
  torch.manualSeed(5);
  const net = new torch.nn.Sequential(new torch.nn.Linear(3, 8, true, { dtype: 'float64' }), new torch.nn.Tanh(), new torch.nn.Linear(8, 1, true, { dtype: 'float64' }));
  const x = torch.randn([40, 3], { dtype: 'float64' }), y = torch.randn([40, 1], { dtype: 'float64' });
  const loss = () => net.forward(x).sub(y).square().mean();
  const opt = new torch.optim.SGD(net.parameters(), { lr: 0.3 });
  const mon = new D.UnstableConvergenceMonitor({ k: 2 });
  for (let step = 0; step < 5; step++) {
    const row = mon.observe({ params: net.parameters(), loss }, step, 0.3);
    assert.ok(row.identityGap < 1e-8);
    const before = torch.scope(() => loss().item());
    torch.scope(() => { opt.zeroGrad(); loss().backward(); opt.step(); });
    const after = torch.scope(() => loss().item());
    // RP predicts the SGD step's progress exactly (the monitor left the parameters untouched)
    assert.ok(Math.abs((after - before) / (0.3 * row.gradNorm ** 2) - row.rp) < 1e-9);
    if (step > 0) assert.ok(row.gradCos !== null);
  }
  mon.dispose(); net.dispose(); torch.dispose(x, y);
});

// Spec §2.1 item 3, over init seeds 0–3. Before the crossing GD is stable (not chaotic) and stays
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
