// Experiments: Cohen et al.'s edge of stability at CPU scale (EoS-1..4) and the unstable-
// convergence probes of Ahn, Zhang & Sra (B-1, B-2), each returning a summary with the numbers
// the acceptance checks use.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import {
  supervised, modelByName, runGD, runGDAsync, gradientFlow, maxStableSharpness, numericStabilityThreshold, quadraticWithSpectrum,
  median, curvesSpec, panelsSpec, type LossName, type Momentum, type GDRow, type GDResult, type Objective,
} from '../../core/dynamics/index.ts';
import { loadDataset, outputDim, type DataSpec } from './data.ts';

export interface EosParams extends DataSpec {
  arch: string;
  loss: LossName;
  etas: number[];
  /** total time η·steps per run (0: use steps) */
  time: number;
  steps: number;
  eigFreq: number;
  neigs: number;
  /** Lanczos relative residual tolerance (eigenvalue error ≤ tol·λ) */
  eigTol: number;
  momentum: Momentum;
  beta: number;
  batchSize: number;
  lossGoal: number;
  accGoal: number;
  probeFreq: number;
  flow: boolean;
  flowEvery: number;
  checkpointEvery: number;
}

/**
 * The EoS window: every sharpness sample from the first one ≥ the optimizer's threshold to the end of
 * the run. Band statistics over it, and over its second half (the plateau, after the overshoot that
 * follows the crossing while the unstable component grows).
 */
export function eosWindow(trace: readonly GDRow[], mss: number) {
  const sh = trace.filter((r) => r.sharpness !== undefined && Number.isFinite(r.sharpness));
  const i = sh.findIndex((r) => r.sharpness! >= mss);
  if (i < 0) {
    return { crossStep: null as number | null, ratios: [] as number[], medianRatio: NaN, inBand: NaN, peakRatio: NaN,
      plateauMin: NaN, plateauMax: NaN, plateauMedian: NaN, rows: [] as GDRow[] };
  }
  const win = sh.slice(i);
  const ratios = win.map((r) => r.sharpness! / mss);
  const half = ratios.slice(Math.floor(ratios.length / 2));
  return {
    crossStep: win[0]!.step,
    ratios,
    medianRatio: median(ratios),
    inBand: ratios.filter((x) => x >= 0.9 && x <= 1.1).length / ratios.length,
    peakRatio: Math.max(...ratios),
    plateauMin: Math.min(...half),
    plateauMax: Math.max(...half),
    plateauMedian: median(half),
    rows: trace.filter((r) => r.step >= win[0]!.step),
  };
}

export function buildObjective(p: Pick<EosParams, keyof DataSpec | 'arch' | 'loss'>, ctx: Pick<RunContext, 'rng'>): Objective {
  const data = loadDataset(p, ctx.rng);
  const inDim = data.X.shape.slice(1).reduce((a, b) => a * b, 1);
  const model = modelByName(p.arch, inDim, p.loss === 'logistic' ? 1 : outputDim(data));
  const obj = supervised(model, data, p.loss, { abridged: 5000 });
  const inner = obj.dispose;
  obj.dispose = () => { inner?.(); torch.dispose(data.X, data.y, data.Xtest, data.ytest); };
  return obj;
}

export async function runEos(p: EosParams, ctx: RunContext): Promise<Record<string, unknown>> {
  if (p.etas.length === 0) throw new Error('etas: give at least one step size');
  const obj = buildObjective(p, ctx);
  const theta0 = obj.init().keep(); // the same θ₀ for every η (seeded by ctx.seed)
  const perEta: Record<string, unknown>[] = [];
  const runs: { eta: number; res: GDResult }[] = [];
  try {
    for (const eta of p.etas) {
      const steps = p.time > 0 ? Math.round(p.time / eta) : p.steps;
      const mss = maxStableSharpness(eta, p.momentum, p.beta);
      const bar = ctx.progress(steps, `GD η=${eta}`);
      const keepAt = p.flow ? Array.from({ length: Math.floor(steps / p.flowEvery) + 1 }, (_, i) => i * p.flowEvery) : [];
      const tag = `eta-${eta}`;
      const last = ctx.resuming ? ctx.checkpoints.latest() : null;
      const resume = last && last.tag === tag ? { theta: last.tensors.theta!, velocity: last.tensors.velocity, step: Number(last.state.step) } : undefined;
      // On resume, an η that finished before the checkpointed one is run again for its summary,
      // but its rows are already in the trace table: do not log them twice.
      const replay = last !== null && p.etas.indexOf(Number(last.state.eta)) > p.etas.indexOf(eta);
      const res = await runGDAsync(obj, {
        eta, momentum: p.momentum, beta: p.beta, batchSize: p.batchSize, batchSeed: ctx.seed, maxSteps: steps, eigFreq: p.eigFreq, neigs: p.neigs, eigTol: p.eigTol,
        lossGoal: p.lossGoal > 0 ? p.lossGoal : undefined, accGoal: p.accGoal > 0 ? p.accGoal : undefined,
        probeFreq: p.probeFreq, theta0, keepAt, resume, signal: ctx.signal,
        checkpointFreq: p.checkpointEvery, onCheckpoint: (step, th, v) => ctx.checkpoints.save(tag, v ? { theta: th, velocity: v } : { theta: th }, { step, eta }),
        onStep: (r) => {
          bar.update(r.step, { loss: r.loss });
          if (!replay) ctx.metrics.log({
            eta, step: r.step, time: r.step * eta, loss: r.loss, acc: r.acc ?? null, testLoss: r.testLoss ?? null, testAcc: r.testAcc ?? null,
            sharpness: r.sharpness ?? null, eig2: r.eigs?.[1] ?? null, mss, gradCos: r.gradCos ?? null,
            rp: r.probe?.rp ?? null, dsIntEta: r.probe?.dsIntEta ?? null, a1: r.probe?.a1 ?? null,
          }, 'trace');
        },
      });
      bar.done();
      ctx.throwIfAborted();
      const w = eosWindow(res.trace, mss);
      const lastRow = res.trace.at(-1)!;
      perEta.push({
        eta, mss, steps: res.steps, stopReason: res.stopReason, finalLoss: lastRow.loss, finalAcc: lastRow.acc ?? null,
        finalSharpness: [...res.trace].reverse().find((r) => r.sharpness !== undefined)?.sharpness ?? null,
        maxSharpness: Math.max(...res.trace.filter((r) => r.sharpness !== undefined).map((r) => r.sharpness!)),
        crossStep: w.crossStep, medianSharpnessOverMss: w.medianRatio, fractionInBand: w.inBand, peakSharpnessOverMss: w.peakRatio,
        plateauSharpnessOverMss: { min: w.plateauMin, median: w.plateauMedian, max: w.plateauMax },
        lossAtCross: w.rows[0]?.loss ?? null, lossIncreasesInWindow: w.rows.filter((r, i) => i > 0 && r.loss > w.rows[i - 1]!.loss).length,
      });
      runs.push({ eta, res });
    }
    // gradient flow for the GD-vs-flow distance
    const flowRows: Record<string, number>[] = [];
    if (p.flow) {
      const times = [...new Set(runs.flatMap(({ eta, res }) => [...res.kept.keys()].map((s) => s * eta)))].sort((a, b) => a - b);
      const fl = gradientFlow(obj, theta0, { times, signal: ctx.signal });
      const at = new Map(times.map((t, i) => [t, fl.thetas[i]!]));
      for (const { eta, res } of runs) {
        for (const [s, th] of res.kept) {
          const d = torch.scope(() => th.sub(at.get(s * eta)!).norm().item());
          flowRows.push({ eta, step: s, time: s * eta, distance: d });
          ctx.metrics.log({ eta, step: s, time: s * eta, distance: d }, 'gd_vs_flow');
        }
      }
      torch.dispose(fl.thetas);
    }
    // plots
    const rows = ctx.metrics.rows('trace').map((r) => ({ ...r, eta: String(r.eta) })) as Record<string, number | string | null>[];
    await ctx.plot('loss', curvesSpec(rows, { x: 'time', y: 'loss', color: 'eta', logY: true, title: `${obj.name}: train loss` }));
    await ctx.plot('sharpness', curvesSpec(rows.filter((r) => r.sharpness !== null), {
      x: 'time', y: 'sharpness', color: 'eta', title: `${obj.name}: sharpness (dotted: maximum stable sharpness)`,
      hlines: p.etas.map((eta) => ({ y: maxStableSharpness(eta, p.momentum, p.beta), series: String(eta) })),
    }));
    if (flowRows.length) {
      const vlines = perEta.filter((e) => e.crossStep !== null).map((e) => ({ x: (e.crossStep as number) * (e.eta as number), label: `S=2/η (η=${e.eta})` }));
      await ctx.plot('gd_vs_flow', curvesSpec(flowRows.map((r) => ({ ...r, eta: String(r.eta) })), {
        x: 'time', y: 'distance', color: 'eta', title: 'distance between GD and gradient flow', vlines,
      }));
    }
    if (p.probeFreq > 0) {
      const pr = rows.filter((r) => r.rp !== null).map((r) => ({ ...r, series: r.eta }));
      await ctx.plot('probes', panelsSpec(pr, 'step', ['rp', 'dsIntEta', 'a1', 'gradCos'], 'unstable-convergence probes'));
    }
    ctx.writeJson('summary_per_eta.json', perEta);
    return { objective: obj.name, parameters: obj.dim, runs: perEta };
  } finally {
    for (const r of runs) { r.res.theta.dispose(); r.res.velocity?.dispose(); torch.dispose([...r.res.kept.values()]); }
    theta0.dispose();
    obj.dispose?.();
  }
}

export interface ProbeParams extends Pick<EosParams, keyof DataSpec | 'arch' | 'loss' | 'time' | 'steps' | 'momentum' | 'beta' | 'batchSize'> {
  eta: number;
  controlEta: number;
  probeFreq: number;
  /** probe stride of the control run (0: about 200 probes over the run, odd stride) */
  controlProbeFreq: number;
  k: number;
}

/** Median probe statistics over the EoS window (after S first reaches the threshold) or the whole run. */
export function probeStats(trace: readonly GDRow[], mss: number, whole = false) {
  const rows = trace.filter((r) => r.probe);
  const i = whole ? 0 : rows.findIndex((r) => r.probe!.sharpness >= mss);
  const win = i < 0 ? [] : rows.slice(i);
  const cos = win.map((r) => r.gradCos).filter((c): c is number => typeof c === 'number');
  return {
    startStep: win[0]?.step ?? null,
    probes: win.length,
    medianRP: median(win.map((r) => r.probe!.rp)),
    medianDSintEta: median(win.map((r) => r.probe!.dsIntEta)),
    medianDSEta: median(win.map((r) => r.probe!.dsEta)),
    medianSharpRatio: median(win.map((r) => r.probe!.sharpRatio)),
    medianA1: median(win.map((r) => r.probe!.a1)),
    medianAk: median(win.map((r) => r.probe!.ak)),
    fractionNegativeCos: cos.length ? cos.filter((c) => c < 0).length / cos.length : NaN,
    maxIdentityGap: Math.max(0, ...win.map((r) => r.probe!.identityGap)),
  };
}

/** B-1 (large η, EoS) and B-2 (small-η control) with every probe on. */
export async function runProbes(p: ProbeParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const obj = buildObjective(p, ctx);
  const theta0 = obj.init().keep();
  const out: Record<string, unknown> = { objective: obj.name };
  const allRows: Record<string, number | string | null>[] = [];
  try {
    for (const [label, eta] of [['eos', p.eta], ['control', p.controlEta]] as const) {
      const steps = p.time > 0 ? Math.round(p.time / eta) : p.steps;
      const mss = maxStableSharpness(eta, p.momentum, p.beta);
      const probeFreq = label === 'eos' ? p.probeFreq : (p.controlProbeFreq || (Math.max(1, Math.floor(steps / 200)) | 1));
      const bar = ctx.progress(steps, `probes ${label} η=${eta}`);
      const res = await runGDAsync(obj, {
        eta, momentum: p.momentum, beta: p.beta, batchSize: p.batchSize, batchSeed: ctx.seed, maxSteps: steps, probeFreq, probeOptions: { k: p.k },
        theta0, signal: ctx.signal,
        onStep: (r) => {
          bar.update(r.step);
          if (r.probe) {
            const row = { run: label, eta, step: r.step, time: r.step * eta, loss: r.loss, rp: r.probe.rp, ds: r.probe.ds, dsInt: r.probe.dsInt,
              dsEta: r.probe.dsEta, dsIntEta: r.probe.dsIntEta, sharpness: r.probe.sharpness, sharpRatio: r.probe.sharpRatio,
              a1: r.probe.a1, ak: r.probe.ak, gradCos: r.gradCos ?? null, identityGap: r.probe.identityGap };
            ctx.metrics.log(row, 'probes');
            allRows.push({ ...row, series: `${label} η=${eta}` });
          }
        },
      });
      bar.done();
      ctx.throwIfAborted();
      out[label] = { eta, mss, stopReason: res.stopReason, finalLoss: res.trace.at(-1)!.loss, ...probeStats(res.trace, mss, label === 'control') };
      res.theta.dispose(); res.velocity?.dispose();
    }
    await ctx.plot('probes', panelsSpec(allRows, 'time', ['sharpRatio', 'rp', 'dsIntEta', 'a1', 'ak', 'gradCos'],
      `${obj.name}: S/MSS, RP, η/2·DSint, A1, A${p.k}, cos(g_t, g_t+1)`));
    return out;
  } finally {
    theta0.dispose();
    obj.dispose?.();
  }
}

/** EoS-4: GD on ½θᵀAθ with spectrum {1, …, dim}: components with λ > 2/η grow with alternating sign. */
export function runQuadratic(p: { dim: number; etaInverseHalf: number[]; steps: number }, ctx: Pick<RunContext, 'metrics'>) {
  const spectrum = Array.from({ length: p.dim }, (_, i) => i + 1);
  const obj = quadraticWithSpectrum(spectrum, spectrum.map(() => 1));
  const out: Record<string, unknown>[] = [];
  try {
    for (const h of p.etaInverseHalf) {
      const eta = 2 / h;
      let theta: Tensor = obj.init();
      const start = theta.toFloat64Array();
      const signs: number[][] = [];
      for (let t = 0; t < p.steps; t++) {
        const next = torch.scope(() => theta.sub(torch.tensor(spectrum, { dtype: 'float64' }).mul(theta).mul(eta)));
        theta.dispose(); theta = next;
        signs.push(Array.from(theta.toFloat64Array(), Math.sign));
      }
      const final = Array.from(theta.toFloat64Array());
      theta.dispose();
      // growing: more than doubled over the run. The component at λ = 2/η exactly is neutral (factor
      // |1 − ηλ| = 1, up to rounding of η·λ): a bare |x_T| > |x_0| would classify it by its last digits.
      const growing = spectrum.filter((_, i) => Math.abs(final[i]!) > 2 * Math.abs(start[i]!));
      const alternating = growing.every((lam) => signs.every((s, t) => t === 0 || s[lam - 1] === -signs[t - 1]![lam - 1]));
      for (const lam of spectrum) ctx.metrics.log({ eta, lambda: lam, finalAbs: Math.abs(final[lam - 1]!) }, 'components');
      out.push({
        eta, threshold: 2 / eta, growingFrom: growing.length ? Math.min(...growing) : null, growingCount: growing.length,
        alternatingSigns: alternating, maxAbs: Math.max(...final.map(Math.abs)),
      });
    }
  } finally {
    obj.dispose?.();
  }
  return { runs: out };
}

/**
 * 1-D quadratic ½λx² with λ just below / above each optimizer's maximum stable sharpness, run through
 * the GD runner itself (its plain, Polyak and Nesterov updates). The closed-form threshold is also
 * checked against a numerical bisection of the recursion's spectral radius.
 */
export function momentumThresholds(p: { eta: number; beta: number; margin: number; steps: number }) {
  const rows: Record<string, unknown>[] = [];
  for (const m of ['none', 'polyak', 'nesterov'] as const) {
    const mss = maxStableSharpness(p.eta, m, p.beta);
    const numeric = numericStabilityThreshold(p.eta, m, p.beta);
    const final: Record<string, { x: number; stop: string }> = {};
    for (const [label, f] of [['below', 1 - p.margin], ['above', 1 + p.margin]] as const) {
      const obj = quadraticWithSpectrum([mss * f], [1]);
      const r = runGD(obj, { eta: p.eta, momentum: m, beta: p.beta, maxSteps: p.steps, divergeLoss: 1e12, lossGoal: 1e-30 });
      final[label] = { x: Math.abs(r.theta.toFloat64Array()[0]!), stop: r.stopReason };
      r.theta.dispose(); r.velocity?.dispose();
      obj.dispose?.();
    }
    rows.push({ optimizer: m, beta: m === 'none' ? 0 : p.beta, mss, numericThreshold: numeric,
      finalBelow: final.below!.x, stopBelow: final.below!.stop, finalAbove: final.above!.x, stopAbove: final.above!.stop,
      convergesBelow: final.below!.x < 1e-6, divergesAbove: final.above!.stop === 'diverged' });
  }
  return rows;
}
