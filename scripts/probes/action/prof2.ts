// Probe (one-off): the backbone's ops (conv3d, batch norm), ours vs PyTorch: shows the cost of fresh
// allocations in the engine. Needs python3 with torch.
// Usage (from the repository root): node --import tsx scripts/probes/action/prof2.ts
import * as torch from '../../../src/core/torch/index.ts';
import { BenchHelper } from '../../../bench/helper.ts';
const h = new BenchHelper();
const F = torch.F;
torch.manualSeed(0);
const x = torch.rand([8, 3, 16, 32, 32]).keep();
const w1 = torch.randn([16, 3, 3, 3, 3]).keep(), b1 = torch.randn([16]).keep();
const x2 = torch.rand([8, 16, 16, 16, 16]).keep();
const w2 = torch.randn([32, 16, 3, 3, 3]).keep(), b2 = torch.randn([32]).keep();
const rm = torch.zeros([16]).keep(), rv = torch.ones([16]).keep();
const t = async (name: string, f: () => unknown) => console.log(
  name, (await h.timeIt(() => torch.noGrad(() => torch.scope(f)), { warmup: 2, reps: 7 })).toFixed(2),
);
await t('conv1', () => F.conv3d(x, w1, b1, { stride: [1, 2, 2], padding: 1 }));
await t('conv2', () => F.conv3d(x2, w2, b2, { stride: [2, 2, 2], padding: 1 }));
await t('bn', () => F.batchNorm(x2, rm, rv, null, null, false));
await t('conv1-nobias', () => F.conv3d(x, w1, null, { stride: [1, 2, 2], padding: 1 }));
const py = h.python(`
import torch.nn.functional as F
torch.manual_seed(0)
x = torch.rand(8,3,16,32,32); w1 = torch.randn(16,3,3,3,3); b1 = torch.randn(16)
x2 = torch.rand(8,16,16,16,16); w2 = torch.randn(32,16,3,3,3); b2 = torch.randn(32)
rm = torch.zeros(16); rv = torch.ones(16)
r = {}
with torch.no_grad():
    r['conv1'] = bench(lambda: F.conv3d(x, w1, b1, stride=(1,2,2), padding=1), 2, 7)
    r['conv2'] = bench(lambda: F.conv3d(x2, w2, b2, stride=(2,2,2), padding=1), 2, 7)
    r['bn'] = bench(lambda: F.batch_norm(x2, rm, rv, None, None, False), 2, 7)
print(json.dumps(r))
`);
console.log(py);
