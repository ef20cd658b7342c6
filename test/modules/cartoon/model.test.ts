import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import { Cartooner, MultiTextureDiscriminator, SNConv2d, selectBranches } from '../../../src/modules/cartoon/model.ts';
import { distanceTransform, slic } from '../../../src/modules/cartoon/raster.ts';
import { highFrequencyRatio, spearman, strokeWidth, wrapDeg } from '../../../src/modules/cartoon/evaluate.ts';
import { lineWidth, makeScene, renderCartoon, targetSide } from '../../../src/modules/cartoon/scenes.ts';
import { LEVELS } from '../../../src/modules/cartoon/config.ts';
import { rgbToLabPlanar } from '../../../src/modules/cartoon/raster.ts';
import { rotateHue } from '../../../src/modules/cartoon/color.ts';

torch.manualSeed(0);

test('nearest-two branch selection: i = floor(α), j = min(i+1, N), w = α − i, clamped to [1, N]', () => {
  assert.deepEqual(selectBranches(5, 2.5), { i: 2, j: 3, w: 0.5 });
  assert.deepEqual(selectBranches(5, 3), { i: 3, j: 4, w: 0 });
  assert.deepEqual(selectBranches(5, 5), { i: 5, j: 5, w: 0 });
  assert.deepEqual(selectBranches(5, 0.2), { i: 1, j: 2, w: 0 });
  assert.deepEqual(selectBranches(5, 9), { i: 5, j: 5, w: 0 });
  assert.throws(() => selectBranches(5, NaN), /finite/);
});

test('controller output at a real level is the linear interpolation of the two nearest branches', () => {
  torch.scope(() => {
    // (float32: Module.to() of the core facade leaves Conv2d.weight fields pointing at the old tensors)
    const m = new Cartooner({ channels: 4 });
    m.controller.abstractionOn = true;
    // give the (zero-initialised) abstraction pointwise convs weights so both units matter
    torch.noGrad(() => { for (const [n, p] of m.namedParameters()) if (n.includes('abstraction') && n.includes('pw')) p.normal_(0, 0.3); });
    const f = torch.randn([2, 4, 8, 8]);
    const c = m.controller;
    const g = (unit: typeof c.stroke, k: number) => unit.forward(f, k);
    const got = c.forward(f, 2.3, 4.75);
    const want = f.add(g(c.stroke, 2).mul(0.7).add(g(c.stroke, 3).mul(0.3))).add(g(c.abstraction, 4).mul(0.25).add(g(c.abstraction, 5).mul(0.75)));
    assert.ok(got.sub(want).abs().max().item() < 1e-5);
    // per-group levels equal separate calls
    const grouped = c.forward(f, [1, 4], [2, 2]);
    assert.ok(grouped.narrow(0, 1, 1).sub(c.forward(f.narrow(0, 1, 1), 4, 2)).abs().max().item() < 1e-5);
    m.dispose();
  });
});

test('exact disentanglement by construction: colour-map edits leave L bit-identical, α edits leave ab bit-identical', () => {
  torch.scope(() => {
    const m = new Cartooner({ channels: 8 });
    m.controller.abstractionOn = true;
    const photo = torch.rand([2, 3, 16, 16]), map = torch.rand([2, 3, 16, 16]);
    const a = m.forward(photo, map, 2, 3), b = m.forward(photo, rotateHue(map, 120), 2, 3), c = m.forward(photo, map, 4.5, 1.2);
    assert.ok(a.L.equal(b.L));
    assert.ok(a.ab.equal(c.ab));
    assert.ok(!a.ab.equal(b.ab) && !a.L.equal(c.L));
    assert.deepEqual(a.lab.shape, [2, 3, 16, 16]);
    assert.ok(a.L.min().item() >= 0 && a.L.max().item() <= 100 && a.ab.abs().max().item() <= 110);
    assert.throws(() => m.forward(torch.rand([1, 3, 15, 16]), torch.rand([1, 3, 15, 16]), 1, 1), /even/);
    assert.throws(() => m.forward(photo, torch.rand([2, 3, 8, 8]), 1, 1), /must match/);
    assert.throws(() => m.forward(torch.rand([2, 1, 16, 16]), map, 1, 1), /\[N, 3, H, W\]/);
    m.dispose();
  });
});

test('multi-texture discriminator: one head per level, spectral norm gives unit spectral norm', () => {
  torch.scope(() => {
    const D = new MultiTextureDiscriminator(5, 8);
    const out = D.forward(torch.rand([2, 1, 32, 32]).mul(100), 3);
    assert.deepEqual(out.shape, [2, 1, 8, 8]);
    assert.throws(() => D.forward(torch.rand([1, 1, 32, 32]), 6), /level/);
    const sn = new SNConv2d(4, 6, 3);
    for (let i = 0; i < 50; i++) sn.forward(torch.rand([1, 4, 5, 5]));
    const u = sn.namedBuffers()[0]![1];
    const wm = sn.weight.reshape([6, -1]);
    const v = torch.F.normalize(wm.t().mv(u), 2, 0);
    const sigma = u.dot(wm.mv(v)).item();
    const top = (torch.op('linalg_svdvals')(wm, null) as torch.Tensor).max().item();
    assert.ok(Math.abs(sigma - top) / top < 1e-4, `power iteration σ ${sigma} vs largest singular value ${top}`);
    D.dispose(); sn.dispose();
  });
});

test('exact distance transform matches brute force', () => {
  const rng = new Rng(5);
  const h = 13, w = 17;
  const f = Uint8Array.from({ length: h * w }, () => (rng.random() < 0.08 ? 1 : 0));
  f[0] = 1;
  const d = distanceTransform(f, h, w);
  for (let i = 0; i < h * w; i++) {
    let best = Infinity;
    for (let j = 0; j < h * w; j++) if (f[j]) best = Math.min(best, Math.hypot((i % w) - (j % w), Math.floor(i / w) - Math.floor(j / w)));
    assert.ok(Math.abs(d[i]! - best) < 1e-5);
  }
});

test('stroke-width metric reads known line widths; Spearman and HF ratio behave', () => {
  for (const width of [1, 2, 3, 5]) {
    const L = new Float32Array(48 * 48).fill(80);
    for (let y = 0; y < 48; y++) for (let x = 20; x < 20 + width; x++) L[y * 48 + x] = 10;
    for (let x = 0; x < 48; x++) for (let y = 8; y < 8 + width; y++) L[y * 48 + x] = 10;
    const W = strokeWidth(L, 48, 48);
    assert.ok(Math.abs(W - width) < 0.75, `width ${width} read as ${W}`);
  }
  // a line that thickens into an adjacent dark object: the ink reading keeps growing with the line
  const merged = (width: number) => {
    const L = new Float32Array(64 * 64).fill(80);
    for (let y = 16; y < 48; y++) for (let x = 20; x < 36; x++) L[y * 64 + x] = 15; // a dark 16×32 object
    for (let y = 4; y < 60; y++) for (let x = 36; x < 36 + width; x++) L[y * 64 + x] = 5; // its outline
    return L;
  };
  const ink = [1, 3, 5].map((wd) => strokeWidth(merged(wd), 64, 64));
  assert.ok(ink[0]! < ink[1]! && ink[1]! < ink[2]!, `ink W over line widths 1, 3, 5 next to a dark object: ${ink}`);
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [1, 3, 2, 5, 4]) - 0.8) < 1e-12);
  assert.equal(wrapDeg(350), -10);
  assert.equal(wrapDeg(-190), 170);
  const rng = new Rng(1);
  const noisy = Float32Array.from({ length: 32 * 32 }, (_, i) => 50 + 20 * Math.sin(i / 50) + 10 * rng.normal());
  const smooth = Float32Array.from({ length: 32 * 32 }, (_, i) => 50 + 20 * Math.sin(i / 50));
  assert.ok(highFrequencyRatio(noisy, 32, 32) > 10 * highFrequencyRatio(smooth, 32, 32));
});

test('procedural scenes: deterministic, SLIC colour map, and ground-truth cartoons with monotone stroke width and abstraction', () => {
  const a = makeScene(new Rng(11), 48), b = makeScene(new Rng(11), 48);
  assert.deepEqual(a.photo.data, b.photo.data);
  assert.deepEqual([1, 2, 3, 4, 5].map((k) => targetSide(k, 64)), [64, 80, 104, 136, 200]);
  const { count } = slic(a.photo, 30);
  assert.ok(count >= 10 && count <= 60, `SLIC made ${count} segments for 30 requested`);
  const xs: number[] = [], ws: number[] = [], hs: number[] = [];
  const rng = new Rng(12);
  for (let i = 0; i < 4; i++) {
    const s = makeScene(rng, 64);
    for (let k = 1; k <= LEVELS; k++) {
      xs.push(k);
      ws.push(strokeWidth(rgbToLabPlanar(renderCartoon(s, 1, lineWidth(k, 64))).data.subarray(0, 4096), 64, 64));
      hs.push(highFrequencyRatio(rgbToLabPlanar(renderCartoon(s, k, lineWidth(1, 64))).data.subarray(0, 4096), 64, 64));
    }
  }
  assert.ok(spearman(xs, ws) >= 0.8, `ground-truth stroke Spearman ${spearman(xs, ws)}`);
  assert.ok(spearman(xs, hs) <= -0.8, `ground-truth abstraction Spearman ${spearman(xs, hs)}`);
});
