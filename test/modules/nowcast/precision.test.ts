// nowcast's trainer with --precision bf16 (autocast through core/train/amp.ts): the losses of the
// first steps follow the float32 run's within bfloat16 rounding, and 16-mixed asks for CUDA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../../src/core/torch/index.ts';
import { train, DEFAULT_TRAIN, MemoryDataset, TINY } from '../../../src/modules/nowcast/index.ts';

function data(): MemoryDataset {
  torch.manualSeed(0);
  const ho = TINY.cropSize * TINY.scale;
  return new MemoryDataset([{
    x: torch.randn([6, 4, TINY.tIn, TINY.inSize, TINY.inSize]).keep(),
    y: torch.rand([6, 1, TINY.tOut, ho, ho]).lt(0.2).to('float32').keep(),
    mask: torch.ones([6, 1, TINY.tOut, ho, ho], { dtype: 'bool' }).keep(),
    cell: 'c', region: 'r', year: 2019,
  }]);
}
const opts = (precision: '32' | 'bf16' | '16-mixed') => ({
  ...DEFAULT_TRAIN, model: { model: 'sianet' as const, geometry: TINY, inChannels: 4, startFilters: 4, depth: 2 },
  steps: 3, batchSize: 2, evalEvery: 0, recalibrateBn: 0, precision,
});

test('nowcast train --precision bf16 follows the float32 losses within bfloat16 rounding', () => {
  const ds = data();
  const f = train(opts('32'), ds, null), b = train(opts('bf16'), ds, null);
  assert.equal(b.losses.length, 3);
  b.losses.forEach((l, i) => assert.ok(Math.abs(l - f.losses[i]!) <= 0.01 * f.losses[i]!, `step ${i}: bf16 ${l} vs fp32 ${f.losses[i]}`));
  assert.ok(b.model.parameters().every((p) => p.dtype === 'float32'), 'parameters stay float32');
  assert.throws(() => train(opts('16-mixed'), ds, null), /16-mixed needs a CUDA device/);
});
