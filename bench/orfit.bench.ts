// ORFit per-sample update time, paperlab vs the same algorithm in PyTorch (and NumPy for the
// linear case) run by /usr/bin/python3 in the same process run. Float64 throughout.
import * as torch from '../src/core/torch/index.ts';
import type { BenchHelper } from './helper.ts';
import { Rng } from '../src/core/rng.ts';
import { LinearModel, ModuleModel, TanhMLP } from '../src/modules/orfit/models.ts';
import { ORFit, EWRLS, type StreamLearner } from '../src/modules/orfit/learners/index.ts';

const P = 784, K = 100, M = 10;
const D = 64, H = 256, KN = 60, KR = 30;

export default async function (h: BenchHelper): Promise<void> {
  const py = h.python(`
import numpy as np
torch.set_default_dtype(torch.float64)
P, K, M, D, H, KN, KR = ${P}, ${K}, ${M}, ${D}, ${H}, ${KN}, ${KR}
rng = np.random.default_rng(0)
X = rng.standard_normal((K, P)); Y = rng.standard_normal(K)
Xt = torch.from_numpy(X); Yt = torch.from_numpy(Y)
r = {}

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
r['orfit_np'] = bench(orfit_np, 2, 15) / K

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
r['orfit_torch'] = bench(orfit_torch, 2, 15) / K

def orfit_ipca_torch():
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
r['ipca_torch'] = bench(orfit_ipca_torch, 2, 15) / K

def rls_torch():
    w = torch.zeros(P); Pm = torch.eye(P)
    for k in range(KR):
        x = Xt[k]; f = (w @ x).item()
        Pa = Pm @ x; den = 1.0 + (x @ Pa).item()
        w = w + Pa * ((Yt[k].item() - f) / den)
        Pm.addr_(Pa, Pa, beta=1, alpha=-1.0 / den)
    return w
r['rls_torch'] = bench(rls_torch, 1, 5) / KR

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
r['nonlin_torch'] = bench(nonlin_torch, 1, 3) / KN
print(json.dumps(r))
`);

  const rng = new Rng(0);
  const X = torch.tensor(rng.normals(K * P), { shape: [K, P], dtype: 'float64' }).keep();
  const y = rng.normals(K);
  const xs = X.unbind(0).map((t) => t.keep());
  const stream = (make: () => StreamLearner, xsIn: torch.Tensor[], ys: Float64Array) => () => {
    const l = make();
    for (let k = 0; k < xsIn.length; k++) l.observe(xsIn[k]!, ys[k]!);
    l.dispose(); l.model.dispose();
  };
  const orfitMs = (await h.timeIt(stream(() => new ORFit(new LinearModel(P)), xs, y), { warmup: 2, reps: 15 })) / K;
  h.record({ name: `orfit: ORFit linear update p=${P}, K=${K}`, paperlabMs: orfitMs, referenceMs: py.orfit_torch!, note: 'per sample, unlimited memory (CGS2), vs PyTorch' });
  h.record({ name: `orfit: ORFit linear update p=${P}, K=${K} (NumPy)`, paperlabMs: orfitMs, referenceMs: py.orfit_np!, reference: 'NumPy', note: 'per sample, same algorithm in NumPy' });
  const ipcaMs = (await h.timeIt(stream(() => new ORFit(new LinearModel(P), { memory: M, rule: 'ipca' }), xs, y), { warmup: 2, reps: 15 })) / K;
  h.record({ name: `orfit: ORFit-IPCA update p=${P}, m=${M}`, paperlabMs: ipcaMs, referenceMs: py.ipca_torch!, note: 'per sample, general small-SVD (SKL) form' });
  const rlsMs = (await h.timeIt(
    stream(() => new EWRLS(new LinearModel(P), { lambda: 1, p0: 1 }), xs.slice(0, KR), y.subarray(0, KR)),
    { warmup: 1, reps: 5 },
  )) / KR;
  h.record({ name: `orfit: RLS update p=${P}`, paperlabMs: rlsMs, referenceMs: py.rls_torch!, note: `per sample, O(p²) covariance update (in-place addr_), K=${KR}` });

  const XN = torch.tensor(rng.normals(KN * D), { shape: [KN, D], dtype: 'float64' }).keep();
  const yN = rng.normals(KN);
  const xsN = XN.unbind(0).map((t) => t.keep());
  torch.manualSeed(0);
  const net = new TanhMLP(D, H);
  const w0 = new ModuleModel(net, [D]).getParams().keep();
  const nonlinMs = (await h.timeIt(() => {
    const model = new ModuleModel(net, [D]);
    model.setParams(w0);
    const l = new ORFit(model);
    for (let k = 0; k < KN; k++) l.observe(xsN[k]!, yN[k]!);
    l.dispose();
  }, { warmup: 1, reps: 3 })) / KN;
  h.record({ name: `orfit: ORFit tanh-MLP update p=${H * D + H}`, paperlabMs: nonlinMs, referenceMs: py.nonlin_torch!, note: `per sample incl. autograd Jacobian, K=${KN}` });
  torch.dispose(xs, X, XN, xsN, w0);
  net.dispose();
}
