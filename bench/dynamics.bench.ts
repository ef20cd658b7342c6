// Training-dynamics workloads (threshold-neurons, unstable-convergence), paperlab vs PyTorch in
// the same run: one full-batch GD step and the Lanczos top-2 sharpness (30 iterations, full
// reorthogonalization, HVPs by double backward) on a ~50k-parameter fc-tanh net, float64.
import * as torch from '../src/core/torch/index.ts';
import { hvpOperator, lanczos } from '../src/core/hessian.ts';
import { supervised, fcNet, gaussianMixture, hessianEigs } from '../src/core/dynamics/index.ts';
import { Rng } from '../src/core/rng.ts';
import { median, type BenchHelper } from './helper.ts';

const N = 1000, D = 32, H = 200, C = 10, ITERS = 30;

export default async function (h: BenchHelper): Promise<void> {
  if (!h.hasPythonTorch()) { console.log('  python torch missing: skipping dynamics bench'); return; }
  const ref = h.referenceServer('dynamics_ref', { N, D, H, C, iters: ITERS });
  const rng = new Rng(0);
  torch.manualSeed(0);
  const data = gaussianMixture(rng, { n: N, nTest: 10, d: D, classes: C });
  const model = fcNet([D, H, H, C], 'tanh');
  const obj = supervised(model, data, 'mse');
  const theta = obj.init().requiresGrad_().keep();
  const gdStep = () => {
    torch.scope(() => {
      const loss = obj.loss(theta);
      const [g] = torch.grad(loss, [theta]);
      torch.noGrad(() => theta.sub_(g!, 0.01));
      loss.item();
    });
  };
  const top2 = () => torch.scope(() => {
    const op = hvpOperator(() => obj.loss(theta), [theta]);
    try { return lanczos(op.matvec, op.n, 2, { maxIter: ITERS, tol: 0, vectors: false, seed: 1 }).values; } finally { op.dispose(); }
  });
  let pyN: number, gd: Awaited<ReturnType<BenchHelper['interleave']>>, lz: Awaited<ReturnType<BenchHelper['interleave']>>;
  try {
    pyN = (await ref.hello<{ n: number }>()).n;
    gd = await h.interleave(gdStep, ref, 'gd', { rounds: 4, block: 6 });
    lz = await h.interleave(top2, ref, 'lanczos', { rounds: 4, block: 3 });
  } finally {
    ref.close();
  }
  h.record({ name: `dynamics: full-batch GD step (${obj.dim} params, n=${N}, f64)`, paperlabMs: median(gd.mine), referenceMs: median(gd.theirs),
    note: `fc-tanh ${D}-${H}-${H}-${C}, MSE; reference: nn.Sequential + autograd.grad + sub_ (${pyN} params); ${gd.note}` });
  const ours = top2();
  const conv = hessianEigs(obj, theta, 2, { tol: 1e-9 });
  h.record({ name: `dynamics: Lanczos top-2 sharpness (${ITERS} HVPs, f64)`, paperlabMs: median(lz.mine), referenceMs: median(lz.theirs),
    note: `same algorithm in PyTorch (bench/dynamics_ref.py: preallocated basis, full reorth. by addmv, twice); ${lz.note}; λ1 ours ${ours[0]!.toFixed(4)} (converged ${conv.values[0]!.toFixed(4)})` });
  theta.dispose();
  obj.dispose?.();
  torch.dispose(data.X, data.y, data.Xtest, data.ytest);
}
