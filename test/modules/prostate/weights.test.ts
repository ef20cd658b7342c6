// Weights users already have: an MNet built in Debian's PyTorch with Z-SSMNet's module names
// (scripts/fixtures/zssmnet_mnet.py), saved as nnU-Net v1 saves a fold's checkpoint with its
// plans.pkl, loads into paperlab's MNet and gives PyTorch's seven outputs on the same input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import * as torch from '../../../src/core/torch/index.ts';
import { readTorchFile } from '../../../src/core/io/pth.ts';
import type { NdArray } from '../../../src/core/io/ndarray.ts';
import { InputFileError } from '../../../src/core/errors.ts';
import { loadModel } from '../../../src/modules/prostate/pipeline.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-mnet-'));
execFileSync('/usr/bin/python3', [path.resolve('scripts/fixtures/zssmnet_mnet.py'), dir], { stdio: ['ignore', 'inherit', 'inherit'] });
const ckpt = path.join(dir, 'fold_0', 'model_final_checkpoint.model');

test("Z-SSMNet's MNet (nnU-Net checkpoint, official names) gives PyTorch's seven outputs in paperlab", () => {
  const { net, meta } = loadModel(ckpt);
  assert.deepEqual(net.cfg.widths, [4, 6, 8, 10, 12]);
  assert.equal(net.cfg.inChannels, 6);
  // the preprocessing comes from nnU-Net's plans.pkl (numpy arrays, read by the safe unpickler)
  assert.deepEqual(meta.adc, { lo: 250, hi: 2400, mean: 1100.5, std: 400.25 });
  assert.deepEqual(meta.patch, [16, 64, 64]);
  assert.equal(meta.zonal, true);
  const io = readTorchFile(fs.readFileSync(path.join(dir, 'mnet_io.pt')), 'mnet_io.pt').root as { x: NdArray; ys: NdArray[] };
  const x = torch.tensor(io.x.data, { shape: io.x.shape });
  const outs = torch.noGrad(() => net.forward(x));
  assert.equal(outs.length, 7);
  outs.forEach((o, i) => {
    const want = io.ys[i]!;
    assert.deepEqual(o.shape, want.shape, `head ${i + 1}`);
    const got = o.toTypedArray() as Float32Array, w = want.data as Float32Array;
    const scale = Math.max(...Array.from(w, Math.abs));
    let worst = 0;
    for (let j = 0; j < w.length; j++) worst = Math.max(worst, Math.abs(got[j]! - w[j]!) / scale);
    assert.ok(worst < 1e-4, `head ${i + 1}: max relative error ${worst}`);
  });
  torch.dispose(outs, x); net.dispose();
});

test('without its preprocessing record a checkpoint is refused, saying what to put beside it', () => {
  const lone = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pl-mnet-lone-')), 'lone.pth');
  fs.copyFileSync(ckpt, lone);
  assert.throws(() => loadModel(lone), (e: Error) => e instanceof InputFileError && /lone\.pth: the preprocessing it was trained with is unknown: put its lone\.json/.test(e.message));
  // a corrupt plans.pkl is named with its field
  const sub = path.join(dir, 'x', 'fold_1');
  fs.mkdirSync(sub, { recursive: true });
  fs.copyFileSync(ckpt, path.join(sub, 'm.model'));
  execFileSync('/usr/bin/python3', ['-c', `import pickle; pickle.dump({'dataset_properties': {'intensityproperties': {1: {'mean': 1.0}}}, 'plans_per_stage': {0: {'patch_size': [8, 32, 32]}}}, open('${path.join(dir, 'x', 'plans.pkl')}', 'wb'))`]);
  assert.throws(() => loadModel(path.join(sub, 'm.model')), (e: Error) => e instanceof InputFileError && /plans\.pkl: dataset_properties\.intensityproperties\[1\]\.percentile_00_5 is missing/.test(e.message));
});
