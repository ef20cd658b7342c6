// Loading weights users already have: a torch.save file the size of full-width SIANet (start width
// 64: 17.9 M float32 parameters, ~72 MB, 141 tensors) read into engine tensors by
// torch.loadStateDict (zip, safe unpickler, storages → tensors), against PyTorch's own
// torch.load(weights_only=False) of the same file. 3 alternating rounds of 5 reps per side.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, type BenchHelper } from './helper.ts';
import * as torch from '../src/core/torch/index.ts';

const ROUNDS = 3, REPS = 5;

export default async function (h: BenchHelper): Promise<void> {
  if (!h.hasPythonTorch()) { console.log('  (skipped: no python3-torch)'); return; }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pl-bench-ck-')), 'sianet64.pth');
  // 140 tensors summing to 17.9 M values, shapes like a U-Net's (a few large 3³ convs, many small vectors)
  h.python(`
import collections
g = torch.Generator().manual_seed(0)
sd = collections.OrderedDict()
for i in range(5):
    c = 32 * 2 ** i
    sd[f'down{i}.conv2.weight'] = torch.randn(c, c, 3, 3, 3, generator=g) * 0.01
    for j in range(26):
        sd[f'down{i}.v{j}'] = torch.randn(c, generator=g)
n = sum(t.numel() for t in sd.values())
sd['pad'] = torch.randn(max(1, 17_900_000 - n), generator=g)
torch.save(sd, ${JSON.stringify(file)})
print(json.dumps({'n': 0}))
`);
  const ours: number[] = [], ref: number[] = [], ratios: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const mine = await h.timeIt(() => { const { tensors } = torch.loadStateDict(file); torch.dispose(tensors); }, { warmup: 1, reps: REPS });
    const theirs = h.python<{ ms: number }>(`print(json.dumps({'ms': bench(lambda: torch.load(${JSON.stringify(file)}), warmup=1, reps=${REPS})}))`).ms;
    ours.push(mine); ref.push(theirs); ratios.push(mine / theirs);
  }
  const mb = (fs.statSync(file).size / 1e6).toFixed(0);
  h.record({
    name: 'checkpoints: load a 72 MB torch.save state dict',
    paperlabMs: median(ours), referenceMs: median(ref), reference: 'PyTorch torch.load (python3-torch)',
    note: `${mb} MB, 141 tensors; torch.loadStateDict (zip + safe unpickler + tensors) vs torch.load; ${ROUNDS} alternating rounds × ${REPS} reps, medians; per-round ratio range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}, ours ${Math.min(...ours).toFixed(0)}–${Math.max(...ours).toFixed(0)} ms, ref ${Math.min(...ref).toFixed(0)}–${Math.max(...ref).toFixed(0)} ms`,
  });
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}
