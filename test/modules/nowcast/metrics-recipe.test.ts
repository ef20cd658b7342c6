// Metric tests on hand-worked examples (the W4C22 metrics) and the correctness of paper A's
// transforms and geometric ensemble (eq. 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import { confusion, scores, meanIoU, CellScores } from '../../../src/modules/nowcast/metrics.ts';
import {
  TRANSFORMS, POLICY, INVERSE_POLICY, applyTransform, inverseOf, transformMotion, sampleTransform, ensemble, ttaTransforms, binarize, augmentBatch,
} from '../../../src/modules/nowcast/recipe.ts';
import { tuneTau, evaluateAtThresholds, evaluate } from '../../../src/modules/nowcast/evaluate.ts';
import type { NowcastModel } from '../../../src/modules/nowcast/model.ts';

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

test('worked example: TP=2, FP=1, FN=1, TN=4; precision = recall = F1 = 2/3, CSI = IoU = 0.5, accuracy = 0.75', () => {
  const Y = torch.tensor([1, 1, 0, 0, 1, 0, 0, 0]), P = torch.tensor([1, 0, 1, 0, 1, 0, 0, 1]), M = torch.tensor([0, 0, 0, 0, 0, 0, 1, 1]);
  const c = confusion(P, Y, M);
  assert.deepEqual(c, { tp: 2, fp: 1, fn: 1, tn: 4 });
  const s = scores(c);
  close(s.precision, 2 / 3); close(s.recall, 2 / 3); close(s.f1, 2 / 3); close(s.csi, 0.5); close(s.iou, 0.5); close(s.accuracy, 0.75);
  // strict exclusion drops the two masked pixels: same IoU, accuracy 4/6
  const e = confusion(P, Y, M, 'exclude');
  assert.deepEqual(e, { tp: 2, fp: 1, fn: 1, tn: 2 });
  close(scores(e).accuracy, 4 / 6);
  close(scores(e).iou, 0.5);
  torch.dispose(Y, P, M);
});

test('empty union gives IoU 0 (and every metric with a zero denominator is 0)', () => {
  const z = torch.zeros([2, 1, 3, 4, 4]);
  const c = confusion(z, z);
  assert.deepEqual(c, { tp: 0, fp: 0, fn: 0, tn: 96 });
  const s = scores(c);
  assert.equal(s.iou, 0); assert.equal(s.precision, 0); assert.equal(s.recall, 0); assert.equal(s.f1, 0); assert.equal(s.accuracy, 1);
  assert.equal(scores({ tp: 0, fp: 0, fn: 0, tn: 0 }).accuracy, 0);
  z.dispose();
});

test('mIoU is the unweighted mean over cells, not pooled counts; lead-time curve per slot', () => {
  const A = { tp: 1, fp: 0, fn: 0, tn: 10 }, B = { tp: 1, fp: 99, fn: 0, tn: 0 };
  close(meanIoU([A, B]), (1 + 0.01) / 2);
  assert.notEqual(meanIoU([A, B]), scores({ tp: 2, fp: 99, fn: 0, tn: 10 }).iou);
  // the 16 transfer cells of SIANet + recipe in paper A Table 1 average to 27.1
  const paper = [21.0, 31.6, 29.7, 27.7, 20.1, 22.1, 27.8, 24.5, 29.1, 23.0, 30.2, 42.8, 24.3, 24.6, 27.0, 28.0];
  close(meanIoU(paper.map((v) => ({ tp: v, fp: 100 - v, fn: 0, tn: 0 }))) * 100, 27.1, 0.05);
  // per-lead-time: slot 0 perfect, slot 1 all wrong
  const sc = new CellScores();
  const y = torch.tensor([1, 1, 0, 0, 1, 1, 0, 0], { shape: [1, 1, 2, 2, 2] });
  const p = torch.tensor([1, 1, 0, 0, 0, 0, 1, 1], { shape: [1, 1, 2, 2, 2] });
  sc.add('r/2019', p, y, null);
  sc.add('q/2019', y, y, null);
  assert.deepEqual(sc.leadTimeIoU(['r/2019']), [1, 0]);
  close(sc.mIoU(), (1 / 3 + 1) / 2);
  torch.dispose(y, p);
});

test('every transform is exactly inverted: A⁻¹(A(x)) = x', () => {
  const x = torch.randn([2, 3, 4, 6, 6], { dtype: 'float64' });
  for (const t of TRANSFORMS) {
    const a = applyTransform(x, t), back = applyTransform(a, inverseOf(t));
    assert.ok(back.equal(x), `transform ${t}`);
    if (t !== 'id') assert.ok(!a.equal(x), `transform ${t} changes a random field`);
    torch.dispose(a, back);
  }
  x.dispose();
});

test('the policy keeps a component of north-east motion; the inverse policy reverses both; rotations go from H toward W', () => {
  // numpy/torch rot90 convention: east motion becomes north motion
  assert.deepEqual(transformMotion(1, 0, 'rot90'), [0, 1]);
  assert.deepEqual(transformMotion(2, 1, 'vflip'), [2, -1]);
  assert.deepEqual(transformMotion(2, 1, 'rot180_vflip'), [-2, 1]); // left-right mirror
  for (const t of POLICY) {
    const [e, n] = transformMotion(2, 1, t);
    assert.ok(e > 0 || n > 0, `${t} maps ENE motion to (${e}, ${n})`);
  }
  for (const t of INVERSE_POLICY) {
    const [e, n] = transformMotion(2, 1, t);
    assert.ok(e < 0 && n < 0, `${t} maps ENE motion to (${e}, ${n})`);
  }
  // the centred target block maps onto itself under every transform
  const m = torch.zeros([8, 8]);
  m.at([3, 5], [3, 5]).fill_(1);
  for (const t of TRANSFORMS) { const a = applyTransform(m, t); assert.ok(a.equal(m), t); a.dispose(); }
  m.dispose();
});

test('policy sampling: identity with p = 0.2, otherwise one of the five uniformly', () => {
  const rng = new Rng(5), n = 5000, counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) { const t = sampleTransform('policy', rng); counts[t] = (counts[t] ?? 0) + 1; }
  close(counts.id! / n, 0.2, 0.02);
  for (const t of POLICY) close(counts[t]! / n, 0.16, 0.02);
  assert.deepEqual(Object.keys(counts).sort(), ['id', ...POLICY].sort());
  // input, target and mask get the same transform
  const x = torch.randn([3, 2, 4, 6, 6]), y = torch.randn([3, 1, 2, 6, 6]);
  const mask = y.gt(0);
  const a = augmentBatch(x, y, mask, 'policy', new Rng(1));
  const names = a.transform.split(',');
  names.forEach((t, b) => {
    const tx = applyTransform(x.narrow(0, b, 1), t as never), ty = applyTransform(y.narrow(0, b, 1), t as never);
    assert.ok(tx.equal(a.x.narrow(0, b, 1)) && ty.equal(a.y.narrow(0, b, 1)), `sample ${b} (${t})`);
  });
  assert.ok(a.mask.equal(a.y.gt(0)));
  torch.dispose(x, y, mask, a.x, a.y, a.mask);
});

test('TTA: for an exactly equivariant per-pixel network the ensemble equals the single output; logit averaging', () => {
  const w = torch.tensor([0.7, -1.3, 0.4], { dtype: 'float64' }).reshape([1, 3, 1, 1, 1]);
  const f = (x: torch.Tensor) => torch.scope(() => x.mul(w).sum(1, true).add(0.1)); // 1×1×1 conv: (B, 3, T, H, W) → (B, 1, T, H, W)
  const x = torch.randn([2, 3, 4, 6, 6], { dtype: 'float64' });
  const single = f(x).sigmoid();
  for (const preset of ['paper', 'released', 'policy'] as const) {
    for (const average of ['prob', 'logit'] as const) {
      const e = ensemble(f, x, { transforms: ttaTransforms(preset), average });
      assert.ok(e.sub(single).abs().max().item() < 1e-12, `${preset}/${average}`);
      e.dispose();
    }
  }
  // a non-equivariant f: logit averaging = σ(mean of back-transformed logits); prob averaging = mean of σ
  const g = (z: torch.Tensor) => torch.scope(() => f(z).add(torch.arange(0, 6, 1, { dtype: 'float64' }).reshape([1, 1, 1, 1, 6])));
  const a = g(x), b = applyTransform(g(applyTransform(x, 'rot180')), 'rot180');
  const wantL = a.add(b).div(2).sigmoid(), wantP = a.sigmoid().add(b.sigmoid()).div(2);
  const gotL = ensemble(g, x, { transforms: ['id', 'rot180'], average: 'logit' }), gotP = ensemble(g, x, { transforms: ['id', 'rot180'], average: 'prob' });
  assert.ok(gotL.sub(wantL).abs().max().item() < 1e-12);
  assert.ok(gotP.sub(wantP).abs().max().item() < 1e-12);
  assert.ok(gotL.sub(gotP).abs().max().item() > 1e-6, 'the two averages differ for a non-equivariant model');
  const bin = binarize(torch.tensor([0.47, 0.48, 0.5]), 0.48);
  assert.deepEqual(bin.toArray(), [0, 1, 1]);
  assert.throws(() => binarize(bin, 1.2), /τ must be in \(0, 1\)/);
  torch.dispose(w, x, single, a, b, wantL, wantP, gotL, gotP, bin);
});

test('tuned threshold (paper B): the grid τ with the best validation mIoU, ties toward 0.5', () => {
  // a stub "model" whose logits are its input: probabilities 0.9, 0.37, 0.32, 0.18 on truths 1, 1, 1, 0.
  // IoU is 1 for τ in (0.18, 0.32] (grid 0.2, 0.25, 0.3 → the tie goes to 0.3), 0.75 below, 2/3 and 1/3 above.
  const p = [0.9, 0.37, 0.32, 0.18];
  const x = torch.tensor(p.map((v) => Math.log(v / (1 - v)))).reshape([1, 1, 1, 2, 2]);
  const set = { x, y: torch.tensor([1, 1, 1, 0]).reshape([1, 1, 1, 2, 2]), mask: torch.zeros([1, 1, 1, 2, 2]), cell: 'r/2019', region: 'r', year: 2019 };
  const stub = { kind: 'unet3d', eval() {}, forward: (z: torch.Tensor) => ({ logits: z.mul(1) }) } as unknown as NowcastModel;
  const best = tuneTau(stub, [set]);
  assert.equal(best.tau, 0.3);
  close(best.valMIoU, 1);
  // scored at several thresholds in one pass: the same counts as one evaluate per τ
  const multi = evaluateAtThresholds(stub, [set], {}, [0.1, 0.35, 0.5]);
  assert.deepEqual(multi.scores.map((s) => s.mIoU()), [0.75, 2 / 3, 1 / 3]);
  close(evaluate(stub, [set], { tau: 0.35 }).scores.mIoU(), 2 / 3);
  torch.dispose(x, set.y, set.mask);
});
