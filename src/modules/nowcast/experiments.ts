// nowcast — the run bodies of the commands (schemas in commands.ts). Each reads its parameters,
// calls into the module (samples/train/evaluate/io/ablation) and writes its JSON, tables and figures.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import type { DescribeParams, SynthParams, TrainParams, EvalParams, PredictParams, AblateParams } from './commands.ts';
import { GEOMETRIES, type GeometryName, cropRange, outSize } from './geometry.ts';
import { CHANNELS, CORE_REGIONS, TRANSFER_REGIONS, writeSubmission, zipSubmission, type ChannelName } from './data.ts';
import { parameterCounts, type BuildOptions, type ParameterParts, type NowcastModel } from './model.ts';
import { readInitWeights, applyInit, type InitReport } from './init.ts';
import { DEFAULT_LOSS } from './losses.ts';
import { ttaTransforms } from './recipe.ts';
import { train, MemoryDataset, DEFAULT_TRAIN, type Dataset } from './train.ts';
import { evaluate, predictProba } from './evaluate.ts';
import { FileDataset, loadEvalSets, loadModel, saveModel, regionsIn } from './io.ts';
import { defaultSynthConfig, synthPlan, generateTimeline, cellSeed } from './synth.ts';
import { writeSynthetic, estimateStats, buildBench, type SampleSet } from './samples.ts';
import { runAblation, ablateDefaults, acceptance, type AblationResult } from './ablation.ts';
import { regionYearTable, leadTimeChart, policyArrowChart, lossChart, writeFrames } from './plots.ts';
import { FOUR_CHANNELS, TRAIN_BENCH, CHALLENGES } from './config.ts';

/** Paper B Table 4 parameter counts, which our counts match with "init filter size" = 2 × start width. */
const PAPER_PARAMS = [{ model: 'U-Net3D', init: 32, params: '5.7M' }, { model: 'SIANet', init: 32, params: '4.6M' }, { model: 'U-Net3D', init: 64, params: '22.6M' }, { model: 'SIANet', init: 64, params: '17.9M' }];

const fmt = (n: number) => n.toLocaleString('en');
/** "encoder …, decoder …, head …[, STR … (attention …, refiner …)]" */
function partsLine(p: ParameterParts): string {
  const str = p.strAttention !== undefined && p.strRefiner !== undefined ? `, STR ${fmt(p.strAttention + p.strRefiner)} (attention ${fmt(p.strAttention)}, refiner ${fmt(p.strRefiner)})` : '';
  return `encoder ${fmt(p.encoder)}, decoder ${fmt(p.decoder)}, head ${fmt(p.head)}${str}`;
}

export async function runDescribe(p: DescribeParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const counts = parameterCounts(p.widths, { inChannels: p.inChannels, tOut: p.tOut });
  for (const c of counts) {
    ctx.log(`f=${c.startFilters}: U-Net3D ${fmt(c.unet3d)}  SIANet ${fmt(c.sianet)}  SIANet-LCAM ${fmt(c.sianetLcam)}`);
    ctx.log(`  U-Net3D      ${partsLine(c.parts.unet3d)}`);
    ctx.log(`  SIANet       ${partsLine(c.parts.sianet)}`);
    ctx.log(`  SIANet-LCAM  ${partsLine(c.parts.sianetLcam)}`);
  }
  const summary = {
    geometries: Object.fromEntries(Object.entries(GEOMETRIES).map(([k, g]) => [k, { ...g, cropRows: cropRange(g), outSize: outSize(g) }])),
    channels: CHANNELS, coreRegions: CORE_REGIONS, transferRegions: TRANSFER_REGIONS, parameterCounts: counts, paperTable4: PAPER_PARAMS,
    note: 'Counts include conv biases and BatchNorm affine parameters; parts: U-Net encoder and decoder, time head, SIANet\'s STR (attention and refiner). Paper B\'s "init filter size" 32/64 matches start width 16/32 here.',
  };
  ctx.writeJson('describe.json', summary);
  return summary;
}

export async function runSynth(p: SynthParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const root = p.root ?? ctx.path('w4c');
  const g = GEOMETRIES[p.geometry];
  const cfg = defaultSynthConfig(g, { trainDays: p.trainDays, slotsPerDay: p.slotsPerDay, valSeqs: p.valSeqs, testSeqs: p.testSeqs });
  const plan = synthPlan({ coreRegions: p.coreRegions, transferRegions: p.transferRegions });
  const bar = ctx.progress(plan.cells.length, 'synth cells');
  const res = await writeSynthetic(root, cfg, ctx.seed, plan, () => bar.tick());
  bar.done();
  // channel statistics on the core training split (the synthetic replacement of the organisers' table)
  const core = plan.cells.filter((c) => c.set === 'core').slice(0, 4).map((c) => generateTimeline(cfg, c.region, c.year, cellSeed(ctx.seed, c.region.name, c.year.year)));
  fs.writeFileSync(path.join(root, 'synth_stats.json'), JSON.stringify(estimateStats(core, g), null, 1));
  const cells = plan.cells.map((c) => ({ region: c.region.name, year: c.year.year, set: c.set, dirDeg: c.region.dirDeg + c.year.rotDeg }));
  const summary = { root, geometry: p.geometry, files: res.files.length, cells };
  ctx.writeJson('synth.json', summary);
  ctx.log(`wrote ${res.files.length} files under ${root}`);
  return summary;
}

interface TrainingData { train: Dataset; val: Dataset | null; evalSets: SampleSet[]; regions: string[]; close(): void }

/** The W4C files under p.data (train, val and up to 4 validation sequences per cell to score), or the in-memory synthetic benchmark. */
async function trainingData(p: TrainParams, ctx: RunContext, geometry: GeometryName): Promise<TrainingData> {
  const g = GEOMETRIES[geometry];
  if (p.data !== undefined) {
    const root = p.data;
    const regions = p.regions ?? CORE_REGIONS.filter((r) => fs.existsSync(path.join(root, String(p.years[0]), 'HRIT', `${r}.train.reflbt0.ns.h5`)));
    if (!regions.length) throw new Error(`${root}: no training files found for years [${p.years}] (expected <root>/<year>/HRIT/<region>.train.reflbt0.ns.h5)`);
    const src = { root, regions, years: p.years, channels: p.channels as ChannelName[], geometry: g };
    const tr = await FileDataset.open(src, 'train');
    const va = await FileDataset.open(src, 'val');
    const evalSets = await loadEvalSets(src, 'val', 4);
    const close = () => { tr.close(); va.close(); for (const s of evalSets) torch.dispose(s.x, s.y, s.mask); };
    return { train: tr, val: va.length ? va : null, evalSets, regions, close };
  }
  const bench = buildBench({ geometry, ...TRAIN_BENCH, seed: ctx.seed });
  return {
    train: new MemoryDataset(bench.train), val: new MemoryDataset(bench.val), evalSets: bench.coreTest, regions: bench.coreCells, close: () => bench.dispose(),
  };
}

/** `--init`: the weights read now, loaded into the model when train() builds it (a record of what was loaded for summary.json). */
function initFrom(file: string, strict: boolean, ctx: RunContext) {
  const w = readInitWeights(file);
  type InitRecord = { file: string; kind: string; sha256: string; strict: boolean } & Partial<InitReport>;
  const record: InitRecord = { file: path.resolve(w.file), kind: w.kind, sha256: w.sha256, strict };
  const hook = (m: NowcastModel) => {
    const r = applyInit(m, w, strict);
    Object.assign(record, r);
    const skipped = strict ? '' : `, ${r.missing.length} missing, ${r.unexpected.length} unexpected, ${r.mismatched.length} misshapen (kept fresh)`;
    ctx.log(`initialised from ${record.file} (${w.kind}): ${r.loaded} tensors loaded${skipped}`);
  };
  return { hook, record, dispose: () => torch.dispose(w.tensors) };
}

/**
 * The evaluation sample whose target is closest to half rain (max over samples of min(wet, dry)): the
 * frames then show a forecast with both classes, not an empty or a fully raining field.
 */
function informativeSample(sets: SampleSet[]): { set: SampleSet; i: number } | null {
  let best: { set: SampleSet; i: number } | null = null, score = -1;
  for (const set of sets) {
    const wet = torch.noGrad(() => torch.scope(() => set.y.flatten(1).to('float32').mean(1).toArray()));
    wet.forEach((v, i) => { if (Math.min(v, 1 - v) > score) { score = Math.min(v, 1 - v); best = { set, i }; } });
  }
  return best;
}

export async function runTrain(p: TrainParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const g = GEOMETRIES[p.geometry];
  if (p.model === 'unet3d' && outSize(g) !== g.inSize) throw new Error(`the 3D U-Net baseline maps the input grid onto the target grid, which needs cropSize·scale = inSize (geometry ${p.geometry})`);
  const init = p.init !== undefined ? initFrom(p.init, p.initStrict, ctx) : null;
  let data: TrainingData | null = null;
  try {
    data = await trainingData(p, ctx, p.geometry);
    const build: BuildOptions = {
      model: p.model, geometry: g, inChannels: p.channels.length, startFilters: p.startFilters, depth: p.depth, dropout: p.dropout,
      blockType: p.blockType, strHidden: p.strHidden,
    };
    const res = train({
      ...DEFAULT_TRAIN, model: build, ...(init ? { init: init.hook } : {}),
      steps: p.steps, batchSize: p.batchSize, lr: p.lr, weightDecay: p.weightDecay, clipValue: p.clipValue,
      augment: p.augment, evalEvery: p.evalEvery, checkpointEvery: p.checkpointEvery, recalibrateBn: p.recalibrateBn, seed: ctx.seed, precision: p.precision,
      loss: { ...DEFAULT_LOSS, posWeight: p.posWeight, alpha: p.alpha, smooth: p.smooth, betaSpatial: p.betaSpatial, betaTemporal: p.betaTemporal },
    }, data.train, data.val, ctx, 'model');
    const modelFile = ctx.path('model.safetensors');
    const initFile = init ? { init: { file: init.record.file, sha256: init.record.sha256 } } : {};
    saveModel(modelFile, res.model, build, { channels: p.channels, steps: p.steps, ...initFile });
    const ev = evaluate(res.model, data.evalSets, { tau: p.tau });
    const rows = ctx.metrics.rows('train');
    if (rows.length > 1) await ctx.plot('loss', lossChart(rows));
    const s0 = informativeSample(data.evalSets);
    if (s0) {
      const prob = predictProba(res.model, s0.set.x.narrow(0, s0.i, 1), { transforms: ['id'], average: 'prob' });
      const ir = Math.max(0, p.channels.indexOf('IR_108'));
      await writeFrames(path.join(ctx.dir, 'frames'), g, s0.set.x.select(0, s0.i), s0.set.y.select(0, s0.i).select(0, 0), prob.select(0, 0).select(0, 0), p.tau, ir);
      prob.dispose();
    }
    const summary = {
      init: init?.record ?? null, model: modelFile, steps: res.steps, resumedFrom: res.resumedFrom, finalLoss: res.losses.at(-1) ?? null, lr: res.lr,
      params: res.model.numParameters(), evalMIoU: ev.scores.mIoU(), perCell: ev.scores.perCell(), leadTimeIoU: ev.scores.leadTimeIoU(), frames: s0 ? ctx.path('frames.png') : null, framesSample: s0 ? `${s0.set.cell} #${s0.i}` : null,
    };
    ctx.writeJson('summary.json', summary);
    res.model.dispose();
    return summary;
  } finally {
    init?.dispose();
    data?.close();
  }
}

/** Evaluation sets of one year, scored; the cells' IoU and the lead-time curve. */
function evaluateYear(p: EvalParams, model: ReturnType<typeof loadModel>['model'], sets: SampleSet[]) {
  const withTruth = sets.filter((s) => (s as { hasTruth?: boolean }).hasTruth !== false);
  const ev = evaluate(model, withTruth, { transforms: ttaTransforms(p.tta), average: p.average, tau: p.tau, maskMode: p.maskMode });
  return { perCell: ev.scores.perCell(), leadTime: ev.scores.leadTimeIoU() };
}

export async function runEval(p: EvalParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const { model, build, extra } = loadModel(p.model);
  const channels = (extra.channels as ChannelName[] | undefined) ?? FOUR_CHANNELS;
  const curves: Record<string, number[]> = {};
  try {
    let allCells: Record<string, { iou: number }> = {};
    const bar = ctx.progress(p.years.length, 'eval years');
    for (const year of p.years) {
      bar.tick();
      ctx.throwIfAborted();
      const regions = p.regions ?? regionsIn(p.data, [year], p.split);
      if (!regions.length) continue;
      const sets = await loadEvalSets({ root: p.data, regions, years: [year], channels, geometry: build.geometry }, p.split);
      const r = evaluateYear(p, model, sets);
      allCells = { ...allCells, ...r.perCell };
      curves[String(year)] = r.leadTime;
      for (const s of sets) torch.dispose(s.x, s.y, s.mask);
    }
    bar.done();
    const ious = Object.values(allCells).map((c) => c.iou);
    const out = {
      mIoU: ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : 0, cells: Object.keys(allCells).length,
      perCell: allCells, leadTimeIoU: curves, tta: p.tta, tau: p.tau, average: p.average,
    };
    ctx.writeJson('eval.json', out);
    await ctx.plot('region_year_iou', regionYearTable(allCells));
    await ctx.plot('lead_time', leadTimeChart(curves));
    ctx.log(`mIoU ${out.mIoU.toFixed(4)} over ${out.cells} cells`);
    return out;
  } finally {
    model.dispose();
  }
}

/** The (year, regions) cells to predict: a challenge's (config.ts CHALLENGES), or --years with --regions or every region with files of the split. */
export function predictCells(p: Pick<PredictParams, 'challenge' | 'years' | 'regions' | 'data' | 'split'>): readonly { year: number; regions: readonly string[] }[] {
  if (p.challenge) return CHALLENGES[p.challenge];
  return p.years.map((year) => ({ year, regions: p.regions ?? regionsIn(p.data, [year], p.split) }));
}

export async function runPredict(p: PredictParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const { model, build, extra } = loadModel(p.model);
  const channels = (extra.channels as ChannelName[] | undefined) ?? FOUR_CHANNELS;
  const dir = ctx.path('submission');
  const files: string[] = [];
  const eo = { transforms: ttaTransforms(p.tta), average: p.average };
  try {
    for (const { year, regions } of predictCells(p)) {
      for (const region of regions) {
        ctx.throwIfAborted();
        const sets = await loadEvalSets({ root: p.data, regions: [region], years: [year], channels, geometry: build.geometry }, p.split);
        const s = sets[0]!;
        const pred = torch.scope(() => {
          const ps: torch.Tensor[] = [];
          for (let i = 0; i < s.x.shape[0]!; i += 8) ps.push(predictProba(model, s.x.narrow(0, i, Math.min(8, s.x.shape[0]! - i)), eo).ge(p.tau).to('float32'));
          return torch.cat(ps, 0);
        });
        files.push(await writeSubmission(dir, year, region, pred, { gzip: p.gzip }));
        torch.dispose(pred, s.x, s.y, s.mask);
      }
    }
    const zip = ctx.path('submission.zip');
    const entries = zipSubmission(dir, zip);
    const summary = { zip, dir, entries, challenge: p.challenge ?? null, tta: p.tta, average: p.average, tau: p.tau };
    ctx.writeJson('predict.json', summary);
    return summary;
  } finally {
    model.dispose();
  }
}

/** The ablation's options: the mode's preset (config.ts ABLATE) with the parameters given. */
export function ablateOptions(p: AblateParams) {
  const o = ablateDefaults(p.mode);
  if (p.smooth !== undefined) o.smooth = p.smooth;
  if (p.beta !== undefined) o.beta = p.beta;
  if (p.tau !== undefined) o.tau = p.tau;
  if (p.steps !== undefined) { // the baseline keeps its ratio of steps to SIANet's
    if (o.baselineSteps !== undefined) o.baselineSteps = Math.max(1, Math.round((o.baselineSteps * p.steps) / o.steps));
    o.steps = p.steps;
  }
  if (p.seeds !== undefined) o.seeds = Array.from({ length: p.seeds }, (_, i) => i);
  if (p.geometry !== undefined) o.bench.geometry = p.geometry;
  if (p.configs !== undefined) o.configs = p.configs;
  return o;
}

/** ablation.md: paper A's table layout with the core and transfer mIoU and the smoothness statistic. */
function ablationMarkdown(r: AblationResult): string {
  const lines = ['| configuration | core mIoU ×100 | transfer mIoU ×100 | mean abs(P_t − P_t+1) |', '|---|---|---|---|'];
  for (const t of r.table) lines.push(`| ${t.config} | ${(100 * t.coreMIoU).toFixed(1)} | ${(100 * t.transferMIoU).toFixed(1)} | ${t.temporalChange.toFixed(4)} |`);
  return lines.join('\n') + '\n';
}

export async function runAblate(p: AblateParams, ctx: RunContext): Promise<Record<string, unknown>> {
  const o = ablateOptions(p);
  const r = runAblation(o, ctx);
  const acc = acceptance(r);
  const summary = { mode: p.mode, options: o, table: r.table, references: r.references, acceptance: acc, seconds: r.seconds, rows: r.rows };
  ctx.writeJson('ablation.json', summary);
  ctx.writeText('ablation.md', ablationMarkdown(r));
  await ctx.plot('lead_time', leadTimeChart(Object.fromEntries(r.table.map((t) => [t.config, t.leadTime]))));
  const lastSeed = r.rows.filter((x) => x.seed === o.seeds[o.seeds.length - 1] && x.config === '+ STL + AP + GAE')[0];
  if (lastSeed) await ctx.plot('region_year_iou', regionYearTable(Object.fromEntries(Object.entries(lastSeed.perCell).map(([k, v]) => [k, { iou: v }])), '+ STL + AP + GAE: IoU per region-year'));
  await ctx.plot('policy_arrows', policyArrowChart());
  for (const [k, v] of Object.entries(acc)) ctx.log(`${v.pass ? 'PASS' : 'FAIL'} ${k}: ${v.detail}`);
  return summary;
}
