// Weights users already have: a 3D U-Net and a SIANet built in Debian's PyTorch with the official
// code's module names (scripts/fixtures/w4c_models.py), saved as Lightning checkpoints, load into
// paperlab's models through the key maps and give PyTorch's outputs on the same input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as torch from '../../../src/core/torch/index.ts';
import { readTorchFile } from '../../../src/core/io/pth.ts';
import { isNdArray, type NdArray } from '../../../src/core/io/ndarray.ts';
import { loadTorchModel, W4C_UNET, W4C_SIANET } from '../../../src/modules/nowcast/weights.ts';
import { loadModel } from '../../../src/modules/nowcast/io.ts';
import { TINY } from '../../../src/modules/nowcast/config.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-w4c-'));
execFileSync('/usr/bin/python3', [path.resolve('scripts/fixtures/w4c_models.py'), dir], { stdio: ['ignore', 'inherit', 'inherit'] });

function io(name: string): { x: torch.Tensor; y: Float32Array; shape: number[] } {
  const root = readTorchFile(fs.readFileSync(path.join(dir, name)), name).root as Record<string, NdArray>;
  assert.ok(isNdArray(root.x) && isNdArray(root.y));
  return { x: torch.tensor(root.x.data, { shape: root.x.shape }), y: root.y.data as Float32Array, shape: root.y.shape };
}

function maxRelErr(got: Float32Array, want: Float32Array): number {
  const scale = Math.max(...Array.from(want, Math.abs));
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / scale);
  return worst;
}

test("the starter kit's 3D U-Net (Lightning .ckpt, official names) gives PyTorch's output in paperlab", () => {
  const { model, build, map } = loadTorchModel(path.join(dir, 'unet.ckpt'));
  assert.equal(map, 'w4c-unet');
  assert.equal(build.model, 'unet3d');
  assert.deepEqual([build.inChannels, build.startFilters, build.depth, build.geometry.tIn, build.geometry.tOut], [4, 4, 3, 4, 4]);
  const { x, y, shape } = io('unet_io.pt');
  const out = torch.noGrad(() => model.forward(x).logits);
  assert.deepEqual(out.shape, shape);
  const err = maxRelErr(out.toTypedArray() as Float32Array, y);
  assert.ok(err < 1e-4, `max relative error ${err}`);
  // the module's own loader takes the checkpoint as a --model
  const viaLoader = loadModel(path.join(dir, 'unet.ckpt'));
  assert.equal(viaLoader.build.model, 'unet3d');
  torch.dispose(out, x); model.dispose(); viaLoader.model.dispose();
});

test("SIANet's released code (Lightning .ckpt, official names) gives PyTorch's output in paperlab", () => {
  const { model, build, map } = loadTorchModel(path.join(dir, 'sianet.ckpt'), TINY);
  assert.equal(map, 'w4c-sianet');
  assert.equal(build.model, 'sianet');
  assert.equal(build.strHidden, 8);
  const { x, y, shape } = io('sianet_io.pt');
  const out = torch.noGrad(() => model.forward(x).logits);
  assert.deepEqual(out.shape, shape);
  const err = maxRelErr(out.toTypedArray() as Float32Array, y);
  assert.ok(err < 1e-4, `max relative error ${err}`);
  torch.dispose(out, x); model.dispose();
});

test('every official key is mapped or deliberately left out, and a wrong table fails naming the keys', () => {
  const sd = readTorchFile(fs.readFileSync(path.join(dir, 'sianet.ckpt')), 'sianet.ckpt').stateDict;
  const keys = Object.keys(sd).map((k) => k.slice('model.'.length));
  const dropped = keys.filter((k) => W4C_SIANET.drop!.some((re) => re.test(k)));
  assert.ok(dropped.every((k) => /num_batches_tracked$|\.norm0\.|\.norm02\./.test(k)), dropped.join(', '));
  assert.ok(dropped.some((k) => k.includes('.norm02.')), 'the unused norm02 is left out');
  // the U-Net table on a SIANet file leaves conv1_2/lka/filter unmapped: loading names them
  const t = torch.loadStateDict(path.join(dir, 'sianet.ckpt'), { prefix: 'auto', map: W4C_UNET });
  assert.ok('down_convs.0.conv1_2.weight' in t.tensors);
  torch.dispose(t.tensors);
});
