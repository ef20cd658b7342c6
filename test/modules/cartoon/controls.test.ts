// The controllability checks (src/modules/cartoon/README.md, "Measured") on the shipped model
// (procedural scenes it never saw, and real photographs) and on the classic cartoonizer: monotone
// and continuous controls, hue following, local recolouring, exact disentanglement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../../../src/core/torch/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import { planarToTensor, tensorToPlanar } from '../../../src/modules/cartoon/data.ts';
import { makeScene } from '../../../src/modules/cartoon/scenes.ts';
import { openCartoonizer, photoColourMap, readPhoto } from '../../../src/modules/cartoon/apply.ts';
import { controllability, type ControlReport } from '../../../src/modules/cartoon/evaluate.ts';
import { rgbToLab, rotateHue } from '../../../src/modules/cartoon/color.ts';
import { slic } from '../../../src/modules/cartoon/raster.ts';

torch.setNumThreads(1);
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/cartoon');
const model = openCartoonizer({});
const classic = openCartoonizer({ classic: true });
const fnOf = (cz: typeof model) => (a: torch.Tensor, b: torch.Tensor, s: number, t: number) => cz.lab(a, b, s, t);

// eight procedural scenes from a seed the training pool never used
const rng = new Rng(2024);
const scenes = Array.from({ length: 8 }, () => makeScene(rng, 64));
const photos = planarToTensor(scenes.map((s) => s.photo)).keep();
const maps = planarToTensor(scenes.map((s) => s.map)).keep();

// Monotonicity: Spearman(level, W) over the α_s sweep must be ≥ 0.8 (and Spearman(level,
// HF ratio) over the α_a sweep ≤ −0.8) over at least 8 images. We take the strict reading: the
// Spearman pooled over all (image, level) pairs of the 8 scenes, so image-to-image offsets of W and
// HF count against the control. The mean per-image value and the image-averaged curve are asserted
// as well.
function checkReport(r: ControlReport, what: string, o: { spearman: number; hue: number; continuity: number }): void {
  assert.ok(r.strokeSpearman >= o.spearman, `${what}: pooled Spearman(α_s, W) = ${r.strokeSpearman}; W = ${JSON.stringify(r.strokeWidth)}`);
  assert.ok(r.abstractionSpearman <= -o.spearman, `${what}: pooled Spearman(α_a, HF) = ${r.abstractionSpearman}; HF = ${JSON.stringify(r.hfRatio)}`);
  assert.ok(r.strokeSpearmanPerImage >= o.spearman, `${what}: per-image Spearman(α_s, W) = ${r.strokeSpearmanPerImage}; W = ${JSON.stringify(r.strokeWidth)}`);
  assert.ok(r.strokeSpearmanMeanCurve >= o.spearman, `${what}: Spearman(α_s, mean W) = ${r.strokeSpearmanMeanCurve}`);
  assert.ok(r.abstractionSpearmanPerImage <= -o.spearman, `${what}: per-image Spearman(α_a, HF) = ${r.abstractionSpearmanPerImage}; HF = ${JSON.stringify(r.hfRatio)}`);
  assert.ok(r.abstractionSpearmanMeanCurve <= -o.spearman, `${what}: Spearman(α_a, mean HF) = ${r.abstractionSpearmanMeanCurve}`);
  assert.ok(r.continuity.stroke < o.continuity && r.continuity.abstraction < o.continuity, `${what}: continuity ${JSON.stringify(r.continuity)}`);
  for (const h of r.hue) assert.ok(h.error <= o.hue, `${what}: map hue +${h.theta}° moved the output by ${h.shift.toFixed(1)}°`);
  assert.equal(r.disentangle.maxDeltaLForMapEdit, 0, `${what}: a colour-map edit changed L`);
  assert.equal(r.disentangle.maxDeltaAbForAlphaEdit, 0, `${what}: an α edit changed ab`);
}

test('shipped model, 8 unseen procedural scenes: monotone (pooled and per-image Spearman ≥ 0.8) and continuous controls, hue within 25°, exact disentanglement', () => {
  const r = controllability(fnOf(model), photos, maps, rotateHue);
  checkReport(r, 'model', { spearman: 0.8, hue: 25, continuity: 0.25 });
});

test('shipped model: recolouring one region of the colour map changes mainly that region', () => {
  torch.noGrad(() => torch.scope(() => {
    const ph = photos.narrow(0, 0, 1), mp = maps.narrow(0, 0, 1);
    const p = tensorToPlanar(mp);
    const { labels, count } = slic(tensorToPlanar(ph), 60);
    // the largest segment is recoloured to a saturated magenta
    const sizes = new Array<number>(count).fill(0);
    for (const l of labels) sizes[l]!++;
    const target = sizes.indexOf(Math.max(...sizes));
    const n = 64 * 64;
    const edited = Float32Array.from(p.data);
    const mask = Float32Array.from(labels, (l) => (l === target ? 1 : 0));
    for (let i = 0; i < n; i++) if (mask[i]) { edited[i] = 0.9; edited[n + i] = 0.1; edited[2 * n + i] = 0.8; }
    const a = model.lab(ph, mp, 3, 2), b = model.lab(ph, planarToTensor([{ ...p, data: edited }]), 3, 2);
    const d = b.narrow(1, 1, 2).sub(a.narrow(1, 1, 2)).abs().sum(1).reshape([n]).toArray();
    let inside = 0, outside = 0, ni = 0, no = 0;
    d.forEach((v, i) => { if (mask[i]) { inside += v; ni++; } else { outside += v; no++; } });
    assert.ok(inside / ni > 5 * (outside / no), `mean |Δab| inside ${inside / ni}, outside ${outside / no}`);
  }));
});

// Real photographs (the shipped model was trained on procedural scenes only): for the model and for
// the classic mode, on each of the three photos, W must grow and the HF ratio must fall strictly over
// α = 1, 3, 5, and hue following and disentanglement must hold.
test('real photographs (3, CC0/public domain): stroke width, abstraction, hue and disentanglement (model and classic)', async () => {
  const list: torch.Tensor[] = [];
  for (const f of ['astronaut.png', 'chelsea.png', 'coffee.png']) {
    const t = await readPhoto(path.join(fixtures, f), 96);
    list.push(t.narrow(2, 0, 64).narrow(3, 0, 64).contiguous().keep());
    t.dispose();
  }
  const real = torch.cat(list, 0).keep();
  const realMaps = torch.cat(list.map((t) => photoColourMap(t)), 0).keep();
  const levels = [1, 3, 5];
  for (const [cz, what] of [[model, 'model'], [classic, 'classic']] as const) {
    const r = controllability(fnOf(cz), real, realMaps, rotateHue, { levels, thetas: [120] });
    r.strokeWidth.forEach((w, i) => assert.ok(w[0]! < w[1]! && w[1]! < w[2]!, `${what}, photo ${i}: W over α_s = 1, 3, 5: ${w}`));
    r.hfRatio.forEach((h, i) => assert.ok(h[2]! < h[1]! && h[1]! < h[0]!, `${what}, photo ${i}: HF over α_a = 1, 3, 5: ${h}`));
    assert.ok(r.hue[0]!.error <= 25, `${what}: real-photo hue error ${r.hue[0]!.error}`);
    assert.equal(r.disentangle.maxDeltaLForMapEdit, 0);
    assert.equal(r.disentangle.maxDeltaAbForAlphaEdit, 0);
  }
  torch.dispose(list, real, realMaps);
});

test('classic cartoonizer, the same 8 procedural scenes: monotone controls (pooled and per-image), hue following, disentanglement', () => {
  const r = controllability(fnOf(classic), photos, maps, rotateHue, { thetas: [120] });
  checkReport(r, 'classic', { spearman: 0.8, hue: 25, continuity: 0.25 });
  void rgbToLab;
});
