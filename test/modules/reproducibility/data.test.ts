// Real data in: the finite-sum setting on labelled CSV files (the bundled UCI digits and files the
// test writes), exact logistic constants, the minibatch oracle, and clear errors on bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import * as torch from '../../../src/core/torch/index.ts';
import {
  readLabeledCsv, logisticFromData, minibatchGradient, measureDeviation, sgdAveraged, sgdLast, fitLogLog, correlation,
  DEFAULT_DATA, SLOPE_TOLERANCE, gdContraction, sgdStronglyConvexBound,
} from '../../../src/modules/reproducibility/index.ts';

torch.setNumThreads(1);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'repro-data-'));

test('reads the bundled digits (.csv.gz) and a written CSV with a header; labels and shapes right', () => {
  const d = readLabeledCsv(DEFAULT_DATA);
  assert.equal(d.n, 1797);
  assert.equal(d.p, 64);
  assert.ok(d.y.every((v) => Number.isInteger(v) && v >= 0 && v <= 9));
  assert.ok(d.X.every((v) => v >= 0 && v <= 16));
  const f = path.join(dir, 'small.csv');
  fs.writeFileSync(f, 'a,b,label\n1,2,0\n3,4,1\n5,6,1\n');
  const s = readLabeledCsv(f);
  assert.deepEqual([s.n, s.p], [3, 2]);
  assert.deepEqual(Array.from(s.X), [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(s.y), [0, 1, 1]);
  const first = readLabeledCsv(f, { labelColumn: 'first' });
  assert.deepEqual(Array.from(first.y), [1, 3, 5]);
});

test('bad files give errors naming the file, row and column', () => {
  const gz = path.join(dir, 'trunc.csv.gz');
  fs.writeFileSync(gz, zlib.gzipSync(Buffer.from('1,2,3\n4,5,6\n'.repeat(50))).subarray(0, 30));
  assert.throws(() => readLabeledCsv(gz), (e: Error) => e.message.includes('trunc.csv.gz') && /truncated/.test(e.message));
  const rag = path.join(dir, 'ragged.csv');
  fs.writeFileSync(rag, '1,2,3\n4,5\n');
  assert.throws(() => readLabeledCsv(rag), /ragged\.csv: row 2 has 2 columns, expected 3/);
  const nan = path.join(dir, 'nan.csv');
  fs.writeFileSync(nan, '1,2,3\n4,NaN,6\n');
  assert.throws(() => readLabeledCsv(nan), /nan\.csv: row 2, column 2: not a finite number$/);
  assert.throws(() => readLabeledCsv(path.join(dir, 'missing.csv')), /missing\.csv: file not found/);
  const one = path.join(dir, 'oneclass.csv');
  fs.writeFileSync(one, '1,2,0\n3,4,0\n');
  assert.throws(() => logisticFromData(readLabeledCsv(one), { positive: 0, mu: 0.1 }), /single class/);
});

test('logistic regression on digits: exact x*, F* (Newton), constants; minibatch oracle is unbiased with the stated variance', () => {
  const p = logisticFromData(readLabeledCsv(DEFAULT_DATA), { positive: 3, mu: 0.1, maxRows: 600 });
  const gs = torch.scope(() => p.grad(p.xStar.unsqueeze(0)).norm().item());
  // rounding floor of the gradient at the exact minimizer: ε·L·‖x*‖ (measured 0.045 of it, both BLAS configs)
  const scale = p.constants.L * torch.scope(() => p.xStar.norm().item());
  assert.ok(gs <= 64 * Number.EPSILON * scale, `‖∇F(x*)‖ = ${gs}, L‖x*‖ = ${scale}`);
  // F* really is the minimum: random nearby points are higher, by at least μ/2·r²
  const bumps = torch.scope(() => {
    const x = p.xStar.unsqueeze(0).add(torch.randn([50, p.d], { dtype: 'float64' }).mul(0.01));
    return p.value(x).sub(p.fStar).toFloat64Array();
  });
  assert.ok(bumps.every((v) => v > 0));
  assert.ok(p.constants.L > p.constants.mu && p.constants.mu === 0.1);
  // minibatch oracle: mean over many draws ≈ full gradient, E‖g − ∇F‖² ≈ exact variance
  const o = minibatchGradient(p, 5);
  torch.manualSeed(3);
  const B = 20000;
  const x = p.u0.unsqueeze(0).expand(B, p.d).contiguous();
  const { err2, biasNorm, a, b } = torch.scope(() => {
    const g = o.grad(p, x, 0);
    const full = p.grad(x.narrow(0, 0, 1));
    const e = g.sub(full);
    return { err2: e.square().sum(1).toFloat64Array(), biasNorm: e.mean(0).norm().item(),
      a: e.narrow(0, 0, B / 2).select(1, p.d - 1).toFloat64Array(), b: e.narrow(0, B / 2, B / 2).select(1, p.d - 1).toFloat64Array() };
  });
  const v = p.minibatchVariance(p.u0, 5);
  const mean = err2.reduce((s, t) => s + t, 0) / B;
  const se = Math.sqrt(err2.reduce((s, t) => s + (t - mean) ** 2, 0) / (B - 1) / B);
  assert.ok(Math.abs(mean - v) < 4 * se, `E|err|^2 ${mean} vs exact ${v}`);
  assert.ok(biasNorm < 5 * Math.sqrt(v / B), `bias ${biasNorm}`);
  assert.ok(Math.abs(correlation(a, b)) < 4 / Math.sqrt(a.length));
  x.dispose();
  p.dispose();
});

test('finite sum on digits: averaged minibatch SGD deviation falls like 1/T (slope −1 ± 0.15); the constant-step last iterate does not improve', () => {
  const p = logisticFromData(readLabeledCsv(DEFAULT_DATA), { positive: 3, mu: 0.1, maxRows: 600 });
  const o = minibatchGradient(p, 5);
  const lr = 1 / p.constants.L;
  const Ts = [200, 400, 800, 1600];
  const avg = Ts.map((T) => measureDeviation(sgdAveraged(lr), p, o, T, { pairs: 50, seed: T, epsilon: 0.01 }));
  const q = gdContraction(lr, p.constants.mu, p.constants.L);
  avg.forEach((r, i) => {
    assert.ok(r.epsOptimal, `subopt ${r.suboptimality.mean}`);
    assert.ok(r.ci95[1] <= sgdStronglyConvexBound(lr, o.delta, q, Ts[i]!, 'average'), 'above the strongly convex SGD bound');
  });
  const f = fitLogLog(Ts, avg.map((r) => r.mean));
  assert.ok(Math.abs(f.slope + 1) <= SLOPE_TOLERANCE, `slope ${f.slope}`);
  const last = [200, 1600].map((T) => measureDeviation(sgdLast(lr), p, o, T, { pairs: 50, seed: T }).mean);
  assert.ok(last[1]! > 0.5 * last[0]!, `last iterate ${last}`);
  assert.ok(last[1]! > 4 * avg[3]!.mean);
  p.dispose();
});

test('SVRG (variance reduction) needs finite-sum access, respects the budget, and with exact full gradients converges to the unique x* (deviation falls faster than 1/T)', async () => {
  const { svrg, stochasticGradient } = await import('../../../src/modules/reproducibility/index.ts');
  const p = logisticFromData(readLabeledCsv(DEFAULT_DATA), { positive: 3, mu: 0.1, maxRows: 600 });
  const o = minibatchGradient(p, 5);
  const opt = svrg({ lr: 1 / (4 * p.constants.L), epoch: 60 });
  assert.throws(() => measureDeviation(opt, p, stochasticGradient(0.1), 500, { pairs: 2 }), /finite-sum oracle/);
  const r = [400, 1600].map((T) => measureDeviation(opt, p, o, T, { pairs: 40, seed: 2 }));
  r.forEach((x, i) => assert.ok(x.calls <= [400, 1600][i]! && x.calls > [400, 1600][i]! - 122, `calls ${x.calls}`));
  assert.ok(r[1]!.mean < r[0]!.mean / 16, `SVRG ${r[0]!.mean} → ${r[1]!.mean}`);
  assert.ok(r[1]!.suboptimality.max < 1e-3);
  p.dispose();
});
