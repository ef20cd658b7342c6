// The runs behind the commands (schemas in commands.ts): the paper's rotated-digit regression
// (bundled UCI digits or user MNIST IDX files), and ours — synthetic over-parameterized regression,
// the nonlinear (tanh MLP) stream, and any numeric CSV streamed through a chosen learner. The loops
// live in stream.ts, the figures in evaluate.ts.
import type { RunContext } from '../../core/context.ts';
import { Rng } from '../../core/rng.ts';
import * as torch from '../../core/torch/index.ts';
import { LinearModel, ModuleModel, TanhMLP } from './models.ts';
import { ORFit, createLearner, minNormInterpolant, type StreamLearner } from './learners/index.ts';
import { syntheticStream, readDigitsCsv, readMnist, rotatedDigitTask, readCsvStream, readCsvFeatures, readWeights, BUNDLED_DIGITS, type ImageSet } from './data.ts';
import { seenErrors, syntheticFigures, rotatedDigitsFigures, finalOf, nonlinearFigures, streamCsvFigures } from './evaluate.ts';
import { syntheticPass, sgdTowardMinNorm, digitStreamPass, vanillaSGDPass, nonlinearPass, prequentialPass, breathe, type RunRow } from './stream.ts';
import type { SyntheticParams, RotatedDigitsParams, NonlinearParams, StreamCsvParams } from './commands.ts';

/** Over-parameterized linear regression: interpolation, min-norm solution, SGD's many-pass limit. */
export async function synthetic(p: SyntheticParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const w0 = p.w0 ? readWeights(p.w0, p.p) : undefined;
  const data = syntheticStream({ p: p.p, K: p.stream, noise: p.noise, seed: ctx.seed });
  const learners: StreamLearner[] = [
    ...p.methods.map((m) => createLearner(m, new LinearModel(p.p, w0), { memory: 0, p0: p.p0, seed: ctx.seed })),
    ...p.memories.map((m) => createLearner('orfit', new LinearModel(p.p, w0), { memory: m })),
  ];
  try {
    const final = await syntheticPass(ctx, learners, data, w0);
    let sgdFinal = NaN;
    if (p.sgdEpochs > 0) {
      const wMinAll = minNormInterpolant(data.X, data.Y, w0);
      try { sgdFinal = sgdTowardMinNorm(ctx, data.X, data.Y, wMinAll, p.sgdEpochs, w0); } finally { wMinAll.dispose(); }
    }
    await syntheticFigures(ctx, { p: p.p, K: p.stream, sgd: p.sgdEpochs > 0 });
    return { final, sgdRelDistAfterEpochs: sgdFinal };
  } finally {
    for (const l of learners) { l.dispose(); l.model.dispose(); }
    torch.dispose(data.X, data.Y, data.Xtest, data.Ytest, data.teacher);
    w0?.dispose();
  }
}

type ImageFiles = Pick<RotatedDigitsParams, 'digitsCsv' | 'mnistImages' | 'mnistLabels' | 'mnistTestImages' | 'mnistTestLabels'>;

/** MNIST from IDX files when given (both images and labels), else the digits CSV (default: the bundled copy). */
function loadImages(p: ImageFiles): { train: ImageSet; test?: ImageSet } {
  if (p.mnistImages || p.mnistLabels) {
    if (!p.mnistImages || !p.mnistLabels) throw new Error('MNIST needs both --mnist-images and --mnist-labels (IDX files, plain or .gz)');
    const train = readMnist(p.mnistImages, p.mnistLabels);
    if (Boolean(p.mnistTestImages) !== Boolean(p.mnistTestLabels)) throw new Error('the MNIST test set needs both --mnist-test-images and --mnist-test-labels');
    const test = p.mnistTestImages ? readMnist(p.mnistTestImages, p.mnistTestLabels!) : undefined;
    return { train, test };
  }
  return { train: readDigitsCsv(p.digitsCsv || BUNDLED_DIGITS) };
}

/** Methods that keep every direction (or a full covariance): tracked at the unlimited figure's sample. */
const UNLIMITED = new Set(['orfit-unlimited', 'rls', 'kalman']);

/**
 * The paper's rotated-digit regression: `runs` runs (each its own rotations and w0), every method
 * over the same stream, then vanilla multi-pass SGD; a checkpoint after each run (resumable).
 */
export async function rotatedDigits(p: RotatedDigitsParams, ctx: RunContext): Promise<Record<string, unknown>> {
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
    const w0 = torch.tensor(new Rng(seed + 7).normals(pDim, 0, p.initStd), { dtype: 'float64' });
    const xs = task.X.unbind(0);
    for (const method of p.methods) {
      const model = new LinearModel(pDim, w0);
      const l = createLearner(method, model, { memory: p.memory, seed });
      const tracked = (UNLIMITED.has(method) ? p.trackUnlimited : p.trackMemoryLimited) - 1;
      rowsAll.push(...digitStreamPass(ctx, l, task, xs, run, tracked));
      l.dispose(); model.dispose();
      await breathe();
    }
    if (p.sgdEpochs > 0) rowsAll.push(...vanillaSGDPass(ctx, task, w0, { run, epochs: p.sgdEpochs, lr: p.sgdLr, tracked: p.trackUnlimited - 1 }));
    for (const l of p.methods) memRows.push({ run, method: l });
    torch.dispose(xs, w0, task.X, task.Y, task.Xtest, task.Ytest);
    ctx.checkpoints.save('runs', {}, { runsDone: run + 1, rows: rowsAll, memRows });
    bar.tick();
  }
  bar.done();
  const source = testSet || p.mnistImages ? 'MNIST' : train.source.endsWith('.gz') || train.source.endsWith('.csv') ? 'UCI digits' : train.source;
  const { test, seen, tracked } = await rotatedDigitsFigures(
    ctx,
    rowsAll,
    { memory: p.memory, runs: p.runs, pDim, source, trackMemoryLimited: p.trackMemoryLimited, trackUnlimited: p.trackUnlimited },
  );
  const summary = { p: pDim, nTest, runs: p.runs, finalTestRmse: finalOf(test), finalSeenRmse: finalOf(seen), finalTrackedError: finalOf(tracked) };
  ctx.writeJson('summary.json', summary);
  return summary;
}

/** ORFit on a two-layer tanh MLP per hidden width: linearized vs true residuals on seen points. */
export async function nonlinear(p: NonlinearParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const train = readDigitsCsv(p.digitsCsv || BUNDLED_DIGITS);
  const task = rotatedDigitTask(train, { digit: p.digit, stream: p.stream, size: p.size, testRotations: 1, maxTest: 200, seed: ctx.seed }, undefined);
  const Y = torch.scope(() => task.Y.div(p.angleScale));
  const d = task.X.shape[1]!;
  const bar = ctx.progress(p.hidden.length * p.stream, 'nonlinear ORFit');
  const final: Record<string, unknown>[] = [];
  try {
    for (const H of p.hidden) {
      torch.manualSeed(ctx.seed + H);
      const model = new ModuleModel(new TanhMLP(d, H), [d]);
      const l = new ORFit(model, { name: `orfit H=${H}` });
      try {
        const maxLin = await nonlinearPass(ctx, l, task.X, Y, { H, tick: () => bar.tick() });
        const seen = seenErrors(l, task.X, Y, p.stream);
        final.push({ H, params: model.numParams, maxLinearizedResidual: maxLin, trueMaxResidualSeen: seen.max, trueRmseSeen: seen.rmse, skipped: l.skipped });
      } finally {
        l.dispose(); model.dispose();
      }
    }
    bar.done();
    await nonlinearFigures(ctx, p.angleScale);
    return { final };
  } finally {
    torch.dispose(Y, task.X, task.Y, task.Xtest, task.Ytest);
  }
}

/** Any numeric CSV, one pass through one learner: prequential error, error on past rows, the learner's state. */
export async function streamCsv(p: StreamCsvParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const { X, Y, features } = readCsvStream(p.file, p.target);
  let model: LinearModel;
  try {
    const w0 = p.w0 ? readWeights(p.w0, features.length, features) : undefined;
    try { model = new LinearModel(features.length, w0); } finally { w0?.dispose(); }
  } catch (e) { torch.dispose(X, Y); throw e; }
  const l = createLearner(p.method, model, { memory: p.memory, lambda: p.lambda, p0: p.p0, seed: ctx.seed });
  try {
    const { se, lines } = await prequentialPass(ctx, l, X, Y);
    const n = X.shape[0]!;
    ctx.writeText('predictions.csv', lines.join('\n') + '\n');
    const st = l.state();
    torch.saveSafetensors(ctx.path('learner.safetensors'), st.tensors, Object.fromEntries(Object.entries(st.meta).map(([k, v]) => [k, String(v)])));
    torch.dispose(st.tensors);
    const stored = writeMemory(ctx, l);
    const heldOut = p.predict ? predictHeldOut(ctx, l, p.predict, features, p.target) : undefined;
    await streamCsvFigures(ctx, l.name, p.file);
    const seen = seenErrors(l, X, Y, n);
    return {
      rows: n,
      ...(stored !== undefined ? { storedDirections: stored } : {}),
      ...(heldOut ? { heldOut } : {}),
      features: features.length,
      method: l.name,
      prequentialRmse: Math.sqrt(se / n),
      finalRmseSeen: seen.rmse,
      finalMaxResidualSeen: seen.max,
      skipped: l instanceof ORFit ? l.skipped : 0,
    };
  } finally {
    l.dispose(); model.dispose();
    torch.dispose(X, Y);
  }
}

/**
 * ORFit's stored directions at the end of a run, in memory.safetensors: U [k, p] (orthonormal rows),
 * sigma [k] (their norms ‖ã‖ = the singular values of the stored matrix), origin [k] (1-based arrival
 * step, -1 once IPCA has rotated the basis). Written only for learners with a memory (ORFit variants
 * with m > 0); returns k, or undefined when nothing was written.
 */
function writeMemory(ctx: RunContext, l: StreamLearner): number | undefined {
  if (!(l instanceof ORFit) || l.memory === 0) return undefined;
  const U = l.U ? l.U.clone() : torch.zeros([0, l.model.numParams], { dtype: 'float64' });
  const sigma = torch.tensor(Float64Array.from(l.sigma), { dtype: 'float64' });
  const origin = torch.tensor(Float64Array.from(l.origin), { dtype: 'float64' });
  try {
    torch.saveSafetensors(ctx.path('memory.safetensors'), { U, sigma, origin },
      { method: l.name, memory: String(Number.isFinite(l.memory) ? l.memory : -1), rule: l.rule, stored: String(l.stored), steps: String(l.steps) });
  } finally { torch.dispose(U, sigma, origin); }
  return l.stored;
}

/** Predictions of the final learner on held-out rows → heldout-predictions.csv (index, prediction[, target]). */
function predictHeldOut(ctx: RunContext, l: StreamLearner, file: string, features: readonly string[], target: string): { rows: number; rmse?: number } {
  const { X, Y } = readCsvFeatures(file, features, target);
  try {
    const pred = torch.scope(() => l.predictBatch(X).to('float64').reshape(-1).toFloat64Array());
    const lines = [Y ? 'index,prediction,target' : 'index,prediction'];
    let se = 0;
    pred.forEach((v, i) => { lines.push(Y ? `${i},${v},${Y[i]}` : `${i},${v}`); if (Y) se += (v - Y[i]!) ** 2; });
    ctx.writeText('heldout-predictions.csv', lines.join('\n') + '\n');
    return Y ? { rows: pred.length, rmse: Math.sqrt(se / pred.length) } : { rows: pred.length };
  } finally { X.dispose(); }
}
