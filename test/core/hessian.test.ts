import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/core/torch/index.ts';
import type { Tensor } from '../../src/core/torch/index.ts';
import {
  hvpOperator, hvpFlat, gradFlat, lanczos, powerIteration, matrixOperator, denseFromOperator, denseHessian,
  topHessianEigen, unflatten, hutchinsonTrace, slqDensity, densityGrid, rademacher,
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

// ------------------------------------------------------------------ PyHessian parity: trace and density
/** The dense Hessian of the tanh MLP (51 parameters), its eigen-decomposition and its HVP operator. */
function mlpHessian() {
  const m = mlp();
  const th = m.theta.clone().requiresGrad_();
  const op = hvpOperator(() => m.f(th), [th]);
  const H = denseFromOperator(op.matvec, op.n);
  const [ev, U] = torch.linalg.eigh(H);
  const evals = Array.from(ev.toFloat64Array());
  return {
    n: op.n, op, H, U, evals, trace: torch.scope(() => H.diagonal().sum().item()),
    dispose: () => { op.dispose(); torch.dispose(H, ev, U, th); m.dispose(); },
  };
}

test('Hutchinson trace: the basis probes equal the dense trace to 1e-6 relative; Rademacher probes land within 4 standard errors', () => {
  const h = mlpHessian();
  assert.ok(h.n > 30 && h.n < 80, `a few dozen parameters (${h.n})`);
  const exact = hutchinsonTrace(h.op.matvec, h.n, { probes: 'basis' });
  assert.equal(exact.iterations, h.n);
  assert.ok(relErr(exact.trace, h.trace) < 1e-6, `basis-probe trace ${exact.trace} vs dense ${h.trace}`);
  assert.ok(relErr(h.evals.reduce((a, b) => a + b, 0), h.trace) < 1e-10, 'Σλ = tr H');
  // Rademacher: E[vᵀHv] = tr H, Var[vᵀHv] = 2 Σ_{i≠j} H_ij² (known exactly from the dense H)
  const offDiag2 = torch.scope(() => h.H.square().sum().item() - h.H.diagonal().square().sum().item());
  const N = 400;
  const r = hutchinsonTrace(h.op.matvec, h.n, { maxIter: N, tol: 0, seed: 11 });
  assert.equal(r.iterations, N);
  assert.equal(r.converged, false);
  const se = Math.sqrt((2 * offDiag2) / N);
  assert.ok(Math.abs(r.trace - h.trace) < 4 * se, `Hutchinson ${r.trace} vs ${h.trace} (4 se = ${4 * se})`);
  // the sample standard error estimates the true one
  assert.ok(r.stderr > 0.7 * se && r.stderr < 1.3 * se, `stderr ${r.stderr} vs ${se}`);
  // PyHessian's stopping rule: stops early at tol 1e-2, and every sample is vᵀHv of a ±1 vector
  const early = hutchinsonTrace(h.op.matvec, h.n, { tol: 1e-2, seed: 3 });
  assert.ok(early.converged && early.iterations < 100, `stopped at ${early.iterations}`);
  const v = rademacher(h.n, 3);
  assert.ok(torch.scope(() => v.abs().sub(1).abs().max().item()) === 0, 'Rademacher entries are ±1');
  const s0 = torch.scope(() => v.dot(h.H.mv(v)).item());
  assert.ok(relErr(early.samples[0]!, s0) < 1e-10);
  v.dispose();
  h.dispose();
});

test('SLQ: with m = n steps the nodes are the dense eigenvalues and the weights (u_iᵀv)²; with m < n the moments up to 2m−1 are exact', () => {
  const h = mlpHessian();
  const [full] = slqDensity(h.op.matvec, h.n, { iter: h.n, seed: 5 });
  // the HVP Hessian of this net has distinct eigenvalues: Lanczos runs all n steps
  assert.equal(full!.nodes.length, h.n);
  const scale = Math.max(...h.evals.map(Math.abs));
  full!.nodes.forEach((t, i) => assert.ok(Math.abs(t - h.evals[i]!) < 1e-8 * scale, `node ${i}: ${t} vs ${h.evals[i]}`));
  const v = torch.scope(() => rademacher(h.n, 5).div(Math.sqrt(h.n)));
  const proj = torch.scope(() => Array.from(h.U.t().mv(v).square().toFloat64Array()));
  full!.weights.forEach((w, i) => assert.ok(Math.abs(w - proj[i]!) < 1e-8, `weight ${i}: ${w} vs ${proj[i]}`));
  assert.ok(Math.abs(full!.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12, 'weights sum to 1');
  // m < n: Gauss quadrature, exact for degree ≤ 2m − 1: Σ w_j θ_j^k = vᵀ H^k v
  const m = 6;
  const [part] = slqDensity(h.op.matvec, h.n, { iter: m, seed: 5 });
  assert.equal(part!.nodes.length, m);
  let Hkv = v.clone();
  for (let k = 0; k <= 2 * m + 1; k++) {
    const exact = torch.scope(() => v.dot(Hkv).item());
    const quad = part!.nodes.reduce((s, t, j) => s + part!.weights[j]! * t ** k, 0);
    const err = Math.abs(quad - exact) / (scale ** k);
    if (k <= 2 * m - 1) assert.ok(err < 1e-9, `moment ${k}: ${quad} vs ${exact} (scaled error ${err})`);
    else if (k === 2 * m) assert.ok(err > 1e-9, `moment ${k} is not exact for m = ${m} (scaled error ${err})`);
    const next = h.H.mv(Hkv); Hkv.dispose(); Hkv = next;
  }
  // n · first moment = one Hutchinson sample with the same Rademacher vector
  const t1 = hutchinsonTrace(h.op.matvec, h.n, { maxIter: 1, tol: 0, seed: 5 });
  assert.ok(relErr(h.n * part!.nodes.reduce((s, t, j) => s + part!.weights[j]! * t, 0), t1.samples[0]!) < 1e-9);
  torch.dispose(v, Hkv);
  h.dispose();
});

test('SLQ density: averaged over runs the eigenvalue histogram matches the dense one within 4 standard errors; the grid integrates to 1', () => {
  const h = mlpHessian();
  const nv = 60;
  const runs = slqDensity(h.op.matvec, h.n, { iter: h.n, nv, seed: 100 });
  assert.equal(runs.length, nv);
  // histogram over 5 bins of the spectrum: the dense fraction |{λ_i ∈ B}|/n against each run's Σ_{θ_j ∈ B} w_j
  const lo = h.evals[0]! - 1e-9, hi = h.evals.at(-1)! + 1e-9;
  const edges = Array.from({ length: 6 }, (_, i) => lo + ((hi - lo) * i) / 5);
  for (let b = 0; b < 5; b++) {
    const inB = (x: number) => x >= edges[b]! && x < edges[b + 1]!;
    const truth = h.evals.filter(inB).length / h.n;
    const per = runs.map((r) => r.nodes.reduce((s, t, j) => s + (inB(t) ? r.weights[j]! : 0), 0));
    const mean = per.reduce((a, x) => a + x, 0) / nv;
    const sd = Math.sqrt(per.reduce((a, x) => a + (x - mean) ** 2, 0) / (nv - 1));
    assert.ok(Math.abs(mean - truth) <= 4 * sd / Math.sqrt(nv) + 1e-12, `bin ${b}: SLQ ${mean} vs dense ${truth} (sd ${sd})`);
  }
  const few = slqDensity(h.op.matvec, h.n, { iter: 12, nv: 3, seed: 1 });
  const d = densityGrid(few, { bins: 2000, sigmaSquared: 1e-3 });
  const dx = d.grid[1]! - d.grid[0]!;
  assert.ok(Math.abs(d.density.reduce((a, b) => a + b, 0) * dx - 1) < 1e-12, 'normalized');
  assert.ok(d.density.every((x) => x >= 0 && Number.isFinite(x)));
  assert.throws(() => densityGrid([]), /no SLQ runs/);
  h.dispose();
});
