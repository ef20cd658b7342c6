import * as torch from '../../src/core/torch/index.ts';
import { SyntheticSource } from '../../src/modules/cartoon/data.ts';
import { CartoonTrainer, DEFAULT_TRAIN } from '../../src/modules/cartoon/train.ts';
torch.setNumThreads(1);
torch.manualSeed(0);
let t0 = Date.now();
const src = new SyntheticSource(64, 32, 1);
console.log('scenes', Date.now() - t0, 'ms');
const ch = Number(process.argv[2] ?? 32);
const tr = new CartoonTrainer({ ...DEFAULT_TRAIN, model: { channels: ch } });
console.log('params G', tr.G.numParameters(), 'D', tr.D.numParameters());
for (let s = 0; s < 8; s++) {
  const rng = CartoonTrainer.stepRng(0, s);
  const stage = s < 4 ? 1 : 2;
  const lv = tr.levelsFor(rng, stage);
  t0 = Date.now();
  const b = tr.drawBatch(src, rng, lv);
  const t1 = Date.now();
  const l = tr.trainStep(b, rng, lv, stage);
  torch.dispose(b);
  console.log(stage, 'batch', t1 - t0, 'step', Date.now() - t1, JSON.stringify(l), 'live', torch.liveTensors());
}
