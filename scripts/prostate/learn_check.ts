// Ad-hoc check: does a width-reduced Z-nnMNet learn the planted lesions of tiny phantoms?
import fs from 'node:fs';
import * as torch from '../../src/core/torch/index.ts';
import { writePhantomDataset } from '../../src/modules/prostate/phantoms.ts';
import { runPipeline } from '../../src/modules/prostate/experiments.ts';
import { listCases } from '../../src/modules/prostate/picai.ts';
const it = Number(process.argv[2] ?? 100), lr = Number(process.argv[3] ?? 0.01), mult = Number(process.argv[4] ?? 0.125);
const root = '/tmp/pl_learn';
if (!fs.existsSync(root)) writePhantomDataset(root, { cases: 24, dims: [32, 32, 8], seed: 1, lesionVoxels: [30, 120], positiveRate: 0.5 });
const keys = listCases(root);
torch.manualSeed(0);
const t = Date.now();
const r = await runPipeline(root, keys.slice(0, 16), keys.slice(16), {
  widths: [4, 6, 8, 10, 12].map((w) => Math.max(1, Math.round(w * mult / 0.125))) as any, variant: 'mesh', zonal: true, fmu: 'sub',
  train: { iterations: it, iterationsPerEpoch: 10, batch: 2, patch: [8, 32, 32], lr, seed: 0 },
  pretrain: null, inferPatch: [8, 32, 32], mirrorTTA: false, baselines: true,
}, null);
console.log('ms', Date.now() - t, 'loss', r.finalLoss, r.metrics.auroc, r.metrics.AP, 'random', r.randomMetrics!.auroc, r.randomMetrics!.AP, 'thr', r.thresholdMetrics!.auroc, r.thresholdMetrics!.AP);
console.log(JSON.stringify(r.metrics.lesion_results));
