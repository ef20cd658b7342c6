// What the experiments report about a GD trace: the edge-of-stability window (Cohen et al.: the
// sharpness rises to 2/η, or the optimizer's maximum stable sharpness, and hovers there) and the
// medians of the unstable-convergence probes of Ahn, Zhang & Sra over it.
import { median, type GDRow } from '../../core/dynamics/index.ts';

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
