"""Reference side of bench/reproducibility.bench.ts: the deviation sweep (averaged SGD on a quadratic
with a flat direction, 2R runs as one [2R, d] batch, budgets Ts, η = D²/(εT)) in PyTorch and in
NumPy, float64, served for BenchHelper.interleave (see refserver.py). Both are vectorized over the
runs, as ours is: one array op per step for the whole batch. PyTorch is seeded as ours
(manual_seed(1) per budget), so it draws the same noise and gives the same means. `randn` times the
noise alone (PyTorch's generator, one [2R, d] draw per step, every budget): the floor of any sweep
that must reproduce PyTorch's numbers."""
import json
import numpy as np
import torch
from refserver import answer


def serve(cfg):
    torch.set_default_dtype(torch.float64)
    d, R, eps, delta, Ts, D = cfg['d'], cfg['R'], cfg['eps'], cfg['delta'], cfg['Ts'], cfg['D']
    H = torch.tensor(cfg['H']).reshape(d, d); g = torch.tensor(cfg['g']); u0 = torch.tensor(cfg['u0'])
    negG = -g

    def run_torch(T):
        torch.manual_seed(1)  # as measureDeviation(seed = 1): the same libtorch stream, so the same numbers
        lr = D * D / (eps * T); s = delta / d ** 0.5
        x = u0.expand(2 * R, d).clone(); avg = x.clone()
        for t in range(T):
            gr = torch.addmm(negG, x, H).add(torch.randn(2 * R, d), alpha=s)
            x = x.add(gr, alpha=-lr)
            avg = x.clone() if t == 0 else avg.add(x - avg, alpha=1.0 / (t + 1))
        return ((avg[:R] - avg[R:]) ** 2).sum(1).mean().item()

    Hn, gn, u0n = H.numpy(), g.numpy(), u0.numpy()
    rng = np.random.default_rng(1)

    def run_numpy(T):
        lr = D * D / (eps * T); s = delta / d ** 0.5
        x = np.tile(u0n, (2 * R, 1)); avg = x.copy()
        for t in range(T):
            gr = x @ Hn - gn + rng.standard_normal((2 * R, d)) * s
            x = x - lr * gr
            avg = x.copy() if t == 0 else avg + (x - avg) / (t + 1)
        return float(((avg[:R] - avg[R:]) ** 2).sum(1).mean())

    def randn_only():
        for T in Ts:
            torch.manual_seed(1)
            for _ in range(T): torch.randn(2 * R, d)

    tm = [run_torch(T) for T in Ts]; nm = [run_numpy(T) for T in Ts]
    print(json.dumps({'threads': torch.get_num_threads(), 'torchMeans': tm, 'numpyMeans': nm}), flush=True)
    answer(dict(sweep=lambda: [run_torch(T) for T in Ts], sweep_np=lambda: [run_numpy(T) for T in Ts], randn=randn_only))
