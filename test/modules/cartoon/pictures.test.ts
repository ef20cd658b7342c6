// Pictures that speak: `apply` keeps full resolution within the pixel budget and says when it scales
// down; the demo sheet is labelled (input / output columns, one row per control, cells ≥ 192 px);
// the classic cartoonizer's line extraction keeps lines and drops isolated dots.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { runCommand } from '../../../src/core/runner.ts';
import '../../../src/modules/cartoon/commands.ts';
import { readImageGrid } from '../../../src/core/image-grid.ts';
import { fitBound } from '../../../src/modules/cartoon/apply.ts';
import { hysteresisLines } from '../../../src/modules/cartoon/classic.ts';
import { APPLY } from '../../../src/modules/cartoon/config.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../../fixtures/cartoon');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cartoon-pictures-'));

test('fitBound: full resolution within the budget; the pixel budget or --max-side shrink, aspect kept, and say why', () => {
  assert.equal(fitBound(600, 400, { maxPixels: APPLY.maxPixels }), null);
  assert.equal(fitBound(4000, 3000, { maxPixels: 12_000_000 }), null);
  const b = fitBound(4000, 3000, { maxPixels: APPLY.maxPixels })!;
  assert.ok(b.side <= 4000 && b.side * (b.side * 3 / 4) <= APPLY.maxPixels && b.side * (b.side * 3 / 4) > 0.99 * APPLY.maxPixels, `side ${b.side}`);
  assert.match(b.reason, /pixel budget 4 MP/);
  assert.deepEqual(fitBound(600, 400, { maxSide: 300, maxPixels: APPLY.maxPixels }), { side: 300, reason: '--max-side 300' });
});

test('apply: a photo keeps its size by default; a smaller budget scales it down and the summary says so', async () => {
  const input = path.join(fixtures, 'coffee.png');
  const meta = await sharp(input).metadata();
  const full = await runCommand('cartoon', 'apply', { input, classic: true }, { root });
  const s = full.summary as { width: number; height: number; resized: string | null };
  assert.deepEqual([s.width, s.height, s.resized], [meta.width! - (meta.width! % 2), meta.height! - (meta.height! % 2), null]);
  const small = await runCommand('cartoon', 'apply', { input, classic: true, maxPixels: 4000 }, { root });
  const t = small.summary as { width: number; height: number; resized: string };
  assert.ok(t.width * t.height <= 4000, `${t.width}×${t.height}`);
  assert.match(t.resized, /scaled down from \d+×\d+ to \d+×\d+ \(pixel budget 0\.004 MP\)/);
  assert.match(fs.readFileSync(path.join(small.run.dir, 'log.txt'), 'utf8'), /pixel budget/);
});

test('demo: the sheet is labelled (input / output columns, a row per control, level captions) and larger than 384×192', async () => {
  const d = await runCommand('cartoon', 'demo', {}, { root, seed: 1 });
  const g = readImageGrid(fs.readFileSync(path.join(d.run.dir, 'demo.svg'), 'utf8'));
  assert.deepEqual(g.cols, ['input', 'output', 'output', 'output', 'output', 'output']);
  assert.equal(g.rows.length, 3);
  assert.ok(g.rows[0]!.startsWith('stroke') && g.rows[1]!.startsWith('abstraction') && g.rows[2]!.startsWith('hue shift'));
  assert.ok(g.captions.includes('α_s = 5') && g.captions.includes('288°'));
  assert.equal(g.images, 18);
  const m = await sharp(path.join(d.run.dir, 'demo.png')).metadata();
  assert.ok(m.width! > 384 && m.height! > 192 * 3, `${m.width}×${m.height}`);
});

test('hysteresisLines: a long faint line touching a strong pixel is kept; dots, and weak-only lines, are dropped', () => {
  const H = 20, W = 40, dog = new Float32Array(H * W);
  for (let x = 2; x < 38; x++) dog[5 * W + x] = -3; // a weak line (between thr/2 and thr)
  dog[5 * W + 20] = -10; // with one strong pixel
  for (let x = 2; x < 38; x++) dog[15 * W + x] = -3; // weak only
  dog[10 * W + 10] = -10; dog[10 * W + 11] = -10; // a strong 2-px dot
  const ink = hysteresisLines(dog, H, W, 5, 6);
  const row = (y: number) => ink.slice(y * W, (y + 1) * W).reduce((a, b) => a + b, 0);
  assert.equal(row(5), 36);
  assert.equal(row(15), 0);
  assert.equal(row(10), 0);
});
