// The dashboard's live preview of `cartoon apply` (commands.ts `preview`, preview.ts) and the run's
// own copies: a single-photo run keeps photo.png (the photo as cartoonized) and the cartoon in its
// folder, an explicit output is a byte copy; the preview of a photo within its pixel budget is the
// run's cartoon (same cartoonizer, same colour map), and a larger photo is scaled to the budget.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { runCommand } from '../../../src/core/runner.ts';
import { z } from 'zod';
import { getCommand, validateParams, registerModule, defineCommand } from '../../../src/core/registry.ts';
import '../../../src/modules/cartoon/commands.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const photo = path.resolve(here, '../../fixtures/cartoon/coffee.png'); // 96×64, CC0
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cartoon-preview-'));
const raw = (b: Buffer | string) => sharp(b).removeAlpha().raw().toBuffer();
const maxDiff = (a: Buffer, b: Buffer) => { let m = 0; for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!)); return m; };

test('apply keeps photo.png and the cartoon (a folder: cartoons/) in the run folder; an explicit output is a copy', async () => {
  const out = path.join(root, 'elsewhere', 'mine.png');
  const { run, summary } = await runCommand('cartoon', 'apply', { input: photo, output: out, stroke: 4 }, { root });
  const s = summary as { output: string; cartoon: string; photo: string };
  assert.equal(s.output, out);
  assert.deepEqual([s.cartoon, s.photo], ['cartoon.png', 'photo.png']);
  assert.deepEqual(fs.readFileSync(path.join(run.dir, 'cartoon.png')), fs.readFileSync(out));
  assert.ok(maxDiff(await raw(path.join(run.dir, 'photo.png')), await raw(photo)) <= 1, 'photo.png is the photo read');
  const jpg = await runCommand('cartoon', 'apply', { input: photo, output: path.join(root, 'x.jpeg'), classic: true }, { root });
  assert.ok(fs.existsSync(path.join(jpg.run.dir, 'cartoon.jpg')));
  // a folder: the cartoons in the run's cartoons/, each copied to the explicit output folder
  const dir = path.join(root, 'photos');
  fs.mkdirSync(dir);
  fs.copyFileSync(photo, path.join(dir, 'a.png'));
  const folder = await runCommand('cartoon', 'apply', { input: dir, output: path.join(root, 'exported'), classic: true, maxSide: 32 }, { root });
  assert.deepEqual((folder.summary as { outputs: string[] }).outputs, [path.join(root, 'exported', 'a.png')]);
  assert.deepEqual(fs.readFileSync(path.join(folder.run.dir, 'cartoons', 'a.png')), fs.readFileSync(path.join(root, 'exported', 'a.png')));
});

test('preview: within the budget it is the run\'s cartoon; a larger photo is scaled to the budget; the controls change it', async () => {
  const cmd = getCommand('cartoon', 'apply');
  assert.ok(cmd.preview);
  const { run } = await runCommand('cartoon', 'apply', { input: photo, stroke: 2, abstraction: 3, hueShift: 60 }, { root });
  const p = validateParams(cmd, { input: photo, stroke: 2, abstraction: 3, hueShift: 60 });
  const png = Buffer.from(await cmd.preview.render(p, { maxPixels: cmd.preview.maxPixels }));
  assert.ok(maxDiff(await raw(png), await raw(path.join(run.dir, 'cartoon.png'))) <= 1, 'the preview differs from the run');
  const other = Buffer.from(await cmd.preview.render({ ...p, stroke: 5 }, { maxPixels: cmd.preview.maxPixels }));
  assert.ok(maxDiff(await raw(png), await raw(other)) > 20, 'stroke 2 → 5 left the preview unchanged');
  const m = await sharp(Buffer.from(await cmd.preview.render(p, { maxPixels: 1500 }))).metadata();
  assert.ok(m.width! * m.height! <= 1500 && m.width! >= 40 && Math.abs(m.width! / m.height! - 1.5) < 0.1, `${m.width}×${m.height}`);
});

test('registry: a preview must name one of the command\'s parameters as its input', () => {
  const params = z.object({ file: z.string().meta({ path: 'input' }) });
  const cmd = defineCommand({ name: 'look', description: 'x', params, preview: { input: 'nope' as 'file', runFile: 'x.png', maxPixels: 10, render: async () => new Uint8Array() }, run: () => {} });
  assert.throws(() => registerModule({ name: 'preview-check', title: 't', description: 'd', commands: [cmd] }), /preview input 'nope' is not a parameter/);
});
