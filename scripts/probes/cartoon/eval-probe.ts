// Probe (one-off): the monotonicity of the controls on a model file: Spearman(level, W) over an α_s
// sweep and Spearman(level, HF ratio) over an α_a sweep, pooled over all (image, level) pairs, per
// image (mean) and on the image-averaged curve, on the 8 unseen procedural scenes of
// controls.test.ts (seed 2024) and on the three real photographs of the fixtures (64-px crops, as in
// the test). Gave the shipped model's table in src/modules/cartoon/README.md.
//
//   node --import tsx scripts/probes/cartoon/eval-probe.ts MODEL|classic [SHEET.png]
//   env: SEED (default 2024), IMAGES (default 8), PAPERLAB_THREADS (default 1)
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../../../src/core/torch/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import { planarToTensor } from '../../../src/modules/cartoon/data.ts';
import { makeScene } from '../../../src/modules/cartoon/scenes.ts';
import { openCartoonizer, photoColourMap, readPhoto } from '../../../src/modules/cartoon/apply.ts';
import { controllability } from '../../../src/modules/cartoon/evaluate.ts';
import { rotateHue, labToRgb } from '../../../src/modules/cartoon/color.ts';
import { writeImage } from '../../../src/core/io/image.ts';
torch.setNumThreads(Number(process.env.PAPERLAB_THREADS ?? 1));
const file = process.argv[2]!;
const cz = openCartoonizer(file === 'classic' ? { classic: true } : { checkpoint: file });
const fn = (a: torch.Tensor, b: torch.Tensor, s: number, t: number) => cz.lab(a, b, s, t);
const seed = Number(process.env.SEED ?? 2024);
const rng = new Rng(seed);
const scenes = Array.from({ length: Number(process.env.IMAGES ?? 8) }, () => makeScene(rng, 64));
const photos = planarToTensor(scenes.map((s) => s.photo)), maps = planarToTensor(scenes.map((s) => s.map));
const fmt = (rows: number[][], d: number) => rows.map((r) => r.map((v) => v.toFixed(d)).join(' ')).join(' | ');
const rep = controllability(fn, photos, maps, rotateHue);
console.log(`synthetic (seed ${seed}, ${scenes.length} scenes): stroke pooled ${rep.strokeSpearman.toFixed(3)} per-image ${rep.strokeSpearmanPerImage.toFixed(3)} curve ${rep.strokeSpearmanMeanCurve.toFixed(3)}; ` +
  `abstraction pooled ${rep.abstractionSpearman.toFixed(3)} per-image ${rep.abstractionSpearmanPerImage.toFixed(3)} curve ${rep.abstractionSpearmanMeanCurve.toFixed(3)}; ` +
  `continuity ${rep.continuity.stroke.toFixed(3)}/${rep.continuity.abstraction.toFixed(3)}; hue errors ${rep.hue.map((h) => h.error.toFixed(1)).join('/')}`);
console.log('  W  ', fmt(rep.strokeWidth, 2));
console.log('  HF ', fmt(rep.hfRatio, 3));
const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/cartoon');
const list: torch.Tensor[] = [];
for (const f of ['astronaut.png', 'chelsea.png', 'coffee.png']) {
  const t = await readPhoto(path.join(fixtures, f), 96);
  list.push(t.narrow(2, 0, 64).narrow(3, 0, 64).contiguous());
}
const real = torch.cat(list, 0), realMaps = torch.cat(list.map((t) => photoColourMap(t)), 0);
const r2 = controllability(fn, real, realMaps, rotateHue, { thetas: [120] });
console.log(`real photos (astronaut, chelsea, coffee): stroke pooled ${r2.strokeSpearman.toFixed(3)} per-image ${r2.strokeSpearmanPerImage.toFixed(3)}; abstraction pooled ${r2.abstractionSpearman.toFixed(3)} per-image ${r2.abstractionSpearmanPerImage.toFixed(3)}; hue error ${r2.hue[0]!.error.toFixed(1)}`);
console.log('  W  ', fmt(r2.strokeWidth, 2));
console.log('  HF ', fmt(r2.hfRatio, 3));
if (process.argv[3]) {
  const pairs = [
    ...[0, 1, 2].map((i) => [photos.narrow(0, i, 1), maps.narrow(0, i, 1)]),
    ...[0, 1, 2].map((i) => [real.narrow(0, i, 1), realMaps.narrow(0, i, 1)]),
  ];
  const sheet = torch.noGrad(() => torch.cat(pairs.map(([ph, mp]) =>
    torch.cat([ph!, ...[1, 2, 3, 4, 5].map((l) => labToRgb(cz.lab(ph!, mp!, l, 1))), ...[3, 5].map((l) => labToRgb(cz.lab(ph!, mp!, 1, l)))], 3)), 2));
  await writeImage(process.argv[3], sheet);
}
