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
  // log x: the x axis's tick labels sit at positions linear in log10 of their values (the first
  // axis-label group is the x axis; each label is placed by transform="translate(x,y)")
  const xAxis = froc.match(/<g class="mark-text role-axis-label[^"]*"[^>]*>(.*?)<\/g>/s)![1]!;
  const ticks = [...xAxis.matchAll(/translate\(([-\d.e]+),[-\d.e]+\)[^>]*>([^<]+)</g)].map((m) => ({ px: Number(m[1]), v: Number(m[2]) })).filter((t) => t.v > 0);
  assert.ok(ticks.length >= 3, `x ticks ${JSON.stringify(ticks)}`);
  const a = ticks[0]!, b = ticks.at(-1)!;
  for (const t of ticks) {
    const logPos = a.px + ((Math.log10(t.v) - Math.log10(a.v)) / (Math.log10(b.v) - Math.log10(a.v))) * (b.px - a.px);
    assert.ok(Math.abs(t.px - logPos) < 2, `tick ${t.v} at ${t.px}, log scale puts it at ${logPos.toFixed(1)}`);
  }
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
