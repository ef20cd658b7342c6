// PI-CAI evaluation (the challenge protocol of Saha et al., Lancet Oncol. 2024, as picai_eval
// implements it): lesion matching by IoU >= 0.1 (Hungarian, one-to-one), AP with
// missed lesions counted, AUROC on the case maximum, ranking score (AUROC + AP)/2, plus PR, ROC and
// FROC curves, sensitivity at given FP/case, and case-bootstrap CIs.
import { label26, type Shape3 } from './postprocess.ts';
import { Rng } from '../../core/rng.ts';

/** [is_lesion, confidence, overlap] */
export type LesionTuple = [number, number, number];

export interface CaseEvaluation { lesions: LesionTuple[]; casePred: number; caseTarget: number }

/** Maximum-weight one-to-one assignment (Hungarian / Kuhn–Munkres) on a rectangular weight matrix. Returns pairs [row, col]. */
export function maxWeightAssignment(W: number[][]): [number, number][] {
  const nr = W.length, nc = nr ? W[0]!.length : 0;
  if (!nr || !nc) return [];
  const n = Math.max(nr, nc);
  let maxW = 0;
  for (const r of W) for (const v of r) maxW = Math.max(maxW, v);
  // minimise cost = maxW − w on an n×n padded matrix (padding weight 0)
  const cost = (i: number, j: number) => maxW - (i < nr && j < nc ? W[i]![j]! : 0);
  const u = new Float64Array(n + 1), v = new Float64Array(n + 1);
  const p = new Int32Array(n + 1), way = new Int32Array(n + 1);
  for (let i = 1; i <= n; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(n + 1).fill(Infinity);
    const used = new Uint8Array(n + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = Infinity, j1 = 0;
      for (let j = 1; j <= n; j++) {
        if (used[j]) continue;
        const cur = cost(i0 - 1, j - 1) - u[i0]! - v[j]!;
        if (cur < minv[j]!) { minv[j] = cur; way[j] = j0; }
        if (minv[j]! < delta) { delta = minv[j]!; j1 = j; }
      }
      for (let j = 0; j <= n; j++) {
        if (used[j]) { u[p[j]!]! += delta; v[j]! -= delta; } else minv[j]! -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do { const j1 = way[j0]!; p[j0] = p[j1]!; j0 = j1; } while (j0);
  }
  const pairs: [number, number][] = [];
  for (let j = 1; j <= n; j++) if (p[j]! - 1 < nr && j - 1 < nc) pairs.push([p[j]! - 1, j - 1]);
  return pairs;
}

export interface EvalOptions {
  /** overlap measure: IoU (default) or Dice */
  overlap?: 'IoU' | 'DSC';
  /** minimum overlap for a hit (0.1) */
  minOverlap?: number;
}

/**
 * Evaluates one case (picai_eval's per-case matching: candidates, GT lesions, IoU, assignment).
 * det: detection map, label: binary (any value >= 1 is lesion).
 */
export function evaluateCase(det: ArrayLike<number>, label: ArrayLike<number>, shape: Shape3, o: EvalOptions = {}, name = 'case'): CaseEvaluation {
  const n = shape[0] * shape[1] * shape[2];
  if (det.length !== n || label.length !== n) throw new Error(`${name}: detection map (${det.length}) and label (${label.length}) must both have ${n} voxels`);
  const minO = o.minOverlap ?? 0.1;
  const dl = label26(det, shape);
  const values = new Set<number>();
  let casePred = 0;
  for (let i = 0; i < n; i++) {
    const v = det[i]!;
    if (!Number.isFinite(v) || v < 0) throw new Error(`${name}: detection map holds ${v} at voxel ${i}; values must be finite and >= 0`);
    if (v > 0) values.add(v);
    if (v > casePred) casePred = v;
  }
  if (values.size > dl.count) throw new Error(`${name}: ${values.size} distinct values in ${dl.count} components: this is a softmax, not a detection map (run lesion-candidate extraction first)`);
  const conf = new Float64Array(dl.count + 1), csize = new Int32Array(dl.count + 1);
  for (let i = 0; i < n; i++) { const l = dl.labels[i]!; if (l) { csize[l]!++; conf[l] = Math.max(conf[l]!, det[i]!); } }
  const bin = new Uint8Array(n);
  let anyGT = false;
  for (let i = 0; i < n; i++) if (label[i]! >= 1) { bin[i] = 1; anyGT = true; }
  const lesions: LesionTuple[] = [];
  if (!anyGT) {
    for (let c = 1; c <= dl.count; c++) lesions.push([0, conf[c]!, 0]);
    return { lesions, casePred, caseTarget: 0 };
  }
  const gl = label26(bin, shape);
  const gsize = new Int32Array(gl.count + 1);
  const inter: number[][] = Array.from({ length: gl.count }, () => new Array(dl.count).fill(0));
  for (let i = 0; i < n; i++) {
    const g = gl.labels[i]!, c = dl.labels[i]!;
    if (g) gsize[g]!++;
    if (g && c) inter[g - 1]![c - 1]!++;
  }
  const O = inter.map((row, g) => row.map((I, c) => {
    const a = gsize[g + 1]!, b = csize[c + 1]!;
    const ov = o.overlap === 'DSC' ? (2 * I) / (a + b) : I / (a + b - I);
    return ov;
  }));
  const Wm = O.map((row) => row.map((v) => (v >= minO ? v + 1 : 0)));
  const pairs = maxWeightAssignment(Wm).filter(([g, c]) => Wm[g]![c]! > 0);
  const gMatched = new Set(pairs.map(([g]) => g)), cMatched = new Set(pairs.map(([, c]) => c));
  for (const [g, c] of pairs) lesions.push([1, conf[c + 1]!, O[g]![c]!]);
  for (let g = 0; g < gl.count; g++) if (!gMatched.has(g)) lesions.push([1, 0, 0]);
  for (let c = 0; c < dl.count; c++) {
    if (cMatched.has(c)) continue;
    const hits = O.some((row) => row[c]! >= minO);
    if (!hits) lesions.push([0, conf[c + 1]!, 0]);
  }
  return { lesions, casePred, caseTarget: 1 };
}

/** AUROC by the Mann–Whitney statistic (ties ½); NaN when one class is absent. */
export function auroc(scores: readonly number[], targets: readonly number[], weights?: readonly number[]): number {
  let pos = 0, neg = 0, s = 0;
  const w = (i: number) => weights?.[i] ?? 1;
  for (let i = 0; i < scores.length; i++) {
    if (targets[i]) pos += w(i);
    else neg += w(i);
  }
  if (pos === 0 || neg === 0) return NaN;
  for (let i = 0; i < scores.length; i++) {
    if (!targets[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (targets[j]) continue;
      const d = scores[i]! - scores[j]!;
      s += w(i) * w(j) * (d > 0 ? 1 : d === 0 ? 0.5 : 0);
    }
  }
  return s / (pos * neg);
}

/** ROC curve points (fpr, tpr) at each distinct threshold, descending. */
export function rocCurve(scores: readonly number[], targets: readonly number[]): { fpr: number; tpr: number; threshold: number }[] {
  const P = targets.filter(Boolean).length, N = targets.length - P;
  const th = [...new Set(scores)].sort((a, b) => b - a);
  const pts = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  for (const t of th) {
    let tp = 0, fp = 0;
    scores.forEach((s, i) => {
      if (!(s >= t)) return;
      if (targets[i]) tp++;
      else fp++;
    });
    pts.push({ fpr: N ? fp / N : NaN, tpr: P ? tp / P : NaN, threshold: t });
  }
  return pts;
}

export interface LesionCurves {
  ap: number;
  pr: { recall: number; precision: number; threshold: number }[];
  froc: { fpPerCase: number; sensitivity: number; threshold: number }[];
  numLesions: number;
}

/** AP over pooled lesion tuples (picai_eval: missed lesions raise the denominator) and the PR and FROC curves. */
export function lesionCurves(tuples: readonly LesionTuple[], numCases: number, weights?: readonly number[]): LesionCurves {
  const w = (i: number) => weights?.[i] ?? 1;
  let N = 0;
  tuples.forEach((t, i) => { if (t[0] === 1) N += w(i); });
  const th = [...new Set(tuples.map((t) => t[1]).filter((c) => c > 0))].sort((a, b) => b - a);
  const pr: LesionCurves['pr'] = [], froc: LesionCurves['froc'] = [];
  let ap = 0, prevR = 0;
  for (const t of th) {
    let tp = 0, fp = 0;
    tuples.forEach((u, i) => {
      if (!(u[1] >= t)) return;
      if (u[0] === 1) tp += w(i);
      else fp += w(i);
    });
    const P = tp / (tp + fp), R = N > 0 ? tp / N : NaN;
    ap += (R - prevR) * P;
    prevR = R;
    pr.push({ recall: R, precision: P, threshold: t });
    froc.push({ fpPerCase: fp / Math.max(1, numCases), sensitivity: R, threshold: t });
  }
  return { ap: N === 0 ? NaN : ap, pr, froc, numLesions: N };
}

/** Lesion sensitivity at a given number of false positives per case (largest operating point within budget). */
export function sensitivityAtFP(froc: LesionCurves['froc'], fpPerCase: number): number {
  let s = 0;
  for (const p of froc) if (p.fpPerCase <= fpPerCase) s = Math.max(s, p.sensitivity);
  return s;
}

export interface PicaiMetrics {
  auroc: number;
  AP: number;
  score: number;
  num_cases: number;
  num_lesions: number;
  lesion_results: Record<string, LesionTuple[]>;
  case_pred: Record<string, number>;
  case_target: Record<string, number>;
  sensitivity_at_fp: Record<string, number>;
  curves: { roc: ReturnType<typeof rocCurve>; pr: LesionCurves['pr']; froc: LesionCurves['froc'] };
}

/** Aggregates per-case evaluations into the PI-CAI metrics JSON. */
export function aggregate(cases: Record<string, CaseEvaluation>, caseWeights?: Record<string, number>): PicaiMetrics {
  const names = Object.keys(cases);
  const scores = names.map((n) => cases[n]!.casePred), targets = names.map((n) => cases[n]!.caseTarget);
  const cw = caseWeights ? names.map((n) => caseWeights[n] ?? 1) : undefined;
  const tuples: LesionTuple[] = [], tw: number[] = [];
  for (const n of names) for (const t of cases[n]!.lesions) { tuples.push(t); tw.push(caseWeights?.[n] ?? 1); }
  const a = auroc(scores, targets, cw);
  const lc = lesionCurves(tuples, names.length, caseWeights ? tw : undefined);
  return {
    auroc: a, AP: lc.ap, score: (a + lc.ap) / 2, num_cases: names.length, num_lesions: lc.numLesions,
    lesion_results: Object.fromEntries(names.map((n) => [n, cases[n]!.lesions])),
    case_pred: Object.fromEntries(names.map((n, i) => [n, scores[i]!])),
    case_target: Object.fromEntries(names.map((n, i) => [n, targets[i]!])),
    sensitivity_at_fp: Object.fromEntries([0.25, 0.5, 1, 2, 4].map((f) => [String(f), sensitivityAtFP(lc.froc, f)])),
    curves: { roc: rocCurve(scores, targets), pr: lc.pr, froc: lc.froc },
  };
}

/** Case-bootstrap 95% CIs of AUROC, AP and score (resampling cases with replacement). */
export function bootstrapCI(cases: Record<string, CaseEvaluation>, iterations = 200, seed = 0): Record<'auroc' | 'AP' | 'score', [number, number]> {
  const rng = new Rng(seed);
  const names = Object.keys(cases);
  const acc = { auroc: [] as number[], AP: [] as number[], score: [] as number[] };
  for (let b = 0; b < iterations; b++) {
    const sample: Record<string, CaseEvaluation> = {};
    for (let i = 0; i < names.length; i++) sample[`${i}`] = cases[names[rng.int(0, names.length)]!]!;
    const m = aggregate(sample);
    if (Number.isFinite(m.auroc)) acc.auroc.push(m.auroc);
    if (Number.isFinite(m.AP)) acc.AP.push(m.AP);
    if (Number.isFinite(m.score)) acc.score.push(m.score);
  }
  const q = (a: number[]): [number, number] => {
    if (!a.length) return [NaN, NaN];
    const s = [...a].sort((x, y) => x - y);
    return [s[Math.floor(0.025 * (s.length - 1))]!, s[Math.ceil(0.975 * (s.length - 1))]!];
  };
  return { auroc: q(acc.auroc), AP: q(acc.AP), score: q(acc.score) };
}

/** JSON-safe copy (NaN → null). */
export function jsonSafe<T>(x: T): T {
  return JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v)));
}
