// The end-to-end pieces the commands share: detect (softmax → detection map → zonal filter),
// evaluate, write detection maps (.nii.gz / .mha) and PNG overlays, the trivial intensity-threshold
// baseline, saving and loading a trained detector, and runPipeline — optional SSL pre-training,
// supervised training, detection on held-out cases and PI-CAI evaluation, with the baselines
// (frozen random weights, threshold) beside it.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import { imageGridSvg } from '../../core/image-grid.ts';
import { svgToPng } from '../../core/plots.ts';
import { parseJson, InputFileError, NotFoundError } from '../../core/errors.ts';
import { CHECKPOINT_FORMAT, modelTensorsOf } from '../../core/train/index.ts';
import { writeImage } from './picai.ts';
import { toOriginalGrid, adcStats, type AdcStats, type Prepared } from './preprocess.ts';
import { extractLesionCandidates, removeOutsideGland, type ExtractionOptions } from './postprocess.ts';
import { evaluateCase, aggregate, jsonSafe, type CaseEvaluation, type PicaiMetrics } from './evaluate.ts';
import { predictCase, type InferOptions } from './infer.ts';
import { loadPrepared, originalLabel, toNetCases, type NetCase } from './data.ts';
import type { DataRoot } from './picai.ts';
import { trainDetector, transferWeights, type LoopContext, type TrainOptions } from './train.ts';
import { pretrainSSL, type PretrainOptions } from './pretrain.ts';
import { makeVolume, resample, toFloat32, type Grid } from './volume.ts';
import { MNet, type MNetConfig } from './model.ts';
import { loadTorchMNet } from './weights.ts';
import type { Shape3 } from './ssl.ts';

export interface Detection {
  key: string;
  /** csPCa probability on the original T2W grid, [Z, Y, X] */
  softmax: Float32Array;
  /** detection map on the original T2W grid */
  detection: Float32Array;
  grid: Grid;
  shape: [number, number, number];
}

/** Original-grid zones (nearest) of a prepared case. */
function originalZones(c: Prepared): Uint8Array {
  if (c.grid.dims.join() === c.original.dims.join()) return c.zones;
  const v = makeVolume(c.grid.dims, { data: c.zones, spacing: c.grid.spacing, origin: c.grid.origin, direction: c.grid.direction });
  return Uint8Array.from(resample(v, c.original, 'nearest').data as ArrayLike<number>);
}

/** Softmax → lesion candidates → zonal constraint, on the original T2W grid. */
export function softmaxToDetection(P: Float32Array, c: Prepared, o: ExtractionOptions & { zonalFilter?: boolean } = {}): Float32Array {
  const shape = [c.original.dims[2], c.original.dims[1], c.original.dims[0]] as [number, number, number];
  const det = extractLesionCandidates(P, shape, o);
  return o.zonalFilter === false ? det : removeOutsideGland(det, originalZones(c), shape);
}

export function detect(
  nets: MNet[],
  cases: NetCase[],
  infer: InferOptions,
  extraction: ExtractionOptions & { zonalFilter?: boolean } = {},
  onCase?: () => void,
): Detection[] {
  return cases.map((c) => {
    const p = toOriginalGrid(predictCase(nets, c, infer), c.prepared);
    for (let i = 0; i < p.length; i++) p[i] = Math.min(1, Math.max(0, p[i]!));
    const det = softmaxToDetection(p, c.prepared, extraction);
    onCase?.();
    const g = c.prepared.original;
    return { key: c.key, softmax: p, detection: det, grid: g, shape: [g.dims[2], g.dims[1], g.dims[0]] };
  });
}

/**
 * Trivial baseline reported beside the network: a voxel's score is how far it is
 * into the "csPCa direction" of the raw intensities — high HBV and low ADC, z-scored inside the
 * gland and squashed by a logistic — followed by the same extraction and zonal filter.
 */
export function thresholdBaseline(c: Prepared, o: ExtractionOptions = {}): Float32Array {
  const toOrig = (a: Float32Array) => toOriginalGrid(a, c);
  const stats = (a: Float32Array) => {
    let s = 0, s2 = 0, n = 0;
    for (let i = 0; i < a.length; i++) if (c.zones[i]) { s += a[i]!; s2 += a[i]! ** 2; n++; }
    const m = s / Math.max(1, n);
    return [m, Math.sqrt(Math.max(1e-9, s2 / Math.max(1, n) - m * m))] as const;
  };
  const [ma, sa] = stats(c.images[1]), [mh, sh] = stats(c.images[2]);
  const score = new Float32Array(c.images[0].length);
  for (let i = 0; i < score.length; i++) {
    const z = ((c.images[2][i]! - mh) / sh - (c.images[1][i]! - ma) / sa) / 2;
    score[i] = c.zones[i] ? 1 / (1 + Math.exp(-(z - 2) * 2)) : 0;
  }
  return softmaxToDetection(toOrig(score), c, o);
}

export function evaluateDetections(
  dets: { key: string; detection: Float32Array; shape: [number, number, number] }[],
  labels: Record<string, Uint8Array | null>,
): { metrics: PicaiMetrics; cases: Record<string, CaseEvaluation> } {
  const cases: Record<string, CaseEvaluation> = {};
  for (const d of dets) {
    const lab = labels[d.key] ?? new Uint8Array(d.detection.length);
    cases[d.key] = evaluateCase(d.detection, lab, d.shape, {}, d.key);
  }
  return { metrics: aggregate(cases), cases };
}

/** Writes the detection map (and softmax) of a case as .nii.gz or .mha on the T2W grid. */
export function writeDetection(dir: string, d: Detection, format: 'nii.gz' | 'mha' = 'nii.gz'): string[] {
  const files: string[] = [];
  const vol = (data: Float32Array) => makeVolume(d.grid.dims, { data, spacing: d.grid.spacing, origin: d.grid.origin, direction: d.grid.direction });
  for (const [name, data] of [['detection_map', d.detection], ['softmax', d.softmax]] as const) {
    const f = path.join(dir, `${d.key}_${name}.${format}`);
    writeImage(f, vol(data));
    files.push(f);
  }
  return files;
}

/**
 * PNG of one axial slice: T2W in grey (1–99% window) with the detection map in red (alpha = value)
 * and the ground-truth outline in green when given. Slice = the one holding the map's maximum.
 * Enlarged to ≥ 256 px, with the slice as title and a colour legend (also returned as SVG).
 */
export async function overlayPng(
  t2w: Float32Array,
  det: Float32Array,
  shape: [number, number, number],
  label?: Uint8Array | null,
  slice?: number,
): Promise<{ png: Buffer; slice: number; svg: string }> {
  const [Z, Y, X] = shape;
  let z = slice ?? -1;
  if (z < 0) {
    let best = -1;
    for (let i = 0; i < det.length; i++) if (det[i]! > best) { best = det[i]!; z = Math.floor(i / (X * Y)); }
    if (best <= 0) z = Math.floor(Z / 2);
  }
  const sl = t2w.subarray(z * X * Y, (z + 1) * X * Y);
  const sorted = Float32Array.from(sl).sort();
  const lo = sorted[Math.floor(0.01 * (sorted.length - 1))]!, hi = sorted[Math.floor(0.99 * (sorted.length - 1))]!;
  const rgb = new Float32Array(3 * X * Y);
  for (let i = 0; i < X * Y; i++) {
    const g = Math.min(1, Math.max(0, (sl[i]! - lo) / (hi - lo || 1)));
    const a = det[z * X * Y + i]!;
    let r = g * (1 - a) + a, gg = g * (1 - a), b = g * (1 - a);
    if (label) {
      const y = Math.floor(i / X), x = i % X;
      const at = (yy: number, xx: number) => (yy >= 0 && xx >= 0 && yy < Y && xx < X ? label[z * X * Y + yy * X + xx]! : 0);
      if (at(y, x) && (!at(y - 1, x) || !at(y + 1, x) || !at(y, x - 1) || !at(y, x + 1))) { r = 0; gg = 1; b = 0; }
    }
    rgb[i] = r; rgb[X * Y + i] = gg; rgb[2 * X * Y + i] = b;
  }
  // enlarged (nearest) to at least 256 px and labelled: slice, colour legend
  const f = Math.max(1, Math.ceil(256 / Math.max(X, Y)));
  const t = torch.scope(() => torch.F.interpolate(torch.tensor(rgb, { shape: [1, 3, Y, X] }), { size: [Y * f, X * f], mode: 'nearest' }).squeeze(0));
  try {
    const svg = await imageGridSvg({
      title: `axial slice ${z + 1} of ${Z}`, cells: [[t]], rowLabels: ['T2W'], colLabels: ['detection overlay'],
      captions: [[label ? 'red: detection map (opacity = likelihood) · green: lesion outline' : 'red: detection map (opacity = likelihood)']],
    });
    return { png: await svgToPng(svg), slice: z, svg };
  } finally {
    t.dispose();
  }
}

// ------------------------------------------------------------------ trained models and the whole pipeline
/** What rebuilds a trained detector beside its weights: the architecture, the ADC statistics, the input channels, the patch. */
export interface SavedModel { config: MNetConfig; adc: AdcStats; zonal: boolean; patch: Shape3 }

/** The safetensors `__metadata__` key holding the SavedModel JSON. */
export const MODEL_META_KEY = 'paperlab';

/** Weights only, with the SavedModel JSON in the safetensors `__metadata__` (and a readable copy beside it). */
export function saveModel(file: string, net: MNet, meta: SavedModel): void {
  torch.saveSafetensors(file, net.stateDict(), { [MODEL_META_KEY]: JSON.stringify(meta), architecture: 'prostate/MNet' });
  fs.writeFileSync(file.replace(/\.safetensors$/, '.json'), JSON.stringify(meta, null, 1));
}

function checkMeta(m: unknown, where: string): SavedModel {
  const o = m as Partial<SavedModel> | null;
  if (!o || typeof o !== 'object' || !o.config || !Array.isArray(o.config.widths) || !o.adc || !Array.isArray(o.patch) || typeof o.zonal !== 'boolean') {
    throw new InputFileError(`${where}: the model description needs config (with widths), adc, zonal and patch`, { file: where });
  }
  return o as SavedModel;
}

/**
 * The weights and description of a detector: a model.safetensors (`__metadata__`, else the .json
 * beside it), a run folder holding one, or a training checkpoint (core/train's `paperlab-train/1`
 * record, e.g. checkpoints/final.safetensors: its `model.*` tensors, the optimizer state left
 * out; the description from the record's extra.model, else the run's model.json), or a checkpoint
 * of weights alone (the loop's 'best').
 */
export function readModelFile(where: string): { tensors: Record<string, torch.Tensor>; meta: SavedModel; file: string; checkpoint: boolean } {
  let file = path.resolve(where);
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'model.safetensors');
  if (!fs.existsSync(file)) throw new NotFoundError(`model '${file}' does not exist (pass a train run's folder, its model.safetensors or a checkpoint)`, { file });
  const side = file.replace(/\.safetensors$/, '.json');
  const sideJson = fs.existsSync(side) ? parseJson<Record<string, unknown>>(fs.readFileSync(side, 'utf8'), side) : null;
  const state = sideJson?.state as { format?: string; extra?: { model?: unknown }; config?: { model?: unknown } } | undefined;
  const { tensors: all, metadata } = torch.loadSafetensors(file);
  if (state && typeof state === 'object') {
    // a run checkpoint: core/train's record (model.* beside optim.*, rng.*), or weights saved as they are ('best')
    const record = state.format === CHECKPOINT_FORMAT;
    const tensors = record ? modelTensorsOf(all) : all;
    const runModel = path.join(path.dirname(path.dirname(file)), 'model.json');
    const m = state.extra?.model ?? state.config?.model ?? (fs.existsSync(runModel) ? parseJson(fs.readFileSync(runModel, 'utf8'), runModel) : null);
    if (!m) {
      torch.dispose(tensors);
      throw new InputFileError(`${file}: the checkpoint carries no model description (extra.model) and no model.json is in its run folder`, { file });
    }
    return { tensors, meta: checkMeta(m, side), file, checkpoint: true };
  }
  const text = metadata[MODEL_META_KEY];
  let meta: SavedModel;
  try {
    meta = text !== undefined ? checkMeta(parseJson(text, `${file} (__metadata__.${MODEL_META_KEY})`), file)
      : sideJson ? checkMeta(sideJson, side)
        : (() => { throw new InputFileError(`${file}: no '${MODEL_META_KEY}' entry in the safetensors __metadata__ and no ${path.basename(side)} beside it: not a paperlab prostate model`, { file }); })();
  } catch (e) {
    torch.dispose(all);
    throw e;
  }
  return { tensors: all, meta, file, checkpoint: false };
}

/** Loads a detector (see readModelFile for what `where` may be). */
export function loadModel(where: string): { net: MNet; meta: SavedModel; checkpoint: boolean } {
  // a PyTorch checkpoint (paperlab's names or Z-SSMNet's, e.g. nnU-Net's model_final_checkpoint.model): weights.ts
  if (/\.(pth|pt|ckpt|model)$/i.test(where)) return { ...loadTorchMNet(path.resolve(where)), checkpoint: false };
  const { tensors, meta, checkpoint, file } = readModelFile(where);
  const net = new MNet(meta.config);
  try {
    net.loadStateDict(tensors);
  } catch (e) {
    net.dispose();
    throw new InputFileError(`${file}: the weights do not fit the MNet it describes (${(e as Error).message})`, { file, cause: e });
  } finally {
    torch.dispose(tensors);
  }
  return { net, meta, checkpoint };
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

/** The three headline numbers of a PI-CAI evaluation. */
export function summarize(m: PicaiMetrics) {
  return { auroc: m.auroc, AP: m.AP, score: m.score };
}

/** Train on `train` cases, evaluate on `test` cases; the frozen-random and threshold baselines beside. */
export async function runPipeline(root: DataRoot, trainKeys: string[], testKeys: string[], o: PipelineOptions, ctx: LoopContext): Promise<PipelineResult> {
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
  const model: SavedModel = { config: net.cfg, adc: stats, zonal: o.zonal, patch: o.train.patch ?? o.inferPatch };
  const { losses } = await trainDetector(net, trainNet, { ...o.train, model }, ctx);
  const labels: Record<string, Uint8Array | null> = Object.fromEntries(testCases.map((c) => [c.key, originalLabel(c, root)]));
  const infer = { patch: o.inferPatch, mirrorAxes: o.mirrorTTA ? [1, 2] : [] };
  const dets = detect([net], testNet, infer);
  const metrics = evaluateDetections(dets, labels).metrics;
  const out: PipelineResult = { metrics, finalLoss: mean(losses.slice(-10)), net, detections: dets, adc: stats, ssl };
  if (randomNet) {
    out.randomMetrics = evaluateDetections(detect([randomNet], testNet, infer), labels).metrics;
    randomNet.dispose();
    out.thresholdMetrics = evaluateDetections(
      testCases.map((c) => ({
        key: c.key, detection: thresholdBaseline(c),
        shape: [c.original.dims[2], c.original.dims[1], c.original.dims[0]] as [number, number, number],
      })),
      labels,
    ).metrics;
  }
  ctx?.log(`held-out: ${JSON.stringify(jsonSafe(summarize(metrics)))}` + (out.randomMetrics ? `; frozen random ${JSON.stringify(jsonSafe(summarize(out.randomMetrics)))}; threshold ${JSON.stringify(jsonSafe(summarize(out.thresholdMetrics!)))}` : ''));
  return out;
}

const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / Math.max(1, a.length);

export { toFloat32 };
