"""PyTorch reference for bench/dynamics.bench.ts: one full-batch GD step and the Lanczos top-2
sharpness (ITERS HVPs by double backward, preallocated Krylov basis, full reorthogonalization by
addmv twice) on an fc-tanh net in float64, PyHessian's Hutchinson trace loop, and a GD step of
Cohen et al.'s cnn-relu on CIFAR-shaped inputs — the same computations as ours."""
import json
import torch
from refserver import answer


def build(cfg):
    torch.set_default_dtype(torch.float64)
    torch.manual_seed(0)
    N, D, H, C, ITERS = cfg['N'], cfg['D'], cfg['H'], cfg['C'], cfg['iters']
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
        Tm = torch.diag(torch.tensor(alpha)) + torch.diag(torch.tensor(beta), 1) + torch.diag(torch.tensor(beta), -1)
        ev = torch.linalg.eigvalsh(Tm)
        return [float(ev[-1]), float(ev[-2])]

    def trace():
        loss = loss_fn()
        gs = torch.autograd.grad(loss, ps, create_graph=True)
        samples = []
        for _ in range(cfg['probes']):
            v = [torch.randint_like(p, high=2) * 2 - 1 for p in ps]
            hv = torch.autograd.grad(gs, ps, grad_outputs=v, retain_graph=True)
            samples.append(float(sum((a * b).sum() for a, b in zip(hv, v))))
        return sum(samples) / len(samples)

    NC = cfg['cnnN']
    Xc = torch.randn(NC, 3, 32, 32); Tc = torch.nn.functional.one_hot(torch.randint(0, C, (NC,)), C).double()
    cnn = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Conv2d(32, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Flatten(), torch.nn.Linear(32 * 8 * 8, C)).double()
    cps = list(cnn.parameters())

    def cnn_gd():
        loss = 0.5 * ((cnn(Xc) - Tc) ** 2).sum(1).mean()
        gs = torch.autograd.grad(loss, cps)
        with torch.no_grad():
            for p, g in zip(cps, gs): p.sub_(g, alpha=0.01)
        return loss.item()

    return n, sum(p.numel() for p in cps), {'gd': gd_step, 'lanczos': lanczos_top2, 'trace': trace, 'cnngd': cnn_gd}


def serve(cfg):
    """Prints {"n": parameter count}, then answers each stdin line `<gd|lanczos> <reps>` with a JSON
    list of the milliseconds of each rep."""
    n, ncnn, fns = build(cfg)
    print(json.dumps({'n': n, 'cnnN': ncnn}), flush=True)
    answer(fns)
