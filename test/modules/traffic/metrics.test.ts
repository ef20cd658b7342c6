import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prf, hausdorff, annotationError, randIndex, scoreChangepoints, matchCount, segmentLabels } from '../../../src/modules/traffic/metrics.ts';

test('F1 at margin: one-to-one matching within ±m', () => {
  assert.equal(matchCount([10, 11], [10], 1), 1, 'a true point is matched once');
  assert.deepEqual(prf([10, 11], [10], 1), { precision: 0.5, recall: 1, f1: 2 / 3, tp: 1 });
  assert.equal(prf([12], [10], 1).f1, 0, 'outside the margin');
  assert.equal(prf([11], [10], 1).f1, 1, 'inside the margin');
  assert.equal(prf([9, 21], [10, 20], 1).f1, 1);
  assert.equal(prf([], [], 1).f1, 1);
  assert.equal(prf([], [5], 1).f1, 0);
  // greedy must not steal: pred 11 could match 10 or 12; pred 9 only 10
  assert.equal(matchCount([9, 11], [10, 12], 1), 2);
});

test('Hausdorff, annotation error, Rand index', () => {
  assert.equal(hausdorff([10, 30], [12, 31]), 2);
  assert.equal(hausdorff([10], [10, 40]), 30);
  assert.equal(hausdorff([], []), 0);
  assert.equal(hausdorff([], [3]), Infinity);
  assert.equal(annotationError([1, 2, 3], [5]), 2);
  assert.equal(randIndex([5], [5], 10), 1);
  assert.deepEqual([...segmentLabels([2, 4], 6)], [0, 0, 1, 1, 2, 2]);
  // T=4, pred splits at 2, truth none: pairs (0,1),(2,3) agree as "same"; 4 cross pairs disagree
  assert.equal(randIndex([2], [], 4), 2 / 6);
  // brute force check on a random case
  const T = 30, a = [7, 19], b = [5, 19, 25];
  const la = segmentLabels(a, T), lb = segmentLabels(b, T);
  let agree = 0, tot = 0;
  for (let i = 0; i < T; i++) for (let j = i + 1; j < T; j++) { tot++; if ((la[i] === la[j]) === (lb[i] === lb[j])) agree++; }
  assert.ok(Math.abs(randIndex(a, b, T) - agree / tot) < 1e-12);
});

test('scoreChangepoints ignores the ends and rejects non-integers', () => {
  const s = scoreChangepoints([0, 24, 96], [24], 96, 1);
  assert.equal(s.nPred, 1);
  assert.equal(s.f1, 1);
  assert.throws(() => scoreChangepoints([2.5], [3], 10), /not an integer/);
});
