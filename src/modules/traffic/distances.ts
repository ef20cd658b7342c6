// Per-slice totals and the distance series between consecutive slices, for plots, scores.csv and a
// quick look [ours]: total-variation distance of edge shares ½‖s_t − s_{t−1}‖₁, Jaccard distance of
// the edge sets, and the L2 distance of log-weights.
import type { FlowSeries } from './types.ts';
import { defaults, type Weight } from './config.ts';

export interface SliceStats { total: Float64Array; edges: Float64Array; tv: Float64Array; jaccard: Float64Array; l2: Float64Array }

export function sliceStats(f: FlowSeries, weight: Weight = defaults.flows.weight): SliceStats {
  const { T, N } = f, w = weight === 'moves' ? f.moves : f.objects;
  const per: Map<number, number>[] = Array.from({ length: T }, () => new Map());
  const total = new Float64Array(T), edges = new Float64Array(T);
  for (let r = 0; r < f.slice.length; r++) {
    const s = f.slice[r]!; if (s < 0 || s >= T || !(w[r]! > 0)) continue;
    per[s]!.set(f.src[r]! * N + f.dst[r]!, w[r]!); total[s]! += w[r]!; edges[s]!++;
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
