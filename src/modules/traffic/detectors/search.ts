// Search methods over a segment cost, with ruptures' definitions and conventions (Truong, Oudre,
// Vayatis, Signal Processing 167, 2020, §5; the library's Pelt, Dynp, Binseg, Window) [ours]:
// a segmentation is the list of breakpoints ending with T (segment k is [bkps[k−1], bkps[k])),
// candidate breakpoints are multiples of `jump` (Binseg: start + multiples of `jump`), every segment
// has ≥ minSize samples, and the stopping rule is a count (nBkps), a penalty (pen) or a cost budget
// (epsilon). Ties go the way ruptures' min/max/sort break them (noted at each place).
//   pelt    exact penalised search with pruning (Killick, Fearnhead, Eckley, JASA 2012);
//   dynp    exact search for a known count (dynamic programming);
//   binseg  greedy binary segmentation: split the segment whose best split gains most;
//   window  two adjacent windows of width/2 slide over the signal; the score at k is
//           c(k−w/2, k+w/2) − c(k−w/2, k) − c(k, k+w/2); its local maxima (within `order` positions,
//           circularly, strictly greater: scipy's argrelmax, mode 'wrap') are taken by decreasing score.
import type { SegmentCost } from './costs.ts';
import { sumOfCosts } from './costs.ts';

/** How a greedy search stops: exactly one of them. Pelt takes only `pen`, Dynp only `nBkps`. */
export interface StopRule { nBkps?: number | null; pen?: number | null; epsilon?: number | null }

/** Whether a segmentation can exist (ruptures' sanity_check). */
export function sanityCheck(n: number, nBkps: number, jump: number, minSize: number): boolean {
  if (nBkps > Math.floor(n / jump)) return false;
  return nBkps * Math.ceil(minSize / jump) * jump + minSize <= n;
}

function check(cost: SegmentCost, nBkps: number, jump: number, minSize: number): void {
  if (!(Number.isInteger(jump) && jump >= 1)) throw new Error(`jump must be an integer ≥ 1, got ${jump}`);
  if (!(Number.isInteger(minSize) && minSize >= 1)) throw new Error(`minSize must be an integer ≥ 1, got ${minSize}`);
  if (!sanityCheck(cost.T, nBkps, jump, minSize)) {
    throw new Error(`no segmentation of ${cost.T} samples into ${nBkps + 1} segment(s) with minSize ${minSize} and jump ${jump}`);
  }
}

/** PELT: min Σ (c(segment) + pen); bkps end with T. */
export function peltSearch(cost: SegmentCost, pen: number, minSizeIn = 2, jump = 5): number[] {
  const minSize = Math.max(minSizeIn, cost.minSize), n = cost.T;
  check(cost, 0, jump, minSize);
  const val = new Map<number, number>([[0, 0]]), prev = new Map<number, number>([[0, -1]]);
  const ind: number[] = [];
  for (let k = 0; k < n; k += jump) if (k >= minSize) ind.push(k);
  ind.push(n);
  let adm: number[] = [];
  for (const bkp of ind) {
    adm.push(Math.floor((bkp - minSize) / jump) * jump);
    const subs: { t: number; v: number }[] = [];
    for (const t of adm) {
      const left = val.get(t);
      if (left === undefined) continue; // no partition of [0, t) exists
      subs.push({ t, v: left + cost.error(t, bkp) + pen });
    }
    let best = subs[0]!; // the first minimum, as Python's min
    for (const s of subs) if (s.v < best.v) best = s;
    val.set(bkp, best.v); prev.set(bkp, best.t);
    adm = subs.filter((s) => s.v <= best.v + pen).map((s) => s.t);
  }
  const out: number[] = [];
  for (let t = n; t > 0; t = prev.get(t)!) out.push(t);
  return out.reverse();
}

/** Dynp: the exact best segmentation with nBkps breakpoints; bkps end with T. */
export function dynpSearch(cost: SegmentCost, nBkps: number, minSizeIn = 2, jump = 5): number[] {
  const minSize = Math.max(minSizeIn, cost.minSize), n = cost.T;
  check(cost, nBkps, jump, minSize);
  const memo = new Map<string, { v: number; bkps: number[] }>();
  // seg(0, end, k) of ruptures: the left part always starts at 0
  const seg = (end: number, k: number): { v: number; bkps: number[] } => {
    const key = `${end},${k}`, hit = memo.get(key);
    if (hit) return hit;
    let best: { v: number; bkps: number[] } | null = null;
    if (k === 0) best = { v: cost.error(0, end), bkps: [end] };
    else {
      for (let b = 0; b < end; b += jump) {
        if (!sanityCheck(b, k - 1, jump, minSize) || end - b < minSize) continue;
        const left = seg(b, k - 1), v = left.v + cost.error(b, end);
        if (best === null || v < best.v) best = { v, bkps: [...left.bkps, end] }; // first minimum
      }
      if (best === null) throw new Error(`dynp: no admissible breakpoint for [0, ${end}) with ${k} breakpoint(s)`);
    }
    memo.set(key, best);
    return best;
  };
  return seg(n, nBkps).bkps;
}

function stopRule(s: StopRule): void {
  const given = [s.nBkps, s.pen, s.epsilon].filter((v) => v !== undefined && v !== null).length;
  if (given !== 1) throw new Error('give exactly one of nBkps, pen, epsilon');
}

/** Binseg; bkps end with T. */
export function binsegSearch(cost: SegmentCost, stop: StopRule, minSizeIn = 2, jump = 5): number[] {
  stopRule(stop);
  const minSize = Math.max(minSizeIn, cost.minSize), n = cost.T;
  check(cost, stop.nBkps ?? 0, jump, minSize);
  const memo = new Map<string, [number | null, number]>();
  const single = (a: number, b: number): [number | null, number] => {
    const key = `${a},${b}`, hit = memo.get(key);
    if (hit) return hit;
    const whole = cost.error(a, b);
    let best: [number | null, number] = [null, 0];
    if (!(whole === -Infinity)) {
      let g = -Infinity, at = -1;
      for (let k = a; k < b; k += jump) {
        if (k - a < minSize || b - k < minSize) continue;
        const gain = whole - cost.error(a, k) - cost.error(k, b);
        if (gain > g || (gain === g && k > at)) { g = gain; at = k; } // max of (gain, bkp) tuples
      }
      if (at >= 0) best = [at, g];
    }
    memo.set(key, best);
    return best;
  };
  const bkps = [n];
  for (;;) {
    let pick: [number | null, number] | null = null, a = 0;
    for (const b of bkps) { const s = single(a, b); if (pick === null || s[1] > pick[1]) pick = s; a = b; } // first maximum
    const [bkp, gain] = pick!;
    if (bkp === null) break;
    let go = false;
    if (stop.nBkps != null) go = bkps.length - 1 < stop.nBkps;
    else if (stop.pen != null) go = gain > stop.pen;
    else go = sumOfCosts(cost, bkps) > stop.epsilon!;
    if (!go) break;
    bkps.push(bkp); bkps.sort((x, y) => x - y);
  }
  return bkps;
}

/** The window score: candidate indices (multiples of jump, w/2 from both ends) and their gains. */
export function windowScore(cost: SegmentCost, width: number, jump = 5): { inds: number[]; score: number[] } {
  const h = Math.floor(width / 2), n = cost.T, inds: number[] = [], score: number[] = [];
  for (let k = 0; k < n; k += jump) {
    if (k < h || k >= n - h) continue;
    inds.push(k);
    const whole = cost.error(k - h, k + h);
    score.push(whole === -Infinity ? 0 : whole - cost.error(k - h, k) - cost.error(k, k + h));
  }
  return { inds, score };
}

/** Positions strictly greater than their `order` neighbours on each side, circularly (argrelmax, mode 'wrap'). */
export function relMaxWrap(s: number[], order: number): number[] {
  const m = s.length, out: number[] = [];
  for (let i = 0; i < m; i++) {
    let ok = true;
    for (let sh = 1; sh <= order && ok; sh++) ok = s[i]! > s[(((i + sh) % m) + m) % m]! && s[i]! > s[(((i - sh) % m) + m) % m]!;
    if (ok) out.push(i);
  }
  return out;
}

/** Window (sliding window) search; `width` is rounded down to even as in ruptures; bkps end with T. */
export function windowSearch(cost: SegmentCost, stop: StopRule, widthIn = 100, minSize = 2, jump = 5): number[] {
  stopRule(stop);
  check(cost, stop.nBkps ?? 0, jump, minSize);
  const width = 2 * Math.floor(widthIn / 2), n = cost.T;
  const { inds, score } = windowScore(cost, width, jump);
  const bkps = [n];
  const order = Math.max(Math.floor(Math.max(width, 2 * minSize) / (2 * jump)), 1);
  const peaks = relMaxWrap(score, order).map((i) => ({ g: score[i]!, k: inds[i]! }));
  // sorted by (score, index) ascending and popped from the end: the highest score first, ties → larger index
  peaks.sort((p, q) => p.g - q.g || p.k - q.k);
  let error = sumOfCosts(cost, bkps);
  for (;;) {
    const p = peaks.pop();
    if (!p) break;
    let go = false;
    if (stop.nBkps != null) go = bkps.length - 1 < stop.nBkps;
    else if (stop.pen != null) go = error - sumOfCosts(cost, [...bkps, p.k].sort((x, y) => x - y)) > stop.pen;
    else go = error > stop.epsilon!;
    if (!go) break;
    bkps.push(p.k); bkps.sort((x, y) => x - y);
    error = sumOfCosts(cost, bkps);
  }
  return bkps;
}
