// Every deep-learning module on the device: forward and backward of the same network (same weights,
// same inputs) on the CPU and on CUDA agree within float tolerance, and one training step in bf16
// (autocast) runs and lowers nothing it should not. Skips without CUDA (see helpers.ts).
//
// Tolerance: libtorch lets cuDNN convolutions use TF32 on Ampere/Hopper (10-bit mantissa, as
// PyTorch's default torch.backends.cudnn.allow_tf32), and CUDA sums in another order than the CPU,
// so a deep network's loss agrees to ~1e-3 relative and its gradients to ~1e-2, not to float32's 1e-6.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/core/torch/index.ts';
import { MixedPrecision } from '../../src/core/train/index.ts';
import { buildModel, weightedBce, TINY } from '../../src/modules/nowcast/index.ts';
import { MNet, scaledWidths } from '../../src/modules/prostate/model.ts';
import { deepSupervisionLoss } from '../../src/modules/prostate/losses.ts';
import { CrossModalTransformer, makeConfig } from '../../src/modules/action/index.ts';
import { Cartooner, MultiTextureDiscriminator, resolveConfig } from '../../src/modules/cartoon/model.ts';
import { DEV, SKIP, compareDevices } from './helpers.ts';

const LOSS_TOL = 5e-3, GRAD_TOL = 3e-2;

function check(name: string, r: ReturnType<typeof compareDevices>): void {
  console.log(`# ${name}: loss cpu ${r.loss[0].toPrecision(6)} ${DEV} ${r.loss[1].toPrecision(6)} (rel ${r.lossRel.toExponential(2)}); worst gradient rel ${r.worstGradRel.toExponential(2)} (${r.worstName})`);
  assert.ok(Number.isFinite(r.loss[1]), `${name}: ${DEV} loss is finite`);
  assert.ok(r.lossRel <= LOSS_TOL, `${name}: loss differs by ${r.lossRel}`);
  assert.ok(r.worstGradRel <= GRAD_TOL, `${name}: gradient of ${r.worstName} differs by ${r.worstGradRel}`);
}

test('nowcast: SIANet and the 3D U-Net, forward + backward on the device equal the CPU', { skip: SKIP }, () => {
  for (const kind of ['sianet', 'unet3d'] as const) {
    const ho = TINY.cropSize * TINY.scale;
    const r = compareDevices(
      () => buildModel({ model: kind, geometry: TINY, inChannels: 4, startFilters: 4, depth: 2, dropout: 0.4, strHidden: 8 }),
      () => [torch.randn([2, 4, TINY.tIn, TINY.inSize, TINY.inSize]), torch.rand([2, 1, TINY.tOut, ho, ho]).lt(0.2).to('float32')],
      (m, [x, y]) => weightedBce((m.forward(x!) as { logits: torch.Tensor }).logits, y!, null, 4),
    );
    check(`nowcast ${kind}`, r);
  }
});

test('prostate: MNet (deep-supervised heads), forward + backward on the device equal the CPU', { skip: SKIP }, () => {
  const r = compareDevices(
    () => new MNet({ widths: scaledWidths(0.25) }),
    () => [torch.randn([1, 6, 8, 32, 32]), torch.rand([1, 8, 32, 32]).gt(0.9).to('int64')],
    (m, [x, y]) => deepSupervisionLoss((m as MNet).forward(x!), y!),
  );
  check('prostate MNet', r);
});

test('action: the cross-modal deformable transformer (pose + RGB), forward + backward on the device equal the CPU', { skip: SKIP }, () => {
  const cfg = makeConfig({
    numClasses: 6, joints: 25, frames: 16, imgSize: 32, dim: 32, heads: 4, depth: 2, mlpRatio: 2,
    backboneChannels: [16, 32], backboneStrides: [[1, 2, 2], [2, 2, 2]], jointStride: 5, temporalStride: 2,
  });
  const r = compareDevices(
    () => new CrossModalTransformer(cfg),
    () => [torch.randn([2, 16, 25, 3]), torch.rand([2, 3, 16, 32, 32]), torch.tensor([1, 4], { dtype: 'int64' })],
    (m, [pose, video, labels]) => torch.F.crossEntropy((m as CrossModalTransformer).forward({ pose: pose!, video: video! }), labels!),
  );
  check('action transformer', r);
});

test('cartoon: the cartooner G and the multi-texture discriminator, forward + backward on the device equal the CPU', { skip: SKIP }, () => {
  const g = compareDevices(
    () => new Cartooner(resolveConfig({ channels: 16 })),
    () => [torch.rand([2, 3, 32, 32]), torch.rand([2, 3, 32, 32])],
    (m, [photo, map]) => { const o = (m as Cartooner).forward(photo!, map!, 2.5, 1); return o.L.mean().add(o.ab.square().mean()); },
  );
  check('cartoon G', g);
  const d = compareDevices(
    () => new MultiTextureDiscriminator(5, 16, true),
    () => [torch.rand([2, 1, 32, 32]).mul(100)],
    (m, [L]) => (m as MultiTextureDiscriminator).forward(L!, 3).square().mean(),
  );
  check('cartoon D', d);
});

test('a bf16 training step on the device (autocast): loss close to fp32, parameters stay float32 and move', { skip: SKIP }, () => {
  const run = (precision: '32' | 'bf16') => {
    torch.manualSeed(0);
    const m = buildModel({ model: 'sianet', geometry: TINY, inChannels: 4, startFilters: 4, depth: 2, dropout: 0, strHidden: 8 }).to(DEV);
    m.train();
    const opt = new torch.optim.AdamW(m.parameters(), { lr: 1e-3, weightDecay: 0.1, foreach: true });
    torch.manualSeed(1);
    const ho = TINY.cropSize * TINY.scale;
    const x = torch.randn([2, 4, TINY.tIn, TINY.inSize, TINY.inSize]).to(DEV);
    const y = torch.rand([2, 1, TINY.tOut, ho, ho]).lt(0.2).to('float32').to(DEV);
    const amp = new MixedPrecision(precision, DEV);
    const before = m.parameters()[0]!.clone();
    const l = amp.autocast(() => weightedBce((m.forward(x) as { logits: torch.Tensor }).logits, y, null, 4));
    amp.backward(l);
    amp.unscale(opt);
    amp.step(opt);
    const p0 = m.parameters()[0]!;
    return { loss: l.item(), dtype: p0.dtype, moved: !p0.equal(before) };
  };
  const f = run('32'), b = run('bf16');
  console.log(`# bf16 step on ${DEV}: loss ${b.loss} (fp32 ${f.loss})`);
  assert.ok(Math.abs(b.loss - f.loss) <= 0.03 * Math.abs(f.loss), `bf16 loss ${b.loss} vs fp32 ${f.loss}`);
  assert.equal(b.dtype, 'float32');
  assert.ok(b.moved);
});

test('16-mixed (float16 autocast + GradScaler) runs a step on CUDA', { skip: SKIP || (DEV !== 'cuda' ? 'CUDA only' : false) }, () => {
  torch.manualSeed(0);
  const m = new torch.nn.Sequential(new torch.nn.Conv2d(3, 8, 3, { padding: 1 }), new torch.nn.ReLU(), new torch.nn.Flatten(), new torch.nn.Linear(8 * 16 * 16, 4)).to('cuda');
  const opt = new torch.optim.SGD(m.parameters(), { lr: 0.01 });
  const amp = new MixedPrecision('16-mixed', 'cuda');
  const x = torch.randn([8, 3, 16, 16], { device: 'cuda' }), y = torch.randint(0, 4, [8], { device: 'cuda' });
  const l = amp.autocast(() => {
    const z = m.forward(x);
    assert.equal(z.dtype, 'float16', 'linear ran in float16');
    return torch.F.crossEntropy(z, y);
  });
  amp.backward(l);
  assert.equal(amp.step(opt), true);
  assert.equal(amp.scaler!.scale_, 2 ** 16);
});
