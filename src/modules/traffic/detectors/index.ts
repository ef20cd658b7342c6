// The change-point detectors, one class each behind the Detector interface of base.ts (ruptures
// style: build with options, fit a flow series, predict change points):
//   Pelt        PELT on flow vectors (features.ts × cost.ts × pelt.ts), the default; any cost of
//               costs.ts (l2, l1, normal, rbf) × search of search.ts (pelt, dynp, binseg, window);
//   GraphScope  MDL segmentation of the binary graph stream, the `paper` preset's [recon];
//   Lad         Laplacian anomaly detection.
// `detect(flows, name, options)` is the one-call form used by the pipeline and the commands.
import type { FlowSeries } from '../types.ts';
import { defaults, type DetectorName } from '../config.ts';
import type { Detector, DetectResult } from './base.ts';
import { Pelt, type PeltOptions } from './pelt.ts';
import { GraphScope, type GraphScopeOptions } from './graphscope.ts';
import { Lad, type LadOptions } from './lad.ts';

export type { Detector, DetectResult, DetectorName } from './base.ts';
export { buildFeatures, noiseScale, type FeatureMatrix, type FeatureOptions } from './features.ts';
export { L2Cost } from './cost.ts';
export { CostL2, CostL1, CostNormal, CostRbf, costFactory, sumOfCosts, toSignal, logDetSpd, type SegmentCost, type Signal } from './costs.ts';
export { peltSearch, dynpSearch, binsegSearch, windowSearch, windowScore, relMaxWrap, sanityCheck, type StopRule } from './search.ts';
export { ChangePoints, searchBreakpoints, type ChangePointOptions } from './ruptures.ts';
export { Pelt, pelt, optimalK, penaltyFor, splitScores, logspace, type PeltOptions, type PeltPrediction, type PenaltySweepRow } from './pelt.ts';
export { GraphScope, segmentCost, searchPartition, logStar, type GraphScopeOptions, type GraphScopeSegment, type BlockPartition } from './graphscope.ts';
export { Lad, laplacianSpectra, ladScores, type LadOptions, type LadPrediction } from './lad.ts';

/** Options of every detector, by name (each detector reads its own). */
export type DetectOptions = { pelt?: PeltOptions; graphscope?: GraphScopeOptions; lad?: LadOptions };

/** A detector by name, with its options. */
export function createDetector(name: DetectorName, o: DetectOptions = {}): Detector {
  switch (name) {
    case 'pelt': return new Pelt(o.pelt);
    case 'graphscope': return new GraphScope(o.graphscope);
    case 'lad': return new Lad(o.lad);
    default: throw new Error(`unknown detector '${name as string}' (pelt, graphscope, lad)`);
  }
}

/** fit + predict in one call; `tick` reports GraphScope's progress. */
export function detect(f: FlowSeries, detector: DetectorName = defaults.analyze.detector, o: DetectOptions = {}, tick?: () => void): DetectResult {
  if (f.T <= 0) throw new Error('detect: the flow series has no slices');
  const d = createDetector(detector, o);
  if (d instanceof GraphScope) d.tick = tick;
  return d.fit(f).predict();
}
