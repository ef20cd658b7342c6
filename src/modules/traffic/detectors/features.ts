// The signal PELT segments: one feature row per slice of the flow series. Ours [recon]: the paper
// segments the graph series with a graph-mining method it does not spell out; PELT on flow vectors
// is the modern detector we add beside GraphScope.
//   edges   x_t = log(1 + w_t) over the ordered cell pairs seen in ≥ minSlicesSeen slices;
//   shares  structure only: x_t = log(1 + d·w_t/Σw_t), d = the number of those pairs (see below);
//   scalar  the baseline [total weight, #edges].
// Zero-variance columns are dropped. Also the noise scale σ̂ of the PELT penalty.
import type { FlowSeries } from '../types.ts';
import { defaults, type Features, type Normalize, type Weight } from '../config.ts';
import { weights } from './base.ts';

export interface FeatureOptions {
  /** edge weight (default moves) */
  weight?: Weight;
  /**
   * 'none': log(1+w); 'shares': structure only — log(1 + d·s) with the shares s = w/Σw and d the
   * number of edge columns. A function of the shares alone, so scaling every weight by any factor
   * leaves the features (and the change points) unchanged. d·s is an edge's weight in units of the
   * slice's mean edge weight, so log1p tempers the few large edges as it does for counts; raw shares
   * are dominated by them and the median-MAD penalty over-segments (README.md, "shares").
   */
  normalize?: Normalize;
  /** 'edges' (default) or 'scalar' = [total weight, #edges] baseline */
  features?: Features;
  /** keep pairs seen in at least this many slices (default 2) */
  minSlicesSeen?: number;
}

export interface FeatureMatrix { X: Float64Array; T: number; d: number; /** pair keys src*N+dst per column (edges mode; -1, -2 for scalar) */ keys: number[] }

/** The T×d feature matrix (row-major). Zero-variance columns are dropped. */
export function buildFeatures(f: FlowSeries, o: FeatureOptions = {}): FeatureMatrix {
  const p = defaults.pelt;
  const w = weights(f, o.weight ?? defaults.flows.weight), norm = o.normalize ?? p.normalize, mode = o.features ?? p.features;
  const T = f.T, N = f.N, rows = f.slice.length;
  const total = new Float64Array(T), nEdges = new Float64Array(T);
  for (let r = 0; r < rows; r++) { const s = f.slice[r]!; if (s < 0 || s >= T) continue; if (w[r]! > 0) { total[s]! += w[r]!; nEdges[s]!++; } }
  let X: Float64Array, d: number, keys: number[];
  if (mode === 'scalar') {
    d = 2; keys = [-1, -2]; X = new Float64Array(T * 2);
    for (let t = 0; t < T; t++) { X[2 * t] = total[t]!; X[2 * t + 1] = nEdges[t]!; }
  } else {
    const minSeen = o.minSlicesSeen ?? p.minSlicesSeen;
    const seen = new Map<number, number>();
    for (let r = 0; r < rows; r++) if (w[r]! > 0) { const k = f.src[r]! * N + f.dst[r]!; seen.set(k, (seen.get(k) ?? 0) + 1); }
    keys = [...seen.entries()].filter(([, c]) => c >= minSeen).map(([k]) => k).sort((a, b) => a - b);
    const col = new Map<number, number>(keys.map((k, i) => [k, i]));
    d = keys.length; X = new Float64Array(T * d);
    for (let r = 0; r < rows; r++) {
      const s = f.slice[r]!; if (s < 0 || s >= T) continue;
      const c = col.get(f.src[r]! * N + f.dst[r]!); if (c === undefined) continue;
      X[s * d + c] = norm === 'shares' ? (total[s]! > 0 ? Math.log1p((d * w[r]!) / total[s]!) : 0) : Math.log1p(w[r]!);
    }
  }
  return dropConstantColumns({ X, T, d, keys });
}

function dropConstantColumns(fm: FeatureMatrix): FeatureMatrix {
  const { X, T, d, keys } = fm;
  const keep: number[] = [];
  for (let c = 0; c < d; c++) { let same = true; for (let t = 1; t < T && same; t++) same = X[t * d + c] === X[c]; if (!same) keep.push(c); }
  if (keep.length === d) return fm;
  const Y = new Float64Array(T * keep.length);
  for (let t = 0; t < T; t++) for (let i = 0; i < keep.length; i++) Y[t * keep.length + i] = X[t * d + keep[i]!]!;
  return { X: Y, T, d: keep.length, keys: keep.map((c) => keys[c]!) };
}

function median(a: number[]): number {
  if (a.length === 0) return 0;
  const s = [...a].sort((x, y) => x - y), m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Noise scale σ̂ = median over columns of MAD(first differences)/(0.6745·√2).
 * [ours] a column whose MAD is 0 (sparse counts: most differences are 0) uses the standard
 * deviation of its differences / √2 instead, so σ̂ never collapses to 0 on sparse data.
 */
export function noiseScale(fm: FeatureMatrix): number {
  const { X, T, d } = fm;
  if (T < 3 || d === 0) return 0;
  const per: number[] = [];
  const diff = new Array<number>(T - 1);
  for (let c = 0; c < d; c++) {
    for (let t = 1; t < T; t++) diff[t - 1] = X[t * d + c]! - X[(t - 1) * d + c]!;
    const med = median(diff);
    const mad = median(diff.map((v) => Math.abs(v - med)));
    let s = mad / (0.6745 * Math.SQRT2);
    if (!(s > 0)) {
      let m = 0, q = 0; for (const v of diff) m += v; m /= diff.length;
      for (const v of diff) q += (v - m) ** 2;
      s = Math.sqrt(q / Math.max(1, diff.length - 1)) / Math.SQRT2;
    }
    per.push(s);
  }
  return median(per);
}
