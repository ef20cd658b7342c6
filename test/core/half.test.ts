// float16 and bfloat16: in the facade (creation, to, raw bits) and in safetensors (F16/BF16),
// bit-exact both ways with Debian's PyTorch (the safetensors format written and parsed by hand in
// Python: the `safetensors` package is not installed there).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as torch from '../../src/core/torch/index.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pl-half-'));
const PY = '/usr/bin/python3';
const hasTorch = (() => { try { execFileSync(PY, ['-c', 'import torch'], { stdio: 'ignore' }); return true; } catch { return false; } })();

test('float16 / bfloat16: creation, to(), toTypedArray (converted) and rawBits (exact)', () => {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    const t = torch.tensor([1, -2, 0.5, 65504], { dtype });
    assert.equal(t.dtype, dtype);
    const f = t.toTypedArray();
    assert.ok(f instanceof Float32Array);
    assert.deepEqual([...f].slice(0, 3), [1, -2, 0.5]);
    // 1.0 is 0x3C00 in IEEE half, 0x3F80 in bfloat16 (float32's top 16 bits)
    assert.equal(t.rawBits()[0], dtype === 'float16' ? 0x3c00 : 0x3f80);
    assert.equal(torch.zeros([2, 2], { dtype }).dtype, dtype);
    assert.equal(torch.randn([3]).to(dtype).dtype, dtype);
    assert.equal(t.float().dtype, 'float32');
  }
  assert.equal(torch.ones([1]).half().dtype, 'float16');
  assert.equal(torch.ones([1]).bfloat16().dtype, 'bfloat16');
  assert.throws(() => torch.ones([1]).rawBits(), /float16 or bfloat16/);
});

test('fromHalfBits ∘ rawBits is the identity on every 16-bit pattern that is not NaN', () => {
  const all = new Uint16Array(65536).map((_, i) => i);
  for (const dtype of ['float16', 'bfloat16'] as const) {
    const t = torch.fromHalfBits(all, [65536], dtype);
    const back = t.rawBits();
    const f = t.toTypedArray() as Float32Array;
    let diff = 0;
    for (let i = 0; i < all.length; i++) if (!Number.isNaN(f[i]) && back[i] !== all[i]) diff++;
    assert.equal(diff, 0, `${dtype}: ${diff} patterns changed`);
  }
});

test('safetensors: F16 / BF16 round trip in paperlab is bit-exact', () => {
  const file = path.join(tmp(), 'h.safetensors');
  torch.manualSeed(1);
  const x = torch.randn([5, 7]);
  const h = x.half(), b = x.bfloat16();
  torch.saveSafetensors(file, { h, b });
  const { tensors } = torch.loadSafetensors(file);
  assert.equal(tensors.h!.dtype, 'float16');
  assert.equal(tensors.b!.dtype, 'bfloat16');
  assert.deepEqual([...tensors.h!.rawBits()], [...h.rawBits()]);
  assert.deepEqual([...tensors.b!.rawBits()], [...b.rawBits()]);
  assert.deepEqual(tensors.h!.shape, [5, 7]);
});

test('safetensors: a BF16 entry whose byte length is wrong is refused, naming file and tensor', () => {
  const dir = tmp();
  const file = path.join(dir, 'bad.safetensors');
  const bytes = torch.toSafetensors({ w: torch.ones([4], { dtype: 'bfloat16' }) });
  const header = Buffer.from(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))).toString();
  const broken = header.replace('"data_offsets":[0,8]', '"data_offsets":[0,6]');
  assert.notEqual(broken, header);
  const out = Buffer.concat([Buffer.alloc(8), Buffer.from(broken), Buffer.from(bytes.subarray(8 + header.length))]);
  out.writeBigUInt64LE(BigInt(broken.length), 0);
  fs.writeFileSync(file, out);
  assert.throws(() => torch.loadSafetensors(file), (e: Error) => e.name === 'InputFileError' && /bad\.safetensors: tensor 'w' data_offsets \[0, 6\]/.test(e.message));
});

// Python writes F16/BF16 safetensors by hand from torch tensors' bit patterns, and parses ours.
const WRITE_PY = `
import json, struct, sys, torch
torch.manual_seed(3)
x = torch.randn(6, 5) * 100
ts = {'h': x.half(), 'b': x.bfloat16(), 'special': torch.tensor([0.0, -0.0, float('inf'), float('-inf'), 1e-7, 6e-8]).half()}
code = {torch.float16: 'F16', torch.bfloat16: 'BF16'}
header, blobs, off = {}, [], 0
for k in sorted(ts):
    raw = ts[k].view(torch.int16).numpy().tobytes()
    header[k] = {'dtype': code[ts[k].dtype], 'shape': list(ts[k].shape), 'data_offsets': [off, off + len(raw)]}
    blobs.append(raw); off += len(raw)
h = json.dumps(header).encode()
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(h)) + h + b''.join(blobs))
print(json.dumps({k: [int(v) & 0xffff for v in ts[k].view(torch.int16).flatten().tolist()] for k in ts}))
`;
const READ_PY = `
import json, struct, sys, torch
raw = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
h = json.loads(raw[8:8 + n])
dt = {'F16': torch.float16, 'BF16': torch.bfloat16}
out = {}
for k, v in h.items():
    if k == '__metadata__': continue
    b, e = v['data_offsets']
    t = torch.frombuffer(bytearray(raw[8 + n + b: 8 + n + e]), dtype=torch.int16).view(dt[v['dtype']]).reshape(v['shape'])
    out[k] = {'dtype': str(t.dtype), 'shape': list(t.shape), 'bits': [int(u) & 0xffff for u in t.view(torch.int16).flatten().tolist()],
              'sum': float(t.double().sum())}
print(json.dumps(out))
`;

test('F16/BF16 files written by PyTorch load bit-exactly', { skip: hasTorch ? false : 'no python3-torch here' }, () => {
  const file = path.join(tmp(), 'py.safetensors');
  const bits = JSON.parse(execFileSync(PY, ['-c', WRITE_PY, file]).toString()) as Record<string, number[]>;
  const { tensors } = torch.loadSafetensors(file);
  assert.equal(tensors.h!.dtype, 'float16');
  assert.equal(tensors.b!.dtype, 'bfloat16');
  assert.deepEqual(tensors.h!.shape, [6, 5]);
  for (const k of ['h', 'b', 'special']) assert.deepEqual([...tensors[k]!.rawBits()], bits[k], k);
  const sp = tensors.special!.toTypedArray();
  assert.equal(sp[2], Infinity);
  assert.ok(Object.is(sp[1], -0));
});

test('F16/BF16 files written by paperlab load in PyTorch bit-exactly', { skip: hasTorch ? false : 'no python3-torch here' }, () => {
  const file = path.join(tmp(), 'ours.safetensors');
  torch.manualSeed(4);
  const x = torch.randn([3, 4]).mul(50);
  const ours = { h: x.half(), b: x.bfloat16() };
  torch.saveSafetensors(file, ours);
  const py = JSON.parse(execFileSync(PY, ['-c', READ_PY, file]).toString()) as Record<string, { dtype: string; shape: number[]; bits: number[]; sum: number }>;
  assert.equal(py.h!.dtype, 'torch.float16');
  assert.equal(py.b!.dtype, 'torch.bfloat16');
  assert.deepEqual(py.h!.shape, [3, 4]);
  assert.deepEqual(py.h!.bits, [...ours.h.rawBits()]);
  assert.deepEqual(py.b!.bits, [...ours.b.rawBits()]);
  const sum = (ours.h.toTypedArray() as Float32Array).reduce((s, v) => s + v, 0);
  assert.ok(Math.abs(py.h!.sum - sum) < 1e-3 * Math.max(1, Math.abs(sum)));
});
