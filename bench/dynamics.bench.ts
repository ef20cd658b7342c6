// Training-dynamics workloads (threshold-neurons, unstable-convergence), paperlab vs PyTorch in
// the same run: one full-batch GD step and the Lanczos top-2 sharpness (30 iterations, full
// reorthogonalization, HVPs by double backward) on a ~50k-parameter fc-tanh net, float64.
import * as torch from '../src/core/torch/index.ts';
import { hvpOperator, lanczos } from '../src/core/hessian.ts';
import { supervised, fcNet, gaussianMixture, hessianEigs } from '../src/core/dynamics/index.ts';
import { Rng } from '../src/core/rng.ts';
import { median, quantile, type BenchHelper } from './helper.ts';

const N = 1000, D = 32, H = 200, C = 10, ITERS = 30, GD_REPS = 20, LZ_REPS = 9;

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
  // Interleaved: one of our reps, then one reference rep in the long-lived PyTorch process, and so
  // on, so both see the same machine load. Reported: median ms of each side and of the per-pair ratio.
  const pairs = async (fn: () => unknown, kind: string, warmup: number, reps: number) => {
    const mine: number[] = [], theirs: number[] = [], ratios: number[] = [];
    for (let i = 0; i < warmup + reps; i++) {
      const s = performance.now(); fn(); const a = performance.now() - s;
      const b = await ref.ask(kind);
      if (i >= warmup) { mine.push(a); theirs.push(b); ratios.push(a / b); }
    }
    return { mine, theirs, ratios, note: `per-pair ratio median ${median(ratios).toFixed(2)} (IQR ${quantile(ratios, 0.25).toFixed(2)}–${quantile(ratios, 0.75).toFixed(2)}), ${reps} interleaved pairs` };
  };
  let pyN: number, gd: Awaited<ReturnType<typeof pairs>>, lz: Awaited<ReturnType<typeof pairs>>;
  try {
    pyN = (await ref.hello<{ n: number }>()).n;
    gd = await pairs(gdStep, 'gd', 3, GD_REPS);
    lz = await pairs(top2, 'lanczos', 1, LZ_REPS);
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
