// End to end through the registered commands: describe, synth (W4C layout) → train on the files
// (checkpoints, frames) → eval (per-cell table, lead-time curve, TTA) → predict (submission zip);
// the schemas (defaults from config.ts, shared with the typed API; list items refused by the schema).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import '../../../src/modules/nowcast/index.ts';
import { getCommand, validateParams, listModules } from '../../../src/core/registry.ts';
import { h5 } from '../../../src/modules/nowcast/data.ts';
import { trainParams, evalParams, predictParams, ablateParams } from '../../../src/modules/nowcast/commands.ts';
import { ablateOptions } from '../../../src/modules/nowcast/experiments.ts';
import { ablateDefaults, ablationTrainOptions } from '../../../src/modules/nowcast/ablation.ts';
import { DEFAULT_TRAIN } from '../../../src/modules/nowcast/train.ts';
import { DEFAULT_LOSS } from '../../../src/modules/nowcast/losses.ts';
import { DEFAULT_EVAL } from '../../../src/modules/nowcast/evaluate.ts';
import { ABLATE, ABLATION, ABLATION_NAMES, PAPER, TRAIN } from '../../../src/modules/nowcast/config.ts';
import { TINY } from '../../../src/modules/nowcast/geometry.ts';
import { fakeContext, tmpDir } from '../../helpers/context.ts';

async function run(cmd: string, raw: Record<string, unknown>, dir: string): Promise<Record<string, any>> {
  const c = getCommand('nowcast', cmd);
  return (await c.run(validateParams(c, raw) as never, fakeContext({ dir, seed: 2 }))) as Record<string, any>;
}

test('the module registers describe, synth, train (quick), eval, predict, ablate', () => {
  const m = listModules().find((x) => x.name === 'nowcast')!;
  assert.deepEqual(m.commands.map((c) => c.name), ['describe', 'synth', 'train', 'eval', 'predict', 'ablate']);
  assert.equal(m.commands.find((c) => c.name === 'train')!.quick, true);
  assert.equal(m.commands.find((c) => c.name === 'train')!.resumable, true);
  assert.throws(() => validateParams(getCommand('nowcast', 'train'), { steps: -1 }), /steps/);
  assert.throws(() => validateParams(getCommand('nowcast', 'eval'), { model: 'm', data: 'd', tau: 1.5 }), /tau/);
});

test('describe prints exact parameter counts', async () => {
  const dir = tmpDir();
  const r = await run('describe', { widths: [8] }, dir);
  assert.equal(r.parameterCounts[0].startFilters, 8);
  assert.equal(r.parameterCounts[0].unet3d, 1416688);
  assert.equal(r.parameterCounts[0].sianet, 1331569);
  assert.equal(r.parameterCounts[0].parts.sianet.head, 8 * 4 * 32 + 32);
  assert.deepEqual(r.geometries.full.cropRows, [105, 146]);
  assert.ok(fs.existsSync(path.join(dir, 'describe.json')));
});

test('synth → train → eval → predict on W4C-layout HDF5 files', async () => {
  const dir = tmpDir();
  const s = await run('synth', { coreRegions: 1, transferRegions: 1, trainDays: 1, testSeqs: 2, valSeqs: 1 }, path.join(dir, 'synth'));
  const root = s.root as string;
  assert.ok(fs.existsSync(path.join(root, '2019', 'HRIT', 'boxi_0015.train.reflbt0.ns.h5')));
  assert.ok(fs.existsSync(path.join(root, '2019', 'OPERA', 'boxi_0015.val.rates.crop.h5')));
  assert.ok(fs.existsSync(path.join(root, '2021', 'HRIT', 'roxi_0008.test.reflbt0.ns.h5')));
  assert.ok(fs.existsSync(path.join(root, '2020', 'timestamps_and_splits_2020.csv')));
  const tdir = path.join(dir, 'train');
  const t = await run('train', { data: root, steps: 4, batchSize: 2, checkpointEvery: 2, evalEvery: 2 }, tdir);
  assert.equal(t.steps, 4);
  assert.ok(fs.existsSync(t.model));
  assert.ok(fs.readdirSync(path.join(tdir, 'checkpoints')).some((d) => d.startsWith('model-step-000002')));
  assert.ok(fs.statSync(path.join(tdir, 'frames.png')).size > 500);
  const e = await run('eval', { model: t.model, data: root, split: 'test', years: [2019, 2021], tta: 'paper' }, path.join(dir, 'eval'));
  assert.equal(e.cells, 4); // boxi_0015 and roxi_0008 (transfer) in 2019 and in the shifted 2021
  assert.ok(e.mIoU >= 0 && e.mIoU <= 1);
  assert.equal(e.leadTimeIoU['2019'].length, 4);
  assert.ok(fs.existsSync(path.join(dir, 'eval', 'region_year_iou.png')) && fs.existsSync(path.join(dir, 'eval', 'lead_time.png')));
  const p = await run('predict', { model: t.model, data: root, years: [2021] }, path.join(dir, 'predict'));
  assert.deepEqual(p.entries, ['2021/boxi_0015.pred.h5', '2021/roxi_0008.pred.h5']);
  const files = unzipSync(fs.readFileSync(p.zip));
  assert.deepEqual(Object.keys(files).sort(), p.entries);
  const lib = await h5();
  const f = new lib.File(path.join(dir, 'predict', 'submission', '2021', 'boxi_0015.pred.h5'), 'r');
  const ds = f.get('submission') as InstanceType<typeof lib.Dataset>;
  assert.deepEqual(ds.shape, [2, 1, 4, 24, 24]);
  assert.equal(ds.dtype, '<f');
  assert.ok(Array.from(ds.value as Float32Array).every((v) => v === 0 || v === 1));
  f.close();
});

test('the CLI and the typed API share their defaults (config.ts)', () => {
  const t = trainParams.parse({});
  for (const k of ['steps', 'batchSize', 'lr', 'weightDecay', 'clipValue', 'augment', 'evalEvery', 'checkpointEvery'] as const) assert.equal(DEFAULT_TRAIN[k], t[k], k);
  for (const k of ['posWeight', 'alpha', 'smooth', 'betaSpatial', 'betaTemporal'] as const) assert.equal(DEFAULT_LOSS[k], t[k], k);
  assert.equal(t.data, undefined);
  assert.equal(t.regions, undefined);
  assert.deepEqual(t.channels, TRAIN.channels);
  // β, α, the positive weight and the clipping come from the papers' values
  assert.deepEqual([t.betaSpatial, t.betaTemporal, t.alpha, t.posWeight, t.clipValue], [PAPER.beta, PAPER.beta, PAPER.alpha, PAPER.posWeight, PAPER.clipValue]);
  const e = evalParams.parse({ model: 'm', data: 'd' });
  assert.deepEqual([e.average, e.tau, e.maskMode, e.tta], [DEFAULT_EVAL.average, DEFAULT_EVAL.tau, DEFAULT_EVAL.maskMode, 'none']);
  const pr = predictParams.parse({ model: 'm', data: 'd' });
  assert.deepEqual([pr.tta, pr.average, pr.tau], [PAPER.released.tta, PAPER.released.average, PAPER.released.tau]);
  // ablate: no "0 = the mode default" sentinels; an absent parameter takes the mode's preset
  for (const mode of ['quick', 'full'] as const) assert.deepEqual(ablateOptions(ablateParams.parse({ mode })), ablateDefaults(mode));
  assert.equal(ABLATE.quick.baselineSteps, undefined);
  assert.throws(() => ablateParams.parse({ steps: 0 }), /steps/);
  assert.throws(() => ablateParams.parse({ seeds: 0 }), /seeds/);
  // --steps scales the baseline's own steps (full: 800 for SIANet's 400); quick trains both for `steps`
  const full = ablateOptions(ablateParams.parse({ mode: 'full', steps: 100 }));
  assert.deepEqual([full.steps, full.baselineSteps], [100, 200]);
  const quick = ablateOptions(ablateParams.parse({ mode: 'quick', steps: 50, seeds: 2, tau: '0.4' }));
  assert.deepEqual([quick.steps, quick.baselineSteps, quick.seeds, quick.tau], [50, undefined, [0, 1], 0.4]);
  const bench = { geometry: TINY, channels: ['IR_108'] } as never;
  const base = ABLATION.find((c) => c.model === 'unet3d')!;
  assert.equal(ablationTrainOptions(quick, bench, base, 0).steps, 50);
  assert.equal(ablationTrainOptions(full, bench, base, 0).steps, 200);
  assert.deepEqual(ABLATION.map((c) => c.name), [...ABLATION_NAMES]);
});

test('CLI: a bad item of a list parameter is refused by the schema (exit 2, naming the parameter and the valid values) before any run is created', () => {
  const cases: [string[], RegExp, RegExp][] = [
    [['ablate', '--configs', 'SIANet,bogus'], /configs/, /baseline 3D U-Net.*SIANet.*inverse policy/s],
    [['train', '--channels', 'IR_108,IR_999'], /channels/, /IR_016.*WV_073/s],
    [['describe', '--widths', '8,x'], /widths/, /number/i],
  ];
  for (const [args, param, valid] of cases) {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'nowcast-cli-'));
    const r = spawnSync(process.execPath, ['bin/paperlab.js', 'nowcast', ...args, '--quiet'], { env: { ...process.env, PAPERLAB_HOME: home }, encoding: 'utf8' });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, param);
    assert.match(r.stderr, valid);
    assert.deepEqual(fs.readdirSync(home), [], `${args.join(' ')}: no run folder or run store was created`);
  }
});
