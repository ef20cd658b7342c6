// The runs behind the commands: data set-up (a PI-CAI folder, or phantoms generated into the run),
// fold split, optional SSL pre-training, supervised training, detection on the held-out fold,
// PI-CAI evaluation, and the baselines reported beside it (frozen random weights, threshold).
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { saveSafetensors, loadSafetensors } from '../../core/torch/index.ts';
import { parseJson } from '../../core/errors.ts';
import { MNet, mnetConfig, scaledWidths, type MNetConfig } from './model.ts';
import { listCases, loadFolds } from './picai.ts';
import { writePhantomDataset, type PhantomDatasetOptions } from './phantoms.ts';
import { adcStats, type AdcStats, type Prepared } from './preprocess.ts';
import { toNetCases, trainDetector, pretrainSSL, transferWeights, type LoopContext, type TrainOptions, type PretrainOptions } from './train.ts';
import { detect, evaluateDetections, thresholdBaseline, originalLabel, loadPrepared, type Detection } from './pipeline.ts';
import { jsonSafe, type PicaiMetrics } from './evaluate.ts';
import type { Shape3 } from './ssl.ts';

export interface DataSpec {
  /** a PI-CAI folder; '' → generate phantoms into `phantomDir` */
  data: string;
  phantomDir: string;
  phantom: PhantomDatasetOptions;
}

/** Resolves the data folder, generating phantoms when none is given. */
export function ensureData(d: DataSpec, log?: (m: string) => void): string {
  if (d.data) {
    const root = path.resolve(d.data);
    if (!fs.existsSync(root)) throw new Error(`data folder '${root}' does not exist`);
    return root;
  }
  if (!fs.existsSync(path.join(d.phantomDir, 'images'))) {
    const r = writePhantomDataset(d.phantomDir, d.phantom);
    log?.(`wrote ${r.keys.length} phantom cases (${r.positives} positive) to ${d.phantomDir}`);
  }
  return d.phantomDir;
}

export interface SplitResult { train: string[]; test: string[]; folds: string[][] }

/** Held-out fold(s) `fold` form the test set; the others train. */
export function split(root: string, fold: number | number[], k = 5, seed = 0): SplitResult {
  const folds = loadFolds(root, k, seed);
  const held = typeof fold === 'number' ? [fold] : fold;
  for (const f of held) if (f < 0 || f >= folds.length) throw new Error(`fold ${f} does not exist (the data has ${folds.length} folds)`);
  const all = new Set(listCases(root));
  const test = held.flatMap((f) => folds[f]!).filter((c) => all.has(c));
  const train = folds.filter((_, i) => !held.includes(i)).flat().filter((c) => all.has(c));
  return { train, test, folds };
}

export interface SavedModel { config: MNetConfig; adc: AdcStats; zonal: boolean; patch: Shape3 }

export function saveModel(file: string, net: MNet, meta: SavedModel): void {
  saveSafetensors(file, net.stateDict(), { paperlab: JSON.stringify(meta) });
  fs.writeFileSync(file.replace(/\.safetensors$/, '.json'), JSON.stringify(meta, null, 1));
}

/** Loads a model saved by `train` (a .safetensors file or a run folder holding model.safetensors). */
export function loadModel(where: string): { net: MNet; meta: SavedModel } {
  let file = path.resolve(where);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'model.safetensors');
  if (!fs.existsSync(file)) throw new Error(`model '${file}' does not exist (pass the train run's folder or its model.safetensors)`);
  const metaFile = file.replace(/\.safetensors$/, '.json');
  if (!fs.existsSync(metaFile)) throw new Error(`${metaFile}: the model's configuration file is missing`);
  const meta = parseJson<SavedModel>(fs.readFileSync(metaFile, 'utf8'), metaFile);
  const net = new MNet(meta.config);
  const { tensors } = loadSafetensors(file);
  net.loadStateDict(tensors);
  torch.dispose(tensors);
  return { net, meta };
}

export interface PipelineOptions {
  widths: MNetConfig['widths'];
  variant: MNetConfig['variant'];
  zonal: boolean;
  fmu: MNetConfig['fmu'];
  train: Partial<TrainOptions>;
  /** SSL pre-training before supervised training (null = random init) */
  pretrain: Partial<PretrainOptions> | null;
  inferPatch: Shape3;
  mirrorTTA: boolean;
  baselines: boolean;
}

export interface PipelineResult {
  metrics: PicaiMetrics;
  randomMetrics?: PicaiMetrics;
  thresholdMetrics?: PicaiMetrics;
  finalLoss: number;
  net: MNet;
  detections: Detection[];
  adc: AdcStats;
  ssl?: { initialVal: number; bestVal: number };
}

function summarize(m: PicaiMetrics) {
  return { auroc: m.auroc, AP: m.AP, score: m.score };
}

/** Train on `train` cases, evaluate on `test` cases; the frozen-random and threshold baselines beside. */
export async function runPipeline(root: string, trainKeys: string[], testKeys: string[], o: PipelineOptions, ctx: LoopContext): Promise<PipelineResult> {
  const trainCases = loadPrepared(root, trainKeys);
  const testCases = loadPrepared(root, testKeys);
  const stats = adcStats(trainCases);
  const cfg = { inChannels: o.zonal ? 6 : 3, numClasses: 2, widths: o.widths, variant: o.variant, fmu: o.fmu, deepSupervision: true };
  const net = new MNet(cfg);
  let ssl: PipelineResult['ssl'];
  if (o.pretrain) {
    if (!o.zonal) throw new Error('SSL pre-training uses the 6-channel (zonal) input; turn zonal on');
    const sslNet = new MNet({ ...cfg, numClasses: 3, deepSupervision: false });
    const nVal = Math.max(1, Math.round(trainCases.length * 0.2));
    const r = await pretrainSSL(sslNet, trainCases.slice(nVal), trainCases.slice(0, nVal), o.pretrain, null);
    const copied = transferWeights(net, r.best);
    ctx?.log(`SSL: restoration MSE ${r.initialVal.toFixed(4)} → ${r.bestVal.toFixed(4)}; transferred ${copied.length} tensors`);
    ssl = { initialVal: r.initialVal, bestVal: r.bestVal };
    torch.dispose(r.best);
    sslNet.dispose();
  }
  const trainNet = toNetCases(trainCases, stats, { zonal: o.zonal });
  const testNet = toNetCases(testCases, stats, { zonal: o.zonal });
  const randomNet = o.baselines ? new MNet(cfg) : null;
  const { losses } = await trainDetector(net, trainNet, o.train, ctx);
  const labels: Record<string, Uint8Array | null> = Object.fromEntries(testCases.map((c) => [c.key, originalLabel(c, root)]));
  const infer = { patch: o.inferPatch, mirrorAxes: o.mirrorTTA ? [1, 2] : [] };
  const dets = detect([net], testNet, infer);
  const metrics = evaluateDetections(dets, labels).metrics;
  const out: PipelineResult = { metrics, finalLoss: mean(losses.slice(-10)), net, detections: dets, adc: stats, ssl };
  if (randomNet) {
    out.randomMetrics = evaluateDetections(detect([randomNet], testNet, infer), labels).metrics;
    randomNet.dispose();
    out.thresholdMetrics = evaluateDetections(testCases.map((c) => ({ key: c.key, detection: thresholdBaseline(c), shape: [c.original.dims[2], c.original.dims[1], c.original.dims[0]] as [number, number, number] })), labels).metrics;
  }
  ctx?.log(`held-out: ${JSON.stringify(jsonSafe(summarize(metrics)))}` + (out.randomMetrics ? `; frozen random ${JSON.stringify(jsonSafe(summarize(out.randomMetrics)))}; threshold ${JSON.stringify(jsonSafe(summarize(out.thresholdMetrics!)))}` : ''));
  return out;
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);

export { scaledWidths, mnetConfig, summarize };
export type { Prepared, Tensor };
