// ORFit per-sample update time, paperlab vs the same algorithm in PyTorch (and NumPy for the linear
// case), float64. Both sides run as long-lived child processes timed in interleaved blocks
// (BenchHelper.interleave), with the helper's thread count: ours is `serve` below (through
// bench/serve.ts), the reference bench/orfit_ref.py. One timed unit is a whole stream of K updates
// (a fresh learner each time); the rows divide by K. `add1000` (1,000 one-element adds, both sides)
// gives the per-op overhead in the same run: these tiny-tensor streams are bound by it.
import * as torch from '../src/core/torch/index.ts';
import { median, type BenchHelper } from './helper.ts';
import type { Served } from './serve.ts';
import { Rng } from '../src/core/rng.ts';
import { LinearModel, ModuleModel, TanhMLP } from '../src/modules/orfit/models.ts';
import { ORFit, EWRLS, type StreamLearner } from '../src/modules/orfit/learners/index.ts';

const CFG = { P: 784, K: 100, M: 10, D: 64, H: 256, KN: 60, KR: 30 };

/** Our workloads (run in the child process); hello reports the thread count for the check below. */
export function serve(cfg: typeof CFG): Served {
  const { P, K, M, D, H, KN, KR } = cfg;
  const rng = new Rng(0);
  const X = torch.tensor(rng.normals(K * P), { shape: [K, P], dtype: 'float64' }).keep();
  const y = rng.normals(K);
  const xs = X.unbind(0).map((t) => t.keep());
  const stream = (make: () => StreamLearner, n: number) => () => {
    const l = make();
    for (let k = 0; k < n; k++) l.observe(xs[k]!, y[k]!);
    l.dispose(); l.model.dispose();
  };
  const XN = torch.tensor(rng.normals(KN * D), { shape: [KN, D], dtype: 'float64' }).keep();
  const yN = rng.normals(KN);
  const xsN = XN.unbind(0).map((t) => t.keep());
  torch.manualSeed(0);
  const net = new TanhMLP(D, H);
  const w0 = new ModuleModel(net, [D]).getParams().keep();
  const nonlin = () => {
    const model = new ModuleModel(net, [D]);
    model.setParams(w0);
    const l = new ORFit(model);
    for (let k = 0; k < KN; k++) l.observe(xsN[k]!, yN[k]!);
    l.dispose();
  };
  const s = torch.ones([1]).keep();
  const orfit = stream(() => new ORFit(new LinearModel(P)), K);
  const fns = {
    orfit, orfit_np: orfit,
    ipca: stream(() => new ORFit(new LinearModel(P), { memory: M, rule: 'ipca' }), K),
    rls: stream(() => new EWRLS(new LinearModel(P), { lambda: 1, p0: 1 }), KR),
    nonlin,
    add1000: () => torch.scope(() => { for (let i = 0; i < 1000; i++) s.add(s); }),
  };
  return { hello: { threads: torch.getNumThreads() }, fns };
}

const ROWS: { fn: string; name: string; per: number; rounds: number; block: number; reference?: string; note: string }[] = [
  { fn: 'orfit', name: `orfit: ORFit linear update p=${CFG.P}, K=${CFG.K}`, per: CFG.K, rounds: 8, block: 6, note: 'per sample, unlimited memory (CGS2), vs PyTorch' },
  { fn: 'orfit_np', name: `orfit: ORFit linear update p=${CFG.P}, K=${CFG.K} (NumPy)`, per: CFG.K, rounds: 8, block: 6, reference: 'NumPy', note: 'per sample, same algorithm in NumPy' },
  { fn: 'ipca', name: `orfit: ORFit-IPCA update p=${CFG.P}, m=${CFG.M}`, per: CFG.K, rounds: 8, block: 6, note: 'per sample, general small-SVD (SKL) form' },
  { fn: 'rls', name: `orfit: RLS update p=${CFG.P}`, per: CFG.KR, rounds: 6, block: 4, note: `per sample, O(p²) covariance update (in-place addr_), K=${CFG.KR}` },
  { fn: 'nonlin', name: `orfit: ORFit tanh-MLP update p=${CFG.H * CFG.D + CFG.H}`, per: CFG.KN, rounds: 5, block: 3, note: `per sample incl. autograd Jacobian, K=${CFG.KN}` },
];

export default async function (h: BenchHelper): Promise<void> {
  if (!h.hasPythonTorch()) { console.log('  python torch missing: skipping orfit bench'); return; }
  const ref = h.referenceServer('orfit_ref', CFG), mine = h.selfServer(import.meta.url, CFG);
  try {
    const [py, us] = [await ref.hello<{ threads: number; npTorchGap: number }>(), await mine.hello<{ threads: number }>()];
    if (py.threads !== us.threads) throw new Error(`orfit bench: thread counts differ (ours ${us.threads}, PyTorch ${py.threads})`);
    if (!(py.npTorchGap < 1e-9)) throw new Error(`orfit bench: the NumPy and PyTorch references disagree (relative gap ${py.npTorchGap})`);
    const op = await h.interleave(mine, ref, 'add1000', { rounds: 6, block: 8 });
    const perOp = `per-op overhead in this run (1-element add): ours ${(median(op.mine)).toFixed(2)} µs, PyTorch ${(median(op.theirs)).toFixed(2)} µs`;
    for (const r of ROWS) {
      const t = await h.interleave(mine, ref, r.fn, { rounds: r.rounds, block: r.block });
      h.record({ name: r.name, paperlabMs: median(t.mine) / r.per, referenceMs: median(t.theirs) / r.per, reference: r.reference,
        note: [r.note, `${us.threads} thread(s) both sides`, t.note, perOp].join('; ') });
    }
  } finally {
    ref.close(); mine.close();
  }
}
