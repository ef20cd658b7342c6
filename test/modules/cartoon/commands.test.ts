// The command schemas: defaults from config.ts shared with the typed API, and bad values refused by
// the schema before a run folder is created.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { applyParams, evaluateParams, trainParams } from '../../../src/modules/cartoon/commands.ts';
import { APPLY, DEFAULT_CONFIG, EVALUATE, TRAIN } from '../../../src/modules/cartoon/config.ts';
import { DEFAULT_TRAIN, trainOptions } from '../../../src/modules/cartoon/train.ts';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('the CLI defaults and the typed API defaults are the same (config.ts)', () => {
  const t = trainParams.parse({});
  const fromCli = trainOptions({
    ...t, weights: { adv: t.advWeight, content: t.contentWeight, tv: t.tvWeight, color: t.colorWeight, paired: t.pairedWeight, pairedGrad: t.pairedGradWeight },
  });
  assert.deepEqual(fromCli, DEFAULT_TRAIN);
  assert.equal(t.channels, DEFAULT_CONFIG.channels, '`cartoon train` builds the default Cartooner');
  assert.equal(t.stage2Lr, undefined, 'no sentinel: stage 2 uses lr unless given');
  assert.equal(t.size, TRAIN.size);
  const a = applyParams.parse({ input: 'x.png' });
  assert.deepEqual([a.stroke, a.abstraction, a.hueShift, a.maxSide, a.maxPixels],
    [APPLY.stroke, APPLY.abstraction, APPLY.hueShift, undefined, APPLY.maxPixels]);
  assert.equal(a.segments, undefined);
  assert.equal(evaluateParams.parse({}).strokeMask, EVALUATE.strokeMask);
});

test('CLI: a bad choice or a bad number exits 2 naming the parameter, and creates no run', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'cartoon-cli-'));
  const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(repo, 'bin/paperlab.js'), 'cartoon', ...args],
    { env: { ...process.env, PAPERLAB_HOME: home }, encoding: 'utf8', timeout: 60_000 });
  const bad = cli('evaluate', '--stroke-mask', 'ink,bogus');
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /stroke-mask/);
  assert.match(bad.stderr, /ink, tophat, sobel/);
  const zero = cli('apply', 'photo.png', '--segments', '0');
  assert.equal(zero.status, 2, zero.stderr);
  assert.match(zero.stderr, /segments/);
  assert.deepEqual(fs.readdirSync(home).filter((f) => !f.startsWith('.')), []);
});
