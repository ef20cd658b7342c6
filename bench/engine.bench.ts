// Engine workloads of engine.md, paperlab vs PyTorch (python3-torch) in the same run.
// Timing is interleaved (BenchHelper.interleave): blocks of our workload (`serve` below, in a child
// process through bench/serve.ts) alternate with blocks of the same workload in a long-lived Python
// process (bench/engine_ref.py), both with the helper's thread count, so load drift on a shared
// machine hits both sides alike; each row's note gives the per-round spread of the ratio.
import * as torch from '../src/core/torch/index.ts';
import { median, type BenchHelper } from './helper.ts';
import type { Served } from './serve.ts';

/** Our workloads (run in the child process); hello reports the thread count for the check below. */
export function serve(): Served {
  const { F } = torch;
  torch.manualSeed(0);
  const x = torch.randn([8, 32, 64, 64], { requiresGrad: true }).keep();
  const w = torch.randn([32, 32, 3, 3], { requiresGrad: true }).keep();
  const x3 = torch.randn([2, 16, 16, 32, 32], { requiresGrad: true }).keep();
  const w3 = torch.randn([16, 16, 3, 3, 3], { requiresGrad: true }).keep();
  const a = torch.randn([1024, 1024]).keep(), b = torch.randn([1024, 1024]).keep();
  const s = torch.ones([1]).keep();
  const o64 = { dtype: 'float64' as const };
  const W1 = torch.randn([64, 32], o64).div(Math.sqrt(32)).requiresGrad_().keep();
  const W2 = torch.randn([1, 64], o64).div(8).requiresGrad_().keep();
  const X = torch.randn([256, 32], o64).keep(), Y = torch.randn([256, 1], o64).keep();
  const v1 = torch.randn([64, 32], o64).keep(), v2 = torch.randn([1, 64], o64).keep();
  const fns = {
    conv2d: () => torch.scope(() => { F.conv2d(x, w, null, { padding: 1 }).sum().backward(); x.grad = null; w.grad = null; }),
    conv3d: () => torch.scope(() => { F.conv3d(x3, w3, null, { padding: 1 }).sum().backward(); x3.grad = null; w3.grad = null; }),
    matmul: () => torch.scope(() => { a.matmul(b).toTypedArray(); }),
    add1000: () => torch.scope(() => { for (let i = 0; i < 1000; i++) s.add(s); }),
    hvp: () => torch.scope(() => {
      const loss = X.matmul(W1.t()).tanh().matmul(W2.t()).sub(Y).pow(2).mean();
      const g = torch.grad(loss, [W1, W2], { createGraph: true }) as torch.Tensor[];
      const dot = g[0]!.mul(v1).sum().add(g[1]!.mul(v2).sum());
      torch.grad(dot, [W1, W2]);
    }),
  };
  return { hello: { threads: torch.getNumThreads() }, fns };
}

const ROWS: { fn: string; name: string; rounds: number; block: number; per?: number; note?: string }[] = [
  { fn: 'conv2d', name: 'engine: conv2d fwd+bwd 8x32x64x64 k3', rounds: 6, block: 4 },
  { fn: 'conv3d', name: 'engine: conv3d fwd+bwd 2x16x16x32x32 k3', rounds: 6, block: 4 },
  { fn: 'matmul', name: 'engine: matmul 1024² float32 (incl. copy out)', rounds: 6, block: 6 },
  { fn: 'add1000', name: 'engine: per-op overhead (1-element add)', rounds: 8, block: 8, per: 1000, note: 'per call (blocks of 1,000 calls)' },
  { fn: 'hvp', name: 'engine: float64 HVP tanh MLP 32-64-1, n=256', rounds: 8, block: 60 },
];

export default async function (h: BenchHelper): Promise<void> {
  if (!h.hasPythonTorch()) { console.log('engine bench: python torch missing, skipped'); return; }
  const ref = h.referenceServer('engine_ref', {}), mine = h.selfServer(import.meta.url, {});
  try {
    const [py, us] = [await ref.hello<{ threads: number }>(), await mine.hello<{ threads: number }>()];
    if (py.threads !== us.threads) throw new Error(`engine bench: thread counts differ (ours ${us.threads}, PyTorch ${py.threads})`);
    for (const r of ROWS) {
      const t = await h.interleave(mine, ref, r.fn, { rounds: r.rounds, block: r.block });
      const per = r.per ?? 1;
      h.record({ name: r.name, paperlabMs: median(t.mine) / per, referenceMs: median(t.theirs) / per, note: [r.note, `${us.threads} thread(s) both sides`, t.note].filter(Boolean).join('; ') });
    }
  } finally {
    ref.close(); mine.close();
  }
}
