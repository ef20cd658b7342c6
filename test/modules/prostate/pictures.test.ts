// The quick command's pictures speak: `prostate demo` writes a FROC on a log x axis with readable
// axis titles and drawn points, and per-case overlays enlarged to ≥ 256 px with a slice title and a
// colour legend.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { runCommand } from '../../../src/core/runner.ts';
import '../../../src/modules/prostate/commands.ts';
import { readImageGrid } from '../../../src/core/image-grid.ts';
import { readSvg } from '../../helpers/svg.ts';

test('prostate demo: FROC with a log x axis and titles, labelled overlays with a legend', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'prostate-pictures-'));
  const { run } = await runCommand('prostate', 'demo', {}, { root, seed: 1 });
  const froc = fs.readFileSync(path.join(run.dir, 'froc.svg'), 'utf8');
  const f = readSvg(froc);
  assert.deepEqual(f.axisTitles.sort(), ['false positives per case (log)', 'sensitivity (lesion level)']);
  assert.ok(f.linePoints.some((n) => n >= 2), `FROC line points ${f.linePoints}`);
  // a log axis is niced to whole decades (0.1 … 10 here), a linear one would span the data's range (< 1 decade at > 0)
  const ticks = f.tickLabels.map(Number).filter((v) => v > 0 && v !== 1 / 0);
  assert.ok(Math.max(...ticks) / Math.min(...ticks) >= 50, `x ticks ${f.tickLabels}`);
  const pngs = fs.readdirSync(path.join(run.dir, 'png')).filter((n) => n.endsWith('.png'));
  assert.ok(pngs.length >= 1);
  for (const n of pngs) {
    const g = readImageGrid(fs.readFileSync(path.join(run.dir, 'png', n.replace(/\.png$/, '.svg')), 'utf8'));
    assert.equal(g.images, 1);
    assert.match(g.captions[0]!, /red: detection map/);
    const m = await sharp(path.join(run.dir, 'png', n)).metadata();
    assert.ok(m.width! >= 256 && m.height! >= 256, `${n}: ${m.width}×${m.height}`);
  }
});
