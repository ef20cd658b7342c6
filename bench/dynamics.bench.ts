// Training-dynamics workloads (threshold-neurons, unstable-convergence), paperlab vs PyTorch in
// the same run: one full-batch GD step, the Lanczos top-2 sharpness (30 iterations, full
// reorthogonalization, HVPs by double backward) and the Hutchinson trace (20 probes) on a
// ~50k-parameter fc-tanh net, and one GD step of Cohen et al.'s cnn-relu on 128 CIFAR-shaped images,
// float64.
// Both sides run as long-lived child processes timed in interleaved blocks (BenchHelper.interleave):
// ours is `serve` below (through bench/serve.ts), the reference bench/dynamics_ref.py.
import * as torch from '../src/core/torch/index.ts';
import { hvpOperator, lanczos, hutchinsonTrace } from '../src/core/hessian.ts';
import { supervised, fcNet, convNet, gaussianMixture, hessianEigs } from '../src/core/dynamics/index.ts';
import { Rng } from '../src/core/rng.ts';
import { median, type BenchHelper } from './helper.ts';
import type { Served } from './serve.ts';

const CFG = { N: 1000, D: 32, H: 200, C: 10, iters: 30, probes: 20, cnnN: 128 };

/** Our workloads (run in the child process): `gd` and `lanczos`; hello carries the check values. */
export function serve(cfg: typeof CFG): Served {
  const rng = new Rng(0);
  torch.manualSeed(0);
  const data = gaussianMixture(rng, { n: cfg.N, nTest: 10, d: cfg.D, classes: cfg.C });
  const obj = supervised(fcNet([cfg.D, cfg.H, cfg.H, cfg.C], 'tanh'), data, 'mse');
  const theta = obj.init().requiresGrad_().keep();
  const gd = () => torch.scope(() => {
    const loss = obj.loss(theta);
    const [g] = torch.grad(loss, [theta]);
    torch.noGrad(() => theta.sub_(g!, 0.01));
    return loss.item();
  });
  const top2 = () => torch.scope(() => {
    const op = hvpOperator(() => obj.loss(theta), [theta]);
    try { return lanczos(op.matvec, op.n, 2, { maxIter: cfg.iters, tol: 0, vectors: false, seed: 1 }).values; } finally { op.dispose(); }
  });
  // Hutchinson trace with a fixed number of Rademacher probes (PyHessian's trace() with tol = 0)
  const trace = () => torch.scope(() => {
    const op = hvpOperator(() => obj.loss(theta), [theta]);
    try { return hutchinsonTrace(op.matvec, op.n, { maxIter: cfg.probes, tol: 0 }).trace; } finally { op.dispose(); }
  });
  // one full-batch GD step of Cohen et al.'s cnn-relu on CIFAR-shaped inputs
  torch.manualSeed(0);
  const cnn = convNet([3, 32, 32], cfg.C);
  const imgs = { name: 'cifar-shaped', X: torch.randn([cfg.cnnN, 3, 32, 32], { dtype: 'float64' }), y: torch.randint(0, cfg.C, [cfg.cnnN]), classes: cfg.C };
  const cobj = supervised(cnn, imgs, 'mse');
  const ctheta = cobj.init().requiresGrad_().keep();
  const cnngd = () => torch.scope(() => {
    const loss = cobj.loss(ctheta);
    const [g] = torch.grad(loss, [ctheta]);
    torch.noGrad(() => ctheta.sub_(g!, 0.01));
    return loss.item();
  });
  const ours = top2(), conv = hessianEigs(obj, theta, 2, { tol: 1e-9 }).values;
  return { hello: { n: obj.dim, lambda1: ours[0]!, converged1: conv[0]!, cnnN: cobj.dim }, fns: { gd, lanczos: top2, trace, cnngd } };
}

export default async function (h: BenchHelper): Promise<void> {
  if (!h.hasPythonTorch()) { console.log('  python torch missing: skipping dynamics bench'); return; }
  const ref = h.referenceServer('dynamics_ref', CFG), mine = h.selfServer(import.meta.url, CFG);
  try {
    const [py, us] = [await ref.hello<{ n: number; cnnN: number }>(), await mine.hello<{ n: number; lambda1: number; converged1: number; cnnN: number }>()];
    if (py.n !== us.n || py.cnnN !== us.cnnN) throw new Error(`dynamics bench: parameter counts differ (ours ${us.n}/${us.cnnN}, PyTorch ${py.n}/${py.cnnN})`);
    const gd = await h.interleave(mine, ref, 'gd', { rounds: 12, block: 6 });
    h.record({ name: `dynamics: full-batch GD step (${us.n} params, n=${CFG.N}, f64)`, paperlabMs: median(gd.mine), referenceMs: median(gd.theirs),
      note: `fc-tanh ${CFG.D}-${CFG.H}-${CFG.H}-${CFG.C}, MSE; reference: nn.Sequential + autograd.grad + sub_; ${gd.note}` });
    const lz = await h.interleave(mine, ref, 'lanczos', { rounds: 6, block: 3 });
    h.record({ name: `dynamics: Lanczos top-2 sharpness (${CFG.iters} HVPs, f64)`, paperlabMs: median(lz.mine), referenceMs: median(lz.theirs),
      note: `same algorithm in PyTorch (bench/dynamics_ref.py: preallocated basis, full reorth. by addmv, twice); ${lz.note}; λ1 ours ${us.lambda1.toFixed(4)} (converged ${us.converged1.toFixed(4)})` });
    const tr = await h.interleave(mine, ref, 'trace', { rounds: 6, block: 3 });
    h.record({ name: `dynamics: Hutchinson trace (${CFG.probes} Rademacher probes, f64)`, paperlabMs: median(tr.mine), referenceMs: median(tr.theirs),
      note: `PyHessian's trace() loop with tol = 0 in PyTorch (bench/dynamics_ref.py); ${tr.note}` });
    const cg = await h.interleave(mine, ref, 'cnngd', { rounds: 6, block: 3 });
    h.record({ name: `dynamics: cnn-relu full-batch GD step (${us.cnnN} params, n=${CFG.cnnN} 3×32×32, f64)`, paperlabMs: median(cg.mine), referenceMs: median(cg.theirs),
      note: `Cohen et al.'s cnn-relu (conv 32-32, max-pool, linear head), MSE; reference: the nn.Sequential of archs.py; ${cg.note}` });
  } finally {
    ref.close(); mine.close();
  }
}
