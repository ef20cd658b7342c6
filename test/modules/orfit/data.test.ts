// Real formats in (UCI digits CSV, MNIST IDX, numeric CSV), the rotated-digit task, and the CLI
// commands end to end at tiny sizes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as torch from '../../../src/core/torch/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import '../../../src/modules/orfit/index.ts';
import { runCommand, resumeRun } from '../../../src/core/runner.ts';
import {
  readDigitsCsv, readIdx, writeIdx, readMnist, rotateImage, resizeBilinear, rotatedDigitTask, readCsvStream, BUNDLED_DIGITS,
  LinearModel, ORFit, Greedy, rmse, constantPredictionRmse, createLearner, presets, rotatedDigitsParams,
} from '../../../src/modules/orfit/index.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orfit-test-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));

test('bundled UCI digits CSV: 1,797 8×8 images in [0, 1] with labels 0–9', () => {
  const d = readDigitsCsv(BUNDLED_DIGITS);
  assert.equal(d.images.length, 1797);
  assert.equal(d.images[0]!.length, 64);
  assert.equal(d.labels.filter((l) => l === 2).length, 177);
  assert.ok(d.images.every((im) => im.every((v) => v >= 0 && v <= 1)));
});

test('digits CSV errors name the file, line and column', () => {
  const f = path.join(tmp, 'bad.csv');
  fs.writeFileSync(f, `${Array(64).fill(0).join(',')},3\n${Array(63).fill(0).join(',')},x,3\n`);
  assert.throws(() => readDigitsCsv(f), (e: Error) => e.message.includes(f) && /line 2, pixel column 64/.test(e.message));
  fs.writeFileSync(f, `${Array(10).fill(0).join(',')}\n`);
  assert.throws(() => readDigitsCsv(f), /line 1 has 10 columns, expected 65/);
  const gz = path.join(tmp, 'trunc.csv.gz');
  fs.writeFileSync(gz, zlib.gzipSync(Buffer.from('1,2,3\n'.repeat(200))).subarray(0, 30));
  assert.throws(() => readDigitsCsv(gz), /corrupt or truncated gzip/);
  assert.throws(() => readDigitsCsv(path.join(tmp, 'missing.csv')), /no such file/);
});

test('MNIST IDX: written files read back (plain and .gz); truncation and mismatches name file and field', () => {
  const rng = new Rng(1);
  const n = 7, h = 28, w = 28;
  const px = Array.from({ length: n * h * w }, () => rng.int(0, 256));
  const labels = [2, 0, 2, 5, 2, 9, 1];
  const fi = path.join(tmp, 'imgs-idx3-ubyte'), fl = path.join(tmp, 'labels-idx1-ubyte.gz');
  writeIdx(fi, [n, h, w], px);
  writeIdx(fl, [n], labels);
  const raw = fs.readFileSync(fi);
  assert.deepEqual([...raw.subarray(0, 4)], [0, 0, 8, 3], 'IDX magic number 0x00000803');
  assert.equal(raw.readUInt32BE(4), n);
  const m = readMnist(fi, fl);
  assert.deepEqual(m.labels, labels);
  assert.equal(m.height, 28);
  assert.equal(m.images[3]![100], px[3 * 784 + 100]! / 255);
  const dbl = path.join(tmp, 'd.idx');
  writeIdx(dbl, [2, 3], [1.5, -2, 3e10, 0, 1e-300, 7], 'double');
  assert.deepEqual(Array.from(readIdx(dbl).data), [1.5, -2, 3e10, 0, 1e-300, 7]);
  const tr = path.join(tmp, 'trunc-idx3-ubyte');
  fs.writeFileSync(tr, raw.subarray(0, raw.length - 10));
  assert.throws(() => readIdx(tr), (e: Error) => e.message.startsWith(tr) && /truncated IDX file: the dims field says \[7 × 28 × 28\]/.test(e.message));
  fs.writeFileSync(tr, raw.subarray(0, 9));
  assert.throws(() => readIdx(tr), /truncated IDX header/);
  fs.writeFileSync(tr, Buffer.from([1, 2, 3, 4, 5]));
  assert.throws(() => readIdx(tr), /not an IDX file \(the magic number field must start with two zero bytes\)/);
  const fl2 = path.join(tmp, 'l2.idx');
  writeIdx(fl2, [3], [1, 2, 3]);
  assert.throws(() => readMnist(fi, fl2), (e: Error) => e.message.includes(fl2) && /3 labels for 7 images/.test(e.message));
  assert.throws(() => readMnist(fl, fl), /must be a 3-D IDX array/);
});

test('rotation: 0° is the identity, 90° is an exact quarter turn (counter-clockwise), 4 × 90° returns the image', () => {
  const rng = new Rng(3);
  const n = 6;
  const img = rng.uniforms(n * n);
  assert.deepEqual(Array.from(rotateImage(img, n, n, 0)), Array.from(img));
  const r90 = rotateImage(img, n, n, 90);
  // counter-clockwise: out[r][c] = in[c][n−1−r] (numpy rot90)
  for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) assert.ok(Math.abs(r90[r * n + c]! - img[c * n + (n - 1 - r)]!) < 1e-12);
  let back = img;
  for (let i = 0; i < 4; i++) back = rotateImage(back, n, n, 90);
  back.forEach((v, i) => assert.ok(Math.abs(v - img[i]!) < 1e-12));
  const up = resizeBilinear(Float64Array.from([0, 1, 0, 1]), 2, 2, 4, 4);
  assert.deepEqual(Array.from(up.subarray(0, 4)), [0, 0.25, 0.75, 1]);
});

test('rotated-digit task on the real digits: stream sorted by angle, labels in [0°, 180°), ORFit interpolates it (residual ≤ 1e-10·max|y|), Greedy follows the constant-prediction RMSE', () => {
  const d = readDigitsCsv(BUNDLED_DIGITS);
  const task = rotatedDigitTask(d, { digit: 2, stream: 100, size: 28, testRotations: 13, seed: 4 });
  assert.deepEqual(task.X.shape, [100, 784]);
  assert.equal(task.nTestImages, 77);
  const y = task.Y.toFloat64Array();
  for (let k = 1; k < 100; k++) assert.ok(y[k]! >= y[k - 1]!);
  assert.ok(y[0]! >= 0 && y[99]! < 180);
  const model = new LinearModel(784);
  const orfit = new ORFit(model);
  const g = new Greedy(new LinearModel(784));
  const xs = task.X.unbind(0);
  let worstGreedyGap = 0;
  for (let k = 0; k < 100; k++) {
    orfit.observe(xs[k]!, y[k]!);
    g.observe(xs[k]!, y[k]!);
    const gr = rmse(g, task.Xtest, task.Ytest);
    worstGreedyGap = Math.max(worstGreedyGap, Math.abs(gr - constantPredictionRmse(y[k]!)) / constantPredictionRmse(y[k]!));
  }
  const maxRes = torch.scope(() => model.predictBatch(task.X).sub(task.Y).abs().max().item());
  assert.ok(maxRes <= 1e-10 * Math.max(1, ...y), `max residual on seen digits ${maxRes}`);
  assert.equal(orfit.skipped, 0);
  assert.ok(worstGreedyGap < 0.06, `Greedy test RMSE deviates from √((c−90)² + 180²/12) by ${(100 * worstGreedyGap).toFixed(1)}%`);
});

test('numeric CSV stream reader: header, target column, errors with line and column', () => {
  const f = path.join(tmp, 's.csv');
  fs.writeFileSync(f, 'a,b,y\n1,2,3\n4,5,6\n');
  const s = readCsvStream(f, 'y');
  assert.deepEqual(s.features, ['a', 'b']);
  assert.deepEqual(s.X.toArray(), [1, 2, 4, 5]);
  assert.throws(() => readCsvStream(f, 'z'), /no column 'z' among the 3 header column\(s\)/);
  fs.writeFileSync(f, 'a,b,y\n1,2,3\n4,NaN,6\n');
  assert.throws(() => readCsvStream(f, 'y'), (e: Error) => e.message.includes(f) && /line 3, column 2: not a finite number$/.test(e.message));
  const bad = rotatedDigitsParams.safeParse({ methods: ['orfit', 'nope'] });
  assert.ok(!bad.success && /expected one of "orfit"\|"orfit-unlimited"/.test(bad.error.issues[0]!.message) && bad.error.issues[0]!.path.join('.') === 'methods.1');
  assert.equal(createLearner('orfit-latest', new LinearModel(3), { memory: 2 }).name, 'orfit-latest (m=2)');
});

const root = path.join(tmp, 'runs');

test('CLI synthetic (quick) end to end: interpolation, min-norm, SGD limit, plots', async () => {
  const r = await runCommand('orfit', 'synthetic', presets.quick.synthetic, { root, seed: 3 });
  assert.equal(r.run.status, 'done');
  const s = r.summary as { final: { method: string; maxResidualSeen: number; relDistMinNorm: number }[]; sgdRelDistAfterEpochs: number };
  const o = s.final.find((x) => x.method === 'orfit (unlimited)')!;
  assert.ok(o.maxResidualSeen <= 1e-10 && o.relDistMinNorm <= 1e-10);
  assert.ok(s.final.find((x) => x.method === 'one-step-sgd')!.maxResidualSeen > 1e-3);
  assert.ok(s.sgdRelDistAfterEpochs <= 1e-8, `SGD distance ${s.sgdRelDistAfterEpochs}`);
  for (const f of ['residual-seen.png', 'sgd-distance.svg', 'memory.png', 'metrics.csv']) assert.ok(fs.existsSync(path.join(r.run.dir, f)), f);
});

test('CLI rotated-digits on MNIST IDX files the test writes (train + test split), with resumable checkpoints', async () => {
  // synthetic "digit 2" strokes on a 28×28 canvas, plus other classes, in the MNIST byte format
  const rng = new Rng(9);
  const mk = (n: number) => {
    const px: number[] = [], lab: number[] = [];
    for (let i = 0; i < n; i++) {
      const img = new Array(784).fill(0);
      const off = rng.int(-2, 3);
      for (let t = 0; t < 40; t++) {
        const r = 6 + Math.round(16 * t / 40), c = 8 + off + Math.round(10 * Math.sin(t / 6) + rng.uniform(-1, 1));
        for (const [dr, dc] of [[0, 0], [0, 1], [1, 0]]) img[(r + dr!) * 28 + Math.min(27, Math.max(0, c + dc!))] = 255;
      }
      px.push(...img);
      lab.push(i % 5 === 4 ? 7 : 2);
    }
    return { px, lab };
  };
  const tr = mk(40), te = mk(15);
  const files = { mnistImages: path.join(tmp, 'train-images-idx3-ubyte.gz'), mnistLabels: path.join(tmp, 'train-labels-idx1-ubyte.gz'),
    mnistTestImages: path.join(tmp, 't10k-images-idx3-ubyte'), mnistTestLabels: path.join(tmp, 't10k-labels-idx1-ubyte') };
  writeIdx(files.mnistImages, [40, 28, 28], tr.px); writeIdx(files.mnistLabels, [40], tr.lab);
  writeIdx(files.mnistTestImages, [15, 28, 28], te.px); writeIdx(files.mnistTestLabels, [15], te.lab);
  const r = await runCommand('orfit', 'rotated-digits', { ...files, stream: 20, runs: 2, memory: 4, sgdEpochs: 20, trackMemoryLimited: 6, trackUnlimited: 3 }, { root, seed: 1 });
  assert.equal(r.run.status, 'done');
  const s = r.summary as { p: number; nTest: number; finalSeenRmse: Record<string, { mean: number }>; finalTrackedError: Record<string, { mean: number }> };
  assert.equal(s.p, 784);
  assert.equal(s.nTest, 12);
  assert.ok(s.finalSeenRmse['orfit (unlimited)']!.mean <= 1e-9);
  assert.ok(s.finalTrackedError['orfit (unlimited)']!.mean <= 1e-9);
  assert.ok(s.finalSeenRmse['one-step-sgd']!.mean > 1);
  for (const f of ['memory-limited-test-rmse.png', 'unlimited-test-rmse.png', 'memory-use.svg', 'summary.json']) assert.ok(fs.existsSync(path.join(r.run.dir, f)), f);
  assert.ok(fs.readdirSync(path.join(r.run.dir, 'checkpoints')).length > 0);
  await assert.rejects(runCommand('orfit', 'rotated-digits', { mnistImages: files.mnistImages }, { root }), /needs both --mnist-images and --mnist-labels/);
});

test('CLI stream-csv: a CSV streamed once through ORFit fits every row (rows ≤ features)', async () => {
  const f = path.join(tmp, 'stream.csv');
  const rng = new Rng(5);
  const lines = ['x1,x2,x3,x4,x5,x6,x7,x8,target'];
  for (let i = 0; i < 6; i++) lines.push([...rng.normals(8)].map((v) => v.toFixed(6)).join(',') + `,${rng.normal().toFixed(6)}`);
  fs.writeFileSync(f, lines.join('\n'));
  const r = await runCommand('orfit', 'stream-csv', { file: f, target: 'target' }, { root });
  assert.equal(r.run.status, 'done');
  const s = r.summary as { finalMaxResidualSeen: number; rows: number };
  assert.equal(s.rows, 6);
  assert.ok(s.finalMaxResidualSeen <= 1e-10);
  assert.ok(fs.existsSync(path.join(r.run.dir, 'learner.safetensors')));
  assert.ok(fs.existsSync(path.join(r.run.dir, 'predictions.csv')));
});

test('CLI rotated-digits: an interrupted run resumes from its checkpoint and gives the same numbers as an uninterrupted one', async () => {
  const params = presets.quick.rotatedDigits;
  const full = await runCommand('orfit', 'rotated-digits', params, { root, seed: 2 });
  const ac = new AbortController();
  let id = '';
  await assert.rejects(runCommand('orfit', 'rotated-digits', params, {
    root, seed: 2, signal: ac.signal,
    onEvent: (e) => {
      if (e.type === 'start') id = e.run.id;
      if (e.type === 'progress' && e.label === 'rotated-digits runs' && e.value >= 1) ac.abort();
    },
  }), /interrupted/);
  const resumed = await resumeRun(id, { root });
  assert.equal(resumed.run.status, 'done');
  assert.deepEqual(resumed.summary, full.summary);
});

test('CLI nonlinear (quick sizes): the linearized residual is zero after every step, the true one is reported per width', async () => {
  const r = await runCommand('orfit', 'nonlinear', presets.quick.nonlinear, { root, seed: 1 });
  assert.equal(r.run.status, 'done');
  const s = r.summary as { final: { H: number; params: number; maxLinearizedResidual: number; trueRmseSeen: number; skipped: number }[] };
  assert.deepEqual(s.final.map((f) => f.H), presets.quick.nonlinear.hidden);
  for (const f of s.final) {
    assert.equal(f.params, f.H * 64 + f.H);
    assert.ok(f.maxLinearizedResidual <= 1e-10, `H=${f.H}: linearized residual ${f.maxLinearizedResidual}`);
    assert.ok(Number.isFinite(f.trueRmseSeen) && f.skipped === 0);
  }
  assert.ok(fs.existsSync(path.join(r.run.dir, 'true-residual.png')));
});

test('CLI: a bad item in a list parameter is refused by the schema (exit 2, the parameter and the valid values named) and no run is created', () => {
  const home = path.join(tmp, 'refused');
  const bin = fileURLToPath(new URL('../../../bin/paperlab.js', import.meta.url));
  const cli = (args: string[]) => spawnSync(process.execPath, [bin, 'orfit', ...args, '--quiet'], { encoding: 'utf8', env: { ...process.env, PAPERLAB_HOME: home } });
  const m = cli(['synthetic', '--methods', 'orfit,nope']);
  assert.equal(m.status, 2, m.stderr);
  assert.match(m.stderr, /parameter 'methods\.1'.*expected one of "orfit"\|"orfit-unlimited"\|.*"a-gem"/);
  const n = cli(['synthetic', '--memories', '3,abc']);
  assert.equal(n.status, 2, n.stderr);
  assert.match(n.stderr, /parameter 'memories': expected a number, got 'abc'/);
  const runs = fs.existsSync(home) ? fs.readdirSync(home).filter((d) => d.includes('synthetic')) : [];
  assert.deepEqual(runs, [], 'no run folder');
});
