// Engine workloads of engine.md, paperlab vs PyTorch (python3-torch) in the same run.
import * as torch from '../src/core/torch/index.ts';
import type { BenchHelper } from './helper.ts';

export default async function (h: BenchHelper): Promise<void> {
  const { F } = torch;
  const py = h.python(`
import torch.nn.functional as F
torch.manual_seed(0)
r = {}
x = torch.randn(8, 32, 64, 64, requires_grad=True); w = torch.randn(32, 32, 3, 3, requires_grad=True)
def c2():
    y = F.conv2d(x, w, padding=1); y.sum().backward(); x.grad = None; w.grad = None
r['conv2d'] = bench(c2, 2, 10)
x3 = torch.randn(2, 16, 16, 32, 32, requires_grad=True); w3 = torch.randn(16, 16, 3, 3, 3, requires_grad=True)
def c3():
    y = F.conv3d(x3, w3, padding=1); y.sum().backward(); x3.grad = None; w3.grad = None
r['conv3d'] = bench(c3, 2, 10)
a = torch.randn(1024, 1024); b = torch.randn(1024, 1024)
r['matmul'] = bench(lambda: a.matmul(b).numpy().copy(), 2, 20)
s = torch.ones(1)
r['add1'] = bench(lambda: [torch.add(s, s) for _ in range(1000)], 3, 20) / 1000
torch.set_default_dtype(torch.float64)
W1 = torch.randn(64, 32) / 32 ** 0.5; W2 = torch.randn(1, 64) / 8; X = torch.randn(256, 32); Y = torch.randn(256, 1)
W1.requires_grad_(); W2.requires_grad_()
v1 = torch.randn(64, 32); v2 = torch.randn(1, 64)
def hvp():
    loss = ((torch.tanh(X @ W1.T) @ W2.T - Y) ** 2).mean()
    g = torch.autograd.grad(loss, [W1, W2], create_graph=True)
    dot = (g[0] * v1).sum() + (g[1] * v2).sum()
    return torch.autograd.grad(dot, [W1, W2])
r['hvp'] = bench(hvp, 3, 30)
print(json.dumps(r))
`);

  torch.manualSeed(0);
  const x = torch.randn([8, 32, 64, 64], { requiresGrad: true }).keep();
  const w = torch.randn([32, 32, 3, 3], { requiresGrad: true }).keep();
  const conv2d = await h.timeIt(() => torch.scope(() => { F.conv2d(x, w, null, { padding: 1 }).sum().backward(); x.grad = null; w.grad = null; }));
  h.record({ name: 'engine: conv2d fwd+bwd 8x32x64x64 k3', paperlabMs: conv2d, referenceMs: py.conv2d! });

  const x3 = torch.randn([2, 16, 16, 32, 32], { requiresGrad: true }).keep();
  const w3 = torch.randn([16, 16, 3, 3, 3], { requiresGrad: true }).keep();
  const conv3d = await h.timeIt(() => torch.scope(() => { F.conv3d(x3, w3, null, { padding: 1 }).sum().backward(); x3.grad = null; w3.grad = null; }));
  h.record({ name: 'engine: conv3d fwd+bwd 2x16x16x32x32 k3', paperlabMs: conv3d, referenceMs: py.conv3d! });

  const a = torch.randn([1024, 1024]).keep(), b = torch.randn([1024, 1024]).keep();
  const mm = await h.timeIt(() => torch.scope(() => { a.matmul(b).toTypedArray(); }), { reps: 20 });
  h.record({ name: 'engine: matmul 1024² float32 (incl. copy out)', paperlabMs: mm, referenceMs: py.matmul! });

  const s = torch.ones([1]).keep();
  const add = await h.timeIt(() => torch.scope(() => { for (let i = 0; i < 1000; i++) s.add(s); }), { warmup: 3, reps: 20 });
  h.record({ name: 'engine: per-op overhead (1-element add)', paperlabMs: add / 1000, referenceMs: py.add1!, note: 'per call' });

  const o64 = { dtype: 'float64' as const };
  const W1 = torch.randn([64, 32], o64).div(Math.sqrt(32)).requiresGrad_().keep();
  const W2 = torch.randn([1, 64], o64).div(8).requiresGrad_().keep();
  const X = torch.randn([256, 32], o64).keep(), Y = torch.randn([256, 1], o64).keep();
  const v1 = torch.randn([64, 32], o64).keep(), v2 = torch.randn([1, 64], o64).keep();
  const hvp = await h.timeIt(() => torch.scope(() => {
    const loss = X.matmul(W1.t()).tanh().matmul(W2.t()).sub(Y).pow(2).mean();
    const g = torch.grad(loss, [W1, W2], { createGraph: true }) as torch.Tensor[];
    const dot = g[0]!.mul(v1).sum().add(g[1]!.mul(v2).sum());
    torch.grad(dot, [W1, W2]);
  }), { warmup: 3, reps: 30 });
  h.record({ name: 'engine: float64 HVP tanh MLP 32-64-1, n=256', paperlabMs: hvp, referenceMs: py.hvp! });
  torch.dispose([x, w, x3, w3, a, b, s, W1, W2, X, Y, v1, v2]);
}
