// The runs behind the paper's figures at CPU scale (spec A.8): synthetic over-parameterized
// regression, the rotated-digit stream (bundled UCI digits or user MNIST IDX files), the nonlinear
// (tanh MLP) stream, and any numeric CSV streamed through a chosen learner.
import { z } from 'zod';
import { defineCommand } from '../../core/registry.ts';
import type { RunContext } from '../../core/context.ts';
import { Rng } from '../../core/rng.ts';
import * as torch from '../../core/torch/index.ts';
import { LinearModel, ModuleModel, TanhMLP } from './models.ts';
import { ORFit, createLearner, minNormInterpolant, multiPassSGD, type StreamLearner } from './learners/index.ts';
import { METHODS, type Method } from './config.ts';
import { syntheticStream, readDigitsCsv, readMnist, rotatedDigitTask, readCsvStream, BUNDLED_DIGITS, type ImageSet } from './data.ts';
import { rmse, seenErrors, aggregate, bandChart, constantPredictionRmse } from './evaluate.ts';

type Tensor = torch.Tensor;

export { METHODS, type Method, createLearner };

/** Parses "a,b,c" against the method list (errors list the valid names). */
export function parseMethods(s: string): Method[] {
  const out = s.split(',').map((x) => x.trim()).filter(Boolean);
  for (const m of out) if (!(METHODS as readonly string[]).includes(m)) throw new Error(`unknown method '${m}'. Valid methods: ${METHODS.join(', ')}`);
  if (out.length === 0) throw new Error('no methods given');
  return out as Method[];
}
function parseInts(s: string, what: string): number[] {
  const out = s.split(',').map((x) => x.trim()).filter(Boolean).map(Number);
  for (const v of out) if (!Number.isInteger(v) || v < 0) throw new Error(`${what}: '${s}' must be a comma-separated list of non-negative integers`);
  if (out.length === 0) throw new Error(`${what}: empty list`);
  return out;
}
const breathe = () => new Promise((r) => setImmediate(r));
const rows = (ts: Tensor): Tensor[] => ts.unbind(0);

// =============================================================================== synthetic
export const syntheticCommand = defineCommand({
  name: 'synthetic',
  description: 'Over-parameterized linear regression (A.8.3): ORFit interpolates every seen point and lands on the min-norm solution',
  quick: true,
  params: z.object({
    p: z.number().int().min(2).max(20000).default(200).describe('input dimension = number of parameters'),
    points: z.number().int().min(1).max(5000).default(50).describe('stream length K (p ≥ K for exact interpolation)'),
    noise: z.number().min(0).default(0).describe('label noise standard deviation'),
    memories: z.string().default('5,20').describe('memory limits m for ORFit with IPCA, comma-separated'),
    methods: z.string().default('orfit-unlimited,one-step-sgd,rls').describe(`extra methods, comma-separated (${METHODS.join(', ')})`),
    rlsP0: z.number().positive().default(1e6).describe('RLS prior P0 = p0·I (large p0 approaches ORFit)'),
    sgdEpochs: z.number().int().min(0).max(100000).default(200).describe('epochs of cyclic multi-pass SGD from 0 (step 1/max‖x‖²) compared to the ORFit solution'),
  }),
  async run(p, ctx) {
    const memories = parseInts(p.memories, 'memories');
    const methods = parseMethods(p.methods);
    const data = syntheticStream({ p: p.p, K: p.points, noise: p.noise, seed: ctx.seed });
    const y = data.Y.toFloat64Array();
    const xs = rows(data.X);
    const learners: StreamLearner[] = [
      ...methods.map((m) => createLearner(m, new LinearModel(p.p), { memory: 0, p0: p.rlsP0, seed: ctx.seed })),
      ...memories.map((m) => createLearner('orfit', new LinearModel(p.p), { memory: m })),
    ];
    const bar = ctx.progress(p.points, 'synthetic stream');
    const final: Record<string, unknown>[] = [];
    for (let k = 0; k < p.points; k++) {
      ctx.throwIfAborted();
      const wMin = minNormInterpolant(data.X.narrow(0, 0, k + 1), data.Y.narrow(0, 0, k + 1));
      for (const l of learners) {
        const t0 = performance.now();
        l.observe(xs[k]!, y[k]!);
        const ms = performance.now() - t0;
        const seen = seenErrors(l, data.X, data.Y, k + 1);
        const w = l.model.getParams();
        const dist = torch.scope(() => w.sub(wMin).norm().item() / Math.max(wMin.norm().item(), 1e-300));
        w.dispose();
        const row = { step: k + 1, method: l.name, maxResidualSeen: seen.max, rmseSeen: seen.rmse, relDistMinNorm: dist,
          testRmse: rmse(l, data.Xtest, data.Ytest), msPerStep: ms, memoryFloats: l.memoryFloats() };
        ctx.metrics.log(row);
        if (k === p.points - 1) final.push(row);
      }
      wMin.dispose();
      bar.tick();
      if (k % 10 === 0) await breathe();
    }
    bar.done();
    // multi-pass SGD from 0 → the ORFit (min-norm) solution
    const wMinAll = minNormInterpolant(data.X, data.Y);
    let sgdFinal = NaN;
    if (p.sgdEpochs > 0) {
      const lr = 1 / torch.scope(() => data.X.square().sum(1).max().item());
      const zero = torch.zeros([p.p], { dtype: 'float64' });
      const sbar = ctx.progress(p.sgdEpochs, 'multi-pass SGD');
      const wS = multiPassSGD(data.X, data.Y, zero, {
        lr, epochs: p.sgdEpochs, signal: ctx.signal,
        onEpoch: (e, w) => {
          const d = torch.scope(() => w.sub(wMinAll).norm().item() / wMinAll.norm().item());
          ctx.metrics.log({ epoch: e, relDistToOrfit: d }, 'sgd');
          sgdFinal = d;
          sbar.tick();
        },
      });
      sbar.done();
      torch.dispose(wS, zero);
      await ctx.plot('sgd-distance', bandChart(ctx.metrics.rows('sgd').map((r) => ({ epoch: r.epoch as number, series: 'cyclic SGD from 0', mean: Math.max(r.relDistToOrfit as number, 1e-17), std: 0, lo: r.relDistToOrfit as number, hi: r.relDistToOrfit as number, n: 1 })),
        { x: 'epoch', series: 'series', title: 'Multi-pass SGD → the one-pass ORFit solution', yTitle: '‖w_SGD − w_ORFit‖ / ‖w_ORFit‖', logY: true }));
    }
    const all = ctx.metrics.rows();
    const band = (field: string) => all.map((r) => ({ step: r.step as number, method: r.method as string, mean: r[field] as number, std: 0, lo: r[field] as number, hi: r[field] as number, n: 1 }));
    await ctx.plot('residual-seen', bandChart(band('maxResidualSeen'), { x: 'step', series: 'method', title: `Max |residual| on seen points (p=${p.p}, K=${p.points})`, yTitle: 'max |f(x_k) − y_k|, k ≤ step', logY: true }));
    await ctx.plot('test-rmse', bandChart(band('testRmse'), { x: 'step', series: 'method', title: 'Test RMSE', yTitle: 'RMSE' }));
    await ctx.plot('memory', bandChart(band('memoryFloats'), { x: 'step', series: 'method', title: 'Memory held besides w', yTitle: 'floats' }));
    await ctx.plot('time', bandChart(band('msPerStep'), { x: 'step', series: 'method', title: 'Time per update', yTitle: 'ms', logY: true }));
    for (const l of learners) { l.dispose(); l.model.dispose(); }
    torch.dispose(xs, data.X, data.Y, data.Xtest, data.Ytest, data.teacher, wMinAll);
    return { final, sgdRelDistAfterEpochs: sgdFinal };
  },
});

// =============================================================================== rotated digits
interface RunRow { [k: string]: number | string }

function loadImages(p: { mnistImages: string; mnistLabels: string; mnistTestImages: string; mnistTestLabels: string; digitsCsv: string }): { train: ImageSet; test?: ImageSet } {
  if (p.mnistImages || p.mnistLabels) {
    if (!p.mnistImages || !p.mnistLabels) throw new Error('MNIST needs both --mnist-images and --mnist-labels (IDX files, plain or .gz)');
    const train = readMnist(p.mnistImages, p.mnistLabels);
    if (Boolean(p.mnistTestImages) !== Boolean(p.mnistTestLabels)) throw new Error('the MNIST test set needs both --mnist-test-images and --mnist-test-labels');
    const test = p.mnistTestImages ? readMnist(p.mnistTestImages, p.mnistTestLabels) : undefined;
    return { train, test };
  }
  return { train: readDigitsCsv(p.digitsCsv || BUNDLED_DIGITS) };
}

export const rotatedDigitsCommand = defineCommand({
  name: 'rotated-digits',
  description: "The paper's rotated-digit regression (A.8.1/A.8.2): predict the rotation angle from a one-pass stream sorted by angle",
  resumable: true,
  params: z.object({
    digitsCsv: z.string().default('').describe('UCI digits CSV (64 pixels + label; empty = the bundled copy)').meta({ path: 'input' }),
    mnistImages: z.string().default('').describe('MNIST training images, IDX (e.g. train-images-idx3-ubyte[.gz]); overrides the digits CSV').meta({ path: 'input' }),
    mnistLabels: z.string().default('').describe('MNIST training labels, IDX').meta({ path: 'input' }),
    mnistTestImages: z.string().default('').describe('MNIST test images, IDX (optional: held-out training images otherwise)').meta({ path: 'input' }),
    mnistTestLabels: z.string().default('').describe('MNIST test labels, IDX').meta({ path: 'input' }),
    digit: z.number().int().min(0).max(9).default(2).describe('which digit class forms the stream'),
    stream: z.number().int().min(2).max(2000).default(100).describe('stream length K'),
    size: z.number().int().min(4).max(64).default(28).describe('image side after bilinear resize (28 → p = 784 as in the paper)'),
    testRotations: z.number().int().min(1).max(50).default(5).describe('random rotations per held-out image'),
    maxTest: z.number().int().min(1).default(2000).describe('cap on the number of test inputs'),
    runs: z.number().int().min(1).max(100).default(10).describe('runs with different w0 and rotations (the paper: 10)'),
    memory: z.number().int().min(1).default(10).describe('memory m of the memory-limited methods (the paper: 10)'),
    methods: z.string().default('orfit,orfit-random,orfit-latest,one-step-sgd,greedy,orfit-unlimited').describe(`streaming methods, comma-separated (${METHODS.join(', ')})`),
    sgdEpochs: z.number().int().min(0).max(100000).default(1000).describe('vanilla multi-pass SGD epochs (0 = skip; the paper: 1000)'),
    sgdLr: z.number().positive().default(1e-5).describe('vanilla SGD step size (the paper: 1e-5)'),
    initStd: z.number().min(0).default(0.01).describe('w0 ~ N(0, initStd²) [recon]'),
    trackMemoryLimited: z.number().int().min(1).default(16).describe('tracked stream sample for the memory-limited figure (the paper: 16th)'),
    trackUnlimited: z.number().int().min(1).default(11).describe('tracked stream sample for the unlimited figure (the paper: 11th)'),
  }),
  async run(p, ctx) {
    const methods = parseMethods(p.methods);
    const { train, test: testSet } = loadImages(p);
    if (p.trackMemoryLimited > p.stream || p.trackUnlimited > p.stream) throw new Error(`tracked samples must be ≤ stream (${p.stream})`);
    const ck = ctx.resuming ? ctx.checkpoints.latest() : null;
    const rowsAll: RunRow[] = ck ? (ck.state.rows as RunRow[]) : [];
    const memRows: RunRow[] = ck ? (ck.state.memRows as RunRow[]) : [];
    const startRun = ck ? Number(ck.state.runsDone) : 0;
    if (ck) { torch.dispose(ck.tensors); ctx.log(`resuming after ${startRun} completed runs`); }
    const bar = ctx.progress(p.runs, 'rotated-digits runs');
    bar.update(startRun);
    let pDim = p.size * p.size, nTest = 0;
    for (let run = startRun; run < p.runs; run++) {
      ctx.throwIfAborted();
      const seed = ctx.seed * 1000 + run;
      const task = rotatedDigitTask(train, { digit: p.digit, stream: p.stream, size: p.size, testRotations: p.testRotations, maxTest: p.maxTest, seed }, testSet);
      pDim = task.X.shape[1]!; nTest = task.Xtest.shape[0]!;
      const rng = new Rng(seed + 7);
      const w0 = torch.tensor(rng.normals(pDim, 0, p.initStd), { dtype: 'float64' });
      const y = task.Y.toFloat64Array();
      const xs = rows(task.X);
      for (const method of methods) {
        const model = new LinearModel(pDim, w0);
        const l = createLearner(method, model, { memory: p.memory, seed });
        const unlimited = method === 'orfit-unlimited' || method === 'rls' || method === 'kalman';
        const tracked = (unlimited ? p.trackUnlimited : p.trackMemoryLimited) - 1;
        const log = (step: number) => {
          const row: RunRow = {
            run, step, method: l.name, testRmse: rmse(l, task.Xtest, task.Ytest),
            seenRmse: seenErrors(l, task.X, task.Y, step).rmse,
            trackedError: step > tracked ? Math.abs(l.predict(xs[tracked]!) - y[tracked]!) : NaN,
            memoryFloats: l.memoryFloats(),
          };
          rowsAll.push(row);
          ctx.metrics.log(row);
        };
        log(0);
        for (let k = 0; k < p.stream; k++) { l.observe(xs[k]!, y[k]!); log(k + 1); }
        l.dispose(); model.dispose();
        await breathe();
      }
      if (p.sgdEpochs > 0) {
        // vanilla SGD (A.7): fixed step, epochs over the same stream, evaluated at log-spaced steps
        const total = p.sgdEpochs * p.stream;
        const at = new Set<number>();
        for (let e = 0; e <= Math.log10(total) + 1e-9; e += 0.1) at.add(Math.min(total, Math.round(10 ** e)));
        at.add(total);
        const model = new LinearModel(pDim, w0);
        const track = p.trackUnlimited - 1;
        const wEnd = multiPassSGD(task.X, task.Y, w0, {
          lr: p.sgdLr, epochs: p.sgdEpochs, signal: ctx.signal,
          onStep: {
            at, fn: (step, w) => {
              model.setParams(w);
              const pred = torch.scope(() => model.predictBatch(task.X).sub(task.Y));
              const row: RunRow = {
                run, step, method: 'vanilla-sgd', testRmse: torch.scope(() => model.predictBatch(task.Xtest).sub(task.Ytest).square().mean().sqrt().item()),
                seenRmse: torch.scope(() => pred.square().mean().sqrt().item()),
                trackedError: step > track ? Math.abs(torch.scope(() => pred.select(0, track).item())) : NaN, memoryFloats: 0,
              };
              pred.dispose();
              rowsAll.push(row);
              ctx.metrics.log(row);
            },
          },
        });
        torch.dispose(wEnd);
        model.dispose();
      }
      for (const l of methods) memRows.push({ run, method: l });
      torch.dispose(xs, w0, task.X, task.Y, task.Xtest, task.Ytest);
      ctx.checkpoints.save('runs', {}, { runsDone: run + 1, rows: rowsAll, memRows });
      bar.tick();
    }
    bar.done();
    // ------- figures
    const isLimited = (m: string) => !m.includes('unlimited') && m !== 'vanilla-sgd' && m !== 'ew-rls' && m !== 'kalman';
    const test = aggregate(rowsAll, ['method', 'step'], 'testRmse');
    const seen = aggregate(rowsAll, ['method', 'step'], 'seenRmse');
    const tracked = aggregate(rowsAll, ['method', 'step'], 'trackedError');
    const mem = aggregate(rowsAll, ['method', 'step'], 'memoryFloats');
    const ref = [{ y: constantPredictionRmse(90), label: 'constant 90°' }, { y: constantPredictionRmse(0), label: 'constant 0°' }];
    const src = testSet || p.mnistImages ? 'MNIST' : train.source.endsWith('.gz') || train.source.endsWith('.csv') ? 'UCI digits' : train.source;
    await ctx.plot('memory-limited-test-rmse', bandChart(test.filter((r) => isLimited(String(r.method))), { x: 'step', series: 'method', title: `Test RMSE, memory m=${p.memory} (${src}, ${p.runs} runs, mean ± std)`, yTitle: 'test RMSE (degrees)', rules: ref }));
    await ctx.plot('memory-limited-seen-rmse', bandChart(seen.filter((r) => isLimited(String(r.method))), { x: 'step', series: 'method', title: `Error on all past stream points, memory m=${p.memory}`, yTitle: 'RMSE on seen points (degrees)' }));
    await ctx.plot('memory-limited-tracked', bandChart(tracked.filter((r) => isLimited(String(r.method))), { x: 'step', series: 'method', title: `Error on stream sample ${p.trackMemoryLimited} (learned at step ${p.trackMemoryLimited})`, yTitle: '|error| (degrees)', xRules: [{ x: p.trackMemoryLimited, label: 'learned' }] }));
    const unl = (r: Record<string, unknown>) => !isLimited(String(r.method)) || r.method === 'one-step-sgd';
    await ctx.plot('unlimited-test-rmse', bandChart(test.filter(unl).filter((r) => Number(r.step) > 0), { x: 'step', series: 'method', title: 'Test RMSE, unlimited memory vs multi-pass SGD', yTitle: 'test RMSE (degrees)', logX: true }));
    await ctx.plot('unlimited-train-rmse', bandChart(seen.filter(unl).filter((r) => Number(r.step) > 0), { x: 'step', series: 'method', title: 'RMSE on all seen stream points', yTitle: 'RMSE (degrees)', logX: true }));
    await ctx.plot('unlimited-tracked', bandChart(tracked.filter(unl).filter((r) => Number(r.step) > 0), { x: 'step', series: 'method', title: `Error on stream sample ${p.trackUnlimited}`, yTitle: '|error| (degrees)', logX: true, xRules: [{ x: p.trackUnlimited, label: 'learned' }] }));
    await ctx.plot('memory-use', bandChart(mem.filter((r) => r.method !== 'vanilla-sgd'), { x: 'step', series: 'method', title: `Memory held besides w (p = ${pDim})`, yTitle: 'floats' }));
    const finalOf = (bands: typeof test) => Object.fromEntries([...new Set(bands.map((b) => String(b.method)))].map((m) => {
      const last = bands.filter((b) => b.method === m).sort((a, b) => Number(b.step) - Number(a.step))[0]!;
      return [m, { step: Number(last.step), mean: last.mean, std: last.std }];
    }));
    const summary = { p: pDim, nTest, runs: p.runs, finalTestRmse: finalOf(test), finalSeenRmse: finalOf(seen), finalTrackedError: finalOf(tracked) };
    ctx.writeJson('summary.json', summary);
    return summary;
  },
});

// =============================================================================== nonlinear
export const nonlinearCommand = defineCommand({
  name: 'nonlinear',
  description: 'ORFit on a two-layer tanh MLP (A.8.4): linearized residual is zero by construction, the true residual shrinks as the width grows',
  params: z.object({
    hidden: z.string().default('64,256,1024').describe('hidden widths H, comma-separated'),
    digitsCsv: z.string().default('').describe('UCI digits CSV (empty = the bundled copy)').meta({ path: 'input' }),
    digit: z.number().int().min(0).max(9).default(2).describe('digit class of the stream'),
    stream: z.number().int().min(2).max(500).default(60).describe('stream length K'),
    size: z.number().int().min(4).max(28).default(8).describe('image side (8 keeps p small enough for CPU; 28 is the spec\'s 784 inputs)'),
    angleScale: z.number().positive().default(180).describe('labels are angle / angleScale (O(1) targets for the tanh net) [ours]'),
  }),
  async run(p, ctx) {
    const widths = parseInts(p.hidden, 'hidden').filter((h) => h > 0);
    const train = readDigitsCsv(p.digitsCsv || BUNDLED_DIGITS);
    const task = rotatedDigitTask(train, { digit: p.digit, stream: p.stream, size: p.size, testRotations: 1, maxTest: 200, seed: ctx.seed }, undefined);
    const Y = torch.scope(() => task.Y.div(p.angleScale));
    const y = Y.toFloat64Array();
    const xs = rows(task.X);
    const d = task.X.shape[1]!;
    const bar = ctx.progress(widths.length * p.stream, 'nonlinear ORFit');
    const final: Record<string, unknown>[] = [];
    for (const H of widths) {
      torch.manualSeed(ctx.seed + H);
      const model = new ModuleModel(new TanhMLP(d, H), [d]);
      const l = new ORFit(model, { name: `orfit H=${H}` });
      let maxLin = 0;
      for (let k = 0; k < p.stream; k++) {
        ctx.throwIfAborted();
        const wPrev = model.getParams();
        const { f, a } = model.outputAndGrad(xs[k]!);
        l.observe(xs[k]!, y[k]!);
        const lin = torch.scope(() => f + a.dot(model.getParams().sub(wPrev)).item() - y[k]!);
        torch.dispose(wPrev, a);
        maxLin = Math.max(maxLin, Math.abs(lin));
        const seen = seenErrors(l, task.X, Y, k + 1);
        ctx.metrics.log({ H, params: model.numParams, step: k + 1, linearizedResidual: Math.abs(lin), trueMaxResidualSeen: seen.max, trueRmseSeen: seen.rmse });
        bar.tick();
        if (k % 10 === 0) await breathe();
      }
      const seen = seenErrors(l, task.X, Y, p.stream);
      final.push({ H, params: model.numParams, maxLinearizedResidual: maxLin, trueMaxResidualSeen: seen.max, trueRmseSeen: seen.rmse, skipped: l.skipped });
      l.dispose(); model.dispose();
    }
    bar.done();
    const rs = ctx.metrics.rows();
    await ctx.plot('true-residual', bandChart(rs.map((r) => ({ step: r.step as number, width: `H=${r.H}`, mean: r.trueRmseSeen as number, std: 0, lo: r.trueRmseSeen as number, hi: r.trueRmseSeen as number, n: 1 })),
      { x: 'step', series: 'width', title: 'Nonlinear ORFit: true RMSE on seen points (labels = angle/180)', yTitle: 'RMSE', logY: true }));
    torch.dispose(xs, Y, task.X, task.Y, task.Xtest, task.Ytest);
    return { final };
  },
});

// =============================================================================== any CSV
export const streamCsvCommand = defineCommand({
  name: 'stream-csv',
  description: 'Stream the rows of a numeric CSV once through a learner; report prequential error and error on past points',
  positional: ['file'],
  params: z.object({
    file: z.string().describe('CSV with a header row, numeric columns').meta({ path: 'input' }),
    target: z.string().default('y').describe('name of the label column'),
    method: z.enum(METHODS).default('orfit').describe('streaming method'),
    memory: z.number().int().min(1).default(20).describe('memory m for the memory-limited methods'),
    lambda: z.number().min(0).max(1).default(1).describe('RLS forgetting factor'),
    p0: z.number().positive().default(1).describe('RLS / Kalman prior scale P0 = p0·I'),
  }),
  async run(p, ctx) {
    const { X, Y, features } = readCsvStream(p.file, p.target);
    const model = new LinearModel(features.length);
    const l = createLearner(p.method, model, { memory: p.memory, lambda: p.lambda, p0: p.p0, seed: ctx.seed });
    const y = Y.toFloat64Array();
    const xs = rows(X);
    const preds: string[] = ['index,y,prediction_before'];
    let se = 0;
    const bar = ctx.progress(xs.length, 'stream-csv');
    for (let k = 0; k < xs.length; k++) {
      ctx.throwIfAborted();
      const before = l.predict(xs[k]!);
      const info = l.observe(xs[k]!, y[k]!);
      se += (before - y[k]!) ** 2;
      const seen = seenErrors(l, X, Y, k + 1);
      ctx.metrics.log({ step: k + 1, prequentialError: before - y[k]!, rmseSeen: seen.rmse, maxResidualSeen: seen.max, skipped: info.skipped, memoryFloats: l.memoryFloats() });
      preds.push(`${k},${y[k]},${before}`);
      bar.tick();
      if (k % 50 === 0) await breathe();
    }
    bar.done();
    ctx.writeText('predictions.csv', preds.join('\n') + '\n');
    const st = l.state();
    torch.saveSafetensors(ctx.path('learner.safetensors'), st.tensors, Object.fromEntries(Object.entries(st.meta).map(([k, v]) => [k, String(v)])));
    torch.dispose(st.tensors);
    const rs = ctx.metrics.rows();
    await ctx.plot('error-on-past', bandChart(rs.map((r) => ({ step: r.step as number, series: l.name, mean: r.rmseSeen as number, std: 0, lo: r.rmseSeen as number, hi: r.rmseSeen as number, n: 1 })),
      { x: 'step', series: 'series', title: `${l.name}: RMSE on all past rows of ${p.file}`, yTitle: 'RMSE on seen rows' }));
    const seen = seenErrors(l, X, Y, xs.length);
    const out = { rows: xs.length, features: features.length, method: l.name, prequentialRmse: Math.sqrt(se / xs.length), finalRmseSeen: seen.rmse, finalMaxResidualSeen: seen.max, skipped: (l as ORFit).skipped ?? 0 };
    l.dispose(); model.dispose();
    torch.dispose(xs, X, Y);
    return out;
  },
});

export type { RunContext };
