import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import { augmentLab, hsvPerturb, hsvToRgb, labToRgb, rgbToHsv, rgbToLab, rotateHue } from '../../../src/modules/cartoon/color.ts';

function rgbGrid(): torch.Tensor {
  // random colours plus the hard cases: greys, primaries, secondaries, black, white, near-ties
  const rng = new Rng(3);
  const vals: number[][] = [];
  for (let i = 0; i < 500; i++) vals.push([rng.random(), rng.random(), rng.random()]);
  for (const v of [0, 0.25, 0.5, 1]) vals.push([v, v, v]);
  vals.push([1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 1], [1, 1e-12, 0], [0.3, 0.3, 0.30000001]);
  const n = vals.length;
  const flat = new Float64Array(3 * n);
  vals.forEach((v, i) => { flat[i] = v[0]!; flat[n + i] = v[1]!; flat[2 * n + i] = v[2]!; });
  return torch.tensor(flat, { shape: [1, 3, 1, n] });
}

test('HSV round trip is exact in float64 (max error < 1e-12), hue in [0, 1)', () => {
  torch.scope(() => {
    const rgb = rgbGrid();
    const hsv = rgbToHsv(rgb);
    const back = hsvToRgb(hsv);
    assert.ok(back.sub(rgb).abs().max().item() < 1e-12, `max error ${back.sub(rgb).abs().max().item()}`);
    const h = hsv.select(1, 0);
    assert.ok(h.min().item() >= 0 && h.max().item() < 1);
  });
});

test('HSV values of known colours; hue rotation by 120° maps red → green → blue', () => {
  torch.scope(() => {
    const red = torch.tensor([1, 0, 0], { dtype: 'float64' }).reshape([1, 3, 1, 1]);
    assert.deepEqual(rgbToHsv(red).toArray(), [0, 1, 1]);
    const green = rotateHue(red, 120);
    assert.ok(green.sub(torch.tensor([0, 1, 0], { dtype: 'float64' }).reshape([1, 3, 1, 1])).abs().max().item() < 1e-12);
    const blue = rotateHue(green, 120);
    assert.ok(blue.sub(torch.tensor([0, 0, 1], { dtype: 'float64' }).reshape([1, 3, 1, 1])).abs().max().item() < 1e-12);
    const back = rotateHue(rotateHue(rgbGrid(), 73), -73);
    assert.ok(back.sub(rgbGrid()).abs().max().item() < 1e-12);
  });
});

test('Lab: reference values (white, black, sRGB primaries) and an exact round trip', () => {
  torch.scope(() => {
    const cols = torch.tensor([[1, 0, 1, 0, 0], [1, 0, 0, 1, 0], [1, 0, 0, 0, 1]], { dtype: 'float64' }).reshape([1, 3, 1, 5]);
    const lab = rgbToLab(cols).reshape([3, 5]).tolist() as number[][];
    const expect = [[100, 0, 0], [0, 0, 0], [53.2408, 80.0925, 67.2032], [87.7347, -86.1827, 83.1793], [32.2970, 79.1875, -107.8602]];
    expect.forEach((e, i) => e.forEach((v, c) => assert.ok(Math.abs(lab[c]![i]! - v) < 0.01, `colour ${i} channel ${c}: ${lab[c]![i]} vs ${v}`)));
    const rgb = rgbGrid();
    assert.ok(labToRgb(rgbToLab(rgb)).sub(rgb).abs().max().item() < 1e-9);
  });
});

test('Lab conversion is differentiable with finite gradients (black and white included)', () => {
  torch.scope(() => {
    const rgb = rgbGrid().requiresGrad_();
    const lab = rgbToLab(rgb);
    lab.square().sum().backward();
    assert.equal(rgb.grad!.isfinite().all().item(), true);
    const x = torch.tensor([0.2, 0.5, 0.7], { dtype: 'float64' }).reshape([1, 3, 1, 1]).requiresGrad_();
    // finite-difference check of dL/dG
    rgbToLab(x).select(1, 0).sum().backward();
    const g = x.grad!.toArray()[1]!;
    const f = (v: number) => rgbToLab(torch.tensor([0.2, v, 0.7], { dtype: 'float64' }).reshape([1, 3, 1, 1])).select(1, 0).item();
    const fd = (f(0.5 + 1e-6) - f(0.5 - 1e-6)) / 2e-6;
    assert.ok(Math.abs(g - fd) < 1e-5, `${g} vs ${fd}`);
  });
});

test('HSV augmentation with L-caching keeps L exactly and changes only chroma', () => {
  torch.scope(() => {
    const rgb = rgbGrid();
    const lab0 = rgbToLab(rgb);
    const aug = augmentLab(rgb, { hue: 90, sat: 1.3, val: 0.85 });
    assert.ok(aug.select(1, 0).equal(lab0.select(1, 0)), 'L must be the cached L bit for bit');
    assert.ok(aug.narrow(1, 1, 2).sub(lab0.narrow(1, 1, 2)).abs().mean().item() > 5, 'chroma should change');
    // without L-caching the value scale would have changed lightness
    const plain = rgbToLab(hsvPerturb(rgb, { hue: 90, sat: 1.3, val: 0.85 }));
    assert.ok(plain.select(1, 0).sub(lab0.select(1, 0)).abs().mean().item() > 1);
  });
});

test('per-sample jitters on a batch equal jittering each sample alone', () => {
  torch.scope(() => {
    const rgb = torch.rand([3, 3, 4, 4], { dtype: 'float64' });
    const js = [{ hue: 30, sat: 1.2, val: 0.9 }, { hue: -150, sat: 0.6, val: 1.1 }, { hue: 0, sat: 1, val: 1 }];
    const batch = augmentLab(rgb, js);
    js.forEach((j, i) => assert.ok(batch.narrow(0, i, 1).sub(augmentLab(rgb.narrow(0, i, 1), j)).abs().max().item() < 1e-12));
    assert.throws(() => hsvPerturb(rgb, js.slice(0, 2)), /2 jitters/);
  });
});
