# The reference side of bench/engine.bench.ts: the same engine workloads in PyTorch, served for
# BenchHelper.interleave (see refserver.py). Each workload is one timed unit: the per-op workload
# is 1,000 one-element adds (the row divides by 1,000).
import json
import torch
import torch.nn.functional as F
from refserver import answer


def serve(cfg):
    torch.manual_seed(0)
    x = torch.randn(8, 32, 64, 64, requires_grad=True); w = torch.randn(32, 32, 3, 3, requires_grad=True)
    x3 = torch.randn(2, 16, 16, 32, 32, requires_grad=True); w3 = torch.randn(16, 16, 3, 3, 3, requires_grad=True)
    a = torch.randn(1024, 1024); b = torch.randn(1024, 1024)
    s = torch.ones(1)
    d = dict(dtype=torch.float64)
    W1 = (torch.randn(64, 32, **d) / 32 ** 0.5).requires_grad_(); W2 = (torch.randn(1, 64, **d) / 8).requires_grad_()
    X = torch.randn(256, 32, **d); Y = torch.randn(256, 1, **d); v1 = torch.randn(64, 32, **d); v2 = torch.randn(1, 64, **d)

    def conv2d():
        F.conv2d(x, w, padding=1).sum().backward(); x.grad = None; w.grad = None

    def conv3d():
        F.conv3d(x3, w3, padding=1).sum().backward(); x3.grad = None; w3.grad = None

    def matmul():
        a.matmul(b).numpy().copy()

    def add1000():
        for _ in range(1000): torch.add(s, s)

    def hvp():
        loss = ((torch.tanh(X @ W1.T) @ W2.T - Y) ** 2).mean()
        g = torch.autograd.grad(loss, [W1, W2], create_graph=True)
        dot = (g[0] * v1).sum() + (g[1] * v2).sum()
        torch.autograd.grad(dot, [W1, W2])

    print(json.dumps({'threads': torch.get_num_threads()}), flush=True)
    answer(dict(conv2d=conv2d, conv3d=conv3d, matmul=matmul, add1000=add1000, hvp=hvp))
