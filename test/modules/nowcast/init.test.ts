// `nowcast train --init`: fine-tuning from an earlier run as the winners trained (core → transfer).
// A training checkpoint gives its model.* tensors (the optimizer starts fresh), a model file or a
// plain safetensors state dict is taken as it is; a strict check names the missing, unexpected
// and misshapen keys, and --no-init-strict loads the keys that fit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import '../../../src/modules/nowcast/index.ts';
import * as torch from '../../../src/core/torch/index.ts';
import { getCommand, validateParams } from '../../../src/core/registry.ts';
import { UsageError, NotFoundError } from '../../../src/core/errors.ts';
import { buildModel, type BuildOptions } from '../../../src/modules/nowcast/model.ts';
import { readInitWeights, applyInit } from '../../../src/modules/nowcast/init.ts';
import { loadModel } from '../../../src/modules/nowcast/io.ts';
import { TINY } from '../../../src/modules/nowcast/geometry.ts';
import { fakeContext, tmpDir } from '../../helpers/context.ts';

const ROOT = fileURLToPath(new URL('../../fixtures/nowcast/w4c22', import.meta.url));

async function run(cmd: string, raw: Record<string, unknown>, dir: string, seed = 1): Promise<Record<string, any>> {
  const c = getCommand('nowcast', cmd);
  return (await c.run(validateParams(c, raw) as never, fakeContext({ dir, seed }))) as Record<string, any>;
}

/** Largest |a − b| over the trainable parameters of two model files (BatchNorm statistics left out). */
function paramDiff(a: string, b: string): number {
  const x = torch.loadSafetensors(a).tensors, y = torch.loadSafetensors(b).tensors;
  let d = 0;
  for (const k of Object.keys(x)) {
    if (/running_|num_batches/.test(k)) continue;
    d = Math.max(d, torch.scope(() => x[k]!.sub(y[k]!).abs().max().item() as number));
  }
  torch.dispose(x, y);
  return d;
}

const BASE = { data: ROOT, years: [2019], batchSize: 2, evalEvery: 0, weightDecay: 0 };

test('train --init: a training checkpoint, a model file or a run folder starts the model where the earlier run ended; the run records the file', async () => {
  const dir = tmpDir('nowcast-init-');
  const a = await run('train', { ...BASE, steps: 2, checkpointEvery: 1 }, path.join(dir, 'a'));
  const ck = path.join(dir, 'a', 'checkpoints', 'model-step-000002.safetensors');
  assert.ok(fs.existsSync(ck));
  // one step at lr 1e-9 moves every weight by about 1e-9 (AdamW's first step is ±lr): the start is visible in the result
  const tune = { ...BASE, steps: 1, lr: 1e-9, checkpointEvery: 0 };
  const b = await run('train', { ...tune, init: ck }, path.join(dir, 'b'), 7);
  assert.equal(b.init.kind, 'training-checkpoint');
  assert.equal(b.init.file, ck);
  assert.match(b.init.sha256, /^[0-9a-f]{64}$/);
  assert.deepEqual([b.init.missing, b.init.unexpected, b.init.mismatched], [[], [], []]);
  assert.ok(paramDiff(a.model, b.model) < 1e-6, `fine-tuned from the checkpoint: ${paramDiff(a.model, b.model)}`);
  const fresh = await run('train', tune, path.join(dir, 'c'), 7);
  assert.ok(paramDiff(a.model, fresh.model) > 1e-3, 'without --init the same run starts elsewhere');
  assert.deepEqual(loadModel(b.model).extra.init, { file: ck, sha256: b.init.sha256 });
  const viaModel = await run('train', { ...tune, init: a.model }, path.join(dir, 'd'), 7);
  assert.equal(viaModel.init.kind, 'model-file');
  assert.ok(paramDiff(a.model, viaModel.model) < 1e-6);
  const viaFolder = await run('train', { ...tune, init: path.join(dir, 'a') }, path.join(dir, 'e'), 7);
  assert.equal(viaFolder.init.file, a.model);
});

test('--init key and shape checks: strict names missing, unexpected and misshapen keys; not strict loads what fits', () => {
  const dir = tmpDir('nowcast-init-keys-');
  const build: BuildOptions = { model: 'sianet', geometry: TINY, inChannels: 4, startFilters: 4, depth: 3, strHidden: 8, dropout: 0 };
  const src = buildModel(build);
  const sd = src.stateDict();
  const plain = path.join(dir, 'plain.safetensors');
  torch.saveSafetensors(plain, sd);
  const w = readInitWeights(plain);
  assert.equal(w.kind, 'state-dict');
  const same = buildModel(build);
  assert.equal(applyInit(same, w, true).loaded, Object.keys(sd).length);
  const k0 = Object.keys(sd).find((k) => k.endsWith('weight'))!;
  assert.equal(torch.scope(() => same.stateDict()[k0]!.sub(sd[k0]!).abs().max().item()), 0);
  // an extra key and a missing one
  const extra = path.join(dir, 'extra.safetensors');
  const { [k0]: _dropped, ...rest } = sd;
  torch.saveSafetensors(extra, { ...rest, 'head.bogus': torch.zeros([2]) });
  assert.throws(() => applyInit(buildModel(build), readInitWeights(extra), true), (e: Error) => e instanceof UsageError
    && e.message.includes(extra) && e.message.includes(`missing keys [${k0}]`) && e.message.includes('unexpected keys [head.bogus]') && e.message.includes('--no-init-strict'));
  // another STR width: the STR's tensors do not fit, the U-Net's do
  const other = buildModel({ ...build, strHidden: 4 });
  assert.throws(() => applyInit(other, w, true), (e: Error) => e instanceof UsageError && /shape mismatches \(file vs model\) \[\S+ \[\d/.test(e.message));
  const r = applyInit(other, w, false);
  assert.ok(r.mismatched.length > 0 && r.loaded > 0 && r.loaded + r.mismatched.length === Object.keys(other.stateDict()).length);
  assert.throws(() => readInitWeights(path.join(dir, 'nope.safetensors')), NotFoundError);
  for (const m of [src, same, other]) m.dispose();
});

test('--init reads a Lightning .ckpt written by Debian\'s PyTorch (torch.save; state_dict under model.*)', (t) => {
  const dir = tmpDir('nowcast-init-pth-');
  const build: BuildOptions = { model: 'sianet', geometry: TINY, inChannels: 4, startFilters: 4, depth: 3, strHidden: 8, dropout: 0 };
  const src = buildModel(build);
  const sd = src.stateDict();
  const shapes: Record<string, number[]> = {};
  const parts: Buffer[] = [];
  for (const [k, v] of Object.entries(sd)) {
    if (v.dtype !== 'float32') continue; // BatchNorm's int64 step counters stay out of the file
    shapes[k] = v.shape;
    parts.push(Buffer.from((v.contiguous().toTypedArray() as Float32Array).buffer));
  }
  fs.writeFileSync(path.join(dir, 'w.f32'), Buffer.concat(parts));
  fs.writeFileSync(path.join(dir, 'w.json'), JSON.stringify(shapes));
  const script = [
    'import json, sys, numpy as np, torch',
    'd = sys.argv[1]; shapes = json.load(open(d + "/w.json")); raw = np.fromfile(d + "/w.f32", dtype="<f4"); o = 0; sd = {}',
    'for k, s in shapes.items():',
    '    n = int(np.prod(s)); sd["model." + k] = torch.from_numpy(raw[o:o + n].reshape(s).copy()); o += n',
    'torch.save({"epoch": 3, "global_step": 12, "state_dict": sd}, d + "/w.ckpt")',
  ].join('\n');
  const py = spawnSync('/usr/bin/python3', ['-c', script, dir], { encoding: 'utf8' });
  if (py.status !== 0) { t.skip(`no torch in /usr/bin/python3: ${py.stderr.trim().split('\n').at(-1)}`); src.dispose(); return; }
  const w = readInitWeights(path.join(dir, 'w.ckpt'));
  assert.equal(w.kind, 'pytorch');
  const dst = buildModel(build);
  const r = applyInit(dst, w, false);
  assert.equal(r.loaded, Object.keys(shapes).length);
  assert.deepEqual(r.unexpected, []);
  assert.ok(r.missing.every((k) => /num_batches_tracked/.test(k)), `only the step counters are missing: ${r.missing}`);
  for (const k of Object.keys(shapes)) assert.equal(torch.scope(() => dst.stateDict()[k]!.sub(sd[k]!).abs().max().item()), 0, k);
  torch.dispose(w.tensors);
  for (const m of [src, dst]) m.dispose();
});
