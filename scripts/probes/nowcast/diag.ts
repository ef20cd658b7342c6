// Probe (one-off, not maintained): diagnostic for ablation configs at S scale. Per seed, builds the
// benchmark once, trains each variant and prints core/transfer mIoU, mean |P_t − P_t+1|, the predicted vs true rain fraction
// on core test, the references, and timings.
// Usage: node --import tsx scripts/probes/nowcast/diag.ts '{"seeds":[0],"variants":[{"model":"unet3d","lr":5e-3}]}'
// Variant keys: model, lr, steps, batchSize, depth, startFilters, dropout, weightDecay, clipValue,
// augment, smooth, loss (partial LossOptions), tta, tau, recalibrateBn, evalEvery, name, and
// directions: true, which also scores core test rotated/reflected by every transform (input, target
// and mask alike): how much a model relies on the core regions' east-north-east motion.
import * as torch from '../../../src/core/torch/index.ts';
import { ablateDefaults } from '../../../src/modules/nowcast/ablation.ts';
import { buildBench } from '../../../src/modules/nowcast/samples.ts';
import { MemoryDataset, train, DEFAULT_TRAIN, type TrainOptions } from '../../../src/modules/nowcast/train.ts';
import { evaluate, tuneClimatology, scoreConstant, predictProba } from '../../../src/modules/nowcast/evaluate.ts';
import { DEFAULT_LOSS } from '../../../src/modules/nowcast/losses.ts';
import { ttaTransforms, applyTransform, TRANSFORMS } from '../../../src/modules/nowcast/recipe.ts';

const a = JSON.parse(process.argv[2] ?? '{}');
const d = ablateDefaults(a.mode ?? 'full');
const seeds: number[] = a.seeds ?? [0];
const bench0 = { ...d.bench, ...(a.bench ?? {}) };
const variants: Record<string, any>[] = a.variants ?? [{}];
for (const seed of seeds) {
  const t0 = Date.now();
  const bench = buildBench({ ...bench0, seed });
  const tb = (Date.now() - t0) / 1000;
  const ones = torch.ones([1, bench.geometry.cropSize * 6, bench.geometry.cropSize * 6]);
  const allRain = scoreConstant(bench.coreTest, ones).mIoU();
  const clim = tuneClimatology(bench.train);
  const climCore = scoreConstant(bench.coreTest, clim.mask).mIoU();
  const trueFrac = bench.coreTest.reduce((s, x) => s + x.y.mean().item(), 0) / bench.coreTest.length;
  console.log(JSON.stringify({
    seed, allRain: +allRain.toFixed(4), clim: +climCore.toFixed(4), climFrac: clim.frac, trueFrac: +trueFrac.toFixed(3), benchS: tb,
  }));
  const trainSet = new MemoryDataset(bench.train), valSet = new MemoryDataset(bench.val);
  for (const v of variants) {
    const steps = v.steps ?? d.steps;
    const opts: TrainOptions = {
      ...DEFAULT_TRAIN,
      model: { model: v.model ?? 'sianet', geometry: bench.geometry, inChannels: bench.channels.length, startFilters: v.startFilters ?? d.startFilters, depth: v.depth ?? d.depth, dropout: v.dropout ?? d.dropout, strHidden: d.strHidden },
      steps, batchSize: v.batchSize ?? d.batchSize, lr: v.lr ?? d.lr, augment: v.augment ?? 'none',
      weightDecay: v.weightDecay ?? DEFAULT_TRAIN.weightDecay, clipValue: v.clipValue ?? DEFAULT_TRAIN.clipValue,
      evalEvery: v.evalEvery ?? Math.max(10, Math.floor(steps / 5)), checkpointEvery: 0, seed: seed * 7 + 1, recalibrateBn: v.recalibrateBn ?? d.recalibrateBn,
      loss: { ...DEFAULT_LOSS, smooth: v.smooth ?? 'none', ...(v.loss ?? {}) },
    };
    const t1 = Date.now();
    let r;
    try { r = train(opts, trainSet, valSet); } catch (e) { console.log(JSON.stringify({ seed, name: v.name, error: String(e).slice(0, 200) })); continue; }
    const tt = (Date.now() - t1) / 1000;
    const t2 = Date.now();
    const ev = (sets: typeof bench.coreTest) => evaluate(r.model, sets, { transforms: ttaTransforms(v.tta ?? 'none'), tau: v.tau ?? 0.5 });
    const core = ev(bench.coreTest), tr = ev(bench.transferTest);
    const te = (Date.now() - t2) / 1000;
    let extra = {};
    if (v.ttaExtra) {
      const ev2 = (sets: typeof bench.coreTest) => evaluate(r.model, sets, { transforms: ttaTransforms(v.ttaExtra), tau: v.tau ?? 0.5 });
      const c2 = ev2(bench.coreTest), t2x = ev2(bench.transferTest);
      extra = { [`core_${v.ttaExtra}`]: +c2.scores.mIoU().toFixed(4), [`transfer_${v.ttaExtra}`]: +t2x.scores.mIoU().toFixed(4) };
    }
    if (v.directions) {
      const byT: Record<string, number> = {};
      for (const t of TRANSFORMS) {
        const sets = bench.coreTest.map((s) => ({ ...s, x: applyTransform(s.x, t), y: applyTransform(s.y, t), mask: applyTransform(s.mask, t) }));
        byT[t] = +evaluate(r.model, sets, { tau: v.tau ?? 0.5 }).scores.mIoU().toFixed(4);
        for (const s of sets) torch.dispose(s.x, s.y, s.mask);
      }
      extra = { ...extra, coreByTransform: byT };
    }
    let pf = 0, n = 0;
    for (const s of bench.coreTest) torch.scope(() => { pf += predictProba(r.model, s.x, { transforms: ['id'], average: 'prob' }).ge(0.5).to('float32').mean().item(); n++; });
    const l = r.losses, q = Math.max(1, Math.floor(l.length / 10));
    const avg = (xs: number[]) => +(xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length)).toFixed(3);
    console.log(JSON.stringify({
      seed, name: v.name ?? JSON.stringify(v), core: +core.scores.mIoU().toFixed(4), transfer: +tr.scores.mIoU().toFixed(4),
      dP: +core.temporalChange.toFixed(4), ...extra, predFrac: +(pf / n).toFixed(3),
      lossFirst: avg(l.slice(0, q)), lossLast: avg(l.slice(-q)), val: r.valLosses.map((x) => +x.toFixed(3)), lrEnd: r.lr,
      lead: core.scores.leadTimeIoU().map((x) => +x.toFixed(3)), trainS: tt, evalS: te, sPerStep: +(tt / steps).toFixed(3),
    }));
    r.model.dispose();
  }
  clim.mask.dispose(); ones.dispose(); bench.dispose();
}
