"""Reference side of bench/orfit.bench.ts: the same per-sample streams in PyTorch (and the linear
ORFit stream in NumPy), float64, served for BenchHelper.interleave (see refserver.py). Each workload
is one whole stream (K updates); the rows divide by K. Both sides draw standard Gaussian data of
the same shapes (here NumPy's default_rng(0), ours core Rng(0)): the work per update does not depend
on the values.
`add1000` (1,000 one-element adds) measures the per-op overhead the streams are bound by."""
import json
import numpy as np
import torch
from refserver import answer


def serve(cfg):
    torch.set_default_dtype(torch.float64)
    P, K, M, D, H, KN, KR = (cfg[k] for k in ('P', 'K', 'M', 'D', 'H', 'KN', 'KR'))
    rng = np.random.default_rng(0)
    X = rng.standard_normal((K, P)); Y = rng.standard_normal(K)
    Xt = torch.from_numpy(X); Yt = torch.from_numpy(Y)

    def orfit_np():
        w = np.zeros(P); U = np.zeros((0, P))
        for k in range(K):
            x = X[k]; f = w @ x; res = f - Y[k]
            a = x.copy()
            at = a - U.T @ (U @ a); at = at - U.T @ (U @ at)
            n = np.linalg.norm(at)
            w = w - res * at / (a @ at)
            U = np.vstack([U, at / n])
        return w

    def orfit_torch():
        w = torch.zeros(P); U = torch.zeros((0, P))
        for k in range(K):
            x = Xt[k]; f = (w @ x).item(); res = f - Yt[k].item()
            a = x.clone()
            at = a - U.T @ (U @ a); at = at - U.T @ (U @ at)
            n = at.norm().item()
            w = w - at * (res / (a @ at).item())
            U = torch.cat([U, (at / n).unsqueeze(0)])
        return w

    def ipca_torch():
        w = torch.zeros(P); U = torch.zeros((0, P)); S = []
        for k in range(K):
            x = Xt[k]; f = (w @ x).item(); res = f - Yt[k].item()
            a = x.clone()
            at = a - U.T @ (U @ a); at = at - U.T @ (U @ at)
            n = at.norm().item()
            w = w - at * (res / (a @ at).item())
            u = at / n
            if U.shape[0] < M:
                U = torch.cat([U, u.unsqueeze(0)]); S.append(n)
                if U.shape[0] == M:
                    Us, Ss, _ = torch.linalg.svd((U.T * torch.tensor(S)), full_matrices=False)
                    U = Us.T.contiguous(); S = Ss.tolist()
            else:
                v = u * n; c = U @ v; resid = v - U.T @ c; rho = resid.norm().item(); up = resid / rho
                Kmat = torch.zeros(M + 1, M + 1); Kmat[:M, :M] = torch.diag(torch.tensor(S)); Kmat[:M, M] = c; Kmat[M, M] = rho
                Uk, Sk, _ = torch.linalg.svd(Kmat, full_matrices=False)
                U = (Uk.T @ torch.cat([U, up.unsqueeze(0)]))[:M].contiguous(); S = Sk[:M].tolist()
        return w

    def rls_torch():
        w = torch.zeros(P); Pm = torch.eye(P)
        for k in range(KR):
            x = Xt[k]; f = (w @ x).item()
            Pa = Pm @ x; den = 1.0 + (x @ Pa).item()
            w = w + Pa * ((Yt[k].item() - f) / den)
            Pm.addr_(Pa, Pa, beta=1, alpha=-1.0 / den)
        return w

    torch.manual_seed(0)
    W = torch.randn(H, D); V = torch.randn(H)
    XN = torch.from_numpy(rng.standard_normal((KN, D))); YN = torch.from_numpy(rng.standard_normal(KN))

    def nonlin_torch():
        Wp = W.clone().requires_grad_(); Vp = V.clone().requires_grad_()
        U = torch.zeros((0, H * D + H))
        for k in range(KN):
            out = (torch.tanh(XN[k:k+1] @ Wp.T / D ** 0.5) @ Vp / H ** 0.5).reshape(-1)
            gW, gV = torch.autograd.grad(out.sum(), [Wp, Vp])
            a = torch.cat([gW.reshape(-1), gV.reshape(-1)])
            res = out.item() - YN[k].item()
            at = a - U.T @ (U @ a); at = at - U.T @ (U @ at)
            n = at.norm().item()
            d = at * (-res / (a @ at).item())
            with torch.no_grad():
                Wp += d[:H * D].reshape(H, D); Vp += d[H * D:]
            U = torch.cat([U, (at / n).unsqueeze(0)])

    s = torch.ones(1)

    def add1000():
        for _ in range(1000): torch.add(s, s)

    # the NumPy and PyTorch streams compute the same w (checked by the bench)
    w_np, w_t = orfit_np(), orfit_torch()
    print(json.dumps({'threads': torch.get_num_threads(), 'npTorchGap': float(np.linalg.norm(w_np - w_t.numpy()) / np.linalg.norm(w_np))}), flush=True)
    answer(dict(orfit=orfit_torch, orfit_np=orfit_np, ipca=ipca_torch, rls=rls_torch, nonlin=nonlin_torch, add1000=add1000))
