// fit y = a·x + b by SGD on libtorch: the whole path (registry → run store → engine → metrics,
// checkpoints, plots, resume) in a few seconds.
import type { RunContext } from '../../core/context.ts';
import * as torch from '../../core/torch/index.ts';
import { lineChart, metricTitle, xTitle, declaredMetric } from '../../core/plots.ts';
import { fitLine as fitLineCommand, type FitLineParams } from './commands.ts';

export async function fitLine(p: FitLineParams, ctx: RunContext) {
  const xs = ctx.rng.uniforms(p.points, -1, 1);
  const ys = xs.map((x) => p.a * x + p.b + p.noise * ctx.rng.normal());
  const x = torch.tensor(xs, { dtype: p.dtype, shape: [p.points, 1] });
  const y = torch.tensor(ys, { dtype: p.dtype, shape: [p.points, 1] });
  const model = new torch.nn.Linear(1, 1, true, { dtype: p.dtype });
  const opt = new torch.optim.SGD(model.parameters(), { lr: p.lr });
  let start = 0;
  const last = ctx.resuming ? ctx.checkpoints.latest() : null;
  if (last) {
    model.loadStateDict(last.tensors);
    torch.dispose(last.tensors);
    start = Number(last.state.epoch);
    ctx.log(`resuming from epoch ${start}`);
  }
  const bar = ctx.progress(p.epochs, 'fit-line');
  bar.update(start);
  let loss = NaN;
  for (let e = start; e < p.epochs; e++) {
    if (ctx.signal.aborted) { ctx.checkpoints.save('last', model.stateDict(), { epoch: e }); ctx.throwIfAborted(); }
    loss = torch.scope(() => {
      opt.zeroGrad();
      const l = torch.F.mseLoss(model.forward(x), y);
      torch.assertFinite(l);
      l.backward();
      opt.step();
      return l.item();
    });
    ctx.metrics.log({ epoch: e + 1, loss });
    bar.tick();
    if ((e + 1) % p.checkpointEvery === 0) ctx.checkpoints.save('last', model.stateDict(), { epoch: e + 1 });
    if (e % 20 === 0) await new Promise((r) => setImmediate(r)); // let signals and the server breathe
  }
  bar.done();
  if (p.epochs > start) {
    const loss = declaredMetric(fitLineCommand.metrics, 'loss');
    await ctx.plot('loss', lineChart(ctx.metrics.rows(), { x: 'epoch', y: 'loss', title: 'fit-line: training loss', logY: true, xTitle: xTitle(loss.x), yTitle: metricTitle(loss) }));
  }
  const a = model.weight.item(), b = model.bias!.item();
  model.dispose(); x.dispose(); y.dispose();
  return { a, b, loss, trueA: p.a, trueB: p.b };
}
