// End to end through the registered commands: describe, synth (W4C layout) → train on the files
// (checkpoints, frames) → eval (per-cell table, lead-time curve, TTA) → predict (submission zip).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { unzipSync } from 'fflate';
import '../../../src/modules/nowcast/index.ts';
import { getCommand, validateParams, listModules } from '../../../src/core/registry.ts';
import { h5 } from '../../../src/modules/nowcast/data.ts';
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
  assert.equal(r.parameterCounts[0].sianet, 1331633);
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
  assert.ok(fs.readdirSync(path.join(tdir, 'checkpoints')).some((d) => d.startsWith('model-step000002')));
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
