// PAPERLAB_JITTER (src/core/jitter.ts): off, every init is untouched; on, every routed initialisation
// moves by a relative ≤ ε, nonzero, deterministically, without touching libtorch's random stream.
// The test sets and restores the variable itself, so it means the same under scripts/test-jitter.sh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/core/torch/index.ts';
import { Rng } from '../../src/core/rng.ts';
import { jitterInit, jitterScale } from '../../src/core/jitter.ts';
import * as D from '../../src/core/dynamics/index.ts';
import * as TN from '../../src/modules/threshold-neurons/index.ts';
import { LinearModel, TanhMLP } from '../../src/modules/orfit/models.ts';

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  try { return fn(); } finally {
    for (const [k, v] of Object.entries(old)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}
const OFF = { PAPERLAB_JITTER: undefined, PAPERLAB_JITTER_SEED: undefined };
const ON = { PAPERLAB_JITTER: '1e-12', PAPERLAB_JITTER_SEED: undefined };

/** max |b/a − 1| over a's nonzero entries, and whether a's zeros stayed zero in b */
function relChange(a: Float64Array, b: Float64Array): { max: number; moved: number; nonzero: number; zerosKept: boolean } {
  assert.equal(a.length, b.length);
  let max = 0, moved = 0, nonzero = 0, zerosKept = true;
  for (let i = 0; i < a.length; i++) {
    if (a[i] === 0) { if (b[i] !== 0) zerosKept = false; continue; }
    nonzero++;
    const r = Math.abs(b[i]! / a[i]! - 1);
    if (r > 0) moved++;
    max = Math.max(max, r);
  }
  return { max, moved, nonzero, zerosKept };
}

/** the same init drawn with the switch off and on (same torch seed before each) */
function offOn(make: () => Float64Array): [Float64Array, Float64Array] {
  const a = withEnv(OFF, () => { torch.manualSeed(11); return make(); });
  const b = withEnv(ON, () => { torch.manualSeed(11); return make(); });
  return [a, b];
}

test('PAPERLAB_JITTER: off is a no-op; on, every routed init moves by a relative ≤ 1e-12, nonzero, zeros stay zero', () => {
  withEnv(OFF, () => {
    assert.equal(jitterScale(), 0);
    const x = Float64Array.of(1, -2, 3);
    assert.equal(jitterInit(x), x);
    assert.deepEqual(Array.from(x), [1, -2, 3]);
  });
  const sites: [string, () => Float64Array][] = [
    ['core/dynamics regressionNet', () => { const t = D.regressionNet(20).init(); const v = t.toFloat64Array(); t.dispose(); return v; }],
    ['core/dynamics fcNet', () => { const t = D.fcNet([3, 5, 2], 'tanh').init(); const v = t.toFloat64Array(); t.dispose(); return v; }],
    ['core/dynamics deepLinearNet', () => { const t = D.deepLinearNet(3, 4).init(); const v = t.toFloat64Array(); t.dispose(); return v; }],
    ['core/dynamics quadratic', () => { const q = D.quadraticWithSpectrum([1, 2, 3], [0.5, -1, 2]); const t = q.init(); const v = t.toFloat64Array(); t.dispose(); q.dispose?.(); return v; }],
    ['threshold-neurons full net', () => {
      const tr = TN.sparseCoding(new Rng(1), 20, 8, 3);
      const t = TN.thresholdObjective(tr, null, { model: 'full' }).init();
      const v = t.toFloat64Array(); torch.dispose(t, tr.X, tr.y); return v;
    }],
    ['threshold-neurons ℓ(xy) objective', () => { const t = TN.xyObjective('sqrt', 0.1, 3).init(); const v = t.toFloat64Array(); t.dispose(); return v; }],
    ['threshold-neurons ℓ(xy) closed-form GD start', () => { const r = TN.xyGD('sqrt', 0.1, 3, 0.1, 0, 1); return Float64Array.of(r.rows[0]!.x, r.rows[0]!.y); }],
    ['orfit LinearModel w0', () => {
      const w0 = torch.tensor(Float64Array.from([0.3, -1.2, 0, 2.5]), { dtype: 'float64' });
      const m = new LinearModel(4, w0); const w = m.getParams(); const v = w.toFloat64Array(); torch.dispose(w, w0); m.dispose(); return v;
    }],
    ['orfit TanhMLP', () => { const net = new TanhMLP(3, 4); const v = Float64Array.from([...net.W.toFloat64Array(), ...net.v.toFloat64Array()]); net.dispose(); return v; }],
  ];
  for (const [name, make] of sites) {
    const [a, b] = offOn(make);
    const c = relChange(a, b);
    assert.ok(c.nonzero > 0 && c.moved > 0.9 * c.nonzero, `${name}: ${c.moved} of ${c.nonzero} nonzero entries moved`);
    assert.ok(c.max > 1e-13 && c.max <= 1e-12 * (1 + 1e-3), `${name}: largest relative change ${c.max} should be ~1e-12`);
    assert.ok(c.zerosKept, `${name}: zero entries stay zero`);
  }
});

test('PAPERLAB_JITTER: deterministic per seed, PAPERLAB_JITTER_SEED picks another perturbation, libtorch\'s stream is untouched; sameRows; bad values are rejected', () => {
  const draw = () => { torch.manualSeed(3); const t = D.regressionNet(10).init(); const next = torch.randn([2], { dtype: 'float64' }); const v = [t.toFloat64Array(), next.toFloat64Array()]; torch.dispose(t, next); return v; };
  const [a0, n0] = withEnv(OFF, draw);
  const [a1, n1] = withEnv(ON, draw);
  const [a2] = withEnv(ON, draw);
  const [a3] = withEnv({ ...ON, PAPERLAB_JITTER_SEED: '4' }, draw);
  assert.deepEqual(Array.from(a1!), Array.from(a2!), 'same seed, same jitter');
  assert.notDeepEqual(Array.from(a1!), Array.from(a3!), 'another PAPERLAB_JITTER_SEED, another jitter');
  assert.notDeepEqual(Array.from(a0!), Array.from(a1!));
  assert.deepEqual(Array.from(n0!), Array.from(n1!), 'the next libtorch draw is the same with the jitter on');
  withEnv(ON, () => {
    // one factor per entry of a row, the same for every row (the reproducibility harness's pairs)
    const x = torch.ones([3, 4], { dtype: 'float64' });
    jitterInit(x, { sameRows: true });
    const rows = x.toFloat64Array();
    for (let r = 1; r < 3; r++) for (let c = 0; c < 4; c++) assert.equal(rows[r * 4 + c], rows[c]);
    assert.ok(rows.slice(0, 4).some((v) => v !== 1));
    x.dispose();
  });
  withEnv({ PAPERLAB_JITTER: 'lots' }, () => assert.throws(() => jitterInit(Float64Array.of(1)), /PAPERLAB_JITTER/));
  withEnv({ PAPERLAB_JITTER: '0.5' }, () => assert.throws(() => jitterScale(), /PAPERLAB_JITTER/));
  withEnv({ PAPERLAB_JITTER: '0' }, () => assert.equal(jitterScale(), 0));
});
