// Issue #27 item 6: the hottest operators have unboxed fast paths in the addon (native/addon.cpp,
// "unboxed fast paths"), while the generic boxed path stays the single source of semantics. Every
// fast op runs here both ways (setFastPaths) on the argument forms the facade passes: values bit
// for bit, dtypes (type promotion with int, float and bool), shapes (broadcasting), in-place results,
// gradients and second-order gradients, and error messages; and the fast ways must really be taken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/core/torch/index.ts';
import { Tensor } from '../../src/core/torch/index.ts';
import { native } from '../../src/core/torch/native.ts';

interface Snap { dtype: string; shape: number[]; data: unknown[]; requiresGrad: boolean }
function snap(x: unknown): unknown {
  if (x instanceof Tensor) {
    return { dtype: x.dtype, shape: x.shape, data: Array.from(x.detach().toTypedArray() as ArrayLike<number>, (v) => typeof v === 'bigint' ? String(v) : v), requiresGrad: x.requiresGrad } satisfies Snap;
  }
  if (Array.isArray(x)) return x.map(snap);
  return x;
}
/** f's result with the fast paths on and with them off, and how many calls took a fast path. */
function bothWays(f: () => unknown): { fast: unknown; boxed: unknown; hitsFast: number; hitsBoxed: number } {
  const run = (on: boolean) => {
    const was = native.setFastPaths(on);
    const h0 = native.fastPathHits();
    try {
      const out = torch.scope(() => {
        torch.manualSeed(11);
        try { return snap(f()); } catch (e) { return { error: (e as Error).message }; }
      });
      return { out, hits: native.fastPathHits() - h0 };
    } finally {
      native.setFastPaths(was);
    }
  };
  const a = run(true), b = run(false);
  return { fast: a.out, boxed: b.out, hitsFast: a.hits, hitsBoxed: b.hits };
}

const f32 = { dtype: 'float32' as const }, f64 = { dtype: 'float64' as const }, i64 = { dtype: 'int64' as const };
const x = () => torch.tensor([[-1.5, 0, 2.25], [3, -0.5, 7]], f32);
const y = () => torch.tensor([0.5, -2, 4], f64);
const n = () => torch.tensor([[3, -4, 5], [0, 9, -2]], i64);
const m = () => torch.tensor([true, false, true]);

const cases: [string, () => unknown][] = [
  ['add tensor', () => x().add(x())], ['add alpha int', () => x().add(x(), 2)], ['add alpha float', () => x().add(y(), 0.5)],
  ['add broadcast f32+f64', () => x().add(y())], ['add int64+int64', () => n().add(n(), 3)], ['add int64+float', () => n().add(y())],
  ['add bool+int64', () => m().add(n())], ['add scalar int', () => x().add(3)], ['add scalar float', () => n().add(2.5)],
  ['add scalar alpha', () => n().add(2, 3)], ['add scalar huge', () => n().add(2 ** 53)], ['add scalar NaN', () => x().add(NaN)],
  ['sub tensor', () => x().sub(y(), 2)], ['sub scalar', () => n().sub(7)], ['sub scalar float', () => n().sub(0.25)],
  ['mul tensor', () => x().mul(y())], ['mul int64', () => n().mul(n())], ['mul bool', () => m().mul(m())],
  ['mul scalar', () => n().mul(3)], ['mul scalar float', () => n().mul(1.5)], ['mul -0', () => x().mul(-0)],
  ['div tensor', () => x().div(y())], ['div int64', () => n().div(n())], ['div scalar', () => n().div(2)], ['div by zero', () => x().div(0)],
  ['neg', () => x().neg()], ['neg int64', () => n().neg()], ['exp', () => x().exp()], ['exp int64', () => n().exp()],
  ['tanh', () => y().tanh()], ['sigmoid', () => x().sigmoid()], ['relu', () => x().relu()], ['relu int64', () => n().relu()],
  ['sqrt', () => y().sqrt()], ['abs', () => n().abs()], ['log', () => x().log()], ['t', () => x().t().contiguous()],
  ['detach', () => x().requiresGrad_().detach()],
  ['sum', () => x().sum()], ['sum int64', () => n().sum()], ['sum bool', () => m().sum()], ['sum dtype', () => n().sum(null, false, 'float64')],
  ['mean', () => y().mean()], ['mean int64 refused', () => n().mean()],
  ['pow scalar', () => x().pow(2)], ['pow scalar float', () => y().pow(0.5)], ['pow int64', () => n().pow(3)], ['pow int64 negative', () => n().pow(-1)],
  ['mm', () => x().mm(x().t())], ['matmul 2d', () => x().matmul(y().to('float32'))], ['matmul batched', () => x().reshape([1, 2, 3]).matmul(x().t())],
  ['matmul f64', () => torch.randn([5, 4], f64).matmul(torch.randn([4, 3], f64))],
  ['add_ tensor', () => { const a = x(); a.add_(x(), 2); return a; }], ['add_ scalar', () => { const a = n(); a.add_(5, 2); return a; }],
  ['sub_', () => { const a = x(); a.sub_(x().mul(0.5)); return a; }], ['mul_ tensor', () => { const a = y(); a.mul_(y()); return a; }],
  ['mul_ scalar', () => { const a = n(); a.mul_(-3); return a; }], ['div_ tensor', () => { const a = y(); a.div_(y().add(1)); return a; }],
  ['div_ scalar', () => { const a = x(); a.div_(3); return a; }],
  // errors: the operator's own message either way
  ['add shape mismatch', () => x().add(torch.ones([4]))], ['mm shape mismatch', () => x().mm(x())],
  ['div_ int64 in place', () => { const a = n(); a.div_(2); return a; }], ['add_ broadcast into smaller', () => { const a = y(); a.add_(x()); return a; }],
  ['disposed operand', () => { const a = x(); const b = x(); b.dispose(); return a.add(b); }],
  ['tensor as scalar', () => x().mul(torch.tensor(2.5, f64))],
];

test('every fast op gives the generic path\'s result bit for bit: values, dtypes, shapes, in-place results, errors', () => {
  let hits = 0;
  for (const [name, f] of cases) {
    const r = bothWays(f);
    assert.deepStrictEqual(r.fast, r.boxed, name);
    assert.equal(r.hitsBoxed, 0, `${name}: a fast path ran while they were off`);
    hits += r.hitsFast;
  }
  const errors = cases.filter(([name]) => /mismatch|in place|broadcast into|disposed|refused|negative/.test(name)).map(([name, f]) => [name, bothWays(f).fast] as const);
  for (const [name, r] of errors) assert.ok(r && typeof r === 'object' && 'error' in r, `${name}: expected an error, got ${JSON.stringify(r)}`);
  assert.match((errors.find(([nm]) => nm === 'add shape mismatch')![1] as { error: string }).error, /^aten::add\.Tensor: The size of tensor a \(3\) must match/);
  assert.ok(hits >= cases.length, `fast paths taken ${hits} times over ${cases.length} cases`);
});

test('gradients and second-order gradients through fast ops equal the generic path\'s, bit for bit', () => {
  const r = bothWays(() => {
    const a = torch.randn([4, 3], f64).requiresGrad_(), b = torch.randn([3], f64).requiresGrad_(), c = torch.randn([3, 2], f64);
    const loss = a.mul(b).add(a.tanh(), 0.5).sub(b.exp().div(2)).relu().add(a.sigmoid().neg()).matmul(c).abs().sqrt().sum();
    const g = torch.grad(loss, [a, b], { createGraph: true });
    const hv = torch.grad(g[0]!.mul(a.detach()).sum().add(g[1]!.sum()), [a, b]);
    return [loss, ...g, ...hv];
  });
  assert.deepStrictEqual(r.fast, r.boxed);
  assert.ok(r.hitsFast > 10, `fast paths taken ${r.hitsFast} times`);
});

test('a fast op refuses what the generic one refuses: extra arguments, a non-tensor where a tensor goes', () => {
  for (const on of [true, false]) {
    const was = native.setFastPaths(on);
    try {
      torch.scope(() => {
        const add = torch.op('add.Tensor'), neg = torch.op('neg');
        assert.throws(() => add(x(), x(), 1, 2), /takes 3 arguments, got 4/);
        assert.throws(() => neg('a'), /argument 'self' must be a Tensor|self/);
        assert.throws(() => neg(5), /argument 'self'/);
      });
    } finally {
      native.setFastPaths(was);
    }
  }
});
