// Lesion-candidate extraction, zonal filter and the PI-CAI metrics on hand-built volumes whose
// answers are worked out by hand in the comments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractLesionCandidates, staticExtraction, removeOutsideGland, label26, cleanZonalMask } from '../../../src/modules/prostate/postprocess.ts';
import { evaluateCase, aggregate, auroc, lesionCurves, maxWeightAssignment, bootstrapCI, type CaseEvaluation } from '../../../src/modules/prostate/evaluate.ts';

type S = [number, number, number];
const vol = (s: S) => new Float32Array(s[0] * s[1] * s[2]);
const at = (s: S, z: number, y: number, x: number) => (z * s[1] + y) * s[2] + x;
function box(a: Float32Array | Uint8Array, s: S, z0: number, z1: number, y0: number, y1: number, x0: number, x1: number, v: number) {
  for (let z = z0; z < z1; z++) for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) a[at(s, z, y, x)] = v;
}
const close = (a: number, b: number, msg?: string) => assert.ok(Math.abs(a - b) < 1e-9, `${msg ?? ''} ${a} != ${b}`);

test('26-connectivity: corner-touching voxels join, a one-voxel gap separates', () => {
  const s: S = [3, 3, 3];
  const m = new Uint8Array(27);
  m[at(s, 0, 0, 0)] = 1; m[at(s, 1, 1, 1)] = 1; m[at(s, 2, 2, 2)] = 1; // diagonal chain
  assert.equal(label26(m, s).count, 1);
  const m2 = new Uint8Array(27);
  m2[at(s, 0, 0, 0)] = 1; m2[at(s, 2, 2, 2)] = 1;
  assert.equal(label26(m2, s).count, 2);
});

test('static extraction drops components of <= 10 voxels and paints each survivor with its maximum', () => {
  const s: S = [1, 4, 20];
  const P = vol(s);
  box(P, s, 0, 1, 0, 1, 0, 10, 0.6); // 10 voxels → dropped
  box(P, s, 0, 1, 2, 3, 0, 11, 0.5); // 11 voxels → kept
  P[at(s, 0, 2, 5)] = 0.8;
  const d = staticExtraction(P, s, 0.4);
  assert.equal(d[at(s, 0, 0, 0)], 0);
  assert.ok(Math.abs(d[at(s, 0, 2, 0)]! - 0.8) < 1e-6 && Math.abs(d[at(s, 0, 2, 10)]! - 0.8) < 1e-6);
});

// Softmax with: blob1 core 3×3×3 at 0.9 inside a 5×5×5 halo at 0.3; blob2 3×3×3 at 0.5 far away;
// a one-voxel spike at 0.95 (too small to be a lesion).
function softmaxFixture(): { P: Float32Array; s: S } {
  const s: S = [7, 7, 20];
  const P = vol(s);
  box(P, s, 1, 6, 1, 6, 1, 6, 0.3);
  box(P, s, 2, 5, 2, 5, 2, 5, 0.9);
  box(P, s, 2, 5, 2, 5, 12, 15, 0.5);
  P[at(s, 3, 3, 18)] = 0.95;
  return { P, s };
}

test('dynamic extraction, worked through the extraction loop by hand', () => {
  const { P, s } = softmaxFixture();
  // iteration 1: max 0.95 → t 0.38 → blob1 core (0.9, 27 vox) and blob2 (0.5) survive; the
  // highest, blob1, is placed. iteration 2: max still the spike → blob2 placed. iteration 3: only
  // the spike is above t and it is too small → 'dynamic' stops.
  const d = extractLesionCandidates(P, s, { mode: 'dynamic' });
  const values = (a: Float32Array) => [...new Set(Array.from(a).filter((x) => x > 0).map((x) => Math.round(x * 100) / 100))].sort();
  assert.deepEqual(values(d), [0.5, 0.9]);
  assert.equal(Array.from(d).filter((x) => x > 0).length, 54);
  assert.equal(d[at(s, 3, 3, 18)], 0, 'spike removed');
  assert.equal(d[at(s, 1, 1, 1)], 0, 'halo not part of the lesion');
  // dynamic-v2 zeroes the spike and goes on: next max 0.3 → the halo; it touches blob1's
  // (dilated) region, so removeAdjacent rejects it. Same map.
  assert.deepEqual(Array.from(extractLesionCandidates(P, s, { mode: 'dynamic-v2' })), Array.from(d));
  // without removeAdjacent the halo (98 voxels) is placed at 0.3
  const d3 = extractLesionCandidates(P, s, { mode: 'dynamic-v2', removeAdjacent: false });
  assert.equal(Array.from(d3).filter((x) => Math.abs(x - 0.3) < 1e-6).length, 98);
  // dynamic-fast: one static pass at 0.95/2.5 = 0.38 → the same two lesions
  assert.deepEqual(values(extractLesionCandidates(P, s, { mode: 'dynamic-fast' })), [0.5, 0.9]);
  // at most maxLesions
  assert.deepEqual(values(extractLesionCandidates(P, s, { mode: 'dynamic', maxLesions: 1 })), [0.9]);
  // nothing above 0.01 → empty map; values outside [0,1] rejected
  assert.ok(extractLesionCandidates(vol(s).fill(0.005), s).every((x) => x === 0));
  const bad = vol(s); bad[3] = 1.5;
  assert.throws(() => extractLesionCandidates(bad, s), /\[0, 1\]/);
});

test('zonal filter removes candidates with no voxel in the gland and keeps ones that touch it', () => {
  const { P, s } = softmaxFixture();
  const d = extractLesionCandidates(P, s);
  const zones = new Uint8Array(d.length);
  box(zones, s, 4, 5, 4, 5, 4, 5, 1); // one voxel of blob1 is in the PZ
  const f = removeOutsideGland(d, zones, s);
  assert.equal(Array.from(f).filter((x) => x > 0).length, 27);
  assert.ok(Math.abs(f[at(s, 3, 3, 3)]! - 0.9) < 1e-6);
  assert.equal(f[at(s, 3, 3, 13)], 0);
});

test('Hungarian assignment maximises total weight one-to-one', () => {
  // greedy (take 0.9 first) gives 0.9 + 0.1 = 1.0; optimum is 0.8 + 0.7 = 1.5
  const pairs = maxWeightAssignment([[0.9, 0.8], [0.7, 0.1]]);
  assert.deepEqual(pairs.sort(), [[0, 1], [1, 0]]);
  assert.deepEqual(maxWeightAssignment([[0, 0, 2]]), [[0, 2]]);
});

// The hand-worked evaluation set (shape 1×4×12 per case).
function handCases(): Record<string, { det: Float32Array; lab: Uint8Array }> {
  const s: S = [1, 4, 12];
  const mk = () => ({ det: vol(s), lab: new Uint8Array(48) });
  const A = mk(); box(A.lab, s, 0, 1, 0, 2, 0, 4, 1); box(A.det, s, 0, 1, 0, 2, 0, 4, 0.9); // exact hit, IoU 1
  const B = mk(); box(B.lab, s, 0, 1, 0, 1, 0, 10, 1); B.det[at(s, 0, 0, 0)] = 0.3; // 1 of 10 voxels: IoU exactly 0.1 → hit
  const C = mk(); box(C.det, s, 0, 1, 0, 2, 0, 2, 0.8); // negative case, FP 0.8
  const D = mk(); box(D.lab, s, 0, 1, 0, 2, 0, 2, 1); box(D.det, s, 0, 1, 0, 2, 8, 10, 0.2); // missed lesion + FP 0.2
  // E: split detection: GT 2×4; c1 covers x 0–1 (IoU 0.5, conf 0.6), c2 covers x 3 (IoU 0.25, conf 0.7)
  const E = mk(); box(E.lab, s, 0, 1, 0, 2, 0, 4, 1); box(E.det, s, 0, 1, 0, 2, 0, 2, 0.6); box(E.det, s, 0, 1, 0, 2, 3, 4, 0.7);
  const F = mk(); // empty negative
  const G = mk(); box(G.det, s, 0, 1, 2, 4, 9, 12, 0.3); // negative with a 0.3 FP (ties B's score)
  return { A, B, C, D, E, F, G };
}

test('PI-CAI metrics on the hand-worked set: lesion tuples, AP, AUROC with a tie, ranking score', () => {
  const s: S = [1, 4, 12];
  const cases: Record<string, CaseEvaluation> = {};
  for (const [k, c] of Object.entries(handCases())) cases[k] = evaluateCase(c.det, c.lab, s, {}, k);
  const t = (k: string) => cases[k]!.lesions.map((l) => l.map((x) => Math.round(x * 1000) / 1000));
  assert.deepEqual(t('A'), [[1, 0.9, 1]]);
  assert.deepEqual(t('B'), [[1, 0.3, 0.1]]);
  assert.deepEqual(t('C'), [[0, 0.8, 0]]);
  assert.deepEqual(t('D'), [[1, 0, 0], [0, 0.2, 0]]);
  assert.deepEqual(t('E'), [[1, 0.6, 0.5]], 'c2 (IoU 0.25, not matched) is discarded, neither TP nor FP');
  assert.deepEqual(t('F'), []);
  assert.ok(Math.abs(cases.E!.casePred - 0.7) < 1e-6, 'case prediction includes the discarded candidate');
  const m = aggregate(cases);
  // N = 4 lesions. Thresholds 0.9: P 1, R .25 → .25; 0.8: P .5, R .25 → 0; 0.6: P 2/3, R .5 → 1/6;
  // 0.3: TP 3, FP 2 (C, G) → P .6, R .75 → .15; 0.2: R unchanged. AP = .25 + 1/6 + .15.
  close(m.AP, 0.25 + 1 / 6 + 0.15, 'AP');
  // AUROC: positives A .9, B .3, D .2, E .7 vs negatives C .8, F 0, G .3:
  // vs C: 1; vs F: 4; vs G: A 1 + B tie ½ + E 1 = 2.5 → 7.5 / 12
  close(m.auroc, 7.5 / 12, 'AUROC');
  close(m.score, (7.5 / 12 + 0.25 + 1 / 6 + 0.15) / 2, 'score');
  assert.equal(m.num_lesions, 4);
  assert.equal(m.num_cases, 7);
  // FROC: at 0.3 → 2 FPs / 7 cases, sensitivity .75
  const p = m.curves.froc.find((r) => Math.abs(r.threshold - 0.3) < 1e-6)!;
  close(p.fpPerCase, 2 / 7); close(p.sensitivity, 0.75);
  // Dice option: B's single voxel has DSC 2/11 ≥ 0.1
  const b = handCases().B!;
  assert.ok(Math.abs(evaluateCase(b.det, b.lab, s, { overlap: 'DSC' }).lesions[0]![2] - 2 / 11) < 1e-9);
  const ci = bootstrapCI(cases, 50, 1);
  assert.ok(ci.AP[0] <= m.AP + 1e-9 && m.AP - 1e-9 <= ci.AP[1]);
});

test('IoU just below 0.1 is a miss and the candidate becomes a false positive', () => {
  const s: S = [1, 1, 12];
  const lab = new Uint8Array(12); box(lab, s, 0, 1, 0, 1, 0, 11, 1); // 11 voxels → 1/11 < 0.1
  const det = vol(s); det[0] = 0.4;
  assert.deepEqual(evaluateCase(det, lab, s).lesions, [[1, 0, 0], [0, det[0]!, 0]]);
});

test('edge cases: softmax rejected, all-negative AUROC NaN, no detections AP 0, no lesions AP NaN', () => {
  const s: S = [1, 2, 2];
  assert.throws(() => evaluateCase(Float32Array.from([0.1, 0.2, 0.3, 0.4]), new Uint8Array(4), s), /softmax, not a detection map/);
  assert.ok(Number.isNaN(auroc([0.2, 0.5], [0, 0])));
  const lc = lesionCurves([[1, 0, 0], [1, 0, 0]], 2);
  assert.equal(lc.ap, 0);
  assert.ok(Number.isNaN(lesionCurves([[0, 0.5, 0]], 1).ap));
  const m = aggregate({ a: evaluateCase(new Float32Array(4), new Uint8Array(4), s), b: evaluateCase(new Float32Array(4), new Uint8Array(4), s) });
  assert.ok(Number.isNaN(m.auroc) && Number.isNaN(m.AP) && Number.isNaN(m.score));
  // weights: doubling a case's weight counts it twice
  close(auroc([0.9, 0.1, 0.5], [1, 0, 0], [1, 1, 2]), 1);
  close(auroc([0.4, 0.1, 0.5], [1, 0, 0], [1, 1, 2]), 1 / 3);
});

test('zonal mask clean-up keeps the largest component with PZ; TZ-only islands go first', () => {
  const s: S = [1, 5, 20];
  const z = new Uint8Array(100);
  box(z, s, 0, 1, 0, 2, 0, 3, 1); // 6 voxels with PZ
  box(z, s, 0, 1, 0, 5, 6, 12, 2); // 30 voxels, TZ only → dropped although largest
  box(z, s, 0, 1, 0, 4, 14, 20, 2); z[at(s, 0, 0, 14)] = 1; // 24 voxels with one PZ voxel → kept
  const c = cleanZonalMask(z, s);
  assert.equal(Array.from(c).filter((v) => v > 0).length, 24);
  assert.equal(c[at(s, 0, 0, 14)], 1);
  assert.equal(c[at(s, 0, 0, 0)], 0);
});
