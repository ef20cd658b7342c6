// Full-batch gradient descent with the reference's optimizers (Cohen et al. 2021,
// locuslab/edge-of-stability gd.py): plain GD, heavy-ball (Polyak) and Nesterov momentum in
// PyTorch's SGD form, stop rules, a per-step trace, top-k Hessian eigenvalues every eigFreq steps
// on the abridged subset, random projections of the iterate, and optional unstable-convergence
// probes (probes.ts: Ahn, Zhang & Sra 2022). runGD is split into its steps below: settings,
// initial state, the measurements at θ_t, the stop rules and the update.
import * as torch from '../torch/index.ts';
import type { Tensor } from '../torch/index.ts';
import { hvpOperator, eigenOfOperator } from '../hessian.ts';
import { Rng } from '../rng.ts';
import type { Objective } from './objective.ts';
import { UnstableConvergenceMonitor, type MonitorOptions, type ProbeRow } from './probes.ts';

export type Momentum = 'none' | 'polyak' | 'nesterov';

/**
 * Maximum stable sharpness of the optimizer on a quadratic (linear stability of the recursion):
 * plain 2/η; Polyak (PyTorch form v ← βv + g, θ ← θ − ηv) (2 + 2β)/η;
 * Nesterov (θ ← θ − η(g + β(βv + g))) (2 + 2β)/((1 + 2β)η).
 * Derivation: the 1-D recursion on curvature λ has characteristic roots in the unit disk iff
 * 1 + tr + det > 0 at z = −1, which gives these bounds.
 */
export function maxStableSharpness(eta: number, momentum: Momentum = 'none', beta = 0): number {
  if (!(eta > 0)) throw new Error(`step size eta must be > 0, got ${eta}`);
  if (momentum !== 'none' && !(beta >= 0 && beta < 1)) throw new Error(`momentum beta must be in [0, 1), got ${beta}`);
  if (momentum === 'none') return 2 / eta;
  if (momentum === 'polyak') return (2 + 2 * beta) / eta;
  if (momentum === 'nesterov') return (2 + 2 * beta) / ((1 + 2 * beta) * eta);
  throw new Error(`unknown momentum '${momentum as string}' (none, polyak, nesterov)`);
}

/**
 * The same thresholds found numerically from the 2×2 recursion matrix (spectral radius = 1),
 * by bisection on λ: used by the tests to check the closed forms are computed, not assumed.
 */
export function numericStabilityThreshold(eta: number, momentum: Momentum, beta = 0): number {
  const radius = (lam: number) => {
    // state (θ, v): v' = βv + λθ;  polyak θ' = θ − ηv';  nesterov θ' = θ − η(λθ + βv')
    let a: number, b: number, c: number, d: number;
    if (momentum === 'none') return Math.abs(1 - eta * lam);
    if (momentum === 'polyak') {
      a = 1 - eta * lam; b = -eta * beta; c = lam; d = beta;
    } else {
      a = 1 - eta * lam * (1 + beta); b = -eta * beta * beta; c = lam; d = beta;
    }
    const tr = a + d, det = a * d - b * c;
    const disc = tr * tr - 4 * det;
    if (disc >= 0) return Math.max(Math.abs((tr + Math.sqrt(disc)) / 2), Math.abs((tr - Math.sqrt(disc)) / 2));
    return Math.sqrt(det);
  };
  let lo = 0, hi = 100 / eta;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (radius(mid) < 1) lo = mid; else hi = mid;
  }
  return lo;
}

export interface GDOptions {
  eta: number;
  momentum?: Momentum;
  beta?: number;
  maxSteps: number;
  /**
   * SGD variant: the update uses the mean loss of a random mini-batch of this size
   * (reshuffled each epoch, seeded by batchSeed); the trace, stop rules and probes still use the
   * full training loss. 0 or ≥ n: full batch.
   */
  batchSize?: number;
  batchSeed?: number;
  /** stop once the train loss is below this */
  lossGoal?: number;
  /** stop once the train accuracy is above this */
  accGoal?: number;
  /** stop as diverged when the loss exceeds this or is not finite (default 1e12) */
  divergeLoss?: number;
  /** top-k Hessian eigenvalues every eigFreq steps (0: never) */
  eigFreq?: number;
  neigs?: number;
  eigMethod?: 'lanczos' | 'dense' | 'power';
  eigTol?: number;
  /** unstable-convergence probes (probes.ts) every probeFreq steps (0: never) */
  probeFreq?: number;
  probeOptions?: MonitorOptions;
  /** also probe at steps where this returns true (sees loss, gradNorm and gradCos of the step) */
  probeWhen?: (row: GDRow) => boolean;
  /** record a random projection of θ every iterateFreq steps (0: never) */
  iterateFreq?: number;
  nproj?: number;
  projSeed?: number;
  /** train accuracy every accFreq steps (default 1; always when accGoal is set) */
  accFreq?: number;
  /** test metrics every testFreq steps (default: every eigFreq or 1) */
  testFreq?: number;
  /** also keep θ (flat, cloned) at these steps (GD-vs-flow comparison) */
  keepAt?: readonly number[];
  /** resume: θ, momentum buffer and the step to start from */
  resume?: { theta: Tensor; velocity?: Tensor; step: number };
  /** called every checkpointFreq steps with θ and the momentum buffer */
  checkpointFreq?: number;
  onCheckpoint?: (step: number, theta: Tensor, velocity: Tensor | null) => void;
  onStep?: (row: GDRow) => void;
  signal?: AbortSignal;
  /** initial θ (default obj.init()) */
  theta0?: Tensor;
}

export interface GDRow {
  step: number;
  loss: number;
  acc?: number;
  testLoss?: number;
  testAcc?: number;
  gradNorm: number;
  /** cos(g_{t−1}, g_t) */
  gradCos?: number;
  eigs?: number[];
  sharpness?: number;
  mss: number;
  probe?: ProbeRow;
  projection?: number[];
}

export interface GDResult {
  theta: Tensor;
  velocity: Tensor | null;
  trace: GDRow[];
  steps: number;
  stopReason: 'maxSteps' | 'lossGoal' | 'accGoal' | 'diverged' | 'aborted';
  mss: number;
  /** θ at the steps asked for in keepAt */
  kept: Map<number, Tensor>;
}

/** Top-k eigenvalues of the objective's (abridged) Hessian at θ. */
export function hessianEigs(obj: Objective, theta: Tensor, k: number, o: { method?: 'lanczos' | 'dense' | 'power'; tol?: number; vectors?: boolean } = {}): { values: number[]; vectors: Tensor | null } {
  return torch.scope(() => {
    const t = theta.detach().clone().requiresGrad_();
    const lf = obj.eigLoss ?? obj.loss;
    const op = hvpOperator(() => lf(t), [t]);
    try {
      return eigenOfOperator(op.matvec, op.n, Math.min(k, op.n), { method: o.method, tol: o.tol ?? 1e-9, vectors: o.vectors ?? false });
    } finally {
      op.dispose();
    }
  });
}

/** The loop's mutable state: θ (a leaf requiring grad), the momentum buffer, the last full gradient. */
interface LoopState {
  theta: Tensor;
  velocity: Tensor | null;
  prevGrad: Tensor | null;
  /** random projection matrix [nproj, dim] (iterateFreq > 0) */
  proj: Tensor | null;
  monitor: UnstableConvergenceMonitor | null;
  /** next mini-batch of example indices (SGD variant), or null for full-batch updates */
  nextBatch: (() => Tensor) | null;
  keepAt: Set<number>;
  kept: Map<number, Tensor>;
}

/** What runGD resolved from GDOptions once: the optimizer and the measurement schedule. */
interface LoopSettings {
  eta: number;
  momentum: Momentum;
  beta: number;
  mss: number;
  eigFreq: number;
  neigs: number;
  probeFreq: number;
  testFreq: number;
  divergeLoss: number;
}

function settingsOf(o: GDOptions): LoopSettings {
  const momentum = o.momentum ?? 'none';
  const beta = momentum === 'none' ? 0 : (o.beta ?? 0.9);
  const eigFreq = o.eigFreq ?? 0;
  return {
    eta: o.eta, momentum, beta, mss: maxStableSharpness(o.eta, momentum, beta), eigFreq, neigs: o.neigs ?? 2,
    probeFreq: o.probeFreq ?? 0, testFreq: o.testFreq ?? (eigFreq || 1), divergeLoss: o.divergeLoss ?? 1e12,
  };
}

/**
 * The SGD variant's sampler: batches of `batchSize` indices from epoch-wise permutations (seeded by
 * batchSeed, a fresh stream per resumed chunk), or null for full-batch updates.
 */
function batchSampler(obj: Objective, o: GDOptions): (() => Tensor) | null {
  const nData = obj.size ?? 0;
  const batch = o.batchSize && o.batchSize > 0 && nData > 0 && o.batchSize < nData && obj.batchLoss ? o.batchSize : 0;
  if (o.batchSize && o.batchSize > 0 && o.batchSize < nData && !obj.batchLoss) throw new Error(`${obj.name}: mini-batches need an objective with batchLoss`);
  if (!batch) return null;
  const batchRng = new Rng((o.batchSeed ?? 7) + 7919 * (o.resume?.step ?? 0));
  let order: number[] = [];
  return () => {
    if (order.length < batch) order = order.concat(batchRng.permutation(nData));
    return torch.tensor(BigInt64Array.from(order.splice(0, batch), (i) => BigInt(i)));
  };
}

function initialState(obj: Objective, o: GDOptions, s: LoopSettings): LoopState {
  const theta = torch.noGrad(() => torch.scope(() => (o.resume?.theta ?? o.theta0 ?? obj.init()).detach().to('float64').clone())).keep();
  if (theta.numel !== obj.dim) throw new Error(`${obj.name}: initial θ has ${theta.numel} entries, the objective needs ${obj.dim}`);
  theta.requiresGrad = true;
  const velocity = s.momentum === 'none' ? null
    : (o.resume?.velocity ? o.resume.velocity.clone() : torch.zeros([obj.dim], { dtype: 'float64' })).keep();
  let proj: Tensor | null = null;
  if ((o.iterateFreq ?? 0) > 0) {
    const rng = new Rng(o.projSeed ?? 1);
    const np = o.nproj ?? 8;
    proj = torch.tensor(rng.normals(np * obj.dim, 0, 1 / Math.sqrt(obj.dim)), { shape: [np, obj.dim] }).keep();
  }
  const monitor = s.probeFreq > 0 || o.probeWhen ? new UnstableConvergenceMonitor(o.probeOptions) : null;
  return { theta, velocity, prevGrad: null, proj, monitor, nextBatch: batchSampler(obj, o), keepAt: new Set(o.keepAt ?? []), kept: new Map() };
}

/** Everything measured at θ_t before the update (call inside torch.scope); keeps the full gradient in st.prevGrad. */
function measureStep(obj: Objective, o: GDOptions, s: LoopSettings, st: LoopState, step: number): GDRow {
  const theta = st.theta;
  const loss = obj.loss(theta);
  const [g0] = torch.grad(loss, [theta], { allowUnused: true });
  const g = (g0 ?? torch.zerosLike(theta)).detach();
  const lv = loss.item();
  const r: GDRow = { step, loss: lv, gradNorm: g.norm().item(), mss: s.mss };
  if (obj.accuracy && (o.accGoal !== undefined || step % (o.accFreq ?? 1) === 0)) r.acc = obj.accuracy(theta);
  if (st.prevGrad) {
    const d = st.prevGrad.norm().item() * r.gradNorm;
    if (d > 0) r.gradCos = st.prevGrad.dot(g).item() / d;
    st.prevGrad.dispose();
  }
  st.prevGrad = g.clone().keep();
  if (obj.test && step % s.testFreq === 0) {
    r.testLoss = torch.noGrad(() => obj.test!.loss(theta).item());
    if (obj.test.accuracy) r.testAcc = obj.test.accuracy(theta);
  }
  if (s.eigFreq > 0 && step % s.eigFreq === 0 && Number.isFinite(lv)) {
    r.eigs = hessianEigs(obj, theta, s.neigs, { method: o.eigMethod, tol: o.eigTol }).values;
    r.sharpness = r.eigs[0];
  }
  if (st.monitor && ((s.probeFreq > 0 && step % s.probeFreq === 0) || o.probeWhen?.(r)) && Number.isFinite(lv)) {
    r.probe = st.monitor.observe({ params: [theta], loss: () => obj.loss(theta) }, step, s.eta, s.mss);
    if (r.sharpness === undefined && Number.isFinite(r.probe.sharpness)) r.sharpness = r.probe.sharpness;
  }
  if (st.proj && step % o.iterateFreq! === 0) r.projection = torch.noGrad(() => Array.from(st.proj!.mv(theta).toFloat64Array()));
  if (st.keepAt.has(step)) st.kept.set(step, theta.detach().clone().keep());
  return r;
}

/** The stop rule a trace row triggers, if any. */
function stopOf(row: GDRow, o: GDOptions, s: LoopSettings): GDResult['stopReason'] | null {
  if (!Number.isFinite(row.loss) || row.loss > s.divergeLoss) return 'diverged';
  if (o.lossGoal !== undefined && row.loss < o.lossGoal) return 'lossGoal';
  if (o.accGoal !== undefined && row.acc !== undefined && row.acc > o.accGoal) return 'accGoal';
  return null;
}

/** θ_{t+1} from θ_t with the gradient at θ_t (full batch, or a mini-batch in the SGD variant). */
function update(obj: Objective, s: LoopSettings, st: LoopState): void {
  torch.scope(() => {
    const theta = st.theta;
    let g: Tensor;
    if (st.nextBatch) {
      const [gb] = torch.grad(obj.batchLoss!(theta, st.nextBatch()), [theta], { allowUnused: true });
      g = (gb ?? torch.zerosLike(theta)).detach();
    } else {
      g = st.prevGrad!;
    }
    torch.noGrad(() => {
      if (s.momentum === 'none') theta.sub_(g, s.eta);
      else {
        st.velocity!.mul_(s.beta).add_(g);
        if (s.momentum === 'polyak') theta.sub_(st.velocity!, s.eta);
        else theta.sub_(g.add(st.velocity!.mul(s.beta)), s.eta);
      }
    });
  });
}

export function runGD(obj: Objective, o: GDOptions): GDResult {
  const s = settingsOf(o);
  if (!(Number.isInteger(o.maxSteps) && o.maxSteps >= 0)) throw new Error(`maxSteps must be a non-negative integer, got ${o.maxSteps}`);
  const st = initialState(obj, o, s);
  const trace: GDRow[] = [];
  let stopReason: GDResult['stopReason'] = 'maxSteps';
  let step = o.resume?.step ?? 0;
  try {
    for (; ; step++) {
      if (o.signal?.aborted) { stopReason = 'aborted'; break; }
      const row = torch.scope(() => measureStep(obj, o, s, st, step));
      trace.push(row);
      o.onStep?.(row);
      const stop = stopOf(row, o, s);
      if (stop) { stopReason = stop; break; }
      if (step >= o.maxSteps) break;
      update(obj, s, st);
      if (o.onCheckpoint && o.checkpointFreq && (step + 1) % o.checkpointFreq === 0) o.onCheckpoint(step + 1, st.theta, st.velocity);
    }
  } finally {
    st.prevGrad?.dispose();
    st.proj?.dispose();
    st.monitor?.dispose();
  }
  st.theta.requiresGrad = false;
  return { theta: st.theta, velocity: st.velocity, trace, steps: step, stopReason, mss: s.mss, kept: st.kept };
}

/**
 * runGD in chunks of `chunk` steps, yielding to the event loop between chunks so that Ctrl-C /
 * dashboard stops (ctx.signal) and progress output get through. Same result as runGD.
 */
export async function runGDAsync(obj: Objective, o: GDOptions, chunk = 250): Promise<GDResult> {
  let start = o.resume?.step ?? 0;
  let theta: Tensor | undefined = o.resume?.theta;
  let velocity: Tensor | undefined = o.resume?.velocity;
  const trace: GDRow[] = [];
  const kept = new Map<number, Tensor>();
  let last: GDResult | null = null;
  for (;;) {
    const end = Math.min(o.maxSteps, start + chunk);
    const r = runGD(obj, { ...o, maxSteps: end, resume: theta ? { theta, velocity, step: start } : undefined });
    if (last) { last.theta.dispose(); last.velocity?.dispose(); }
    for (const [k, v] of r.kept) kept.set(k, v);
    trace.push(...(trace.length && r.trace[0]?.step === trace.at(-1)!.step ? r.trace.slice(1) : r.trace));
    last = r;
    if (r.stopReason !== 'maxSteps' || end >= o.maxSteps) break;
    theta = r.theta; velocity = r.velocity ?? undefined; start = end;
    await new Promise((res) => setImmediate(res));
    if (o.signal?.aborted) { last.stopReason = 'aborted'; break; }
  }
  return { ...last!, trace, kept };
}
