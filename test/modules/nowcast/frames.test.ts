// The nowcast frames picture (plots.ts writeFrames): labelled rows and lead-time columns, and under
// the grid the scales — the IR input's shared grey scale in standardised units (its end values are
// the input's max and min), the rain probability 0…1 with τ marked, the masks' two colours with the
// rain rule's unit (mm/h) — in the SVG as text a reader can check, and a non-blank PNG.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import * as torch from '../../../src/core/torch/index.ts';
import { TINY } from '../../../src/modules/nowcast/geometry.ts';
import { writeFrames } from '../../../src/modules/nowcast/plots.ts';
import { readImageGrid } from '../../../src/core/image-grid.ts';
import { tmpDir } from '../../helpers/context.ts';

test('nowcast frames: lead-time columns, input times, and colour bars with units under the grid', async () => {
  const dir = tmpDir();
  const g = TINY, C = 2, tIn = 4, tOut = 4, side = g.inSize, out = g.cropSize * g.scale;
  const xs = new Float32Array(C * tIn * side * side).map((_, i) => Math.sin(i * 0.37));
  xs[0] = -3.2; xs[1] = 1.7; // the IR channel's (channel 0) min and max
  const x = torch.tensor(xs, { shape: [C, tIn, side, side] });
  const truth = torch.tensor(new Float32Array(tOut * out * out).map((_, i) => i % 3 === 0 ? 1 : 0), { shape: [tOut, out, out] });
  const prob = torch.tensor(new Float32Array(tOut * out * out).map((_, i) => (i % 10) / 9), { shape: [tOut, out, out] });
  try {
    await writeFrames(path.join(dir, 'frames'), g, x, truth, prob, 0.4, 0);
  } finally {
    torch.dispose([x, truth, prob]);
  }
  const svg = fs.readFileSync(path.join(dir, 'frames.svg'), 'utf8');
  const grid = readImageGrid(svg);
  assert.deepEqual(grid.cols, ['+15 min', '+30 min', '+45 min', '+60 min']);
  assert.deepEqual(grid.captions, ['input t0 − 45 min', 'input t0 − 30 min', 'input t0 − 15 min', 'input at t0']);
  assert.equal(grid.images, 16);
  const bars = /<g class="colorbars">([\s\S]*?)<\/g>/.exec(svg)?.[1] ?? '';
  const texts = [...bars.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
  assert.ok(texts.includes('IR_108, standardised (σ; colder = brighter)'), texts.join(' | '));
  assert.ok(texts.includes('1.7') && texts.includes('-3.2'), `IR scale ends at the input's max and min: ${texts.join(' | ')}`);
  assert.ok(texts.includes('rain probability') && texts.includes('τ = 0.4'));
  assert.ok(texts.some((t) => /rain \(≥ 0\.2 mm\/h\)/.test(t!)) && texts.includes('no rain'));
  // the bars lie inside the picture
  const [, w, h] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
  const ys = [...bars.matchAll(/ y="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.ok(Math.max(...ys) < h!, `colour bars below the picture's height ${h}`);
  const meta = await sharp(path.join(dir, 'frames.png')).metadata();
  assert.ok(meta.width! >= w! && meta.height! >= h! * 0.9, `png ${meta.width}×${meta.height}`);
  const st = await sharp(path.join(dir, 'frames.png')).stats();
  assert.ok(st.channels[0]!.stdev > 20, 'a picture, not a blank');
});
