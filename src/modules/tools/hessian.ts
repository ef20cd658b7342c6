// tools — `paperlab hessian`: the Hessian of a saved model on its data as PyHessian reports it
// (Yao et al. 2020): top-k eigenvalues (Lanczos), trace (Hutchinson), spectral density (SLQ with
// Gaussian broadening), for the whole model and, with --per-layer, each parameter tensor's
// diagonal block. Writes hessian.json, eigenvalues.csv, density.csv and density.png/svg.
import * as torch from '../../core/torch/index.ts';
import { UsageError } from '../../core/errors.ts';
import type { RunContext } from '../../core/context.ts';
import { densityGrid } from '../../core/hessian.ts';
import {
  loadNamedDataset, outputDim, modelByName, supervised, thetaFromStateDict, batchedHvp, blockOperator, spectrumOf, curvesSpec,
  type SpectrumReport, type FlatModel,
} from '../../core/dynamics/index.ts';
import type { HessianParams } from './commands.ts';

function modelFor(arch: string, inDim: number, outDim: number, shape: number[]): FlatModel {
  try { return modelByName(arch, inDim, outDim, shape); } catch (e) { throw new UsageError(`--model: ${(e as Error).message}`); }
}

export async function hessian(p: HessianParams, ctx: RunContext) {
  const data = loadNamedDataset({ dataset: p.data, dataRoot: p.dataRoot, dataPath: p.dataPath, layout: p.layout, nTrain: p.nTrain }, ctx.rng);
  const inShape = data.X.shape.slice(1);
  const model = modelFor(p.model, inShape.reduce((a, b) => a * b, 1), outputDim(data), inShape);
  const sd = torch.loadStateDict(p.checkpoint, { prefix: 'auto' });
  let loaded: ReturnType<typeof thetaFromStateDict> | undefined;
  const obj = supervised(model, data, p.loss);
  try {
    loaded = thetaFromStateDict(model, sd.tensors, p.checkpoint);
    if (loaded.unused.length) ctx.log(`the checkpoint's keys not used by ${model.name}: ${loaded.unused.slice(0, 10).join(', ')}${loaded.unused.length > 10 ? ', …' : ''}`);
    const op = batchedHvp(obj, loaded.theta, p.physicalBatch);
    const o = { topK: p.topK, eigTol: p.eigTol, trace: p.trace, traceIter: p.traceIter, traceTol: p.traceTol,
      density: p.density, slqIter: p.slqIter, slqRuns: p.slqRuns, seed: ctx.seed };
    const parts: { layer: string; report: SpectrumReport }[] = [];
    try {
      ctx.log(`${model.name} (${op.n} parameters) on ${data.name}: loss ${op.loss}`);
      parts.push({ layer: 'all', report: spectrumOf(op.matvec, op.n, o) });
      if (p.perLayer) {
        const bar = ctx.progress(model.layout.entries.length, 'per layer');
        let off = 0;
        model.layout.entries.forEach((e, i) => {
          const size = model.layout.sizes[i]!;
          parts.push({ layer: model.stateNames?.[e.name] ?? e.name, report: spectrumOf(blockOperator(op.matvec, op.n, off, size), size, o) });
          off += size;
          bar.update(i + 1);
          ctx.throwIfAborted();
        });
        bar.done();
      }
    } finally { op.dispose(); }
    return await report(p, ctx, { model: model.name, data: data.name, loss: p.loss, lossValue: op.loss, parameters: op.n, unusedKeys: loaded.unused }, parts);
  } finally {
    loaded?.theta.dispose();
    obj.dispose?.();
    torch.dispose(sd.tensors, data.X, data.y, data.Xtest, data.ytest);
  }
}

async function report(p: HessianParams, ctx: RunContext, head: Record<string, unknown>, parts: { layer: string; report: SpectrumReport }[]) {
  const rows: Record<string, number | string | null>[] = [];
  const layers = parts.map(({ layer, report: r }) => {
    r.topEigenvalues.forEach((v, i) => ctx.metrics.log({ layer, rank: i + 1, eigenvalue: v, residual: r.eigResiduals[i]! }, 'eigenvalues'));
    let density: { grid: number[]; density: number[]; sigma2: number } | null = null;
    if (r.density) {
      density = densityGrid(r.density, { bins: p.bins, sigmaSquared: p.sigmaSquared });
      density.grid.forEach((x, i) => {
        ctx.metrics.log({ layer, eigenvalue: x, density: density!.density[i]! }, 'density');
        // PyHessian plots density + 1e-7 on a log axis: the floor keeps the curve where the Gaussians underflow
        rows.push({ layer, eigenvalue: x, density: density!.density[i]! + 1e-7 });
      });
    }
    return {
      layer, parameters: r.n, topEigenvalues: r.topEigenvalues, trace: r.trace,
      density: r.density && { runs: r.density, sigma2: density!.sigma2 },
    };
  });
  if (rows.length) {
    await ctx.plot('density', curvesSpec(rows, {
      x: 'eigenvalue', y: 'density', color: parts.length > 1 ? 'layer' : undefined, logY: true,
      xTitle: 'eigenvalue', yTitle: 'density (log scale, +1e-7)', colorTitle: 'parameter tensor',
      title: `Hessian spectral density (SLQ, ${p.slqRuns} run${p.slqRuns > 1 ? 's' : ''} of ${p.slqIter} Lanczos steps): ${head.model as string} on ${head.data as string}`,
    }));
  }
  const summary = { ...head, layers };
  ctx.writeJson('hessian.json', summary);
  const all = layers[0]!;
  ctx.log(`top eigenvalues ${all.topEigenvalues.map((v) => v.toPrecision(6)).join(', ')}${all.trace ? `; trace ${all.trace.value.toPrecision(6)} ± ${all.trace.stderr.toPrecision(2)}` : ''}`);
  return { ...head, topEigenvalues: all.topEigenvalues, trace: all.trace?.value ?? null, layers: layers.length };
}
