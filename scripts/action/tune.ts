import * as torch from '../../src/core/torch/index.ts';
import { CrossModalTransformer, makeConfig } from '../../src/modules/action/model.ts';
import { makeSynthetic, makeBlobTask } from '../../src/modules/action/data.ts';
import { trainModel } from '../../src/modules/action/train.ts';
import { evaluateModel, offsetStats } from '../../src/modules/action/evaluate.ts';
const which = process.argv[2];
if (which === 'synth') {
  torch.manualSeed(0);
  const ds = makeSynthetic(Number(process.argv[3] ?? 96), 60, 1, { frames: 8, numClasses: 6 });
  const m = new CrossModalTransformer(makeConfig({ rgb: false, numClasses: 6, frames: 8, dim: 32, heads: 2, depth: 1, temporalStride: 2 }));
  const t0 = Date.now();
  const r = await trainModel(m, ds, { epochs: Number(process.argv[4] ?? 10), batchSize: 16, lr: 3e-3, augment: false });
  console.log(r.history.map((h) => h.loss.toFixed(3) + '/' + h.trainAcc.toFixed(2)).join(' '), Date.now() - t0, 'ms');
  console.log(evaluateModel(m, ds.test, ds).top1);
} else {
  for (const learn of [true, false]) {
    torch.manualSeed(0);
    const ds = makeBlobTask(Number(process.argv[3] ?? 64), 64, 3, {});
    const m = new CrossModalTransformer(makeConfig({ rgb: true, learnOffsets: learn, numClasses: 4, frames: 4, joints: 5, jointStride: 5, imgSize: 16, dim: 16, heads: 2, depth: 1, backboneChannels: [8], backboneStrides: [[1, 2, 2]], grid: [2, 2, 2], temporalStride: 1 }));
    const t0 = Date.now();
    const r = await trainModel(m, ds, { epochs: Number(process.argv[4] ?? 10), batchSize: 16, lr: 3e-3, augment: false, labelSmoothing: 0 });
    console.log(learn, r.history.map((h) => h.loss.toFixed(2) + '/' + h.trainAcc.toFixed(2)).join(' '), Date.now() - t0, 'ms');
    console.log('test', evaluateModel(m, ds.test, ds).top1, learn ? offsetStats(m, ds.test.slice(0, 16), ds) : '');
  }
}
