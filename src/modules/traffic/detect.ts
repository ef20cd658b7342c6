// One entry point over the detectors (§6) and the distance series of §6.4.
import type { FlowSeries } from './types.ts';
import { detectPelt, type PeltOptions } from './pelt.ts';
import { detectGraphScope, type GraphScopeOptions } from './graphscope.ts';
import { detectLad, type LadOptions } from './lad.ts';

export type DetectorName = 'pelt' | 'graphscope' | 'lad';

export interface DetectResult {
  detector: DetectorName;
  changepoints: number[];
  /** per-slice detector score (PELT: local split gain; GraphScope: bits saved; LAD: differenced anomaly) */
  scores: Float64Array;
  info: Record<string, number | string>;
}

export type DetectOptions = { pelt?: PeltOptions; graphscope?: GraphScopeOptions; lad?: LadOptions };

export function detect(f: FlowSeries, detector: DetectorName = 'pelt', o: DetectOptions = {}, tick?: () => void): DetectResult {
  if (f.T <= 0) throw new Error('detect: the flow series has no slices');
  switch (detector) {
    case 'pelt': {
      const r = detectPelt(f, o.pelt);
      return { detector, changepoints: r.changepoints, scores: r.scores, info: { beta: r.beta, sigma: r.sigma, features: r.d } };
    }
    case 'graphscope': {
      const r = detectGraphScope(f, o.graphscope, tick);
      return { detector, changepoints: r.changepoints, scores: r.scores, info: { totalBits: r.totalBits, mode: o.graphscope?.mode ?? 'batch' } };
    }
    case 'lad': {
      const r = detectLad(f, o.lad);
      return { detector, changepoints: r.changepoints, scores: r.scores, info: { k: o.lad?.k ?? 6 } };
    }
    default: throw new Error(`unknown detector '${detector as string}' (pelt, graphscope, lad)`);
  }
}

export interface SliceStats { total: Float64Array; edges: Float64Array; tv: Float64Array; jaccard: Float64Array; l2: Float64Array }

/** Per-slice totals and the distance series between consecutive slices (§6.4). */
export function sliceStats(f: FlowSeries, weight: 'moves' | 'objects' = 'moves'): SliceStats {
  const { T, N } = f, w = weight === 'moves' ? f.moves : f.objects;
  const per: Map<number, number>[] = Array.from({ length: T }, () => new Map());
  const total = new Float64Array(T), edges = new Float64Array(T);
  for (let r = 0; r < f.slice.length; r++) {
    const s = f.slice[r]!; if (s < 0 || s >= T || !(w[r]! > 0)) continue;
    per[s]!.set(f.src[r]! * N + f.dst[r]!, w[r]!); total[s] += w[r]!; edges[s]!++;
  }
  const tv = new Float64Array(T), jac = new Float64Array(T), l2 = new Float64Array(T);
  for (let t = 1; t < T; t++) {
    const a = per[t - 1]!, b = per[t]!, keys = new Set([...a.keys(), ...b.keys()]);
    let sTv = 0, inter = 0, sL2 = 0;
    for (const k of keys) {
      const va = a.get(k) ?? 0, vb = b.get(k) ?? 0;
      sTv += Math.abs((total[t - 1]! ? va / total[t - 1]! : 0) - (total[t]! ? vb / total[t]! : 0));
      if (va > 0 && vb > 0) inter++;
      sL2 += (Math.log1p(va) - Math.log1p(vb)) ** 2;
    }
    tv[t] = sTv / 2; jac[t] = keys.size ? 1 - inter / keys.size : 0; l2[t] = Math.sqrt(sL2);
  }
  return { total, edges, tv, jaccard: jac, l2 };
}
