// The runs behind the CLI commands: train / evaluate / predict / explain / quick / offsets / cost.
// Each takes validated parameters and a RunContext, writes files people can open into the run
// folder, and returns a JSON summary.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import * as torch from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import { CrossModalTransformer, makeConfig, attentionCost, type ActionConfig } from './model.ts';
import { loadDataset, makeBlobTask, makeSynthetic, readFrameFolder, SYNTH_CLASSES, synthSkeleton, SYNTH_DEFAULTS, normalizePose, renderStickFigures, type ActionDataset, type ActionSample } from './data.ts';
import { clipToPose, readSkeleton, NTU_PROTOCOLS, type NtuProtocol } from './ntu.ts';
import { readPennLabel, pennToPose } from './penn.ts';
import { trainModel, TRAIN_DEFAULTS } from './train.ts';
import { evaluateModel, explainSample, offsetStats, predictLogits, type Evaluation } from './evaluate.ts';
import { attentionFigureSvg, skeletonSvg, svgPng } from './render.ts';
import { Rng } from '../../core/rng.ts';
import { parseJson } from '../../core/errors.ts';

// ------------------------------------------------------------------ model files

type DsShape = Pick<ActionDataset, 'frames' | 'joints' | 'bodies' | 'coordDim' | 'imgSize'>;

/** Writes model.safetensors (weights; config and class names in the metadata) into the run folder. */
export function saveModel(ctx: Pick<RunContext, 'writeBytes'>, model: CrossModalTransformer, classNames: string[], name = 'model.safetensors'): string {
  return ctx.writeBytes(name, torch.toSafetensors(model.stateDict(), { config: JSON.stringify(model.config), classNames: JSON.stringify(classNames), format: 'paperlab-action-1' }));
}

/** Loads a model from a .safetensors file or a run folder holding model.safetensors. */
export function loadModel(p: string): { model: CrossModalTransformer; classNames: string[] } {
  const file = fs.existsSync(p) && fs.statSync(p).isDirectory() ? path.join(p, 'model.safetensors') : p;
  if (!fs.existsSync(file)) throw new Error(`${file}: no such model file (give a model.safetensors or the run folder of 'action train')`);
  const st = torch.loadSafetensors(file);
  if (!st.metadata.config) { torch.dispose(st.tensors); throw new Error(`${file}: no 'config' in the safetensors metadata (not written by 'action train')`); }
  let config: ActionConfig;
  try { config = makeConfig(parseJson<Partial<ActionConfig>>(st.metadata.config, `${file}: metadata 'config'`)); } catch (e) { torch.dispose(st.tensors); throw e; }
  const model = new CrossModalTransformer(config);
  try { model.loadStateDict(st.tensors); } catch (e) { throw new Error(`${file}: ${(e as Error).message}`); } finally { torch.dispose(st.tensors); }
  model.eval();
  return { model, classNames: st.metadata.classNames ? parseJson<string[]>(st.metadata.classNames, `${file}: metadata 'classNames'`) : Array.from({ length: config.numClasses }, (_, i) => `class ${i}`) };
}

// ------------------------------------------------------------------ parameters

export const dataParams = {
  data: z.string().default('synthetic').describe("'synthetic', 'ntu:<folder of .skeleton files>', 'penn:<Penn Action root>' or 'json:<folder with train/ and test/ keypoint records>'").meta({ path: 'input', pathSchemes: ['ntu', 'penn', 'json'], notPath: '^synthetic$' }),
  modality: z.enum(['rgb+pose', 'pose']).default('rgb+pose').describe('use RGB frames and pose, or pose only'),
  frames: z.number().int().min(2).max(256).default(16).describe('frames T per clip'),
  imgSize: z.number().int().min(8).max(256).default(48).describe('RGB crop side in pixels'),
  nTrain: z.number().int().min(1).default(480).describe('synthetic: training clips'),
  nTest: z.number().int().min(1).default(240).describe('synthetic: test clips (drawn from another seed)'),
  numClasses: z.number().int().min(2).max(SYNTH_CLASSES.length).default(6).describe(`synthetic: classes (${SYNTH_CLASSES.join(', ')})`),
  protocol: z.enum(NTU_PROTOCOLS as [NtuProtocol, ...NtuProtocol[]]).default('ntu60-xsub').describe('NTU split protocol'),
  bodies: z.number().int().min(1).max(4).default(1).describe('NTU: bodies kept per clip (main actor first)'),
  framesDir: z.string().optional().describe('folder with one PNG/JPEG frame folder per sample name (RGB for NTU/Penn)').meta({ path: 'input' }),
  ignoreList: z.string().optional().describe('NTU: file listing samples to skip (missing skeletons)').meta({ path: 'input' }),
  limit: z.number().int().min(0).default(0).describe('at most this many samples per split (0 = all)'),
};

export const modelParams = {
  dim: z.number().int().min(4).default(64).describe('token width D'),
  heads: z.number().int().min(1).default(4).describe('attention heads'),
  depth: z.number().int().min(1).default(3).describe('blocks L'),
  mlpRatio: z.number().positive().default(2).describe('MLP hidden width / D'),
  jointGrouping: z.enum(['stride', 'parts']).default('stride').describe('[recon] joint groups: index stride or NTU body parts'),
  jointStride: z.number().int().min(1).default(5).describe('s_j of local joint-stride attention'),
  temporalStride: z.number().int().min(1).default(2).describe('s_t of temporal-stride attention'),
  offsetGroups: z.number().int().min(1).default(1).describe('[recon] offset fields (1 = shared across heads)'),
  offsetRange: z.number().positive().default(2).describe('[recon] offset range s in grid cells'),
  learnOffsets: z.boolean().default(true).describe('false freezes offsets at zero (uniform grid)'),
  head: z.enum(['concat', 'sum']).default('concat').describe('[recon] classifier on concat or sum of the cross-modal tokens'),
};

export const trainParams = {
  epochs: z.number().int().min(1).default(30).describe('epochs'),
  batchSize: z.number().int().min(1).default(16).describe('batch size'),
  lr: z.number().positive().default(1e-3).describe('AdamW learning rate (cosine schedule, 5% warm-up)'),
  weightDecay: z.number().min(0).default(0.05).describe('AdamW weight decay'),
  labelSmoothing: z.number().min(0).max(1).default(0.1).describe('label smoothing of the cross-entropy'),
  augment: z.boolean().default(true).describe('pose augmentation (rotation, scale, jitter, temporal crop)'),
};

const dataSchema = z.object(dataParams);
const modelSchema = z.object(modelParams);
type DataP = z.infer<typeof dataSchema>;
type ModelP = z.infer<typeof modelSchema>;

export async function buildDataset(p: DataP, seed: number): Promise<ActionDataset> {
  const rgb = p.modality === 'rgb+pose';
  if (p.data === 'synthetic') return makeSynthetic(p.nTrain, p.nTest, seed, { frames: p.frames, numClasses: p.numClasses, imgSize: rgb ? p.imgSize : 0 });
  return loadDataset(p.data, { frames: p.frames, bodies: p.bodies, protocol: p.protocol, ignoreList: p.ignoreList, rgb, framesDir: p.framesDir, imgSize: p.imgSize, limit: p.limit });
}

export function configFor(ds: ActionDataset, p: ModelP, rgb: boolean): ActionConfig {
  const useRgb = rgb && ds.imgSize !== null;
  const imgSize = ds.imgSize ?? 48;
  // backbone strides: spatial /2 per layer down to ~6 tokens, time /2 once (T' = T/2) [recon]
  const layers = Math.max(1, Math.min(3, Math.round(Math.log2(imgSize / 6))));
  const strides: [number, number, number][] = Array.from({ length: layers }, (_, i) => [i === Math.min(1, layers - 1) && ds.frames >= 4 ? 2 : 1, 2, 2]);
  const channels = Array.from({ length: layers }, (_, i) => Math.min(p.dim, 16 * 2 ** i));
  return makeConfig({
    numClasses: ds.classNames.length, joints: ds.joints, bodies: ds.bodies, coordDim: ds.coordDim, frames: ds.frames,
    dim: p.dim, heads: p.heads, depth: p.depth, mlpRatio: p.mlpRatio, rgb: useRgb, imgSize, backboneChannels: channels, backboneStrides: strides,
    jointGrouping: p.jointGrouping, jointStride: p.jointStride, temporalStride: p.temporalStride, offsetGroups: p.offsetGroups,
    offsetRange: p.offsetRange, learnOffsets: p.learnOffsets, head: p.head,
  });
}

async function confusionPlot(ctx: RunContext, name: string, ev: Evaluation, classNames: string[]): Promise<void> {
  const rows = ev.confusion.flatMap((r, i) => r.map((n, j) => ({ true: classNames[i] ?? String(i), predicted: classNames[j] ?? String(j), count: n })));
  await ctx.plot(name, {
    title: `confusion matrix (top-1 ${(100 * ev.top1).toFixed(1)}%, n=${ev.n})`, data: { values: rows },
    mark: 'rect', width: 24 * classNames.length, height: 24 * classNames.length,
    encoding: { x: { field: 'predicted', type: 'nominal', sort: classNames }, y: { field: 'true', type: 'nominal', sort: classNames }, color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' } } },
  });
}

/** Writes the explainability outputs for one sample: JSON, figure SVG+PNG, animated skeleton SVG. */
async function writeExplanation(ctx: RunContext, model: CrossModalTransformer, s: ActionSample, ds: DsShape, classNames: string[], prefix = 'explain'): Promise<Record<string, unknown>> {
  const ex = explainSample(model, s, ds);
  const c = model.config;
  const title = `${s.name}: predicted ${classNames[ex.predicted]}${s.label >= 0 ? `, true ${classNames[s.label]}` : ''}`;
  ctx.writeJson(`${prefix}.json`, { sample: s.name, predicted: classNames[ex.predicted], label: s.label >= 0 ? classNames[s.label] : null, jointImportance: ex.joints, frameImportance: ex.frames, jointsByFrame: ex.jointsByFrame, logits: ex.logits });
  const fig = attentionFigureSvg(s.pose, c.frames, c.joints, c.bodies, { jointsByFrame: ex.jointsByFrame, frameWeights: ex.frames, title, panels: Math.min(8, c.frames) });
  ctx.writeText(`${prefix}.svg`, fig);
  ctx.writeBytes(`${prefix}.png`, await svgPng(fig));
  ctx.writeText(`${prefix}-skeleton.svg`, skeletonSvg(s.pose, c.frames, c.joints, c.bodies, { jointWeights: ex.joints, title }));
  const top = ex.joints.map((w, j) => [w, j] as const).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, j]) => j);
  return { sample: s.name, predicted: classNames[ex.predicted], topJoints: top, topFrame: ex.frames.indexOf(Math.max(...ex.frames)) };
}

// ------------------------------------------------------------------ commands

export const trainSchema = z.object({ ...dataParams, ...modelParams, ...trainParams });
export async function runTrain(p: z.infer<typeof trainSchema>, ctx: RunContext): Promise<Record<string, unknown>> {
  const ds = await buildDataset(p, ctx.seed);
  const config = configFor(ds, p, p.modality === 'rgb+pose');
  ctx.log(`dataset ${ds.name}: ${ds.train.length} train / ${ds.test.length} test clips, ${ds.classNames.length} classes; ${config.rgb ? 'RGB + pose' : 'pose only'}`);
  const model = new CrossModalTransformer(config);
  ctx.writeJson('config.json', { config, classNames: ds.classNames, params: p });
  const r = await trainModel(model, ds, { epochs: p.epochs, batchSize: p.batchSize, lr: p.lr, weightDecay: p.weightDecay, labelSmoothing: p.labelSmoothing, augment: p.augment, seed: ctx.seed }, ctx);
  if (r.interrupted) return { interrupted: true, epochs: r.epochs };
  saveModel(ctx, model, ds.classNames);
  const summary: Record<string, unknown> = { dataset: ds.name, nTrain: ds.train.length, nTest: ds.test.length, parameters: model.numParameters(), epochs: r.epochs, finalLoss: r.history.at(-1)?.loss };
  await ctx.plot('loss', { title: 'training loss', data: { values: r.history }, mark: { type: 'line', point: true }, encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } } });
  if (ds.test.length) {
    const ev = evaluateModel(model, ds.test, ds);
    ctx.writeJson('eval.json', { ...ev, classNames: ds.classNames });
    await confusionPlot(ctx, 'confusion', ev, ds.classNames);
    Object.assign(summary, { top1: ev.top1, top5: ev.top5, meanClassAccuracy: ev.meanClassAccuracy });
    summary.explain = await writeExplanation(ctx, model, ds.test[0]!, ds, ds.classNames);
    if (config.rgb) summary.offsets = offsetStats(model, ds.test.slice(0, 32), ds);
  }
  model.dispose();
  return summary;
}

export const evaluateSchema = z.object({ model: z.string().describe('model.safetensors or the run folder of action train').meta({ path: 'input' }), ...dataParams });
export async function runEvaluate(p: z.infer<typeof evaluateSchema>, ctx: RunContext): Promise<Record<string, unknown>> {
  const { model, classNames } = loadModel(p.model);
  const c = model.config;
  const ds = await buildDataset({ ...p, frames: c.frames, imgSize: c.imgSize, numClasses: c.numClasses, modality: c.rgb ? p.modality : 'pose' }, ctx.seed + 1);
  if (ds.joints * ds.bodies !== c.joints * c.bodies) throw new Error(`evaluate: data has ${ds.joints * ds.bodies} joints per frame but the model expects ${c.joints * c.bodies}`);
  const ev = evaluateModel(model, ds.test, ds);
  ctx.writeJson('eval.json', { ...ev, classNames });
  await confusionPlot(ctx, 'confusion', ev, classNames);
  model.dispose();
  return { dataset: ds.name, n: ev.n, top1: ev.top1, top5: ev.top5, meanClassAccuracy: ev.meanClassAccuracy };
}

/** Reads one clip for predict/explain: .skeleton, Penn .mat/.json, or synthetic:<class>. */
async function readClip(input: string, c: ActionConfig, framesDir: string | undefined, seed: number): Promise<ActionSample> {
  let s: ActionSample;
  if (input.startsWith('synthetic:')) {
    const cls = input.slice('synthetic:'.length);
    const label = (SYNTH_CLASSES as readonly string[]).indexOf(cls);
    if (label < 0) throw new Error(`input '${input}': unknown synthetic class '${cls}'. Valid: ${SYNTH_CLASSES.join(', ')}`);
    const rng = new Rng(seed);
    const raw = synthSkeleton(label, rng, { ...SYNTH_DEFAULTS, frames: c.frames });
    s = { name: input, label: label < c.numClasses ? label : -1, pose: normalizePose(raw, c.frames) };
    if (c.rgb) s.video = renderStickFigures(raw, c.frames, c.imgSize, rng);
    return s;
  }
  if (input.endsWith('.skeleton')) {
    const clip = readSkeleton(input);
    s = { name: path.basename(input), label: clip.meta && clip.meta.label < c.numClasses ? clip.meta.label : -1, pose: clipToPose(clip, c.frames, c.bodies).data };
  } else if (input.endsWith('.mat') || input.endsWith('.json')) {
    const e = readPennLabel(input);
    s = { name: e.id, label: e.label < c.numClasses ? e.label : -1, pose: pennToPose(e, c.frames) };
  } else throw new Error(`input '${input}': expected a .skeleton file, a Penn Action .mat/.json label file, or synthetic:<class>`);
  if (c.rgb && framesDir) s.video = await readFrameFolder(framesDir, c.frames, c.imgSize);
  return s;
}

export const predictSchema = z.object({
  model: z.string().describe('model.safetensors or the run folder of action train').meta({ path: 'input' }),
  input: z.string().describe('a .skeleton file, a Penn Action .mat/.json, or synthetic:<class>').meta({ path: 'input', notPath: '^synthetic:' }),
  framesDir: z.string().optional().describe('PNG/JPEG frames of the clip (RGB models)').meta({ path: 'input' }),
  top: z.number().int().min(1).default(5).describe('classes to list'),
});
export async function runPredict(p: z.infer<typeof predictSchema>, ctx: RunContext): Promise<Record<string, unknown>> {
  const { model, classNames } = loadModel(p.model);
  const c = model.config;
  const s = await readClip(p.input, c, p.framesDir, ctx.seed);
  const ds: DsShape = { frames: c.frames, joints: c.joints, bodies: c.bodies, coordDim: c.coordDim, imgSize: s.video ? c.imgSize : null };
  const logits = Array.from(predictLogits(model, [s], ds, 1));
  const mx = Math.max(...logits);
  const ex = logits.map((v) => Math.exp(v - mx)); const z0 = ex.reduce((a, b) => a + b, 0);
  const ranked = ex.map((e, i) => ({ class: classNames[i]!, probability: e / z0 })).sort((a, b) => b.probability - a.probability).slice(0, p.top);
  ctx.writeJson('prediction.json', { input: p.input, ranked });
  model.dispose();
  return { input: p.input, predicted: ranked[0]!.class, probability: ranked[0]!.probability, top: ranked, usedRgb: !!s.video };
}

export const explainSchema = z.object({
  model: z.string().describe('model.safetensors or the run folder of action train').meta({ path: 'input' }),
  input: z.string().default('synthetic:wave').describe('a .skeleton file, a Penn Action .mat/.json, or synthetic:<class>').meta({ path: 'input', notPath: '^synthetic:' }),
  framesDir: z.string().optional().describe('PNG/JPEG frames of the clip (RGB models)').meta({ path: 'input' }),
});
export async function runExplain(p: z.infer<typeof explainSchema>, ctx: RunContext): Promise<Record<string, unknown>> {
  const { model, classNames } = loadModel(p.model);
  const c = model.config;
  const s = await readClip(p.input, c, p.framesDir, ctx.seed);
  const ds: DsShape = { frames: c.frames, joints: c.joints, bodies: c.bodies, coordDim: c.coordDim, imgSize: s.video ? c.imgSize : null };
  const out = await writeExplanation(ctx, model, s, ds, classNames);
  model.dispose();
  return out;
}

export const quickSchema = z.object({
  numClasses: z.number().int().min(2).max(SYNTH_CLASSES.length).default(6).describe('synthetic classes'),
  nTrain: z.number().int().min(6).default(96).describe('training clips'),
  nTest: z.number().int().min(6).default(60).describe('test clips'),
  epochs: z.number().int().min(1).default(10).describe('epochs'),
});
/** A few-second pose-only run on synthetic actions: trains, evaluates, explains, animates. */
export async function runQuick(p: z.infer<typeof quickSchema>, ctx: RunContext): Promise<Record<string, unknown>> {
  const ds = makeSynthetic(p.nTrain, p.nTest, ctx.seed, { frames: 8, numClasses: p.numClasses });
  const model = new CrossModalTransformer(makeConfig({ rgb: false, numClasses: p.numClasses, frames: 8, dim: 32, heads: 2, depth: 1 }));
  const r = await trainModel(model, ds, { epochs: p.epochs, batchSize: 16, lr: 3e-3, augment: false, seed: ctx.seed }, ctx);
  if (r.interrupted) return { interrupted: true };
  const ev = evaluateModel(model, ds.test, ds);
  ctx.writeJson('eval.json', { ...ev, classNames: ds.classNames });
  await confusionPlot(ctx, 'confusion', ev, ds.classNames);
  saveModel(ctx, model, ds.classNames);
  const ex = await writeExplanation(ctx, model, ds.test[0]!, ds, ds.classNames);
  // one animated skeleton per class, for the dashboard
  for (let k = 0; k < p.numClasses; k++) {
    const s = ds.test.find((x) => x.label === k);
    if (s) ctx.writeText(`skeleton-${ds.classNames[k]}.svg`, skeletonSvg(s.pose, ds.frames, ds.joints, 1, { title: ds.classNames[k] }));
  }
  model.dispose();
  return { top1: ev.top1, top5: ev.top5, chance: 1 / p.numClasses, finalLoss: r.lastLoss, explain: ex };
}

export const offsetsSchema = z.object({
  nTrain: z.number().int().min(8).default(64).describe('training clips of the blob task'),
  nTest: z.number().int().min(8).default(64).describe('test clips'),
  epochs: z.number().int().min(1).default(20).describe("epochs for each model"),
});
/** Diagnostic (spec B.7.2): learned offsets vs offsets frozen at zero on the off-grid blob task. */
export async function runOffsets(p: z.infer<typeof offsetsSchema>, ctx: RunContext): Promise<Record<string, unknown>> {
  const r = await offsetAblation(p.nTrain, p.nTest, p.epochs, ctx.seed, ctx);
  ctx.writeJson('offsets.json', r);
  await ctx.plot('offsets', {
    title: `test accuracy on the off-grid blob task (margin ${(100 * r.margin).toFixed(1)} points)`, data: { values: [{ offsets: 'learned', accuracy: r.learned }, { offsets: 'frozen at 0', accuracy: r.frozen }] },
    mark: 'bar', encoding: { x: { field: 'offsets', type: 'nominal' }, y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] } } },
  });
  return r;
}

export const BLOB_MODEL: Partial<ActionConfig> = {
  numClasses: 4, frames: 4, joints: 5, jointStride: 5, imgSize: 16, dim: 16, heads: 2, depth: 1,
  backboneChannels: [8], backboneStrides: [[1, 2, 2]], grid: [2, 2, 2], temporalStride: 1,
};

export async function offsetAblation(nTrain: number, nTest: number, epochs: number, seed: number, ctx?: Pick<RunContext, 'log' | 'signal'>): Promise<{ learned: number; frozen: number; margin: number; offsets: ReturnType<typeof offsetStats> }> {
  const ds = makeBlobTask(nTrain, nTest, seed);
  const acc: number[] = [];
  let stats: ReturnType<typeof offsetStats> | null = null;
  for (const learn of [true, false]) {
    torch.manualSeed(seed);
    const m = new CrossModalTransformer(makeConfig({ ...BLOB_MODEL, learnOffsets: learn }));
    await trainModel(m, ds, { epochs, batchSize: 16, lr: 3e-3, augment: false, labelSmoothing: 0, seed });
    acc.push(evaluateModel(m, ds.test, ds).top1);
    if (learn) stats = offsetStats(m, ds.test, ds);
    ctx?.log(`${learn ? 'learned' : 'frozen'} offsets: test accuracy ${acc.at(-1)}`);
    m.dispose();
  }
  return { learned: acc[0]!, frozen: acc[1]!, margin: acc[0]! - acc[1]!, offsets: stats! };
}

export const costSchema = z.object({
  frames: z.number().int().min(2).default(16).describe('frames T'),
  temporalStrides: z.array(z.number().int().min(1)).default([1, 2, 4, 8]).describe('s_t values to sweep'),
  jointStrides: z.array(z.number().int().min(1)).default([1, 5, 25]).describe('s_j values to sweep (1 = one group: all joints)'),
  repeats: z.number().int().min(1).default(5).describe('timed forward passes per setting'),
});
/** Stride attention cost (spec B.7.3): score-matrix entries and time, full vs strided. */
export async function runCost(p: z.infer<typeof costSchema>, ctx: RunContext): Promise<Record<string, unknown>> {
  const rows: Record<string, number | string>[] = [];
  const time = (c: ActionConfig) => torch.noGrad(() => {
    const m = new CrossModalTransformer(c).eval();
    const pose = torch.randn([8, c.frames, c.joints, 3]);
    m.forward({ pose }).dispose();
    const t0 = performance.now();
    for (let i = 0; i < p.repeats; i++) torch.scope(() => m.forward({ pose }));
    const ms = (performance.now() - t0) / p.repeats;
    pose.dispose(); m.dispose();
    return ms;
  });
  for (const st of p.temporalStrides) {
    const c = makeConfig({ rgb: false, frames: p.frames, temporalStride: st, dim: 32, heads: 2, depth: 1 });
    const k = attentionCost(c);
    rows.push({ axis: 'temporal', stride: st, scores: k.temporalStrided!, fullScores: k.temporalFull!, ratio: k.temporalFull! / k.temporalStrided!, forwardMs: time(c) });
  }
  for (const sj of p.jointStrides) {
    const c = makeConfig({ rgb: false, frames: p.frames, jointStride: sj, dim: 32, heads: 2, depth: 1 });
    const k = attentionCost(c);
    rows.push({ axis: 'joint', stride: sj, scores: k.jointStrided!, fullScores: k.jointFull!, ratio: k.jointFull! / k.jointStrided!, forwardMs: time(c) });
  }
  for (const r of rows) ctx.metrics.log(r, 'cost');
  ctx.writeJson('cost.json', rows);
  await ctx.plot('cost', {
    title: 'attention score entries per clip, strided (full = stride 1 / one group)', data: { values: rows }, mark: { type: 'line', point: true },
    encoding: { x: { field: 'stride', type: 'quantitative', scale: { type: 'log', base: 2 } }, y: { field: 'scores', type: 'quantitative', scale: { type: 'log' } }, color: { field: 'axis', type: 'nominal' } },
  });
  const c0 = attentionCost(makeConfig({}));
  return { rows, rgb: { deformableScores: c0.deformable, fullScores: c0.rgbFull, ratio: c0.rgbFull! / c0.deformable! } };
}

export { TRAIN_DEFAULTS };
