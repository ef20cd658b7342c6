// ruptures parity: the costs' values written by hand from ruptures' formulas (CostL2, CostL1,
// CostNormal, CostRbf), and the searches against exhaustive search (Dynp, Pelt) or on cases with one
// clear answer (Binseg, Window), with ruptures' tie-breaking and argrelmax(mode='wrap') peaks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CostL1, CostL2, CostNormal, CostRbf, costFactory, toSignal, sumOfCosts, type SegmentCost,
} from '../../../src/modules/traffic/detectors/costs.ts';
import { binsegSearch, dynpSearch, peltSearch, relMaxWrap, sanityCheck, windowScore, windowSearch } from '../../../src/modules/traffic/detectors/search.ts';
import { ChangePoints } from '../../../src/modules/traffic/detectors/ruptures.ts';
import { COSTS } from '../../../src/modules/traffic/config.ts';
import { Rng } from '../../../src/core/rng.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);

test('l2 and l1 costs: hand-computed values', () => {
  const l2 = new CostL2(toSignal([0, 0, 3, 3]));
  close(l2.error(0, 4), 9); // mean 1.5: 4 · 1.5²
  close(l2.error(0, 2), 0);
  close(l2.error(1, 3), 4.5); // [0, 3]: 2 · 1.5²
  const l1 = new CostL1(toSignal([1, 2, 10, 4]));
  close(l1.error(0, 3), 9); // median 2: 1 + 0 + 8
  close(l1.error(0, 4), 11); // median (2 + 4)/2 = 3 (numpy's even-count median): 2 + 1 + 7 + 1
  const l1d = new CostL1(toSignal([[0, 5], [2, 1], [4, 3]]));
  close(l1d.error(0, 3), 4 + 4); // medians 2 and 3, summed over both columns
  assert.equal(l1.minSize, 2); assert.equal(l2.minSize, 1);
  assert.throws(() => l1.error(0, 1), /fewer than 2 samples/);
});

test('normal cost: (b−a)·log det(Σ̂ + 1e-6 I), ddof 0 in 1-d and ddof 1 (np.cov) in d > 1', () => {
  const c1 = new CostNormal(toSignal([1, 3, 5, 7]));
  close(c1.error(0, 4), 4 * Math.log(5 + 1e-6)); // variance (ddof 0) of 1,3,5,7 = 5
  close(c1.error(0, 2), 2 * Math.log(1 + 1e-6));
  const c2 = new CostNormal(toSignal([[0, 0], [2, 0], [0, 2], [2, 2]]));
  close(c2.error(0, 4), 4 * 2 * Math.log(4 / 3 + 1e-6)); // np.cov: variances 4/3, covariance 0
  const c3 = new CostNormal(toSignal([[0, 0], [1, 1], [2, 2], [3, 3.5]]));
  // np.cov by hand (means 1.5, 1.625): var x = 5/3, var y = (1.625² + 0.625² + 0.375² + 1.875²)/3, cov = (2.4375 + 0.3125 + 0.1875 + 2.8125)/3
  const vx = 5 / 3 + 1e-6, vy = (1.625 ** 2 + 0.625 ** 2 + 0.375 ** 2 + 1.875 ** 2) / 3 + 1e-6, cxy = (2.4375 + 0.3125 + 0.1875 + 2.8125) / 3;
  close(c3.error(0, 4), 4 * Math.log(vx * vy - cxy * cxy), 1e-10);
});

test('rbf cost: median-heuristic gamma, clipping to [0.01, 100], unit diagonal', () => {
  // x = 0, 0, 1: squared distances 0, 1, 1 → median 1 → γ = 1; the identical pair is clipped to 0.01
  const c = new CostRbf(toSignal([0, 0, 1]));
  close(c.gamma, 1);
  close(c.error(0, 2), 2 - (2 + 2 * Math.exp(-0.01)) / 2);
  close(c.error(0, 3), 3 - (3 + 2 * Math.exp(-0.01) + 4 * Math.exp(-1)) / 3);
  close(c.error(1, 2), 0);
  // an even number of pairs: 1, 4, 9, 16, 36, 49 → median (9 + 16)/2 = 12.5 (numpy's), γ = 0.08
  const e = new CostRbf(toSignal([0, 1, 3, 7]));
  close(e.gamma, 0.08);
  close(e.error(2, 4), 2 - (2 + 2 * Math.exp(-0.08 * 16)) / 2);
  // a given γ, and the upper clip: γ·d² = 10⁴ → 100
  const g = new CostRbf(toSignal([0, 100]), 1);
  close(g.error(0, 2), 2 - (2 + 2 * Math.exp(-100)) / 2);
  // all points equal: median 0 → γ = 1 (ruptures), every off-diagonal e^{-0.01}
  const z = new CostRbf(toSignal([5, 5, 5]));
  close(z.gamma, 1);
  close(z.error(0, 3), 3 - (3 + 6 * Math.exp(-0.01)) / 3);
  // 2-d rows: squared Euclidean distances
  const d2 = new CostRbf(toSignal([[0, 0], [3, 4]]), 0.01);
  close(d2.error(0, 2), 2 - (2 + 2 * Math.exp(-0.25)) / 2);
});

/** All breakpoint lists (ending with n) with nBkps breakpoints on multiples of jump, segments ≥ minSize. */
function* segmentations(n: number, nBkps: number, minSize: number, jump: number, from = 0): Generator<number[]> {
  if (nBkps === 0) { if (n - from >= minSize) yield [n]; return; }
  for (let b = from + minSize; b <= n - minSize; b++) {
    if (b % jump !== 0) continue;
    for (const rest of segmentations(n, nBkps - 1, minSize, jump, b)) yield [b, ...rest];
  }
}

function exhaustive(cost: SegmentCost, nBkps: number, minSize: number, jump: number): { v: number; bkps: number[] } {
  let best = { v: Infinity, bkps: [] as number[] };
  for (const s of segmentations(cost.T, nBkps, minSize, jump)) { const v = sumOfCosts(cost, s); if (v < best.v - 1e-9) best = { v, bkps: s }; }
  return best;
}

function noisy(rng: Rng, n: number, d: number, level: (t: number, c: number) => number, sd = 1): number[][] {
  return Array.from({ length: n }, (_, t) => Array.from({ length: d }, (_2, c) => level(t, c) + sd * rng.normal()));
}

test('Dynp equals exhaustive search, every cost, with jump and minSize', () => {
  const rng = new Rng(11);
  for (const model of COSTS) {
    for (const [minSize, jump] of [[2, 1], [3, 2], [2, 3]] as const) {
      const x = noisy(rng, 14, 2, (t, c) => (t >= 6 ? 2 + c : 0) + (t >= 10 ? -3 : 0));
      const cost = costFactory(model, toSignal(x));
      for (const k of [1, 2, 3]) {
        const m = Math.max(minSize, cost.minSize);
        if (!sanityCheck(14, k, jump, m)) continue;
        const ex = exhaustive(cost, k, m, jump), dp = dynpSearch(cost, k, minSize, jump);
        close(sumOfCosts(cost, dp), ex.v, 1e-9);
        assert.deepEqual(dp, ex.bkps, `${model} k=${k} minSize=${minSize} jump=${jump}`);
      }
    }
  }
});

test('Pelt equals exhaustive penalised search (jump 1), every cost', () => {
  const rng = new Rng(12);
  for (const model of COSTS) {
    const x = noisy(rng, 13, 1, (t) => (t >= 5 ? 3 : 0) + (t >= 9 ? -5 : 0), 0.7);
    const cost = costFactory(model, toSignal(x));
    for (const pen of [0.5, 2, 8]) {
      let best = Infinity;
      for (let k = 0; k <= 5; k++) {
        for (const s of segmentations(13, k, Math.max(2, cost.minSize), 1)) best = Math.min(best, sumOfCosts(cost, s) + pen * s.length);
      }
      const bk = peltSearch(cost, pen, 2, 1);
      close(sumOfCosts(cost, bk) + pen * bk.length, best, 1e-9);
    }
  }
});

test('Binseg: ruptures greedy rule, gain > pen, ties to the larger breakpoint, clear answers with every cost', () => {
  const step = [0, 0, 0, 0, 6, 6, 6, 6];
  const c = new CostL2(toSignal(step)); // whole cost 8 · 3² = 72, split at 4 gains 72
  assert.deepEqual(binsegSearch(c, { pen: 71.9 }, 1, 1), [4, 8]);
  assert.deepEqual(binsegSearch(c, { pen: 72 }, 1, 1), [8]); // stops unless gain > pen
  assert.deepEqual(binsegSearch(c, { epsilon: 1 }, 1, 1), [4, 8]);
  // a symmetric pulse: splits at 6 and at 9 gain the same 75 − 50; ruptures' max over (gain, bkp) takes 9
  const pulse = [0, 0, 0, 0, 0, 0, 5, 5, 5, 0, 0, 0, 0, 0, 0];
  const cp = new CostL2(toSignal(pulse));
  assert.deepEqual(binsegSearch(cp, { nBkps: 1 }, 2, 1), [9, 15]);
  assert.deepEqual(binsegSearch(cp, { nBkps: 2 }, 2, 1), [6, 9, 15]);
  // jump 4 tries 4, 8, 12 only: gains 60 − 600/11, 60 − 37.5 − 150/7, 60 − 56.25 → 4
  assert.deepEqual(binsegSearch(cp, { nBkps: 1 }, 2, 4), [4, 15]);
  const rng = new Rng(3);
  const x = noisy(rng, 60, 2, (t, k) => (t >= 20 && t < 40 ? 4 : 0) + (t >= 40 ? 2 * k : 0), 0.5);
  const vs = noisy(rng, 60, 1, () => 0, 1).map((r, t) => [r[0]! * (t >= 30 ? 6 : 1)]);
  for (const model of COSTS) {
    const sig = model === 'normal' ? vs : x, truth = model === 'normal' ? [30, 60] : [20, 40, 60];
    const k = truth.length - 1, cost = costFactory(model, toSignal(sig));
    assert.deepEqual(binsegSearch(cost, { nBkps: k }, 2, 1), truth, model);
    assert.deepEqual(dynpSearch(cost, k, 2, 1), truth, model);
  }
});

test('Window: argrelmax(mode=wrap) peaks (checked against scipy 1.10), the score by hand, clear answers', () => {
  // scipy.signal.argrelmax(np.array(s), order=o, mode='wrap') gave these
  assert.deepEqual(relMaxWrap([3, 1, 2, 0], 1), [0, 2]);
  assert.deepEqual(relMaxWrap([3, 1, 2, 0], 2), [0]);
  assert.deepEqual(relMaxWrap([0, 1, 1, 0, 2, 0], 1), [4]);
  assert.deepEqual(relMaxWrap([1, 1, 1], 1), []);
  assert.deepEqual(relMaxWrap([0, 5, 0, 4, 0, 3, 0], 3), [1]);
  assert.deepEqual(relMaxWrap([2, 0, 1, 0, 2], 1), [2]);
  // x = 0×10, 10×10, width 4: score at 9 = c(7,11) − c(7,9) − c(9,11) = 75 − 0 − 50, at 10: 100, at 11: 25
  const step = Array.from({ length: 20 }, (_, t) => (t >= 10 ? 10 : 0));
  const c = new CostL2(toSignal(step));
  const { inds, score } = windowScore(c, 4, 1);
  assert.deepEqual(inds, Array.from({ length: 16 }, (_, i) => i + 2));
  assert.deepEqual(score.map((v) => Math.round(v * 1e9) / 1e9), inds.map((k) => (k === 9 || k === 11 ? 25 : k === 10 ? 100 : 0)));
  assert.deepEqual(windowSearch(c, { nBkps: 1 }, 4, 1, 1), [10, 20]);
  assert.deepEqual(windowSearch(c, { pen: 499 }, 4, 1, 1), [10, 20]); // gain = 20·25 − 0 = 500
  assert.deepEqual(windowSearch(c, { pen: 500 }, 4, 1, 1), [20]);
  assert.deepEqual(windowSearch(c, { nBkps: 1 }, 5, 1, 1), [10, 20]); // width 5 → 4, as ruptures
  const rng = new Rng(4);
  const x = noisy(rng, 90, 1, (t) => (t >= 30 && t < 60 ? 5 : 0), 0.5);
  for (const model of COSTS) {
    if (model === 'normal') continue;
    assert.deepEqual(windowSearch(costFactory(model, toSignal(x)), { nBkps: 2 }, 20, 2, 1), [30, 60, 90], model);
  }
});

test('one detector interface: cost × search, ruptures defaults and errors', () => {
  const x = [...Array(50).fill(0), ...Array(50).fill(8)].map((v, t) => v + Math.sin(t));
  assert.deepEqual(new ChangePoints({ cost: 'rbf', search: 'pelt' }).fit(x).predict({ pen: 3 }), [50, 100]);
  assert.deepEqual(new ChangePoints({ cost: 'l1', search: 'dynp' }).fit(x).predict({ nBkps: 1 }), [50, 100]);
  assert.deepEqual(new ChangePoints({ cost: 'l2', search: 'binseg' }).fit(x).predict({ nBkps: 1 }), [50, 100]);
  assert.deepEqual(new ChangePoints({ cost: 'rbf', search: 'window', width: 20 }).fit(x).predict({ nBkps: 1 }), [50, 100]);
  assert.throws(() => new ChangePoints({ search: 'dynp' }).fit(x).predict({ pen: 1 }), /needs the number/);
  assert.throws(() => new ChangePoints({ search: 'binseg' }).fit(x).predict({}), /exactly one/);
  assert.throws(() => new ChangePoints({ search: 'dynp', minSize: 30, jump: 1 }).fit(x).predict({ nBkps: 4 }), /no segmentation/);
  assert.throws(() => new ChangePoints().predict({ pen: 1 }), /fit/);
});

test('the flow detector takes any cost × search: planted regime changes found with rbf/binseg/window as with l2/pelt', async () => {
  const { syntheticFlows } = await import('../../../src/modules/traffic/synthetic.ts');
  const { detect } = await import('../../../src/modules/traffic/detectors/index.ts');
  const { scoreChangepoints } = await import('../../../src/modules/traffic/metrics.ts');
  const { flows, truth } = syntheticFlows({ family: 'a', seed: 100 });
  for (const [cost, search] of [['l2', 'binseg'], ['l2', 'window'], ['rbf', 'pelt'], ['rbf', 'binseg']] as const) {
    const r = detect(flows, 'pelt', { pelt: { cost, search } });
    assert.equal(r.info.cost, cost); assert.equal(r.info.search, search);
    assert.ok(scoreChangepoints(r.changepoints, truth.changepoints, flows.T, 1).f1 >= 0.75, `${cost}/${search}: ${r.changepoints}`);
  }
  // a known count: dynp (and pelt with nBkps) give the exact optimum of the same cost
  const a = detect(flows, 'pelt', { pelt: { cost: 'rbf', search: 'dynp', nBkps: 4 } }).changepoints;
  const b = detect(flows, 'pelt', { pelt: { cost: 'rbf', search: 'pelt', nBkps: 4 } }).changepoints;
  assert.deepEqual(a, b); assert.equal(a.length, 4);
  assert.throws(() => detect(flows, 'pelt', { pelt: { search: 'dynp' } }), /needs the number of change points/);
  const { flows: nul } = syntheticFlows({ family: 'null', seed: 200 });
  assert.deepEqual(detect(nul, 'pelt', { pelt: { cost: 'rbf', search: 'binseg' } }).changepoints, []);
});

test('equal to ruptures itself: 932 results of its pure-Python sources (scripts/traffic/ruptures_parity.py) on four signals', async () => {
  const fs = await import('node:fs');
  const { searchBreakpoints } = await import('../../../src/modules/traffic/detectors/ruptures.ts');
  type Case = { signal: string; cost: 'l2' | 'l1' | 'normal' | 'rbf'; search?: 'pelt' | 'dynp' | 'binseg' | 'window'; minSize?: number; jump?: number; width?: number;
    pen?: number; nBkps?: number; bkps?: number[] | string; segment?: [number, number]; value?: number; gamma?: number };
  const j = JSON.parse(fs.readFileSync(new URL('../../fixtures/traffic/ruptures_parity.json', import.meta.url), 'utf8')) as { signals: Record<string, number[][]>; cases: Case[] };
  const costs = new Map<string, SegmentCost>();
  const costOf = (s: string, m: Case['cost']) => {
    const k = `${s}/${m}`;
    if (!costs.has(k)) costs.set(k, costFactory(m, toSignal(j.signals[s]!)));
    return costs.get(k)!;
  };
  const bad: string[] = [], l1Ties: string[] = [];
  let searches = 0;
  for (const c of j.cases) {
    const cost = costOf(c.signal, c.cost);
    if (c.segment) { close(cost.error(c.segment[0], c.segment[1]), c.value!, 1e-9); continue; }
    if (c.gamma !== undefined) { close((cost as CostRbf).gamma, c.gamma, 1e-12); continue; }
    searches++;
    let got: number[] | string;
    try {
      got = searchBreakpoints(cost, c.search!, c.nBkps ? { nBkps: c.nBkps } : { pen: c.pen }, { minSize: c.minSize, jump: c.jump, width: c.width });
    } catch { got = 'BadSegmentationParameters'; }
    if (JSON.stringify(got) === JSON.stringify(c.bkps)) continue;
    const what = `${JSON.stringify({ ...c, bkps: undefined })}: ours ${JSON.stringify(got)}, ruptures ${JSON.stringify(c.bkps)}`;
    // l1 is piecewise linear: moving a breakpoint inside a run can leave the sum exactly unchanged, and
    // such exact ties fall to the last bit of the summation order (numpy's pairwise sum vs ours).
    // Exact searches must then reach the same total; greedy ones may follow the other branch of a tie.
    if (c.cost === 'l1' && Array.isArray(got) && Array.isArray(c.bkps)) {
      if (c.search === 'dynp' || c.search === 'pelt') {
        const extra = c.search === 'pelt' ? c.pen! : 0;
        close(sumOfCosts(cost, got) + extra * got.length, sumOfCosts(cost, c.bkps) + extra * c.bkps.length, 1e-12);
      }
      l1Ties.push(what);
      continue;
    }
    bad.push(what);
  }
  assert.ok(searches > 800);
  assert.deepEqual(bad, []);
  assert.ok(l1Ties.length <= 10, `l1 ties: ${l1Ties.join('\n')}`);
});
