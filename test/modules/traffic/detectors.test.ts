import { test } from 'node:test';
import assert from 'node:assert/strict';
import { syntheticFlows } from '../../../src/modules/traffic/synthetic.ts';
import { detect, createDetector, buildFeatures, L2Cost, pelt, optimalK, Pelt, GraphScope, Lad, logStar, segmentCost } from '../../../src/modules/traffic/detectors/index.ts';
import { scoreChangepoints } from '../../../src/modules/traffic/metrics.ts';
import { Rng } from '../../../src/core/rng.ts';
import type { FlowSeries } from '../../../src/modules/traffic/types.ts';

test('Must show: default detector F1 ≥ 0.9 at margin 1 over 10 seeds, families (a) and (b)', () => {
  for (const family of ['a', 'b'] as const) {
    let f1 = 0;
    for (let seed = 0; seed < 10; seed++) {
      const { flows, truth } = syntheticFlows({ family, seed: 100 + seed });
      assert.equal(truth.changepoints.length, 4);
      const r = detect(flows); // PELT, default parameters
      f1 += scoreChangepoints(r.changepoints, truth.changepoints, flows.T, 1).f1 / 10;
    }
    assert.ok(f1 >= 0.9, `family ${family}: mean F1 ${f1}`);
  }
});

test('Must show: null sequences give no change-point in ≥ 9 of 10 seeds', () => {
  let clean = 0;
  for (let seed = 0; seed < 10; seed++) {
    const { flows, truth } = syntheticFlows({ family: 'null', seed: 200 + seed });
    assert.equal(truth.changepoints.length, 0);
    if (detect(flows).changepoints.length === 0) clean++;
  }
  assert.ok(clean >= 9, `${clean}/10 null sequences without change-points`);
});

test('family (b) keeps volume constant and (a) changes it', () => {
  const b = syntheticFlows({ family: 'b', seed: 3 }).truth.regimes.map((r) => r.volume);
  const a = syntheticFlows({ family: 'a', seed: 3 }).truth.regimes.map((r) => r.volume);
  assert.ok(b.every((v) => v === 1));
  for (let i = 1; i < a.length; i++) assert.notEqual(a[i], a[i - 1]);
});

test('structure-only changes: flow vectors (and volume-free shares) beat the scalar [total, #edges] baseline', () => {
  const { flows, truth } = syntheticFlows({ family: 'b', seed: 7 });
  const vec = detect(flows, 'pelt').changepoints;
  assert.equal(scoreChangepoints(vec, truth.changepoints, flows.T, 1).f1, 1);
  const shares = detect(flows, 'pelt', { pelt: { normalize: 'shares' } }).changepoints;
  assert.ok(scoreChangepoints(shares, truth.changepoints, flows.T, 1).f1 >= 0.75, `shares: ${shares}`);
  const scalar = detect(flows, 'pelt', { pelt: { features: 'scalar' } }).changepoints;
  assert.ok(scoreChangepoints(scalar, truth.changepoints, flows.T, 1).f1 < 0.75, `scalar baseline should do worse: ${scalar}`);
});

test('PELT equals exhaustive optimal partitioning (pruning is exact)', () => {
  const rng = new Rng(5);
  for (let rep = 0; rep < 5; rep++) {
    const T = 14, d = 3, X = new Float64Array(T * d);
    for (let t = 0; t < T; t++) for (let c = 0; c < d; c++) X[t * d + c] = (t >= 5 ? 2 : 0) + (t >= 10 ? -3 * c : 0) + rng.normal();
    const cost = new L2Cost({ X, T, d, keys: [0, 1, 2] });
    const beta = 4 + rep;
    // brute force over all subsets of boundaries with segments ≥ 2
    let best = Infinity, bestSet: number[] = [];
    for (let mask = 0; mask < 1 << (T - 1); mask++) {
      const cps: number[] = []; for (let b = 1; b < T; b++) if (mask & (1 << (b - 1))) cps.push(b);
      const bounds = [0, ...cps, T]; let ok = true, v = 0;
      for (let i = 0; i + 1 < bounds.length; i++) { if (bounds[i + 1]! - bounds[i]! < 2) { ok = false; break; } v += cost.cost(bounds[i]!, bounds[i + 1]!); }
      if (!ok) continue; v += beta * cps.length;
      if (v < best - 1e-9) { best = v; bestSet = cps; }
    }
    assert.deepEqual(pelt(cost, beta, 2), bestSet);
  }
});

test('known number of change-points (DP) and penalty sweep', () => {
  const { flows, truth } = syntheticFlows({ family: 'a', seed: 11 });
  const fm = buildFeatures(flows);
  assert.deepEqual(optimalK(new L2Cost(fm), 4, 2), truth.changepoints);
  const sweep = new Pelt().fit(flows).sweep([0.01, 1, 100]);
  assert.ok(sweep[0]!.nChangepoints >= sweep[1]!.nChangepoints && sweep[1]!.nChangepoints >= sweep[2]!.nChangepoints);
  assert.equal(sweep[1]!.nChangepoints, 4);
});

test('GraphScope: log* code, cost prefers the true block structure, finds a planted structural switch', () => {
  assert.ok(Math.abs(logStar(1) - Math.log2(2.865064)) < 1e-12);
  assert.ok(Math.abs(logStar(16) - (Math.log2(2.865064) + 4 + 2 + 1)) < 1e-12);
  // two communities, edges only within: the 2×2 partition codes shorter than one group
  const N = 8, C = new Float64Array(N * N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) if (i !== j && (i < 4) === (j < 4)) C[i * N + j] = 5;
  const one = { r: new Int32Array(N), c: new Int32Array(N), k: 1, l: 1 };
  const g = Int32Array.from({ length: N }, (_, i) => (i < 4 ? 0 : 1));
  assert.ok(segmentCost(C, N, 5, { r: g, c: g, k: 2, l: 2 }) < segmentCost(C, N, 5, one));
  // binary stream: 12 slices of "within communities", then 12 of "across communities"
  const rng = new Rng(1), rows: number[][] = [];
  for (let t = 0; t < 24; t++) for (let i = 0; i < 12; i++) for (let j = 0; j < 12; j++) {
    if (i === j) continue;
    const within = (i < 6) === (j < 6);
    if ((t < 12 ? within : !within) ? rng.random() < 0.9 : rng.random() < 0.05) rows.push([t, i, j]);
  }
  const f: FlowSeries = {
    slice: Int32Array.from(rows, (r) => r[0]!), src: Int32Array.from(rows, (r) => r[1]!),
    dst: Int32Array.from(rows, (r) => r[2]!), moves: new Float64Array(rows.length).fill(1),
    objects: new Float64Array(rows.length).fill(1), T: 24, N: 12, t0: 0, sliceS: 900,
  };
  assert.deepEqual(new GraphScope({ mode: 'stream' }).fit(f).predict().changepoints, [12]);
  assert.deepEqual(new GraphScope({ mode: 'batch' }).fit(f).predict().changepoints, [12]);
  // LAD flags the same switch as its top score
  const lad = new Lad({ shortWindow: 3, longWindow: 6, initialWindow: 6, p: 1 / 24 }).fit(f).predict();
  assert.deepEqual(lad.changepoints, [12]);
});

test('detectors reject bad parameters clearly', () => {
  const { flows } = syntheticFlows({ family: 'null', seed: 1, T: 16, minSpacing: 4 });
  assert.throws(() => detect(flows, 'nope' as never), /unknown detector/);
  assert.throws(() => new Lad({ k: 0 }).fit(flows), /k must be a positive integer/);
  assert.throws(() => new Pelt().predict(), /pelt: call fit\(flows\) before predict\(\)/);
  assert.throws(() => optimalK(new L2Cost(buildFeatures(flows)), 20, 2), /does not fit/);
});

test('LAD frees its libtorch tensors (liveTensors does not grow across calls)', async () => {
  const torch = await import('../../../src/core/torch/index.ts');
  const { flows } = syntheticFlows({ family: 'b', seed: 2, T: 30, nChanges: 2, minSpacing: 8 });
  new Lad().fit(flows).predict();
  const before = torch.liveTensors();
  for (let i = 0; i < 3; i++) new Lad().fit(flows).predict();
  assert.equal(torch.liveTensors(), before);
});

test('detectors share one fit/predict interface; predict takes per-call overrides; detect() is fit + predict', () => {
  const { flows, truth } = syntheticFlows({ family: 'a', seed: 11 });
  for (const name of ['pelt', 'graphscope', 'lad'] as const) {
    const d = createDetector(name, { graphscope: { mode: 'stream' } });
    assert.equal(d.name, name);
    assert.equal(d.fit(flows), d, `${name}: fit returns the detector`);
    const r = d.predict();
    assert.equal(r.detector, name);
    assert.equal(r.scores.length, flows.T);
    assert.deepEqual(r.changepoints, [...r.changepoints].sort((a, b) => a - b));
    assert.deepEqual(detect(flows, name).changepoints, r.changepoints, `${name}: detect() = fit + predict`);
  }
  const p = new Pelt().fit(flows);
  assert.deepEqual(p.predict().changepoints, truth.changepoints);
  assert.deepEqual(p.predict({ penScale: 1e6 }).changepoints, [], 'a huge penalty: no change point');
  assert.deepEqual(p.predict({ nBkps: 2 }).changepoints.length, 2, 'a known count');
  assert.deepEqual(new Pelt({ nBkps: 4 }).fit(flows).predict().changepoints, truth.changepoints);
  const lad = new Lad().fit(flows);
  assert.equal(lad.predict({ p: 3 / flows.T }).changepoints.length, 3);
  const gs = new GraphScope({ mode: 'stream' });
  gs.fit(flows).predict();
  assert.ok(gs.segments.length >= 1 && gs.segments[0]!.start === 0 && gs.segments.at(-1)!.end === flows.T);
});

/** Every move and object count times `k` (the same traffic at another absolute volume). */
function scaled(f: FlowSeries, k: number): FlowSeries {
  return { ...f, moves: f.moves.map((v) => v * k), objects: f.objects.map((v) => v * k) };
}

test('issue #24: shares-normalised PELT depends only on the shares — scaling every volume leaves the change points unchanged', () => {
  // the reported case: family a, seed 1, volume 1500 gave 9,44,56,79 and thirteen once doubled
  const { flows } = syntheticFlows({ family: 'a', seed: 1, volume: 1500 });
  const shares = (f: FlowSeries) => detect(f, 'pelt', { pelt: { normalize: 'shares' } }).changepoints;
  assert.deepEqual(shares(flows), [9, 44, 56, 79]);
  assert.deepEqual(shares(scaled(flows, 2)), [9, 44, 56, 79]);
  for (const family of ['a', 'b', 'null'] as const) {
    for (const seed of [1, 2, 3]) {
      for (const volume of [150, 1500]) {
        const f = syntheticFlows({ family, seed, volume }).flows;
        const ref = shares(f);
        for (const k of [0.5, 2, 10]) assert.deepEqual(shares(scaled(f, k)), ref, `family ${family}, seed ${seed}, volume ${volume}: ×${k}`);
      }
    }
  }
  // and still a structure detector: the planted changes of family b at F1 1 over 10 seeds
  let f1 = 0;
  for (let seed = 0; seed < 10; seed++) {
    const { flows: f, truth } = syntheticFlows({ family: 'b', seed: 100 + seed });
    f1 += scoreChangepoints(shares(f), truth.changepoints, f.T, 1).f1 / 10;
  }
  assert.ok(f1 >= 0.99, `shares on family b: mean F1 ${f1}`);
});
