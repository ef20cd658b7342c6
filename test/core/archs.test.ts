// The convolutional architectures of Cohen et al. (core/dynamics/archs.ts) against the same networks
// written with torch.nn in Python (test/helpers/eos_archs.py): same parameter names, shapes and
// order as the reference's state_dict, and the same train-mode outputs (BatchNorm on batch
// statistics) for the same θ and inputs, to float64 rounding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../src/core/torch/index.ts';
import { modelByName, supervised } from '../../src/core/dynamics/index.ts';
import { hvpOperator, hutchinsonTrace } from '../../src/core/hessian.ts';

const PY = '/usr/bin/python3';
const HELPER = path.join(import.meta.dirname, '..', 'helpers', 'eos_archs.py');
const hasTorch = (() => { try { execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }); return true; } catch { return false; } })();

function reference(arch: string, classes: number, theta: Float64Array, x: Float64Array, shape: number[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'archs-'));
  try {
    const pf = path.join(dir, 'theta.f64'), xf = path.join(dir, 'x.f64');
    fs.writeFileSync(pf, Buffer.from(theta.buffer, theta.byteOffset, theta.byteLength));
    fs.writeFileSync(xf, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    const out = execFileSync(PY, [HELPER, arch, String(classes), pf, xf, ...shape.map(String)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    return JSON.parse(out) as { params: [string, number[]][]; total: number; output: number[] };
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

const CASES: { arch: string; classes: number; shape: number[] }[] = [
  { arch: 'cnn-relu', classes: 10, shape: [3, 3, 32, 32] },
  { arch: 'cnn-bn-tanh', classes: 4, shape: [4, 3, 32, 32] },
  { arch: 'cnn-avgpool-elu', classes: 10, shape: [3, 1, 28, 28] },
  { arch: 'vgg11-bn', classes: 10, shape: [3, 3, 32, 32] },
  { arch: 'vgg11', classes: 10, shape: [2, 3, 32, 32] },
  { arch: 'resnet32', classes: 10, shape: [3, 3, 32, 32] },
  { arch: 'fc-tanh', classes: 10, shape: [3, 3, 8, 8] },
];

for (const c of CASES) {
  test(`${c.arch}: parameter names, shapes and train-mode outputs equal torch.nn's`, { skip: hasTorch ? false : 'no python3-torch here' }, () => {
    torch.manualSeed(1);
    const [, ...inShape] = c.shape;
    const n = inShape.reduce((a, b) => a * b, 1);
    const m = modelByName(c.arch, n, c.classes, inShape);
    // a θ away from init (the zero-initialized bn2 weights of resnet32 would hide the residual branch)
    const theta = torch.scope(() => m.init().add(torch.randn([m.layout.dim], { dtype: 'float64' }).mul(0.05)));
    const x = torch.randn(c.shape, { dtype: 'float64' });
    const th = theta.toFloat64Array(), xs = x.toFloat64Array();
    const ref = reference(c.arch, c.classes, th, xs, c.shape);
    const ours = m.layout.entries.map((e) => [m.stateNames?.[e.name] ?? e.name, [...e.shape]]);
    assert.deepEqual(ours, ref.params, 'same names, shapes and order as the reference state_dict');
    assert.equal(ref.total, m.layout.dim);
    const out = torch.scope(() => m.forward(m.layout.views(theta), x).toFloat64Array());
    assert.equal(out.length, ref.output.length);
    const scale = Math.max(...ref.output.map(Math.abs));
    const err = Math.max(...ref.output.map((v, i) => Math.abs(v - out[i]!)));
    assert.ok(err <= 1e-9 * Math.max(1, scale), `max |ours − torch.nn| = ${err} (scale ${scale})`);
    torch.dispose(theta, x);
  });
}

test('cnn-bn-relu: double backward through batch-norm (batch statistics) gives a symmetric Hessian operator and a finite Hutchinson trace', () => {
  torch.manualSeed(2);
  // the real widths on 8×8 inputs (a small head)
  const m = modelByName('cnn-bn-relu', 192, 3, [3, 8, 8]);
  assert.ok(m.layout.dim > 1000); // 2 × 32-channel convs: the real widths
  const X = torch.randn([6, 3, 8, 8], { dtype: 'float64' });
  const y = torch.tensor(BigInt64Array.from([0n, 1n, 2n, 0n, 1n, 2n]), { shape: [6] });
  const obj = supervised(m, { name: 'toy', X, y, classes: 3 }, 'mse');
  const th = obj.init().requiresGrad_();
  const op = hvpOperator(() => obj.loss(th), [th]);
  // symmetry on random pairs: uᵀHv = vᵀHu
  for (let k = 0; k < 3; k++) {
    torch.scope(() => {
      const u = torch.randn([op.n], { dtype: 'float64' }), v = torch.randn([op.n], { dtype: 'float64' });
      const a = u.dot(op.matvec(v)).item(), b = v.dot(op.matvec(u)).item();
      assert.ok(Math.abs(a - b) <= 1e-8 * Math.max(1, Math.abs(a)), `uᵀHv ${a} vs vᵀHu ${b}`);
    });
  }
  const r = hutchinsonTrace(op.matvec, op.n, { maxIter: 40, tol: 0, seed: 1 });
  assert.ok(Number.isFinite(r.trace) && r.stderr > 0);
  op.dispose(); obj.dispose?.(); torch.dispose(th, X, y);
});

test('modelByName: conv archs need image inputs; VGG and ResNet need 3×32×32', () => {
  assert.throws(() => modelByName('cnn-relu', 10, 2, [10]), /image inputs/);
  assert.throws(() => modelByName('vgg11', 784, 10, [1, 28, 28]), /3×32×32/);
  assert.throws(() => modelByName('resnet56', 3072, 10), /unknown arch.*resnet32/);
  assert.equal(modelByName('cnn-relu', 3072, 10).layout.dim, 896 + 9248 + 20490);
});
