// Paper A's ablation at CPU scale on the synthetic advecting-rain benchmark: the organisers' baseline
// and SIANet against all-rain and climatology references, core vs transfer mIoU, the recipe ladder
// STL → +AP → +GAE, random geometric augmentation and the inverse policy, and the checks of
// README.md ("The ablation's checks") evaluated on the result. The presets (quick, full) and the rows
// are plain data in config.ts; the measurements behind the presets are in README.md.
import * as torch from '../../core/torch/index.ts';
import type { RunContext } from '../../core/context.ts';
import { buildBench, type Bench, type SampleSet } from './samples.ts';
import { MemoryDataset, train, type TrainOptions, DEFAULT_TRAIN } from './train.ts';
import { evaluateAtThresholds, tuneClimatology, tuneTau, scoreConstant } from './evaluate.ts';
import { DEFAULT_LOSS } from './losses.ts';
import type { CellScores } from './metrics.ts';
import { ttaTransforms } from './recipe.ts';
import { ABLATE, ABLATION, ABLATION_NAMES, type AblateMode, type AblateOptions, type AblationConfig } from './config.ts';

export { ABLATION, ABLATION_NAMES, type AblateOptions, type AblationConfig, type AblationName } from './config.ts';

/** A fresh copy of an ablation preset (config.ts ABLATE), safe to modify. */
export function ablateDefaults(mode: AblateMode): AblateOptions {
  return structuredClone(ABLATE[mode]);
}

export interface AblationRow {
  config: string; seed: number; coreMIoU: number; transferMIoU: number; temporalChange: number;
  leadTime: number[]; perCell: Record<string, number>;
  /** the threshold used, and the scores at τ = 0.5 for comparison */
  tau: number; coreMIoUAtHalf: number; transferMIoUAtHalf: number;
}

export interface AblationResult {
  rows: AblationRow[];
  /** mean over seeds per config */
  table: { config: string; coreMIoU: number; transferMIoU: number; temporalChange: number; leadTime: number[] }[];
  references: { seed: number; allRainCore: number; climatologyCore: number; climatologyFrac: number; allRainTransfer: number }[];
  seconds: number;
}

/** How the ablation trains config `c` on `seed` (the baseline has its own steps, lr factor and weight decay). */
export function ablationTrainOptions(o: AblateOptions, bench: Bench, c: AblationConfig, seed: number): TrainOptions {
  const baseline = c.model === 'unet3d';
  const steps = baseline ? o.baselineSteps ?? o.steps : o.steps;
  return {
    ...DEFAULT_TRAIN,
    model: {
      model: c.model, geometry: bench.geometry, inChannels: bench.channels.length, startFilters: o.startFilters,
      depth: o.depth, dropout: o.dropout, strHidden: o.strHidden,
    },
    steps, batchSize: o.batchSize, lr: baseline ? o.lr * o.baselineLrFactor : o.lr, augment: c.augment, evalEvery: Math.max(10, Math.floor(steps / 5)),
    weightDecay: baseline ? o.baselineWeightDecay : o.weightDecay,
    checkpointEvery: 0, seed: seed * 7 + 1, recalibrateBn: o.recalibrateBn,
    loss: { ...DEFAULT_LOSS, smooth: c.smooth ? o.smooth : 'none', betaSpatial: o.beta, betaTemporal: o.beta },
  };
}

/** Runs the ablation: every config × seed on a fresh synthetic benchmark per seed. */
export function runAblation(o: AblateOptions, ctx?: RunContext): AblationResult {
  const t0 = Date.now();
  const rows: AblationRow[] = [];
  const refs: AblationResult['references'] = [];
  const bad = (o.configs ?? []).filter((c) => !(ABLATION_NAMES as readonly string[]).includes(c));
  if (bad.length) throw new Error(`ablation: unknown configuration(s) ${bad.map((b) => `'${b}'`).join(', ')}; valid: ${ABLATION_NAMES.join(', ')}`);
  // a row that reuses another's trained model (the GAE rows) brings that row along
  const wanted = (name: string) => !o.configs || o.configs.includes(name);
  const configs = ABLATION.filter((c) => wanted(c.name) || ABLATION.some((d) => d.sameModelAs === c.name && wanted(d.name)));
  const trainedCount = configs.filter((c) => !c.sameModelAs).length * o.seeds.length;
  const bar = ctx?.progress(trainedCount, 'ablate');
  for (const seed of o.seeds) {
    const bench = buildBench({ ...o.bench, seed });
    try {
      const allRain = torch.scope(() => {
        const ones = torch.ones([1, bench.geometry.cropSize * bench.geometry.scale, bench.geometry.cropSize * bench.geometry.scale]);
        return { core: scoreConstant(bench.coreTest, ones).mIoU(), transfer: scoreConstant(bench.transferTest, ones).mIoU() };
      });
      const clim = tuneClimatology(bench.train);
      const climCore = scoreConstant(bench.coreTest, clim.mask).mIoU();
      clim.mask.dispose();
      refs.push({ seed, allRainCore: allRain.core, allRainTransfer: allRain.transfer, climatologyCore: climCore, climatologyFrac: clim.frac });
      const trainSet = new MemoryDataset(bench.train), valSet = new MemoryDataset(bench.val);
      const models = new Map<string, ReturnType<typeof train>['model']>();
      for (const c of configs) {
        ctx?.throwIfAborted();
        let model = c.sameModelAs ? models.get(c.sameModelAs) : undefined;
        if (!model) {
          model = train(ablationTrainOptions(o, bench, c, seed), trainSet, valSet, undefined, c.name).model;
          models.set(c.name, model);
          bar?.tick(1);
        }
        const eo = { transforms: ttaTransforms(c.tta) };
        const tau = o.tau === 'tuned' ? tuneTau(model, bench.val, eo).tau : o.tau;
        const ev = (sets: SampleSet[]) => evaluateAtThresholds(model!, sets, eo, tau === 0.5 ? [tau] : [tau, 0.5]);
        const core = ev(bench.coreTest), tr = ev(bench.transferTest);
        const iouByCell = (s: CellScores) => Object.fromEntries(Object.entries(s.perCell()).map(([k, v]) => [k, v.iou]));
        const pc = { ...iouByCell(core.scores[0]!), ...iouByCell(tr.scores[0]!) };
        const row: AblationRow = {
          config: c.name, seed, coreMIoU: core.scores[0]!.mIoU(), transferMIoU: tr.scores[0]!.mIoU(), temporalChange: core.temporalChange,
          leadTime: core.scores[0]!.leadTimeIoU(), perCell: pc, tau, coreMIoUAtHalf: core.scores.at(-1)!.mIoU(), transferMIoUAtHalf: tr.scores.at(-1)!.mIoU(),
        };
        rows.push(row);
        ctx?.metrics.log({ config: c.name, seed, tau, coreMIoU: row.coreMIoU, transferMIoU: row.transferMIoU, temporalChange: row.temporalChange }, 'ablation');
        ctx?.log(`${c.name} seed ${seed}: τ ${tau}, core mIoU ${row.coreMIoU.toFixed(4)}, transfer mIoU ${row.transferMIoU.toFixed(4)}${tau === 0.5 ? '' : ` (at τ 0.5: ${row.coreMIoUAtHalf.toFixed(4)}, ${row.transferMIoUAtHalf.toFixed(4)})`}`);
      }
      for (const m of models.values()) m.dispose();
    } finally {
      bench.dispose();
    }
  }
  bar?.done();
  const table = configs.map((c) => {
    const rs = rows.filter((r) => r.config === c.name);
    const mean = (f: (r: AblationRow) => number) => rs.reduce((s, r) => s + f(r), 0) / Math.max(1, rs.length);
    const T = rs[0]?.leadTime.length ?? 0;
    return {
      config: c.name, coreMIoU: mean((r) => r.coreMIoU), transferMIoU: mean((r) => r.transferMIoU), temporalChange: mean((r) => r.temporalChange),
      leadTime: Array.from({ length: T }, (_, t) => mean((r) => r.leadTime[t]!)),
    };
  });
  return { rows, table, references: refs, seconds: (Date.now() - t0) / 1000 };
}

/** The ablation's checks (README.md, "The ablation's checks") evaluated on a result: each a boolean plus the numbers. */
export function acceptance(r: AblationResult): Record<string, { pass: boolean; detail: string }> {
  const t = (n: string) => r.table.find((x) => x.config === n);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const allRain = mean(r.references.map((x) => x.allRainCore)), clim = mean(r.references.map((x) => x.climatologyCore));
  const out: Record<string, { pass: boolean; detail: string }> = {};
  const base = t('baseline 3D U-Net'), sia = t('SIANet'), stl = t('+ STL'), ap = t('+ STL + AP'), gae = t('+ STL + AP + GAE'), inv = t('inverse policy');
  const gaePolicy = t('+ STL + AP + GAE (policy preset)');
  const f = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(4));
  if (base && sia) {
    out.learning = {
      pass: sia.coreMIoU > Math.max(allRain, clim) && base.coreMIoU > Math.max(allRain, clim) && sia.coreMIoU >= base.coreMIoU - 0.01,
      detail: `SIANet ${f(sia.coreMIoU)}, baseline ${f(base.coreMIoU)}, all-rain ${f(allRain)}, climatology ${f(clim)}`,
    };
  }
  if (sia) out.shift = { pass: sia.transferMIoU < sia.coreMIoU, detail: `SIANet (no aug) core ${f(sia.coreMIoU)} vs transfer ${f(sia.transferMIoU)}` };
  if (sia && stl && ap && gae) {
    const ladder = [sia.transferMIoU, stl.transferMIoU, ap.transferMIoU, gae.transferMIoU];
    out.recipe = { pass: ladder.every((v, i) => i === 0 || v >= ladder[i - 1]! - 0.005), detail: `transfer mIoU ladder ${ladder.map(f).join(' → ')}` };
  }
  if (ap && inv) out.inversePolicy = { pass: inv.transferMIoU < ap.transferMIoU, detail: `inverse ${f(inv.transferMIoU)} vs policy ${f(ap.transferMIoU)}` };
  const notWorse = (e: typeof gae, what: string) => ({ pass: e!.coreMIoU >= ap!.coreMIoU - 0.005 && e!.transferMIoU >= ap!.transferMIoU - 0.005, detail: `${what} core ${f(e!.coreMIoU)} vs ${f(ap!.coreMIoU)}, transfer ${f(e!.transferMIoU)} vs ${f(ap!.transferMIoU)}` });
  if (ap && gae) out.ensembleNotWorse = notWorse(gae, 'GAE {id, vflip}');
  if (ap && gaePolicy) out.ensembleNotWorsePolicy = notWorse(gaePolicy, 'GAE policy preset');
  if (sia && stl) out.smoothness = { pass: stl.temporalChange < sia.temporalChange, detail: `mean |P_t − P_t+1| ${f(stl.temporalChange)} with STL vs ${f(sia.temporalChange)} without` };
  if (sia) {
    const lt = sia.leadTime, half = Math.floor(lt.length / 2);
    out.leadTime = { pass: mean(lt.slice(0, half)) > mean(lt.slice(half)), detail: `SIANet IoU by lead time ${lt.map(f).join(', ')}` };
  }
  return out;
}
