// The training kit (src/core/train): a run interrupted after a checkpoint and resumed in fresh
// objects ends with exactly the parameters, optimizer state, lr and losses of an uninterrupted
// run; a checkpoint that does not fit says which one and which key. Also the pieces: Rng and
// libtorch generator state, optimizer state dicts, foreach AdamW, clipGradNorm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as torch from '../../src/core/torch/index.ts';
import type { Tensor } from '../../src/core/torch/index.ts';
import {
  saveTrainingCheckpoint, restoreTrainingCheckpoint, stepTag, CheckpointError, clipGradNorm, AdamW, Adam, SGD,
  ScheduledLR, ReduceLROnPlateau, cosineLR, Rng, getRngState, setRngState, hasRngState, type TrainingParts,
} from '../../src/core/train/index.ts';
import { InputFileError, exitCodeOf } from '../../src/core/errors.ts';
import { fakeContext, type FakeContext } from '../helpers/context.ts';

const { nn } = torch;

class Net extends nn.Module {
  readonly fc1: torch.nn.Linear; readonly drop: torch.nn.Dropout; readonly fc2: torch.nn.Linear;
  constructor(wide = 8, extra = false) {
    super();
    this.fc1 = this.child('fc1', new nn.Linear(3, wide, true, { dtype: 'float64' }));
    this.drop = this.child('drop', new nn.Dropout(0.25)); // draws from libtorch's generator every step
    this.fc2 = this.child('fc2', new nn.Linear(wide, 1, true, { dtype: 'float64' }));
    if (extra) this.child('head', new nn.Linear(1, 1, true, { dtype: 'float64' }));
  }
  forward(x: Tensor): Tensor { return this.fc2.forward(this.drop.forward(this.fc1.forward(x).relu())); }
}

// Data drawn from a running Rng (its state matters), a cosine schedule stepped by a ScheduledLR and
// a plateau tracker fed the loss, clipping: every piece of state a loop can have.
const X = torch.tensor(Array.from({ length: 64 * 3 }, (_, i) => Math.sin(i * 0.37)), { shape: [64, 3], dtype: 'float64' }).keep();
const Y = torch.scope(() => X.matmul(torch.tensor([[1.5], [-2], [0.5]], { dtype: 'float64' })).tanh().keep());
const TOTAL = 12;

interface Loop { net: Net; opt: AdamW; sched: ScheduledLR; plateau: ReduceLROnPlateau; rng: Rng; losses: number[] }
function fresh(seed: number): Loop {
  torch.manualSeed(seed);
  const net = new Net();
  const opt = new AdamW(net.parameters(), { lr: 0.05, weightDecay: 0.01 });
  return {
    net, opt, sched: new ScheduledLR(opt, cosineLR(0.05, TOTAL, 0.001, 2)),
    plateau: new ReduceLROnPlateau(opt, { patience: 0, factor: 0.9, threshold: 0 }), rng: new Rng(seed + 100),
    losses: [],
  };
}
function step(l: Loop, ctx?: FakeContext): void {
  const idx = Array.from({ length: 8 }, () => l.rng.int(0, 64));
  const loss = torch.scope(() => {
    const i = torch.tensor(idx, { dtype: 'int64' });
    l.opt.zeroGrad();
    const out = l.net.forward(X.indexSelect(0, i));
    const L = torch.F.mseLoss(out, Y.indexSelect(0, i));
    L.backward();
    clipGradNorm(l.net.parameters(), 0.5);
    l.opt.step();
    return L.item();
  });
  l.sched.step();
  l.plateau.step(loss);
  l.losses.push(loss);
  ctx?.metrics.log({ step: l.losses.length, loss });
}
const partsOf = (l: Loop): TrainingParts => ({ model: l.net, optimizer: l.opt, scheduler: { cosine: l.sched, plateau: l.plateau }, rng: l.rng });
function dispose(l: Loop): void { l.opt.dispose(); l.net.dispose(); }

test('save mid-training, restore into fresh objects in a resumed context: bit-identical to the uninterrupted run', () => {
  if (!hasRngState) assert.fail('this addon build cannot read the generator state: npm run build:native');
  const full = fresh(1);
  for (let t = 0; t < TOTAL; t++) step(full);
  const fullTorch = getRngState();

  // interrupted: a checkpoint after 5 steps, 2 more steps lost with the crash
  const ctx1 = fakeContext({ seed: 1 });
  const a = fresh(1);
  for (let t = 0; t < 5; t++) step(a, ctx1);
  saveTrainingCheckpoint(ctx1.checkpoints, stepTag(5), { ...partsOf(a), step: 5, config: { lr: 0.05, total: TOTAL }, extra: { losses: a.losses } });
  for (let t = 0; t < 2; t++) step(a, ctx1);
  assert.equal(ctx1.metrics.rows().length, 7);
  dispose(a);

  // resumed: other initial weights, other Rng seed, a scrambled libtorch generator
  torch.manualSeed(777);
  torch.randn([100]).dispose();
  const b = fresh(2);
  const ctx2 = fakeContext({ dir: ctx1.dir, seed: 1, resuming: true });
  const r = restoreTrainingCheckpoint(ctx2.checkpoints, partsOf(b));
  assert.ok(r);
  assert.equal(r.tag, 'step-000005');
  assert.equal(r.step, 5);
  assert.deepEqual(r.config, { lr: 0.05, total: TOTAL });
  assert.deepEqual(r.extra.losses, full.losses.slice(0, 5));
  assert.deepEqual(r.tensors, {});
  b.losses.push(...(r.extra.losses as number[]));
  assert.equal(ctx2.metrics.rows().length, 5, 'the metrics table is cut back to the checkpoint');
  for (let t = r.step; t < TOTAL; t++) step(b, ctx2);

  assert.deepEqual(b.losses, full.losses);
  assert.deepEqual(ctx2.metrics.rows().map((x) => x.loss), full.losses, 'every step logged exactly once');
  assert.equal(b.opt.lr, full.opt.lr);
  assert.deepEqual(b.plateau.stateDict(), full.plateau.stateDict());
  assert.deepEqual(b.rng.state(), full.rng.state());
  const pf = full.net.stateDict(), pb = b.net.stateDict();
  for (const k of Object.keys(pf)) assert.ok(pf[k]!.equal(pb[k]!), `parameter '${k}' differs from the uninterrupted run`);
  const of = full.opt.stateDict(), ob = b.opt.stateDict();
  assert.deepEqual(Object.keys(ob.tensors).sort(), Object.keys(of.tensors).sort());
  for (const k of Object.keys(of.tensors)) assert.ok(of.tensors[k]!.equal(ob.tensors[k]!), `optimizer state '${k}' differs`);
  assert.deepEqual(ob.scalars, of.scalars);
  // libtorch's generator (the dropout masks) is where the uninterrupted run left it
  assert.deepEqual(getRngState(), fullTorch);
  dispose(full); dispose(b);
});

test('the checkpoint keeps one key convention: model.<name>, optim.<i>.<key>, rng.torch, extra.<name>; named parts nest', () => {
  const ctx = fakeContext();
  torch.manualSeed(0);
  const G = new Net(), D = new Net(4);
  const optG = new SGD(G.parameters(), { lr: 0.1, momentum: 0.9 }), optD = new Adam(D.parameters(), { lr: 0.01 });
  for (const [m, o] of [[G, optG], [D, optD]] as const) {
    torch.scope(() => { o.zeroGrad(); m.forward(X).sum().backward(); o.step(); });
  }
  const ema = torch.zeros([3], { dtype: 'float64' }).keep();
  saveTrainingCheckpoint(ctx.checkpoints, 'last', { model: { G, D }, optimizer: { G: optG, D: optD }, step: 1, tensors: { ema } });
  const { tensors, state } = ctx.checkpoints.load('last');
  const keys = Object.keys(tensors).sort();
  assert.ok(keys.includes('model.G.fc1.weight') && keys.includes('model.D.fc2.bias'), keys.join(' '));
  assert.ok(keys.includes('optim.G.0.momentum_buffer') && keys.includes('optim.D.3.exp_avg_sq'), keys.join(' '));
  assert.ok(keys.includes('rng.torch') && keys.includes('extra.ema'));
  assert.equal(tensors['rng.torch']!.dtype, 'uint8');
  assert.deepEqual(state.model, ['D', 'G']);
  assert.deepEqual((state.optimizer as Record<string, { type: string }>).G!.type, 'SGD');
  assert.deepEqual((state.optimizer as Record<string, { hyper: unknown }>).G!.hyper, { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 0 });
  torch.dispose(tensors);
  // round trip into fresh objects: same tensors, hyper-parameters set back
  torch.manualSeed(5);
  const G2 = new Net(), D2 = new Net(4);
  const optG2 = new SGD(G2.parameters(), { lr: 1, momentum: 0.5 }), optD2 = new Adam(D2.parameters());
  const r = restoreTrainingCheckpoint(ctx.checkpoints, { model: { G: G2, D: D2 }, optimizer: { G: optG2, D: optD2 } })!;
  assert.equal(optG2.lr, 0.1);
  assert.equal(optG2.momentum, 0.9);
  assert.equal(optD2.lr, 0.01);
  for (const [a, b] of [[G, G2], [D, D2]] as const) for (const [k, t] of Object.entries(a.stateDict())) assert.ok(t.equal(b.stateDict()[k]!), k);
  assert.ok(r.tensors.ema!.equal(ema));
  torch.dispose(r.tensors, ema);
  for (const x of [optG, optD, optG2, optD2, G, D, G2, D2]) x.dispose();
});

test('a checkpoint that does not fit names the checkpoint and the key, and leaves the model untouched', () => {
  const ctx = fakeContext();
  assert.equal(restoreTrainingCheckpoint(ctx.checkpoints, { model: new Net() }), null, 'no checkpoint yet: null');
  torch.manualSeed(0);
  const net = new Net();
  const opt = new AdamW(net.parameters());
  saveTrainingCheckpoint(ctx.checkpoints, stepTag(3), { model: net, optimizer: opt, rng: new Rng(1), step: 3 });
  const expectError = (parts: TrainingParts, re: RegExp, key: string | RegExp) => {
    const model = (parts.model instanceof nn.Module ? parts.model : Object.values(parts.model)[0]!);
    const before = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.clone().keep()]));
    assert.throws(() => restoreTrainingCheckpoint(ctx.checkpoints, parts), (e: unknown) => {
      assert.ok(e instanceof CheckpointError, String(e));
      assert.ok(e instanceof InputFileError);
      assert.equal(exitCodeOf(e), 4);
      assert.match(e.message, /^checkpoint 'step-000003': /);
      assert.match(e.message, re);
      if (typeof key === 'string') assert.equal(e.key, key); else assert.match(e.key ?? '', key);
      return true;
    });
    for (const [k, t] of Object.entries(model.stateDict())) assert.ok(t.equal(before[k]!), `'${k}' changed by a failed restore`);
    torch.dispose(before);
  };
  const withHead = new Net(8, true);
  expectError({ model: withHead }, /has no tensor 'model\.head\.weight' for the model's 'head\.weight'/, 'model.head.weight');
  const wide = new Net(6);
  expectError({ model: wide }, /tensor 'model\.fc1\.weight' has shape \[8,3\] but the model's 'fc1\.weight' has \[6,3\]/, 'model.fc1.weight');
  class Small extends nn.Module {
    readonly fc1 = this.child('fc1', new nn.Linear(3, 8, true, { dtype: 'float64' }));
    forward(x: Tensor): Tensor { return this.fc1.forward(x); }
  }
  const small = new Small();
  expectError({ model: small }, /has tensors 'model\.fc2\.weight', 'model\.fc2\.bias' that the model does not have|has tensors 'model\.fc2\.bias', 'model\.fc2\.weight' that the model does not have/, /^model\.fc2\./);
  const other = new Net();
  const sgd = new SGD(other.parameters(), { lr: 0.1 });
  expectError({ model: other, optimizer: sgd }, /the optimizer was AdamW when saved, this run's is SGD/, 'optim');
  expectError({ model: other, optimizer: { main: new AdamW(other.parameters()) } }, /has no state for the optimizer 'main'/, 'optim.main');
  expectError({ model: other, scheduler: new ScheduledLR(sgd, cosineLR(1, 10)) }, /has no state for the scheduler/, 'scheduler');
  expectError({ model: { G: other } }, /holds one model, this run has models 'G'/, 'model');
  // not a training checkpoint, a missing tag
  ctx.checkpoints.save('plain', net.stateDict(), { epoch: 1 });
  assert.throws(() => restoreTrainingCheckpoint(ctx.checkpoints, { model: other }), /checkpoint 'plain': not written by saveTrainingCheckpoint/);
  assert.equal(restoreTrainingCheckpoint(ctx.checkpoints, { model: other }, { tag: 'nope' }), null, 'no checkpoint of that tag yet: null');
  // `when` sees step/config/extra first and may decline (nothing loaded)
  const seen: unknown[] = [];
  const before = other.fc1.weight.clone().keep();
  assert.equal(restoreTrainingCheckpoint(ctx.checkpoints, { model: other }, { tag: 'step-000003', when: (i) => { seen.push(i); return false; } }), null);
  assert.deepEqual(seen, [{ tag: 'step-000003', step: 3, config: null, extra: {} }]);
  assert.ok(other.fc1.weight.equal(before));
  assert.equal(restoreTrainingCheckpoint(ctx.checkpoints, { model: other }, { tag: 'step-000003', when: () => true })!.step, 3);
  assert.ok(other.fc1.weight.equal(net.fc1.weight));
  before.dispose();
  for (const x of [opt, sgd, net, withHead, wide, small, other]) x.dispose();
});

test('Rng state: state()/setState()/fromState() continue the stream exactly, spare normal included; JSON round trip; random32', () => {
  const r = new Rng(42);
  r.normal(); // leaves a spare normal
  const st = JSON.parse(JSON.stringify(r.state()));
  assert.notEqual(st.spare, null);
  const want = [r.normal(), r.random(), r.int(0, 1000), r.normal(), r.random32()];
  const a = Rng.fromState(st), b = new Rng(7).setState(st);
  for (const g of [a, b]) assert.deepEqual([g.normal(), g.random(), g.int(0, 1000), g.normal(), g.random32()], want);
  assert.equal(a.seed, 42);
  for (let i = 0; i < 1000; i++) { const u = r.random32(); assert.ok(u >= 0 && u < 1 && Number.isInteger(u * 4294967296)); }
  assert.throws(() => new Rng().setState({ ...st, s: [0, 0, 0, 0] }), /all zero/);
  assert.throws(() => new Rng().setState({ ...st, s: [1, 2, 3] }), /four unsigned 32-bit integers/);
  assert.throws(() => new Rng().setState({ ...st, kind: 'mt' }), /kind 'mt'/);
});

test('libtorch generator state: getRngState/setRngState replay randn and dropout exactly', () => {
  if (!hasRngState) assert.fail('this addon build cannot read the generator state: npm run build:native');
  torch.manualSeed(3);
  torch.scope(() => {
    torch.randn([7]);
    const s = getRngState();
    assert.equal(s.length, 5056);
    const a = torch.randn([10]), da = torch.F.dropout(torch.ones([20]), 0.5, true);
    setRngState(s);
    const b = torch.randn([10]), db = torch.F.dropout(torch.ones([20]), 0.5, true);
    assert.ok(a.equal(b) && da.equal(db));
  });
  assert.throws(() => setRngState(new Uint8Array(3)), /setRngState: .*size/);
});

test('optimizer state dicts carry hyper-parameters and refuse keys that do not fit', () => {
  torch.manualSeed(0);
  const net = new Net();
  const sgd = new SGD(net.parameters(), { lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
  torch.scope(() => { net.forward(X).sum().backward(); sgd.step(); });
  sgd.momentum = 0.95; // nnU-Net changes it mid-run: it must survive a resume
  const sd = sgd.stateDict();
  assert.deepEqual(sd.hyper, { lr: 0.1, momentum: 0.95, dampening: 0, nesterov: false, weightDecay: 1e-4 });
  const other = new SGD(net.parameters(), { lr: 1, momentum: 0.5 });
  other.loadStateDict(sd);
  assert.equal(other.momentum, 0.95);
  assert.ok(other.stateDict().tensors['0.momentum_buffer']!.equal(sd.tensors['0.momentum_buffer']!));
  assert.throws(() => other.loadStateDict({ tensors: { '9.momentum_buffer': sd.tensors['0.momentum_buffer']! }, scalars: {} }), /key '9\.momentum_buffer' for a parameter that does not exist/);
  assert.throws(() => other.loadStateDict({ tensors: { '1.momentum_buffer': sd.tensors['0.momentum_buffer']! }, scalars: {} }), /'1\.momentum_buffer' has shape \[8,3\] but parameter 1 has \[8\]/);
  const adam = new Adam(net.parameters());
  assert.throws(() => new AdamW(net.parameters()).loadStateDict(adam.stateDict()), /written by Adam, loaded into AdamW/);
  for (const x of [sgd, other, adam, net]) x.dispose();
});

test('foreach AdamW (and Adam with L2 decay) agree with the single-tensor path to rounding; same state keys, interchangeable', () => {
  for (const [make, label] of [[(p: Tensor[], foreach: boolean) => new AdamW(p, { lr: 0.1, weightDecay: 0.1, foreach }), 'AdamW'], [(p: Tensor[], foreach: boolean) => new Adam(p, { lr: 0.1, weightDecay: 0.1, foreach }), 'Adam']] as const) {
    const mk = () => { torch.manualSeed(0); return [torch.randn([3, 4], { dtype: 'float64' }).requiresGrad_().keep(), torch.randn([5], { dtype: 'float64' }).requiresGrad_().keep()]; };
    const a = mk(), b = mk();
    const oa = make(a, false), ob = make(b, true);
    for (let k = 0; k < 6; k++) {
      for (const [ps, o] of [[a, oa], [b, ob]] as const) {
        o.zeroGrad();
        torch.scope(() => { ps[0]!.square().sum().add(ps[1]!.sin().sum()).backward(); });
        if (k === 2) ps[1]!.grad = null; // a parameter that misses a step
        o.step();
      }
    }
    a.forEach((t, i) => assert.ok(t.sub(b[i]!).abs().max().item() < 1e-12, `${label} parameter ${i}`));
    const sa = oa.stateDict(), sb = ob.stateDict();
    assert.deepEqual(Object.keys(sb.tensors).sort(), Object.keys(sa.tensors).sort());
    assert.deepEqual(sb.scalars, sa.scalars);
    assert.equal(sb.scalars['1.step'], 5);
    oa.loadStateDict(sb); // interchangeable
    oa.dispose(); ob.dispose(); torch.dispose(a, b);
  }
});

test('clipGradNorm is torch.nn.utils.clip_grad_norm_: the norm of the per-gradient norms, scaled by max/(total+1e-6) only above max', () => {
  const mk = () => {
    const ps = [torch.tensor([3, 0], { dtype: 'float64' }).requiresGrad_().keep(), torch.tensor([[0, 4], [0, 0]], { dtype: 'float64' }).requiresGrad_().keep(), torch.tensor([1], { dtype: 'float64' }).requiresGrad_().keep()];
    torch.scope(() => { ps[0]!.mul(ps[0]!).sum().add(ps[1]!.mul(ps[1]!).sum()).backward(); }); // grads (6,0), ((0,8),(0,0)); the third has none
    return ps;
  };
  const ps = mk();
  const n = clipGradNorm(ps, 1);
  assert.equal(n, 10);
  assert.deepEqual(ps[0]!.grad!.toArray(), [6 / (10 + 1e-6), 0]);
  assert.equal(ps[2]!.grad, null);
  const qs = mk();
  assert.equal(clipGradNorm(qs, 10), 10); // 10/(10+1e-6) < 1: scaled, as torch
  assert.ok(qs[0]!.grad!.toArray()[0]! < 6);
  const rs = mk();
  assert.equal(clipGradNorm(rs, 20), 10);
  assert.deepEqual(rs[0]!.grad!.toArray(), [6, 0]);
  const inf = mk();
  assert.equal(clipGradNorm(inf, 100, { normType: Infinity }), 8);
  const nan = mk();
  nan[0]!.grad = torch.tensor([NaN, 0], { dtype: 'float64' }).keep();
  assert.throws(() => clipGradNorm(nan, 1, { errorIfNonfinite: true }), /total norm of order 2 of the gradients is NaN/);
  assert.equal(clipGradNorm([], 1), 0);
  torch.dispose(ps, qs, rs, inf, nan);
});

test('ReduceLROnPlateau follows torch (abs threshold, patience, cooldown, minLr) and its state round-trips', () => {
  torch.manualSeed(0);
  const net = new Net();
  const opt = new SGD(net.parameters(), { lr: 1 });
  const p = new ReduceLROnPlateau(opt, { factor: 0.5, patience: 1, threshold: 1e-6, thresholdMode: 'abs', cooldown: 1, minLr: 0.2 });
  const lrs = [1, 0.9, 0.95, 0.96, 0.97, 0.98, 0.99, 1, 1.01].map((m) => p.step(m));
  assert.deepEqual(lrs, [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
  const q = new ReduceLROnPlateau(opt, { factor: 0.5, patience: 1, threshold: 1e-6, thresholdMode: 'abs', cooldown: 1, minLr: 0.2 });
  q.loadStateDict(JSON.parse(JSON.stringify(p.stateDict())));
  assert.deepEqual(q.stateDict(), p.stateDict());
  assert.deepEqual(new ReduceLROnPlateau(opt).stateDict().best, null);
  opt.dispose(); net.dispose();
});
