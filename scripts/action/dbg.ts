import * as torch from '../../src/core/torch/index.ts';
import { CrossModalTransformer, makeConfig, makeSynthetic, trainModel } from '../../src/modules/action/index.ts';
import { testContext, tmpDir } from '../../test/modules/action/helpers.ts';
const ds = makeSynthetic(24, 6, 2, { frames: 4, numClasses: 3, imgSize: 8 });
const cfg = makeConfig({ numClasses: 3, frames: 4, dim: 8, heads: 2, depth: 1, imgSize: 8, backboneChannels: [4], backboneStrides: [[1, 2, 2]], grid: [2, 2, 2] });
const opts = { epochs: Number(process.argv[2] ?? 3), batchSize: 8, lr: 3e-3, seed: 7, augment: process.argv[3] !== 'noaug' };
torch.manualSeed(5);
const full = new CrossModalTransformer(cfg);
await trainModel(full, ds, opts, testContext(tmpDir()));
torch.manualSeed(5);
const full2 = new CrossModalTransformer(cfg);
await trainModel(full2, ds, opts, testContext(tmpDir()));
const dir = tmpDir();
torch.manualSeed(5);
const a = new CrossModalTransformer(cfg);
await trainModel(a, ds, { ...opts, epochs: opts.epochs - 1 }, testContext(dir));
torch.manualSeed(99);
const b = new CrossModalTransformer(cfg);
await trainModel(b, ds, opts, testContext(dir, { resuming: true }));
const sf = full.stateDict(), sb = b.stateDict(), s2 = full2.stateDict();
for (const k of Object.keys(sf)) {
  const d = torch.scope(() => sf[k]!.sub(sb[k]!).abs().max().item());
  const d2 = torch.scope(() => sf[k]!.sub(s2[k]!).abs().max().item());
  if (d > 0 || d2 > 0) console.log(k, d, d2);
}
