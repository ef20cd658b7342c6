// Comparing two algorithms on the same cases (the PI-CAI statistical analysis, Saha et al., Lancet
// Oncol. 2024, as picai_eval's statistical_helper runs it with mlxtend's permutation_test): a
// paired permutation test. Under H0 (the two algorithms are exchangeable) each case's pair of
// evaluations — its lesion tuples and case-level prediction from A and from B — may be swapped;
// the p-value is the share of swap patterns whose metric difference is at least as extreme as the
// observed one. Exact over all 2^n patterns when that is no more than the iterations asked for
// (mlxtend's method 'exact'), else Monte Carlo with (k + 1) / (N + 1) (method 'approximate').
import { Rng } from '../../core/rng.ts';
import { UsageError } from '../../core/errors.ts';
import type { CaseEvaluation, LesionTuple } from './evaluate.ts';

export type Headline = { auroc: number; AP: number; score: number };
export const HEADLINE_KEYS = ['auroc', 'AP', 'score'] as const;

/** AUROC by mid-ranks (Mann–Whitney, ties ½): O(n log n), the same value as evaluate.ts's auroc. */
export function aurocRanks(scores: readonly number[], targets: readonly number[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0, sumRanks = 0;
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]!] === scores[idx[i]!]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (targets[idx[k]!]) { pos++; sumRanks += rank; }
    i = j + 1;
  }
  const neg = idx.length - pos;
  if (!pos || !neg) return NaN;
  return (sumRanks - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** AP over pooled lesion tuples by one sorted sweep: the same value as evaluate.ts's lesionCurves. */
export function apSorted(tuples: readonly LesionTuple[]): number {
  let N = 0;
  for (const t of tuples) if (t[0] === 1) N++;
  if (!N) return NaN;
  const c = tuples.filter((t) => t[1] > 0).sort((a, b) => b[1] - a[1]);
  let tp = 0, fp = 0, ap = 0, prevR = 0;
  for (let i = 0; i < c.length;) {
    let j = i;
    while (j < c.length && c[j]![1] === c[i]![1]) { if (c[j]![0] === 1) tp++; else fp++; j++; }
    const R = tp / N;
    ap += (R - prevR) * (tp / (tp + fp));
    prevR = R;
    i = j;
  }
  return ap;
}

export function headline(cases: readonly CaseEvaluation[]): Headline {
  const a = aurocRanks(cases.map((c) => c.casePred), cases.map((c) => c.caseTarget));
  const AP = apSorted(cases.flatMap((c) => c.lesions));
  return { auroc: a, AP, score: (a + AP) / 2 };
}

export interface MetricTest { a: number; b: number; diff: number; p_two_sided: number; p_b_better: number }
export interface PermutationResult {
  method: 'exact' | 'approximate';
  permutations: number;
  cases: number;
  metrics: Record<(typeof HEADLINE_KEYS)[number], MetricTest>;
}

/**
 * Paired permutation test of B against A on the same cases (keys must match). p_b_better: H1 =
 * B is better (picai_eval's one-sided convention); p_two_sided: |difference| at least as large.
 */
export function pairedPermutationTest(
  A: Record<string, CaseEvaluation>, B: Record<string, CaseEvaluation>, iterations = 10_000, seed = 0,
): PermutationResult {
  const keys = Object.keys(A).sort();
  const kb = Object.keys(B).sort();
  if (keys.length !== kb.length || keys.some((k, i) => k !== kb[i])) {
    const only = keys.filter((k) => !(k in B)).concat(kb.filter((k) => !(k in A)));
    throw new UsageError(`the two algorithms must be evaluated on the same cases; ${only.length} differ (e.g. ${only.slice(0, 3).join(', ')})`);
  }
  for (const k of keys) if (A[k]!.caseTarget !== B[k]!.caseTarget) throw new UsageError(`case ${k}: the two evaluations disagree on the label`);
  const a = keys.map((k) => A[k]!), b = keys.map((k) => B[k]!);
  const obsA = headline(a), obsB = headline(b);
  const n = keys.length;
  const exact = n <= 24 && 2 ** n <= iterations;
  const total = exact ? 2 ** n : iterations;
  const moreTwo = { auroc: 0, AP: 0, score: 0 }, moreB = { auroc: 0, AP: 0, score: 0 };
  const rng = new Rng(seed);
  const xa: CaseEvaluation[] = new Array(n), xb: CaseEvaluation[] = new Array(n);
  for (let it = 0; it < total; it++) {
    for (let i = 0; i < n; i++) {
      const swap = exact ? (it >> i) & 1 : rng.random() < 0.5;
      xa[i] = swap ? b[i]! : a[i]!;
      xb[i] = swap ? a[i]! : b[i]!;
    }
    const ma = headline(xa), mb = headline(xb);
    for (const m of HEADLINE_KEYS) {
      // "at least as extreme" as mlxtend counts it: d > d0 or np.isclose(d, d0) (atol 1e-8, rtol 1e-5)
      const d = mb[m] - ma[m], d0 = obsB[m] - obsA[m];
      if (Math.abs(d) >= Math.abs(d0) - (1e-8 + 1e-5 * Math.abs(d0))) moreTwo[m]++;
      if (d >= d0 - (1e-8 + 1e-5 * Math.abs(d0))) moreB[m]++;
    }
  }
  // the observed pattern is one of the 2^n (exact); Monte Carlo adds it once: (k + 1) / (N + 1)
  const p = (k: number) => (exact ? k / total : (k + 1) / (total + 1));
  const metrics = Object.fromEntries(HEADLINE_KEYS.map((m) => [m, {
    a: obsA[m], b: obsB[m], diff: obsB[m] - obsA[m], p_two_sided: p(moreTwo[m]), p_b_better: p(moreB[m]),
  }])) as PermutationResult['metrics'];
  return { method: exact ? 'exact' : 'approximate', permutations: total, cases: n, metrics };
}
