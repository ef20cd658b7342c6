// Clip sampling and multi-clip testing as in PySKL's evaluation protocol: UniformSampleFrames (the
// sequence cut into clip_len segments, one frame drawn from each; shorter sequences loop, sequences
// under twice the clip length keep every frame but a random few), a fresh random clip per epoch in
// training and `numClips` clips from a fixed seed (255, reset for every sample) in testing; the class
// scores of a sample's clips averaged as probabilities (average_clips='prob') or raw scores
// ('score'); and late fusion of several streams' score files (weighted sum of the scores).
import { Rng } from '../../core/rng.ts';
import fs from 'node:fs';
import path from 'node:path';
import { InputFileError, parseJson, readFileError } from '../../core/errors.ts';
import type { AverageClips } from './config.ts';

export { AVERAGE_CLIPS, type AverageClips } from './config.ts';

/** The test-time seed of UniformSampleFrames (reset for every sample, so every sample sees the same stream). */
export const TEST_SEED = 255;

/** k distinct integers from [0, n), without replacement (partial Fisher–Yates). */
function chooseDistinct(rng: Rng, n: number, k: number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) { const j = i + rng.int(0, n - i); const t = a[i]!; a[i] = a[j]!; a[j] = t; }
  return a.slice(0, k);
}

/**
 * UniformSampleFrames: frame indices of `numClips` clips of `clipLen` frames from a `total`-frame
 * sequence, concatenated, each in [0, total). `test` mode draws from Rng(TEST_SEED) (reproducible
 * per sample); `train` mode from `rng`.
 */
export function uniformSampleIndices(total: number, clipLen: number, numClips: number, mode: 'train' | 'test', rng?: Rng): number[] {
  if (!(total >= 1) || !(clipLen >= 1) || !(numClips >= 1)) throw new Error(`uniformSampleIndices: total ${total}, clipLen ${clipLen}, numClips ${numClips} must be ≥ 1`);
  const r = mode === 'test' ? new Rng(TEST_SEED) : rng ?? new Rng(0);
  const out: number[] = [];
  for (let i = 0; i < numClips; i++) {
    let inds: number[];
    if (total < clipLen) {
      const start = mode === 'test' ? (total < numClips ? i : Math.floor((i * total) / numClips)) : r.int(0, total);
      inds = Array.from({ length: clipLen }, (_, k) => start + k);
    } else if (total < 2 * clipLen) {
      // keep clipLen frames in order, skipping (total − clipLen) of the clipLen + 1 gaps at random
      const skip = new Uint8Array(clipLen + 1);
      for (const k of chooseDistinct(r, clipLen + 1, total - clipLen)) skip[k] = 1;
      let off = 0;
      inds = Array.from({ length: clipLen }, (_, k) => { off += skip[k]!; return k + off; });
    } else {
      const bids = Array.from({ length: clipLen + 1 }, (_, k) => Math.floor((k * total) / clipLen));
      inds = Array.from({ length: clipLen }, (_, k) => bids[k]! + r.int(0, bids[k + 1]! - bids[k]!));
    }
    for (const x of inds) out.push(x % total);
  }
  return out;
}

/** The frames `inds` of a sequence [T·rowSize] (rows of J·M·C values): a clip [inds.length·rowSize]. */
export function sampleClip(seq: Float32Array, frames: number, inds: readonly number[]): Float32Array {
  const row = seq.length / frames;
  const out = new Float32Array(inds.length * row);
  inds.forEach((t, k) => out.set(seq.subarray(t * row, (t + 1) * row), k * row));
  return out;
}


/** Row-wise softmax of logits [N·K]. */
export function softmaxRows(logits: ArrayLike<number>, K: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length / K; i++) {
    let mx = -Infinity;
    for (let c = 0; c < K; c++) mx = Math.max(mx, logits[i * K + c]!);
    let z = 0;
    for (let c = 0; c < K; c++) { const e = Math.exp(logits[i * K + c]! - mx); out[i * K + c] = e; z += e; }
    for (let c = 0; c < K; c++) out[i * K + c]! /= z;
  }
  return out;
}

/** Averages the clips of each sample: logits [N·clips·K] → scores [N·K] (softmax first for 'prob'). */
export function averageClips(logits: ArrayLike<number>, clips: number, K: number, mode: AverageClips): Float64Array {
  const s = mode === 'prob' ? softmaxRows(logits, K) : Float64Array.from(logits);
  const N = s.length / (clips * K);
  const out = new Float64Array(N * K);
  for (let i = 0; i < N; i++) for (let k = 0; k < clips; k++) for (let c = 0; c < K; c++) out[i * K + c]! += s[(i * clips + k) * K + c]! / clips;
  return out;
}

/** A score file of one evaluated stream (scores.json): per-sample class scores, in sample order. */
export interface ScoreFile {
  format: 'paperlab-action-scores-1';
  names: string[];
  labels: number[];
  classNames: string[];
  /** streams the model was trained on (j, b, jm, bm) */
  feats: string[];
  clips: number;
  average: AverageClips;
  /** [N][K] */
  scores: number[][];
}

/** Late fusion (PySKL's ensemble of j/b/jm/bm): the weighted sum of the files' scores, samples matched by name. */
export function fuseScores(files: { file: string; s: ScoreFile }[], weights: number[]): { names: string[]; labels: number[]; scores: Float64Array; K: number } {
  const base = files[0]!.s;
  const K = base.classNames.length, N = base.names.length;
  const scores = new Float64Array(N * K);
  files.forEach(({ file, s }, f) => {
    if (s.classNames.length !== K) throw new InputFileError(`${file}: ${s.classNames.length} classes, but ${files[0]!.file} has ${K}`);
    const pos = new Map(s.names.map((n, i) => [n, i]));
    base.names.forEach((n, i) => {
      const j = pos.get(n);
      if (j === undefined) throw new InputFileError(`${file}: no scores for sample '${n}' (of ${files[0]!.file})`);
      if (s.labels[j] !== base.labels[i]) throw new InputFileError(`${file}: sample '${n}' has label ${s.labels[j]}, ${files[0]!.file} says ${base.labels[i]}`);
      const row = s.scores[j]!;
      for (let c = 0; c < K; c++) scores[i * K + c]! += weights[f]! * row[c]!;
    });
  });
  return { names: base.names, labels: base.labels, scores, K };
}

/** Reads and checks a scores.json (a file, or a run folder holding one); errors name the file and the field. */
export function readScoreFile(p: string): { file: string; s: ScoreFile } {
  const file = fs.existsSync(p) && fs.statSync(p).isDirectory() ? path.join(p, 'scores.json') : p;
  let text: string;
  try { text = fs.readFileSync(file, 'utf8'); } catch (e) { throw readFileError(file, e); }
  const s = parseJson<Partial<ScoreFile>>(text, file);
  const bad = (f: string, msg: string): never => { throw new InputFileError(`${file}: field '${f}' ${msg}`, { file }); };
  if (typeof s !== 'object' || s === null || s.format !== 'paperlab-action-scores-1') bad('format', "must be 'paperlab-action-scores-1' (a scores.json of action evaluate/train)");
  if (!Array.isArray(s.names) || !s.names.every((n) => typeof n === 'string')) bad('names', 'must be a list of sample names');
  if (!Array.isArray(s.classNames) || s.classNames.length < 1) bad('classNames', 'must be a non-empty list');
  const N = s.names!.length, K = s.classNames!.length;
  if (!Array.isArray(s.labels) || s.labels.length !== N || !s.labels.every((l) => Number.isInteger(l) && l >= 0 && l < K)) bad('labels', `must be ${N} labels in [0, ${K})`);
  if (!Array.isArray(s.scores) || s.scores.length !== N) bad('scores', `must have ${N} rows`);
  s.scores!.forEach((r, i) => {
    if (!Array.isArray(r) || r.length !== K || !r.every((x) => typeof x === 'number' && Number.isFinite(x))) bad(`scores[${i}]`, `must be ${K} finite numbers`);
  });
  return { file, s: { feats: [], clips: 1, average: 'prob', ...s } as ScoreFile };
}
