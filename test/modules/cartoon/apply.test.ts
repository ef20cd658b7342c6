// PNG/JPEG in and out through the registered `apply` command and the CLI; clear errors for bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import * as torch from '../../../src/core/torch/index.ts';
import { runCommand } from '../../../src/core/runner.ts';
import '../../../src/modules/cartoon/commands.ts';
import { readImage } from '../../../src/core/io/image.ts';
import { rgbToLab } from '../../../src/modules/cartoon/color.ts';
import { meanHueShift } from '../../../src/modules/cartoon/evaluate.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../../fixtures/cartoon');
const repo = path.resolve(here, '../../..');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cartoon-apply-'));

test('apply: PNG in → PNG out, JPEG in → JPEG out, sizes kept (even), controls in the summary', async () => {
  const out = path.join(root, 'cat.png');
  const { summary } = await runCommand('cartoon', 'apply', { input: path.join(fixtures, 'chelsea.png'), output: out, stroke: 3.5, abstraction: 2, hueShift: 90 }, { root });
  const meta = await sharp(out).metadata();
  assert.equal(meta.format, 'png');
  assert.deepEqual([meta.width, meta.height], [96, 64]);
  assert.equal((summary as { engine: string }).engine, 'model');
  const outJ = path.join(root, 'cat.jpg');
  await runCommand('cartoon', 'apply', { input: path.join(fixtures, 'chelsea.jpg'), output: outJ, maxSide: 48 }, { root });
  const mj = await sharp(outJ).metadata();
  assert.equal(mj.format, 'jpeg');
  assert.deepEqual([mj.width, mj.height], [48, 32]);
});

test('apply: a user colour map sets the colours (solid blue map → blue output)', async () => {
  const map = path.join(root, 'blue.png');
  await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: 40, g: 70, b: 200 } } }).png().toFile(map);
  const out = path.join(root, 'blue-cat.png');
  await runCommand('cartoon', 'apply', { input: path.join(fixtures, 'coffee.png'), output: out, colourMap: map }, { root });
  const img = await readImage(out);
  const mapT = await readImage(map, { width: img.shape[2]!, height: img.shape[1]! });
  torch.scope(() => {
    const { shift, pixels } = meanHueShift(rgbToLab(img.unsqueeze(0)), rgbToLab(mapT.unsqueeze(0)), 10);
    assert.ok(pixels > 100, `only ${pixels} chromatic pixels`);
    assert.ok(Math.abs(shift) < 25, `output hue is ${shift}° away from the map's`);
  });
  torch.dispose(img, mapT);
});

test('apply: a folder of photos is processed in batch (classic mode too)', async () => {
  const dir = path.join(root, 'in');
  fs.mkdirSync(dir);
  for (const f of ['astronaut.png', 'coffee.png']) fs.copyFileSync(path.join(fixtures, f), path.join(dir, f));
  const outDir = path.join(root, 'out');
  const { summary } = await runCommand('cartoon', 'apply', { input: dir, output: outDir, classic: true, maxSide: 48 }, { root });
  assert.equal((summary as { count: number }).count, 2);
  assert.deepEqual(fs.readdirSync(outDir).sort(), ['astronaut.png', 'coffee.png']);
});

test('apply: corrupt or missing images, bad levels and bad outputs give clear errors', async () => {
  const bad = path.join(root, 'truncated.png');
  fs.writeFileSync(bad, fs.readFileSync(path.join(fixtures, 'astronaut.png')).subarray(0, 200));
  await assert.rejects(runCommand('cartoon', 'apply', { input: bad, output: path.join(root, 'x.png') }, { root }), (e: Error) => e.message.includes('truncated.png'));
  const junk = path.join(root, 'junk.jpg');
  fs.writeFileSync(junk, 'not an image at all');
  await assert.rejects(runCommand('cartoon', 'apply', { input: junk, output: path.join(root, 'y.png') }, { root }), /junk\.jpg/);
  await assert.rejects(runCommand('cartoon', 'apply', { input: path.join(root, 'nope.png') }, { root }), /nope\.png: no such image file/);
  await assert.rejects(runCommand('cartoon', 'apply', { input: path.join(fixtures, 'coffee.png'), stroke: 7 }, { root }), /stroke/);
  await assert.rejects(runCommand('cartoon', 'apply', { input: path.join(fixtures, 'coffee.png'), output: path.join(root, 'z.gif') }, { root }), /\.png, \.jpg/);
});

test('CLI: paperlab cartoon apply in.png out.png --stroke 3.5 --abstraction 2 --hue-shift 90', () => {
  const out = path.join(root, 'cli.png');
  execFileSync(process.execPath, [path.join(repo, 'bin/paperlab.js'), 'cartoon', 'apply', path.join(fixtures, 'astronaut.png'), out,
    '--stroke', '3.5', '--abstraction', '2', '--hue-shift', '90', '--max-side', '64', '--quiet'],
  { env: { ...process.env, PAPERLAB_HOME: root, PAPERLAB_THREADS: '1' }, stdio: 'pipe', timeout: 60_000 });
  assert.ok(fs.statSync(out).size > 100);
});

test('demo (the quick command) and evaluate write their images, plots and JSON report', async () => {
  const d = await runCommand('cartoon', 'demo', {}, { root, seed: 1 });
  assert.ok((await sharp(path.join(d.run.dir, 'demo.png')).metadata()).width! > 2 * 192 * 6); // 6 cells of 192 px, rendered at 2×
  const e = await runCommand('cartoon', 'evaluate', { images: 2, size: 32 }, { root, seed: 1 });
  for (const f of ['report.json', 'sweep.png', 'stroke-width.png', 'abstraction.png']) assert.ok(fs.existsSync(path.join(e.run.dir, f)), f);
  const s = e.summary as { disentangle: { maxDeltaLForMapEdit: number }; strokeSpearman: { meanPerImage: number } };
  assert.equal(s.disentangle.maxDeltaLForMapEdit, 0);
  assert.ok(Number.isFinite(s.strokeSpearman.meanPerImage));
});
