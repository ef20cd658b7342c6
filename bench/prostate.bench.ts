// prostate: one training step (seven deep-supervised heads, 0.5·focal + 0.5·CE, backward,
// grad-norm clip 12, SGD Nesterov) and one inference forward of the full-width MNet on a small
// crop, against the same network in PyTorch (bench/prostate_ref.py) in the same run.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/core/torch/index.ts';
import { MNet } from '../src/modules/prostate/model.ts';
import { deepSupervisionLoss } from '../src/modules/prostate/losses.ts';
import type { BenchHelper } from './helper.ts';

export default async function (h: BenchHelper): Promise<void> {
  const B = 1;
  const shape = [8, 32, 32];
  const note = `full width (32..96), B=${B}, 6×${shape.join('×')} crop`;
  if (!h.hasPythonTorch()) { console.log('prostate bench: python torch missing, skipped'); return; }
  const ref = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'prostate_ref.py'), 'utf8');
  const py = h.python<{ step: number; forward: number; cpu_step: number; cpu_forward: number; params: number }>(`${ref}\nprint(json.dumps(run(${B}, ${JSON.stringify(shape)})))`);

  torch.manualSeed(0);
  const net = new MNet({});
  if (net.numParameters() !== py.params) throw new Error(`prostate bench: parameter counts differ (ours ${net.numParameters()}, PyTorch ${py.params})`);
  const opt = new torch.optim.SGD(net.parameters(), { lr: 0.01, momentum: 0.99, nesterov: true, weightDecay: 3e-5 });
  const x = torch.randn([B, 6, ...shape]).keep();
  const y = torch.scope(() => torch.rand([B, ...shape]).gt(0.9).to('int64')).keep();
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  let c0 = cpu();
  const step = await h.timeIt(() => torch.scope(() => {
    opt.zeroGrad();
    const l = deepSupervisionLoss(net.forward(x), y);
    l.backward();
    torch.optim.clipGradNorm(net.parameters(), 12);
    opt.step();
  }), { warmup: 1, reps: 4 });
  const cpuStep = (cpu() - c0) / 5; // CPU ms per call incl. warm-up, as the reference measures it
  h.record({ name: 'prostate: MNet train step (full width)', paperlabMs: step, referenceMs: py.step, note: `${note}; ${py.params} params; CPU-time ratio ${(cpuStep / py.cpu_step).toFixed(2)}` });
  net.eval();
  c0 = cpu();
  const fwd = await h.timeIt(() => torch.noGrad(() => torch.scope(() => { net.forward(x)[0]!.sum().item(); })), { warmup: 1, reps: 4 });
  const cpuFwd = (cpu() - c0) / 5;
  h.record({ name: 'prostate: MNet inference forward (full width)', paperlabMs: fwd, referenceMs: py.forward, note: `${note}; CPU-time ratio ${(cpuFwd / py.cpu_forward).toFixed(2)}` });
  torch.dispose(x, y);
  opt.dispose();
  net.dispose();
}
