// PI-CAI as its users have it: fixtures written by the anchors' tools (picai_eval's own test maps;
// scripts/fixtures/picai_release.py: hand-written MHA, nibabel NIfTI, numpy .npy/.npz, official-style
// splits) read in the release layouts, each reader with a corrupt twin; picai_eval's published
// numbers on its test maps; the paired permutation test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readMetaImage } from '../../../src/modules/prostate/metaimage.ts';
import { readNifti } from '../../../src/modules/prostate/nifti.ts';
import { readNumpyVolume } from '../../../src/modules/prostate/npy.ts';
import { listCases, loadCase, readSplits, resolveSource, readMarksheet, LABELS } from '../../../src/modules/prostate/picai.ts';
import { split, loadPrepared } from '../../../src/modules/prostate/data.ts';
import { evaluateFolders, pairFolders, readSubjectList } from '../../../src/modules/prostate/picaieval.ts';
import { aggregate, auroc, lesionCurves, type CaseEvaluation, type LesionTuple } from '../../../src/modules/prostate/evaluate.ts';
import { pairedPermutationTest, aurocRanks, apSorted } from '../../../src/modules/prostate/compare.ts';
import { Rng } from '../../../src/core/rng.ts';

const FX = 'test/fixtures/prostate';
const REL = `${FX}/release`;
const MAPS = `${FX}/picai_eval/test-maps`;
const close = (a: number, b: number, tol = 1e-6, msg = '') => assert.ok(Math.abs(a - b) <= tol, `${msg} ${a} != ${b}`);

test("picai_eval's own test maps (one folder, _detection_map/_label) give picai_eval's published metrics and lesion tuples", () => {
  const expected = JSON.parse(fs.readFileSync(`${FX}/picai_eval/metrics-expected.json`, 'utf8')) as {
    auroc: number; AP: number; num_lesions: number; lesion_results: Record<string, LesionTuple[]>; case_pred: Record<string, number>;
  };
  const { cases } = evaluateFolders(MAPS, MAPS);
  const m = aggregate(cases);
  assert.deepEqual(Object.keys(cases).sort(), Object.keys(expected.lesion_results).sort());
  close(m.auroc, expected.auroc, 1e-12, 'AUROC');
  close(m.AP, (5 / 9) * (1 / 2), 1e-12, 'AP (test_evaluation.py)');
  close(m.AP, expected.AP, 1e-12, 'AP');
  close(m.score, (0.75 + 5 / 18) / 2, 1e-12, 'ranking score');
  assert.equal(m.num_lesions, expected.num_lesions);
  for (const [k, tuples] of Object.entries(expected.lesion_results)) {
    const got = [...cases[k]!.lesions].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    const want = [...tuples].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    assert.equal(got.length, want.length, k);
    // picai_eval's IoU carries a 1e-8 epsilon in numerator and denominator
    got.forEach((t, i) => { assert.equal(t[0], want[i]![0]); close(t[1], want[i]![1], 1e-12, k); close(t[2], want[i]![2], 1e-6, k); });
    close(cases[k]!.casePred, expected.case_pred[k]!, 1e-12, k);
  }
});

test('the same maps as .npy (even cases) and bare-named .mha (odd), labels as bare <case>.nii: the same numbers', () => {
  const pairs = pairFolders(`${FX}/mixed/detections`, `${FX}/mixed/labels`);
  assert.deepEqual(pairs.map((p) => path.extname(p.detection)), ['.npy', '.mha', '.npy', '.mha', '.npy', '.mha', '.npy', '.mha', '.npy', '.mha']);
  const m = aggregate(evaluateFolders(`${FX}/mixed/detections`, `${FX}/mixed/labels`).cases);
  close(m.auroc, 0.75, 1e-12);
  close(m.AP, 5 / 18, 1e-12);
});

test("an nnU-Net softmax (.npz 'softmax' [class, z, y, x]) is turned into a detection map by lesion-candidate extraction", () => {
  const r = evaluateFolders(`${FX}/mixed/softmax`, `${FX}/mixed/softmax`);
  assert.equal(r.extracted, 1);
  const c = r.cases['case-s']!;
  assert.equal(c.lesions.length, 1);
  assert.equal(c.lesions[0]![0], 1);
  close(c.lesions[0]![1], 0.8, 1e-6, 'the candidate carries the blob maximum');
  close(c.lesions[0]![2], 1, 1e-12, 'the extracted blob is the label');
});

test('a subject list (picai ds-config) restricts the cases; a case it names without a map is an error naming it', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prostate-subj-'));
  fs.writeFileSync(path.join(dir, 'sub.json'), JSON.stringify({ subject_list: ['case-4', 'case-2'] }));
  const r = evaluateFolders(MAPS, MAPS, { subjects: readSubjectList(path.join(dir, 'sub.json')) });
  assert.deepEqual(Object.keys(r.cases), ['case-4', 'case-2']);
  assert.throws(() => pairFolders(MAPS, MAPS, ['case-4', 'case-77']), /no detection map for case 'case-77'/);
  fs.writeFileSync(path.join(dir, 'bad.json'), JSON.stringify({ subjects: [] }));
  assert.throws(() => readSubjectList(path.join(dir, 'bad.json')), /bad\.json: 'subject_list' must be an array/);
  assert.throws(() => evaluateFolders(`${FX}/mixed/detections`, `${FX}/mixed/softmax`), /no label for case 'case-0'/);
});

test('release images (hand-written .mha, ADC/HBV on a coarser grid) with a picai_labels checkout: Yuan23 zones, expert and AI lesions', () => {
  const src = resolveSource(`${REL}/images`, `${REL}/picai_labels`);
  assert.equal(src.images, path.resolve(`${REL}/images`));
  const keys = listCases(src);
  assert.equal(keys.length, 10);
  const t2 = readMetaImage(`${REL}/images/10000/10000_1000000_t2w.mha`), adc = readMetaImage(`${REL}/images/10000/10000_1000000_adc.mha`);
  assert.deepEqual(t2.dims, [32, 32, 8]);
  assert.deepEqual(adc.dims, [16, 16, 8]);
  assert.equal(t2.elementType, 'int16');
  const c = loadCase(src, '10000_1000000');
  assert.ok(c.zones && c.label);
  assert.deepEqual([...new Set(c.zones.data)].sort(), [0, 1, 2]);
  // PZ (1) is posterior (LPS +y) of TZ (2), as in the release's Yuan23 masks
  const meanY = (z: number) => { let s = 0, n = 0; c.zones!.data.forEach((v, i) => { if (v === z) { s += Math.floor(i / 32) % 32; n++; } }); return s / n; };
  assert.ok(meanY(1) > meanY(2));
  assert.ok(Math.max(...c.labelRaw!.data) === 3, 'expert labels keep the ISUP value');
  const ai = loadCase(src, '10006_1000006');
  assert.ok(ai.label && ai.label.data.some((v) => v === 1), 'the AI (Bosma22a) label is used where no expert label exists');
  assert.equal(loadCase(src, '10008_1000009').label, null);
  assert.equal(loadPrepared(src, ['10000_1000000'])[0]!.zones.length, 32 * 32 * 8);
  // without the labels checkout, preprocessing stops and says where the masks are
  assert.throws(() => loadPrepared(resolveSource(`${REL}/images`), ['10000_1000000']), /Yuan23.*--labels/);
  assert.throws(() => resolveSource(`${REL}/images`, `${REL}/images`), /not a picai_labels checkout/);
  assert.ok(fs.existsSync(path.join(REL, 'picai_labels', LABELS.marksheet)));
});

test('official splits: nnU-Net splits.json and the ds-config folder read as shipped give the same folds; --fold holds out val', () => {
  const a = readSplits(`${REL}/splits/picai_nnunet/splits.json`), b = readSplits(`${REL}/splits/picai`);
  assert.equal(a.length, 5);
  assert.deepEqual(a, b);
  const s = split(resolveSource(`${REL}/images`, `${REL}/picai_labels`, `${REL}/splits/picai_nnunet/splits.json`), 3);
  assert.deepEqual(s.test, ['10006_1000006', '10006_1000007']);
  assert.equal(s.train.length, 8);
  assert.ok(!s.train.some((k) => k.startsWith('10006_')), 'the patient of the held-out fold does not train');
  assert.equal(s.missing, 0);
  assert.throws(() => split(resolveSource(`${REL}/images`, undefined, `${REL}/splits/picai`), 5), /fold 5 does not exist/);
});

test('corrupt twins: each reader names the file and the field', () => {
  const C = `${FX}/corrupt`;
  assert.throws(() => readMetaImage(`${C}/dimsize_t2w.mha`), (e: Error) => e.message.includes('dimsize_t2w.mha') && /'DimSize'/.test(e.message) && e.name === 'ImageFormatError');
  assert.throws(() => readMetaImage(`${C}/truncated_t2w.mha`), (e: Error) => e.message.includes('truncated_t2w.mha') && /'(CompressedData|CompressedDataSize|ElementDataFile)'/.test(e.message));
  assert.throws(() => readNifti(`${C}/truncated.nii.gz`), (e: Error) => e.message.includes('truncated.nii.gz') && /'gzip'/.test(e.message));
  assert.throws(() => readNifti(`${C}/badmagic.nii`), (e: Error) => e.message.includes('badmagic.nii') && /'magic'/.test(e.message));
  assert.throws(() => readNumpyVolume(`${C}/short.npy`), (e: Error) => e.message.includes('short.npy') && /'data'.*truncated/.test(e.message));
  assert.throws(() => readNumpyVolume(`${C}/notzip.npz`), (e: Error) => e.message.includes('notzip.npz') && /'zip'/.test(e.message));
  assert.throws(() => readSplits(`${C}/splits_noval.json`), (e: Error) => e.message.includes('splits_noval.json') && /fold 1.*'val'/.test(e.message));
  assert.throws(() => readSplits(`${C}/dsconfig`), (e: Error) => e.message.includes('ds-config-valid-fold-0.json') && /'subject_list'/.test(e.message));
});

// ------------------------------------------------------------------ the paired permutation test
function randomCases(n: number, rng: Rng, skill: number): Record<string, CaseEvaluation> {
  const out: Record<string, CaseEvaluation> = {};
  for (let i = 0; i < n; i++) {
    const t = i % 3 === 0 ? 1 : 0;
    const p = Math.min(1, Math.max(0.01, 0.5 + skill * (t - 0.5) + 0.25 * rng.normal()));
    out[`c${i}`] = { caseTarget: t, casePred: p, lesions: t ? [[1, p, 0.5]] : [[0, p * 0.8, 0]] };
  }
  return out;
}

test('the rank AUROC and sorted AP of the permutation loop equal evaluate.ts\'s (ties included)', () => {
  const rng = new Rng(5);
  for (let r = 0; r < 5; r++) {
    const s = Array.from({ length: 40 }, () => Math.round(rng.random() * 6) / 6), t = s.map(() => (rng.random() < 0.4 ? 1 : 0));
    close(aurocRanks(s, t), auroc(s, t), 1e-12);
    const tuples: LesionTuple[] = s.map((c, i) => [t[i]!, i % 7 === 0 ? 0 : c, 0]);
    close(apSorted(tuples), lesionCurves(tuples, 40).ap, 1e-12);
  }
});

test('permutation test: identical algorithms give p = 1; a clearly better B gives a small p; exact and Monte Carlo agree', () => {
  const rng = new Rng(1);
  const A = randomCases(12, rng, 0.0);
  const same = pairedPermutationTest(A, A, 100_000);
  assert.equal(same.method, 'exact');
  for (const v of Object.values(same.metrics)) { assert.equal(v.p_two_sided, 1); assert.equal(v.diff, 0); }
  const B = randomCases(12, new Rng(2), 0.9);
  const exact = pairedPermutationTest(A, B, 4096);
  assert.equal(exact.permutations, 4096);
  assert.ok(exact.metrics.auroc.diff > 0.3, `B is better by construction (ΔAUROC ${exact.metrics.auroc.diff})`);
  assert.ok(exact.metrics.auroc.p_b_better < 0.05, `p ${exact.metrics.auroc.p_b_better}`);
  const mc = pairedPermutationTest(A, B, 4000, 3);
  assert.equal(mc.method, 'approximate');
  for (const k of ['auroc', 'AP', 'score'] as const) {
    // binomial sd of a p near 0.05 over 4000 draws is ~0.0035; 0.03 is > 8 sd
    assert.ok(Math.abs(mc.metrics[k].p_two_sided - exact.metrics[k].p_two_sided) < 0.03, `${k}: ${mc.metrics[k].p_two_sided} vs ${exact.metrics[k].p_two_sided}`);
  }
  assert.throws(() => pairedPermutationTest(A, { ...B, extra: B.c0! }), /same cases/);
});

test('permutation test by hand: two cases, B ranks them right and A wrong — 1 of 4 swap patterns favours B as much, 2 of 4 are as extreme', () => {
  const ce = (t: number, p: number): CaseEvaluation => ({ caseTarget: t, casePred: p, lesions: [[t, p, t ? 0.5 : 0]] });
  const A = { pos: ce(1, 0.2), neg: ce(0, 0.8) }, B = { pos: ce(1, 0.9), neg: ce(0, 0.1) };
  const r = pairedPermutationTest(A, B, 1000);
  assert.equal(r.method, 'exact');
  assert.equal(r.permutations, 4);
  // no swap: AUROC 0 vs 1, AP 0.5 vs 1; one swap: both algorithms perfect (difference 0); both swapped: the reverse
  assert.deepEqual([r.metrics.auroc.a, r.metrics.auroc.b, r.metrics.AP.a, r.metrics.AP.b], [0, 1, 0.5, 1]);
  for (const m of Object.values(r.metrics)) { assert.equal(m.p_b_better, 1 / 4); assert.equal(m.p_two_sided, 2 / 4); }
});

test("picai_labels' marksheet (written by Python's csv) reads by header; its corrupt twins name the file, the line and the column", () => {
  const rows = readMarksheet(`${REL}/picai_labels/${LABELS.marksheet}`);
  assert.equal(rows.length, 10);
  assert.deepEqual(rows.filter((r) => r.case_csPCa === 'YES').map((r) => `${r.patient_id}_${r.study_id}`),
    ['10000_1000000', '10002_1000002', '10004_1000004', '10006_1000006', '10007_1000008']);
  assert.equal(rows[0]!.psad, null, 'an empty cell is missing, not 0');
  assert.throws(() => readMarksheet(`${FX}/corrupt/marksheet_nostudy.csv`), /marksheet_nostudy\.csv: line 4 lacks 'study_id'/);
  assert.throws(() => readMarksheet(`${FX}/corrupt/marksheet_cspca.csv`), /marksheet_cspca\.csv: line 6: case_csPCa must be YES or NO/);
});
