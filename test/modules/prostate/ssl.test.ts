// Models-Genesis transformations of the SSL pretext task, one by one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../../src/core/rng.ts';
import {
  makeSSLSample, flipCube, localPixelShuffle, randomBezierMap, applyBezier, bezierCurve, inPaint, outPaint, oneHotZones, type Cube, type Shape3,
} from '../../../src/modules/prostate/ssl.ts';

const shape: Shape3 = [8, 20, 20];
const n = shape[0] * shape[1] * shape[2];
function cube(): Cube {
  const ch = (f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
  return { channels: [ch((i) => (i % 97) / 97), ch((i) => ((i * 7) % 101) / 101), ch((i) => ((i * 13) % 89) / 89), ch((i) => i % 3)], shape };
}

test('flips are applied to x and y together, and flipping twice is the identity', () => {
  const c = cube();
  const s = makeSSLSample(c, new Rng(4), { flipRate: 1, localRate: 0, nonlinearRate: 0, paintRate: 0 });
  assert.equal(s.applied.flips.length, 3);
  for (let k = 0; k < 3; k++) assert.deepEqual(Array.from(s.x[k]!), Array.from(s.y[k]!), 'x = y when only flips apply');
  const ref = { channels: c.channels.map((a) => a.slice()), shape };
  for (const a of s.applied.flips) flipCube(ref, a);
  assert.deepEqual(Array.from(s.y[0]!), Array.from(ref.channels[0]!));
  assert.notDeepEqual(Array.from(s.y[0]!), Array.from(c.channels[0]!));
  const twice = { channels: [c.channels[0]!.slice()], shape };
  flipCube(twice, 1); flipCube(twice, 1);
  assert.deepEqual(Array.from(twice.channels[0]!), Array.from(c.channels[0]!));
  // shapes: 6 input channels, 3 targets
  assert.equal(s.x.length, 6); assert.equal(s.y.length, 3);
  for (const a of [...s.x, ...s.y]) assert.equal(a.length, n);
});

test('local pixel shuffling permutes voxels within a box; the reference quirk copies channel 0', () => {
  const c = cube();
  const out = localPixelShuffle(c.channels[0]!, c.channels[0]!, shape, new Rng(1), 1);
  const changed = Array.from(out).map((v, i) => (v !== c.channels[0]![i] ? i : -1)).filter((i) => i >= 0);
  assert.deepEqual([...out].sort(), [...c.channels[0]!].sort(), 'one box: same multiset of values');
  // changed voxels lie in a box of side <= ⌊n/10⌋ per axis
  const coords = changed.map((i) => [Math.floor(i / 400), Math.floor(i / 20) % 20, i % 20]);
  for (let a = 0; a < 3; a++) {
    const v = coords.map((q) => q[a]!);
    if (v.length) assert.ok(Math.max(...v) - Math.min(...v) + 1 <= Math.max(1, Math.floor(shape[a]! / 10)));
  }
  const seven = new Float32Array(n).fill(7), five = new Float32Array(n).fill(5);
  const ok = localPixelShuffle(five, five, shape, new Rng(2), 50);
  assert.ok(ok.every((v) => v === 5), 'correct behaviour: shuffle within the same channel');
  const quirk = localPixelShuffle(five, seven, shape, new Rng(2), 50);
  assert.ok(quirk.some((v) => v === 7), 'quirk: values of channel 0 leak in');
  const s = makeSSLSample(cube(), new Rng(3), { flipRate: 0, localRate: 1, nonlinearRate: 0, paintRate: 0, shuffleBoxes: 200, referenceQuirk: true });
  assert.ok(s.applied.shuffled.every(Boolean));
});

test('Bézier intensity map: monotone and endpoint-preserving, or inverted', () => {
  const rng = new Rng(5);
  for (let r = 0; r < 10; r++) {
    const m = randomBezierMap(rng, 2000, false);
    const ys = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1].map((x) => applyBezier(Float32Array.of(x), m)[0]!);
    assert.ok(Math.abs(ys[0]!) < 1e-6 && Math.abs(ys[6]! - 1) < 1e-6, 'f(0) = 0, f(1) = 1');
    for (let i = 1; i < ys.length; i++) assert.ok(ys[i]! >= ys[i - 1]! - 1e-7, 'monotone');
    const inv = randomBezierMap(rng, 2000, true);
    assert.ok(Math.abs(applyBezier(Float32Array.of(0), inv)[0]! - 1) < 1e-6 && Math.abs(applyBezier(Float32Array.of(1), inv)[0]!) < 1e-6);
  }
  // a straight control polygon is the identity
  const { xs, ys } = bezierCurve([[0, 0], [1 / 3, 1 / 3], [2 / 3, 2 / 3], [1, 1]], 11);
  xs.forEach((x, i) => assert.ok(Math.abs(x - ys[i]!) < 1e-12));
  assert.equal(xs[0], 1, 'the reference samples from (1,1) at t = 0');
});

test('in-painting keeps a 3-voxel border; out-painting keeps original boxes inside noise', () => {
  const c = new Float32Array(n).fill(2);
  const inp = inPaint(c, shape, new Rng(9));
  for (let z = 0; z < shape[0]; z++) for (let y = 0; y < shape[1]; y++) for (let x = 0; x < shape[2]; x++) {
    const v = inp[(z * 20 + y) * 20 + x]!;
    if (v !== 2) {
      assert.ok(v >= 0 && v < 1, 'noise in [0, 1)');
      assert.ok(y >= 3 && y < 17 && x >= 3 && x < 17, `in-paint at border (${z},${y},${x})`);
    }
  }
  assert.ok(inp.some((v) => v !== 2));
  const out = outPaint(c, shape, new Rng(9));
  const kept = out.filter((v) => v === 2).length;
  assert.ok(kept > 0 && kept < n, `kept ${kept}`);
  assert.ok(out.every((v) => v === 2 || (v >= 0 && v < 1)));
});

test('zonal channel: one-hot by exact equality after corruption; noise voxels become all zero', () => {
  const z = Float32Array.of(0, 1, 2, 0.37, 2);
  const [bg, pz, tz] = oneHotZones(z);
  assert.deepEqual(Array.from(bg), [1, 0, 0, 0, 0]);
  assert.deepEqual(Array.from(pz), [0, 1, 0, 0, 0]);
  assert.deepEqual(Array.from(tz), [0, 0, 1, 0, 1]);
  // full pipeline with painting on: the one-hot channels sum to at most 1
  const s = makeSSLSample(cube(), new Rng(11), { shuffleBoxes: 100, bezierSamples: 2000, paintRate: 1 });
  for (let i = 0; i < n; i++) assert.ok(s.x[3]![i]! + s.x[4]![i]! + s.x[5]![i]! <= 1);
  assert.ok(s.applied.nonlinear[3] === false, 'no intensity transform on the zonal channel');
});
