// action: one training step (forward, label-smoothed CE, backward, grad-norm clip, AdamW) and one
// inference forward of the cross-modal 3D deformable transformer at a small size, against the same
// architecture in PyTorch (bench/action_ref.py) in the same run.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../src/core/torch/index.ts';
import { CrossModalTransformer, makeConfig, gridShape, trainStep } from '../src/modules/action/index.ts';
import type { BenchHelper } from './helper.ts';

export default async function (h: BenchHelper): Promise<void> {
  const B = 8;
  const cfg = makeConfig({
    numClasses: 6, joints: 25, frames: 16, imgSize: 32, dim: 32, heads: 4, depth: 2, mlpRatio: 2,
    backboneChannels: [16, 32], backboneStrides: [[1, 2, 2], [2, 2, 2]], jointStride: 5, temporalStride: 2,
  });
  const grid = gridShape(cfg);
  const note = `B=${B}, T=16, 32×32 RGB, 25 joints, D=32, L=2, grid ${grid.join('×')}`;
  if (!h.hasPythonTorch()) { console.log('action bench: python torch missing, skipped'); return; }
  const ref = fs.readFileSync(path.join(path.dirname(fileURLToPath(import.meta.url)), 'action_ref.py'), 'utf8');
  const py = h.python<{ step: number; forward: number; params: number }>(`${ref}\nCFG = json.loads('${JSON.stringify(cfg)}')\nprint(json.dumps(run(CFG, ${B}, ${JSON.stringify(grid)})))`);

  torch.manualSeed(0);
  const model = new CrossModalTransformer(cfg);
  if (model.numParameters() !== py.params) throw new Error(`action bench: parameter counts differ (ours ${model.numParameters()}, PyTorch ${py.params}): the reference is not the same architecture`);
  const opt = new torch.optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
  const pose = torch.randn([B, 16, 25, 3]).keep();
  const video = torch.rand([B, 3, 16, 32, 32]).keep();
  const labels = torch.arange(0, B, 1, { dtype: 'int64' }).remainder(6).keep();
  const step = await h.timeIt(() => trainStep(model, opt, { pose, video, labels }, 0.1, 1), { warmup: 3, reps: 15 });
  h.record({ name: 'action: train step (3D deformable transformer)', paperlabMs: step, referenceMs: py.step, note: `${note}; ${py.params} params` });
  model.eval();
  const fwd = await h.timeIt(() => torch.noGrad(() => torch.scope(() => { model.forward({ pose, video }).toTypedArray(); })), { warmup: 3, reps: 15 });
  h.record({ name: 'action: inference forward', paperlabMs: fwd, referenceMs: py.forward, note });
  torch.dispose(pose, video, labels);
  opt.dispose();
  model.dispose();
}
