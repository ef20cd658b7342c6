// skeletons.json, the file the dashboard's skeleton viewer plays (render.ts skeletonClips): its
// schema, joints per frame as written (absent joints null), bones inside the frame's joint list,
// labels from the class names, the predicted class and its softmax probability from the logits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { skeletonClips } from '../../../src/modules/action/render.ts';
import { makeSynthetic } from '../../../src/modules/action/synthetic.ts';

test('skeletonClips: schema, joints per frame, bones in range, true and predicted labels', () => {
  const ds = makeSynthetic(0, 6, 3, { frames: 5, numClasses: 3 });
  const K = ds.classNames.length, nj = ds.joints * ds.bodies;
  const samples = ds.test.slice(0, 2).map((s) => ({ ...s, pose: s.pose.slice() }));
  samples[1]!.pose[(2 * nj + 4) * 3] = NaN; // joint 4 absent in frame 2 of clip 1
  samples[1]!.label = -1;                    // an unlabelled clip
  const logits = new Float32Array(2 * K);
  logits.set([0, 2, 0], 0);                  // clip 0: class 1
  logits.set([5, 0, 0], K);                  // clip 1: class 0
  const j = skeletonClips(samples, logits, ds, ds.classNames, 8);
  const round = JSON.parse(JSON.stringify(j)) as typeof j;
  assert.equal(round.format, 'paperlab-action-skeletons-1');
  assert.deepEqual([round.fps, round.joints, round.bodies, round.classNames], [8, ds.joints, ds.bodies, ds.classNames]);
  assert.ok(round.bones.length > 0);
  for (const [a, b] of round.bones) assert.ok(a >= 0 && a < nj && b >= 0 && b < nj && a !== b, `bone ${a}-${b}`);
  assert.equal(round.clips.length, 2);
  for (const c of round.clips) {
    assert.equal(c.frames.length, ds.frames);
    for (const f of c.frames) assert.equal(f.length, nj);
  }
  const c0 = round.clips[0]!;
  assert.equal(c0.name, samples[0]!.name);
  assert.equal(c0.label, ds.classNames[samples[0]!.label]);
  assert.equal(c0.predicted, ds.classNames[1]);
  assert.ok(Math.abs(c0.probability - Math.exp(2) / (Math.exp(2) + 2)) < 1e-4);
  const p = samples[0]!.pose;
  assert.deepEqual(c0.frames[3]![7], [p[(3 * nj + 7) * 3]!, p[(3 * nj + 7) * 3 + 1]!, p[(3 * nj + 7) * 3 + 2]!].map((v) => Math.round(v * 1e4) / 1e4));
  const c1 = round.clips[1]!;
  assert.equal(c1.label, null);
  assert.equal(c1.predicted, ds.classNames[0]);
  assert.equal(c1.frames[2]![4], null, 'an absent joint is null');
  assert.notEqual(c1.frames[2]![5], null);
});

test('skeletonClips: a second body of zeros (PySKL padding) is absent, a real joint at the origin is kept', () => {
  const J = 3, T = 2, pose = new Float32Array(T * 2 * J * 3);
  pose.set([0, 0, 0, 1, 2, 3, 4, 5, 6], 0);             // frame 0, body 0: joint 0 at the origin
  pose.set([1, 1, 1, 0, 0, 0, 0, 0, 0], 2 * J * 3);     // frame 1, body 0
  pose.set([7, 7, 7, 8, 8, 8, 9, 9, 9], 2 * J * 3 + J * 3); // frame 1, body 1 (frame 0's body 1 stays zeros)
  const j = skeletonClips([{ name: 'x', label: 0, pose }], [1, 0], { frames: T, joints: J, bodies: 2 }, ['a', 'b']);
  const f = j.clips[0]!.frames;
  assert.deepEqual(f[0], [[0, 0, 0], [1, 2, 3], [4, 5, 6], null, null, null]);
  assert.deepEqual(f[1], [[1, 1, 1], [0, 0, 0], [0, 0, 0], [7, 7, 7], [8, 8, 8], [9, 9, 9]]);
});
