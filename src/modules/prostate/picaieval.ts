// picai_eval's folder conventions (the PI-CAI evaluation code of Saha et al., Lancet Oncol. 2024:
// picai_eval.eval.evaluate_folder and image_utils.read_image), so `evaluate --detections D --labels L`
// reads what picai_eval reads: detection maps and labels matched by case name, any naming, the
// `_detection_map` / `_label` suffixes stripped, the file types .nii.gz, .nii, .mha, .mhd, .npz, .npy.
// A labels folder may also be a picai_labels checkout (or a PI-CAI folder with labels/): then the
// case's csPCa delineation is found there as picai.ts finds it (expert, else Pooch25, else AI).
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, UsageError, InputFileError, parseJson } from '../../core/errors.ts';
import { readImage, lesionFileIn, labelsRootOf } from './picai.ts';
import { readNumpyVolume } from './npy.ts';
import { extractLesionCandidates, type ExtractionOptions } from './postprocess.ts';
import { evaluateCase, type CaseEvaluation } from './evaluate.ts';
import type { Volume } from './volume.ts';

/** picai_eval's default extensions, in its order of preference. */
export const PRED_EXTENSIONS = ['.npz', '.npy', '.nii.gz', '.nii', '.mha', '.mhd'];
export const LABEL_EXTENSIONS = ['.nii.gz', '.nii', '.mha', '.mhd', '.npz', '.npy'];

/** Reads any of the six file types: NIfTI / MetaImage by readImage, NumPy by npy.ts. */
export function readAnyVolume(file: string): { volume: Volume; fromSoftmax: boolean } {
  if (/\.(npy|npz)$/i.test(file)) return readNumpyVolume(file);
  return { volume: readImage(file), fromSoftmax: false };
}

const extOf = (f: string, exts: string[]) => exts.find((e) => f.toLowerCase().endsWith(e)) ?? null;

export interface CasePair { subject: string; detection: string; label: string | null }

/**
 * Pairs detection maps with labels by case name, as evaluate_folder does when both folders are
 * given: a map is `<case>_detection_map<ext>` or `<case><ext>`; its label `<case>_label<ext>` or
 * `<case><ext>` (in one folder for both, the suffixed names only). [recon] Files named `<…>_softmax<ext>`
 * or `<…>_label<ext>` in the detections folder are skipped (paperlab's detect writes softmaxes beside
 * the maps, picai_eval's test folder holds both; picai_eval would read each as a case of its own).
 * `subjects` (a picai ds-config `subject_list`) restricts and orders the cases; every one must be found.
 */
export function pairFolders(detDir: string, labelDir: string, subjects?: string[]): CasePair[] {
  for (const [d, what] of [[detDir, 'detections'], [labelDir, 'labels']] as const) {
    if (!fs.existsSync(d) || !fs.statSync(d).isDirectory()) throw new NotFoundError(`${what} folder '${d}' does not exist`, { file: d });
  }
  const files = fs.readdirSync(detDir).sort();
  // one folder for both (picai_eval's default): only the suffixed names, `_detection_map` and `_label`
  const same = path.resolve(detDir) === path.resolve(labelDir);
  const maps = new Map<string, string>();
  for (const f of files) {
    const e = extOf(f, PRED_EXTENSIONS);
    if (!e || /_(softmax|label)$/.test(f.slice(0, -e.length))) continue;
    if (same && !f.slice(0, -e.length).endsWith('_detection_map')) continue;
    const subject = f.slice(0, -e.length).replace(/_detection_map$/, '');
    if (!maps.has(subject)) maps.set(subject, path.join(detDir, f));
  }
  const picaiLabels = labelsRootOf(labelDir);
  const findLabel = (s: string): string | null => {
    if (picaiLabels) return lesionFileIn(picaiLabels, s);
    for (const post of same ? ['_label'] : ['_label', '']) for (const e of LABEL_EXTENSIONS) {
      const f = path.join(labelDir, s + post + e);
      if (fs.existsSync(f)) return f;
    }
    return null;
  };
  const list = subjects ?? [...maps.keys()];
  if (!list.length) throw new NotFoundError(`${detDir}: no detection maps (${PRED_EXTENSIONS.join(', ')}, optionally named <case>_detection_map<ext>)`, { file: detDir });
  return list.map((s) => {
    const det = maps.get(s);
    if (!det) throw new NotFoundError(`${detDir}: no detection map for case '${s}' of the subject list`, { file: detDir });
    const label = findLabel(s);
    if (!label && !picaiLabels) throw new NotFoundError(`${labelDir}: no label for case '${s}' (looked for ${s}_label<ext> and ${s}<ext>, ext one of ${LABEL_EXTENSIONS.join(' ')})`, { file: labelDir });
    return { subject: s, detection: det, label };
  });
}

/** A picai ds-config JSON ({ "subject_list": [...] }) as picai_eval's `subject_list` argument reads it. */
export function readSubjectList(file: string): string[] {
  if (!fs.existsSync(file)) throw new NotFoundError(`subject list '${file}' does not exist`, { file });
  const j = parseJson<{ subject_list?: unknown }>(fs.readFileSync(file, 'utf8'), file);
  const l = j?.subject_list;
  if (!Array.isArray(l) || !l.every((s) => typeof s === 'string')) throw new InputFileError(`${file}: 'subject_list' must be an array of case names`, { file });
  return l as string[];
}

/**
 * Evaluates one pair: a softmax (.npz of nnU-Net) becomes a detection map by lesion-candidate
 * extraction first (picai_eval's y_det_postprocess_func, as the PI-CAI baselines call it); a case
 * without a label (a picai_labels case not delineated) counts as negative.
 */
export function evaluatePair(p: CasePair, extraction: ExtractionOptions = {}): CaseEvaluation & { extracted: boolean } {
  const { volume: det, fromSoftmax } = readAnyVolume(p.detection);
  const label = p.label ? readAnyVolume(p.label).volume : null;
  if (label && det.dims.join() !== label.dims.join()) {
    throw new InputFileError(`${p.detection}: detection map is ${[...det.dims].reverse().join('×')} (z×y×x), its label ${p.label} is ${[...label.dims].reverse().join('×')}`, { file: p.detection });
  }
  const shape: [number, number, number] = [det.dims[2], det.dims[1], det.dims[0]];
  let d: Float32Array = Float32Array.from(det.data as ArrayLike<number>);
  if (fromSoftmax) d = extractLesionCandidates(d, shape, extraction);
  const lab = label ? (label.data as ArrayLike<number>) : new Uint8Array(d.length);
  return { ...evaluateCase(d, lab, shape, {}, path.basename(p.detection)), extracted: fromSoftmax };
}

/** Evaluates two folders the picai_eval way; the per-case evaluations by case name. */
export function evaluateFolders(detDir: string, labelDir: string, o: { subjects?: string[]; onCase?: () => void } = {}) {
  const pairs = pairFolders(detDir, labelDir, o.subjects);
  const cases: Record<string, CaseEvaluation> = {};
  const unlabelled: string[] = [];
  let extracted = 0;
  for (const p of pairs) {
    const { extracted: ex, ...c } = evaluatePair(p);
    cases[p.subject] = c;
    if (!p.label) unlabelled.push(p.subject);
    if (ex) extracted++;
    o.onCase?.();
  }
  return { cases, unlabelled, extracted, pairs };
}

/** `--detections` and `--data`/`--labels` together make sense only one way. */
export function checkEvaluateSources(p: { data?: string; labels?: string; detections?: string }): void {
  if (!p.detections) throw new UsageError('evaluate needs --detections <folder of detection maps>');
  if (!p.data && !p.labels) throw new UsageError('evaluate needs --labels <folder> (picai_eval style) or --data <PI-CAI folder> for the labels');
}
