// The commands' run bodies, which are also the typed API: each parses its input with the command's
// schema (commands.ts), so omitted parameters take the CLI's defaults (config.ts).
//  - runEos: Cohen et al.'s edge of stability — GD at several η from one θ₀, the sharpness against
//    the optimizer's threshold, optionally the distance to gradient flow and the probes;
//  - runProbes: the unstable-convergence probes of Ahn, Zhang & Sra on a large-η run and a small-η
//    control;
//  - runQuadratic, momentumThresholds / runMomentumThresholds: the quadratic sanity cases.
// The labels the tests and README use for these experiments (EoS-1…4, B-1, B-2) are defined in
// README.md.
import { z } from 'zod';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import {
  supervised, modelByName, runGDAsync, gradientFlow, maxStableSharpness, curvesSpec, panelsSpec, quadraticWithSpectrum,
  type GDResult, type Objective,
} from '../../core/dynamics/index.ts';
import { eosParams, probesParams, quadraticParams, momentumThresholdsParams, type EosParams } from './commands.ts';
import { loadDataset, outputDim, type DataSpec } from './data.ts';
import { defaults } from './config.ts';
import { eosWindow, probeStats } from './evaluate.ts';
import { quadraticRuns, momentumThresholdRows } from './quadratic.ts';

export type EosInput = z.input<typeof eosParams>;
export type ProbesInput = z.input<typeof probesParams>;
export type QuadraticInput = z.input<typeof quadraticParams>;
export type MomentumThresholdsInput = z.input<typeof momentumThresholdsParams>;

/** The training objective: the data set, the network for its input/output sizes, the loss. */
export function buildObjective(p: DataSpec & { arch: string; loss: EosParams['loss'] }, ctx: Pick<RunContext, 'rng'>): Objective {
  const data = loadDataset(p, ctx.rng);
  const inDim = data.X.shape.slice(1).reduce((a, b) => a * b, 1);
  const model = modelByName(p.arch, inDim, p.loss === 'logistic' ? 1 : outputDim(data), data.X.shape.slice(1));
  const obj = supervised(model, data, p.loss, { abridged: 5000 });
  const inner = obj.dispose;
  obj.dispose = () => { inner?.(); torch.dispose(data.X, data.y, data.Xtest, data.ytest); };
  return obj;
}

/** GD steps of a run at η: `steps` when given, else round(time/η). */
function stepsAt(p: { time: number; steps?: number | undefined }, eta: number): number {
  return p.steps ?? Math.round(p.time / eta);
}

export async function runEos(input: EosInput, ctx: RunContext): Promise<Record<string, unknown>> {
  const p = eosParams.parse(input);
  const obj = buildObjective(p, ctx);
  const theta0 = obj.init().keep(); // the same θ₀ for every η (seeded by ctx.seed)
  const perEta: Record<string, unknown>[] = [];
  const runs: { eta: number; res: GDResult }[] = [];
  try {
    for (const eta of p.etas) {
      const res = await eosRun(obj, theta0, p, eta, ctx);
      runs.push({ eta, res });
      perEta.push(eosSummary(res, eta, maxStableSharpness(eta, p.momentum, p.beta)));
    }
    const flowRows = p.flow ? flowDistances(obj, theta0, runs, ctx) : [];
    await plotEos(ctx, obj.name, p, perEta, flowRows);
    ctx.writeJson('summary_per_eta.json', perEta);
    return { objective: obj.name, parameters: obj.dim, runs: perEta };
  } finally {
    for (const r of runs) { r.res.theta.dispose(); r.res.velocity?.dispose(); torch.dispose([...r.res.kept.values()]); }
    theta0.dispose();
    obj.dispose?.();
  }
}

/** One GD run of `eos` at η from θ₀ (or from its checkpoint), its trace logged to the 'trace' table. */
async function eosRun(obj: Objective, theta0: Tensor, p: EosParams, eta: number, ctx: RunContext): Promise<GDResult> {
  const steps = stepsAt(p, eta);
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
    eta, momentum: p.momentum, beta: p.beta, batchSize: p.batchSize, batchSeed: ctx.seed, maxSteps: steps,
    eigFreq: p.eigs ? p.eigFreq : 0, neigs: p.neigs, eigTol: p.eigTol, lossGoal: p.lossGoal, accGoal: p.accGoal,
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
  if (ctx.signal.aborted) { res.theta.dispose(); res.velocity?.dispose(); torch.dispose([...res.kept.values()]); }
  ctx.throwIfAborted();
  return res;
}

/** The summary row of one η: stop, final values, and the EoS window's statistics. */
function eosSummary(res: GDResult, eta: number, mss: number): Record<string, unknown> {
  const w = eosWindow(res.trace, mss);
  const lastRow = res.trace.at(-1)!;
  return {
    eta, mss, steps: res.steps, stopReason: res.stopReason, finalLoss: lastRow.loss, finalAcc: lastRow.acc ?? null,
    finalSharpness: [...res.trace].reverse().find((r) => r.sharpness !== undefined)?.sharpness ?? null,
    maxSharpness: Math.max(...res.trace.filter((r) => r.sharpness !== undefined).map((r) => r.sharpness!)),
    crossStep: w.crossStep, medianSharpnessOverMss: w.medianRatio, fractionInBand: w.inBand, peakSharpnessOverMss: w.peakRatio,
    plateauSharpnessOverMss: { min: w.plateauMin, median: w.plateauMedian, max: w.plateauMax },
    lossAtCross: w.rows[0]?.loss ?? null, lossIncreasesInWindow: w.rows.filter((r, i) => i > 0 && r.loss > w.rows[i - 1]!.loss).length,
  };
}

/** Gradient flow from θ₀ (RK4) and its distance to each GD run at the kept steps ('gd_vs_flow' table). */
function flowDistances(obj: Objective, theta0: Tensor, runs: { eta: number; res: GDResult }[], ctx: RunContext): Record<string, number>[] {
  const flowRows: Record<string, number>[] = [];
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
  return flowRows;
}

async function plotEos(ctx: RunContext, name: string, p: EosParams, perEta: Record<string, unknown>[], flowRows: Record<string, number>[]) {
  const rows = ctx.metrics.rows('trace').map((r) => ({ ...r, eta: String(r.eta) })) as Record<string, number | string | null>[];
  const axes = { xTitle: TIME, colorTitle: 'step size η' };
  await ctx.plot('loss', curvesSpec(rows, { x: 'time', y: 'loss', color: 'eta', logY: true, ...axes, yTitle: 'train loss (log scale)', title: `${name}: train loss` }));
  const line = p.momentum === 'none' ? '2/η' : `the maximum stable sharpness of ${p.momentum} momentum`;
  await ctx.plot('sharpness', curvesSpec(rows.filter((r) => r.sharpness !== null), {
    x: 'time', y: 'sharpness', color: 'eta', ...axes, yTitle: 'sharpness λ_max(∇²L)', title: `${name}: sharpness (dotted: ${line})`,
    hlines: p.etas.map((eta) => ({ y: maxStableSharpness(eta, p.momentum, p.beta), series: String(eta) })),
  }));
  if (flowRows.length) {
    const vlines = perEta.filter((e) => e.crossStep !== null).map((e) => ({ x: (e.crossStep as number) * (e.eta as number), label: `S=2/η (η=${e.eta})` }));
    await ctx.plot('gd_vs_flow', curvesSpec(flowRows.map((r) => ({ ...r, eta: String(r.eta) })), {
      x: 'time', y: 'distance', color: 'eta', ...axes, yTitle: '‖θ_GD − θ_flow‖', title: 'distance between GD and gradient flow', vlines,
    }));
  }
  if (p.probeFreq !== undefined) {
    const pr = rows.filter((r) => r.rp !== null).map((r) => ({ ...r, series: r.eta ?? null }));
    await ctx.plot('probes', panelsSpec(pr, 'step', ['rp', 'dsIntEta', 'a1', 'gradCos'], 'unstable-convergence probes', { titles: { ...PROBE_TITLES, series: 'step size η' } }));
  }
}

const TIME = 'time η·t (step size × steps)';
/** axis titles of the probe panels (Ahn, Zhang & Sra's quantities) */
const PROBE_TITLES: Record<string, string> = {
  step: 'step t', sharpRatio: 'sharpness / MSS', rp: 'relative progress RP', dsIntEta: 'η/2·DSint',
  a1: 'A1 = |⟨ĝ, u₁⟩|', gradCos: 'cos(g_t, g_t+1)',
};

/** The quadratic of `probes --objective quadratic`: ½θᵀdiag(spectrum)θ from `start` (defaults: 1, …, 20 and all ones). */
function probesQuadratic(p: { spectrum?: number[] | undefined; start?: number[] | undefined }): Objective {
  const spectrum = p.spectrum ?? Array.from({ length: defaults.probes.quadraticDim }, (_, i) => i + 1);
  return quadraticWithSpectrum(spectrum, p.start ?? spectrum.map(() => 1));
}

/** The large-η run (edge of stability) and the small-η control with every probe on. */
export async function runProbes(input: ProbesInput, ctx: RunContext): Promise<Record<string, unknown>> {
  const p = probesParams.parse(input);
  const obj = p.objective === 'quadratic' ? probesQuadratic(p) : buildObjective(p, ctx);
  const theta0 = obj.init().keep();
  const out: Record<string, unknown> = { objective: obj.name };
  const allRows: Record<string, number | string | null>[] = [];
  try {
    for (const [label, eta] of [['eos', p.eta], ['control', p.controlEta]] as const) {
      const steps = stepsAt(p, eta);
      const mss = maxStableSharpness(eta, p.momentum, p.beta);
      const probeFreq = label === 'eos' ? p.probeFreq : (p.controlProbeFreq ?? (Math.max(1, Math.floor(steps / 200)) | 1));
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
      `${obj.name}: S/MSS, RP, η/2·DSint, A1, A${p.k}, cos(g_t, g_t+1) (dotted: S = MSS, η/2·DSint = 1)`, {
        titles: { ...PROBE_TITLES, time: TIME, ak: `A${p.k} = ‖P_${p.k} ĝ‖`, series: 'run' },
        hlines: { sharpRatio: [{ y: 1 }], dsIntEta: [{ y: 1 }] },
      }));
    return out;
  } finally {
    theta0.dispose();
    obj.dispose?.();
  }
}

/** GD on ½θᵀAθ with spectrum {1, …, dim}: components with λ > 2/η grow with alternating sign. */
export async function runQuadratic(input: QuadraticInput, ctx: Pick<RunContext, 'metrics'> & Partial<Pick<RunContext, 'plot'>>) {
  const p = quadraticParams.parse(input);
  const r = quadraticRuns(p, ctx.metrics);
  if (ctx.plot) {
    const rows = ctx.metrics.rows('components').map((x) => ({ ...x, eta: `η = 2/${+(2 / (x.eta as number)).toPrecision(6)}` })) as Record<string, number | string | null>[];
    await ctx.plot('components', curvesSpec(rows, { x: 'lambda', y: 'finalAbs', color: 'eta', logY: true,
      xTitle: 'eigenvalue λ_i', yTitle: `|θ_i| after ${p.steps} GD steps (log scale)`, colorTitle: 'step size η',
      title: '|θ_i| after GD vs eigenvalue, θ₀ = 1 (dashed: 2/η; exact zeros left out)', vlines: p.etaInverseHalf.map((h) => ({ x: h, label: `2/η=${h}` })) }));
  }
  return r;
}

/** The 1-D quadratic just below / above each optimizer's maximum stable sharpness: one row per optimizer. */
export function momentumThresholds(input: MomentumThresholdsInput, onTrajectory?: Parameters<typeof momentumThresholdRows>[1]) {
  return momentumThresholdRows(momentumThresholdsParams.parse(input), onTrajectory);
}

export async function runMomentumThresholds(input: MomentumThresholdsInput, ctx: Pick<RunContext, 'metrics'> & Partial<Pick<RunContext, 'plot'>>) {
  const p = momentumThresholdsParams.parse(input);
  const paths: Record<string, number | string>[] = [];
  const rows = momentumThresholds(p, (optimizer, side, lambda, xs) => {
    // at most ~300 points per run in the picture
    const every = Math.max(1, Math.ceil(xs.length / 300));
    for (const [i, q] of xs.entries()) if (i % every === 0 || i === xs.length - 1) paths.push({ ...q, optimizer, side, lambda });
  });
  for (const r of rows) ctx.metrics.log(r as Record<string, number | string | boolean>, 'thresholds');
  if (ctx.plot) await ctx.plot('thresholds', thresholdsSpec(paths, p, rows));
  return { rows };
}

/** |x_t| of GD, Polyak and Nesterov on ½λx² with λ a margin below (solid) / above (dashed) each one's maximum stable sharpness. */
function thresholdsSpec(paths: Record<string, number | string>[], p: { eta: number; beta: number; margin: number }, rows: Record<string, unknown>[]) {
  const name = (m: unknown) => (m === 'none' ? 'GD' : m === 'polyak' ? `Polyak β=${p.beta}` : `Nesterov β=${p.beta}`);
  const mss = new Map(rows.map((r) => [r.optimizer, r.mss as number]));
  const values = paths.filter((r) => (r.absX as number) > 0 && Number.isFinite(r.absX as number))
    .map((r) => ({ ...r, optimizer: `${name(r.optimizer)} (MSS ${+(mss.get(r.optimizer) ?? 0).toPrecision(4)})`, side: `λ = ${r.side === 'below' ? 1 - p.margin : 1 + p.margin} × MSS` }));
  return {
    title: `Just below / above the maximum stable sharpness (η = ${p.eta}): ½λx², x₀ = 1`, width: 520, height: 300, data: { values },
    layer: [
      {
        mark: { type: 'line', clip: true },
        encoding: {
          x: { field: 'step', type: 'quantitative', title: 'step' },
          y: { field: 'absX', type: 'quantitative', title: '|x_t| (log scale)', scale: { type: 'log' } },
          color: { field: 'optimizer', type: 'nominal', title: 'optimizer (max stable sharpness)', legend: { symbolType: 'stroke' } },
          strokeDash: { field: 'side', type: 'nominal', title: 'curvature λ', scale: { range: [[1, 0], [6, 3]] } },
          detail: { field: 'side' },
        },
      },
      { data: { values: [{ y: 1 }] }, mark: { type: 'rule', color: 'black', strokeDash: [2, 3] }, encoding: { y: { field: 'y', type: 'quantitative' } } },
    ],
  };
}
