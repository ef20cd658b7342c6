// The Weather4cast 2022 release as shipped, on a tiny folder in its exact layout written with h5py
// (scripts/fixtures/w4c22_release.py → test/fixtures/nowcast/w4c22): the one splits table at the
// root filtered by year, float16 satellite data, the test split counted from the table, and the
// README's command sequence from the release folder to the submission zip; each broken twin (a
// truncated file, a misspelt key, a wrong shape, an integer dtype, a bad CSV line, a test file that
// disagrees with the table) stops with an error naming the file and the key or line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import '../../../src/modules/nowcast/index.ts';
import { getCommand, validateParams } from '../../../src/core/registry.ts';
import { InputFileError } from '../../../src/core/errors.ts';
import {
  h5, openImages, decodeHalf, halfBitsToNumber, yearSplits, splitRows, trainingWindows, validationWindows, clearSplitsCache, CHANNELS,
} from '../../../src/modules/nowcast/data.ts';
import { FileDataset, loadEvalSets } from '../../../src/modules/nowcast/io.ts';
import { predictCells } from '../../../src/modules/nowcast/experiments.ts';
import { TINY } from '../../../src/modules/nowcast/geometry.ts';
import { fakeContext, tmpDir } from '../../helpers/context.ts';

const ROOT = fileURLToPath(new URL('../../fixtures/nowcast/w4c22', import.meta.url));
const BAD = fileURLToPath(new URL('../../fixtures/nowcast/w4c22-corrupt', import.meta.url));
const HRIT = (split: string, region = 'boxi_0015') => path.join('2019', 'HRIT', `${region}.${split}.reflbt0.ns.h5`);
const CSV = 'timestamps_and_splits_stage2.csv';

async function run(cmd: string, raw: Record<string, unknown>, dir: string): Promise<Record<string, any>> {
  const c = getCommand('nowcast', cmd);
  return (await c.run(validateParams(c, raw) as never, fakeContext({ dir, seed: 1 }))) as Record<string, any>;
}

/** A copy of the release folder with `edit` applied (the corrupt twins). */
function twin(edit: (root: string) => void): string {
  const root = path.join(tmpDir('w4c22-twin-'), 'data');
  fs.cpSync(ROOT, root, { recursive: true });
  edit(root);
  clearSplitsCache();
  return root;
}

test('IEEE binary16: every bit pattern widens exactly (subnormals, ±0, ±inf, NaN)', () => {
  const cases: [number, number][] = [
    [0x0000, 0], [0x8000, -0], [0x0001, 2 ** -24], [0x03ff, 1023 * 2 ** -24], [0x0400, 2 ** -14], [0x3c00, 1], [0xc000, -2],
    [0x3555, 0.333251953125], [0x7bff, 65504], [0xfbff, -65504], [0x7c00, Infinity], [0xfc00, -Infinity],
  ];
  for (const [bits, v] of cases) assert.ok(Object.is(halfBitsToNumber(bits), v), `0x${bits.toString(16)} → ${halfBitsToNumber(bits)}, expected ${v}`);
  for (const nan of [0x7c01, 0x7e00, 0xfe00, 0x7fff]) assert.ok(Number.isNaN(halfBitsToNumber(nan)));
  const all = decodeHalf(Uint16Array.from({ length: 65536 }, (_, i) => i));
  // numpy's float16 → float32 over all 65 536 patterns, where numpy is there (CI installs python3-numpy)
  const py = spawnSync('/usr/bin/python3', ['-c', 'import sys, numpy as np; sys.stdout.buffer.write(np.arange(65536, dtype=np.uint16).view(np.float16).astype("<f4").tobytes())'], { maxBuffer: 1 << 20 });
  if (py.status !== 0) return;
  const ref = new Float32Array(new Uint8Array(py.stdout).buffer);
  for (let i = 0; i < 65536; i++) assert.ok(Object.is(all[i], ref[i]) || (Number.isNaN(all[i]) && Number.isNaN(ref[i])), `pattern 0x${i.toString(16)}: ${all[i]} vs numpy ${ref[i]}`);
});

test('release layout: one splits table at the root, the rows of the year asked for; float16 REFL-BT read as shipped', async () => {
  const t = yearSplits(ROOT, 2019);
  assert.equal(t.layout, 'release');
  assert.equal(t.file, path.join(ROOT, CSV));
  assert.ok(t.rows.every((r) => r.date.startsWith('2019-')), 'the 2020 rows of the table are left out');
  const train = splitRows(t.rows, 'train'), val = splitRows(t.rows, 'val');
  assert.equal(train.length, 16); // the all_vars 0 slot is not in the file
  assert.deepEqual(trainingWindows(train, TINY.tIn, TINY.tOut), [0, 1, 2, 3, 4]); // none across the missing slot
  assert.deepEqual(validationWindows(val, TINY.tIn), [0, 8]);
  assert.throws(() => yearSplits(ROOT, 2021), (e: Error) => e instanceof InputFileError && e.message.includes(CSV) && /no rows of 2021/.test(e.message));
  const a = await openImages(path.join(ROOT, HRIT('val')), 'REFL-BT', { channels: 11, size: 24 });
  try {
    assert.equal(a.stored, 'float16');
    assert.deepEqual(a.shape, [16, 11, 24, 24]);
    const x = a.read(0, 1).toTypedArray() as Float32Array;
    const at = (c: number, i: number) => x[c * 576 + i]!;
    assert.ok(Number.isNaN(at(CHANNELS.indexOf('IR_108'), 0)), 'the NaN written by h5py reads as NaN');
    for (let i = 1; i < 576; i++) {
      const v = at(CHANNELS.indexOf('IR_108'), i);
      assert.ok(v >= 228 && v <= 278 && v * 4 === Math.round(v * 4), `IR_108 pixel ${i}: ${v} (quarter-kelvin steps, exact in float16)`);
    }
  } finally { a.close(); }
  const chunked = await openImages(path.join(ROOT, HRIT('train')), 'REFL-BT', { channels: 11 }); // gzip + shuffle chunks
  try { assert.equal(chunked.stored, 'float16'); assert.equal(chunked.read(15, 1).toTypedArray()[1 * 576 + 25], Infinity); } finally { chunked.close(); }
});

test('release layout: training windows and validation sequences read with labels; the float16 radar no-data value is masked', async () => {
  const src = { root: ROOT, regions: ['boxi_0015'], years: [2019], channels: [...CHANNELS], geometry: TINY };
  const ds = await FileDataset.open(src, 'train');
  try {
    assert.equal(ds.length, 5);
    const b = ds.batch([0, 4]);
    assert.deepEqual(b.x.shape, [2, 11, 4, 24, 24]);
    assert.equal(Number(b.x.isfinite().all().item()), 1, 'NaN and inf are mapped before standardising');
  } finally { ds.close(); }
  const [v] = await loadEvalSets(src, 'val');
  assert.deepEqual(v!.y.shape, [2, 1, 4, 24, 24]);
  // row 0 of every radar image is −9 999 000 (−inf once stored as float16) in its first 3 pixels: masked
  const m = v!.mask.toTypedArray() as Uint8Array;
  assert.deepEqual([m[0], m[1], m[2], m[3]].map(Number), [1, 1, 1, 0]);
  const y = v!.y.toTypedArray() as Float32Array;
  assert.equal(y[24], 0, 'undetected (−8 888 000) is no rain');
  assert.ok(y.some((q) => q === 1), 'the fixture rains somewhere');
});

test('README sequence: release folder → train → predict on the test split → <year>/<region>.pred.h5 zip (and .pred.h5.gz)', async () => {
  const dir = tmpDir('w4c22-e2e-');
  const t = await run('train', { data: ROOT, years: [2019], steps: 3, batchSize: 2, evalEvery: 0, checkpointEvery: 0 }, path.join(dir, 'train'));
  assert.ok(fs.existsSync(t.model));
  assert.deepEqual(Object.keys(t.perCell), ['boxi_0015/2019']);
  const p = await run('predict', { model: t.model, data: ROOT, years: [2019] }, path.join(dir, 'predict'));
  assert.deepEqual(p.entries, ['2019/boxi_0015.pred.h5', '2019/roxi_0008.pred.h5']); // the transfer region has test inputs only
  const files = unzipSync(fs.readFileSync(p.zip));
  assert.deepEqual(Object.keys(files).sort(), p.entries);
  const lib = await h5();
  const check = (file: string) => {
    const f = new lib.File(file, 'r');
    try {
      assert.deepEqual(f.keys(), ['submission']);
      const ds = f.get('submission') as InstanceType<typeof lib.Dataset>;
      assert.deepEqual(ds.shape, [2, 1, TINY.tOut, 24, 24]); // (sequences, 1, slots, H, W): 2 test_in sequences of 4 in the table
      assert.equal(ds.dtype, '<f');
      assert.ok(Array.from(ds.value as Float32Array).every((q) => q === 0 || q === 1));
    } finally { f.close(); }
  };
  check(path.join(p.dir, '2019', 'roxi_0008.pred.h5'));
  const g = await run('predict', { model: t.model, data: ROOT, years: [2019], gzip: true, tta: 'none' }, path.join(dir, 'predict-gz'));
  assert.deepEqual(g.entries, ['2019/boxi_0015.pred.h5.gz', '2019/roxi_0008.pred.h5.gz']);
  const unz = path.join(dir, 'boxi_0015.pred.h5');
  fs.writeFileSync(unz, gunzipSync(unzipSync(fs.readFileSync(g.zip))['2019/boxi_0015.pred.h5.gz']!));
  check(unz);
  // --challenge: the cells of the Stage 2 submissions; this folder lacks most of them, and the first missing file is named
  const cells = (challenge: 'core' | 'transfer') => predictCells({ challenge, years: [], data: ROOT, split: 'test' }).map((c) => [c.year, c.regions.length]);
  assert.deepEqual(cells('core'), [[2019, 7], [2020, 7]]);
  assert.deepEqual(cells('transfer'), [[2019, 3], [2020, 3], [2021, 10]]);
  await assert.rejects(run('predict', { model: t.model, data: ROOT, challenge: 'core', tta: 'none' }, path.join(dir, 'predict-core')),
    (e: Error) => e instanceof InputFileError && e.message.includes(HRIT('test', 'boxi_0034')) && /no such file/.test(e.message));
});

test('corrupt twins: each stops with an InputFileError naming the file and the key or line', async () => {
  const src = (root: string) => ({ root, regions: ['boxi_0015'], years: [2019], channels: [...CHANNELS], geometry: TINY });
  const names = (file: string, ...what: (string | RegExp)[]) => (e: Error) => {
    assert.ok(e instanceof InputFileError, `${e.name}: ${e.message}`);
    assert.ok(e.message.includes(file), `'${e.message}' should name ${file}`);
    for (const w of what) assert.ok(typeof w === 'string' ? e.message.includes(w) : w.test(e.message), `'${e.message}' should say ${w}`);
    return true;
  };
  // a truncated file (the download stopped half-way)
  let root = twin((r) => { const f = path.join(r, HRIT('val')); fs.truncateSync(f, Math.floor(fs.statSync(f).size / 2)); });
  await assert.rejects(loadEvalSets(src(root), 'val'), names(HRIT('val'), 'REFL-BT', /truncated/));
  // damaged bytes inside the last gzip chunks of a chunked file (the size is right): the read of those images fails
  root = twin((r) => { const f = path.join(r, HRIT('train')); const b = fs.readFileSync(f); b.fill(0x55, b.length - 3000, b.length - 1000); fs.writeFileSync(f, b); });
  const chunked = await openImages(path.join(root, HRIT('train')), 'REFL-BT');
  try {
    assert.throws(() => { for (let i = 0; i < chunked.length; i++) chunked.read(i, 1).dispose(); }, names(HRIT('train'), '[REFL-BT]', /cannot read images \d+…\d+/));
  } finally { chunked.close(); }
  // the dataset key misspelt, a wrong channel count, integer values
  for (const [bad, what] of [['missing_key.h5', "'REFL-BT' not found"], ['wrong_shape.h5', 'expected 11 channel(s)'], ['int_dtype.h5', 'expected float16/32/64']] as const) {
    root = twin((r) => fs.copyFileSync(path.join(BAD, bad), path.join(r, HRIT('test', 'roxi_0008'))));
    await assert.rejects(loadEvalSets({ ...src(root), regions: ['roxi_0008'] }, 'test'), names(HRIT('test', 'roxi_0008'), '[REFL-BT]', what));
  }
  // a bad CSV line: a date that is not YYYYMMDD; a line with a missing field
  const editCsv = (f: (lines: string[]) => void) => twin((r) => { const p = path.join(r, CSV); const l = fs.readFileSync(p, 'utf8').split('\n'); f(l); fs.writeFileSync(p, l.join('\n')); });
  root = editCsv((l) => { l[4] = l[4]!.replace(/,(\d{8}),/, ',2019-03,'); });
  assert.throws(() => yearSplits(root, 2019), names(CSV, "line 5: column 'date_str'"));
  root = editCsv((l) => { l[6] = l[6]!.split(',').slice(0, 9).join(','); });
  assert.throws(() => yearSplits(root, 2019), names(CSV, /line 7|record.*7/i));
  // the table lists one test sequence less than the file holds
  root = editCsv((l) => { for (let i = 1; i < l.length; i++) if (/,20190501,.*,test_in$/.test(l[i]!)) l[i] = l[i]!.replace('test_in', 'test_buffer'); });
  await assert.rejects(loadEvalSets(src(root), 'test'), names(HRIT('test'), CSV, "lists 4 'test_in' rows"));
  // the training file and the table disagree (one training row flagged all_vars 0)
  root = editCsv((l) => { const i = l.findIndex((x) => /,training,-$/.test(x) && x.includes('2019')); l[i] = l[i]!.replace(/,1,training,-$/, ',0,training,-'); });
  await assert.rejects(FileDataset.open(src(root), 'train'), names(HRIT('train'), CSV, "15 'train' rows"));
  // no table at all: the places looked at are named
  root = twin((r) => fs.rmSync(path.join(r, CSV)));
  assert.throws(() => yearSplits(root, 2019), (e: Error) => e instanceof InputFileError && e.message.includes(CSV) && e.message.includes('timestamps_and_splits_2019.csv'));
});
