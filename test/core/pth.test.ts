// torch.save checkpoints written by Debian's PyTorch (scripts/fixtures/torch_checkpoints.py, run
// at test time): every dtype, non-contiguous and shared-storage views, Parameters, a nested
// Lightning checkpoint; the legacy format and malicious pickles refused; corrupt twins with clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { unzipSync, zipSync } from 'fflate';
import { readTorchFile } from '../../src/core/io/pth.ts';
import { InputFileError } from '../../src/core/errors.ts';
import * as torch from '../../src/core/torch/index.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-pth-'));
execFileSync('/usr/bin/python3', [path.resolve('scripts/fixtures/torch_checkpoints.py'), dir], { stdio: ['ignore', 'inherit', 'inherit'] });
type Expect = Record<string, Record<string, { dtype: string; shape: number[]; values: number[] }>>;
const expected = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Expect;
const at = (f: string) => path.join(dir, f);
const read = (f: string) => readTorchFile(fs.readFileSync(at(f)), f);

test('every dtype, every view and Parameters read as PyTorch wrote them', () => {
  for (const f of ['dtypes.pth', 'views.pth', 'params.pth']) {
    const { stateDict } = read(f);
    assert.deepEqual(Object.keys(stateDict), Object.keys(expected[f]!), f);
    const loaded = torch.loadStateDict(at(f));
    for (const [k, e] of Object.entries(expected[f]!)) {
      const a = stateDict[k]!;
      assert.equal(a.dtype, e.dtype, `${f} ${k}`);
      assert.deepEqual(a.shape, e.shape, `${f} ${k}`);
      const t = loaded.tensors[k]!;
      assert.deepEqual(t.shape, e.shape);
      const got = t.dtype === 'int64' ? Array.from(t.toTypedArray() as BigInt64Array, Number) : Array.from(t.toTypedArray() as ArrayLike<number>);
      if (['float32', 'float16', 'bfloat16'].includes(e.dtype)) {
        assert.equal(t.dtype, 'float32', `${k}: half precision becomes float32`);
        got.forEach((v, i) => assert.ok(Math.abs(v - e.values[i]!) <= 1e-7 * Math.abs(v), `${f} ${k}[${i}]: ${v} vs ${e.values[i]}`));
      } else {
        assert.deepEqual(got, e.values, `${f} ${k}`);
      }
    }
    if (f === 'dtypes.pth') assert.deepEqual(loaded.halfConverted, ['f16', 'bf16']);
    torch.dispose(loaded.tensors);
  }
  // the shared storage is one record: 'whole' and the views come from the same bytes
  const names = Object.keys(unzipSync(fs.readFileSync(at('views.pth')))).filter((n) => /\/data\/\d+$/.test(n));
  assert.equal(names.length, 2, 'views.pth: the four views of m share one storage record (plus the expanded arange)');
});

test('a nested PyTorch Lightning checkpoint gives its state_dict; prefixes strip', () => {
  const { stateDict, other } = read('lightning.ckpt');
  assert.deepEqual(Object.keys(stateDict), Object.keys(expected['lightning.ckpt']!));
  for (const k of ['epoch', 'global_step', 'optimizer_states', 'lr_schedulers', 'hyper_parameters', 'callbacks']) assert.ok(other.includes(k), k);
  const auto = torch.loadStateDict(at('lightning.ckpt'), { prefix: 'auto' });
  assert.deepEqual(Object.keys(auto.tensors), Object.keys(expected['lightning.ckpt']!).map((k) => k.slice('model.'.length)));
  assert.equal(auto.tensors['1.num_batches_tracked']!.dtype, 'int64');
  torch.dispose(auto.tensors);
  assert.throws(() => torch.loadStateDict(at('lightning.ckpt'), { prefix: 'encoder.' }), /lightning\.ckpt: no key starts with 'encoder\.' \(keys start with model\.\)/);
  // the nested dict of a plain checkpoint is flattened with dots
  assert.deepEqual(Object.keys(read('nested.pt').stateDict), ['encoder.w', 'encoder.b', 'head.w']);
});

test('the legacy format is refused with how to re-save; malicious pickles run nothing', () => {
  assert.throws(() => read('legacy.pth'), (e: Error) => e instanceof InputFileError && /legacy\.pth: this is the legacy torch\.save format.*re-save/.test(e.message));
  // torch.save of an object whose __reduce__ is os.system (Python names it posix.system)
  assert.throws(() => torch.loadStateDict(at('evil.pth')), (e: Error) => e instanceof InputFileError && /evil\.pth \(record evil\/data\.pkl\): pickle names posix\.system, which paperlab does not load \(only tensors, storages and plain containers\)/.test(e.message));
  // a hand-written data.pkl: GLOBAL 'os system', REDUCE
  const marker = path.join(dir, 'PWNED2');
  const entries = unzipSync(fs.readFileSync(at('dtypes.pth')));
  entries['dtypes/data.pkl'] = Uint8Array.from(`cos\nsystem\n(S'touch ${marker}'\ntR.`, (c) => c.charCodeAt(0));
  fs.writeFileSync(at('os.pth'), zipSync(entries, { level: 0 }));
  assert.throws(() => torch.loadStateDict(at('os.pth')), (e: Error) => e instanceof InputFileError && /os\.pth \(record dtypes\/data\.pkl\): pickle names os\.system, which paperlab does not load/.test(e.message));
  assert.equal(fs.existsSync(marker), false);
  assert.equal(fs.existsSync(path.join(dir, 'PWNED')), false);
});

test('corrupt twins: each error names the file and the record', () => {
  const good = fs.readFileSync(at('dtypes.pth'));
  const twin = (name: string, edit: (e: Record<string, Uint8Array>) => void) => {
    const e = unzipSync(good);
    edit(e);
    fs.writeFileSync(at(name), zipSync(e, { level: 0 }));
  };
  fs.writeFileSync(at('cut.pth'), good.subarray(0, Math.floor(good.byteLength * 0.6)));
  twin('nostorage.pth', (e) => { delete e['dtypes/data/3']; });
  twin('shortstorage.pth', (e) => { e['dtypes/data/0'] = e['dtypes/data/0']!.subarray(0, 8); });
  twin('byteorder.pth', (e) => { e['dtypes/byteorder'] = new TextEncoder().encode('middle'); });
  twin('version.pth', (e) => { e['dtypes/version'] = new TextEncoder().encode('99\n'); });
  twin('noversion.pth', (e) => { delete e['dtypes/version']; });
  twin('pklcut.pth', (e) => { e['dtypes/data.pkl'] = e['dtypes/data.pkl']!.subarray(0, 200); });
  twin('nopkl.pth', (e) => { delete e['dtypes/data.pkl']; });
  const cases: Array<[string, RegExp]> = [
    ['cut.pth', /^cut\.pth: the zip archive is truncated or corrupt/],
    ['nostorage.pth', /^nostorage\.pth \(record dtypes\/data\.pkl\): storage record dtypes\/data\/3 is missing from the archive/],
    ['shortstorage.pth', /^shortstorage\.pth \(record dtypes\/data\.pkl\): storage record dtypes\/data\/0 has 8 bytes, its FloatStorage of 12 elements needs 48/],
    ['byteorder.pth', /^byteorder\.pth: record dtypes\/byteorder is "middle", expected 'little' or 'big'/],
    ['version.pth', /^version\.pth: record dtypes\/version says format "99", paperlab reads 1–10/],
    ['noversion.pth', /^noversion\.pth: record dtypes\/version is missing/],
    ['pklcut.pth', /^pklcut\.pth \(record dtypes\/data\.pkl\): pickle truncated/],
    ['nopkl.pth', /^nopkl\.pth: no <name>\/data\.pkl record/],
  ];
  for (const [f, re] of cases) {
    assert.throws(() => torch.loadStateDict(at(f)),
      (e: Error) => e instanceof InputFileError && e.message.startsWith(dir) && re.test(e.message.slice(dir.length + 1)), f);
  }
  // a big-endian archive (byteorder 'big', bytes swapped) reads the same values
  twin('big.pth', (e) => {
    e['dtypes/byteorder'] = new TextEncoder().encode('big');
    e['dtypes/data/0'] = e['dtypes/data/0']!.slice();
    for (let i = 0; i < e['dtypes/data/0']!.byteLength; i += 4) e['dtypes/data/0']!.subarray(i, i + 4).reverse();
  });
  assert.deepEqual(Array.from(read('big.pth').stateDict.f32!.data as Float32Array), Array.from(read('dtypes.pth').stateDict.f32!.data as Float32Array));
});
