// The runs behind the commands (schemas in commands.ts): train / evaluate / predict / explain / quick /
// offsets / cost. Each takes validated parameters and a RunContext, writes files people can open into
// the run folder, and returns a JSON summary.
import * as torch from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import { BLOB_MODEL, presets, defaults, type ActionConfig } from './config.ts';
import { CrossModalTransformer, makeConfig, attentionCost, configFor, saveModel, loadModel } from './model/index.ts';
import { buildDataset, readClip, type ActionDataset } from './data.ts';
import { makeSynthetic, makeBlobTask } from './synthetic.ts';
import { trainModel } from './train.ts';
import {
  evaluateModel, offsetStats, predictLogits, confusionPlot, writeExplanation, writeSkeletons, clipScores, scoreMetrics, type ClipOptions, type Evaluation,
} from './evaluate.ts';
import { fuseScores, readScoreFile, type ScoreFile } from './clips.ts';
import { UsageError } from '../../core/errors.ts';
import { skeletonSvg } from './render.ts';
import type { TrainParams, EvaluateParams, PredictParams, ExplainParams, QuickParams, OffsetsParams, CostParams, FuseParams } from './commands.ts';

type DsShape = Pick<ActionDataset, 'frames' | 'joints' | 'bodies' | 'coordDim' | 'imgSize'>;
const shapeOf = (c: ActionConfig, video: boolean): DsShape => ({
  frames: c.frames, joints: c.joints, bodies: c.bodies, coordDim: c.coordDim, imgSize: video ? c.imgSize : null,
});

export async function train(p: TrainParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const ds = await buildDataset(p, ctx.seed);
  const config = configFor(ds, p, p.modality === 'rgb+pose');
  ctx.log(`dataset ${ds.name}: ${ds.train.length} train / ${ds.test.length} test clips, ${ds.classNames.length} classes; ${config.rgb ? 'RGB + pose' : 'pose only'}`);
  const model = new CrossModalTransformer(config);
  ctx.writeJson('config.json', { config, classNames: ds.classNames, params: p });
  const r = await trainModel(
    model, ds,
    {
      epochs: p.epochs, batchSize: p.batchSize, lr: p.lr, weightDecay: p.weightDecay, labelSmoothing: p.labelSmoothing, augment: p.augment, seed: ctx.seed,
      precision: p.precision,
    },
    ctx,
  );
  if (r.interrupted) return { interrupted: true, epochs: r.epochs };
  saveModel(ctx, model, ds.classNames);
  const summary: Record<string, unknown> = {
    dataset: ds.name, nTrain: ds.train.length, nTest: ds.test.length, parameters: model.numParameters(),
    epochs: r.epochs, finalLoss: r.history.at(-1)?.loss,
  };
  await ctx.plot('loss', { title: 'training loss', data: { values: r.history }, mark: { type: 'line', point: true }, encoding: { x: { field: 'epoch', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } } });
  if (ds.test.length) {
    const ev = await writeEvaluation(ctx, model, ds, ds.classNames, { numClips: p.numClips, average: p.average });
    Object.assign(summary, { top1: ev.top1, top5: ev.top5, meanClassAccuracy: ev.meanClassAccuracy, clips: ev.clips });
    summary.explain = await writeExplanation(ctx, model, ds.test[0]!, ds, ds.classNames);
    writeSkeletons(ctx, model, ds.test, ds, ds.classNames);
    if (config.rgb) summary.offsets = offsetStats(model, ds.test.slice(0, 32), ds);
  }
  model.dispose();
  return summary;
}

export async function evaluate(p: EvaluateParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const { model, classNames } = loadModel(p.model);
  const c = model.config;
  const ds = await buildDataset(
    { ...p, frames: c.frames, imgSize: c.imgSize, numClasses: c.numClasses, modality: c.rgb ? p.modality : 'pose', feats: c.feats, bodies: p.annotations ? c.bodies : p.bodies },
    ctx.seed + 1,
  );
  if (ds.joints * ds.bodies !== c.joints * c.bodies) throw new UsageError(`evaluate: data has ${ds.joints * ds.bodies} joints per frame but the model expects ${c.joints * c.bodies}`);
  if (ds.coordDim !== c.coordDim) throw new UsageError(`evaluate: data has ${ds.coordDim} channels per joint but the model expects ${c.coordDim}`);
  const ev = await writeEvaluation(ctx, model, ds, classNames, { numClips: p.numClips, average: p.average });
  model.dispose();
  return { dataset: ds.name, n: ev.n, clips: ev.clips, feats: c.feats, top1: ev.top1, top5: ev.top5, meanClassAccuracy: ev.meanClassAccuracy };
}

/** Multi-clip evaluation of the test split: eval.json, scores.json (for `fuse`), the confusion plot. */
async function writeEvaluation(ctx: RunContext, model: CrossModalTransformer, ds: ActionDataset, classNames: string[], o: ClipOptions): Promise<Evaluation> {
  const K = model.config.numClasses;
  const labels = ds.test.map((s) => s.label);
  const scores = clipScores(model, ds.test, ds, o);
  const clips = ds.test.some((s) => s.sequence) ? o.numClips : 1;
  const ev = scoreMetrics(scores, labels, K, clips);
  ctx.writeJson('eval.json', { ...ev, average: o.average, classNames });
  const file: ScoreFile = {
    format: 'paperlab-action-scores-1', names: ds.test.map((s) => s.name), labels, classNames, feats: model.config.feats, clips, average: o.average,
    scores: labels.map((_, i) => Array.from(scores.subarray(i * K, (i + 1) * K))),
  };
  ctx.writeJson('scores.json', file);
  await confusionPlot(ctx, 'confusion', ev, classNames);
  return ev;
}

/** Late fusion of streams: the weighted sum of several runs' scores (PySKL's ensemble of j/b/jm/bm). */
export async function fuse(p: FuseParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const files = p.scores.split(',').map((x) => x.trim()).filter((x) => x !== '').map(readScoreFile);
  if (files.length < 2) throw new UsageError('fuse: give at least two score files (comma-separated)');
  const weights = p.weights ?? files.map(() => 1);
  if (weights.length !== files.length) throw new UsageError(`fuse: ${weights.length} weights for ${files.length} score files`);
  const f = fuseScores(files, weights);
  const streams = files.map(({ file, s }, i) => {
    const m = scoreMetrics(s.scores.flat(), s.labels, s.classNames.length);
    return { file, feats: s.feats.join('+') || '?', weight: weights[i]!, top1: m.top1, top5: m.top5 };
  });
  const ev = scoreMetrics(f.scores, f.labels, f.K);
  const classNames = files[0]!.s.classNames;
  ctx.writeJson('fused.json', { streams, weights, n: ev.n, top1: ev.top1, top5: ev.top5, meanClassAccuracy: ev.meanClassAccuracy, confusion: ev.confusion });
  ctx.writeJson('scores.json', {
    format: 'paperlab-action-scores-1', names: f.names, labels: f.labels, classNames, feats: files.flatMap((x) => x.s.feats), clips: files[0]!.s.clips,
    average: files[0]!.s.average, scores: f.labels.map((_, i) => Array.from(f.scores.subarray(i * f.K, (i + 1) * f.K))),
  } satisfies ScoreFile);
  for (const r of streams) ctx.log(`${r.file} (${r.feats}, weight ${r.weight}): top-1 ${(100 * r.top1).toFixed(2)}%`);
  await confusionPlot(ctx, 'confusion', ev, classNames);
  return { n: ev.n, streams, top1: ev.top1, top5: ev.top5, meanClassAccuracy: ev.meanClassAccuracy };
}

export async function predict(p: PredictParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const { model, classNames } = loadModel(p.model);
  const c = model.config;
  const s = await readClip(p.input, c, p.framesDir, ctx.seed);
  const logits = Array.from(predictLogits(model, [s], shapeOf(c, !!s.video), 1));
  const mx = Math.max(...logits);
  const ex = logits.map((v) => Math.exp(v - mx)); const z0 = ex.reduce((a, b) => a + b, 0);
  const ranked = ex.map((e, i) => ({ class: classNames[i]!, probability: e / z0 })).sort((a, b) => b.probability - a.probability).slice(0, p.top);
  ctx.writeJson('prediction.json', { input: p.input, ranked });
  model.dispose();
  return { input: p.input, predicted: ranked[0]!.class, probability: ranked[0]!.probability, top: ranked, usedRgb: !!s.video };
}

export async function explain(p: ExplainParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const { model, classNames } = loadModel(p.model);
  const c = model.config;
  const s = await readClip(p.input, c, p.framesDir, ctx.seed);
  const out = await writeExplanation(ctx, model, s, shapeOf(c, !!s.video), classNames);
  model.dispose();
  return out;
}

/** A few-second pose-only run on synthetic actions at presets.quick sizes: trains, evaluates, explains, animates. */
export async function quick(p: QuickParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const q = presets.quick;
  const ds = makeSynthetic(p.nTrain, p.nTest, ctx.seed, { frames: q.data.frames, numClasses: p.numClasses });
  const model = new CrossModalTransformer(makeConfig({ ...q.model, rgb: false, numClasses: p.numClasses, frames: q.data.frames }));
  const r = await trainModel(model, ds, { ...q.train, epochs: p.epochs, seed: ctx.seed }, ctx);
  if (r.interrupted) return { interrupted: true };
  const ev = evaluateModel(model, ds.test, ds);
  ctx.writeJson('eval.json', { ...ev, classNames: ds.classNames });
  await confusionPlot(ctx, 'confusion', ev, ds.classNames);
  saveModel(ctx, model, ds.classNames);
  const ex = await writeExplanation(ctx, model, ds.test[0]!, ds, ds.classNames);
  writeSkeletons(ctx, model, ds.test, ds, ds.classNames);
  // one animated skeleton per class, for the dashboard
  for (let k = 0; k < p.numClasses; k++) {
    const s = ds.test.find((x) => x.label === k);
    if (s) ctx.writeText(`skeleton-${ds.classNames[k]}.svg`, skeletonSvg(s.pose, ds.frames, ds.joints, 1, { title: ds.classNames[k] }));
  }
  model.dispose();
  return { top1: ev.top1, top5: ev.top5, chance: 1 / p.numClasses, finalLoss: r.lastLoss, explain: ex };
}

/** Diagnostic (ours): learned offsets vs offsets frozen at zero on the off-grid blob task. */
export async function offsets(p: OffsetsParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const r = await offsetAblation(p.nTrain, p.nTest, p.epochs, ctx.seed, ctx);
  ctx.writeJson('offsets.json', r);
  await ctx.plot('offsets', {
    title: `test accuracy on the off-grid blob task (margin ${(100 * r.margin).toFixed(1)} points)`, data: { values: [{ offsets: 'learned', accuracy: r.learned }, { offsets: 'frozen at 0', accuracy: r.frozen }] },
    mark: 'bar', encoding: { x: { field: 'offsets', type: 'nominal' }, y: { field: 'accuracy', type: 'quantitative', scale: { domain: [0, 1] } } },
  });
  return r;
}

/** The same BLOB_MODEL trained from the same seed twice, offsets learned and frozen at zero; test accuracy of each. */
export async function offsetAblation(nTrain: number, nTest: number, epochs: number, seed: number, ctx?: Pick<RunContext, 'log' | 'signal'>): Promise<{ learned: number; frozen: number; margin: number; offsets: ReturnType<typeof offsetStats> }> {
  const ds = makeBlobTask(nTrain, nTest, seed);
  const o = defaults.offsets;
  const acc: number[] = [];
  let stats: ReturnType<typeof offsetStats> | null = null;
  for (const learn of [true, false]) {
    torch.manualSeed(seed);
    const m = new CrossModalTransformer(makeConfig({ ...BLOB_MODEL, learnOffsets: learn }));
    await trainModel(m, ds, { epochs, batchSize: o.batchSize, lr: o.lr, augment: false, labelSmoothing: 0, seed });
    acc.push(evaluateModel(m, ds.test, ds).top1);
    if (learn) stats = offsetStats(m, ds.test, ds);
    ctx?.log(`${learn ? 'learned' : 'frozen'} offsets: test accuracy ${acc.at(-1)}`);
    m.dispose();
  }
  return { learned: acc[0]!, frozen: acc[1]!, margin: acc[0]! - acc[1]!, offsets: stats! };
}

/** Stride attention cost (the paper's cost argument for its stride attentions): score-matrix entries and time, full vs strided. */
export async function cost(p: CostParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const k0 = defaults.cost;
  const rows: Record<string, number | string>[] = [];
  const time = (c: ActionConfig) => torch.noGrad(() => {
    const m = new CrossModalTransformer(c).eval();
    const pose = torch.randn([k0.batch, c.frames, c.joints, 3]);
    m.forward({ pose }).dispose();
    const t0 = performance.now();
    for (let i = 0; i < p.repeats; i++) torch.scope(() => m.forward({ pose }));
    const ms = (performance.now() - t0) / p.repeats;
    pose.dispose(); m.dispose();
    return ms;
  });
  for (const st of p.temporalStrides) {
    const c = makeConfig({ ...k0.model, rgb: false, frames: p.frames, temporalStride: st });
    const k = attentionCost(c);
    rows.push({ axis: 'temporal', stride: st, scores: k.temporalStrided!, fullScores: k.temporalFull!, ratio: k.temporalFull! / k.temporalStrided!, forwardMs: time(c) });
  }
  for (const sj of p.jointStrides) {
    const c = makeConfig({ ...k0.model, rgb: false, frames: p.frames, jointStride: sj });
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
