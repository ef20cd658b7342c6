// The in-place form of the vectorized SGD step (optimizers.ts GradientDescent: x.add_(g, −η), the
// running mean by lerp_; oracles.ts: the noise added to ∇F in place) against the straightforward
// form (a new tensor per op: x.add(g, −η), avg.add(x.sub(avg), 1/(t+1))), and the deviation sweep
// against the same computation in PyTorch with the same seed (Ahn et al. 2022's stochastic setting:
// averaged SGD, 2R runs as one [2R, d] batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as torch from '../../../src/core/torch/index.ts';
import { spectrumQuadratic, stochasticGradient, sgdAveraged, sgdLast, measureDeviation } from '../../../src/modules/reproducibility/index.ts';

torch.setNumThreads(1);
type Tensor = torch.Tensor;
const F64 = { dtype: 'float64' as const };

test('in-place SGD (add_, lerp_) equals the straightforward form within rounding: last iterate and average', () => {
  const d = 10, B = 600, T = 80, lr = 0.7, delta = 0.3;
  const p = spectrumQuadratic({ eigenvalues: Array.from({ length: d }, (_, i) => i / (d - 1)), seed: 2, D: 1 });
  const o = stochasticGradient(delta);
  const live = torch.liveTensors();
  const plain = (avg: boolean): Tensor => torch.scope(() => {
    torch.manualSeed(4);
    let x = o.init(p, B), a = x.clone();
    for (let t = 0; t < T; t++) {
      x = x.add(p.grad(x).add(torch.randn([B, d], F64), delta / Math.sqrt(d)), -lr);
      a = t === 0 ? x.clone() : a.add(x.sub(a), 1 / (t + 1));
    }
    return avg ? a : x;
  });
  const fused = (avg: boolean): Tensor => torch.scope(() => {
    torch.manualSeed(4);
    const x0 = o.init(p, B);
    return (avg ? sgdAveraged(lr) : sgdLast(lr)).run(x0, (x) => o.grad(p, x, 0), T);
  });
  const [l0, l1, a0, a1] = [plain(false), fused(false), plain(true), fused(true)];
  // Rounding only: in-place and out-of-place kernels may differ by FMA contraction on another CPU or
  // build (measured 0 for both here); the steps are contractive (lr·λ ≤ 0.7), so such differences stay
  // at a few ulps of the iterate's scale instead of growing over the T steps.
  const within = (u: Tensor, v: Tensor, what: string) => {
    const scale = torch.scope(() => v.abs().max().item());
    const diff = torch.scope(() => u.sub(v).abs().max().item());
    assert.ok(diff <= 64 * Number.EPSILON * scale, `${what}: in-place vs plain ${diff} (scale ${scale})`);
  };
  within(l1, l0, 'last iterate');
  within(a1, a0, 'average');
  torch.dispose([l0, l1, a0, a1]);
  assert.equal(torch.liveTensors(), live, 'no tensors leaked');
  p.dispose();
});

test('the deviation sweep matches PyTorch with the same seed (same noise stream, mean deviations to 1e-9)', (t) => {
  const d = 10, R = 300, eps = 0.05, delta = 0.1, Ts = [50, 100];
  const p = spectrumQuadratic({ eigenvalues: Array.from({ length: d }, (_, i) => i / (d - 1)), seed: 0, D: 1 });
  const D = p.constants.D;
  const ours = Ts.map((T) => measureDeviation(sgdAveraged((D * D) / (eps * T)), p, stochasticGradient(delta), T, { pairs: R, seed: 1 }).mean);
  const arr = (x: Tensor) => JSON.stringify(Array.from(x.toFloat64Array()));
  const script = `
import json, torch
torch.set_num_threads(1); torch.set_default_dtype(torch.float64)
d, R, eps, delta, D = ${d}, ${R}, ${eps}, ${delta}, ${D}
H = torch.tensor(${arr(p.H)}).reshape(d, d); negG = -torch.tensor(${arr(p.g)}); u0 = torch.tensor(${arr(p.u0)})
def run(T):
    torch.manual_seed(1)
    lr = D * D / (eps * T); s = delta / d ** 0.5
    x = u0.expand(2 * R, d).clone(); avg = x.clone()
    for t in range(T):
        gr = torch.addmm(negG, x, H).add(torch.randn(2 * R, d), alpha=s)
        x = x.add(gr, alpha=-lr)
        avg = x.clone() if t == 0 else avg.add(x - avg, alpha=1.0 / (t + 1))
    return ((avg[:R] - avg[R:]) ** 2).sum(1).mean().item()
print(json.dumps([run(T) for T in ${JSON.stringify(Ts)}]))
`;
  p.dispose();
  const py = spawnSync('/usr/bin/python3', ['-c', script], { encoding: 'utf8' });
  if (py.status !== 0) { t.skip(`no torch in /usr/bin/python3: ${py.stderr.trim().split('\n').at(-1)}`); return; }
  const ref = JSON.parse(py.stdout.trim().split('\n').at(-1)!) as number[];
  ours.forEach((v, i) => assert.ok(Math.abs(v / ref[i]! - 1) <= 1e-9, `T=${Ts[i]}: ours ${v}, PyTorch ${ref[i]}`));
});
