// issue #24: what the CLI exposes beyond the typed API — initial weights --w0, held-out predictions
// (--predict), and ORFit's stored directions (memory.safetensors) — each checked through the command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../../src/core/torch/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import '../../../src/modules/orfit/index.ts';
import { runCommand } from '../../../src/core/runner.ts';
import { minNormInterpolant, presets } from '../../../src/modules/orfit/index.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'orfit-surf-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const root = path.join(tmp, 'runs');

// 8 rows, 12 features: over-parameterized, so many weight vectors interpolate the stream
const p = 12, n = 8;
const rng = new Rng(11);
const feats = Array.from({ length: p }, (_, j) => `x${j + 1}`);
const Xa = rng.normals(n * p), Ya = rng.normals(n);
const trainCsv = path.join(tmp, 'train.csv');
fs.writeFileSync(trainCsv, [[...feats, 'y'].join(','), ...Array.from({ length: n }, (_, i) => [...Xa.slice(i * p, (i + 1) * p), Ya[i]].join(','))].join('\n'));
const w0a = rng.normals(p, 0.5, 1);

function readW(dir: string, file = 'learner.safetensors', name = 'w'): Float64Array {
  const { tensors } = torch.loadSafetensors(path.join(dir, file));
  const w = tensors[name]!.toFloat64Array();
  torch.dispose(Object.values(tensors));
  return w;
}

test('--w0 (CSV with a permuted header): ORFit interpolates the stream and ends at the point nearest w0, w0 + X⁺(y − X w0)', async () => {
  // the header in reverse order: columns are matched to the features by name
  const order = [...feats].reverse();
  const w0Csv = path.join(tmp, 'w0.csv');
  fs.writeFileSync(w0Csv, `${order.join(',')}\n${order.map((f) => w0a[feats.indexOf(f)]).join(',')}\n`);
  const r = await runCommand('orfit', 'stream-csv', { file: trainCsv, method: 'orfit-unlimited', w0: w0Csv }, { root });
  assert.equal(r.run.status, 'done');
  const w = torch.tensor(readW(r.run.dir), { dtype: 'float64' });
  const X = torch.tensor(Xa, { shape: [n, p], dtype: 'float64' }), Y = torch.tensor(Ya, { dtype: 'float64' });
  const w0 = torch.tensor(w0a, { dtype: 'float64' });
  const res = torch.scope(() => X.mv(w).sub(Y).abs().max().item());
  assert.ok(res <= 1e-10, `max residual ${res}`);
  const wStar = minNormInterpolant(X, Y, w0);
  const dist = torch.scope(() => w.sub(wStar).norm().item() / wStar.norm().item());
  assert.ok(dist <= 1e-10, `distance to w0 + X⁺(y − X w0): ${dist}`);
  // nearest to w0 among interpolants ⇔ w − w0 lies in the row space of X (no null-space part)
  const nullPart = torch.scope(() => {
    const d = w.sub(w0);
    const [, , Vh] = torch.linalg.svd(X, false);
    return d.sub(Vh.t().mv(Vh.mv(d))).norm().item() / d.norm().item();
  });
  assert.ok(nullPart <= 1e-10, `null-space part of w − w0: ${nullPart}`);
  // and it is not the w0 = 0 solution
  const wFrom0 = minNormInterpolant(X, Y);
  assert.ok(torch.scope(() => w.sub(wFrom0).norm().item()) > 0.1);
  // restarting from the learner's own safetensors: already interpolating, so w stays put
  const r2 = await runCommand('orfit', 'stream-csv', { file: trainCsv, method: 'orfit-unlimited', w0: path.join(r.run.dir, 'learner.safetensors') }, { root });
  const w2 = torch.tensor(readW(r2.run.dir), { dtype: 'float64' });
  const moved = torch.scope(() => w2.sub(w).norm().item() / w.norm().item());
  assert.ok(moved <= 1e-10, `second pass moved w by ${moved}`);
  torch.dispose(w, w2, X, Y, w0, wStar, wFrom0);
  // wrong length is refused, naming the file
  const bad = path.join(tmp, 'w0-short.csv');
  fs.writeFileSync(bad, '1,2,3\n');
  await assert.rejects(runCommand('orfit', 'stream-csv', { file: trainCsv, w0: bad }, { root }), (e: Error) => e.message.includes(bad) && /3 values, the model has 12/.test(e.message));
});

test('synthetic --w0 (scalar fill): every ORFit variant interpolates and the unlimited one equals the min-norm interpolant from w0', async () => {
  const r = await runCommand('orfit', 'synthetic', { ...presets.quick.synthetic, p: 40, stream: 15, methods: ['orfit-unlimited'], memories: [20], sgdEpochs: 300, w0: '0.3' }, { root, seed: 2 });
  assert.equal(r.run.status, 'done');
  const s = r.summary as { final: { method: string; maxResidualSeen: number; relDistMinNorm: number }[]; sgdRelDistAfterEpochs: number };
  for (const o of s.final) assert.ok(o.maxResidualSeen <= 1e-10 && o.relDistMinNorm <= 1e-10, `${o.method}: ${o.maxResidualSeen} ${o.relDistMinNorm}`);
  assert.ok(s.sgdRelDistAfterEpochs <= 1e-6, `SGD from w0: ${s.sgdRelDistAfterEpochs}`);
});

test('stream-csv --predict: heldout-predictions.csv holds index, prediction (= x·w of the final learner) and the target when present', async () => {
  const m = 5;
  const Xh = rng.normals(m * p), Yh = rng.normals(m);
  // columns permuted, the target in the middle, an extra column
  const cols = ['extra', ...[...feats].reverse().slice(0, 6), 'y', ...[...feats].reverse().slice(6)];
  const val = (i: number, c: string) => c === 'y' ? Yh[i] : c === 'extra' ? 99 : Xh[i * p + feats.indexOf(c)];
  const heldCsv = path.join(tmp, 'held.csv');
  fs.writeFileSync(heldCsv, [cols.join(','), ...Array.from({ length: m }, (_, i) => cols.map((c) => val(i, c)).join(','))].join('\n'));
  const r = await runCommand('orfit', 'stream-csv', { file: trainCsv, method: 'orfit', memory: 4, predict: heldCsv }, { root });
  const w = readW(r.run.dir);
  const lines = fs.readFileSync(path.join(r.run.dir, 'heldout-predictions.csv'), 'utf8').trim().split('\n');
  assert.equal(lines[0], 'index,prediction,target');
  assert.equal(lines.length, m + 1);
  let worst = 0;
  for (let i = 0; i < m; i++) {
    const [idx, pred, tgt] = lines[i + 1]!.split(',').map(Number);
    let want = 0;
    for (let j = 0; j < p; j++) want += Xh[i * p + j]! * w[j]!;
    assert.equal(idx, i);
    assert.equal(tgt, Yh[i]);
    worst = Math.max(worst, Math.abs(pred! - want));
  }
  assert.ok(worst <= 1e-12, `prediction vs x·w: ${worst}`);
  assert.equal((r.summary as { heldOut: { rows: number } }).heldOut.rows, m);
  // without the target column: two columns
  const noT = path.join(tmp, 'held-no-target.csv');
  fs.writeFileSync(noT, [feats.join(','), Xh.slice(0, p).join(',')].join('\n'));
  const r2 = await runCommand('orfit', 'stream-csv', { file: trainCsv, predict: noT }, { root });
  assert.equal(fs.readFileSync(path.join(r2.run.dir, 'heldout-predictions.csv'), 'utf8').trim().split('\n')[0], 'index,prediction');
  // a missing feature column is named
  const miss = path.join(tmp, 'held-missing.csv');
  fs.writeFileSync(miss, ['x1,x2', '1,2'].join('\n'));
  await assert.rejects(runCommand('orfit', 'stream-csv', { file: trainCsv, predict: miss }, { root }), (e: Error) => e.message.includes(miss) && /'x3'/.test(e.message));
});

test('memory.safetensors: ORFit\'s stored directions U [k, p] are orthonormal, σ matches, the unlimited span holds every streamed x; none for One-Step SGD', async () => {
  for (const [method, k] of [['orfit', 4], ['orfit-latest', 4], ['orfit-unlimited', n]] as const) {
    const r = await runCommand('orfit', 'stream-csv', { file: trainCsv, method, memory: 4 }, { root });
    const { tensors, metadata } = torch.loadSafetensors(path.join(r.run.dir, 'memory.safetensors'));
    const { U, sigma, origin } = tensors as Record<string, torch.Tensor>;
    assert.deepEqual(U!.shape, [k, p], method);
    assert.deepEqual(sigma!.shape, [k]);
    assert.deepEqual(origin!.shape, [k]);
    assert.equal(metadata.stored, String(k));
    const orth = torch.scope(() => U!.mm(U!.t()).sub(torch.eye(k, k, { dtype: 'float64' })).abs().max().item());
    assert.ok(orth <= 1e-12, `${method}: |U Uᵀ − I| ${orth}`);
    assert.ok(sigma!.toFloat64Array().every((s) => s > 0));
    if (method === 'orfit') {
      const s = [...sigma!.toFloat64Array()];
      assert.deepEqual(s, [...s].sort((a, b) => b - a), 'IPCA keeps σ descending');
    }
    if (method === 'orfit-latest') assert.deepEqual([...origin!.toFloat64Array()], [5, 6, 7, 8]);
    if (method === 'orfit-unlimited') {
      const X = torch.tensor(Xa, { shape: [n, p], dtype: 'float64' });
      const out = torch.scope(() => X.sub(X.mm(U!.t()).mm(U!)).abs().max().item());
      assert.ok(out <= 1e-10, `rows of X outside span(U): ${out}`);
      X.dispose();
    }
    torch.dispose(Object.values(tensors));
  }
  const r = await runCommand('orfit', 'stream-csv', { file: trainCsv, method: 'one-step-sgd' }, { root });
  assert.ok(!fs.existsSync(path.join(r.run.dir, 'memory.safetensors')));
});
