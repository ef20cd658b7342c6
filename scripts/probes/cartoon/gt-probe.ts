// Probe (one-off): the metrics on the ground-truth procedural cartoons themselves: W over the stroke
// levels and the HF ratio over the abstraction levels of 8 scenes (seed 99), per scene and pooled
// Spearman. It is the ceiling the trained model is compared with in src/modules/cartoon/README.md.
//
//   node --import tsx scripts/probes/cartoon/gt-probe.ts
import { Rng } from '../../../src/core/rng.ts';
import { makeScene, renderCartoon, lineWidth } from '../../../src/modules/cartoon/scenes.ts';
import { strokeWidth, highFrequencyRatio, spearman } from '../../../src/modules/cartoon/evaluate.ts';
import { rgbToLabPlanar } from '../../../src/modules/cartoon/raster.ts';
const rng = new Rng(99);
const scenes = Array.from({ length: 8 }, () => makeScene(rng, 64));
const xs: number[] = [], ws: number[] = [], hs: number[] = [];
for (const s of scenes) {
  const row: string[] = [];
  for (let k = 1; k <= 5; k++) {
    const L = rgbToLabPlanar(renderCartoon(s, 1, lineWidth(k, 64))).data.subarray(0, 4096);
    const La = rgbToLabPlanar(renderCartoon(s, k, lineWidth(1, 64))).data.subarray(0, 4096);
    const w = strokeWidth(L, 64, 64), h = highFrequencyRatio(La, 64, 64);
    xs.push(k); ws.push(w); hs.push(h);
    row.push(`${w.toFixed(2)}/${h.toFixed(3)}`);
  }
  console.log(row.join(' '));
}
console.log('spearman W', spearman(xs, ws), 'HF', spearman(xs, hs));
