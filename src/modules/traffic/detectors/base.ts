// The one interface of the change-point detectors, in the style of ruptures: a detector is built
// with its options, `fit` does the work that does not depend on the penalty or threshold
// (features, presence counts, spectra), `predict` returns the change points of the fitted series.
//   new Pelt({ normalize: 'shares' }).fit(flows).predict().changepoints
// A change point b means that slices b.. start a new regime (0 and T are never change points).
import type { FlowSeries } from '../types.ts';
import type { DetectorName } from '../config.ts';

export type { DetectorName };

export interface DetectResult {
  detector: DetectorName;
  /** sorted slice indices */
  changepoints: number[];
  /** per-slice detector score (PELT: local split gain; GraphScope: bits saved; LAD: differenced anomaly) */
  scores: Float64Array;
  info: Record<string, number | string>;
}

export interface Detector {
  readonly name: DetectorName;
  /** Prepares the detector for one flow series; returns the detector. */
  fit(flows: FlowSeries): this;
  /** Change points of the fitted series (a detector may take per-call overrides, e.g. a penalty). */
  predict(): DetectResult;
}

/** The fitted state, or a clear error when predict comes before fit. */
export function fitted<S>(state: S | null, name: DetectorName): S {
  if (state === null) throw new Error(`${name}: call fit(flows) before predict()`);
  return state;
}

/** The edge weight column of a flow series. */
export function weights(f: FlowSeries, weight: 'moves' | 'objects'): Float64Array {
  return weight === 'moves' ? f.moves : f.objects;
}
