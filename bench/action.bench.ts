// action: one training step (forward, label-smoothed CE, backward, grad-norm clip, AdamW) and one
// inference forward of the cross-modal 3D deformable transformer at a small size, against the same
// architecture in PyTorch (bench/action_ref.py) in the same run.
// Timing is interleaved (BenchHelper.interleave): blocks of our runs (`serve` below, in a child
// process through bench/serve.ts) alternate with blocks of the reference's in a long-lived Python
// process, both with the helper's thread count.
import * as torch from '../src/core/torch/index.ts';
import { CrossModalTransformer, makeConfig, gridShape, trainStep } from '../src/modules/action/index.ts';
import type { ActionConfig } from '../src/modules/action/index.ts';
import { median, type BenchHelper } from './helper.ts';
import type { Served } from './serve.ts';

const B = 8;

function benchConfig(): ActionConfig {
  return makeConfig({
    numClasses: 6, joints: 25, frames: 16, imgSize: 32, dim: 32, heads: 4, depth: 2, mlpRatio: 2,
    backboneChannels: [16, 32], backboneStrides: [[1, 2, 2], [2, 2, 2]], jointStride: 5, temporalStride: 2,
  });
}

/** Our workloads (run in the child process): a training step and an inference forward; hello has the parameter count. */
export function serve(cfg: { model: ActionConfig; batch: number }): Served {
  const c = cfg.model, n = cfg.batch;
  torch.manualSeed(0);
  const model = new CrossModalTransformer(c);
  const opt = new torch.optim.AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
  const pose = torch.randn([n, c.frames, c.joints, c.coordDim]).keep();
  const video = torch.rand([n, 3, c.frames, c.imgSize, c.imgSize]).keep();
  const labels = torch.arange(0, n, 1, { dtype: 'int64' }).remainder(c.numClasses).keep();
  const fns = {
    step: () => trainStep(model, opt, { pose, video, labels }, 0.1, 1),
    forward: () => torch.noGrad(() => torch.scope(() => { model.eval(); model.forward({ pose, video }).toTypedArray(); model.train(); })),
  };
  return { hello: { params: model.numParameters(), threads: torch.getNumThreads() }, fns };
}

export default async function (h: BenchHelper): Promise<void> {
  const model = benchConfig(), grid = gridShape(model);
  const note = `B=${B}, T=16, 32×32 RGB, 25 joints, D=32, L=2, grid ${grid.join('×')}`;
  if (!h.hasPythonTorch()) { console.log('action bench: python torch missing, skipped'); return; }
  const cfg = { model, batch: B, grid };
  const ref = h.referenceServer('action_ref', cfg), mine = h.selfServer(import.meta.url, cfg);
  try {
    const [py, us] = [await ref.hello<{ params: number; threads: number }>(), await mine.hello<{ params: number; threads: number }>()];
    if (us.params !== py.params) throw new Error(`action bench: parameter counts differ (ours ${us.params}, PyTorch ${py.params}): the reference is not the same architecture`);
    if (us.threads !== py.threads) throw new Error(`action bench: thread counts differ (ours ${us.threads}, PyTorch ${py.threads})`);
    const step = await h.interleave(mine, ref, 'step', { rounds: 6, block: 5 });
    h.record({
      name: 'action: train step (3D deformable transformer)', paperlabMs: median(step.mine), referenceMs: median(step.theirs),
      note: `${note}; ${py.params} params; ${us.threads} thread(s) both sides; ${step.note}`,
    });
    const fwd = await h.interleave(mine, ref, 'forward', { rounds: 6, block: 6 });
    h.record({
      name: 'action: inference forward', paperlabMs: median(fwd.mine), referenceMs: median(fwd.theirs),
      note: `${note}; ${us.threads} thread(s) both sides; ${fwd.note}`,
    });
  } finally {
    ref.close(); mine.close();
  }
}
