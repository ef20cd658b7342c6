import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import * as torch from '../../src/core/torch/index.ts';
import { Rng } from '../../src/core/rng.ts';
import * as D from '../../src/core/dynamics/index.ts';

const f64 = { dtype: 'float64' as const };

test('maximum stable sharpness: closed forms equal the numerical stability boundary of each recursion', () => {
  for (const eta of [0.01, 0.3]) {
    for (const [m, b] of [['none', 0], ['polyak', 0.9], ['polyak', 0.5], ['nesterov', 0.9], ['nesterov', 0.3]] as const) {
      const c = D.maxStableSharpness(eta, m, b);
      const n = D.numericStabilityThreshold(eta, m, b);
      assert.ok(Math.abs(c - n) / c < 1e-9, `${m} β=${b}: ${c} vs ${n}`);
    }
  }
  assert.throws(() => D.maxStableSharpness(0), /eta/);
  assert.throws(() => D.maxStableSharpness(0.1, 'polyak', 1.2), /beta/);
});

test('1-D quadratic through the GD runner: each optimizer converges just below its threshold and diverges just above', () => {
  const eta = 0.1, beta = 0.9;
  for (const m of ['none', 'polyak', 'nesterov'] as const) {
    const mss = D.maxStableSharpness(eta, m, beta);
    for (const [f, expect] of [[0.99, 'converge'], [1.01, 'diverge']] as const) {
      const obj = D.quadraticWithSpectrum([mss * f], [1]);
      const r = D.runGD(obj, { eta, momentum: m, beta, maxSteps: 2500, divergeLoss: 1e10 });
      const x = Math.abs(r.theta.toFloat64Array()[0]!);
      if (expect === 'converge') assert.ok(r.stopReason === 'maxSteps' && x < 1e-8, `${m} at ${f}·MSS should converge (|x|=${x})`);
      else assert.equal(r.stopReason, 'diverged', `${m} at ${f}·MSS should diverge (|x|=${x})`);
      r.theta.dispose(); r.velocity?.dispose(); obj.dispose?.();
    }
  }
});

function smoothModels(): { name: string; obj: D.Objective; eta: number }[] {
  const rng = new Rng(4);
  torch.manualSeed(4);
  const cheb = D.chebyshev(3, 20);
  const lin = D.linearTask(rng, 12, 6);
  const gmm = D.gaussianMixture(rng, { n: 60, nTest: 10, d: 5, classes: 3 });
  const gmm2 = D.gaussianMixture(rng, { n: 40, nTest: 10, d: 4, classes: 2 });
  const pm = gmm2.y.mul(2).sub(1).to('float64');
  return [
    { name: 'quadratic', obj: D.quadraticWithSpectrum([5, 3, 1, 0.5], [1, -2, 0.5, 3]), eta: 0.45 },
    { name: 'chebyshev/regression', obj: D.supervised(D.regressionNet(30), cheb, 'mse'), eta: 0.3 },
    { name: 'linear/deeplinear', obj: D.supervised(D.deepLinearNet(4, 6), lin, 'mse'), eta: 0.02 },
    { name: 'gmm/fc-tanh/mse', obj: D.supervised(D.fcNet([5, 8, 8, 3], 'tanh'), gmm, 'mse'), eta: 0.5 },
    { name: 'gmm/fc-tanh/ce', obj: D.supervised(D.fcNet([5, 8, 8, 3], 'tanh'), gmm, 'ce'), eta: 1 },
    { name: 'gmm/fc-softplus/logistic', obj: D.supervised(D.fcNet([4, 6, 1], 'softplus'), { ...gmm2, y: pm, classes: 0 }, 'logistic'), eta: 1 },
  ];
}

test('identity RP = −1 + (η/2)·DSint holds to 1e-8 at random states of every smooth toy model (float64)', () => {
  for (const { name, obj, eta } of smoothModels()) {
    const mon = new D.UnstableConvergenceMonitor({ k: 3 });
    for (let trial = 0; trial < 2; trial++) {
      const th = torch.scope(() => obj.init().add(torch.randn([obj.dim], f64).mul(0.1 * (trial + 1)))).requiresGrad_();
      const before = th.detach().clone();
      const row = mon.observe({ params: [th], loss: () => obj.loss(th) }, trial, eta);
      const rhs = -1 + (eta / 2) * row.dsInt;
      assert.ok(Math.abs(row.rp - rhs) < 1e-8, `${name}: RP ${row.rp} vs −1 + η/2·DSint ${rhs}`);
      assert.ok(row.rp > -1.5 && Number.isFinite(row.rp), `${name}: RP finite`);
      assert.ok(row.a1 >= 0 && row.a1 <= 1 + 1e-9 && row.ak >= row.a1 - 1e-9 && row.ak <= 1 + 1e-9, `${name}: alignments in [0, 1]`);
      if (trial === 1) assert.ok(row.gradCos !== null, 'consecutive steps give a gradient cosine');
      assert.ok(th.detach().equal(before), `${name}: parameters restored exactly`);
      torch.dispose(th, before);
    }
    mon.dispose();
    obj.dispose?.();
  }
});

test('RK4 gradient flow matches the exact flow exp(−Λt)θ₀ of a quadratic to 1e-8', () => {
  const spec = [4, 1, 0.25];
  const obj = D.quadraticWithSpectrum(spec, [1, 1, 1]);
  const th0 = obj.init();
  const fl = D.gradientFlow(obj, th0, { times: [0.5, 2], alpha: 0.01 });
  for (const [i, t] of [0.5, 2].entries()) {
    const got = fl.thetas[i]!.toFloat64Array();
    spec.forEach((l, j) => assert.ok(Math.abs(got[j]! - Math.exp(-l * t)) < 1e-8, `t=${t} λ=${l}: ${got[j]} vs ${Math.exp(-l * t)}`));
  }
  assert.ok(Math.abs(fl.sharpness[0]! - 4) < 1e-6);
  torch.dispose(fl.thetas, th0); obj.dispose?.();
});

test('GD runner: stop rules, eigenvalues on schedule, trace, no tensor growth across steps', () => {
  const rng = new Rng(1);
  torch.manualSeed(1);
  const data = D.gaussianMixture(rng, { n: 80, nTest: 40, d: 6, classes: 2, sep: 6 });
  const obj = D.supervised(D.fcNet([6, 10, 2], 'tanh'), data, 'ce', { abridged: 40 });
  const r0 = D.runGD(obj, { eta: 0.5, maxSteps: 3 }); // warm caches
  r0.theta.dispose();
  const live = torch.liveTensors();
  const r = D.runGD(obj, { eta: 0.5, maxSteps: 400, eigFreq: 5, neigs: 2, accGoal: 0.97, iterateFreq: 10, nproj: 3 });
  assert.equal(r.stopReason, 'accGoal');
  assert.ok(r.trace.at(-1)!.acc! > 0.97 && r.trace.at(-2)!.acc! <= 0.97);
  assert.ok(r.trace.filter((x) => x.eigs).every((x) => x.step % 5 === 0 && x.eigs!.length === 2 && x.eigs![0]! >= x.eigs![1]!));
  assert.equal(r.trace.filter((x) => x.projection).length, Math.floor(r.trace.at(-1)!.step / 10) + 1);
  assert.ok(r.trace.every((x) => x.mss === 4));
  assert.ok(r.trace.some((x) => x.testAcc !== undefined));
  r.theta.dispose();
  assert.ok(torch.liveTensors() <= live + 1, `live tensors ${torch.liveTensors()} vs ${live}`);
  const r2 = D.runGD(obj, { eta: 0.5, maxSteps: 400, lossGoal: 0.2 });
  assert.equal(r2.stopReason, 'lossGoal');
  assert.ok(r2.trace.at(-1)!.loss < 0.2);
  r2.theta.dispose();
  // NaN data → a diverged stop, not a hang
  const bad = D.quadraticWithSpectrum([1], [Number.NaN]);
  assert.equal(D.runGD(bad, { eta: 0.1, maxSteps: 10 }).stopReason, 'diverged');
  assert.throws(() => D.runGD(obj, { eta: -1, maxSteps: 1 }), /eta/);
  obj.dispose?.();
});

test('loaders: CIFAR-10 binary and MNIST IDX files written by the test read back; truncated files name the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dyn-'));
  const rng = new Rng(2);
  const n = 5;
  const pix = Uint8Array.from({ length: n * 3072 }, () => rng.int(0, 256));
  const labels = [3, 0, 9, 1, 7];
  const cif = path.join(dir, 'data_batch_1.bin');
  fs.writeFileSync(cif, D.encodeCifar10Binary(pix, labels));
  const c = D.readCifar10Binary([cif]);
  assert.deepEqual(c.images.shape, [5, 3, 32, 32]);
  assert.deepEqual(c.labels.toArray(), labels);
  assert.deepEqual(Array.from(c.images.reshape(-1).toArray().slice(0, 10)), Array.from(pix.slice(0, 10)));
  // red channel of image 2, pixel (1, 0)
  assert.equal(c.images.at(2, 0, 1, 0).item(), pix[2 * 3072 + 32]);
  fs.writeFileSync(path.join(dir, 'trunc.bin'), D.encodeCifar10Binary(pix, labels).subarray(0, 3073 * 2 + 100));
  assert.throws(() => D.readCifar10Binary(path.join(dir, 'trunc.bin')), /trunc\.bin: record 2 is truncated: 100 of its 3073 bytes/);

  const imgs = Uint8Array.from({ length: 4 * 28 * 28 }, (_, i) => i % 251);
  fs.writeFileSync(path.join(dir, 'im.idx3-ubyte.gz'), gzipSync(D.encodeIdx([4, 28, 28], imgs)));
  fs.writeFileSync(path.join(dir, 'lb.idx1-ubyte'), D.encodeIdx([4], Uint8Array.from([5, 0, 4, 1])));
  const m = D.readMnist(path.join(dir, 'im.idx3-ubyte.gz'), path.join(dir, 'lb.idx1-ubyte'));
  assert.deepEqual(m.images.shape, [4, 1, 28, 28]);
  assert.deepEqual(m.labels.toArray(), [5, 0, 4, 1]);
  assert.equal(m.images.at(1, 0, 0, 3).item(), (784 + 3) % 251);
  fs.writeFileSync(path.join(dir, 'lb3.idx1-ubyte'), D.encodeIdx([3], Uint8Array.from([5, 0, 4])));
  assert.throws(() => D.readMnist(path.join(dir, 'im.idx3-ubyte.gz'), path.join(dir, 'lb3.idx1-ubyte')), /lb3.*3 labels for 4 images/);
  fs.writeFileSync(path.join(dir, 'short.idx'), D.encodeIdx([4, 28, 28], imgs).subarray(0, 500));
  assert.throws(() => D.readIdx(path.join(dir, 'short.idx')), /short\.idx.*truncated/);

  const dg = D.readDigits();
  assert.deepEqual(dg.images.shape, [1797, 1, 8, 8]);
  const counts = dg.labels.bincount(10).toArray();
  assert.ok(counts.every((k) => k >= 170 && k <= 190), `digit classes balanced: ${counts}`);
  fs.writeFileSync(path.join(dir, 'bad.csv'), '0,'.repeat(64) + '11\n');
  assert.throws(() => D.readDigits(path.join(dir, 'bad.csv')), /bad\.csv: line 1, label/);
  const s = D.standardize(dg.images.narrow(0, 0, 500), dg.images.narrow(0, 500, 100), 1 / 16);
  const mean = s.train.mean(0).abs().max().item();
  assert.ok(mean < 1e-12, 'standardized features are centred');
  torch.dispose(c, m, dg, s);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('SGD variant: batchSize = n reproduces full-batch GD exactly; small batches still train, probes use the full loss', () => {
  const rng = new Rng(3);
  torch.manualSeed(3);
  const data = D.gaussianMixture(rng, { n: 64, nTest: 10, d: 4, classes: 2, sep: 4 });
  const obj = D.supervised(D.fcNet([4, 8, 2], 'tanh'), data, 'mse');
  const th0 = obj.init();
  const full = D.runGD(obj, { eta: 0.2, maxSteps: 30, theta0: th0 });
  const same = D.runGD(obj, { eta: 0.2, maxSteps: 30, theta0: th0, batchSize: 64 });
  assert.ok(full.theta.equal(same.theta));
  const sgd = D.runGD(obj, { eta: 0.2, maxSteps: 200, theta0: th0, batchSize: 8, probeFreq: 100, probeOptions: { k: 2, points: 3 } });
  assert.ok(sgd.trace.at(-1)!.loss < 0.5 * sgd.trace[0]!.loss, 'SGD lowers the full loss');
  assert.ok(!sgd.theta.equal(full.theta));
  const p = sgd.trace.find((x) => x.probe)!.probe!;
  assert.ok(Math.abs(p.loss - sgd.trace.find((x) => x.probe)!.loss) < 1e-12, 'probes see the full training loss');
  torch.dispose(full.theta, same.theta, sgd.theta, th0, data.X, data.y, data.Xtest, data.ytest); obj.dispose?.();
});
