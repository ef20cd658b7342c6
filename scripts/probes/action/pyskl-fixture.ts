// Probe: trains briefly on the PySKL-style fixture (test/fixtures/action/*.pkl) per stream and
// prints single- vs multi-clip test accuracy over seeds — the margins test/modules/action/pyskl.test.ts relies on.
//   node --import tsx scripts/probes/action/pyskl-fixture.ts [ntu3d_p2.pkl|coco2d_p2.pkl] [feats] [seeds]
import * as torch from '../../../src/core/torch/index.ts';
import { readPysklFile, pysklDataset } from '../../../src/modules/action/pyskl.ts';
import { CrossModalTransformer, configFor } from '../../../src/modules/action/model/index.ts';
import { trainModel } from '../../../src/modules/action/train.ts';
import { evaluateModel } from '../../../src/modules/action/evaluate.ts';
import { presets } from '../../../src/modules/action/config.ts';

const [name = 'ntu3d_p2.pkl', feats = 'j', seeds = '0,1,2'] = process.argv.slice(2);
const f = readPysklFile(`test/fixtures/action/${name}`);
for (const seed of seeds.split(',').map(Number)) {
  torch.manualSeed(seed);
  const ds = pysklDataset(f, 'xsub', { frames: 12, bodies: 2, feats: feats.split(',') });
  const k = Number(process.env.SCALE ?? 1);
  for (const s of [...ds.train, ...ds.test]) { s.sequence!.data = s.sequence!.data.map((x) => x * k); s.pose = s.pose.map((x) => x * k); }
  const m = new CrossModalTransformer(configFor(ds, { ...presets.quick.model }, false));
  const t0 = performance.now();
  const epochs = Number(process.env.EPOCHS ?? 20), lr = Number(process.env.LR ?? 5e-3);
  const r = await trainModel(m, ds, { epochs, batchSize: 6, lr, augment: false, labelSmoothing: 0, seed });
  const one = evaluateModel(m, ds.test, ds, false, { numClips: 1, average: 'prob' });
  const ten = evaluateModel(m, ds.test, ds, false, { numClips: 10, average: 'prob' });
  console.log(`${name} ${feats} seed ${seed}: loss ${r.history[0]!.loss.toFixed(3)} → ${r.lastLoss.toFixed(3)}, train acc ${r.history.at(-1)!.trainAcc.toFixed(2)}, test top-1 1 clip ${one.top1.toFixed(3)}, 10 clips ${ten.top1.toFixed(3)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  m.dispose();
}
