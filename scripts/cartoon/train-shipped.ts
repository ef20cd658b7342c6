// Trains the small CARTOONER that ships with the package (src/modules/cartoon/assets/) on the
// procedural photo/cartoon generator. Usage: node --import tsx scripts/cartoon/train-shipped.ts OUTDIR [stage1] [stage2]
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../src/core/torch/index.ts';
import { SyntheticSource } from '../../src/modules/cartoon/data.ts';
import { CartoonTrainer, DEFAULT_TRAIN, saveModel } from '../../src/modules/cartoon/train.ts';
torch.setNumThreads(Number(process.env.PAPERLAB_THREADS ?? 1));
const out = process.argv[2] ?? '/tmp/cartoon-train';
const s1 = Number(process.argv[3] ?? 500), s2 = Number(process.argv[4] ?? 250);
fs.mkdirSync(out, { recursive: true });
const seed = 7;
torch.manualSeed(seed);
const src = new SyntheticSource(64, 200, seed);
const tr = new CartoonTrainer({ ...DEFAULT_TRAIN, batch: Number(process.env.BATCH ?? 5), stage1Steps: s1, stage2Steps: s2, model: { channels: 32 } });
const t0 = Date.now();
for (let step = 0; step < s1 + s2; step++) {
  const stage = tr.stageOf(step);
  const rng = CartoonTrainer.stepRng(seed, step);
  const lvs = tr.levelsFor(rng, stage);
  const b = tr.drawBatch(src, rng, lvs);
  const l = tr.trainStep(b, rng, lvs, stage);
  torch.dispose(b);
  tr.step = step + 1;
  fs.appendFileSync(path.join(out, 'log.jsonl'), JSON.stringify({ step: step + 1, t: (Date.now() - t0) / 1000, ...l }) + '\n');
  if ((step + 1) % 50 === 0 || step + 1 === s1 + s2) {
    const on = tr.G.controller.abstractionOn;
    tr.G.controller.abstractionOn = stage === 2;
    saveModel(path.join(out, `model-${step + 1}.safetensors`), tr.G, { trainedOn: `procedural scenes (64 px, 200 scenes, seed ${seed}), ${step + 1} steps`, steps: step + 1 });
    tr.G.controller.abstractionOn = on;
  }
}
