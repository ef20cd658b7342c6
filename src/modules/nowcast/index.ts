// nowcast: SIANet rain nowcasting and the shift-robust training recipe (Weather4cast 2022).
// Registers the CLI commands and exports the typed public API.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import * as torch from '../../core/torch/index.ts';
import { registerModule, defineCommand } from '../../core/registry.ts';
import type { RunContext } from '../../core/context.ts';
import { GEOMETRIES, type Geometry, cropRange, outSize } from './geometry.ts';
import { CHANNELS, CORE_REGIONS, TRANSFER_REGIONS, writeSubmission, zipSubmission, type ChannelName } from './data.ts';
import { buildModel, parameterCounts, type BuildOptions, type ModelName } from './model.ts';
import { DEFAULT_LOSS } from './losses.ts';
import { ttaTransforms, type TtaPreset } from './recipe.ts';
import { train, MemoryDataset, DEFAULT_TRAIN, type Dataset } from './train.ts';
import { evaluate, predictProba } from './evaluate.ts';
import { FileDataset, loadEvalSets, loadModel, saveModel } from './io.ts';
import { defaultSynthConfig, synthPlan, writeSynthetic, generateTimeline, cellSeed, estimateStats } from './synth.ts';
import { runAblation, ablateDefaults, acceptance, buildBench, FOUR_CHANNELS, ABLATION } from './experiments.ts';
import { regionYearTable, leadTimeChart, policyArrowChart, writeFrames } from './plots.ts';

export * from './geometry.ts';
export * from './data.ts';
export * from './model.ts';
export * from './losses.ts';
export * from './metrics.ts';
export * from './recipe.ts';
export * from './train.ts';
export * from './evaluate.ts';
export * from './io.ts';
export * from './synth.ts';
export * from './experiments.ts';
export * from './plots.ts';

const geometryParam = z.enum(['tiny', 's', 'full']).default('tiny').describe('geometry: tiny (24² in, 4² block, 4→4 slots), s (48², 8², 4→8) or full (252², 42², 4→32)');
const channelsParam = z.array(z.enum(CHANNELS)).default(FOUR_CHANNELS).describe('input channels (names of §2.1; 4 allowed at CPU scale)');

/** Paper B Table 4 parameter counts, which our counts match with "init filter size" = 2 × start width. */
const PAPER_PARAMS = [{ model: 'U-Net3D', init: 32, params: '5.7M' }, { model: 'SIANet', init: 32, params: '4.6M' }, { model: 'U-Net3D', init: 64, params: '22.6M' }, { model: 'SIANet', init: 64, params: '17.9M' }];

const describeCmd = defineCommand({
  name: 'describe',
  description: 'Geometry, channels and exact parameter counts of both models for start widths 8/16/32/64',
  params: z.object({
    widths: z.array(z.number().int().min(1).max(128)).default([8, 16, 32, 64]).describe('start widths f to count'),
    inChannels: z.number().int().min(1).max(11).default(11).describe('input channels'),
    tOut: z.number().int().min(1).max(32).default(32).describe('output slots'),
  }),
  run: (p, ctx) => {
    const counts = parameterCounts(p.widths, { inChannels: p.inChannels, tOut: p.tOut });
    for (const c of counts) ctx.log(`f=${c.startFilters}: U-Net3D ${c.unet3d.toLocaleString('en')}  SIANet ${c.sianet.toLocaleString('en')}  SIANet-LCAM ${c.sianetLcam.toLocaleString('en')}`);
    const summary = {
      geometries: Object.fromEntries(Object.entries(GEOMETRIES).map(([k, g]) => [k, { ...g, cropRows: cropRange(g), outSize: outSize(g) }])),
      channels: CHANNELS, coreRegions: CORE_REGIONS, transferRegions: TRANSFER_REGIONS, parameterCounts: counts, paperTable4: PAPER_PARAMS,
      note: 'Counts include conv biases and BatchNorm affine parameters. Paper B\'s "init filter size" 32/64 matches start width 16/32 here.',
    };
    ctx.writeJson('describe.json', summary);
    return summary;
  },
});

/** A region name is one path component of the W4C layout (<root>/<year>/<region>.*.h5): a plain name. */
const regionName = z.string().regex(/^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/, 'a region name (letters, digits, _ . -)');

const synthCmd = defineCommand({
  name: 'synth',
  description: 'Write the seeded synthetic advecting-rain data set in the exact W4C22 HDF5 layout (§8.2)',
  params: z.object({
    root: z.string().default('').describe('output root (default: <run>/w4c)').meta({ path: 'output' }),
    geometry: geometryParam,
    trainDays: z.number().int().min(1).max(400).default(1).describe('training days per region-year'),
    slotsPerDay: z.number().int().min(8).max(96).default(96).describe('synthetic diurnal period in slots'),
    valSeqs: z.number().int().min(1).max(60).default(2).describe('validation sequences per region-year'),
    testSeqs: z.number().int().min(1).max(60).default(4).describe('test sequences per region-year'),
    coreRegions: z.number().int().min(1).max(7).default(2).describe('core regions (of 7)'),
    transferRegions: z.number().int().min(0).max(3).default(1).describe('transfer regions (of 3)'),
  }),
  run: async (p, ctx) => {
    const root = p.root || ctx.path('w4c');
    const g = GEOMETRIES[p.geometry];
    const cfg = defaultSynthConfig(g, { trainDays: p.trainDays, slotsPerDay: p.slotsPerDay, valSeqs: p.valSeqs, testSeqs: p.testSeqs });
    const plan = synthPlan({ coreRegions: p.coreRegions, transferRegions: p.transferRegions });
    const bar = ctx.progress(plan.cells.length, 'synth cells');
    const res = await writeSynthetic(root, cfg, ctx.seed, plan, () => bar.tick());
    bar.done();
    // channel statistics on the core training split (the synthetic replacement of §2.3's table)
    const core = plan.cells.filter((c) => c.set === 'core').slice(0, 4).map((c) => generateTimeline(cfg, c.region, c.year, cellSeed(ctx.seed, c.region.name, c.year.year)));
    fs.writeFileSync(path.join(root, 'synth_stats.json'), JSON.stringify(estimateStats(core, g), null, 1));
    const summary = { root, geometry: p.geometry, files: res.files.length, cells: plan.cells.map((c) => ({ region: c.region.name, year: c.year.year, set: c.set, dirDeg: c.region.dirDeg + c.year.rotDeg })) };
    ctx.writeJson('synth.json', summary);
    ctx.log(`wrote ${res.files.length} files under ${root}`);
    return summary;
  },
});

const trainParams = z.object({
  data: z.string().default('').describe('W4C root (HDF5 layout); empty = synthetic data generated in memory').meta({ path: 'input' }),
  regions: z.array(regionName).default([]).describe('regions to train on (default: the core regions present / generated)'),
  years: z.array(z.number().int()).default([2019, 2020]).describe('years to train on'),
  geometry: geometryParam,
  channels: channelsParam,
  model: z.enum(['sianet', 'unet3d']).default('sianet').describe('architecture'),
  blockType: z.enum(['factorized', 'lcam']).default('factorized').describe('SIANet block: released factorised block or paper B\'s LCAM'),
  startFilters: z.number().int().min(1).max(64).default(4).describe('U-Net start width f'),
  depth: z.number().int().min(2).max(5).default(3).describe('U-Net levels (5 in the papers)'),
  strHidden: z.number().int().min(2).max(64).default(8).describe('STR hidden width (64 in the paper)'),
  dropout: z.number().min(0).max(0.9).default(0.1).describe('dropout (0.4 in the papers)'),
  steps: z.number().int().min(1).max(1_000_000).default(40).describe('optimiser steps'),
  batchSize: z.number().int().min(1).max(64).default(4).describe('batch size'),
  lr: z.number().positive().default(1e-2).describe('AdamW learning rate (1e-4 in the papers at full scale)'),
  weightDecay: z.number().min(0).default(0.1).describe('AdamW weight decay'),
  clipValue: z.number().min(0).default(2).describe('gradient clipping by value (0 = off)'),
  augment: z.enum(['none', 'policy', 'inverse', 'random']).default('policy').describe('augmentation: direction-aware policy, its inverse, random geometric, none'),
  smooth: z.enum(['none', 'paper', 'released', 'released-scaled']).default('paper').describe('smoothness loss: paper A eqs. 3–5, released-code variant (literal 1e-6 on the sum, or scaled to its competition per-element weight), none'),
  betaSpatial: z.number().min(0).default(0.1).describe('β_s of paper A eq. 3 (with smooth: paper)'),
  betaTemporal: z.number().min(0).default(0.1).describe('β_t of paper A eq. 3 (with smooth: paper)'),
  posWeight: z.number().positive().default(4).describe('BCE positive weight'),
  alpha: z.number().min(0).default(0.2).describe('deep-supervision weight on y_early'),
  checkpointEvery: z.number().int().min(0).default(20).describe('save a resumable checkpoint every N steps (0 = only at the end)'),
  evalEvery: z.number().int().min(0).default(20).describe('validation loss every N steps (LR ×0.9 on plateau)'),
  tau: z.number().gt(0).lt(1).default(0.5).describe('threshold for the frames and the quick evaluation'),
});

async function trainingData(p: z.infer<typeof trainParams>, ctx: RunContext, g: Geometry): Promise<{ train: Dataset; val: Dataset | null; evalSets: import('./synth.ts').SampleSet[]; close(): void; regions: string[] }> {
  if (p.data) {
    const regions = p.regions.length ? p.regions : CORE_REGIONS.filter((r) => fs.existsSync(path.join(p.data, String(p.years[0]), 'HRIT', `${r}.train.reflbt0.ns.h5`)));
    if (!regions.length) throw new Error(`${p.data}: no training files found for years [${p.years}] (expected <root>/<year>/HRIT/<region>.train.reflbt0.ns.h5)`);
    const src = { root: p.data, regions, years: p.years, channels: p.channels as ChannelName[], geometry: g };
    const tr = await FileDataset.open(src, 'train');
    const va = await FileDataset.open(src, 'val');
    const evalSets = await loadEvalSets(src, 'val', 4);
    return { train: tr, val: va.length ? va : null, evalSets, regions, close: () => { tr.close(); va.close(); for (const s of evalSets) torch.dispose(s.x, s.y, s.mask); } };
  }
  const geoName = (Object.keys(GEOMETRIES) as (keyof typeof GEOMETRIES)[]).find((k) => GEOMETRIES[k] === g)!;
  const bench = buildBench({ geometry: geoName, coreRegions: 2, transferRegions: 1, trainDays: 1, slotsPerDay: 48, testSeqs: 3, trainStride: 2, seed: ctx.seed });
  return { train: new MemoryDataset(bench.train), val: new MemoryDataset(bench.val), evalSets: bench.coreTest, regions: bench.coreCells, close: () => bench.dispose() };
}

const trainCmd = defineCommand({
  name: 'train',
  description: 'Train SIANet or the 3D U-Net with the shift-robust recipe; resumable safetensors checkpoints, frames of predictions',
  params: trainParams,
  resumable: true,
  quick: true,
  run: async (p, ctx) => {
    const g = GEOMETRIES[p.geometry];
    if (p.model === 'unet3d' && outSize(g) !== g.inSize) throw new Error(`the 3D U-Net baseline maps the input grid onto the target grid, which needs cropSize·scale = inSize (geometry ${p.geometry})`);
    const data = await trainingData(p, ctx, g);
    try {
      const build: BuildOptions = { model: p.model as ModelName, geometry: g, inChannels: p.channels.length, startFilters: p.startFilters, depth: p.depth, dropout: p.dropout, blockType: p.blockType, strHidden: p.strHidden };
      const res = train({
        ...DEFAULT_TRAIN, model: build, steps: p.steps, batchSize: p.batchSize, lr: p.lr, weightDecay: p.weightDecay, clipValue: p.clipValue,
        augment: p.augment, evalEvery: p.evalEvery, checkpointEvery: p.checkpointEvery, seed: ctx.seed,
        loss: { ...DEFAULT_LOSS, posWeight: p.posWeight, alpha: p.alpha, smooth: p.smooth, betaSpatial: p.betaSpatial, betaTemporal: p.betaTemporal },
      }, data.train, data.val, ctx, 'model');
      const modelFile = ctx.path('model.safetensors');
      saveModel(modelFile, res.model, build, { channels: p.channels, steps: p.steps });
      const ev = evaluate(res.model, data.evalSets, { tau: p.tau });
      const rows = ctx.metrics.rows('train');
      if (rows.length > 1) await ctx.plot('loss', lossChart(rows));
      const s0 = data.evalSets[0];
      if (s0) {
        const prob = predictProba(res.model, s0.x.narrow(0, 0, 1), { transforms: ['id'], average: 'prob' });
        const ir = Math.max(0, p.channels.indexOf('IR_108'));
        await writeFrames(ctx.path('frames.png'), g, s0.x.select(0, 0), s0.y.select(0, 0).select(0, 0), prob.select(0, 0).select(0, 0), p.tau, ir);
        prob.dispose();
      }
      const summary = {
        model: modelFile, steps: res.steps, resumedFrom: res.resumedFrom, finalLoss: res.losses.at(-1) ?? null, lr: res.lr,
        params: res.model.numParameters(), evalMIoU: ev.scores.mIoU(), perCell: ev.scores.perCell(), leadTimeIoU: ev.scores.leadTimeIoU(), frames: s0 ? ctx.path('frames.png') : null,
      };
      ctx.writeJson('summary.json', summary);
      res.model.dispose();
      return summary;
    } finally {
      data.close();
    }
  },
});

function lossChart(rows: Record<string, unknown>[]): Record<string, unknown> {
  return { title: 'training loss', width: 480, height: 260, data: { values: rows }, mark: 'line', encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { zero: false } } } };
}

const evalParams = z.object({
  model: z.string().describe('model file written by `train` (model.safetensors)').meta({ path: 'input' }),
  data: z.string().describe('W4C root (HDF5 layout)').meta({ path: 'input' }),
  split: z.enum(['val', 'test']).default('val').describe('val (targets in the val files) or test (targets only for synthetic data)'),
  regions: z.array(regionName).default([]).describe('regions (default: every region with files)'),
  years: z.array(z.number().int()).default([2019, 2020]).describe('years'),
  tta: z.enum(['none', 'paper', 'released', 'policy']).default('none').describe('test-time ensemble preset'),
  average: z.enum(['prob', 'logit']).default('prob').describe('average probabilities or logits over the ensemble'),
  tau: z.number().gt(0).lt(1).default(0.5).describe('threshold τ on the (ensemble) probability'),
  maskMode: z.enum(['zero', 'exclude']).default('zero').describe('masked pixels: reference convention (zero) or strict exclusion'),
});

function regionsIn(root: string, years: number[], split: string): string[] {
  const set = new Set<string>();
  for (const y of years) {
    const d = path.join(root, String(y), 'HRIT');
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) { const m = new RegExp(`^(.+)\\.${split}\\.reflbt0\\.ns\\.h5$`).exec(f); if (m) set.add(m[1]!); }
  }
  return [...set].sort();
}

const evalCmd = defineCommand({
  name: 'eval',
  description: 'Per-cell IoU/CSI/F1/precision/recall/accuracy, mIoU and lead-time curve of a trained model (optional TTA)',
  params: evalParams,
  positional: ['model', 'data'],
  run: async (p, ctx) => {
    const { model, build, extra } = loadModel(p.model);
    const channels = (extra.channels as ChannelName[] | undefined) ?? FOUR_CHANNELS;
    const out: Record<string, unknown> = {};
    const perCell: Record<string, unknown> = {};
    const curves: Record<string, number[]> = {};
    try {
      const g = build.geometry;
      let allCells: Record<string, { iou: number }> = {};
      const bar = ctx.progress(p.years.length, 'eval years');
      for (const year of p.years) {
        bar.tick();
        ctx.throwIfAborted();
        const regions = (p.regions.length ? p.regions : regionsIn(p.data, [year], p.split));
        if (!regions.length) continue;
        const sets = await loadEvalSets({ root: p.data, regions, years: [year], channels, geometry: g }, p.split);
        const withTruth = sets.filter((s) => (s as { hasTruth?: boolean }).hasTruth !== false);
        const ev = evaluate(model, withTruth, { transforms: ttaTransforms(p.tta as TtaPreset), average: p.average, tau: p.tau, maskMode: p.maskMode });
        Object.assign(perCell, ev.scores.perCell());
        allCells = { ...allCells, ...ev.scores.perCell() };
        curves[String(year)] = ev.scores.leadTimeIoU();
        for (const s of sets) torch.dispose(s.x, s.y, s.mask);
      }
      bar.done();
      const ious = Object.values(allCells).map((c) => c.iou);
      out.mIoU = ious.length ? ious.reduce((a, b) => a + b, 0) / ious.length : 0;
      out.cells = Object.keys(allCells).length;
      out.perCell = perCell;
      out.leadTimeIoU = curves;
      out.tta = p.tta; out.tau = p.tau; out.average = p.average;
      ctx.writeJson('eval.json', out);
      await ctx.plot('region_year_iou', regionYearTable(allCells));
      await ctx.plot('lead_time', leadTimeChart(curves));
      ctx.log(`mIoU ${(out.mIoU as number).toFixed(4)} over ${out.cells} cells`);
      return out;
    } finally {
      model.dispose();
    }
  },
});

const predictCmd = defineCommand({
  name: 'predict',
  description: 'Write the submission: <year>/<region>.pred.h5 (dataset "submission", float32 0/1) per region-year, zipped',
  params: z.object({
    model: z.string().describe('model file written by `train`').meta({ path: 'input' }),
    data: z.string().describe('W4C root (HDF5 layout)').meta({ path: 'input' }),
    split: z.enum(['test', 'heldout']).default('test').describe('input split'),
    regions: z.array(regionName).default([]).describe('regions (default: every region with files)'),
    years: z.array(z.number().int()).default([2019, 2020]).describe('years'),
    tta: z.enum(['none', 'paper', 'released', 'policy']).default('released').describe('test-time ensemble preset'),
    average: z.enum(['prob', 'logit']).default('logit').describe('average probabilities or logits (the released predictor: logits, τ 0.48)'),
    tau: z.number().gt(0).lt(1).default(0.48).describe('threshold τ'),
  }),
  positional: ['model', 'data'],
  run: async (p, ctx) => {
    const { model, build, extra } = loadModel(p.model);
    const channels = (extra.channels as ChannelName[] | undefined) ?? FOUR_CHANNELS;
    const dir = ctx.path('submission');
    const files: string[] = [];
    try {
      for (const year of p.years) {
        const regions = p.regions.length ? p.regions : regionsIn(p.data, [year], p.split);
        for (const region of regions) {
          ctx.throwIfAborted();
          const sets = await loadEvalSets({ root: p.data, regions: [region], years: [year], channels, geometry: build.geometry }, p.split);
          const s = sets[0]!;
          const pred = torch.scope(() => {
            const ps: torch.Tensor[] = [];
            for (let i = 0; i < s.x.shape[0]!; i += 8) ps.push(predictProba(model, s.x.narrow(0, i, Math.min(8, s.x.shape[0]! - i)), { transforms: ttaTransforms(p.tta as TtaPreset), average: p.average }).ge(p.tau).to('float32'));
            return torch.cat(ps, 0);
          });
          files.push(await writeSubmission(dir, year, region, pred));
          torch.dispose(pred, s.x, s.y, s.mask);
        }
      }
      const zip = ctx.path('submission.zip');
      const entries = zipSubmission(dir, zip);
      const summary = { zip, entries, tta: p.tta, average: p.average, tau: p.tau };
      ctx.writeJson('predict.json', summary);
      return summary;
    } finally {
      model.dispose();
    }
  },
});

const ablateCmd = defineCommand({
  name: 'ablate',
  description: 'Paper A §5.3 ablation on synthetic advecting rain: baseline, SIANet, +STL, +AP, +GAE, random aug, inverse policy',
  params: z.object({
    mode: z.enum(['quick', 'full']).default('quick').describe('quick: 1 seed at CI size; full: 3 seeds at S scale'),
    steps: z.number().int().min(1).default(0).describe('training steps per config (0 = the mode default)'),
    seeds: z.number().int().min(0).max(10).default(0).describe('number of seeds (0 = the mode default)'),
    geometry: z.enum(['default', 'tiny', 's']).default('default').describe('benchmark geometry (default: tiny for quick, s for full)'),
    configs: z.array(z.string()).default([]).describe('configurations to run (default: all rows of the table)'),
    smooth: z.enum(['default', 'paper', 'released', 'released-scaled']).default('default').describe('smoothness loss of the + STL rows (default: paper A eqs. 3–5)'),
    beta: z.number().min(0).default(0.1).describe('β_s = β_t of paper A eqs. 3–5 in the + STL rows (paper: 0.1)'),
    // a number typed on the command line arrives as a string
    tau: z.preprocess((v) => (typeof v === 'string' && v !== 'tuned' && v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v), z.union([z.literal('tuned'), z.number().gt(0).lt(1)]).default(0.5)).describe("threshold τ in (0, 1), or 'tuned': per model, the τ maximising core validation mIoU (paper B's tuned threshold)"),
  }),
  run: async (p, ctx) => {
    const o = ablateDefaults(p.mode);
    if (p.smooth !== 'default') o.smooth = p.smooth;
    o.beta = p.beta;
    o.tau = p.tau;
    if (p.steps) { // the baseline keeps its ratio of steps to SIANet's
      o.baselineSteps = o.baselineSteps ? Math.max(1, Math.round((o.baselineSteps * p.steps) / o.steps)) : 0;
      o.steps = p.steps;
    }
    if (p.seeds) o.seeds = Array.from({ length: p.seeds }, (_, i) => i);
    if (p.geometry !== 'default') o.bench.geometry = p.geometry;
    if (p.configs.length) {
      const known = ABLATION.map((c) => c.name);
      const bad = p.configs.filter((c) => !known.includes(c));
      if (bad.length) throw new Error(`ablate: unknown configuration(s) ${bad.map((b) => `'${b}'`).join(', ')}; valid: ${known.join(', ')}`);
      o.configs = p.configs;
    }
    const r = runAblation(o, ctx);
    const acc = acceptance(r);
    const summary = { mode: p.mode, options: o, table: r.table, references: r.references, acceptance: acc, seconds: r.seconds, rows: r.rows };
    ctx.writeJson('ablation.json', summary);
    const lines = ['| configuration | core mIoU ×100 | transfer mIoU ×100 | mean abs(P_t − P_t+1) |', '|---|---|---|---|'];
    for (const t of r.table) lines.push(`| ${t.config} | ${(100 * t.coreMIoU).toFixed(1)} | ${(100 * t.transferMIoU).toFixed(1)} | ${t.temporalChange.toFixed(4)} |`);
    ctx.writeText('ablation.md', lines.join('\n') + '\n');
    await ctx.plot('lead_time', leadTimeChart(Object.fromEntries(r.table.map((t) => [t.config, t.leadTime]))));
    const lastSeed = r.rows.filter((x) => x.seed === o.seeds[o.seeds.length - 1] && x.config === '+ STL + AP + GAE')[0];
    if (lastSeed) await ctx.plot('region_year_iou', regionYearTable(Object.fromEntries(Object.entries(lastSeed.perCell).map(([k, v]) => [k, { iou: v }])), '+ STL + AP + GAE: IoU per region-year'));
    await ctx.plot('policy_arrows', policyArrowChart());
    for (const [k, v] of Object.entries(acc)) ctx.log(`${v.pass ? 'PASS' : 'FAIL'} ${k}: ${v.detail}`);
    return summary;
  },
});

registerModule({
  name: 'nowcast',
  title: 'SIANet rain nowcasting under spatio-temporal shift (Weather4cast 2022)',
  description: 'W4C22 HDF5 data, the organisers\' 3D U-Net and SIANet, the direction-aware augmentation policy, smoothness loss and geometric test-time ensemble, with a synthetic advecting-rain benchmark.',
  papers: [
    'Seo et al., Domain Generalization Strategy to Train Classifiers Robust to Spatial-Temporal Shift, arXiv 2212.02968 (2022)',
    'Seo et al., Simple Baseline for Weather Forecasting Using Spatiotemporal Context Aggregation Network (SIANet), arXiv 2212.02952 (2022)',
  ],
  commands: [describeCmd, synthCmd, trainCmd, evalCmd, predictCmd, ablateCmd],
});

