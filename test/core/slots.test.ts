// Issue #27 item 6: a JS Tensor holds the id of a slot in the engine's table (native/addon.cpp,
// "tensor slots"); scopes live in JS (src/core/torch/scopes.ts); op arguments and results are
// converted as each op's schema says (src/core/torch/ops.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/core/torch/index.ts';

test('scopes in JS: returned tensors move to the enclosing scope, keep() outlives all, the rest is freed', () => {
  const live0 = torch.liveTensors();
  let kept: torch.Tensor | null = null, inner: torch.Tensor | null = null, temp: torch.Tensor | null = null;
  const outer = torch.scope(() => {
    inner = torch.scope(() => {
      temp = torch.ones([2]).mul(3);
      kept = torch.ones([2]).keep();
      return { r: [temp.add(1)] };
    }).r[0]!;
    assert.equal(temp!.isDisposed, true);
    assert.equal(inner.isDisposed, false, 'returned from the inner scope: now the outer one owns it');
    return inner.sum();
  });
  assert.equal(inner!.isDisposed, true, 'freed at the end of the outer scope');
  assert.equal(outer.item(), 8);
  assert.equal(kept!.isDisposed, false);
  assert.deepEqual(kept!.toArray(), [1, 1]);
  torch.dispose(outer, kept);
  assert.equal(torch.liveTensors(), live0);
  // a throw inside frees everything made there and leaves the scope stack balanced
  assert.throws(() => torch.scope(() => { torch.ones([3]); torch.scope(() => { throw new Error('boom'); }); }), /boom/);
  assert.equal(torch.liveTensors(), live0);
});

test('arguments by schema: a non-tensor where a Tensor goes is refused; a one-element tensor where a Scalar goes is its value', () => {
  torch.scope(() => {
    const x = torch.tensor([1, 2], { dtype: 'float64' });
    assert.throws(() => torch.op('add.Tensor')(x, 3), /argument 'other' must be a Tensor/);
    assert.throws(() => torch.op('mm')(x, { shape: [2] }), /must be a Tensor/);
    assert.deepEqual(torch.op('add.Scalar')(x, torch.tensor(2.5, { dtype: 'float64' }), 1).toArray(), [3.5, 4.5]);
    const d = torch.ones([1]);
    d.dispose();
    assert.throws(() => x.add(d), /disposed/);
    assert.throws(() => d.shape, /disposed/);
    // results: one tensor, a tuple, a list, a plain value
    const [vals, idx] = torch.tensor([3, 1, 2]).sort();
    assert.deepEqual([vals!.toArray(), idx!.toArray()], [[1, 2, 3], [1, 2, 0]]);
    assert.equal(torch.tensor([1, 2, 3, 4]).split(2).length, 2);
    assert.equal(x.allclose(x), true);
  });
});

test('grad, requiresGrad and isSameTensor through ids; a new handle on the same data is the same tensor', () => {
  torch.scope(() => {
    const w = torch.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
    w.mul(w).sum().backward();
    assert.deepEqual(w.grad!.toArray(), [2, 4, 6]);
    assert.ok(w.grad!.isSameTensor(w.grad));
    w.grad = null;
    assert.equal(w.grad, null);
    assert.ok(w.to('float64').isSameTensor(w));
    assert.ok(!w.clone().isSameTensor(w));
  });
});

test('a tensor left to the garbage collector is freed by it (the finalizer attached when it escapes)', async () => {
  const live0 = torch.liveTensors();
  const run = (): void => { for (let i = 0; i < 2000; i++) torch.ones([1]).add(1); };
  run();
  assert.ok(torch.liveTensors() >= live0 + 2000);
  for (let i = 0; i < 100 && torch.liveTensors() > live0 + 100; i++) {
    // allocate JS garbage so the collector runs, then let its finalizers run
    for (let j = 0; j < 20; j++) new Array(100_000).fill(j);
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.ok(torch.liveTensors() <= live0 + 100, `${torch.liveTensors() - live0} of 2,000 escaped tensors still live`);
});

test('small freed tensors drip out one per new tensor: values stay right, the heap does not grow, memoryStats() frees the rest', () => {
  const live0 = torch.liveTensors();
  const s = torch.ones([1]).keep();
  const base = torch.ones([3]).keep();
  const heap = (): number => torch.memoryStats().mallocInUse; // memoryStats() first frees what still waits
  const step = (): number => torch.scope(() => {
    let acc = 0;
    for (let i = 0; i < 1000; i++) {
      const v = base.view([3]); // shares its storage: freed at once, never kept waiting
      acc += s.add(i).item() + v.sum().item();
    }
    return acc;
  });
  const want = 1000 + 999 * 1000 / 2 + 3000;
  assert.equal(step(), want);
  const h0 = heap();
  for (let k = 0; k < 20; k++) assert.equal(step(), want);
  assert.ok(heap() - h0 < 4 << 20, `malloc'd bytes grew by ${heap() - h0} over 20 scopes of 3,000 small tensors`);
  assert.deepEqual(base.toArray(), [1, 1, 1]);
  torch.dispose(s, base);
  assert.equal(torch.liveTensors(), live0);
});
