// Module `prostate`: Z-SSMNet (zonal-aware self-supervised mesh network) for csPCa detection in
// bi-parametric MRI, with PI-CAI data conventions, MetaImage/NIfTI I/O, phantoms and the PI-CAI
// evaluation. Commands: describe, phantoms, pretrain, train, detect, evaluate, ablation, demo.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import type { RunContext } from '../../core/context.ts';
import * as torch from '../../core/torch/index.ts';
import { lineChart } from '../../core/plots.ts';
import { MNet, scaledWidths, analyticParamCount, FULL_WIDTHS, type MNetConfig } from './model.ts';
import { listCases, loadCase } from './picai.ts';
import { writePhantomDataset } from './phantoms.ts';
import { adcStats } from './preprocess.ts';
import { toNetCases, trainDetector, pretrainSSL, transferWeights, type LoopContext } from './train.ts';
import { detect, evaluateDetections, writeDetection, overlayPng, loadPrepared, originalLabel } from './pipeline.ts';
import { ensureData, split, saveModel, loadModel, runPipeline, summarize } from './experiments.ts';
import { readImage } from './picai.ts';
import { evaluateCase, aggregate, bootstrapCI, jsonSafe, type CaseEvaluation, type PicaiMetrics } from './evaluate.ts';
import type { Shape3 } from './ssl.ts';

// ------------------------------------------------------------------ shared parameters
const shapeParam = (def: string, what: string) => z.string().regex(/^\d+x\d+x\d+$/, 'must look like 16x64x64 (Z×Y×X)').default(def).describe(what);
const parseShape = (s: string): Shape3 => s.split('x').map(Number) as Shape3;

const dataParams = {
  data: z.string().default('').describe('PI-CAI folder (images/, labels/); empty = generate phantoms into the run folder').meta({ path: 'input' }),
  cases: z.number().int().min(5).max(5000).default(20).describe('phantom cases to generate when no data folder is given'),
  phantomShape: shapeParam('16x64x64', 'phantom T2W size Z×Y×X'),
  phantomSpacing: z.enum(['3.0x0.5x0.5', '3.6x0.3x0.3']).default('3.0x0.5x0.5').describe('phantom T2W spacing z×y×x in mm (3.6x0.3x0.3 exercises resampling)'),
  fold: z.number().int().min(0).max(4).default(0).describe('held-out fold (the other folds train)'),
};
type DataParams = { data: string; cases: number; phantomShape: string; phantomSpacing: string; fold: number };

function dataRoot(p: DataParams, ctx: RunContext): string {
  const [Z, Y, X] = parseShape(p.phantomShape);
  const [sz, sy, sx] = p.phantomSpacing.split('x').map(Number) as [number, number, number];
  return ensureData({ data: p.data, phantomDir: ctx.path('phantoms'), phantom: { cases: p.cases, dims: [X, Y, Z], spacing: [sx, sy, sz], seed: ctx.seed, lesionVoxels: [40, 400] } }, ctx.log);
}

const netParams = {
  widthMult: z.number().positive().max(1).default(0.25).describe('multiplier on the paper widths (32,48,64,80,96); 1 = full width'),
  variant: z.enum(['mesh', '2d', '3d']).default('mesh').describe('mesh network, or the 2D-only / 3D-only ablation'),
  zonal: z.boolean().default(true).describe('zonal awareness: append the one-hot zonal mask (6 input channels)'),
  fmu: z.enum(['sub', 'sum', 'cat']).default('sub').describe('feature merging unit: |a−b|, a+b or concatenation'),
};

async function curvePlots(ctx: RunContext, m: PicaiMetrics, prefix = ''): Promise<void> {
  const roc = m.curves.roc.filter((r) => Number.isFinite(r.fpr) && Number.isFinite(r.tpr)).map((r) => ({ fpr: r.fpr, tpr: r.tpr }));
  const pr = m.curves.pr.map((r) => ({ recall: r.recall, precision: r.precision }));
  const froc = m.curves.froc.map((r) => ({ fp_per_case: r.fpPerCase, sensitivity: r.sensitivity }));
  ctx.writeJson(`${prefix}curves.json`, jsonSafe({ roc: m.curves.roc, pr: m.curves.pr, froc: m.curves.froc }));
  if (roc.length > 1) await ctx.plot(`${prefix}roc`, lineChart(roc, { x: 'fpr', y: 'tpr', title: `ROC (AUROC ${m.auroc.toFixed(3)})` }));
  if (pr.length) await ctx.plot(`${prefix}pr`, lineChart(pr, { x: 'recall', y: 'precision', title: `PR (AP ${m.AP.toFixed(3)})` }));
  if (froc.length) await ctx.plot(`${prefix}froc`, lineChart(froc, { x: 'fp_per_case', y: 'sensitivity', title: 'FROC' }));
}

function loopCtx(ctx: RunContext): LoopContext { return ctx; }

// ------------------------------------------------------------------ commands
const describeCmd = defineCommand({
  name: 'describe',
  description: 'Print the MNet block table with parameter counts (full width must equal the analytic count)',
  params: z.object({
    widthMult: netParams.widthMult.default(1),
    inChannels: z.number().int().min(1).default(6).describe('input channels (6 = T2W, ADC, HBV + one-hot zones)'),
    numClasses: z.number().int().min(1).default(2).describe('output classes (2 detection, 3 SSL)'),
    fmu: netParams.fmu,
  }),
  run(p, ctx) {
    const widths = p.widthMult === 1 ? FULL_WIDTHS : scaledWidths(p.widthMult);
    const net = new MNet({ widths, inChannels: p.inChannels, numClasses: p.numClasses, fmu: p.fmu });
    const d = net.describe();
    for (const b of d.blocks) ctx.log(`${b.name.padEnd(12)} ${String(b.params).padStart(10)}`);
    ctx.log(`total ${d.total} parameters (analytic from the spec tables: ${d.analytic})`);
    net.dispose();
    return { widths, total: d.total, analytic: d.analytic, matches: d.total === d.analytic, blocks: d.blocks };
  },
});

const phantomsCmd = defineCommand({
  name: 'phantoms',
  description: 'Write seeded synthetic bpMRI phantoms as a PI-CAI folder (.mha images, .nii.gz labels, marksheet, folds)',
  params: z.object({
    dir: z.string().default('').describe('output folder (empty = <run>/phantoms)').meta({ path: 'output' }),
    cases: dataParams.cases,
    phantomShape: dataParams.phantomShape,
    phantomSpacing: dataParams.phantomSpacing,
    positiveRate: z.number().min(0).max(1).default(0.5).describe('fraction of csPCa-positive cases'),
  }),
  run(p, ctx) {
    const out = p.dir ? path.resolve(p.dir) : ctx.path('phantoms');
    const [Z, Y, X] = parseShape(p.phantomShape);
    const [sz, sy, sx] = p.phantomSpacing.split('x').map(Number) as [number, number, number];
    const bar = ctx.progress(p.cases, 'phantoms');
    const r = writePhantomDataset(out, { cases: p.cases, dims: [X, Y, Z], spacing: [sx, sy, sz], seed: ctx.seed, positiveRate: p.positiveRate }, () => bar.tick());
    bar.done();
    ctx.log(`wrote ${r.keys.length} cases (${r.positives} positive) to ${out}`);
    return { out, cases: r.keys.length, positives: r.positives, folds: r.folds.map((f) => f.length) };
  },
});

const pretrainCmd = defineCommand({
  name: 'pretrain',
  description: 'Self-supervised restoration pre-training (Models Genesis transformations) of MNet on unlabeled cubes',
  resumable: true,
  params: z.object({
    ...dataParams,
    widthMult: netParams.widthMult,
    epochs: z.number().int().min(1).default(20).describe('epochs (the paper: up to 1000 with early stopping)'),
    batchesPerEpoch: z.number().int().min(0).default(0).describe('batches per epoch (0 = ⌊#cubes / batch⌋ as the reference)'),
    batch: z.number().int().min(1).default(4).describe('cubes per batch (the paper: 24)'),
    cube: shapeParam('16x64x64', 'cube size Z×Y×X (the paper: 16x64x64)'),
    cubesPerCase: z.number().int().min(1).default(12).describe('random cubes per case'),
    lr: z.number().positive().default(0.1).describe('SGD learning rate (halved every 12 epochs)'),
    patience: z.number().int().min(1).default(20).describe('early stop after this many epochs without validation improvement'),
    shuffleBoxes: z.number().int().min(0).default(10000).describe('local-shuffle boxes per channel'),
    referenceQuirk: z.boolean().default(false).describe('reproduce the reference code: shuffled boxes copy channel 0'),
  }),
  async run(p, ctx) {
    const root = dataRoot(p, ctx);
    const { train } = split(root, p.fold);
    const cases = loadPrepared(root, train);
    const nVal = Math.max(1, Math.round(cases.length * 0.2));
    const net = new MNet({ widths: scaledWidths(p.widthMult), numClasses: 3, deepSupervision: false });
    const r = await pretrainSSL(net, cases.slice(nVal), cases.slice(0, nVal), {
      epochs: p.epochs, batchesPerEpoch: p.batchesPerEpoch || undefined, batch: p.batch, cube: parseShape(p.cube), cubesPerCase: p.cubesPerCase,
      lr: p.lr, patience: p.patience, seed: ctx.seed, ssl: { shuffleBoxes: p.shuffleBoxes, referenceQuirk: p.referenceQuirk },
    }, loopCtx(ctx));
    const file = ctx.path('pretrained.safetensors');
    torch.saveSafetensors(file, r.best, { widths: JSON.stringify(net.cfg.widths) });
    torch.dispose(r.best);
    await ctx.plot('pretrain_loss', lineChart(ctx.metrics.rows('pretrain').flatMap((row) => [{ epoch: row.epoch, mse: row.train_mse, set: 'train' }, { epoch: row.epoch, mse: row.val_mse, set: 'validation' }]), { x: 'epoch', y: 'mse', color: 'set', title: 'SSL restoration MSE' }));
    net.dispose();
    const drop = 1 - r.bestVal / r.initialVal;
    ctx.log(`validation restoration MSE ${r.initialVal.toFixed(5)} → ${r.bestVal.toFixed(5)} (${(100 * drop).toFixed(1)}% lower)`);
    return { pretrained: file, initialValMSE: r.initialVal, bestValMSE: r.bestVal, relativeDrop: drop, epochs: r.history.length };
  },
});

const trainCmd = defineCommand({
  name: 'train',
  description: 'Train the Z-nnMNet detector (0.5·focal + 0.5·CE, deep supervision, SGD Nesterov, poly LR) and evaluate on the held-out fold',
  resumable: true,
  params: z.object({
    ...dataParams,
    ...netParams,
    iterations: z.number().int().min(1).default(300).describe('training iterations (the paper: 500 epochs × 250)'),
    iterationsPerEpoch: z.number().int().min(1).default(50).describe('iterations per epoch (poly LR steps per epoch; nnU-Net: 250)'),
    batch: z.number().int().min(1).default(2).describe('patches per batch'),
    patch: shapeParam('16x64x64', 'patch size Z×Y×X'),
    lr: z.number().positive().default(0.01).describe('initial learning rate'),
    momentum: z.number().min(0).max(0.999).default(0.99).describe('Nesterov momentum'),
    augment: z.boolean().default(true).describe('nnU-Net-style spatial and intensity augmentation'),
    pretrained: z.string().default('').describe('SSL weights (pretrain run folder or .safetensors) to transfer; empty = random init').meta({ path: 'input' }),
    checkpointEvery: z.number().int().min(1).default(50).describe('iterations between resumable checkpoints'),
  }),
  async run(p, ctx) {
    const root = dataRoot(p, ctx);
    const { train, test } = split(root, p.fold);
    const bar = ctx.progress(train.length + test.length, 'load and resample');
    const trainCases = loadPrepared(root, train, () => bar.tick());
    const testCases = loadPrepared(root, test, () => bar.tick());
    bar.done();
    const stats = adcStats(trainCases);
    const config: Partial<MNetConfig> = { widths: scaledWidths(p.widthMult), variant: p.variant, fmu: p.fmu, inChannels: p.zonal ? 6 : 3 };
    const net = new MNet(config);
    if (p.pretrained && !ctx.resuming) {
      let f = path.resolve(p.pretrained);
      if (fs.existsSync(f) && fs.statSync(f).isDirectory()) f = path.join(f, 'pretrained.safetensors');
      const { tensors } = torch.loadSafetensors(f);
      const copied = transferWeights(net, tensors);
      torch.dispose(tensors);
      ctx.log(`transferred ${copied.length} pre-trained tensors from ${f} (heads re-initialised)`);
    }
    const patch = parseShape(p.patch);
    const r = await trainDetector(net, toNetCases(trainCases, stats, { zonal: p.zonal }), {
      iterations: p.iterations, iterationsPerEpoch: p.iterationsPerEpoch, batch: p.batch, patch, lr: p.lr, momentum: p.momentum,
      augment: { enabled: p.augment }, checkpointEvery: p.checkpointEvery, seed: ctx.seed,
    }, loopCtx(ctx), toNetCases(testCases, stats, { zonal: p.zonal }));
    if (ctx.metrics.rows('validation').length > 1) {
      await ctx.plot('validation_dice', lineChart(ctx.metrics.rows('validation'), { x: 'epoch', y: 'val_dice_ma', title: 'online validation foreground Dice (moving average)' }));
    }
    const meta = { config: net.cfg, adc: stats, zonal: p.zonal, patch };
    saveModel(ctx.path('model.safetensors'), net, meta);
    await ctx.plot('train_loss', lineChart(ctx.metrics.rows('train'), { x: 'iteration', y: 'loss', title: 'training loss (0.5·focal + 0.5·CE, deep-supervised)' }));
    // held-out evaluation
    const labels = Object.fromEntries(testCases.map((c) => [c.key, originalLabel(c, root)]));
    const dets = detect([net], toNetCases(testCases, stats, { zonal: p.zonal }), { patch });
    const { metrics } = evaluateDetections(dets, labels);
    ctx.writeJson('metrics.json', jsonSafe(metrics));
    await curvePlots(ctx, metrics);
    net.dispose();
    return { model: ctx.path('model.safetensors'), trainCases: train.length, testCases: test.length, finalLoss: r.losses.at(-1) ?? null, valDiceMA: r.valDiceMA, ...jsonSafe(summarize(metrics)) };
  },
});

const detectCmd = defineCommand({
  name: 'detect',
  description: 'Run a trained detector on cases: detection maps (.nii.gz or .mha) and PNG overlays',
  params: z.object({
    data: z.string().describe('PI-CAI folder with images/ and zonal masks').meta({ path: 'input' }),
    model: z.string().describe('train run folder or its model.safetensors; several, comma-separated, form an ensemble (mean softmax, e.g. the 5 fold models)').meta({ path: 'input', pathList: true }),
    fold: z.number().int().min(-1).max(4).default(-1).describe('fold to process (-1 = every case)'),
    format: z.enum(['nii.gz', 'mha']).default('nii.gz').describe('detection map file format'),
    mirrorTTA: z.boolean().default(false).describe('mirror test-time augmentation (in-plane axes)'),
    extraction: z.enum(['dynamic', 'dynamic-v2', 'dynamic-fast', 'static']).default('dynamic').describe('lesion-candidate extraction'),
    png: z.boolean().default(true).describe('write a PNG overlay per case'),
  }),
  positional: ['data', 'model'],
  async run(p, ctx) {
    const root = path.resolve(p.data);
    const keys = p.fold < 0 ? listCases(root) : split(root, p.fold).test;
    const loaded = p.model.split(',').map((m) => loadModel(m.trim()));
    const meta = loaded[0]!.meta;
    for (const l of loaded) if (l.meta.zonal !== meta.zonal || l.meta.patch.join() !== meta.patch.join()) throw new Error('ensemble members must share the input channels and patch size');
    const nets = loaded.map((l) => l.net);
    const bar = ctx.progress(keys.length, 'detect');
    const written: string[] = [];
    const preds: Record<string, number> = {};
    for (const k of keys) {
      ctx.throwIfAborted();
      const c = loadPrepared(root, [k])[0]!;
      // [recon] the ADC normalisation of the first member is used for the whole ensemble
      const [d] = detect(nets, toNetCases([c], meta.adc, { zonal: meta.zonal }), { patch: meta.patch, mirrorAxes: p.mirrorTTA ? [1, 2] : [] }, { mode: p.extraction });
      written.push(...writeDetection(ctx.path('detections'), d!, p.format));
      preds[k] = d!.detection.reduce((m, v) => Math.max(m, v), 0);
      if (p.png) {
        const lc = loadCase(root, k);
        const { png } = await overlayPng(Float32Array.from(lc.t2w.data as ArrayLike<number>), d!.detection, d!.shape, lc.label ? Uint8Array.from(lc.label.data as ArrayLike<number>) : null);
        written.push(ctx.writeBytes(`png/${k}.png`, png));
      }
      bar.tick();
    }
    bar.done();
    for (const n of nets) n.dispose();
    ctx.writeJson('case_predictions.json', preds);
    return { cases: keys.length, files: written.length, detections: ctx.path('detections') };
  },
});

const evaluateCmd = defineCommand({
  name: 'evaluate',
  description: 'PI-CAI evaluation of detection maps against labels: AUROC, AP, ranking score, ROC/PR/FROC, bootstrap CIs',
  params: z.object({
    data: z.string().describe('PI-CAI folder (labels are read from it)').meta({ path: 'input' }),
    detections: z.string().describe('folder holding <case>_detection_map.nii.gz (or .mha)').meta({ path: 'input' }),
    bootstrap: z.number().int().min(0).default(200).describe('bootstrap resamples for 95% CIs (0 = none)'),
  }),
  positional: ['data', 'detections'],
  async run(p, ctx) {
    const root = path.resolve(p.data), dir = path.resolve(p.detections);
    if (!fs.existsSync(dir)) throw new Error(`detections folder '${dir}' does not exist`);
    const files = fs.readdirSync(dir).filter((f) => /_detection_map\.(nii\.gz|nii|mha)$/.test(f)).sort();
    if (!files.length) throw new Error(`${dir}: no *_detection_map.nii.gz / .mha files`);
    const cases: Record<string, CaseEvaluation> = {};
    const bar = ctx.progress(files.length, 'evaluate');
    for (const f of files) {
      const key = f.replace(/_detection_map\..*$/, '');
      const det = readImage(path.join(dir, f));
      const lc = loadCase(root, key);
      if (det.dims.join() !== lc.t2w.dims.join()) throw new Error(`${f}: dims ${det.dims.join('x')} differ from the case's T2W ${lc.t2w.dims.join('x')}`);
      const lab = lc.label ? lc.label.data : new Uint8Array(det.data.length);
      cases[key] = evaluateCase(Float32Array.from(det.data as ArrayLike<number>), lab as ArrayLike<number>, [det.dims[2], det.dims[1], det.dims[0]], {}, f);
      bar.tick();
    }
    bar.done();
    const m = aggregate(cases);
    const ci = p.bootstrap ? bootstrapCI(cases, p.bootstrap, ctx.seed) : null;
    ctx.writeJson('metrics.json', jsonSafe({ ...m, ci }));
    await curvePlots(ctx, m);
    ctx.log(`AUROC ${m.auroc.toFixed(3)}  AP ${m.AP.toFixed(3)}  score ${m.score.toFixed(3)} over ${m.num_cases} cases, ${m.num_lesions} lesions`);
    return jsonSafe({ ...summarize(m), num_cases: m.num_cases, num_lesions: m.num_lesions, ci, sensitivity_at_fp: m.sensitivity_at_fp });
  },
});

const ablationCmd = defineCommand({
  name: 'ablation',
  description: 'Mesh vs 2D-only vs 3D-only, ±zonal, ±SSL on phantoms (phantom numbers say nothing about real-data performance)',
  params: z.object({
    ...dataParams,
    widthMult: netParams.widthMult.default(0.125),
    iterations: z.number().int().min(1).default(150).describe('training iterations per variant'),
    patch: shapeParam('16x64x64', 'patch size Z×Y×X'),
    sslEpochs: z.number().int().min(0).default(4).describe('SSL epochs for the +SSL variant (0 = skip it)'),
    lr: z.number().positive().default(0.01).describe('initial learning rate'),
  }),
  async run(p, ctx) {
    const root = dataRoot(p, ctx);
    const { train, test } = split(root, p.fold);
    const patch = parseShape(p.patch);
    const variants: { name: string; variant: MNetConfig['variant']; zonal: boolean; ssl: boolean }[] = [
      { name: 'mesh + zonal (Z-nnMNet)', variant: 'mesh', zonal: true, ssl: false },
      { name: '2D-only', variant: '2d', zonal: true, ssl: false },
      { name: '3D-only', variant: '3d', zonal: true, ssl: false },
      { name: 'mesh − zonal', variant: 'mesh', zonal: false, ssl: false },
      ...(p.sslEpochs > 0 ? [{ name: 'mesh + zonal + SSL (Z-SSMNet)', variant: 'mesh' as const, zonal: true, ssl: true }] : []),
    ];
    const bar = ctx.progress(variants.length, 'ablation');
    const rows: Record<string, string | number | null>[] = [];
    for (const v of variants) {
      ctx.throwIfAborted();
      torch.manualSeed(ctx.seed);
      const r = await runPipeline(root, train, test, {
        widths: scaledWidths(p.widthMult), variant: v.variant, zonal: v.zonal, fmu: 'sub',
        train: { iterations: p.iterations, iterationsPerEpoch: Math.max(1, Math.floor(p.iterations / 10)), batch: 2, patch, lr: p.lr, seed: ctx.seed },
        pretrain: v.ssl ? { epochs: p.sslEpochs, batch: 4, cube: patch, cubesPerCase: 4, ssl: { shuffleBoxes: 2000 }, seed: ctx.seed } : null,
        inferPatch: patch, mirrorTTA: false, baselines: rows.length === 0,
      }, null);
      const row = { variant: v.name, ...jsonSafe(summarize(r.metrics)), final_loss: r.finalLoss };
      rows.push(row);
      ctx.metrics.log(row, 'ablation');
      if (r.randomMetrics) {
        rows.push({ variant: 'baseline: frozen random weights', ...jsonSafe(summarize(r.randomMetrics)), final_loss: null });
        rows.push({ variant: 'baseline: intensity threshold', ...jsonSafe(summarize(r.thresholdMetrics!)), final_loss: null });
      }
      r.net.dispose();
      bar.tick();
    }
    bar.done();
    const table = ['| variant | AUROC | AP | score |', '|---|---|---|---|', ...rows.map((r) => `| ${r.variant} | ${fmt(r.auroc)} | ${fmt(r.AP)} | ${fmt(r.score)} |`)].join('\n');
    ctx.writeText('ablation.md', `${table}\n\nPhantom results: they check that the pipeline learns a planted signal and say nothing about real-data performance.\n`);
    ctx.log('\n' + table);
    return { rows };
  },
});
const fmt = (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : 'n/a');

const demoCmd = defineCommand({
  name: 'demo',
  description: 'A few-second end-to-end run: tiny phantoms → width-reduced Z-nnMNet → detection maps → PI-CAI metrics',
  quick: true,
  params: z.object({
    cases: z.number().int().min(5).max(200).default(16).describe('phantom cases (folds 0 and 1 are held out)'),
    iterations: z.number().int().min(1).default(60).describe('training iterations (lr 0.05, compressed schedule)'),
    widthMult: netParams.widthMult.default(0.125),
  }),
  async run(p, ctx) {
    const root = ensureData({ data: '', phantomDir: ctx.path('phantoms'), phantom: { cases: p.cases, dims: [32, 32, 8], seed: ctx.seed, lesionVoxels: [30, 120], positiveRate: 0.5 } }, ctx.log);
    const { train, test } = split(root, [0, 1]);
    const patch: Shape3 = [8, 32, 32];
    const r = await runPipeline(root, train, test, {
      widths: scaledWidths(p.widthMult), variant: 'mesh', zonal: true, fmu: 'sub',
      train: { iterations: p.iterations, iterationsPerEpoch: 10, batch: 2, patch, lr: 0.05, seed: ctx.seed, checkpointEvery: 20 },
      pretrain: null, inferPatch: patch, mirrorTTA: false, baselines: false,
    }, loopCtx(ctx));
    for (const d of r.detections) {
      writeDetection(ctx.path('detections'), d, 'nii.gz');
      const lc = loadCase(root, d.key);
      const { png } = await overlayPng(Float32Array.from(lc.t2w.data as ArrayLike<number>), d.detection, d.shape, lc.label ? Uint8Array.from(lc.label.data as ArrayLike<number>) : null);
      ctx.writeBytes(`png/${d.key}.png`, png);
    }
    ctx.writeJson('metrics.json', jsonSafe(r.metrics));
    await ctx.plot('train_loss', lineChart(ctx.metrics.rows('train'), { x: 'iteration', y: 'loss', title: 'training loss' }));
    await curvePlots(ctx, r.metrics);
    r.net.dispose();
    return { ...jsonSafe(summarize(r.metrics)), testCases: test.length, finalLoss: r.finalLoss, note: 'tiny phantom run; numbers are a smoke check, not a result' };
  },
});

registerModule({
  name: 'prostate',
  title: 'Z-SSMNet: csPCa detection in bpMRI',
  description: 'Zonal-aware self-supervised mesh network (MNet) for clinically significant prostate cancer detection, with PI-CAI I/O, phantoms and evaluation.',
  papers: ['Yuan et al., Z-SSMNet: Zonal-aware Self-supervised Mesh Network for Prostate Cancer Detection and Diagnosis with Bi-parametric MRI, arXiv 2212.05808 (CMIG 2025)'],
  commands: [describeCmd, phantomsCmd, pretrainCmd, trainCmd, detectCmd, evaluateCmd, ablationCmd, demoCmd],
});

// ------------------------------------------------------------------ public API
export { MNet, ConvBlock, Down, Up, fmu, analyticParamCount, scaledWidths, FULL_WIDTHS, deepSupervisionScales, DS_WEIGHTS, heInit } from './model.ts';
export type { MNetConfig, FMUMode } from './model.ts';
export { focalLoss, focalCE, deepSupervisionLoss, restorationLoss } from './losses.ts';
export { readMetaImage, writeMetaImage, encodeMetaImage, decodeMetaImage, ImageFormatError } from './metaimage.ts';
export { readNifti, writeNifti, encodeNifti, decodeNifti } from './nifti.ts';
export { readImage, writeImage, loadCase, listCases, readMarksheet, writeMarksheet, makeFolds, loadFolds, LAYOUT } from './picai.ts';
export type { Volume, ElementType, Grid } from './volume.ts';
export { resample, makeVolume } from './volume.ts';
export { makePhantomCase, writePhantomDataset } from './phantoms.ts';
export { prepareCase, normalizeSupervised, normalizeSSL, adcStats } from './preprocess.ts';
export { makeSSLSample, localPixelShuffle, randomBezierMap, inPaint, outPaint, randomFlips, oneHotZones } from './ssl.ts';
export { extractLesionCandidates, staticExtraction, removeOutsideGland, label26, cleanZonalMask } from './postprocess.ts';
export { evaluateCase, aggregate, auroc, lesionCurves, bootstrapCI, maxWeightAssignment } from './evaluate.ts';
export { trainDetector, pretrainSSL, predictCase, transferWeights, toNetCases } from './train.ts';
export { runPipeline, loadModel, saveModel } from './experiments.ts';
export { analyticParamCount as parameterCount };
