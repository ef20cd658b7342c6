// safetensors: round trip, interop with Python's PyTorch, clear errors on bad files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as torch from '../../src/core/torch/index.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pl-st-'));

function modelWithState(): torch.nn.Module {
  torch.manualSeed(5);
  const m = new torch.nn.Sequential(new torch.nn.Conv2d(1, 2, 3), new torch.nn.BatchNorm2d(2), new torch.nn.Flatten(), new torch.nn.Linear(2 * 4 * 4, 3));
  torch.scope(() => { m.forward(torch.randn([4, 1, 6, 6])); }); // training mode: updates BN running stats
  return m;
}

test('safetensors round trip of a model state dict (parameters and buffers) is exact', () => {
  const dir = tmp();
  const m = modelWithState();
  const file = path.join(dir, 'model.safetensors');
  torch.saveSafetensors(file, m.stateDict(), { note: 'test' });
  const m2 = modelWithState();
  torch.scope(() => { for (const p of m2.parameters()) torch.noGrad(() => p.mul_(0)); });
  const { tensors, metadata } = torch.loadSafetensors(file);
  assert.equal(metadata.note, 'test');
  m2.loadStateDict(tensors);
  for (const [k, v] of Object.entries(m.stateDict())) {
    assert.deepEqual(m2.stateDict()[k]!.toArray(), v.toArray(), k);
  }
  // int64 and float64 and bool survive too; no temp files are left behind (atomic write).
  const mixed = { i: torch.arange(5).keep(), d: torch.tensor([0.1, 0.2], { dtype: 'float64' }).keep(), b: torch.tensor([true, false]).keep() };
  torch.saveSafetensors(path.join(dir, 'mixed.safetensors'), mixed);
  const back = torch.loadSafetensors(path.join(dir, 'mixed.safetensors')).tensors;
  assert.deepEqual(back.i!.toArray(), [0, 1, 2, 3, 4]);
  assert.equal(back.d!.dtype, 'float64');
  assert.deepEqual(back.b!.toArray(), [1, 0]);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['mixed.safetensors', 'model.safetensors']);
  torch.dispose(tensors, back, mixed); m.dispose(); m2.dispose();
});

test('safetensors: a truncated or corrupt file gives an error naming the file and the tensor', () => {
  const dir = tmp();
  const file = path.join(dir, 'x.safetensors');
  torch.saveSafetensors(file, { weight: torch.randn([16, 16]).keep() });
  const bytes = fs.readFileSync(file);
  fs.writeFileSync(file, bytes.subarray(0, bytes.length - 10));
  assert.throws(() => torch.loadSafetensors(file), (e: Error) => e.message.includes(file) && /truncated/.test(e.message) && /'weight'/.test(e.message));
  fs.writeFileSync(file, bytes.subarray(0, 4));
  assert.throws(() => torch.loadSafetensors(file), /not a safetensors file/);
  assert.throws(() => torch.loadSafetensors(path.join(dir, 'missing.safetensors')), /missing.safetensors: cannot read \(ENOENT\)/);
});

const PY = '/usr/bin/python3';
const hasTorch = (() => { try { execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }); return true; } catch { return false; } })();

test('a file written by paperlab is readable by Python\'s PyTorch', { skip: hasTorch ? false : 'no python3-torch here' }, () => {
  const dir = tmp();
  const file = path.join(dir, 'm.safetensors');
  const m = modelWithState();
  torch.saveSafetensors(file, m.stateDict());
  // Parse the format with torch alone (as safetensors.torch.load_file does) and sum every tensor.
  const script = `
import json, struct, sys, torch
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
h = json.loads(raw[8:8 + n])
dt = {'F32': torch.float32, 'F64': torch.float64, 'I64': torch.int64}
out = {}
for k, v in h.items():
    if k == '__metadata__': continue
    b, e = v['data_offsets']
    t = torch.frombuffer(bytearray(raw[8 + n + b: 8 + n + e]), dtype=dt[v['dtype']]).reshape(v['shape'])
    out[k] = [list(t.shape), float(t.double().sum())]
print(json.dumps(out))`;
  const py = JSON.parse(execFileSync(PY, ['-c', script, file], { encoding: 'utf8' })) as Record<string, [number[], number]>;
  for (const [k, v] of Object.entries(m.stateDict())) {
    assert.deepEqual(py[k]![0], v.shape, k);
    const ours = torch.scope(() => v.to('float64').sum().item());
    assert.ok(Math.abs(py[k]![1] - ours) < 1e-9 * Math.max(1, Math.abs(ours)), `${k}: ${py[k]![1]} vs ${ours}`);
  }
  m.dispose();
});
