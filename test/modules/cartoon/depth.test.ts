// issue #24: `cartoon apply --depth 8|16|float` — a 16-bit PNG holds the float result to within
// 1/65535, the float output is a float32 HWC .npy, the 8-bit one to within 1/255; wrong extensions refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { runCommand } from '../../../src/core/runner.ts';
import '../../../src/modules/cartoon/commands.ts';
import { readNpyFloat32 } from '../../../src/modules/cartoon/apply.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixtures = path.resolve(here, '../../fixtures/cartoon');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cartoon-depth-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

test('apply --depth 16 writes a 16-bit PNG (depth ushort) equal to the float output to within 1/65535; --depth 8 to within 1/255', async () => {
  const input = path.join(fixtures, 'chelsea.png');
  const base = { input, stroke: 3.5, abstraction: 2, maxSide: 48 };
  const outF = path.join(root, 'c.npy'), out16 = path.join(root, 'c16.png'), out8 = path.join(root, 'c8.png');
  const sf = (await runCommand('cartoon', 'apply', { ...base, output: outF, depth: 'float' }, { root })).summary as { width: number; height: number; depth: string };
  await runCommand('cartoon', 'apply', { ...base, output: out16, depth: '16' }, { root });
  await runCommand('cartoon', 'apply', { ...base, output: out8 }, { root });
  assert.equal(sf.depth, 'float');
  const { data: f, shape } = readNpyFloat32(outF);
  assert.deepEqual(shape, [sf.height, sf.width, 3]);
  assert.ok(f.every((v) => v >= 0 && v <= 1));
  const m16 = await sharp(out16).metadata();
  assert.equal(m16.depth, 'ushort');
  assert.equal(m16.format, 'png');
  assert.deepEqual([m16.width, m16.height, m16.channels], [sf.width, sf.height, 3]);
  const raw16 = await sharp(out16).toColourspace('rgb16').raw({ depth: 'ushort' }).toBuffer();
  const u16 = new Uint16Array(raw16.buffer, raw16.byteOffset, raw16.byteLength / 2);
  assert.equal(u16.length, f.length);
  let worst16 = 0, distinct = new Set<number>();
  for (let i = 0; i < f.length; i++) { worst16 = Math.max(worst16, Math.abs(u16[i]! / 65535 - f[i]!)); distinct.add(u16[i]! & 255); }
  assert.ok(worst16 <= 1 / 65535, `16-bit vs float: ${worst16 * 65535} / 65535`);
  assert.ok(distinct.size > 64, 'the low byte carries information (not an 8-bit image scaled up)');
  const m8 = await sharp(out8).metadata();
  assert.equal(m8.depth, 'uchar');
  const raw8 = await sharp(out8).raw().toBuffer();
  let worst8 = 0;
  for (let i = 0; i < f.length; i++) worst8 = Math.max(worst8, Math.abs(raw8[i]! / 255 - f[i]!));
  assert.ok(worst8 <= 0.5 / 255 + 1e-6, `8-bit vs float: ${worst8 * 255} / 255`);
  // default names and refused extensions
  const def = (await runCommand('cartoon', 'apply', { ...base, classic: true, depth: 'float' }, { root })).summary as { output: string };
  assert.ok(def.output.endsWith('cartoon.npy') && fs.existsSync(def.output));
  await assert.rejects(runCommand('cartoon', 'apply', { ...base, output: path.join(root, 'x.jpg'), depth: '16' }, { root }), /\.png \(16-bit PNG\) for --depth 16/);
  await assert.rejects(runCommand('cartoon', 'apply', { ...base, output: path.join(root, 'x.png'), depth: 'float' }, { root }), /\.npy \(float32\) for --depth float/);
  await assert.rejects(runCommand('cartoon', 'apply', { ...base, depth: '12' }, { root }), /depth/);
});

test('apply --depth float on a folder writes one .npy per photo', async () => {
  const dir = path.join(root, 'photos');
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['coffee.png', 'chelsea.png']) fs.copyFileSync(path.join(fixtures, f), path.join(dir, f));
  const { summary } = await runCommand('cartoon', 'apply', { input: dir, output: path.join(root, 'out'), classic: true, maxSide: 32, depth: 'float' }, { root });
  const outs = (summary as { outputs: string[] }).outputs;
  assert.deepEqual(outs.map((o) => path.basename(o)).sort(), ['chelsea.npy', 'coffee.npy']);
  for (const o of outs) assert.equal(readNpyFloat32(o).shape[2], 3);
});
