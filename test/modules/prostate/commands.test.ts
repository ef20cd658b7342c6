// The commands' shape: --help loads no engine and nothing of the module beyond commands.ts and
// config.ts; list parameters are refused item by item by the schema before a run exists; no
// sentinel values; `evaluate` needs only detection maps and labels (issue #24: it used to demand
// images/<pid>/<key>_{t2w,adc,hbv} it never used).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCommand } from '../../../src/core/runner.ts';
import '../../../src/modules/prostate/commands.ts';
import { writePhantomDataset } from '../../../src/modules/prostate/phantoms.ts';
import { loadLabel, writeImage, LAYOUT } from '../../../src/modules/prostate/picai.ts';
import { makeVolume } from '../../../src/modules/prostate/volume.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prostate-cmd-'));
const HEAVY = /\/core\/torch\/|\/core\/runner\.|\/core\/plots\.|\/node_modules\/(vega[^/]*|sharp|@duckdb|better-sqlite3|hyparquet|h5wasm|nifti-reader-js)\//;

test('--help of the module and of its commands loads no engine and only commands.ts and config.ts of the module', () => {
  for (const args of [['prostate', '--help'], ['prostate', 'train', '--help'], ['prostate', 'ablation', '--help']]) {
    const log = path.join(fs.mkdtempSync(path.join(tmp, 'imports-')), 'imports.txt');
    fs.writeFileSync(log, '');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/helpers/record-imports.mjs', 'src/cli/main.ts', ...args], {
      encoding: 'utf8', env: { ...process.env, PAPERLAB_IMPORT_LOG: log },
    });
    assert.equal(r.status, 0, r.stderr);
    const loaded = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
    assert.deepEqual(loaded.filter((u) => HEAVY.test(u) || u.startsWith('dlopen ')), [], `paperlab ${args.join(' ')}`);
    const mine = loaded.filter((u) => u.includes('/src/modules/prostate/')).map((u) => path.basename(u)).sort();
    assert.deepEqual(mine, ['commands.ts', 'config.ts'], `paperlab ${args.join(' ')}`);
  }
});

test('CLI: a bad item of --variants is refused by the schema (exit 2, naming the parameter and the valid values) before any run is created', () => {
  const home = fs.mkdtempSync(path.join(tmp, 'cli-'));
  const r = spawnSync(process.execPath, ['bin/paperlab.js', 'prostate', 'ablation', '--variants', 'mesh,bogus', '--quiet'],
    { env: { ...process.env, PAPERLAB_HOME: home }, encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /variants/);
  assert.match(r.stderr, /mesh.*2d-only.*3d-only.*no-zonal.*ssl/);
  assert.deepEqual(fs.readdirSync(home), [], 'no run folder or run store was created');
});

test('no sentinels: a fold of -1 or a batch count of 0 is refused; leaving them out means every case / the reference count', async () => {
  const root = path.join(tmp, 'runs');
  await assert.rejects(runCommand('prostate', 'detect', { data: tmp, model: tmp, fold: -1 }, { root }), /fold/);
  await assert.rejects(runCommand('prostate', 'pretrain', { batchesPerEpoch: 0 }, { root }), /batchesPerEpoch/);
  await assert.rejects(runCommand('prostate', 'ablation', { variants: [] }, { root }), /variants/);
});

/** A PI-CAI folder with labels but no images/, and detection maps that hit every lesion exactly. */
function labelsOnly(): { data: string; maps: string; keys: string[]; positives: number } {
  const full = path.join(tmp, 'full');
  const ds = writePhantomDataset(full, { cases: 6, dims: [32, 32, 8], seed: 3, lesionVoxels: [30, 120], positiveRate: 0.5 });
  const data = path.join(tmp, 'labels-only');
  fs.cpSync(path.join(full, 'labels'), path.join(data, 'labels'), { recursive: true });
  fs.rmSync(full, { recursive: true });
  const maps = path.join(tmp, 'maps');
  fs.mkdirSync(maps);
  let positives = 0;
  ds.keys.forEach((k, i) => {
    const lab = loadLabel(data, k)!;
    const det = Float32Array.from(lab.data as ArrayLike<number>, (v) => (v ? 0.8 : 0));
    if (det.some((v) => v > 0)) positives++;
    const vol = makeVolume(lab.dims, { data: det, spacing: lab.spacing, origin: lab.origin, direction: lab.direction });
    writeImage(path.join(maps, `${k}_detection_map.${i % 2 ? 'mha' : 'nii.gz'}`), vol);
  });
  return { data, maps, keys: ds.keys, positives };
}

test('evaluate reads only detection maps and labels: a folder without images/ is evaluated (issue #24)', async () => {
  const { data, maps, keys, positives } = labelsOnly();
  assert.ok(!fs.existsSync(path.join(data, LAYOUT.images)), 'the data folder has no images/');
  assert.ok(positives > 0 && positives < keys.length, 'both classes present');
  const root = path.join(tmp, 'runs');
  const ev = await runCommand('prostate', 'evaluate', { data, detections: maps, bootstrap: 10 }, { root, seed: 1 });
  assert.equal(ev.run.status, 'done');
  const s = ev.summary as { auroc: number; AP: number; score: number; num_cases: number };
  assert.equal(s.num_cases, keys.length);
  assert.equal(s.auroc, 1);
  assert.equal(s.AP, 1);
  assert.ok(fs.existsSync(path.join(ev.run.dir, 'metrics.json')) && fs.existsSync(path.join(ev.run.dir, 'curves.json')));

  // a map on another grid than its label is named; a folder with no labels/ is refused clearly
  const bad = path.join(tmp, 'bad-maps');
  fs.mkdirSync(bad);
  writeImage(path.join(bad, `${keys[0]}_detection_map.nii.gz`), makeVolume([16, 16, 8], { data: new Float32Array(16 * 16 * 8) }));
  await assert.rejects(runCommand('prostate', 'evaluate', { data, detections: bad }, { root }), new RegExp(`${keys[0]}_detection_map.*dims 16x16x8.*32x32x8`));
  await assert.rejects(runCommand('prostate', 'evaluate', { data: maps, detections: maps }, { root }), /no 'labels' folder/);
});
