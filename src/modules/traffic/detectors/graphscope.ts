// GraphScope (Sun, Faloutsos, Papadimitriou, Yu, KDD 2007): parameter-free MDL segmentation of a
// binary graph stream. [recon] The paper's change-point method is a graph-mining segmentation of the
// binary flow graphs over a fixed vertex set that it does not spell out; GraphScope fits that framing
// best, so it is the `paper` preset's detector.
// A segment of τ snapshots shares one row partition (k groups) and one column partition (l groups);
// its code length in bits is
//   log*(τ) + log*(k) + log*(l) + Σ⌈log2 ā_i⌉ (group sizes, rows and columns)
//   + N·H(m/N) + N·H(n/N) (memberships) + Σ_pq ⌈log2(B_pq+1)⌉ + Σ_pq B_pq·h(ρ_pq).
// Partition search is cross-association style (row/column re-assignment to a fixed point, then
// group splits kept only when the total cost drops). Streaming mode (as the original) and batch
// dynamic programming over the same segment cost are both provided.
import type { FlowSeries } from '../types.ts';
import { defaults, type GsMode, type Weight } from '../config.ts';
import { fitted, weights, type Detector, type DetectResult } from './base.ts';

const LOG2_C0 = Math.log2(2.865064);
/** Rissanen's universal code length for integers ≥ 1 (bits). */
export function logStar(n: number): number {
  if (n < 1) throw new Error(`logStar: ${n} < 1`);
  let s = LOG2_C0, x = n;
  while (true) { x = Math.log2(x); if (x <= 0) break; s += x; }
  return s;
}
function h2(p: number): number { return p <= 0 || p >= 1 ? 0 : -(p * Math.log2(p) + (1 - p) * Math.log2(1 - p)); }
function entropyBits(sizes: number[], N: number): number {
  let s = 0; for (const m of sizes) if (m > 0) { const p = m / N; s -= m * Math.log2(p); } return s; // = N·H(m/N)
}
function sizeBits(sizes: number[]): number {
  const a = [...sizes].sort((x, y) => y - x), k = a.length;
  let s = 0, tail = a.reduce((u, v) => u + v, 0);
  for (let i = 1; i < k; i++) { const ai = tail - k + i; if (ai > 1) s += Math.ceil(Math.log2(ai)); tail -= a[i - 1]!; }
  return s;
}

export interface BlockPartition { r: Int32Array; c: Int32Array; k: number; l: number }

/** Total code length of a segment with counts C (N×N, entries = #snapshots with the edge) and τ. */
export function segmentCost(C: Float64Array, N: number, tau: number, P: BlockPartition): number {
  const { k, l } = P;
  const E = blockCounts(C, N, P);
  const m = groupSizes(P.r, k), n = groupSizes(P.c, l);
  let bits = logStar(tau) + logStar(k) + logStar(l) + sizeBits(m) + sizeBits(n) + entropyBits(m, N) + entropyBits(n, N);
  for (let p = 0; p < k; p++) for (let q = 0; q < l; q++) {
    const B = tau * m[p]! * n[q]!;
    bits += Math.ceil(Math.log2(B + 1)) + B * h2(B > 0 ? E[p * l + q]! / B : 0);
  }
  return bits;
}

function groupSizes(g: Int32Array, k: number): number[] { const s = new Array<number>(k).fill(0); for (const v of g) s[v]!++; return s; }
function blockCounts(C: Float64Array, N: number, P: BlockPartition): Float64Array {
  const E = new Float64Array(P.k * P.l);
  for (let i = 0; i < N; i++) { const p = P.r[i]!; for (let j = 0; j < N; j++) { const v = C[i * N + j]!; if (v) E[p * P.l + P.c[j]!]! += v; } }
  return E;
}
function transpose(C: Float64Array, N: number): Float64Array {
  const D = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) D[j * N + i] = C[i * N + j]!;
  return D;
}
function compact(g: Int32Array, k: number): number {
  const map = new Int32Array(k).fill(-1); let n = 0;
  for (let i = 0; i < g.length; i++) { const v = g[i]!; if (map[v] === -1) map[v] = n++; }
  // keep group order stable by first appearance
  for (let i = 0; i < g.length; i++) g[i] = map[g[i]!]!;
  return n;
}

/**
 * Re-assigns every row of C (rows × N) to the row group whose block densities code it shortest;
 * colG/l describe the (fixed) column partition. Returns the number of rows that moved.
 */
function reassignRows(C: Float64Array, N: number, tau: number, rowG: Int32Array, k: number, colG: Int32Array, l: number): number {
  const n = groupSizes(colG, l), m = groupSizes(rowG, k);
  const E = new Float64Array(k * l), e = new Float64Array(N * l);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) { const v = C[i * N + j]!; if (v) e[i * l + colG[j]!]! += v; }
  for (let i = 0; i < N; i++) for (let q = 0; q < l; q++) E[rowG[i]! * l + q]! += e[i * l + q]!;
  const lp = new Float64Array(k * l), lq = new Float64Array(k * l);
  for (let p = 0; p < k; p++) for (let q = 0; q < l; q++) {
    const B = tau * m[p]! * n[q]!;
    const rho = (E[p * l + q]! + 0.5) / (B + 1); // smoothed, so that 0/1 densities do not cost ∞
    lp[p * l + q] = -Math.log2(rho); lq[p * l + q] = -Math.log2(1 - rho);
  }
  let moved = 0;
  for (let i = 0; i < N; i++) {
    let best = Infinity, arg = rowG[i]!;
    for (let p = 0; p < k; p++) {
      if (m[p] === 0) continue;
      let s = 0;
      for (let q = 0; q < l; q++) { const ones = e[i * l + q]!; s += ones * lp[p * l + q]! + (tau * n[q]! - ones) * lq[p * l + q]!; }
      if (s < best - 1e-9) { best = s; arg = p; }
    }
    if (arg !== rowG[i]) { rowG[i] = arg; moved++; }
  }
  return moved;
}

/** Per-row content code length under the current partition (to choose a group to split). */
function rowCodes(C: Float64Array, N: number, tau: number, P: BlockPartition): Float64Array {
  const { k, l } = P, n = groupSizes(P.c, l), m = groupSizes(P.r, k);
  const E = blockCounts(C, N, P), out = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const e = new Float64Array(l);
    for (let j = 0; j < N; j++) e[P.c[j]!]! += C[i * N + j]!;
    const p = P.r[i]!; let s = 0;
    for (let q = 0; q < l; q++) {
      const B = tau * m[p]! * n[q]!, rho = (E[p * l + q]! + 0.5) / (B + 1);
      s += -e[q]! * Math.log2(rho) - (tau * n[q]! - e[q]!) * Math.log2(1 - rho);
    }
    out[i] = s;
  }
  return out;
}

function iterate(C: Float64Array, CT: Float64Array, N: number, tau: number, P: BlockPartition): BlockPartition {
  const r = P.r.slice(), c = P.c.slice();
  let k = P.k, l = P.l;
  for (let it = 0; it < 20; it++) {
    const a = reassignRows(C, N, tau, r, k, c, l); k = compact(r, k);
    const b = reassignRows(CT, N, tau, c, l, r, k); l = compact(c, l);
    if (a + b === 0) break;
  }
  return { r, c, k, l };
}

function trySplit(C: Float64Array, N: number, tau: number, P: BlockPartition, side: 'row' | 'col', CT: Float64Array): BlockPartition | null {
  const M = side === 'row' ? C : CT;
  const Q: BlockPartition = side === 'row' ? P : { r: P.c, c: P.r, k: P.l, l: P.k };
  const codes = rowCodes(M, N, tau, Q);
  const sizes = groupSizes(Q.r, Q.k);
  const per = new Float64Array(Q.k);
  for (let i = 0; i < N; i++) per[Q.r[i]!]! += codes[i]!;
  let g = -1, worst = -1;
  for (let p = 0; p < Q.k; p++) if (sizes[p]! > 1 && per[p]! / sizes[p]! > worst) { worst = per[p]! / sizes[p]!; g = p; }
  if (g < 0) return null;
  // seed the new group with the rows nearer (L1 over columns) to the worst-coded row than to the
  // group's mean row; re-assignment then refines it
  let pivot = -1;
  for (let i = 0; i < N; i++) if (Q.r[i] === g && (pivot < 0 || codes[i]! > codes[pivot]!)) pivot = i;
  const mean = new Float64Array(N);
  for (let i = 0; i < N; i++) if (Q.r[i] === g) for (let j = 0; j < N; j++) mean[j]! += M[i * N + j]! / sizes[g]!;
  const r = Q.r.slice(); let movedAny = false, keptAny = false;
  for (let i = 0; i < N; i++) {
    if (r[i] !== g) continue;
    let dp = 0, dm = 0;
    for (let j = 0; j < N; j++) { const v = M[i * N + j]!; dp += Math.abs(v - M[pivot * N + j]!); dm += Math.abs(v - mean[j]!); }
    if (i === pivot || dp < dm) { r[i] = Q.k; movedAny = true; } else keptAny = true;
  }
  if (!movedAny || !keptAny) return null;
  const split: BlockPartition = side === 'row' ? { r, c: P.c.slice(), k: P.k + 1, l: P.l } : { r: P.r.slice(), c: r, k: P.k, l: P.l + 1 };
  return split;
}

/** Cross-association search from a warm partition. */
export function searchPartition(
  C: Float64Array,
  N: number,
  tau: number,
  warm: BlockPartition | null,
  maxGroups = defaults.graphscope.maxGroups,
): { P: BlockPartition; cost: number } {
  const CT = transpose(C, N);
  let P = warm ? iterate(C, CT, N, tau, warm) : { r: new Int32Array(N), c: new Int32Array(N), k: 1, l: 1 };
  let cost = segmentCost(C, N, tau, P);
  if (warm) {
    const P1 = { r: new Int32Array(N), c: new Int32Array(N), k: 1, l: 1 };
    const c1 = segmentCost(C, N, tau, P1);
    if (c1 < cost) { P = P1; cost = c1; }
  }
  for (let guard = 0; guard < 4 * maxGroups; guard++) {
    let improved = false;
    // a row split alone can look useless while the columns are one group (and vice versa), so
    // also try the row split followed by a column split before giving up
    const candidates: BlockPartition[] = [];
    const rowS = P.k < maxGroups ? trySplit(C, N, tau, P, 'row', CT) : null;
    if (rowS) {
      candidates.push(rowS);
      const both = P.l < maxGroups ? trySplit(C, N, tau, rowS, 'col', CT) : null;
      if (both) candidates.push(both);
    }
    const colS = P.l < maxGroups ? trySplit(C, N, tau, P, 'col', CT) : null;
    if (colS) candidates.push(colS);
    for (const S of candidates) {
      const R = iterate(C, CT, N, tau, S);
      const rc = segmentCost(C, N, tau, R);
      if (rc < cost - 1e-9) { P = R; cost = rc; improved = true; break; }
    }
    if (!improved) break;
  }
  return { P, cost };
}


export interface GraphScopeOptions {
  /** 'stream' (the original's online segmentation) or 'batch' (optimal boundaries by dynamic programming) */
  mode?: GsMode;
  /** edge presence threshold on the weight (default 1) */
  edgeThreshold?: number;
  weight?: Weight;
  /** batch mode: minimum segment length in slices (default 2) */
  minSegment?: number;
  maxGroups?: number;
  /** batch mode: longest segment considered (default T; lower it to bound O(T²) work) */
  maxSegment?: number;
}

export interface GraphScopeSegment { start: number; end: number; k: number; l: number; bits: number }

/** Binary snapshots as prefix sums of per-slice N×N presence matrices (self-loops excluded). */
function prefixCounts(f: FlowSeries, thr: number, weight: Weight): Float64Array[] {
  const { T, N } = f, w = weights(f, weight);
  const A: Float64Array[] = Array.from({ length: T }, () => new Float64Array(N * N));
  for (let r = 0; r < f.slice.length; r++) {
    const s = f.slice[r]!; if (s < 0 || s >= T) continue;
    if (f.src[r] !== f.dst[r] && w[r]! >= thr) A[s]![f.src[r]! * N + f.dst[r]!] = 1;
  }
  const pre: Float64Array[] = [new Float64Array(N * N)];
  for (let t = 0; t < T; t++) { const p = pre[t]!.slice(); const a = A[t]!; for (let i = 0; i < p.length; i++) p[i]! += a[i]!; pre.push(p); }
  return pre;
}

function segCounts(pre: Float64Array[], a: number, b: number): Float64Array {
  const A = pre[a]!, B = pre[b]!, C = new Float64Array(A.length);
  for (let i = 0; i < C.length; i++) C[i] = B[i]! - A[i]!;
  return C;
}

type Fit = { pre: Float64Array[]; T: number; N: number };

/**
 * Streaming segmentation, as the original: with current segment S and new snapshot G, extend S
 * when C(S ∪ {G}) − C(S) < C({G}), else start a new segment at G.
 */
function streamSegments({ pre, T, N }: Fit, maxG: number, scores: Float64Array, tick?: () => void): GraphScopeSegment[] {
  let start = 0, cur = searchPartition(segCounts(pre, 0, 1), N, 1, null, maxG);
  const segments: GraphScopeSegment[] = [];
  for (let t = 1; t < T; t++) {
    const joined = searchPartition(segCounts(pre, start, t + 1), N, t + 1 - start, cur.P, maxG);
    const alone = searchPartition(segCounts(pre, t, t + 1), N, 1, null, maxG);
    scores[t] = (joined.cost - cur.cost) - alone.cost;
    if (joined.cost - cur.cost < alone.cost) cur = joined;
    else { segments.push({ start, end: t, k: cur.P.k, l: cur.P.l, bits: cur.cost }); start = t; cur = alone; }
    tick?.();
  }
  segments.push({ start, end: T, k: cur.P.k, l: cur.P.l, bits: cur.cost });
  return segments;
}

/** Batch segmentation: optimal boundaries by dynamic programming over the same segment cost. */
function batchSegments(
  { pre, T, N }: Fit,
  maxG: number,
  minSeg: number,
  maxLen: number,
  scores: Float64Array,
  tick?: () => void,
): { segments: GraphScopeSegment[]; totalBits: number } {
  const cost = new Map<number, { bits: number; k: number; l: number }>();
  for (let a = 0; a < T; a++) {
    let warm: BlockPartition | null = null;
    for (let b = a + Math.min(minSeg, T - a); b <= Math.min(T, a + maxLen); b++) {
      const r = searchPartition(segCounts(pre, a, b), N, b - a, warm, maxG);
      warm = r.P;
      cost.set(a * (T + 1) + b, { bits: r.cost, k: r.P.k, l: r.P.l });
    }
    tick?.();
  }
  const F = new Float64Array(T + 1).fill(Infinity), arg = new Int32Array(T + 1).fill(-1);
  F[0] = 0;
  for (let b = 1; b <= T; b++) for (let a = Math.max(0, b - maxLen); a < b; a++) {
    const c = cost.get(a * (T + 1) + b); if (!c || !Number.isFinite(F[a]!)) continue;
    if (F[a]! + c.bits < F[b]!) { F[b] = F[a]! + c.bits; arg[b] = a; }
  }
  const segments: GraphScopeSegment[] = [];
  for (let b = T; b > 0;) {
    const a = arg[b]!;
    if (a < 0) break;
    const c = cost.get(a * (T + 1) + b)!;
    segments.unshift({ start: a, end: b, k: c.k, l: c.l, bits: c.bits });
    b = a;
  }
  // per-slice score: bits saved by a boundary at t within a window of 4 slices on each side
  for (let t = 1; t < T; t++) {
    const a = Math.max(0, t - 4), b = Math.min(T, t + 4);
    const whole = cost.get(a * (T + 1) + b), left = cost.get(a * (T + 1) + t), right = cost.get(t * (T + 1) + b);
    if (whole && left && right) scores[t] = whole.bits - left.bits - right.bits;
  }
  return { segments, totalBits: F[T]! };
}

/**
 * GraphScope behind the detector interface: fit builds the binary presence counts, predict
 * segments them (stream or batch). `segments` holds the last prediction's segments with their
 * row/column group counts and code lengths.
 */
export class GraphScope implements Detector {
  readonly name = 'graphscope' as const;
  segments: GraphScopeSegment[] = [];
  private state: Fit | null = null;
  /** called once per slice (stream) or per segment start (batch), for progress bars */
  tick?: () => void;
  constructor(readonly options: GraphScopeOptions = {}) {}

  fit(flows: FlowSeries): this {
    const g = defaults.graphscope;
    this.state = {
      pre: prefixCounts(flows, this.options.edgeThreshold ?? g.edgeThreshold, this.options.weight ?? defaults.flows.weight),
      T: flows.T, N: flows.N,
    };
    return this;
  }

  predict(): DetectResult {
    const s = fitted(this.state, 'graphscope'), g = defaults.graphscope, o = this.options;
    const mode = o.mode ?? g.mode, maxG = o.maxGroups ?? g.maxGroups;
    const scores = new Float64Array(s.T);
    let totalBits = 0;
    if (s.T === 0) this.segments = [];
    else if (mode === 'stream') {
      this.segments = streamSegments(s, maxG, scores, this.tick);
      for (const seg of this.segments) totalBits += seg.bits;
    } else {
      ({ segments: this.segments, totalBits } = batchSegments(s, maxG, o.minSegment ?? g.minSegment, Math.min(s.T, o.maxSegment ?? s.T), scores, this.tick));
    }
    return { detector: 'graphscope', changepoints: this.segments.slice(1).map((seg) => seg.start), scores, info: { totalBits, mode } };
  }
}
