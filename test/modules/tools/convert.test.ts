// `paperlab convert` (≡ `paperlab tools convert`): torch.save / Lightning / safetensors in,
// safetensors out, readable by PyTorch's safetensors loader; bad inputs give clear errors and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import * as torch from '../../../src/core/torch/index.ts';

const BIN = path.resolve('bin/paperlab.js');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-convert-'));
const fx = path.join(home, 'fx');
execFileSync('/usr/bin/python3', [path.resolve('scripts/fixtures/torch_checkpoints.py'), fx], { stdio: ['ignore', 'inherit', 'inherit'] });
const expected = JSON.parse(fs.readFileSync(path.join(fx, 'expected.json'), 'utf8')) as Record<string, Record<string, { values: number[]; shape: number[] }>>;
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args, '--quiet', '--json'], {
  encoding: 'utf8', env: { ...process.env, PAPERLAB_HOME: path.join(home, 'runs'), PAPERLAB_DEV: '1' },
});

test('paperlab convert lightning.ckpt → safetensors: the state dict, prefix stripped, values exact', () => {
  const out = path.join(home, 'l.safetensors');
  const r = cli(['convert', path.join(fx, 'lightning.ckpt'), out]);
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout).summary as { tensors: number; format: string; leftOut: string[] };
  assert.equal(summary.format, 'torch.save');
  assert.equal(summary.tensors, 9);
  assert.ok(summary.leftOut.includes('optimizer_states'));
  const { tensors, metadata } = torch.loadSafetensors(out);
  assert.equal(metadata.converted_from, 'lightning.ckpt');
  for (const [k, e] of Object.entries(expected['lightning.ckpt']!)) {
    const t = tensors[k.slice('model.'.length)];
    assert.ok(t, k);
    assert.deepEqual(t.shape, e.shape);
    const got = t.dtype === 'int64' ? Array.from(t.toTypedArray() as BigInt64Array, Number) : Array.from(t.toTypedArray() as Float32Array);
    assert.deepEqual(got, e.values, k);
  }
  torch.dispose(tensors);
  // PyTorch's own reader agrees (safetensors is not in Debian's python3-torch: read the bytes by hand)
  const py = execFileSync('/usr/bin/python3', ['-c', `
import json, struct, sys, torch
b = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', b[:8])[0]; h = json.loads(b[8:8 + n])
e = h['0.weight']; s, t = e['data_offsets']
w = torch.frombuffer(bytearray(b[8 + n + s:8 + n + t]), dtype=torch.float32).reshape(e['shape'])
print(float(w.sum()))`, out], { encoding: 'utf8' });
  const sum = expected['lightning.ckpt']!['model.0.weight']!.values.reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(Number(py) - sum) < 1e-5, `${py} vs ${sum}`);
});

test('tools convert is the same command; --prefix none keeps keys; half becomes float32; safetensors in', () => {
  const out = path.join(home, 'keep.safetensors');
  const r = cli(['tools', 'convert', path.join(fx, 'lightning.ckpt'), out, '--prefix', 'none']);
  assert.equal(r.status, 0, r.stderr);
  const keep = torch.loadSafetensors(out).tensors;
  assert.ok('model.0.weight' in keep);
  torch.dispose(keep);
  const d = path.join(home, 'd.safetensors');
  const r2 = cli(['convert', path.join(fx, 'dtypes.pth'), d]);
  assert.equal(r2.status, 0, r2.stderr);
  assert.equal(JSON.parse(r2.stdout).summary.halfConverted, 2);
  const dt = torch.loadSafetensors(d).tensors;
  assert.equal(dt.f16!.dtype, 'float32');
  assert.equal(dt.b!.dtype, 'bool');
  torch.dispose(dt);
  // safetensors → safetensors with a prefix
  const again = path.join(home, 'again.safetensors');
  const r3 = cli(['convert', out, again, '--prefix', 'model.1.']);
  assert.equal(r3.status, 0, r3.stderr);
  const st = torch.loadSafetensors(again).tensors;
  assert.deepEqual(Object.keys(st).sort(), ['bias', 'num_batches_tracked', 'running_mean', 'running_var', 'weight']);
  torch.dispose(st);
});

test('convert refuses malicious, legacy and missing files and unknown maps with clear messages and exit codes', () => {
  const out = path.join(home, 'x.safetensors');
  const evil = cli(['convert', path.join(fx, 'evil.pth'), out]);
  assert.equal(evil.status, 4, evil.stderr);
  assert.match(evil.stderr, /evil\.pth \(record evil\/data\.pkl\): pickle names posix\.system, which paperlab does not load/);
  assert.equal(fs.existsSync(path.join(fx, 'PWNED')), false);
  const legacy = cli(['convert', path.join(fx, 'legacy.pth'), out]);
  assert.equal(legacy.status, 4);
  assert.match(legacy.stderr, /legacy torch\.save format/);
  const missing = cli(['convert', path.join(fx, 'nope.pth'), out]);
  assert.equal(missing.status, 3, missing.stderr);
  const map = cli(['convert', path.join(fx, 'lightning.ckpt'), out, '--map', 'nowcast/nope']);
  assert.equal(map.status, 2, map.stderr);
  assert.match(map.stderr, /unknown key map 'nowcast\/nope'\. Key maps: /);
  assert.equal(fs.existsSync(out), false);
  const unknown = cli(['convertx']);
  assert.equal(unknown.status, 3);
  assert.match(unknown.stderr, /unknown module or command 'convertx'.*convert/);
});
