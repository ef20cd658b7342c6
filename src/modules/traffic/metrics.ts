// Change-point evaluation metrics [ours, the usual ones of change-point benchmarks]: precision/recall/F1 at a margin, Hausdorff distance,
// annotation error, Rand index. Change-points are slice indices b (slices b.. start a new regime);
// the sequence ends 0 and T are implicit and never count as change-points.

export interface CpScores {
  precision: number; recall: number; f1: number;
  hausdorff: number; annotationError: number; rand: number;
  truePositives: number; nPred: number; nTrue: number;
}

function clean(cps: readonly number[], T: number, what: string): number[] {
  for (const c of cps) {
    if (!Number.isInteger(c)) throw new Error(`${what}: change-point ${c} is not an integer slice index`);
  }
  return [...new Set(cps)].filter((c) => c > 0 && c < T).sort((a, b) => a - b);
}

/**
 * Number of true change-points matched one-to-one to a prediction within ±margin slices.
 * Greedy left-to-right matching of sorted points is optimal for interval matching on a line.
 */
export function matchCount(pred: readonly number[], truth: readonly number[], margin: number): number {
  const p = [...pred].sort((a, b) => a - b), t = [...truth].sort((a, b) => a - b);
  let i = 0, m = 0;
  for (const tb of t) {
    while (i < p.length && p[i]! < tb - margin) i++;
    if (i < p.length && p[i]! <= tb + margin) { m++; i++; }
  }
  return m;
}

/** precision, recall, F1 at margin m. Conventions: no predictions and no truth -> all 1. */
export function prf(pred: readonly number[], truth: readonly number[], margin = 1): { precision: number; recall: number; f1: number; tp: number } {
  const tp = matchCount(pred, truth, margin);
  const precision = pred.length === 0 ? (truth.length === 0 ? 1 : 0) : tp / pred.length;
  const recall = truth.length === 0 ? (pred.length === 0 ? 1 : 0) : tp / truth.length;
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { precision, recall, f1, tp };
}

/** Hausdorff distance in slices; 0 when both empty, Infinity when exactly one is empty. */
export function hausdorff(pred: readonly number[], truth: readonly number[]): number {
  if (pred.length === 0 && truth.length === 0) return 0;
  if (pred.length === 0 || truth.length === 0) return Infinity;
  const dir = (a: readonly number[], b: readonly number[]) => {
    let worst = 0;
    for (const x of a) { let best = Infinity; for (const y of b) best = Math.min(best, Math.abs(x - y)); worst = Math.max(worst, best); }
    return worst;
  };
  return Math.max(dir(pred, truth), dir(truth, pred));
}

export function annotationError(pred: readonly number[], truth: readonly number[]): number {
  return Math.abs(pred.length - truth.length);
}

/** Segment label of every slice 0..T-1 for change-points cps. */
export function segmentLabels(cps: readonly number[], T: number): Int32Array {
  const lab = new Int32Array(T);
  const s = [...cps].sort((a, b) => a - b);
  let k = 0;
  for (let t = 0; t < T; t++) { while (k < s.length && s[k]! <= t) k++; lab[t] = k; }
  return lab;
}

/** Rand index between the segmentations induced by two change-point sets on T slices. */
export function randIndex(pred: readonly number[], truth: readonly number[], T: number): number {
  if (T < 2) return 1;
  const a = segmentLabels(pred, T), b = segmentLabels(truth, T);
  // pairs agreeing = C(T,2) - (pairs same in a) - (same in b) + 2 (same in both)
  const cnt = (lab: Int32Array) => { const m = new Map<number, number>(); for (const v of lab) m.set(v, (m.get(v) ?? 0) + 1); return m; };
  const pairs = (m: Map<number, number>) => { let s = 0; for (const v of m.values()) s += (v * (v - 1)) / 2; return s; };
  const joint = new Map<number, number>();
  for (let t = 0; t < T; t++) { const k = a[t]! * (T + 1) + b[t]!; joint.set(k, (joint.get(k) ?? 0) + 1); }
  const total = (T * (T - 1)) / 2;
  const sa = pairs(cnt(a)), sb = pairs(cnt(b)), sab = pairs(joint);
  return (total - sa - sb + 2 * sab) / total;
}

/** All the metrics at once. */
export function scoreChangepoints(pred0: readonly number[], truth0: readonly number[], T: number, margin = 1): CpScores {
  const pred = clean(pred0, T, 'predicted'), truth = clean(truth0, T, 'true');
  const { precision, recall, f1, tp } = prf(pred, truth, margin);
  return {
    precision, recall, f1, hausdorff: hausdorff(pred, truth), annotationError: annotationError(pred, truth),
    rand: randIndex(pred, truth, T), truePositives: tp, nPred: pred.length, nTrue: truth.length,
  };
}
