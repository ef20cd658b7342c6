// PySKL's annotation files (fixtures written by Debian's python3 with numpy + pickle, protocols 2
// and 4: scripts/fixtures/pyskl_ann.py), their corrupt twins, the skeleton layouts and streams
// (joints, bones, motion), PreNormalize3D/2D, UniformSampleFrames, multi-clip score averaging and
// late fusion — each checked against its definition on hand-made cases.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import {
  readPysklFile, parseRecord, recordKeypoint, recordScore, resolveSplit, pysklDataset, NTU_LAYOUT, COCO_LAYOUT, OPENPOSE_LAYOUT, layoutFor,
  jointToBone, toMotion,
  skeletonFeatures, preNormalize3D, preNormalize2D, checkFeats, uniformSampleIndices, averageClips, softmaxRows, fuseScores, readScoreFile,
  type ScoreFile, type Skel,
} from '../../../src/modules/action/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import { InputFileError, UsageError } from '../../../src/core/errors.ts';
import { tmpDir } from '../../helpers/context.ts';

const FIX = fileURLToPath(new URL('../../fixtures/action/', import.meta.url));
const fx = (f: string) => path.join(FIX, f);
interface ExpectedRecord {
  frame_dir: string; label: number; total_frames: number; shape: number[]; dtype: string; sum: number; first: number[]; last: number[]; scoreSum?: number;
}
interface Expected { split: Record<string, number>; annotations: ExpectedRecord[] }
const expected = JSON.parse(fs.readFileSync(fx('expected.json'), 'utf8')) as Record<string, Expected>;

test('PySKL files as Python writes them (protocol 2 as mmcv.dump, protocol 4 as pickle.dump): every record, field and value', () => {
  for (const name of ['ntu3d_p2.pkl', 'ntu3d_p4.pkl', 'coco2d_p2.pkl']) {
    const f = readPysklFile(fx(name));
    const e = expected[name]!;
    assert.deepEqual(Object.fromEntries(Object.entries(f.split).map(([k, v]) => [k, v.length])), e.split, `${name}: split sizes`);
    assert.equal(f.records.length, e.annotations.length);
    f.records.forEach((r, i) => {
      const x = e.annotations[i]!;
      const k = recordKeypoint(r);
      assert.equal(r.frameDir, x.frame_dir);
      assert.equal(r.label, x.label);
      assert.equal(r.totalFrames, x.total_frames);
      assert.deepEqual([k.M, k.T, k.V, k.C], x.shape);
      let sum = 0;
      for (const v of k.data) sum += v;
      assert.ok(Math.abs(sum - x.sum) <= 1e-9 * Math.max(1, Math.abs(x.sum)) * k.data.length, `${name} record ${i}: sum ${sum} vs ${x.sum}`);
      // float16 values widen exactly to float32: first and last values are equal, not close
      assert.deepEqual(Array.from(k.data.subarray(0, k.C)), x.first);
      assert.deepEqual(Array.from(k.data.subarray(k.data.length - k.C)), x.last);
      if (x.scoreSum !== undefined) {
        let s = 0;
        for (const v of recordScore(r)!) s += v;
        assert.ok(Math.abs(s - x.scoreSum) < 1e-3, `${name} record ${i}: score sum`);
        assert.deepEqual(r.imgShape, [1080, 1920]);
      } else assert.equal(recordScore(r), null);
    });
  }
  // the protocol-4 file holds the first 6 records of the protocol-2 file: the same values
  const p2 = readPysklFile(fx('ntu3d_p2.pkl')), p4 = readPysklFile(fx('ntu3d_p4.pkl'));
  p4.records.forEach((r, i) => assert.deepEqual(recordKeypoint(r).data, recordKeypoint(p2.records[i]!).data));
});

test('corrupt twins: the error names the file and the record (index, frame_dir) and the field', () => {
  const cases: [string, RegExp][] = [
    ['ntu3d_no_keypoint.pkl', /ntu3d_no_keypoint\.pkl: annotation 3 \('S001C001P001R002A001'\), field 'keypoint': missing/],
    ['ntu3d_bad_rank.pkl', /ntu3d_bad_rank\.pkl: annotation 2 \('S001C003P001R001A003'\), field 'keypoint': must be a 4-D array \[M, T, V, C\], got shape \[22, 25, 3\]/],
    ['coco2d_bad_score.pkl', /coco2d_bad_score\.pkl: annotation 1 \('S001C002P001R001A002'\), field 'keypoint_score': must be \[M, T, V\] = \[1, 21, 17\]/],
    ['ntu3d_truncated.pkl', /ntu3d_truncated\.pkl: pickle truncated or corrupt.*\(pickle byte \d+\)/],
  ];
  for (const [f, re] of cases) assert.throws(() => readPysklFile(fx(f)), (e: Error) => e instanceof InputFileError && re.test(e.message), f);
  // fields checked on plain values (what the unpickler returns for dicts)
  const kp = { kind: 'ndarray', dtype: 'float32', shape: [1, 2, 17, 2], data: new Float32Array(68) };
  assert.throws(() => parseRecord({ frame_dir: 'v', keypoint: kp }, 5, 'a.pkl'), /a\.pkl: annotation 5 \('v'\), field 'label': missing/);
  assert.throws(() => parseRecord({ frame_dir: 'v', label: 1, keypoint: kp, total_frames: 3 }, 0, 'a.pkl'), /field 'total_frames': is 3 but 'keypoint' has T = 2/);
  assert.throws(() => parseRecord({ frame_dir: 'v', label: 0, raw_file: 'k.pkl' }, 0, 'k400.pkl'), /field 'keypoint': missing: this is a Kinetics-400 table of contents/);
  const nan = { ...kp, data: new Float32Array(68).fill(Number.NaN) };
  assert.throws(() => parseRecord({ frame_dir: 'v', label: 0, keypoint: nan }, 0, 'a.pkl'), /field 'keypoint': value 0 is not finite/);
  // a pickle that is not PySKL's dict
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'list.pkl'), Uint8Array.from([0x80, 2, 0x7d, 0x71, 0, 0x2e])); // {} protocol 2
  assert.throws(() => readPysklFile(path.join(dir, 'list.pkl')), /list\.pkl: expected PySKL's dict \{'split', 'annotations'\}/);
});

test('splits: xsub → xsub_train/xsub_val, explicit pairs, unknown names list the file\'s splits', () => {
  const f = readPysklFile(fx('ntu3d_p2.pkl'));
  assert.deepEqual(resolveSplit(f, 'xsub'), ['xsub_train', 'xsub_val']);
  assert.deepEqual(resolveSplit(f, 'xsub_train/xsub_val'), ['xsub_train', 'xsub_val']);
  assert.throws(() => resolveSplit(f, 'xview'), (e: Error) => e instanceof UsageError && /has no split 'xview_train'\. Its splits: xsub_train, xsub_val/.test(e.message));
  const ds = pysklDataset(f, 'xsub', { frames: 12, bodies: 2, feats: ['j', 'b'] });
  assert.equal(ds.train.length, 18);
  assert.equal(ds.test.length, 9);
  assert.deepEqual([ds.joints, ds.bodies, ds.coordDim, ds.classNames.length], [25, 2, 6, 3]);
  assert.equal(ds.classNames[0], 'A001');
  assert.equal(ds.train[0]!.pose.length, 12 * 50 * 6);
  assert.ok(ds.train.every((s) => s.sequence && s.sequence.data.length === s.sequence.frames * 50 * 6));
  const c = pysklDataset(readPysklFile(fx('coco2d_p2.pkl')), 'xsub', { frames: 12, bodies: 1, feats: ['j'], limit: 4 });
  assert.deepEqual([c.joints, c.bodies, c.coordDim, c.layout, c.train.length, c.test.length], [17, 1, 3, 'coco', 4, 4]);
  assert.throws(() => checkFeats(['b'], layoutFor(13)), /bone streams need a known skeleton/);
  assert.throws(() => checkFeats(['x'], NTU_LAYOUT), /unknown stream 'x'/);
});

test('bone pairs: every joint is a bone end once; bone = joint − parent; the root bone is zero; scores average', () => {
  for (const l of [NTU_LAYOUT, COCO_LAYOUT, OPENPOSE_LAYOUT]) {
    assert.deepEqual(l.pairs!.map(([v]) => v), Array.from({ length: l.joints }, (_, v) => v), `${l.name}: one pair per joint`);
    const roots = l.pairs!.filter(([a, b]) => a === b).map(([a]) => a);
    assert.equal(roots.length, 1, `${l.name}: one root`);
    // every joint reaches the root through its parents (a tree)
    for (let v = 0; v < l.joints; v++) { let u = v, n = 0; while (l.pairs![u]![1] !== u && n++ < l.joints) u = l.pairs![u]![1]; assert.equal(u, roots[0]); }
  }
  assert.deepEqual([NTU_LAYOUT.pairs![20], NTU_LAYOUT.pairs![11], NTU_LAYOUT.pairs![24], COCO_LAYOUT.pairs![9]], [[20, 20], [11, 10], [24, 11], [9, 7]]);
  const rng = new Rng(1);
  const s: Skel = { data: Float32Array.from({ length: 2 * 3 * 25 * 3 }, () => rng.normal()), M: 2, T: 3, V: 25, C: 3 };
  const b = jointToBone(s, NTU_LAYOUT, false);
  const at = (x: Skel, m: number, t: number, v: number, c: number) => x.data[((m * x.T + t) * x.V + v) * x.C + c]!;
  assert.equal(at(b, 1, 2, 11, 0), Math.fround(at(s, 1, 2, 11, 0) - at(s, 1, 2, 10, 0)));
  assert.equal(at(b, 0, 1, 20, 2), 0);
  // 2D + score: the bone's third channel is the mean of the two joints' scores
  const k: Skel = { data: Float32Array.from({ length: 17 * 3 }, () => rng.uniform()), M: 1, T: 1, V: 17, C: 3 };
  const kb = jointToBone(k, COCO_LAYOUT, true);
  assert.ok(Math.abs(at(kb, 0, 0, 9, 2) - (at(k, 0, 0, 9, 2) + at(k, 0, 0, 7, 2)) / 2) < 1e-7);
  assert.ok(Math.abs(at(kb, 0, 0, 9, 1) - (at(k, 0, 0, 9, 1) - at(k, 0, 0, 7, 1))) < 1e-7);
  // motion: next frame minus this one, zero at the last frame
  const mo = toMotion(s, false);
  assert.equal(at(mo, 1, 0, 4, 1), Math.fround(at(s, 1, 1, 4, 1) - at(s, 1, 0, 4, 1)));
  assert.equal(at(mo, 0, 2, 4, 1), 0);
  // streams concatenated along channels in the order asked
  const f = skeletonFeatures(s, NTU_LAYOUT, ['b', 'j', 'bm'], false);
  assert.equal(f.C, 9);
  assert.equal(at(f, 1, 0, 11, 3), at(s, 1, 0, 11, 0));
  assert.equal(at(f, 1, 0, 11, 0), at(b, 1, 0, 11, 0));
  assert.equal(at(f, 1, 0, 11, 6), Math.fround(at(b, 1, 1, 11, 0) - at(b, 1, 0, 11, 0)));
});

test('PreNormalize3D: empty frames dropped, spine joint at the origin, spine on +z, shoulders on +x; PreNormalize2D scales by the image', () => {
  const rng = new Rng(2);
  const T = 4, V = 25;
  // a body in its canonical frame (spine joint 1 at the origin, spine 0 → 1 along +z, shoulders 4 → 8 along +x) ...
  const canon = Array.from({ length: V }, () => [rng.normal(0, 0.3), rng.normal(0, 0.3), rng.normal(0, 0.3)]);
  canon[0] = [0, 0, -0.3]; canon[1] = [0, 0, 0]; canon[4] = [-0.2, 0, 0.2]; canon[8] = [0.2, 0, 0.2];
  // ... seen turned by a rotation (unit quaternion: a random axis, 70°; near 180° the two-step alignment is
  // ill-conditioned — the second axis is a cross product of nearly opposite vectors — in PySKL's code as here) and moved
  const ax = ((a) => a.map((x) => x / Math.hypot(...a)))([rng.normal(), rng.normal(), rng.normal()]);
  const half = (70 * Math.PI) / 360;
  const [qw, qx, qy, qz] = [Math.cos(half), ...ax.map((x) => x * Math.sin(half))] as number[];
  const R = [
    [1 - 2 * (qy! ** 2 + qz! ** 2), 2 * (qx! * qy! - qz! * qw!), 2 * (qx! * qz! + qy! * qw!)],
    [2 * (qx! * qy! + qz! * qw!), 1 - 2 * (qx! ** 2 + qz! ** 2), 2 * (qy! * qz! - qx! * qw!)],
    [2 * (qx! * qz! - qy! * qw!), 2 * (qy! * qz! + qx! * qw!), 1 - 2 * (qx! ** 2 + qy! ** 2)],
  ];
  const s: Skel = { data: new Float32Array(2 * T * V * 3), M: 2, T, V, C: 3 };
  // person 0 present in frames 1..3 only (frame 0 empty); person 1 (fewer frames) in frame 2
  for (let t = 1; t < T; t++) for (let v = 0; v < V; v++) for (let c = 0; c < 3; c++) {
    s.data[((0 * T + t) * V + v) * 3 + c] = R[c]!.reduce((a, r, k) => a + r * canon[v]![k]!, 0) + [1, 2, 3][c]! + 0.1 * t;
  }
  for (let v = 0; v < V; v++) s.data[((1 * T + 2) * V + v) * 3] = 5;
  const n = preNormalize3D(s);
  assert.equal(n.T, 3, 'the empty frame is dropped');
  // the first kept frame comes back in the canonical frame, joint by joint
  for (let v = 0; v < V; v++) for (let c = 0; c < 3; c++) assert.ok(Math.abs(n.data[v * 3 + c]! - canon[v]![c]!) < 1e-4, `joint ${v} axis ${c}`);
  // later frames are moved by the same transform (their 0.1·t drift stays a rigid shift)
  const d = [0, 1, 2].map((c) => n.data[(1 * V + 7) * 3 + c]! - n.data[7 * 3 + c]!);
  assert.ok(Math.abs(Math.hypot(...d) - 0.1 * Math.sqrt(3)) < 1e-4);
  const p = preNormalize2D({ data: Float32Array.from([960, 540, 0.9, 1920, 0, 0.5]), M: 1, T: 1, V: 2, C: 3 }, [1080, 1920]);
  assert.deepEqual(Array.from(p.data), [0, 0, Math.fround(0.9), 1, -1, 0.5]);
});

test('UniformSampleFrames: one frame per segment, short sequences loop, mid-length keep order; test clips repeat exactly', () => {
  const rng = new Rng(3);
  for (const total of [5, 12, 17, 23, 24, 100]) {
    const clip = 12;
    const inds = uniformSampleIndices(total, clip, 10, 'test');
    assert.equal(inds.length, 120);
    assert.ok(inds.every((i) => Number.isInteger(i) && i >= 0 && i < total));
    assert.deepEqual(uniformSampleIndices(total, clip, 10, 'test'), inds, 'test mode is reproducible');
    for (let k = 0; k < 10; k++) {
      const c = inds.slice(k * clip, (k + 1) * clip);
      if (total >= 2 * clip) c.forEach((i, s) => assert.ok(i >= Math.floor((s * total) / clip) && i < Math.floor(((s + 1) * total) / clip), `segment ${s}`));
      else if (total >= clip) for (let s = 1; s < clip; s++) assert.ok(c[s]! > c[s - 1]! && c[s]! - c[s - 1]! <= 2);
      else { // loops from a start that moves with the clip index
        const start = total < 10 ? k : Math.floor((k * total) / 10);
        assert.deepEqual(c, Array.from({ length: clip }, (_, s) => (start + s) % total));
      }
    }
    const tr = uniformSampleIndices(total, clip, 1, 'train', rng);
    assert.equal(tr.length, clip);
  }
  // training clips vary with the generator, test clips do not
  const a = uniformSampleIndices(100, 12, 1, 'train', new Rng(1)), b = uniformSampleIndices(100, 12, 1, 'train', new Rng(2));
  assert.notDeepEqual(a, b);
});

test('multi-clip averaging (prob and score) and late fusion, worked by hand; score-file corrupt twin', () => {
  // one sample, two clips, two classes: logits (0, ln 3) and (ln 3, 0)
  const l = [0, Math.log(3), Math.log(3), 0];
  const sm = softmaxRows(l, 2);
  assert.ok(Math.abs(sm[1]! - 0.75) < 1e-12);
  assert.deepEqual(Array.from(averageClips(l, 2, 2, 'prob')).map((x) => +x.toFixed(12)), [0.5, 0.5]);
  assert.deepEqual(Array.from(averageClips([1, 2, 3, 6], 2, 2, 'score')), [2, 4]);
  const s = (names: string[], scores: number[][], feats: string[]): ScoreFile => ({
    format: 'paperlab-action-scores-1', names, labels: names.map((n) => Number(n.at(-1))), classNames: ['a', 'b'], feats, clips: 10, average: 'prob', scores,
  });
  const j = s(['x0', 'y1'], [[0.6, 0.4], [0.7, 0.3]], ['j']);
  const b = s(['y1', 'x0'], [[0.1, 0.9], [0.45, 0.55]], ['b']); // other order: matched by name
  const f = fuseScores([{ file: 'j', s: j }, { file: 'b', s: b }], [2, 1]);
  assert.deepEqual(Array.from(f.scores).map((x) => +x.toFixed(12)), [1.65, 1.35, 1.5, 1.5]);
  assert.throws(() => fuseScores([{ file: 'j', s: j }, { file: 'c.json', s: s(['x0'], [[1, 0]], ['b']) }], [1, 1]), /c\.json: no scores for sample 'y1'/);
  const dir = tmpDir();
  const good = path.join(dir, 'scores.json');
  fs.writeFileSync(good, JSON.stringify(j));
  assert.equal(readScoreFile(dir).s.names.length, 2);
  fs.writeFileSync(good, JSON.stringify({ ...j, scores: [[0.6, 0.4], [0.7]] }));
  assert.throws(() => readScoreFile(good), (e: Error) => e instanceof InputFileError && /scores\.json: field 'scores\[1\]' must be 2 finite numbers/.test(e.message));
});

test('CLI: a corrupt annotation file exits 4 naming the record; an unknown stream or split exits 2', () => {
  const home = tmpDir('paperlab-action-cli-');
  const bin = fileURLToPath(new URL('../../../bin/paperlab.js', import.meta.url));
  const cli = (args: string[]) => spawnSync(process.execPath, [bin, 'action', 'train', '--modality', 'pose', ...args, '--quiet'], {
    encoding: 'utf8', env: { ...process.env, PAPERLAB_HOME: home },
  });
  const a = cli(['--annotations', fx('ntu3d_no_keypoint.pkl')]);
  assert.equal(a.status, 4, a.stderr);
  assert.match(a.stderr, /ntu3d_no_keypoint\.pkl: annotation 3 \('S001C001P001R002A001'\), field 'keypoint': missing/);
  const b = cli(['--annotations', fx('ntu3d_p4.pkl'), '--feats', 'j,x']);
  assert.equal(b.status, 2, b.stderr);
  assert.match(b.stderr, /parameter 'feats\.1'/);
  const c = cli(['--annotations', fx('ntu3d_p4.pkl'), '--split', 'xset']);
  assert.equal(c.status, 2, c.stderr);
  assert.match(c.stderr, /has no split 'xset_train'\. Its splits: xsub_train, xsub_val/);
});
