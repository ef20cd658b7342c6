// Real formats: NTU RGB+D .skeleton (grammar, multi-body, variable body count, missing frames,
// CRLF, 64-bit ids, line-numbered errors), sample names and the four split protocols, Penn Action
// MAT level-5 (column-major, logical, compressed and not), frame folders, synthetic generators.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {
  parseSkeleton, readSkeleton, formatSkeleton, parseNtuName, ntuSplit, listNtu, clipToPose, bodyFromJoints, NTU_JOINTS,
  formatMat, parseMat, readPennLabel, listPenn, pennToPose, PENN_CLASSES,
  makeSynthetic, makeBlobTask, synthSkeleton, SYNTH_DEFAULTS, augmentPose, readFrameFolder, toBatch, loadDataset,
} from '../../../src/modules/action/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import * as torch from '../../../src/core/torch/index.ts';
import { tmpDir } from '../../helpers/context.ts';

const ID1 = '72057594037931101'; // > 2^53: a float would change it
const ID2 = '72057594037931102';

/** A hand-written 3-frame file: frame 1 one body, frame 2 no body, frame 3 two bodies. */
function handWritten(eol: string): string {
  const L: string[] = ['3'];
  const joint = (f: number, b: number, j: number) => {
    const x = (f * 100 + b * 10 + j) / 1000; // exact decimal values to compare against
    return `${x} ${-x} ${2 + x} ${200 + j} ${100 + f} ${900 + j} ${500 + f} 1 0 0 0 ${j % 3}`;
  };
  const body = (f: number, b: number, id: string) => {
    L.push(`${id} 0 1 2 0 1 0 ${0.25 * b} -0.5 2`, '25');
    for (let j = 0; j < 25; j++) L.push(joint(f, b, j));
  };
  L.push('1'); body(0, 0, ID1);
  L.push('0');
  L.push('2'); body(2, 0, ID1); body(2, 1, ID2);
  return L.join(eol) + eol;
}

test('NTU reader: exact values, 64-bit body ids, bodies matched across frames, missing frame, CRLF', () => {
  for (const eol of ['\n', '\r\n']) {
    const clip = parseSkeleton(handWritten(eol), 'S001C002P003R002A013.skeleton');
    assert.equal(clip.frames, 3);
    assert.equal(clip.bodies.length, 2);
    const [b1, b2] = clip.bodies;
    assert.equal(b1!.id, ID1);
    assert.equal(b2!.id, ID2);
    assert.deepEqual([...b1!.present], [1, 0, 1]);
    assert.deepEqual([...b2!.present], [0, 0, 1]);
    // joint 7 of body 1 in frame 3: x = (2·100 + 0 + 7)/1000
    const k = (2 * NTU_JOINTS + 7) * 3;
    assert.equal(b1!.joints[k], Math.fround(0.207));
    assert.equal(b1!.joints[k + 1], Math.fround(-0.207));
    assert.equal(b1!.joints[k + 2], Math.fround(2.207));
    assert.equal(b2!.joints[(2 * NTU_JOINTS + 24) * 3], Math.fround(0.234));
    assert.equal(b1!.depth2d[(2 * NTU_JOINTS + 7) * 2], 207);
    assert.equal(b1!.color2d[(2 * NTU_JOINTS + 7) * 2 + 1], 502);
    assert.equal(b1!.tracking[2 * NTU_JOINTS + 7], 1);
    assert.equal(b1!.orientation[(2 * NTU_JOINTS + 7) * 4], 1);
    assert.equal(b2!.info[2 * 9 + 6], 0.25); // leanX of body 2 in frame 3
    assert.ok(Number.isNaN(b1!.joints[(1 * NTU_JOINTS) * 3]!), 'absent frame is NaN');
    assert.deepEqual(clip.meta, { setup: 1, camera: 2, performer: 3, replication: 2, action: 13, label: 12, name: 'S001C002P003R002A013' });
    // the writer round-trips
    const again = parseSkeleton(formatSkeleton(clip, eol), 'x');
    assert.deepEqual([...again.bodies[1]!.joints.subarray(2 * 75, 3 * 75)], [...b2!.joints.subarray(2 * 75, 3 * 75)]);
  }
});

test('NTU reader: malformed files give the file and line number', () => {
  const good = handWritten('\n').split('\n');
  // line 7 is joint 3 of the first body (1 frame count, 2 body count, 3 body, 4 joint count, 5.. joints)
  const bad = [...good]; bad[6] = bad[6]!.split(' ').slice(0, 11).join(' ');
  assert.throws(() => parseSkeleton(bad.join('\n'), 'bad.skeleton'), /bad\.skeleton:7: expected 12 values \(joint 3 of body 1, frame 1/);
  const nan = [...good]; nan[9] = nan[9]!.replace(/^\S+/, 'abc');
  assert.throws(() => parseSkeleton(nan.join('\n'), 'nan.skeleton'), /nan\.skeleton:10: .*value 1 is not a finite number$/);
  const truncated = good.slice(0, 40).join('\n');
  assert.throws(() => parseSkeleton(truncated, 'cut.skeleton'), /cut\.skeleton:40: file ends early: expected joint 8 of body 1, frame 3/);
  const badCount = [...good]; badCount[3] = '24';
  assert.throws(() => parseSkeleton(badCount.join('\n'), 'j.skeleton'), /j\.skeleton:4: joint count must be 25, got 24/);
  const badState = [...good]; badState[4] = badState[4]!.replace(/\S+$/, '7');
  assert.throws(() => parseSkeleton(badState.join('\n'), 's.skeleton'), /s\.skeleton:5: .*trackingState must be 0, 1 or 2$/);
  const dir = tmpDir();
  assert.throws(() => readSkeleton(path.join(dir, 'missing.skeleton')), /missing\.skeleton: no such/);
});

test('NTU sample names and the four split protocols', () => {
  const m = (s: string) => parseNtuName(s);
  assert.throws(() => parseNtuName('S01C002P003R002A013'), /not an NTU sample name/);
  // X-Sub: performer 1 trains, performer 3 tests
  assert.equal(ntuSplit(m('S001C001P001R001A001'), 'ntu60-xsub'), 'train');
  assert.equal(ntuSplit(m('S001C001P003R001A001'), 'ntu60-xsub'), 'test');
  // X-View: cameras 2, 3 train; camera 1 tests
  assert.equal(ntuSplit(m('S005C002P003R001A001'), 'ntu60-xview'), 'train');
  assert.equal(ntuSplit(m('S005C003P003R001A001'), 'ntu60-xview'), 'train');
  assert.equal(ntuSplit(m('S005C001P001R001A001'), 'ntu60-xview'), 'test');
  // NTU120-only samples are excluded from NTU60 protocols
  assert.equal(ntuSplit(m('S018C001P001R001A001'), 'ntu60-xsub'), 'excluded');
  assert.equal(ntuSplit(m('S001C001P001R001A061'), 'ntu60-xview'), 'excluded');
  // NTU120 X-Sub adds performers such as 45 and 103; 44 is a test subject
  assert.equal(ntuSplit(m('S020C001P045R001A100'), 'ntu120-xsub'), 'train');
  assert.equal(ntuSplit(m('S020C001P103R001A100'), 'ntu120-xsub'), 'train');
  assert.equal(ntuSplit(m('S020C001P044R001A100'), 'ntu120-xsub'), 'test');
  // X-Set: even setups train
  assert.equal(ntuSplit(m('S032C001P001R001A001'), 'ntu120-xset'), 'train');
  assert.equal(ntuSplit(m('S031C001P001R001A001'), 'ntu120-xset'), 'test');
});

test('NTU folder: split membership, ignore list, main actor, normalisation', async () => {
  const dir = tmpDir();
  const rng = new Rng(3);
  const names = ['S001C001P001R001A001', 'S001C001P003R001A002', 'S001C002P002R001A001', 'S018C001P001R001A001'];
  for (const [i, n] of names.entries()) {
    const T = 6;
    const still = bodyFromJoints(ID2, synthSkeleton(0, rng, { ...SYNTH_DEFAULTS, frames: T, noise: 0 }).map((v) => v * 0.001), T);
    const actor = bodyFromJoints(ID1, synthSkeleton(i % 6, rng, { ...SYNTH_DEFAULTS, frames: T }), T);
    fs.writeFileSync(path.join(dir, `${n}.skeleton`), formatSkeleton({ frames: T, bodies: [still, actor] }));
  }
  fs.writeFileSync(path.join(dir, 'ignore.txt'), '# missing skeletons\nS001C002P002R001A001\n');
  const e = listNtu(dir, 'ntu60-xsub', new Set(['S001C002P002R001A001']));
  assert.deepEqual(e.map((x) => [x.meta.name, x.split]), [['S001C001P001R001A001', 'train'], ['S001C001P003R001A002', 'test']]);
  const clip = readSkeleton(path.join(dir, `${names[0]}.skeleton`));
  const pose = clipToPose(clip, 4, 2);
  // main actor = the moving body (ID1) is body slot 0; its spine base starts at the origin
  assert.deepEqual([pose.data[0], pose.data[1], pose.data[2]], [0, 0, 0]);
  const torso = Math.hypot(pose.data[20 * 3]!, pose.data[20 * 3 + 1]!, pose.data[20 * 3 + 2]!);
  assert.ok(torso > 0.8 && torso < 1.2, `torso length ≈ 1 after scaling, got ${torso}`);
  const ds = await loadDataset(`ntu:${dir}`, { frames: 4, bodies: 1, protocol: 'ntu60-xsub', ignoreList: path.join(dir, 'ignore.txt'), rgb: false, imgSize: 16 });
  assert.equal(ds.train.length, 1);
  assert.equal(ds.test.length, 1);
  assert.equal(ds.test[0]!.label, 1);
  assert.equal(ds.classNames.length, 60);
});

test('Penn Action MAT level-5: column-major arrays, logical, char, compressed and plain; JSON fallback', () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'labels'));
  const nf = 3, J = 13;
  const x = new Float64Array(nf * J), y = new Float64Array(nf * J), vis = new Uint8Array(nf * J);
  for (let f = 0; f < nf; f++) for (let j = 0; j < J; j++) {
    x[j * nf + f] = 100 * f + j; // column-major: element (f, j) at j·nf + f
    y[j * nf + f] = 200 + 10 * f + j;
    vis[j * nf + f] = (f + j) % 2;
  }
  const vars = {
    action: 'jumping_jacks', pose: 'front', x: { rows: nf, cols: J, data: x }, y: { rows: nf, cols: J, data: y },
    visibility: { rows: nf, cols: J, data: vis, logical: true }, train: { rows: 1, cols: 1, data: [-1] },
    nframes: { rows: 1, cols: 1, data: [nf] }, dimensions: { rows: 1, cols: 3, data: [480, 640, nf] },
    bbox: { rows: nf, cols: 4, data: new Float64Array(nf * 4) },
  };
  fs.writeFileSync(path.join(dir, 'labels', '0001.mat'), formatMat(vars));
  fs.writeFileSync(path.join(dir, 'labels', '0002.mat'), formatMat({ ...vars, train: { rows: 1, cols: 1, data: [1] } }, false));
  const m = parseMat(fs.readFileSync(path.join(dir, 'labels', '0001.mat')), '0001.mat');
  assert.equal(m.visibility!.kind === 'numeric' && m.visibility!.logical, true);
  const e = readPennLabel(path.join(dir, 'labels', '0001.mat'));
  assert.equal(e.action, 'jumping_jacks');
  assert.equal(e.label, PENN_CLASSES.indexOf('jumping_jacks'));
  assert.equal(e.label, 7);
  assert.equal(e.x[2]![5], 205); // [frame][joint]
  assert.equal(e.y[1]![12], 222);
  assert.equal(e.visibility[1]![2], true);
  assert.equal(e.visibility[1]![1], false);
  assert.equal(e.train, false);
  assert.deepEqual(e.dimensions, [480, 640, 3]);
  const e2 = readPennLabel(path.join(dir, 'labels', '0002.mat'));
  assert.equal(e2.train, true);
  assert.deepEqual(e2.x, e.x);
  fs.writeFileSync(path.join(dir, 'labels', '0003.json'), JSON.stringify({ action: 'squats', x: e.x, y: e.y, visibility: e.visibility, train: 1, nframes: nf }));
  const all = listPenn(dir);
  assert.deepEqual(all.map((a) => [a.id, a.label, a.train]), [['0001', 7, false], ['0002', 7, true], ['0003', 11, true]]);
  const p = pennToPose(e, 2);
  assert.equal(p.length, 2 * 13 * 3);
  // errors name the file and field
  const bad = formatMat({ ...vars, action: 'dancing' });
  fs.writeFileSync(path.join(dir, 'bad.mat'), bad);
  assert.throws(() => readPennLabel(path.join(dir, 'bad.mat')), /bad\.mat: field 'action' is not one of /);
  fs.writeFileSync(path.join(dir, 'cut.mat'), bad.subarray(0, 200));
  assert.throws(() => readPennLabel(path.join(dir, 'cut.mat')), /cut\.mat: (truncated|corrupt)/);
  fs.writeFileSync(path.join(dir, 'short.json'), JSON.stringify({ action: 'squats', x: [[1, 2]], y: [[1, 2]], train: 1, nframes: 1 }));
  assert.throws(() => readPennLabel(path.join(dir, 'short.json')), /short\.json: field 'x' must be nframes×13/);
});

test('frame folders: PNG and JPEG read in numeric order, resized, sampled evenly', async () => {
  const dir = tmpDir();
  for (let i = 1; i <= 12; i++) {
    const v = i * 20;
    const raw = Buffer.alloc(8 * 8 * 3, v);
    const img = sharp(raw, { raw: { width: 8, height: 8, channels: 3 } });
    await (i % 2 ? img.png() : img.jpeg({ quality: 100 })).toFile(path.join(dir, `frame${i}.${i % 2 ? 'png' : 'jpg'}`));
  }
  const v = await readFrameFolder(dir, 4, 4); // picks frames 2, 5, 8, 11 (1-based) of 12
  const at = (t: number) => v[(0 * 4 + t) * 16]!;
  assert.deepEqual([at(0), at(1), at(2), at(3)].map((x) => Math.round(x * 255)), [40, 100, 160, 220]);
  await assert.rejects(readFrameFolder(path.join(dir, 'nope'), 4, 4), /nope: no such frame folder/);
});

test('synthetic generators are seeded; augmentation keeps shape; batches validate', () => {
  const a = makeSynthetic(12, 6, 5, { frames: 8, numClasses: 6, imgSize: 16 });
  const b = makeSynthetic(12, 6, 5, { frames: 8, numClasses: 6, imgSize: 16 });
  assert.deepEqual(a.train[3]!.pose, b.train[3]!.pose);
  assert.notDeepEqual(a.train[3]!.pose, a.test[3]!.pose);
  assert.equal(a.train[0]!.video!.length, 3 * 8 * 16 * 16);
  const aug = augmentPose(a.train[0]!.pose, 8, new Rng(1));
  assert.equal(aug.length, a.train[0]!.pose.length);
  const blob = makeBlobTask(8, 4, 1);
  assert.deepEqual(blob.train.map((s) => s.label), [0, 1, 2, 3, 0, 1, 2, 3]);
  const before = torch.liveTensors();
  const batch = toBatch(a.train.slice(0, 4), a, 'float32');
  assert.deepEqual(batch.pose.shape, [4, 8, 25, 3]);
  assert.deepEqual(batch.video!.shape, [4, 3, 8, 16, 16]);
  torch.dispose(batch);
  assert.equal(torch.liveTensors(), before);
  const broken = { ...a.train[0]!, pose: a.train[0]!.pose.slice(0, 10) };
  assert.throws(() => toBatch([broken], a, 'float32'), /sample 'train0-wave': pose has 10 values, expected 600/);
  const nan = { ...a.train[0]!, pose: Float32Array.from(a.train[0]!.pose, (v, i) => (i === 4 ? NaN : v)) };
  assert.throws(() => toBatch([nan], a, 'float32'), /pose value 4 is not finite/);
});

test('Penn root with frame folders → RGB+pose dataset → model; generic JSON keypoint records', async () => {
  const dir = tmpDir();
  fs.mkdirSync(path.join(dir, 'labels'));
  const nf = 5, J = 13;
  const col = (f: (fr: number, j: number) => number) => {
    const a = new Float64Array(nf * J);
    for (let fr = 0; fr < nf; fr++) for (let j = 0; j < J; j++) a[j * nf + fr] = f(fr, j);
    return a;
  };
  for (const [id, action, train] of [['0001', 'squats', 1], ['0002', 'bowling', -1]] as const) {
    fs.writeFileSync(path.join(dir, 'labels', `${id}.mat`), formatMat({
      action, x: { rows: nf, cols: J, data: col((f, j) => 100 + 5 * j + f) }, y: { rows: nf, cols: J, data: col((_f, j) => 50 + 10 * j) },
      visibility: { rows: nf, cols: J, data: col(() => 1), logical: true },
      train: { rows: 1, cols: 1, data: [train] }, nframes: { rows: 1, cols: 1, data: [nf] },
    }));
    fs.mkdirSync(path.join(dir, 'frames', id), { recursive: true });
    for (let i = 1; i <= nf; i++) {
      await sharp(Buffer.alloc(12 * 10 * 3, 30 * i), { raw: { width: 12, height: 10, channels: 3 } }).jpeg().toFile(path.join(dir, 'frames', id, `${String(i).padStart(6, '0')}.jpg`));
    }
  }
  const ds = await loadDataset(`penn:${dir}`, { frames: 4, bodies: 1, protocol: 'ntu60-xsub', rgb: true, imgSize: 8 });
  assert.equal(ds.train.length, 1);
  assert.equal(ds.test[0]!.label, PENN_CLASSES.indexOf('bowling'));
  assert.equal(ds.imgSize, 8);
  assert.equal(ds.train[0]!.video!.length, 3 * 4 * 8 * 8);
  const { CrossModalTransformer, configFor } = await import('../../../src/modules/action/index.ts');
  const cfg = configFor(ds, { dim: 8, heads: 2, depth: 1, mlpRatio: 2, jointGrouping: 'stride', jointStride: 5, temporalStride: 2, offsetGroups: 1, offsetRange: 2, learnOffsets: true, head: 'concat' }, true);
  assert.equal(cfg.rgb, true);
  assert.equal(cfg.joints, 13);
  const m = new CrossModalTransformer(cfg);
  torch.scope(() => {
    const b = toBatch([...ds.train, ...ds.test], ds, 'float32');
    assert.deepEqual(m.forward({ pose: b.pose, video: b.video }).shape, [2, 15]);
  });
  m.dispose();
  // pose-only loading leaves the frames alone
  const dp = await loadDataset(`penn:${dir}`, { frames: 4, bodies: 1, protocol: 'ntu60-xsub', rgb: false, imgSize: 8 });
  assert.equal(dp.imgSize, null);
  assert.equal(dp.train[0]!.video, undefined);
  // generic records {keypoint: [M][T][V][C], label}
  const jd = tmpDir();
  for (const split of ['train', 'test']) fs.mkdirSync(path.join(jd, split));
  const rec = (label: number, v0: number) => JSON.stringify({
    label,
    keypoint: [Array.from({ length: 6 }, (_, t) => Array.from({ length: 17 }, (_, v) => [v0 + t, v, 0.9]))],
  });
  fs.writeFileSync(path.join(jd, 'train', 'a.json'), rec(0, 0));
  fs.writeFileSync(path.join(jd, 'train', 'b.json'), rec(3, 10));
  fs.writeFileSync(path.join(jd, 'test', 'c.json'), rec(2, 20));
  const dj = await loadDataset(`json:${jd}`, { frames: 3, bodies: 1, protocol: 'ntu60-xsub', rgb: false, imgSize: 8 });
  assert.deepEqual([dj.joints, dj.bodies, dj.coordDim, dj.classNames.length], [17, 1, 3, 4]);
  // frame t of 3 reads source frame floor((t + 0.5)·6/3) = 1, 3, 5: x = v0 + that frame
  assert.deepEqual([dj.train[1]!.pose[0], dj.train[1]!.pose[17 * 3], dj.train[1]!.pose[2 * 17 * 3 + 3 * 5 + 1]], [11, 13, 5]);
  fs.writeFileSync(path.join(jd, 'test', 'd.json'), JSON.stringify({ label: 1, keypoint: [[[[1, 2]]]] }));
  await assert.rejects(loadDataset(`json:${jd}`, { frames: 3, bodies: 1, protocol: 'ntu60-xsub', rgb: false, imgSize: 8 }), /d\.json: field 'keypoint' has M=1, V=1, C=2/);
});
