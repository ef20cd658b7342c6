// The streaming loops behind the commands (this module's train.ts): each learner sees every point
// once, in order, and the metrics of the paper's figures are logged after every step; the offline
// multi-pass SGD reference runs over the same stream. experiments.ts wires them to the commands.
import * as torch from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import { LinearModel } from './models.ts';
import { minNormInterpolant, multiPassSGD, type StreamLearner } from './learners/index.ts';
import type { SyntheticStream, RotatedTask } from './data.ts';
import { rmse, seenErrors } from './evaluate.ts';

type Tensor = torch.Tensor;

/** One row of the rotated-digit metrics (per run, method and step). */
export interface RunRow { [k: string]: number | string }

/** Yields to the event loop (progress events, Ctrl-C) between chunks of work. */
export const breathe = () => new Promise((r) => setImmediate(r));

/**
 * Synthetic stream: every learner observes point k, then its residuals on the seen points, its
 * distance to the min-norm interpolant of those points, its test RMSE, time and memory are logged.
 * Returns the rows of the last step.
 */
export async function syntheticPass(ctx: RunContext, learners: StreamLearner[], data: SyntheticStream, w0?: Tensor): Promise<Record<string, unknown>[]> {
  const K = data.X.shape[0]!;
  const y = data.Y.toFloat64Array();
  const xs = data.X.unbind(0);
  const bar = ctx.progress(K, 'synthetic stream');
  const final: Record<string, unknown>[] = [];
  try {
    for (let k = 0; k < K; k++) {
      ctx.throwIfAborted();
      const wMin = torch.scope(() => minNormInterpolant(data.X.narrow(0, 0, k + 1), data.Y.narrow(0, 0, k + 1), w0));
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
        if (k === K - 1) final.push(row);
      }
      wMin.dispose();
      bar.tick();
      if (k % 10 === 0) await breathe();
    }
  } finally {
    torch.dispose(xs);
  }
  bar.done();
  return final;
}

/**
 * Cyclic multi-pass SGD from w0 (default 0) with step 1/max‖x‖², logging (table 'sgd') its relative distance to
 * the min-norm interpolant `wTarget` after each epoch. Returns the last distance.
 */
export function sgdTowardMinNorm(ctx: RunContext, X: Tensor, Y: Tensor, wTarget: Tensor, epochs: number, w0?: Tensor): number {
  const lr = 1 / torch.scope(() => X.square().sum(1).max().item());
  const zero = w0 ? w0.clone() : torch.zeros([X.shape[1]!], { dtype: 'float64' });
  const bar = ctx.progress(epochs, 'multi-pass SGD');
  let last = NaN;
  const w = multiPassSGD(X, Y, zero, {
    lr, epochs, signal: ctx.signal,
    onEpoch: (e, wE) => {
      last = torch.scope(() => wE.sub(wTarget).norm().item() / wTarget.norm().item());
      ctx.metrics.log({ epoch: e, relDistToOrfit: last }, 'sgd');
      bar.tick();
    },
  });
  bar.done();
  torch.dispose(w, zero);
  return last;
}

/**
 * One learner over one rotated-digit stream: test RMSE, RMSE on the seen points, the error on the
 * tracked sample (0-based index `tracked`, once learned) and memory, before the first point and
 * after each one. Rows are logged and returned.
 */
export function digitStreamPass(ctx: RunContext, l: StreamLearner, task: RotatedTask, xs: Tensor[], run: number, tracked: number): RunRow[] {
  const y = task.Y.toFloat64Array();
  const rows: RunRow[] = [];
  const log = (step: number) => {
    const row: RunRow = {
      run, step, method: l.name, testRmse: rmse(l, task.Xtest, task.Ytest),
      seenRmse: seenErrors(l, task.X, task.Y, step).rmse,
      trackedError: step > tracked ? Math.abs(l.predict(xs[tracked]!) - y[tracked]!) : NaN,
      memoryFloats: l.memoryFloats(),
    };
    rows.push(row);
    ctx.metrics.log(row);
  };
  log(0);
  for (let k = 0; k < xs.length; k++) { l.observe(xs[k]!, y[k]!); log(k + 1); }
  return rows;
}

/**
 * The paper's vanilla SGD reference: fixed step, `epochs` passes over the same stream from w0,
 * evaluated at log-spaced global steps (ten per decade, and the last). Rows are logged and returned.
 */
export function vanillaSGDPass(ctx: RunContext, task: RotatedTask, w0: Tensor, o: { run: number; epochs: number; lr: number; tracked: number }): RunRow[] {
  const total = o.epochs * task.X.shape[0]!;
  const at = new Set<number>();
  for (let e = 0; e <= Math.log10(total) + 1e-9; e += 0.1) at.add(Math.min(total, Math.round(10 ** e)));
  at.add(total);
  const model = new LinearModel(task.X.shape[1]!, w0);
  const rows: RunRow[] = [];
  const wEnd = multiPassSGD(task.X, task.Y, w0, {
    lr: o.lr, epochs: o.epochs, signal: ctx.signal,
    onStep: {
      at, fn: (step, w) => {
        model.setParams(w);
        const pred = torch.scope(() => model.predictBatch(task.X).sub(task.Y));
        const row: RunRow = {
          run: o.run, step, method: 'vanilla-sgd', testRmse: torch.scope(() => model.predictBatch(task.Xtest).sub(task.Ytest).square().mean().sqrt().item()),
          seenRmse: torch.scope(() => pred.square().mean().sqrt().item()),
          trackedError: step > o.tracked ? Math.abs(torch.scope(() => pred.select(0, o.tracked).item())) : NaN, memoryFloats: 0,
        };
        pred.dispose();
        rows.push(row);
        ctx.metrics.log(row);
      },
    },
  });
  torch.dispose(wEnd);
  model.dispose();
  return rows;
}

/**
 * Nonlinear ORFit over a stream: after each step, the residual of the model linearized at the
 * parameters before the step (zero by construction) and the true residuals on the seen points.
 * Returns the largest linearized residual.
 */
export async function nonlinearPass(ctx: RunContext, l: StreamLearner, X: Tensor, Y: Tensor, o: { H: number; tick: () => void }): Promise<number> {
  const model = l.model;
  const y = Y.toFloat64Array();
  const xs = X.unbind(0);
  let maxLin = 0;
  try {
    for (let k = 0; k < xs.length; k++) {
      ctx.throwIfAborted();
      const wPrev = model.getParams();
      const { f, a } = model.outputAndGrad(xs[k]!);
      l.observe(xs[k]!, y[k]!);
      const lin = torch.scope(() => f + a.dot(model.getParams().sub(wPrev)).item() - y[k]!);
      torch.dispose(wPrev, a);
      maxLin = Math.max(maxLin, Math.abs(lin));
      const seen = seenErrors(l, X, Y, k + 1);
      ctx.metrics.log({
        H: o.H,
        params: model.numParams,
        step: k + 1,
        linearizedResidual: Math.abs(lin),
        trueMaxResidualSeen: seen.max,
        trueRmseSeen: seen.rmse,
      });
      o.tick();
      if (k % 10 === 0) await breathe();
    }
  } finally {
    torch.dispose(xs);
  }
  return maxLin;
}

/**
 * Prequential pass: each row is predicted before it is learned. Logs the prequential error, the
 * error on all past rows and memory; returns the sum of squared prequential errors and the
 * predictions.csv lines.
 */
export async function prequentialPass(ctx: RunContext, l: StreamLearner, X: Tensor, Y: Tensor): Promise<{ se: number; lines: string[] }> {
  const y = Y.toFloat64Array();
  const xs = X.unbind(0);
  const lines: string[] = ['index,y,prediction_before'];
  let se = 0;
  const bar = ctx.progress(xs.length, 'stream-csv');
  try {
    for (let k = 0; k < xs.length; k++) {
      ctx.throwIfAborted();
      const before = l.predict(xs[k]!);
      const info = l.observe(xs[k]!, y[k]!);
      se += (before - y[k]!) ** 2;
      const seen = seenErrors(l, X, Y, k + 1);
      ctx.metrics.log({
        step: k + 1,
        prequentialError: before - y[k]!,
        rmseSeen: seen.rmse,
        maxResidualSeen: seen.max,
        skipped: info.skipped,
        memoryFloats: l.memoryFloats(),
      });
      lines.push(`${k},${y[k]},${before}`);
      bar.tick();
      if (k % 50 === 0) await breathe();
    }
  } finally {
    torch.dispose(xs);
  }
  bar.done();
  return { se, lines };
}
