// The runs of `evaluate` and `compare-algorithms` (schemas in commands.ts): PI-CAI metrics of a
// folder of detection maps — labels from a PI-CAI folder (--data) or picai_eval's own folder
// conventions (--labels, picaieval.ts) — and the paired permutation test of two algorithms (compare.ts).
import fs from 'node:fs';
import path from 'node:path';
import type { RunContext } from '../../core/context.ts';
import { NotFoundError, InputFileError, UsageError } from '../../core/errors.ts';
import { lineChart } from '../../core/plots.ts';
import { loadLabel, readImage, resolveSource, readSplits, LABELS } from './picai.ts';
import { evaluateCase, aggregate, bootstrapCI, jsonSafe, type CaseEvaluation, type PicaiMetrics } from './evaluate.ts';
import { evaluateFolders, readSubjectList, checkEvaluateSources } from './picaieval.ts';
import { pairedPermutationTest } from './compare.ts';
import { summarize } from './pipeline.ts';
import type { EvaluateParams, CompareParams } from './commands.ts';

/** Sets a line chart's (first layer's) axis titles to human-readable ones. */
function titled(spec: Record<string, unknown>, x: string, y: string): Record<string, unknown> {
  const enc = ((spec.layer as Record<string, unknown>[])[0]!.encoding) as Record<string, Record<string, unknown>>;
  enc.x!.title = x;
  enc.y!.title = y;
  // rates and sensitivities live in [0, 1]: a fixed axis, so a flat curve does not become one tick
  enc.y!.scale = { domain: [0, 1] };
  return spec;
}

/**
 * ROC, PR and FROC plots. The FROC's x axis is logarithmic, as PI-CAI draws it (false positives per
 * case over decades); the points at 0 FP/case, which a log axis cannot place, are left out.
 */
export async function curvePlots(ctx: RunContext, m: PicaiMetrics, prefix = ''): Promise<void> {
  const roc = m.curves.roc.filter((r) => Number.isFinite(r.fpr) && Number.isFinite(r.tpr)).map((r) => ({ fpr: r.fpr, tpr: r.tpr }));
  const pr = m.curves.pr.map((r) => ({ recall: r.recall, precision: r.precision }));
  const froc = m.curves.froc.filter((r) => r.fpPerCase > 0 && Number.isFinite(r.fpPerCase))
    .map((r) => ({ fp_per_case: r.fpPerCase, sensitivity: r.sensitivity }));
  ctx.writeJson(`${prefix}curves.json`, jsonSafe({ roc: m.curves.roc, pr: m.curves.pr, froc: m.curves.froc }));
  if (roc.length > 1) {
    await ctx.plot(`${prefix}roc`, titled(lineChart(roc, { x: 'fpr', y: 'tpr', title: `ROC (AUROC ${m.auroc.toFixed(3)})` }), 'false positive rate', 'true positive rate'));
  }
  if (pr.length) await ctx.plot(`${prefix}pr`, titled(lineChart(pr, { x: 'recall', y: 'precision', title: `PR (AP ${m.AP.toFixed(3)})` }), 'recall', 'precision'));
  if (froc.length) {
    await ctx.plot(`${prefix}froc`, titled(lineChart(froc, { x: 'fp_per_case', y: 'sensitivity', title: 'FROC', logX: true }), 'false positives per case (log)', 'sensitivity (lesion level)'));
  }
}

/** `--data`: paperlab's own detect output (<case>_detection_map.nii.gz / .mha) against the labels of a PI-CAI folder. */
function evaluateAgainstData(data: string, dir: string, ctx: RunContext, subjects?: string[]): { cases: Record<string, CaseEvaluation>; unlabelled: string[] } {
  const src = resolveSource(data);
  if (!src.labels) throw new NotFoundError(`${data}: no 'labels' folder (lesion labels are read from labels/${LABELS.lesionsExpert} and the other lesion folders); or use --labels`, { file: data });
  if (!fs.existsSync(dir)) throw new NotFoundError(`detections folder '${dir}' does not exist`, { file: dir });
  const keep = subjects && new Set(subjects);
  const files = fs.readdirSync(dir).filter((f) => /_detection_map\.(nii\.gz|nii|mha|mhd)$/.test(f))
    .filter((f) => !keep || keep.has(f.replace(/_detection_map\..*$/, ''))).sort();
  if (!files.length) throw new NotFoundError(`${dir}: no *_detection_map.nii.gz / .mha files`, { file: dir });
  const cases: Record<string, CaseEvaluation> = {};
  const unlabelled: string[] = [];
  const bar = ctx.progress(files.length, 'evaluate');
  for (const f of files) {
    const key = f.replace(/_detection_map\..*$/, '');
    const det = readImage(path.join(dir, f));
    const label = loadLabel(src, key);
    if (label && det.dims.join() !== label.dims.join()) throw new InputFileError(`${path.join(dir, f)}: dims ${det.dims.join('x')} differ from the case's label ${label.dims.join('x')}`, { file: path.join(dir, f) });
    if (!label) unlabelled.push(key);
    const lab = label ? label.data : new Uint8Array(det.data.length);
    cases[key] = evaluateCase(Float32Array.from(det.data as ArrayLike<number>), lab as ArrayLike<number>, [det.dims[2], det.dims[1], det.dims[0]], {}, f);
    bar.tick();
  }
  bar.done();
  return { cases, unlabelled };
}

/** The cases to evaluate: a ds-config's subject_list, or fold k's held-out cases of official splits; undefined = all. */
function subjectsOf(p: { subjectList?: string; splits?: string; fold?: number }): string[] | undefined {
  if (p.subjectList) return readSubjectList(path.resolve(p.subjectList));
  if (p.fold !== undefined && !p.splits) throw new UsageError('--fold needs --splits (the official split the fold belongs to)');
  if (!p.splits) return undefined;
  if (p.fold === undefined) throw new UsageError('--splits needs --fold k (the fold whose held-out cases to evaluate)');
  const sp = readSplits(path.resolve(p.splits));
  if (p.fold >= sp.length) throw new UsageError(`fold ${p.fold} does not exist (${p.splits} has ${sp.length} folds)`);
  return sp[p.fold]!.val;
}

/**
 * PI-CAI evaluation of a folder of detection maps, reading no images: labels from `--labels`
 * (picai_eval's conventions) or from the PI-CAI folder `--data` (a case without a label file counting as negative).
 */
export async function evaluate(p: EvaluateParams, ctx: RunContext) {
  checkEvaluateSources(p);
  const dir = path.resolve(p.detections);
  let cases: Record<string, CaseEvaluation>, unlabelled: string[];
  const subjects = subjectsOf(p);
  if (p.labels) {
    const r = evaluateFolders(dir, path.resolve(p.labels), { subjects });
    ({ cases, unlabelled } = r);
    if (r.extracted) ctx.log(`${r.extracted} softmax volume(s) (.npz) turned into detection maps by dynamic lesion-candidate extraction`);
  } else ({ cases, unlabelled } = evaluateAgainstData(p.data!, dir, ctx, subjects));
  if (unlabelled.length) ctx.log(`${unlabelled.length} case(s) have no lesion label file and count as negative: ${unlabelled.slice(0, 5).join(', ')}${unlabelled.length > 5 ? ', …' : ''}`);
  const m = aggregate(cases);
  const ci = p.bootstrap ? bootstrapCI(cases, p.bootstrap, ctx.seed) : null;
  ctx.writeJson('metrics.json', jsonSafe({ ...m, ci }));
  await curvePlots(ctx, m);
  ctx.log(`AUROC ${m.auroc.toFixed(3)}  AP ${m.AP.toFixed(3)}  score ${m.score.toFixed(3)} over ${m.num_cases} cases, ${m.num_lesions} lesions`);
  return jsonSafe({ ...summarize(m), num_cases: m.num_cases, num_lesions: m.num_lesions, ci, sensitivity_at_fp: m.sensitivity_at_fp });
}

/** Paired permutation test of algorithm B against A (both folders evaluated against the same labels). */
export async function compareAlgorithms(p: CompareParams, ctx: RunContext) {
  const subjects = subjectsOf(p);
  const labels = path.resolve(p.labels);
  const A = evaluateFolders(path.resolve(p.a), labels, { subjects });
  const B = evaluateFolders(path.resolve(p.b), labels, { subjects });
  const r: Record<string, unknown> & ReturnType<typeof pairedPermutationTest> = { ...pairedPermutationTest(A.cases, B.cases, p.iterations, ctx.seed) };
  ctx.writeJson('comparison.json', jsonSafe(r));
  for (const [k, v] of Object.entries(r.metrics)) {
    ctx.log(`${k.padEnd(6)} A ${v.a.toFixed(4)}  B ${v.b.toFixed(4)}  B−A ${v.diff >= 0 ? '+' : ''}${v.diff.toFixed(4)}  p(two-sided) ${v.p_two_sided.toPrecision(3)}  p(B better) ${v.p_b_better.toPrecision(3)}`);
  }
  ctx.log(`${r.method} paired permutation test over ${r.cases} cases (${r.permutations} swap patterns)`);
  return jsonSafe({ ...r });
}
