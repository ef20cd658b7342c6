// CIFAR-10 as released, on the fixtures written by Python (scripts/fixtures/cifar10.py): both layouts,
// Cohen et al.'s preprocessing checked against numpy at test time, the cifar10-<N>k / -<c>cls
// subsets, and the corrupt twins (errors name the file and the record / key).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../src/core/torch/index.ts';
import {
  locateCifar10, readCifar10BinaryBatch, readCifar10PickleBatch, cifar10Dataset, parseCifarName,
} from '../../src/core/dynamics/index.ts';
import { InputFileError, NotFoundError, UsageError } from '../../src/core/errors.ts';

const FIX = path.join(import.meta.dirname, '..', 'fixtures', 'cifar10');
const BIN = path.join(FIX, 'cifar-10-batches-bin');
const PYDIR = path.join(FIX, 'cifar-10-batches-py');
const PY = '/usr/bin/python3';
const hasNumpy = (() => { try { execFileSync(PY, ['-c', 'import numpy'], { stdio: 'ignore' }); return true; } catch { return false; } })();

test('locateCifar10 finds either layout under the data root, or in the folder itself', () => {
  const a = locateCifar10(FIX);
  assert.equal(a.layout, 'bin');
  assert.deepEqual(a.train.map((p) => path.basename(p)), ['data_batch_1.bin', 'data_batch_2.bin']);
  assert.equal(path.basename(a.test!), 'test_batch.bin');
  const b = locateCifar10(FIX, 'py');
  assert.deepEqual(b.train.map((p) => path.basename(p)), ['data_batch_1', 'data_batch_2']);
  assert.equal(locateCifar10(BIN).dir, BIN);
  assert.throws(() => locateCifar10(path.join(FIX, 'nope')), (e: Error) => e instanceof NotFoundError && /nope: no such directory/.test(e.message));
  assert.throws(() => locateCifar10(path.dirname(FIX)), /no CIFAR-10 release found \(looked for cifar-10-batches-bin\/data_batch_1\.bin or cifar-10-batches-py\/data_batch_1/);
});

test('binary batches read as Python wrote them: labels, and pixels equal the pickle layout\'s b\'data\' (numpy)', { skip: hasNumpy ? false : 'no python3-numpy' }, () => {
  const b = readCifar10BinaryBatch(path.join(BIN, 'data_batch_2.bin'));
  assert.equal(b.n, 32);
  assert.deepEqual(Array.from(b.labels.slice(0, 12)), [2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3]);
  const out = execFileSync(PY, ['-c', `
import pickle, sys, numpy as np
d = pickle.load(open(sys.argv[1], 'rb'), encoding='bytes')
x = d[b'data']
print(int(x.astype(np.int64).sum()), int(x[5, 1024 + 33]), *d[b'labels'][:3])`, path.join(PYDIR, 'data_batch_2')], { encoding: 'utf8' }).trim().split(' ').map(Number);
  const sum = b.pixels.reduce((a, v) => a + v, 0);
  assert.equal(sum, out[0]);
  assert.equal(b.pixels[5 * 3072 + 1024 + 33], out[1], 'image 5, green channel, row 1 col 1');
  assert.deepEqual(Array.from(b.labels.slice(0, 3)), out.slice(2));
});

test('the Python-pickle layout (Python 2 protocol 2, bytes keys) reads the same images and labels as the binary layout', () => {
  for (const name of ['data_batch_1', 'test_batch']) {
    const p = readCifar10PickleBatch(path.join(PYDIR, name));
    const b = readCifar10BinaryBatch(path.join(BIN, `${name}.bin`));
    assert.equal(p.n, b.n);
    assert.deepEqual(p.labels, b.labels);
    assert.deepEqual(p.pixels, b.pixels);
  }
  assert.equal(readCifar10PickleBatch(path.join(PYDIR, 'data_batch_2'), 5).n, 5);
  const a = cifar10Dataset('cifar10-5k', FIX, { layout: 'py' });
  const b = cifar10Dataset('cifar10-5k', FIX, { layout: 'bin' });
  assert.equal(torch.scope(() => a.X.sub(b.X).abs().max().item() + a.Xtest!.sub(b.Xtest!).abs().max().item()), 0);
  assert.deepEqual(a.y.toArray(), b.y.toArray());
  for (const d of [a, b]) torch.dispose(d.X, d.y, d.Xtest, d.ytest);
});

test('cifar10Dataset follows Cohen et al.\'s preprocessing (x/255, centred and divided by the std of every feature over the whole train set)', { skip: hasNumpy ? false : 'no python3-numpy' }, () => {
  const d = cifar10Dataset('cifar10', FIX);
  assert.deepEqual(d.X.shape, [64, 3, 32, 32]);
  assert.deepEqual(d.Xtest!.shape, [32, 3, 32, 32]);
  assert.equal(d.classes, 10);
  // numpy on the same files: the reference's center() and standardize() (src/cifar.py)
  const ref = JSON.parse(execFileSync(PY, ['-c', `
import json, sys, numpy as np
def read(p):
    r = np.fromfile(p, dtype=np.uint8).reshape(-1, 3073)
    return r[:, 1:] / 255, r[:, 0]
tr = [read(sys.argv[1] + '/data_batch_%d.bin' % k) for k in (1, 2)]
X = np.concatenate([t[0] for t in tr]); Xt, _ = read(sys.argv[1] + '/test_batch.bin')
mean = X.mean(0); X = X - mean; Xt = Xt - mean
std = X.std(0); X = X / std; Xt = Xt / std
print(json.dumps([X[:, :].sum(), X[7, 2000], Xt[3, 100], (X ** 2).mean(0)[:3].tolist()]))`, BIN], { encoding: 'utf8' }));
  const X = d.X.reshape(64, 3072), Xt = d.Xtest!.reshape(32, 3072);
  assert.ok(Math.abs(X.sum().item() - ref[0]) < 1e-8, 'features centred over the train set');
  assert.ok(Math.abs(X.at(7, 2000).item() - ref[1]) < 1e-12);
  assert.ok(Math.abs(Xt.at(3, 100).item() - ref[2]) < 1e-12, 'test images use the train statistics');
  const m2 = Array.from(X.square().mean(0).narrow(0, 0, 3).toFloat64Array());
  m2.forEach((v, i) => assert.ok(Math.abs(v - ref[3][i]) < 1e-12 && Math.abs(v - 1) < 1e-9, 'unit variance per feature'));
  torch.dispose(d.X, d.y, d.Xtest, d.ytest, X, Xt);
});

test('cifar10-<N>k keeps the first N images; -<c>cls the classes 0…c−1; statistics stay those of the whole train set', () => {
  assert.deepEqual(parseCifarName('cifar10-5k'), { size: 5000, classes: 10 });
  assert.deepEqual(parseCifarName('cifar10-5k-2cls'), { size: 5000, classes: 2 });
  assert.throws(() => parseCifarName('cifar100'), (e: Error) => e instanceof UsageError);
  assert.throws(() => parseCifarName('cifar10-1cls'), /2–10 classes/);
  const all = cifar10Dataset('cifar10', FIX);
  const five = cifar10Dataset('cifar10-5k', FIX); // the fixture has 64 training images: all of them
  assert.equal(five.X.shape[0], 64);
  const sub = cifar10Dataset('cifar10-5k-2cls', FIX, { nTrain: 9 });
  assert.equal(sub.classes, 2);
  assert.equal(sub.X.shape[0], 9);
  assert.ok((sub.y.toArray() as number[]).every((l) => l < 2));
  assert.ok((sub.ytest!.toArray() as number[]).every((l) => l < 2));
  // the first image of class 1 is image 1 of data_batch_1 (labels cycle 0…9): same standardized pixels
  const diff = torch.scope(() => sub.X.select(0, 1).sub(all.X.select(0, 1)).abs().max().item());
  assert.equal(diff, 0);
  const first = cifar10Dataset('cifar10', FIX, { nTrain: 10 });
  assert.equal(first.X.shape[0], 10);
  assert.equal(torch.scope(() => first.X.sub(all.X.narrow(0, 0, 10)).abs().max().item()), 0);
  for (const d of [all, five, sub, first]) torch.dispose(d.X, d.y, d.Xtest, d.ytest);
});

test('corrupt twins: a truncated binary record names the file and the record; a pickle without b\'data\' names the file and the key', () => {
  const bad = path.join(FIX, 'corrupt', 'cifar-10-batches-bin', 'data_batch_1.bin');
  assert.throws(() => readCifar10BinaryBatch(bad), (e: Error) => e instanceof InputFileError
    && e.message.includes(bad) && /record 31 is truncated: 2073 of its 3073 bytes/.test(e.message));
  assert.throws(() => cifar10Dataset('cifar10', path.join(FIX, 'corrupt'), { layout: 'bin' }), /data_batch_1\.bin: record 31 is truncated/);
  const badPy = path.join(FIX, 'corrupt', 'cifar-10-batches-py', 'data_batch_1');
  assert.throws(() => readCifar10PickleBatch(badPy), (e: Error) => e.message.includes(badPy) && /b'data'/.test(e.message));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cifar-'));
  const wrong = path.join(dir, 'data_batch_1.bin');
  const rec = new Uint8Array(3073); rec[0] = 12;
  fs.writeFileSync(wrong, rec);
  assert.throws(() => readCifar10BinaryBatch(wrong), /record 0: the label byte is out of range 0–9/);
  fs.rmSync(dir, { recursive: true, force: true });
});
