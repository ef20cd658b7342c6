// LAD, Laplacian Anomaly Detection (Huang, Hitti, Rabbany, Rabusseau, KDD 2020), an optional
// detector beside the paper's: it scores isolated events as well as regime shifts.
// Per slice: L_t = D_out − A_t (weighted, fixed N), σ_t = top-k singular values, L2-normalised.
// Context window w: u = first left singular vector of [σ_{t−w}..σ_{t−1}] (k×w);
// Z_t = 1 − |σ_tᵀu| / (‖σ_t‖‖u‖). Two windows, first-differenced scores, max of the two;
// the first `initialWindow` slices score 0. Change-points = top ⌈p·T⌉ scores or those ≥ threshold.
// The singular values come from libtorch (batched linalg_svdvals, float64).
import * as torch from '../../../core/torch/index.ts';
import type { FlowSeries } from '../types.ts';
import { defaults, type Weight } from '../config.ts';
import { fitted, weights, type Detector, type DetectResult } from './base.ts';

export interface LadOptions {
  k?: number;
  shortWindow?: number;
  longWindow?: number;
  /** first slices scored 0 (default: longWindow) */
  initialWindow?: number;
  /** fraction of slices reported as change-points (default 0.05) */
  p?: number;
  /** if set, report scores ≥ threshold instead of the top ⌈p·T⌉ */
  threshold?: number | null;
  weight?: Weight;
}

/** Top-k normalised singular values of each slice's out-degree Laplacian: T×k row-major. */
export function laplacianSpectra(f: FlowSeries, k: number, weight: Weight = defaults.flows.weight): Float64Array {
  const { T, N } = f, w = weights(f, weight);
  const kk = Math.min(k, N);
  const out = new Float64Array(T * k);
  const batch = Math.max(1, Math.floor(2_000_000 / Math.max(1, N * N)));
  for (let t0 = 0; t0 < T; t0 += batch) {
    const nb = Math.min(batch, T - t0);
    const L = new Float64Array(nb * N * N);
    for (let r = 0; r < f.slice.length; r++) {
      const s = f.slice[r]! - t0; if (s < 0 || s >= nb) continue;
      const i = f.src[r]!, j = f.dst[r]!; if (i === j) continue;
      L[s * N * N + i * N + j]! -= w[r]!; L[s * N * N + i * N + i]! += w[r]!;
    }
    const sv = torch.scope(() => {
      const Lt = torch.tensor(L, { shape: [nb, N, N] });
      return (torch.op('linalg_svdvals')(Lt, null) as torch.Tensor).toFloat64Array();
    });
    for (let s = 0; s < nb; s++) {
      let nrm = 0; for (let q = 0; q < kk; q++) nrm += sv[s * N + q]! ** 2;
      nrm = Math.sqrt(nrm) || 1;
      for (let q = 0; q < kk; q++) out[(t0 + s) * k + q] = sv[s * N + q]! / nrm;
    }
  }
  return out;
}

function leftSingular(M: Float64Array, k: number, w: number): Float64Array {
  // power iteration on M Mᵀ (k×k)
  const G = new Float64Array(k * k);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) { let s = 0; for (let c = 0; c < w; c++) s += M[a * w + c]! * M[b * w + c]!; G[a * k + b] = s; }
  let u = new Float64Array(k).fill(1 / Math.sqrt(k));
  for (let it = 0; it < 200; it++) {
    const v = new Float64Array(k);
    for (let a = 0; a < k; a++) { let s = 0; for (let b = 0; b < k; b++) s += G[a * k + b]! * u[b]!; v[a] = s; }
    const n = Math.hypot(...v) || 1;
    let diff = 0; for (let a = 0; a < k; a++) { v[a]! /= n; diff += Math.abs(v[a]! - u[a]!); }
    u = v; if (diff < 1e-13) break;
  }
  return u;
}

export function ladScores(sv: Float64Array, T: number, k: number, w: number, initial: number): Float64Array {
  const Z = new Float64Array(T);
  for (let t = Math.max(w, 1); t < T; t++) {
    const M = new Float64Array(k * w);
    for (let c = 0; c < w; c++) for (let a = 0; a < k; a++) M[a * w + c] = sv[(t - w + c) * k + a]!;
    const u = leftSingular(M, k, w);
    let dot = 0, ns = 0, nu = 0;
    for (let a = 0; a < k; a++) { dot += sv[t * k + a]! * u[a]!; ns += sv[t * k + a]! ** 2; nu += u[a]! ** 2; }
    Z[t] = ns > 0 && nu > 0 ? 1 - Math.abs(dot) / Math.sqrt(ns * nu) : 0;
  }
  const D = new Float64Array(T);
  for (let t = 1; t < T; t++) D[t] = t < initial ? 0 : Z[t]! - Z[t - 1]!;
  return D;
}

/** The change points of a prediction: the top ⌈p·T⌉ positive scores, or those ≥ threshold. */
export interface LadPrediction { p?: number; threshold?: number | null }

/** LAD behind the detector interface: fit computes the Laplacian spectra, predict scores and picks. */
export class Lad implements Detector {
  readonly name = 'lad' as const;
  private state: { spectra: Float64Array; T: number; k: number } | null = null;
  constructor(readonly options: LadOptions = {}) {}

  private windows() {
    const d = defaults.lad, o = this.options;
    const k = o.k ?? d.k, ws = o.shortWindow ?? d.shortWindow, wl = o.longWindow ?? d.longWindow;
    for (const [n, v] of [['k', k], ['shortWindow', ws], ['longWindow', wl]] as const) {
      if (!Number.isInteger(v) || v < 1) throw new Error(`LAD: ${n} must be a positive integer, got ${v}`);
    }
    return { k, ws, wl, init: o.initialWindow ?? wl };
  }

  fit(flows: FlowSeries): this {
    const { k } = this.windows();
    this.state = { spectra: laplacianSpectra(flows, k, this.options.weight ?? defaults.flows.weight), T: flows.T, k };
    return this;
  }

  predict(o: LadPrediction = {}): DetectResult {
    const { spectra, T, k } = fitted(this.state, 'lad');
    const { ws, wl, init } = this.windows();
    const a = ladScores(spectra, T, k, ws, init), b = ladScores(spectra, T, k, wl, init);
    const scores = new Float64Array(T);
    for (let t = 0; t < T; t++) scores[t] = Math.max(a[t]!, b[t]!);
    const threshold = 'threshold' in o ? o.threshold : this.options.threshold;
    let cps: number[];
    if (threshold != null) cps = [...scores.keys()].filter((t) => t > 0 && scores[t]! >= threshold);
    else {
      const n = Math.ceil((o.p ?? this.options.p ?? defaults.lad.topFraction) * T);
      cps = [...scores.keys()].filter((t) => t > 0 && scores[t]! > 0).sort((x, y) => scores[y]! - scores[x]! || x - y).slice(0, n);
    }
    return { detector: 'lad', changepoints: cps.sort((x, y) => x - y), scores, info: { k } };
  }
}
