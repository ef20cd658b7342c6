// Geometry and I/O (crop indices, half-pixel ×6 upsampling, HDF5 round trips,
// special-value preprocessing, contiguity check, clear errors on bad files).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../../src/core/torch/index.ts';
import { FULL, SMALL, TINY, cropRange, cropCenter, upsample, inputPixelOf } from '../../../src/modules/nowcast/geometry.ts';
import {
  writeDataset, openImages, preprocessHrit, preprocessOpera, HRIT_STATS, CHANNELS, NO_DATA, UNDETECTED, trainingWindows,
  validationWindows, writeSubmission, zipSubmission, type SplitRow, readSplits, openRegion, readSample, splitRows, hritPath, splitsCsvPath,
} from '../../../src/modules/nowcast/data.ts';
import { defaultSynthConfig, synthPlan } from '../../../src/modules/nowcast/synth.ts';
import { writeSynthetic } from '../../../src/modules/nowcast/samples.ts';
import { tmpDir } from '../../helpers/context.ts';
import { unzipSync } from 'fflate';

test('crop indices: 105…146 at full size, 20…27 at S; output pixel → input pixel', () => {
  assert.deepEqual(cropRange(FULL), [105, 146]);
  assert.deepEqual(cropRange(SMALL), [20, 27]);
  assert.deepEqual(cropRange(TINY), [10, 13]);
  assert.deepEqual(inputPixelOf(FULL, 0, 0), [105, 105]);
  assert.deepEqual(inputPixelOf(FULL, 251, 6), [146, 106]);
  const x = torch.arange(0, 48 * 48).reshape([1, 1, 1, 48, 48]).to('float64');
  const c = cropCenter(x, SMALL);
  assert.deepEqual(c.shape, [1, 1, 1, 8, 8]);
  assert.equal(c.at(0, 0, 0, 0, 0).item(), 20 * 48 + 20);
  assert.equal(c.at(0, 0, 0, 7, 7).item(), 27 * 48 + 27);
  assert.throws(() => cropCenter(torch.zeros([1, 1, 1, 40, 40]), SMALL), /expected spatial size 48×48/);
  torch.dispose(x, c);
});

test('half-pixel-centre ×6 upsampling: constants stay constant, a linear ramp is reproduced away from the borders', () => {
  const k = torch.full([1, 1, 3, 8, 8], 0.37, { dtype: 'float64' });
  const u = upsample(k, 6);
  assert.deepEqual(u.shape, [1, 1, 3, 48, 48]);
  assert.ok(u.sub(0.37).abs().max().item() < 1e-12);
  // ramp v(col) = 2·col + 1 on input pixel centres (col + 0.5): output pixel j has centre (j + 0.5)/6 in input units
  const ramp = torch.arange(0, 8).to('float64').mul(2).add(1).reshape([1, 1, 1, 1, 8]).expand([1, 1, 1, 8, 8]).contiguous();
  const r = upsample(ramp, 6).toFloat64Array();
  for (let j = 3; j < 45; j++) {
    const expected = 2 * ((j + 0.5) / 6 - 0.5) + 1;
    assert.ok(Math.abs(r[4 * 48 + j]! - expected) < 1e-9, `column ${j}: ${r[4 * 48 + j]} vs ${expected}`);
  }
  // borders clamp (edge pixels replicate), which is why the ramp only holds inside
  assert.ok(Math.abs(r[4 * 48]! - 1) < 1e-9);
  torch.dispose(k, u, ramp);
});

test('HDF5 round trip: input, target and submission keep shape, dtype and key names; float64 files are read as float32', async () => {
  const dir = tmpDir();
  const x = Float32Array.from({ length: 3 * 11 * 6 * 6 }, (_, i) => Math.sin(i));
  await writeDataset(path.join(dir, 'a.h5'), 'REFL-BT', x, [3, 11, 6, 6]);
  await writeDataset(path.join(dir, 'b.h5'), 'rates.crop', Float64Array.from({ length: 3 * 36 }, (_, i) => i / 10), [3, 1, 6, 6], 'float64');
  const a = await openImages(path.join(dir, 'a.h5'), 'REFL-BT', { channels: 11 });
  assert.deepEqual(a.shape, [3, 11, 6, 6]);
  assert.equal(a.dtype, '<f');
  const img = a.read(1, 2);
  assert.equal(img.dtype, 'float32');
  assert.deepEqual(Array.from(img.toFloat64Array()), Array.from(x.subarray(11 * 36, 3 * 11 * 36), Number));
  a.close();
  const b = await openImages(path.join(dir, 'b.h5'), 'rates.crop', { channels: 1 });
  assert.equal(b.dtype, '<d');
  assert.ok(Math.abs(b.read(2).toArray()[5]! - 7.7) < 1e-6);
  b.close();
  const pred = torch.rand([2, 1, 4, 6, 6]);
  const file = await writeSubmission(path.join(dir, 'sub'), 2019, 'boxi_0015', pred);
  assert.equal(file, path.join(dir, 'sub', '2019', 'boxi_0015.pred.h5'));
  const h5 = (await import('../../../src/modules/nowcast/data.ts')).h5;
  const lib = await h5();
  const f = new lib.File(file, 'r');
  assert.deepEqual(f.keys(), ['submission']);
  const ds = f.get('submission') as InstanceType<typeof lib.Dataset>;
  assert.deepEqual(ds.shape, [2, 1, 4, 6, 6]);
  assert.equal(ds.dtype, '<f');
  const vals = Array.from(ds.value as Float32Array);
  const want = Array.from(pred.gt(0.5).to('float32').toTypedArray() as Float32Array);
  assert.deepEqual(vals, want);
  f.close();
  const names = zipSubmission(path.join(dir, 'sub'), path.join(dir, 'sub.zip'));
  assert.deepEqual(names, ['2019/boxi_0015.pred.h5']);
  assert.deepEqual(Object.keys(unzipSync(fs.readFileSync(path.join(dir, 'sub.zip')))), ['2019/boxi_0015.pred.h5']);
  torch.dispose(img, pred);
});

test('a truncated, wrong-shaped or wrong-key HDF5 file gives a clear error naming the file and key', async () => {
  const dir = tmpDir();
  const good = path.join(dir, 'r.train.reflbt0.ns.h5');
  await writeDataset(good, 'REFL-BT', new Float32Array(4 * 11 * 8 * 8), [4, 11, 8, 8]);
  const buf = fs.readFileSync(good);
  const trunc = path.join(dir, 'trunc.h5');
  fs.writeFileSync(trunc, buf.subarray(0, buf.length - 500));
  await assert.rejects(openImages(trunc, 'REFL-BT'), (e: Error) => e.message.includes(trunc) && e.message.includes('REFL-BT') && /truncated/.test(e.message));
  await assert.rejects(openImages(good, 'rates.crop', { channels: 1 }), (e: Error) => e.message.includes(good) && e.message.includes("'rates.crop' not found"));
  // OPERA with 11 channels (the README typo) must fail loudly
  const opera = path.join(dir, 'o.h5');
  await writeDataset(opera, 'rates.crop', new Float32Array(2 * 11 * 8 * 8), [2, 11, 8, 8]);
  await assert.rejects(openImages(opera, 'rates.crop', { channels: 1 }), (e: Error) => e.message.includes(opera) && e.message.includes('[rates.crop]') && /expected 1 channel/.test(e.message));
  await assert.rejects(openImages(good, 'REFL-BT', { size: 16 }), /expected 16×16 images, got 8×8/);
  fs.writeFileSync(path.join(dir, 'not.h5'), 'hello world, not hdf5');
  await assert.rejects(openImages(path.join(dir, 'not.h5'), 'REFL-BT'), /not an HDF5 file/);
  await assert.rejects(openImages(path.join(dir, 'missing.h5'), 'REFL-BT'), /missing\.h5: no such file/);
});

test('preprocessing of special values (the organisers\' reference loader): HRIT NaN/inf → 0, clip, standardise; OPERA mask and labels', () => {
  // channel IR_108: lo 0, hi 350, μ 270.1535, σ 18.49373
  const ch = ['IR_108', 'VIS006'] as const;
  const x = torch.tensor([[NaN, Infinity, 400, 270.1535], [-Infinity, 0.5, 2, -1]], { dtype: 'float64' }).reshape([1, 2, 4]);
  const p = preprocessHrit(x, ch, 1).toFloat64Array();
  const s = HRIT_STATS.IR_108, v = HRIT_STATS.VIS006;
  const z = (c: typeof s, x: number) => (x - c.mu) / c.sigma;
  const want = [z(s, 0), z(s, 0), z(s, 350), 0, z(v, 0), z(v, 0.5), z(v, 1.02), z(v, 0)];
  want.forEach((w, i) => assert.ok(Math.abs(p[i]! - w) < 1e-9, `value ${i}: ${p[i]} vs ${w}`));
  assert.equal(CHANNELS.length, 11);
  const raw = torch.tensor([NO_DATA, UNDETECTED, NaN, Infinity, 129, 128, 0.2, 0.19, 0, 5], { dtype: 'float64' });
  const { label, mask } = preprocessOpera(raw);
  assert.deepEqual(mask.toArray(), [1, 0, 1, 1, 1, 0, 0, 0, 0, 0]);
  assert.deepEqual(label.toArray(), [0, 0, 0, 1, 1, 1, 1, 0, 0, 1]);
  const st1 = preprocessOpera(raw, { threshold: 0, strict: true });
  assert.deepEqual(st1.label.toArray(), [0, 0, 0, 1, 1, 1, 1, 1, 0, 1]);
  torch.dispose(x, raw, label, mask, st1);
});

test('OPERA labels of non-finite rates: +∞ is rain (≥ 0.2 holds), −∞ and NaN are not; all three are masked', () => {
  // NaN satisfies no comparison, so the rule gives 0 (the reference maps NaN to 0); −∞ < 0.2 gives 0
  for (const dtype of ['float32', 'float64'] as const) {
    const raw = torch.tensor([Infinity, NaN, -Infinity, 0.19, 0.2, 0.21, 0, 5, NO_DATA, UNDETECTED], { dtype });
    const { label, mask } = preprocessOpera(raw);
    assert.deepEqual(label.toArray(), [1, 0, 0, 0, 1, 1, 0, 1, 0, 0], dtype);
    assert.deepEqual(mask.toArray(), [1, 1, 1, 0, 0, 0, 0, 0, 1, 0], dtype);
    assert.equal(label.dtype, dtype);
    // Stage 1's rule (rate > 0): +∞ is rain, −∞, NaN, 0 and the codes are not
    const st1 = preprocessOpera(raw, { threshold: 0, strict: true });
    assert.deepEqual(st1.label.toArray(), [1, 0, 0, 1, 1, 1, 0, 1, 0, 0], dtype);
    torch.dispose(raw, label, mask, st1.label, st1.mask);
  }
});

const row = (d: string, t: string, split = 'training', type = '-', ok = 1): SplitRow =>
  ({ time: t, date_str: d, date: '', RATE: ok, ACRR: ok, DBZH: ok, 'REFL-BT': ok, all_vars: ok, split, split_type: type });

test('training-window contiguity check rejects windows with gaps', () => {
  const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}${String(m % 60).padStart(2, '0')}00`;
  const rows: SplitRow[] = [];
  for (let m = 0; m < 12 * 15; m += 15) if (m !== 90) rows.push(row('20190101', hhmm(m))); // 01:30 is missing
  const w = trainingWindows(rows, 4, 1);
  const mins = rows.map((r) => Number(r.time.slice(0, 2)) * 60 + Number(r.time.slice(2, 4)));
  for (const i of w) assert.equal(mins[i + 4]! - mins[i]!, 60);
  // windows of 5 slots: 00:00 and 00:15 end before 01:30; 00:30 … 01:15 straddle the gap; 01:45 is the last full one
  assert.deepEqual(w.map((i) => mins[i]), [0, 15, 105]);
  // a gap across midnight is also caught
  const across = [row('20190101', '233000'), row('20190101', '234500'), row('20190102', '000000'), row('20190102', '001500')];
  assert.deepEqual(trainingWindows(across, 2, 2), [0]);
  assert.deepEqual(trainingWindows([...across.slice(0, 2), row('20190102', '001500'), row('20190102', '003000')], 2, 2), []);
  // validation: starts of runs of 4 validation_in rows
  const val = [0, 1, 2, 3].map((k) => row('20190103', `00${k}000`, 'validation', 'validation_in'))
    .concat([4, 5].map((k) => row('20190103', `00${k}000`, 'validation', 'validation_target')));
  assert.deepEqual(validationWindows(val, 4), [0]);
});

test('synthetic generator writes the exact W4C layout and the loader reads it end to end', async () => {
  const dir = tmpDir();
  const cfg = defaultSynthConfig(TINY, { trainDays: 1, slotsPerDay: 24, valSeqs: 1, testSeqs: 2 });
  const plan = synthPlan({ coreRegions: 1, transferRegions: 1 });
  plan.cells = plan.cells.filter((c) => c.year.year === 2019);
  const out = await writeSynthetic(dir, cfg, 3, plan);
  assert.equal(out.cells, 2);
  const rows = readSplits(splitsCsvPath(dir, 2019));
  const tr = splitRows(rows, 'train');
  const r = await openRegion(dir, 2019, 'boxi_0015', 'train', { size: 24 });
  assert.equal(r.hrit.length, tr.length);
  assert.deepEqual(r.opera!.shape, [tr.length, 1, 24, 24]);
  const wins = trainingWindows(tr, TINY.tIn, TINY.tOut);
  assert.ok(wins.length > 0 && wins.length < tr.length - 7, 'the dropped slot makes some windows invalid');
  const s = readSample(r, wins[0]!, TINY.tIn, TINY.tOut, { channels: ['IR_108', 'WV_062'], stats: { IR_108: { lo: 0, hi: 350, mu: 270, sigma: 10 }, WV_062: { lo: 0, hi: 300, mu: 230, sigma: 5 } } });
  assert.deepEqual(s.x.shape, [2, 4, 24, 24]);
  assert.deepEqual(s.y!.shape, [1, 4, 24, 24]);
  assert.ok(s.mask!.sum().item() >= 0);
  r.close();
  assert.ok(fs.existsSync(hritPath(dir, 2019, 'roxi_0008', 'test')));
  const t = await openImages(hritPath(dir, 2019, 'roxi_0008', 'test'), 'REFL-BT', { channels: 11 });
  assert.equal(t.length, 2 * TINY.tIn);
  t.close();
  torch.dispose(s.x, s.y, s.mask);
});
