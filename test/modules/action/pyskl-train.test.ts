// The PySKL protocol end to end on the Python-written fixture (test/fixtures/action/ntu3d_p2.pkl):
// `action train --annotations … --split xsub --feats j` and `--feats b` train briefly, test with 10
// clips per sample (probabilities averaged), `evaluate` reproduces the scores from the saved model,
// and `fuse` sums the two streams' scores. The averaging is checked against clips scored one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { train, evaluate, fuse } from '../../../src/modules/action/experiments.ts';
import { trainParams, evaluateParams } from '../../../src/modules/action/commands.ts';
import { loadModel, pysklDataset, readPysklFile, uniformSampleIndices, sampleClip, predictLogits, softmaxRows, type ScoreFile } from '../../../src/modules/action/index.ts';
import { fakeContext, tmpDir } from '../../helpers/context.ts';

const ann = fileURLToPath(new URL('../../fixtures/action/ntu3d_p2.pkl', import.meta.url));
const readScores = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'scores.json'), 'utf8')) as ScoreFile;

test('PySKL protocol: train per stream (j, b), 10-clip testing, evaluate reproduces the scores, fuse sums the streams', async () => {
  const base = { annotations: ann, split: 'xsub', modality: 'pose', frames: 12, bodies: 2, dim: 32, heads: 2, depth: 1, epochs: 30, batchSize: 6, lr: 5e-3, labelSmoothing: 0 };
  const dirs: Record<string, string> = {};
  for (const feats of [['j'], ['b']]) {
    const dir = tmpDir();
    const r = await train(trainParams.parse({ ...base, feats }), fakeContext({ dir, seed: 0 }));
    dirs[feats[0]!] = dir;
    console.log(`stream ${feats}: ${r.nTrain} train / ${r.nTest} test, loss → ${(r.finalLoss as number).toFixed(3)}, 10-clip top-1 ${(r.top1 as number).toFixed(3)} (chance 0.333)`);
    assert.equal(r.clips, 10);
    assert.equal(r.nTest, 9);
    assert.ok((r.top1 as number) >= 6 / 9, `stream ${feats}: top-1 ${r.top1} should be ≥ 6/9 (chance 1/3)`);
    const s = readScores(dir);
    assert.deepEqual(s.feats, feats);
    assert.equal(s.scores.length, 9);
    for (const row of s.scores) assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-9, 'averaged probabilities sum to 1');
  }
  // the 10-clip score of a sample is the mean of the softmax of its clips scored one by one
  const { model } = loadModel(dirs.b!);
  const ds = pysklDataset(readPysklFile(ann), 'xsub', { frames: 12, bodies: 2, feats: ['b'] });
  const s0 = ds.test[4]!;
  const inds = uniformSampleIndices(s0.sequence!.frames, 12, 10, 'test');
  const clips = Array.from({ length: 10 }, (_, c) => ({ ...s0, pose: sampleClip(s0.sequence!.data, s0.sequence!.frames, inds.slice(12 * c, 12 * c + 12)) }));
  const p = softmaxRows(predictLogits(model, clips, ds), 3);
  const mean = [0, 1, 2].map((k) => Array.from({ length: 10 }, (_, c) => p[c * 3 + k]!).reduce((a, b) => a + b, 0) / 10);
  const row = readScores(dirs.b!).scores[4]!;
  mean.forEach((m, k) => assert.ok(Math.abs(m - row[k]!) < 1e-6, `class ${k}: ${m} vs ${row[k]}`));
  model.dispose();
  // evaluate on the saved model: the same clips, the same scores (the streams come from the model)
  const ectx = fakeContext();
  const ev = await evaluate(evaluateParams.parse({ model: dirs.b, annotations: ann, split: 'xsub', numClips: 10 }), ectx);
  assert.equal(ev.clips, 10);
  assert.deepEqual(ev.feats, ['b']);
  readScores(ectx.dir).scores.forEach((r, i) => r.forEach((x, k) => assert.ok(Math.abs(x - readScores(dirs.b!).scores[i]![k]!) < 1e-6)));
  // late fusion: weighted sum of the two streams' scores
  const fctx = fakeContext();
  const f = await fuse({ scores: `${dirs.j},${path.join(dirs.b!, 'scores.json')}`, weights: [2, 1] }, fctx);
  const fused = readScores(fctx.dir), j = readScores(dirs.j!), b = readScores(dirs.b!);
  fused.scores.forEach((r, i) => r.forEach((x, k) => assert.ok(Math.abs(x - (2 * j.scores[i]![k]! + b.scores[i]![k]!)) < 1e-9)));
  console.log(`fused (2·j + b): top-1 ${(f.top1 as number).toFixed(3)}; streams ${JSON.stringify(f.streams)}`);
  assert.ok((f.top1 as number) >= 6 / 9);
  await assert.rejects(fuse({ scores: dirs.j! }, fakeContext()), /at least two score files/);
  await assert.rejects(fuse({ scores: `${dirs.j},${dirs.b}`, weights: [1] }, fakeContext()), /1 weights for 2 score files/);
});
