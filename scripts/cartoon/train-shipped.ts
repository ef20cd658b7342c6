// Maintained tool: trains the small CARTOONER that ships with the package
// (src/modules/cartoon/assets/cartooner-small.safetensors) on the procedural photo/cartoon generator,
// resumably. The exact command line of the shipped model is in src/modules/cartoon/README.md.
//
//   node --import tsx scripts/cartoon/train-shipped.ts OUTDIR [--stage1 N] [--stage2 N] [--init MODEL]
//        [--scenes N] [--seed S] [--augment] [--lr X] [--stage2-lr X] [--batch N] [--paired-grad W]
//
// Defaults: those of `paperlab cartoon train` (src/modules/cartoon/config.ts TRAIN: 500 + 250 steps,
// 200 scenes, lr 5e-4, 32 channels), except batch 5 (one sample per level) and seed 7.
//
// --init warm-starts the generator from a saved model (e.g. the previously shipped one; the critic and
// the optimisers start fresh). OUTDIR/checkpoints/last.{safetensors,json} holds the full trainer state
// (the core training kit's record: G, D, the three Adam states, step) every 25 steps: run the same
// command again to resume after an interruption.
// OUTDIR/model-<step>.safetensors are generator-only model files every 50 steps; log.jsonl (and
// log.csv) the losses, one row per step even across resumes.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../src/core/torch/index.ts';
import { SyntheticSource } from '../../src/modules/cartoon/data.ts';
import { CartoonTrainer, loadModel, saveModel, trainOptions } from '../../src/modules/cartoon/train.ts';
import { TRAIN } from '../../src/modules/cartoon/config.ts';
import { openRunContext } from '../../src/core/runner.ts';

torch.setNumThreads(Number(process.env.PAPERLAB_THREADS ?? 1));
const argv = process.argv.slice(2);
const out = argv[0] && !argv[0].startsWith('--') ? argv[0] : '/tmp/cartoon-train';
const opt = (name: string, dflt: string) => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : dflt; };
const flag = (name: string) => argv.includes(`--${name}`);
const s1 = Number(opt('stage1', String(TRAIN.stage1Steps))), s2 = Number(opt('stage2', String(TRAIN.stage2Steps)));
const seed = Number(opt('seed', '7'));
const scenes = Number(opt('scenes', String(TRAIN.scenes)));
const init = opt('init', '');
const augment = flag('augment');
fs.mkdirSync(out, { recursive: true });
torch.manualSeed(seed);
const src = new SyntheticSource(64, scenes, seed, { augment });
const lr = Number(opt('lr', String(TRAIN.lr)));
const tr = new CartoonTrainer(trainOptions({
  batch: Number(opt('batch', '5')), stage1Steps: s1, stage2Steps: s2,
  weights: { ...TRAIN.weights, pairedGrad: Number(opt('paired-grad', '0')) },
  lr, stage2Lr: Number(opt('stage2-lr', String(lr))),
}));
// OUTDIR is a run folder for the core training kit: OUTDIR/checkpoints/last.* is the whole trainer
const run = openRunContext(out, { resuming: true, seed });
const desc = `procedural scenes (64 px, ${scenes} scenes, seed ${seed}${augment ? ', photo augmentation' : ''})`;
let elapsed = 0;
const resumed = tr.restore(run.checkpoints);
if (resumed) {
  elapsed = Number(resumed.extra.elapsed ?? 0);
  // the command line's learning rates win over the saved ones (a resumed run may change them)
  tr.optG.lr = tr.o.lr; tr.optD.lr = tr.o.lr; tr.optA.lr = tr.o.stage2Lr ?? tr.o.lr;
  console.log(`resumed at step ${tr.step} (lr ${tr.o.lr}, stage-2 lr ${tr.optA.lr})`);
} else if (init) {
  const { model } = loadModel(init);
  tr.G.loadStateDict(model.stateDict());
  model.dispose();
  console.log(`generator warm-started from ${init}`);
}
const t0 = Date.now() - elapsed * 1000;
const saveCheckpoint = () => tr.save(run.checkpoints, { tag: 'last', extra: { elapsed: (Date.now() - t0) / 1000 } });
let stop = false;
process.on('SIGINT', () => { stop = true; });
process.on('SIGTERM', () => { stop = true; });
while (tr.step < s1 + s2 && !stop) {
  const step = tr.step;
  const stage = tr.stageOf(step);
  const l = tr.advance(src, seed);
  await new Promise((r) => setImmediate(r)); // lets SIGINT/SIGTERM through (saved below)
  run.metrics.log({ step: step + 1, t: (Date.now() - t0) / 1000, ...l }, 'log'); // OUTDIR/log.jsonl, cut back to the checkpoint on resume
  if ((step + 1) % 25 === 0 || step + 1 === s1) saveCheckpoint();
  if ((step + 1) % 50 === 0 || step + 1 === s1 + s2 || step + 1 === s1) {
    const on = tr.G.controller.abstractionOn;
    tr.G.controller.abstractionOn = stage === 2; // a stage-1 model is used with the unit off
    saveModel(path.join(out, `model-${step + 1}.safetensors`), tr.G, { trainedOn: `${desc}, ${step + 1} steps${init ? ` after warm start from ${path.basename(init)}` : ''}`, steps: step + 1 });
    tr.G.controller.abstractionOn = on;
  }
}
saveCheckpoint();
console.log(`stopped at step ${tr.step} after ${((Date.now() - t0) / 1000).toFixed(0)} s`);
tr.dispose();
run.close();
