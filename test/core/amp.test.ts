// Mixed precision: libtorch's autocast scope (bf16 on the CPU), the GradScaler of fp16 training
// (torch.cuda.amp.GradScaler's rules, checked on the CPU with hand-made gradients) and the
// MixedPrecision object the trainers use.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/core/torch/index.ts';
import { GradScaler, MixedPrecision } from '../../src/core/train/index.ts';
import { UsageError } from '../../src/core/errors.ts';

function net(seed: number): torch.nn.Sequential {
  torch.manualSeed(seed);
  return new torch.nn.Sequential(
    new torch.nn.Conv2d(2, 8, 3, { padding: 1 }), new torch.nn.ReLU(), new torch.nn.Flatten(),
    new torch.nn.Linear(8 * 6 * 6, 16), new torch.nn.Tanh(), new torch.nn.Linear(16, 3),
  );
}

test('autocast(cpu, bfloat16) runs matmul/conv in bfloat16, keeps float32 outside, and nests', () => {
  const a = torch.randn([4, 4]), b = torch.randn([4, 4]);
  torch.autocast('cpu', 'bfloat16', () => {
    assert.equal(a.matmul(b).dtype, 'bfloat16');
    torch.autocast('cpu', 'bfloat16', () => assert.equal(a.mm(b).dtype, 'bfloat16'));
    assert.equal(a.mm(b).dtype, 'bfloat16', 'the inner scope left the outer one on');
    assert.equal(a.add(b).dtype, 'float32', 'elementwise ops are not recast');
  });
  assert.equal(a.matmul(b).dtype, 'float32', 'off again after the scope');
  assert.throws(() => torch.autocast('cpu', 'bfloat16', () => { throw new Error('boom'); }), /boom/);
  assert.equal(a.matmul(b).dtype, 'float32', 'off again after a throw');
});

test('a bf16 train step on the CPU: loss within bf16 tolerance of fp32, same gradient direction, float32 parameters', () => {
  torch.manualSeed(9);
  const x = torch.randn([8, 2, 6, 6]);
  const y = torch.randint(0, 3, [8]);
  const step = (precision: '32' | 'bf16') => {
    const m = net(3);
    const opt = new torch.optim.SGD(m.parameters(), { lr: 0.1 });
    const amp = new MixedPrecision(precision, 'cpu');
    const loss = amp.autocast(() => torch.F.crossEntropy(m.forward(x), y));
    amp.backward(loss);
    const g = torch.cat(m.parameters().map((p) => p.grad!.flatten()));
    amp.step(opt);
    const after = amp.autocast(() => torch.F.crossEntropy(m.forward(x), y)).item();
    return { loss: loss.item(), lossDtype: loss.dtype, g, after, dtypes: m.parameters().map((p) => p.dtype) };
  };
  const f32 = step('32'), bf = step('bf16');
  assert.equal(f32.lossDtype, 'float32');
  assert.equal(bf.lossDtype, 'float32', 'cross-entropy runs in float32 under autocast');
  // bfloat16 keeps 8 significant bits (relative rounding 2^-8 ≈ 0.4%) through two layers
  assert.ok(Math.abs(bf.loss - f32.loss) <= 0.02 * Math.abs(f32.loss), `bf16 loss ${bf.loss} vs fp32 ${f32.loss}`);
  const cos = bf.g.dot(f32.g).item() / (bf.g.norm().item() * f32.g.norm().item());
  assert.ok(cos > 0.99, `gradient cosine ${cos}`);
  assert.ok(bf.after < bf.loss, 'the bf16 step lowered the loss');
  assert.ok(bf.dtypes.every((d) => d === 'float32'), 'parameters stay float32');
});

test("precision '32' is exactly the plain step; 16-mixed needs CUDA; unknown precisions are refused", () => {
  const x = torch.randn([4, 2, 6, 6]);
  const plain = net(1), viaAmp = net(1);
  const o1 = new torch.optim.SGD(plain.parameters(), { lr: 0.05 }), o2 = new torch.optim.SGD(viaAmp.parameters(), { lr: 0.05 });
  plain.forward(x).square().mean().backward(); o1.step();
  const amp = new MixedPrecision('32', 'cpu');
  amp.backward(amp.autocast(() => viaAmp.forward(x).square().mean())); amp.unscale(o2); amp.step(o2);
  plain.parameters().forEach((p, i) => assert.ok(p.equal(viaAmp.parameters()[i]!)));
  assert.throws(() => new MixedPrecision('16-mixed', 'cpu'), (e: unknown) => e instanceof UsageError && /needs a CUDA device/.test((e as Error).message));
  assert.throws(() => new MixedPrecision('8' as never, 'cpu'), UsageError);
});

/** An optimizer over one parameter whose gradient the test sets by hand. */
function oneParam(value: number) {
  const p = torch.tensor([1, 2, 3], { requiresGrad: true });
  const opt = new torch.optim.SGD([p], { lr: 1 });
  const setGrad = (g: number[]) => { p.grad = torch.tensor(g.map((v) => v * value)); };
  return { p, opt, setGrad };
}

test('GradScaler: scales the loss, unscales gradients before the step, and steps on finite gradients', () => {
  const s = new GradScaler({ initScale: 1024 });
  const w = torch.tensor([2], { requiresGrad: true });
  const loss = w.mul(3).sum();
  const scaled = s.scale(loss);
  assert.equal(scaled.item(), 6 * 1024);
  scaled.backward();
  assert.equal(w.grad!.item(), 3 * 1024);
  const opt = new torch.optim.SGD([w], { lr: 0.5 });
  assert.equal(s.step(opt), true);
  assert.equal(w.grad!.item(), 3, 'the gradient the optimizer saw was unscaled');
  assert.equal(w.item(), 2 - 0.5 * 3);
  s.update();
  assert.equal(s.scale_, 1024, 'one clean step does not grow the scale');
});

test('GradScaler: skips the step on inf or NaN gradients and backs off; grows after growthInterval clean steps', () => {
  const s = new GradScaler({ initScale: 256, growthInterval: 3, growthFactor: 2, backoffFactor: 0.5 });
  const { p, opt, setGrad } = oneParam(1);
  for (const bad of [Infinity, NaN, -Infinity]) {
    setGrad([1, bad, 1]);
    const before = p.toArray();
    assert.equal(s.step(opt), false, `a ${bad} gradient skips the step`);
    s.update();
    assert.deepEqual(p.toArray(), before, 'parameters untouched');
  }
  assert.equal(s.scale_, 256 / 8, 'three backoffs of 0.5');
  // three clean steps in a row: ×2; a bad one resets the count
  for (let k = 0; k < 2; k++) { setGrad([1, 1, 1]); assert.equal(s.step(opt), true); s.update(); }
  assert.equal(s.scale_, 32);
  setGrad([NaN, 0, 0]); s.step(opt); s.update();
  assert.equal(s.scale_, 16);
  for (let k = 0; k < 3; k++) { setGrad([1, 1, 1]); s.step(opt); s.update(); }
  assert.equal(s.scale_, 32, 'grown after growthInterval clean steps');
  assert.deepEqual(s.stateDict(), { scale: 32, growthTracker: 0 });
  const t = new GradScaler();
  t.loadStateDict(s.stateDict());
  assert.equal(t.scale_, 32);
  assert.throws(() => new GradScaler({ backoffFactor: 2 }), UsageError);
});

test('GradScaler: unscale_ once per step (clipping sees true gradients), then step does not divide again', () => {
  const s = new GradScaler({ initScale: 8 });
  const { p, opt, setGrad } = oneParam(8);
  setGrad([1, 2, 3]);
  s.unscale_(opt);
  assert.deepEqual(p.grad!.toArray(), [1, 2, 3]);
  s.unscale_(opt);
  assert.deepEqual(p.grad!.toArray(), [1, 2, 3], 'a second unscale_ in the same step is a no-op');
  s.step(opt);
  assert.deepEqual(p.toArray(), [0, 0, 0]);
  s.update();
});
