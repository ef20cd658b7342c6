// nowcast: one training step (forward, masked weighted BCE with deep supervision, backward,
// clip by value, AdamW) of SIANet-S and the 3D U-Net baseline-S, against the same architectures
// written in PyTorch (bench/nowcast_ref.py) in the same run.
// Timing is interleaved (BenchHelper.interleave): blocks of our steps (`serve` below, in a child
// process through bench/serve.ts) alternate with blocks of reference steps in a long-lived Python
// process, with the same thread settings.
import * as torch from '../src/core/torch/index.ts';
import { buildModel, weightedBce, upsample, SMALL, clipGradValue } from '../src/modules/nowcast/index.ts';
import { median, type BenchHelper } from './helper.ts';
import type { Served } from './serve.ts';

const CFG = { geometry: SMALL, channels: 11, f: 8, depth: 4, dropout: 0.4, strHidden: 16, batch: 4 };

/** Our workloads (run in the child process): one training step of each model; hello has their parameter counts. */
export function serve(cfg: typeof CFG): Served {
  const fns: Record<string, () => void> = {}, hello: Record<string, number> = {};
  for (const kind of ['unet3d', 'sianet'] as const) {
    torch.manualSeed(0);
    const model = buildModel({
      model: kind, geometry: SMALL, inChannels: cfg.channels, startFilters: cfg.f, depth: cfg.depth, dropout: cfg.dropout, strHidden: cfg.strHidden,
    });
    model.train();
    const opt = new torch.optim.AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0.1, foreach: true }); // the multi-tensor AdamW, as nowcast trains
    const ho = SMALL.cropSize * SMALL.scale;
    const x = torch.randn([cfg.batch, cfg.channels, SMALL.tIn, SMALL.inSize, SMALL.inSize]).keep();
    const y = torch.rand([cfg.batch, 1, SMALL.tOut, ho, ho]).lt(0.2).to('float32').keep();
    const mask = torch.rand([cfg.batch, 1, SMALL.tOut, ho, ho]).lt(0.005).keep();
    const params = model.parameters();
    fns[kind] = () => torch.scope(() => {
      opt.zeroGrad();
      const out = model.forward(x);
      let loss = weightedBce(out.logits, y, mask, 4);
      if (out.early) loss = loss.add(weightedBce(upsample(out.early, SMALL.scale), y, mask, 4).mul(0.2));
      loss.backward();
      clipGradValue(params, 2);
      opt.step();
    });
    hello[`${kind}_params`] = model.numParameters();
  }
  return { hello, fns };
}

export default async function (h: BenchHelper): Promise<void> {
  const note = `S geometry (48² in, 8² block ×6, T 4→8), 11 ch, f=8, depth 4, STR width 16, batch ${CFG.batch}`;
  if (!h.hasPythonTorch()) { console.log('nowcast bench: python torch missing, skipped'); return; }
  const ref = h.referenceServer('nowcast_ref', CFG), mine = h.selfServer(import.meta.url, CFG);
  try {
    const [py, us] = [await ref.hello(), await mine.hello()];
    for (const kind of ['unet3d', 'sianet'] as const) {
      if (us[`${kind}_params`] !== py[`${kind}_params`]) {
        throw new Error(`nowcast bench: ${kind} parameter counts differ (ours ${us[`${kind}_params`]}, PyTorch ${py[`${kind}_params`]}): not the same architecture`);
      }
      const t = await h.interleave(mine, ref, kind, { rounds: 4, block: 4 });
      h.record({
        name: `nowcast: train step ${kind === 'sianet' ? 'SIANet-S' : 'baseline 3D U-Net-S'}`, paperlabMs: median(t.mine), referenceMs: median(t.theirs),
        note: `${note}; ${t.note}; ${us[`${kind}_params`]} params`,
      });
    }
  } finally {
    ref.close(); mine.close();
  }
}
