// Metrics (top-k accuracy, confusion matrix, mean class accuracy), batched prediction, the
// explainability read-outs (per-joint and per-frame attention of the last block — the paper's
// explanation of which joints and frames matter), the statistics of the learned 3D offsets, and the
// figures and files the commands write from them.
import * as torch from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import type { CrossModalTransformer } from './model/index.ts';
import { toBatch, type ActionDataset, type ActionSample } from './data.ts';
import { attentionFigureSvg, skeletonClips, skeletonSvg, svgPng } from './render.ts';
import { averageClips, sampleClip, uniformSampleIndices, type AverageClips } from './clips.ts';

type DsShape = Pick<ActionDataset, 'frames' | 'joints' | 'bodies' | 'coordDim' | 'imgSize'>;

/** Logits [N·K] (row-major) for samples, in batches, eval mode, no grad. */
export function predictLogits(model: CrossModalTransformer, samples: ActionSample[], ds: DsShape, batchSize = 32, useVideo = true): Float32Array {
  const K = model.config.numClasses;
  const out = new Float32Array(samples.length * K);
  const was = model.training;
  model.eval();
  torch.noGrad(() => {
    for (let i = 0; i < samples.length; i += batchSize) {
      torch.scope(() => {
        const b = toBatch(samples.slice(i, i + batchSize), ds, model.config.dtype, useVideo && model.config.rgb);
        const l = model.forward({ pose: b.pose, video: b.video }).to('float32').contiguous().toTypedArray() as Float32Array;
        out.set(l, i * K);
      });
    }
  });
  model.train(was);
  return out;
}

/** Top-k accuracy: fraction of rows whose label is among the k largest logits (ties count against). */
export function topKAccuracy(logits: ArrayLike<number>, labels: ArrayLike<number>, numClasses: number, k: number): number {
  const n = labels.length;
  if (logits.length !== n * numClasses) throw new Error(`topKAccuracy: ${logits.length} logits for ${n} labels × ${numClasses} classes`);
  if (n === 0) return NaN;
  let hit = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    const v = logits[i * numClasses + y]!;
    let above = 0;
    for (let c = 0; c < numClasses; c++) if (c !== y && logits[i * numClasses + c]! >= v) above++;
    if (above < k) hit++;
  }
  return hit / n;
}

export function argmaxRows(logits: ArrayLike<number>, numClasses: number): number[] {
  const n = logits.length / numClasses;
  return Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let c = 1; c < numClasses; c++) if (logits[i * numClasses + c]! > logits[i * numClasses + best]!) best = c;
    return best;
  });
}

/** Confusion matrix m[true][predicted] (counts). */
export function confusionMatrix(labels: ArrayLike<number>, predicted: ArrayLike<number>, numClasses: number): number[][] {
  const m = Array.from({ length: numClasses }, () => new Array<number>(numClasses).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]!]![predicted[i]!]!++;
  return m;
}

/** Mean over classes (present in labels) of per-class accuracy (FineGYM's metric). */
export function meanClassAccuracy(cm: number[][]): number {
  const accs = cm.map((r, i) => { const n = r.reduce((a, b) => a + b, 0); return n ? r[i]! / n : NaN; }).filter((x) => !Number.isNaN(x));
  return accs.reduce((a, b) => a + b, 0) / accs.length;
}

export interface Evaluation {
  n: number; top1: number; top5: number; meanClassAccuracy: number; confusion: number[][]; predicted: number[];
  /** test clips averaged per sample (1 when the samples carry no full sequence) */
  clips: number;
}

/** Metrics of class scores [N·K] (logits or averaged probabilities) against the labels. */
export function scoreMetrics(scores: ArrayLike<number>, labels: number[], K: number, clips = 1): Evaluation {
  const predicted = argmaxRows(scores, K);
  const confusion = confusionMatrix(labels, predicted, K);
  return {
    n: labels.length, top1: topKAccuracy(scores, labels, K, 1), top5: topKAccuracy(scores, labels, K, Math.min(5, K)),
    meanClassAccuracy: meanClassAccuracy(confusion), confusion, predicted, clips,
  };
}

/** PySKL's test protocol: how many UniformSampleFrames clips per sample and how their scores are averaged. */
export interface ClipOptions { numClips: number; average: AverageClips }

/**
 * Class scores [N·K] under multi-clip testing: each sample with a full sequence gives `numClips`
 * test-mode clips whose scores are averaged (softmax probabilities for 'prob', logits for 'score');
 * a sample without one gives its single clip (softmax-ed the same way).
 */
export function clipScores(model: CrossModalTransformer, samples: ActionSample[], ds: DsShape, o: ClipOptions, useVideo = true): Float64Array {
  const K = model.config.numClasses;
  const out = new Float64Array(samples.length * K);
  const chunk = 16; // samples per forward batch group, so that 10 clips of long sequences stay small
  for (let i = 0; i < samples.length; i += chunk) {
    const clips: ActionSample[] = [], counts: number[] = [];
    for (const s of samples.slice(i, i + chunk)) {
      if (s.sequence && o.numClips > 1) {
        const inds = uniformSampleIndices(s.sequence.frames, ds.frames, o.numClips, 'test');
        const T = ds.frames;
        for (let c = 0; c < o.numClips; c++) clips.push({ ...s, pose: sampleClip(s.sequence.data, s.sequence.frames, inds.slice(c * T, (c + 1) * T)) });
        counts.push(o.numClips);
      } else { clips.push(s); counts.push(1); }
    }
    const logits = predictLogits(model, clips, ds, 32, useVideo);
    let at = 0;
    counts.forEach((n, k) => {
      out.set(averageClips(logits.subarray(at * K, (at + n) * K), n, K, o.average), (i + k) * K);
      at += n;
    });
  }
  return out;
}

export function evaluateModel(model: CrossModalTransformer, samples: ActionSample[], ds: DsShape, useVideo = true, clipOpts?: ClipOptions): Evaluation {
  const K = model.config.numClasses;
  const labels = samples.map((s) => s.label);
  if (clipOpts) return scoreMetrics(clipScores(model, samples, ds, clipOpts, useVideo), labels, K, samples.some((s) => s.sequence) ? clipOpts.numClips : 1);
  return scoreMetrics(predictLogits(model, samples, ds, 32, useVideo), labels, K);
}

export interface Explanation {
  /** per-joint attention of c_pose in the last block's joint-stride attention, averaged over frames [J·M] */
  joints: number[];
  /** per-frame attention of the cross-modal tokens in the last block's temporal-stride attention [T] */
  frames: number[];
  /** per-frame, per-joint map [T][J·M] */
  jointsByFrame: number[][];
  logits: number[];
  predicted: number;
}

/** Explainability read-out for one sample (the paper's joint and frame importance). */
export function explainSample(model: CrossModalTransformer, sample: ActionSample, ds: DsShape, useVideo = true): Explanation {
  model.setRecord(true);
  try {
    const logits = Array.from(predictLogits(model, [sample], ds, 1, useVideo));
    const last = model.blocks[model.blocks.length - 1]!;
    const jm = last.joint.lastJointMap!, fm = last.temporal.lastFrameMap!;
    const [, T, J] = jm.shape as [number, number, number];
    const jointsByFrame = Array.from({ length: T }, (_, t) => Array.from(jm.data.subarray(t * J, (t + 1) * J)));
    const joints = Array.from({ length: J }, (_, j) => jointsByFrame.reduce((s, r) => s + r[j]!, 0) / T);
    return { joints, frames: Array.from(fm.data.subarray(0, T)), jointsByFrame, logits, predicted: argmaxRows(logits, logits.length)[0]! };
  } finally {
    model.setRecord(false);
  }
}

export interface OffsetStats {
  /** mean |Δ| over samples, groups, grid points and axes, in grid cells, per block */
  meanAbs: number[];
  /** std across samples of Δ (averaged over positions), per block: > 0 means sample-dependent offsets */
  stdAcrossSamples: number[];
  /** std across grid points (queries) of Δ, per block */
  stdAcrossPoints: number[];
}

/** Offsets the 3D token search predicts on a set of samples (RGB models). */
export function offsetStats(model: CrossModalTransformer, samples: ActionSample[], ds: DsShape): OffsetStats {
  if (!model.config.rgb) throw new Error('offsetStats: the model is pose-only (no 3D deformable attention)');
  model.setRecord(true);
  try {
    predictLogits(model, samples, ds, samples.length, true);
  } finally {
    model.setRecord(false);
  }
  const res: OffsetStats = { meanAbs: [], stdAcrossSamples: [], stdAcrossPoints: [] };
  for (const b of model.blocks) {
    const o = b.deform!.lastOffsets!;
    const B = o.shape[0]!, per = o.data.length / B;
    let abs = 0;
    for (const v of o.data) abs += Math.abs(v);
    res.meanAbs.push(abs / o.data.length);
    // across samples: std over b of each position, averaged
    let sAcross = 0;
    for (let k = 0; k < per; k++) {
      let m = 0, m2 = 0;
      for (let i = 0; i < B; i++) { const v = o.data[i * per + k]!; m += v; m2 += v * v; }
      m /= B; sAcross += Math.sqrt(Math.max(0, m2 / B - m * m));
    }
    res.stdAcrossSamples.push(sAcross / per);
    let sPts = 0;
    for (let i = 0; i < B; i++) for (let a = 0; a < 3; a++) {
      let m = 0, m2 = 0, n = 0;
      for (let k = a; k < per; k += 3) { const v = o.data[i * per + k]!; m += v; m2 += v * v; n++; }
      m /= n; sPts += Math.sqrt(Math.max(0, m2 / n - m * m));
    }
    res.stdAcrossPoints.push(sPts / (B * 3));
  }
  return res;
}

// ------------------------------------------------------------------ files and figures of a run

/** The confusion matrix as a heat-map plot (vega-lite) in the run folder. */
export async function confusionPlot(ctx: Pick<RunContext, 'plot'>, name: string, ev: Evaluation, classNames: string[]): Promise<void> {
  const rows = ev.confusion.flatMap((r, i) => r.map((n, j) => ({ true: classNames[i] ?? String(i), predicted: classNames[j] ?? String(j), count: n })));
  await ctx.plot(name, {
    title: `confusion matrix (top-1 ${(100 * ev.top1).toFixed(1)}%, n=${ev.n})`, data: { values: rows },
    mark: 'rect', width: 24 * classNames.length, height: 24 * classNames.length,
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: classNames, title: 'predicted class' }, y: { field: 'true', type: 'nominal', sort: classNames, title: 'true class' },
      color: { field: 'count', type: 'quantitative', scale: { scheme: 'blues' }, title: 'test clips' },
    },
  });
}

/** Writes the explainability outputs for one sample: JSON, figure SVG+PNG, animated skeleton SVG. */
export async function writeExplanation(ctx: Pick<RunContext, 'writeJson' | 'writeText' | 'writeBytes'>, model: CrossModalTransformer, s: ActionSample, ds: DsShape, classNames: string[], prefix = 'explain'): Promise<Record<string, unknown>> {
  const ex = explainSample(model, s, ds);
  const c = model.config;
  const title = `${s.name}: predicted ${classNames[ex.predicted]}${s.label >= 0 ? `, true ${classNames[s.label]}` : ''}`;
  ctx.writeJson(`${prefix}.json`, { sample: s.name, predicted: classNames[ex.predicted], label: s.label >= 0 ? classNames[s.label] : null, jointImportance: ex.joints, frameImportance: ex.frames, jointsByFrame: ex.jointsByFrame, logits: ex.logits });
  // the pictures take 3 channels per joint (x, y, and z or a score): other inputs keep their first channels
  const pose = c.coordDim === 3 ? s.pose : firstChannels(s.pose, c.coordDim, 3);
  const fig = attentionFigureSvg(
    pose, c.frames, c.joints, c.bodies,
    { jointsByFrame: ex.jointsByFrame, frameWeights: ex.frames, title, panels: Math.min(8, c.frames) },
  );
  ctx.writeText(`${prefix}.svg`, fig);
  ctx.writeBytes(`${prefix}.png`, await svgPng(fig));
  ctx.writeText(`${prefix}-skeleton.svg`, skeletonSvg(pose, c.frames, c.joints, c.bodies, { jointWeights: ex.joints, title }));
  const top = ex.joints.map((w, j) => [w, j] as const).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, j]) => j);
  return { sample: s.name, predicted: classNames[ex.predicted], topJoints: top, topFrame: ex.frames.indexOf(Math.max(...ex.frames)) };
}

/** The first `k` of each joint's C channels (zero-padded when C < k). */
/**
 * skeletons.json (for the dashboard's skeleton viewer): up to `max` clips, one per class first, their
 * joints per frame (the first 3 channels), the bone list, the true class and the model's prediction on the clip.
 */
export function writeSkeletons(ctx: Pick<RunContext, 'writeText'>, model: CrossModalTransformer, samples: ActionSample[], ds: DsShape, classNames: string[], max = 8): number {
  const c = model.config;
  const firstOfClass = classNames.map((_, k) => samples.find((s) => s.label === k)).filter((s): s is ActionSample => s !== undefined);
  const picked = [...new Set([...firstOfClass, ...samples])].slice(0, max);
  if (!picked.length) return 0;
  const logits = predictLogits(model, picked, ds, 32);
  const poses = picked.map((s) => ({ name: s.name, label: s.label, pose: c.coordDim === 3 ? s.pose : firstChannels(s.pose, c.coordDim, 3) }));
  // compact: a few hundred numbers per frame
  ctx.writeText('skeletons.json', JSON.stringify(skeletonClips(poses, logits, { frames: c.frames, joints: c.joints, bodies: c.bodies }, classNames)));
  return picked.length;
}

function firstChannels(pose: Float32Array, C: number, k: number): Float32Array {
  const n = pose.length / C, out = new Float32Array(n * k);
  for (let i = 0; i < n; i++) for (let c = 0; c < Math.min(C, k); c++) out[i * k + c] = pose[i * C + c]!;
  return out;
}
