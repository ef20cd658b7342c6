// threshold-neurons: the one source of every default. The command schemas (commands.ts) take their
// defaults from `defaults`, and the typed API (runSweep, runMeanTrajectory, runXy) parses its input
// with the same schemas, so the CLI, the dashboard and code calling the functions agree. The sizes
// are CPU scale (seconds to minutes); `quick` is a seconds-scale preset (the tests' CLI runs).
// Plain data only: this file loads no engine.

export const MODELS = ['mean', 'full'] as const;
/** where a± sit in the full net: output weights (eq. (2) of Ahn et al. 2023) or inside the ReLUs */
export const VARIANTS = ['output-layer', 'first-layer'] as const;
export const REDUCTIONS = ['mean', 'sum'] as const;
export const ENGINES = ['fast', 'autograd'] as const;
/** ℓ of the single-neuron model ℓ(xy): √(1+s²), log(1+eˢ)+log(1+e⁻ˢ), and half of the latter */
export const XY_LOSSES = ['sqrt', 'symlogistic', 'halfsymlogistic'] as const;

/** The sparse-coding data x = λ·y·e_j + ξ (Ahn et al. 2023, eq. (1)) and the loss reduction. */
const data = { d: 200, nTrain: 300, nTest: 2000, lambda: 3, reduction: 'mean' as const };

export const defaults = {
  data,
  sweep: {
    ...data,
    model: 'mean' as const,
    variant: 'output-layer' as const,
    /** η × steps of every run */
    time: 10,
    etaGrid: '1e-4:2e-3:20',
    kinkTol: 0.01,
    engine: 'fast' as const,
  },
  meanTrajectory: { ...data, d: 50, eta: 0.015, time: 10, every: 5 },
  xy: { loss: 'sqrt' as const, x0: 0.1, y0: 3, etas: [0.05, 0.1, 0.15, 0.2, 0.25, 0.2857, 0.3, 0.35], steps: 200_000 },
};

/** Seconds-scale sizes: the full-net sweep and the mean-model trajectory the CLI tests run. */
export const quick = {
  sweep: { model: 'full' as const, d: 20, nTrain: 60, nTest: 200, time: 5, etaGrid: 'auto' },
  meanTrajectory: { d: 30, nTrain: 100, nTest: 200, eta: 0.04, time: 5 },
  xy: { etas: [0.1, 0.2, 0.2857, 0.3], steps: 100_000 },
};

const GRID = /^\s*([0-9.eE+-]+)\s*:\s*([0-9.eE+-]+)\s*:\s*(\d+)\s*$/;

/**
 * The η values of a log grid "lo:hi:count" (count values from lo to hi, log-spaced), or a message
 * saying what is wrong with the text. 'auto' is not a grid: the sweep picks 0.25×–4× the measured
 * threshold 2/λ_max(θ₀) itself.
 */
export function gridValues(s: string): number[] | string {
  const m = GRID.exec(s);
  if (!m) return `expected "lo:hi:count" (a log grid) or "auto", got '${s}'`;
  const lo = Number(m[1]), hi = Number(m[2]), k = Number(m[3]);
  if (!(lo > 0 && hi > lo && k >= 2)) return `need 0 < lo < hi and count ≥ 2, got '${s}'`;
  return Array.from({ length: k }, (_, i) => lo * (hi / lo) ** (i / (k - 1)));
}
