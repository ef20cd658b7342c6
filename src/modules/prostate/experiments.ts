// The runs behind the commands (schemas in commands.ts, defaults in config.ts): each sets up its
// data (data.ts), calls the loops (train.ts, pretrain.ts) and the pipeline pieces (pipeline.ts),
// and writes its files, plots and summary.
import fs from 'node:fs';
import path from 'node:path';
import type { RunContext } from '../../core/context.ts';
import * as torch from '../../core/torch/index.ts';
import { UsageError } from '../../core/errors.ts';
import { lineChart, metricTitle, xTitle, declaredMetric } from '../../core/plots.ts';
import { train as trainCommand, pretrain as pretrainCommand } from './commands.ts';
import { CPU, QUICK, type AblationVariant } from './config.ts';
import { MNet, scaledWidths, FULL_WIDTHS, type MNetConfig } from './model.ts';
import { listCases, loadCase, resolveSource, type PicaiSource } from './picai.ts';
import { curvePlots } from './evaluation-runs.ts';
import { writePhantomDataset } from './phantoms.ts';
import { adcStats } from './preprocess.ts';
import { ensureData, split, loadPrepared, originalLabel, toNetCases } from './data.ts';
import { trainDetector, transferWeights } from './train.ts';
import { pretrainSSL } from './pretrain.ts';
import { detect as detectCases, evaluateDetections, writeDetection, overlayPng, saveModel, loadModel, runPipeline, summarize } from './pipeline.ts';
import { jsonSafe } from './evaluate.ts';
import { writeViewerVolumes } from './viewer-volumes.ts';
import type { Shape3 } from './ssl.ts';
import type {
  DataParams, DescribeParams, PhantomsParams, PretrainParams, TrainParams, DetectParams, AblationParams, DemoParams,
} from './commands.ts';

const parseShape = (s: string): Shape3 => s.split('x').map(Number) as Shape3;

/** The data of a run: the folder given (with --labels / --splits), or phantoms generated into the run folder. */
function dataRoot(p: DataParams, ctx: RunContext): PicaiSource {
  const [Z, Y, X] = parseShape(p.phantomShape);
  const [sz, sy, sx] = p.phantomSpacing.split('x').map(Number) as [number, number, number];
  return ensureData({ data: p.data, labels: p.labels, splits: p.splits, phantomDir: ctx.path('phantoms'), phantom: { cases: p.cases, dims: [X, Y, Z], spacing: [sx, sy, sz], seed: ctx.seed, lesionVoxels: CPU.data.lesionVoxels } }, ctx.log);
}

export function describe(p: DescribeParams, ctx: RunContext) {
  const widths = p.widthMult === 1 ? FULL_WIDTHS : scaledWidths(p.widthMult);
  const net = new MNet({ widths, inChannels: p.inChannels, numClasses: p.numClasses, fmu: p.fmu });
  const d = net.describe();
  for (const b of d.blocks) ctx.log(`${b.name.padEnd(12)} ${String(b.params).padStart(10)}`);
  ctx.log(`total ${d.total} parameters (analytic from the block tables: ${d.analytic})`);
  net.dispose();
  return { widths, total: d.total, analytic: d.analytic, matches: d.total === d.analytic, blocks: d.blocks };
}

export function phantoms(p: PhantomsParams, ctx: RunContext) {
  const out = p.dir ? path.resolve(p.dir) : ctx.path('phantoms');
  const [Z, Y, X] = parseShape(p.phantomShape);
  const [sz, sy, sx] = p.phantomSpacing.split('x').map(Number) as [number, number, number];
  const bar = ctx.progress(p.cases, 'phantoms');
  const r = writePhantomDataset(
    out,
    { cases: p.cases, dims: [X, Y, Z], spacing: [sx, sy, sz], seed: ctx.seed, positiveRate: p.positiveRate },
    () => bar.tick(),
  );
  bar.done();
  ctx.log(`wrote ${r.keys.length} cases (${r.positives} positive) to ${out}`);
  return { out, cases: r.keys.length, positives: r.positives, folds: r.folds.map((f) => f.length) };
}

export async function pretrain(p: PretrainParams, ctx: RunContext) {
  const root = dataRoot(p, ctx);
  const { train } = split(root, p.fold);
  const cases = loadPrepared(root, train);
  const nVal = Math.max(1, Math.round(cases.length * CPU.pretrain.valFraction));
  const net = new MNet({ widths: scaledWidths(p.widthMult), numClasses: 3, deepSupervision: false });
  const r = await pretrainSSL(net, cases.slice(nVal), cases.slice(0, nVal), {
    epochs: p.epochs, batchesPerEpoch: p.batchesPerEpoch, batch: p.batch, cube: parseShape(p.cube), cubesPerCase: p.cubesPerCase,
    lr: p.lr, patience: p.patience, seed: ctx.seed, ssl: { shuffleBoxes: p.shuffleBoxes, referenceQuirk: p.referenceQuirk },
  }, ctx);
  const file = ctx.path('pretrained.safetensors');
  torch.saveSafetensors(file, r.best, { widths: JSON.stringify(net.cfg.widths) });
  torch.dispose(r.best);
  await ctx.plot('pretrain_loss', lineChart(ctx.metrics.rows('pretrain').flatMap((row) => [{ epoch: row.epoch, mse: row.train_mse, set: 'train' }, { epoch: row.epoch, mse: row.val_mse, set: 'validation' }]), {
    x: 'epoch', y: 'mse', color: 'set', title: 'SSL restoration MSE', xTitle: 'epoch', yTitle: metricTitle({ ...declaredMetric(pretrainCommand.metrics, 'train_mse'), label: 'restoration MSE' }), colorTitle: 'set',
  }));
  net.dispose();
  const drop = 1 - r.bestVal / r.initialVal;
  ctx.log(`validation restoration MSE ${r.initialVal.toFixed(5)} → ${r.bestVal.toFixed(5)} (${(100 * drop).toFixed(1)}% lower)`);
  return { pretrained: file, initialValMSE: r.initialVal, bestValMSE: r.bestVal, relativeDrop: drop, epochs: r.history.length };
}

/** Copies the SSL weights of a pretrain run (folder or .safetensors) into the detector. */
function loadPretrained(net: MNet, where: string, ctx: RunContext): void {
  let f = path.resolve(where);
  if (fs.existsSync(f) && fs.statSync(f).isDirectory()) f = path.join(f, 'pretrained.safetensors');
  const { tensors } = torch.loadSafetensors(f);
  const copied = transferWeights(net, tensors);
  torch.dispose(tensors);
  ctx.log(`transferred ${copied.length} pre-trained tensors from ${f} (heads re-initialised)`);
}

export async function train(p: TrainParams, ctx: RunContext) {
  const root = dataRoot(p, ctx);
  const { train: trainKeys, test, missing } = split(root, p.fold);
  if (missing) ctx.log(`${missing} case(s) named by ${root.splits} are not in ${root.images} and are left out`);
  const bar = ctx.progress(trainKeys.length + test.length, 'load and resample');
  const trainCases = loadPrepared(root, trainKeys, () => bar.tick());
  const testCases = loadPrepared(root, test, () => bar.tick());
  bar.done();
  const stats = adcStats(trainCases);
  const config: Partial<MNetConfig> = { widths: scaledWidths(p.widthMult), variant: p.variant, fmu: p.fmu, inChannels: p.zonal ? 6 : 3 };
  const net = new MNet(config);
  if (p.pretrained && !ctx.resuming) loadPretrained(net, p.pretrained, ctx);
  const patch = parseShape(p.patch);
  const testNet = toNetCases(testCases, stats, { zonal: p.zonal });
  const r = await trainDetector(net, toNetCases(trainCases, stats, { zonal: p.zonal }), {
    iterations: p.iterations, iterationsPerEpoch: p.iterationsPerEpoch, batch: p.batch, patch, lr: p.lr, momentum: p.momentum,
    augment: { enabled: p.augment }, checkpointEvery: p.checkpointEvery, seed: ctx.seed, precision: p.precision,
    model: { config: net.cfg, adc: stats, zonal: p.zonal, patch },
  }, ctx, testNet);
  if (ctx.metrics.rows('validation').length > 1) {
    await ctx.plot('validation_dice', lineChart(ctx.metrics.rows('validation'), {
      x: 'epoch', y: 'val_dice_ma', title: 'online validation foreground Dice (moving average)', xTitle: 'epoch', yTitle: metricTitle({ ...declaredMetric(trainCommand.metrics, 'val_dice_ma'), scale: 'linear' }),
    }));
  }
  saveModel(ctx.path('model.safetensors'), net, { config: net.cfg, adc: stats, zonal: p.zonal, patch });
  await ctx.plot('train_loss', lineChart(ctx.metrics.rows('train'), { x: 'iteration', y: 'loss', title: 'training loss (0.5·focal + 0.5·CE, deep-supervised)', ...lossTitles() }));
  // held-out evaluation
  const labels = Object.fromEntries(testCases.map((c) => [c.key, originalLabel(c, root)]));
  const { metrics } = evaluateDetections(detectCases([net], testNet, { patch }), labels);
  ctx.writeJson('metrics.json', jsonSafe(metrics));
  await curvePlots(ctx, metrics);
  net.dispose();
  return { model: ctx.path('model.safetensors'), trainCases: trainKeys.length, testCases: test.length, finalLoss: r.losses.at(-1) ?? null, valDiceMA: r.valDiceMA, ...jsonSafe(summarize(metrics)) };
}

export async function detect(p: DetectParams, ctx: RunContext) {
  const root = resolveSource(p.data, p.labels, p.splits);
  const keys = p.fold === undefined ? listCases(root) : split(root, p.fold).test;
  const loaded = p.model.split(',').map((m) => loadModel(m.trim()));
  for (const [i, l] of loaded.entries()) if (l.checkpoint) ctx.log(`model ${i + 1}: the weights of a training checkpoint (its optimizer state is not used)`);
  const meta = loaded[0]!.meta;
  for (const l of loaded) if (l.meta.zonal !== meta.zonal || l.meta.patch.join() !== meta.patch.join()) throw new UsageError('ensemble members must share the input channels and patch size');
  const nets = loaded.map((l) => l.net);
  const bar = ctx.progress(keys.length, 'detect');
  const written: string[] = [];
  const preds: Record<string, number> = {};
  for (const k of keys) {
    ctx.throwIfAborted();
    const c = loadPrepared(root, [k])[0]!;
    // [recon] the ADC normalisation of the first member is used for the whole ensemble
    const [d] = detectCases(
      nets, toNetCases([c], meta.adc, { zonal: meta.zonal }),
      { patch: meta.patch, mirrorAxes: p.mirrorTTA ? [1, 2] : [] }, { mode: p.extraction },
    );
    written.push(...writeDetection(ctx.path('detections'), d!, p.format));
    preds[k] = d!.detection.reduce((m, v) => Math.max(m, v), 0);
    const lc = p.png || p.volumes ? loadCase(root, k) : null;
    if (p.volumes) written.push(...writeViewerVolumes(ctx.path('volumes'), lc!, p.format));
    if (p.png) {
      const { png } = await overlayPng(
        Float32Array.from(lc!.t2w.data as ArrayLike<number>), d!.detection, d!.shape,
        lc!.label ? Uint8Array.from(lc!.label.data as ArrayLike<number>) : null,
      );
      written.push(ctx.writeBytes(`png/${k}.png`, png));
    }
    bar.tick();
  }
  bar.done();
  for (const n of nets) n.dispose();
  ctx.writeJson('case_predictions.json', preds);
  return { cases: keys.length, files: written.length, detections: ctx.path('detections') };
}

export { evaluate, compareAlgorithms } from './evaluation-runs.ts';

/** The rows of the ablation table, in the order `ablation --variants` names them. */
const ABLATION_ROWS: Record<AblationVariant, { name: string; variant: MNetConfig['variant']; zonal: boolean; ssl: boolean }> = {
  mesh: { name: 'mesh + zonal (Z-nnMNet)', variant: 'mesh', zonal: true, ssl: false },
  '2d-only': { name: '2D-only', variant: '2d', zonal: true, ssl: false },
  '3d-only': { name: '3D-only', variant: '3d', zonal: true, ssl: false },
  'no-zonal': { name: 'mesh − zonal', variant: 'mesh', zonal: false, ssl: false },
  ssl: { name: 'mesh + zonal + SSL (Z-SSMNet)', variant: 'mesh', zonal: true, ssl: true },
};
const fmt = (v: unknown) => (typeof v === 'number' ? v.toFixed(3) : 'n/a');

export async function ablation(p: AblationParams, ctx: RunContext) {
  const root = dataRoot(p, ctx);
  const { train: trainKeys, test } = split(root, p.fold);
  const patch = parseShape(p.patch);
  const A = CPU.ablation;
  const variants = [...new Set(p.variants)].map((v) => ({ key: v, ...ABLATION_ROWS[v] }));
  const bar = ctx.progress(variants.length, 'ablation');
  const rows: Record<string, string | number | null>[] = [];
  for (const v of variants) {
    ctx.throwIfAborted();
    torch.manualSeed(ctx.seed);
    const r = await runPipeline(root, trainKeys, test, {
      widths: scaledWidths(p.widthMult), variant: v.variant, zonal: v.zonal, fmu: 'sub',
      train: {
        iterations: p.iterations, iterationsPerEpoch: Math.max(1, Math.floor(p.iterations / A.epochsPerRun)),
        batch: A.batch, patch, lr: p.lr, seed: ctx.seed,
      },
      pretrain: v.ssl ? {
        epochs: p.sslEpochs, batch: A.sslBatch, cube: patch, cubesPerCase: A.sslCubesPerCase,
        ssl: { shuffleBoxes: A.sslShuffleBoxes }, seed: ctx.seed,
      } : null,
      inferPatch: patch, mirrorTTA: false, baselines: rows.length === 0,
    }, null);
    const row = { variant: v.name, ...jsonSafe(summarize(r.metrics)), final_loss: r.finalLoss };
    // each row's detector, as detect takes it
    fs.mkdirSync(ctx.path('models'), { recursive: true });
    saveModel(ctx.path(`models/${v.key}.safetensors`), r.net, { config: r.net.cfg, adc: r.adc, zonal: v.zonal, patch });
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
}

export async function demo(p: DemoParams, ctx: RunContext) {
  const Q = QUICK;
  const root = ensureData({ phantomDir: ctx.path('phantoms'), phantom: { ...Q.phantom, dims: [...Q.phantom.dims], cases: p.cases, seed: ctx.seed } }, ctx.log);
  const { train: trainKeys, test } = split(root, Q.heldOut);
  const patch: Shape3 = [...Q.patch];
  const r = await runPipeline(root, trainKeys, test, {
    widths: scaledWidths(p.widthMult), variant: 'mesh', zonal: true, fmu: 'sub',
    train: {
      iterations: p.iterations, iterationsPerEpoch: Q.iterationsPerEpoch, batch: Q.batch, patch, lr: Q.lr,
      seed: ctx.seed, checkpointEvery: Q.checkpointEvery,
    },
    pretrain: null, inferPatch: patch, mirrorTTA: false, baselines: false,
  }, ctx);
  for (const d of r.detections) {
    writeDetection(ctx.path('detections'), d, 'nii.gz');
    const lc = loadCase(root, d.key);
    writeViewerVolumes(ctx.path('volumes'), lc, 'nii.gz');
    const { png, svg } = await overlayPng(
      Float32Array.from(lc.t2w.data as ArrayLike<number>), d.detection, d.shape,
      lc.label ? Uint8Array.from(lc.label.data as ArrayLike<number>) : null,
    );
    ctx.writeBytes(`png/${d.key}.png`, png);
    ctx.writeBytes(`png/${d.key}.svg`, Buffer.from(svg));
  }
  ctx.writeJson('metrics.json', jsonSafe(r.metrics));
  saveModel(ctx.path('model.safetensors'), r.net, { config: r.net.cfg, adc: r.adc, zonal: true, patch });
  await ctx.plot('train_loss', lineChart(ctx.metrics.rows('train'), { x: 'iteration', y: 'loss', title: 'training loss', ...lossTitles() }));
  await curvePlots(ctx, r.metrics);
  r.net.dispose();
  return { ...jsonSafe(summarize(r.metrics)), model: ctx.path('model.safetensors'), testCases: test.length, finalLoss: r.finalLoss, note: 'tiny phantom run; numbers are a smoke check, not a result' };
}

/** Axis titles of the training-loss plot, from the train command's declaration of train.loss (drawn on a linear axis). */
function lossTitles(): { xTitle: string; yTitle: string } {
  const m = declaredMetric(trainCommand.metrics, 'loss', 'train');
  return { xTitle: xTitle(m.x), yTitle: metricTitle(m, { log: false }) };
}
