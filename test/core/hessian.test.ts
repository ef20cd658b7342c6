import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/core/torch/index.ts';
import type { Tensor } from '../../src/core/torch/index.ts';
import {
  hvpOperator, hvpFlat, gradFlat, lanczos, powerIteration, matrixOperator, denseFromOperator, denseHessian,
  topHessianEigen, unflatten,
} from '../../src/core/hessian.ts';

const f64 = { dtype: 'float64' as const };

/** A = Q diag(spec) Qᵀ with a random orthogonal Q (seeded). */
function knownMatrix(spec: number[], seed: number): Tensor {
  torch.manualSeed(seed);
  return torch.scope(() => {
    const n = spec.length;
    const [Q] = torch.linalg.qr(torch.randn([n, n], f64));
    return Q!.mm(torch.tensor(spec, f64).diag()).mm(Q!.t());
  });
}

const relErr = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

test('power iteration and Lanczos recover a known spectrum to 1e-8 (float64)', () => {
  const n = 80;
  const spec = [12, 10.5, 9.25, -7];
  for (let i = spec.length; i < n; i++) spec.push(-5 + (8 * i) / n); // bulk in [-5, 3]
  const before = torch.liveTensors();
  const A = knownMatrix(spec, 1);
  const p = powerIteration(matrixOperator(A), n, { seed: 3 });
  assert.ok(p.converged, 'power iteration converged');
  assert.ok(relErr(p.value, 12) < 1e-8, `power: ${p.value}`);
  // eigenvector check: ‖A v − λ v‖ small
  const res = torch.scope(() => A.mv(p.vector).sub(p.vector.mul(12)).norm().item());
  assert.ok(res < 1e-4, `power residual ${res}`);
  p.vector.dispose();

  const l = lanczos(matrixOperator(A), n, 3, { seed: 5 });
  assert.ok(l.converged);
  assert.deepEqual(l.values.length, 3);
  for (let i = 0; i < 3; i++) assert.ok(relErr(l.values[i]!, spec[i]!) < 1e-8, `lanczos λ${i}: ${l.values[i]} vs ${spec[i]}`);
  const vres = torch.scope(() => {
    const V = l.vectors!;
    const AV = A.mm(V.t()); // n×k
    return AV.sub(V.t().mul(torch.tensor(l.values, f64))).norm().item();
  });
  assert.ok(vres < 1e-6, `Ritz vector residual ${vres}`);
  l.vectors!.dispose();
  // largest magnitude: -7 beats 9.25? no: |12| > |10.5| > |9.25| > |-7|; make a spectrum where it matters
  const B = knownMatrix([3, 2, -20, 1, 0.5, 0.1, -1, 0], 2);
  const lm = lanczos(matrixOperator(B), 8, 1, { which: 'LM', vectors: false });
  assert.ok(relErr(lm.values[0]!, -20) < 1e-10);
  const la = lanczos(matrixOperator(B), 8, 2, { vectors: false });
  assert.ok(relErr(la.values[0]!, 3) < 1e-10 && relErr(la.values[1]!, 2) < 1e-10);
  A.dispose(); B.dispose();
  assert.ok(torch.liveTensors() <= before, `no tensors leaked (${torch.liveTensors()} vs ${before})`);
});

/** tiny tanh MLP as a function of a flat θ: 4 → 6 → 3, MSE-like loss on fixed data. */
function mlp(): { n: number; f: (th: Tensor) => Tensor; theta: Tensor; dispose(): void } {
  torch.manualSeed(7);
  const shapes = [[6, 4], [6], [3, 6], [3]];
  const like = shapes.map((s) => torch.zeros(s, f64));
  const n = like.reduce((s, t) => s + t.numel, 0);
  const X = torch.randn([10, 4], f64);
  const Y = torch.randn([10, 3], f64);
  const theta = torch.randn([n], f64).mul(0.7);
  const f = (th: Tensor) => {
    const [W1, b1, W2, b2] = unflatten(th, like);
    const h = torch.F.linear(X, W1!, b1!).tanh();
    const o = torch.F.linear(h, W2!, b2!);
    return o.sub(Y).square().sum(1).mean().mul(0.5);
  };
  return { n, f, theta, dispose: () => torch.dispose(like, X, Y, theta) };
}

test('Lanczos agrees with a dense eigendecomposition of a Hessian built from HVPs (small MLP)', () => {
  const m = mlp();
  const th = m.theta.clone().requiresGrad_();
  const op = hvpOperator(() => m.f(th), [th]);
  const Hraw = denseFromOperator(op.matvec, op.n, { symmetrize: false });
  const asym = torch.scope(() => Hraw.sub(Hraw.t()).abs().max().item() / Hraw.abs().max().item());
  assert.ok(asym < 1e-12, `HVP Hessian symmetric (${asym})`);
  const dense = torch.scope(() => Array.from(torch.linalg.eigvalsh(Hraw.add(Hraw.t()).mul(0.5)).toFloat64Array()).reverse());
  const l = lanczos(op.matvec, op.n, 4, { vectors: false });
  for (let i = 0; i < 4; i++) assert.ok(relErr(l.values[i]!, dense[i]!) < 1e-8, `λ${i}: ${l.values[i]} vs dense ${dense[i]}`);
  // the convenience wrapper (dense method and lanczos method agree)
  const t1 = topHessianEigen(() => m.f(th), [th], 2, { method: 'dense' });
  const t2 = topHessianEigen(() => m.f(th), [th], 2);
  for (let i = 0; i < 2; i++) assert.ok(relErr(t1.values[i]!, t2.values[i]!) < 1e-8);
  const align = torch.scope(() => t1.vectors!.select(0, 0).dot(t2.vectors!.select(0, 0)).abs().item());
  assert.ok(align > 1 - 1e-8, `top eigenvectors align (${align})`);
  torch.dispose(t1.vectors, t2.vectors, Hraw, th);
  // dense Hessian via denseHessian equals the operator one
  const th2 = m.theta.clone().requiresGrad_();
  const H2 = denseHessian(() => m.f(th2), [th2]);
  assert.equal(H2.shape.join(','), `${m.n},${m.n}`);
  op.dispose(); H2.dispose(); th2.dispose(); m.dispose();
});

test('HVP by double backward matches central finite differences of the gradient to 1e-8 (float64)', () => {
  const m = mlp();
  for (let trial = 0; trial < 3; trial++) {
    torch.scope(() => {
      const v = torch.randn([m.n], f64);
      const hv = hvpFlat(m.f, m.theta, v);
      const D = (eps: number) => {
        const gp = gradFlat(m.f, m.theta.add(v.mul(eps))).grad;
        const gm = gradFlat(m.f, m.theta.sub(v.mul(eps))).grad;
        return gp.sub(gm).div(2 * eps);
      };
      const eps = 1e-3;
      // Richardson extrapolation of the central difference: O(ε⁴) truncation error
      const fd = D(eps / 2).mul(4).sub(D(eps)).div(3);
      const rel = hv.sub(fd).norm().item() / hv.norm().item();
      assert.ok(rel < 1e-8, `relative HVP error ${rel}`);
    });
  }
  m.dispose();
});

test('hvpOperator works on an nn.Module parameter list and rejects bad input', () => {
  torch.manualSeed(3);
  const lin = new torch.nn.Linear(3, 2, true, f64);
  const x = torch.randn([5, 3], f64);
  const loss = () => lin.forward(x).tanh().square().mean();
  const op = hvpOperator(loss, lin.parameters());
  assert.equal(op.n, 8);
  const H = denseFromOperator(op.matvec, op.n);
  assert.equal(H.shape.join(','), '8,8');
  assert.throws(() => op.matvec(torch.zeros([3], f64)), /8/);
  op.dispose();
  assert.throws(() => op.matvec(torch.zeros([8], f64)), /dispose/);
  assert.throws(() => lanczos(matrixOperator(H), 8, 9), /k must be/);
  torch.dispose(H, x); lin.dispose();
});
