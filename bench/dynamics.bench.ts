// Training-dynamics workloads (threshold-neurons, unstable-convergence), paperlab vs PyTorch in
// the same run: one full-batch GD step and the Lanczos top-2 sharpness (30 iterations, full
// reorthogonalization, HVPs by double backward) on a ~50k-parameter fc-tanh net, float64.
import * as torch from '../src/core/torch/index.ts';
import { hvpOperator, lanczos } from '../src/core/hessian.ts';
import { supervised, fcNet, gaussianMixture, hessianEigs } from '../src/core/dynamics/index.ts';
import { Rng } from '../src/core/rng.ts';
import type { BenchHelper } from './helper.ts';

const N = 1000, D = 32, H = 200, C = 10, ITERS = 30, ROUNDS = 3, GD_REPS = 10, LZ_REPS = 3;

export default async function (h: BenchHelper): Promise<void> {
  if (!h.hasPythonTorch()) { console.log('  python torch missing: skipping dynamics bench'); return; }
  const pyScript = `
GD_REPS, LZ_REPS = ${GD_REPS}, ${LZ_REPS}
torch.set_default_dtype(torch.float64)
torch.manual_seed(0)
N, D, H, C, ITERS = ${N}, ${D}, ${H}, ${C}, ${ITERS}
X = torch.randn(N, D); y = torch.randint(0, C, (N,)); T = torch.nn.functional.one_hot(y, C).double()
net = torch.nn.Sequential(torch.nn.Linear(D, H), torch.nn.Tanh(), torch.nn.Linear(H, H), torch.nn.Tanh(), torch.nn.Linear(H, C)).double()
ps = list(net.parameters())
n = sum(p.numel() for p in ps)
def loss_fn():
    return 0.5 * ((net(X) - T) ** 2).sum(1).mean()
def gd_step():
    loss = loss_fn()
    gs = torch.autograd.grad(loss, ps)
    with torch.no_grad():
        for p, g in zip(ps, gs): p.sub_(g, alpha=0.01)
    return loss.item()
def lanczos_top2():
    loss = loss_fn()
    gs = torch.autograd.grad(loss, ps, create_graph=True)
    g = torch.cat([t.reshape(-1) for t in gs])
    def mv(v):
        hs = torch.autograd.grad((g * v).sum(), ps, retain_graph=True)
        return torch.cat([t.reshape(-1) for t in hs])
    gen = torch.Generator().manual_seed(1)
    q = torch.rand(n, generator=gen) * 2 - 1; q = q / q.norm()
    Qb = torch.empty(ITERS, n); alpha = []; beta = []
    for j in range(ITERS):
        Qb[j].copy_(q)
        w = mv(q)
        a = float(w.dot(q))
        Qm = Qb[:j + 1]
        for _ in range(2): w = torch.addmv(w, Qm.T, Qm.mv(w), beta=1, alpha=-1)
        b = float(w.norm())
        alpha.append(a)
        if j + 1 < ITERS:
            beta.append(b); q = w / b
    m = len(alpha)
    Tm = torch.diag(torch.tensor(alpha)) + torch.diag(torch.tensor(beta), 1) + torch.diag(torch.tensor(beta), -1)
    ev = torch.linalg.eigvalsh(Tm)
    return [float(ev[-1]), float(ev[-2])]
def times(fn, warmup, reps):
    for _ in range(warmup): fn()
    ts = []
    for _ in range(reps):
        s = time.perf_counter(); fn(); ts.append((time.perf_counter() - s) * 1000)
    return ts
r = {'n': n}
r['gd'] = times(gd_step, 3, GD_REPS)
r['lanczos'] = times(lanczos_top2, 1, LZ_REPS)
r['top2'] = lanczos_top2()
print(json.dumps(r))
`;

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
  const times = (fn: () => unknown, warmup: number, reps: number) => {
    for (let i = 0; i < warmup; i++) fn();
    const ts: number[] = [];
    for (let i = 0; i < reps; i++) { const s = performance.now(); fn(); ts.push(performance.now() - s); }
    return ts;
  };
  // Interleaved rounds (reference, then ours, ROUNDS times): a change of machine load between the
  // two phases would otherwise skew the ratio on a shared machine. Each side: median of all reps.
  const mine = { gd: [] as number[], lz: [] as number[] }, ref = { gd: [] as number[], lz: [] as number[] };
  let pyN = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const py = h.python<{ n: number; gd: number[]; lanczos: number[] }>(pyScript);
    pyN = py.n; ref.gd.push(...py.gd); ref.lz.push(...py.lanczos);
    mine.gd.push(...times(gdStep, 3, GD_REPS));
    mine.lz.push(...times(top2, 1, LZ_REPS));
  }
  const med = (xs: number[]) => { const v = [...xs].sort((x, y) => x - y); return v[Math.floor(v.length / 2)]!; };
  h.record({ name: `dynamics: full-batch GD step (${obj.dim} params, n=${N}, f64)`, paperlabMs: med(mine.gd), referenceMs: med(ref.gd),
    note: `fc-tanh ${D}-${H}-${H}-${C}, MSE; reference: nn.Sequential + autograd.grad + sub_ (${pyN} params); ${ROUNDS} interleaved rounds × ${GD_REPS} reps` });
  const ours = top2();
  const conv = hessianEigs(obj, theta, 2, { tol: 1e-9 });
  h.record({ name: `dynamics: Lanczos top-2 sharpness (${ITERS} HVPs, f64)`, paperlabMs: med(mine.lz), referenceMs: med(ref.lz),
    note: `same algorithm in PyTorch (preallocated basis, full reorth. by addmv, twice); ${ROUNDS} interleaved rounds × ${LZ_REPS} reps; λ1 ours ${ours[0]!.toFixed(4)} (converged ${conv.values[0]!.toFixed(4)})` });
  theta.dispose();
  obj.dispose?.();
  torch.dispose(data.X, data.y, data.Xtest, data.ytest);
}
