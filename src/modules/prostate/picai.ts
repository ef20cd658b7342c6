// PI-CAI data conventions (the public PI-CAI training set as the challenge distributes it): the images
// release and the picai_labels tree (lesion delineations, Yuan23 zonal masks), image/label readers by
// extension, marksheet, the official splits (nnU-Net splits_final.json / picai ds-configs) and
// patient-grouped folds.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { csvErrorDetail, parseJson, NotFoundError, UsageError, InputFileError } from '../../core/errors.ts';
import { readMetaImage, writeMetaImage, ImageFormatError } from './metaimage.ts';
import { readNifti, writeNifti } from './nifti.ts';
import { Rng } from '../../core/rng.ts';
import type { Volume } from './volume.ts';

export const SEQUENCES = ['t2w', 'adc', 'hbv'] as const;
export type Sequence = (typeof SEQUENCES)[number];

/**
 * The picai_labels release (github.com/DIAGNijmegen/picai_labels), relative to its root: csPCa
 * delineations (expert, resampled to the T2W grid; the 2025 expert labels of the cases that had
 * only AI labels; AI-derived), the AI whole-gland and zonal masks, the marksheet.
 * The zonal masks of Yuan23 (the Z-SSMNet authors' nnU-Net, on the T2W grid) hold 1 = PZ and
 * 2 = TZ/central gland, the convention of this module's zones: label 1 lies posterior (and caudal)
 * of label 2 in the release's cases, as the peripheral zone does.
 */
export const LABELS = {
  lesionsExpert: 'csPCa_lesion_delineations/human_expert/resampled',
  lesionsPooch: 'csPCa_lesion_delineations/human_expert/Pooch25',
  lesionsAI: 'csPCa_lesion_delineations/AI/Bosma22a',
  gland: 'anatomical_delineations/whole_gland/AI/Bosma22b',
  zones: 'anatomical_delineations/zonal_pz_tz/AI/Yuan23',
  marksheet: 'clinical_information/marksheet.csv',
  /** paperlab's own fold file (phantoms); official splits are read with --splits */
  folds: 'folds.json',
};

/** A PI-CAI folder as paperlab writes it: images/ and the picai_labels tree under labels/. */
export const LAYOUT = {
  images: 'images',
  ...(Object.fromEntries(Object.entries(LABELS).map(([k, v]) => [k, `labels/${v}`])) as typeof LABELS),
};

/**
 * Where one data set lives: the images (the folder holding <patient_id>/<case>_t2w.mha, as the
 * Zenodo release unpacks) and the labels (a picai_labels checkout; null when there is none).
 */
export interface PicaiSource { images: string; labels: string | null; splits?: string }
/** A PI-CAI folder (images/ + labels/) or a resolved source. */
export type DataRoot = string | PicaiSource;

const LABEL_MARKERS = ['csPCa_lesion_delineations', 'anatomical_delineations', 'clinical_information', LABELS.folds];

/** A picai_labels tree at `dir` or at `dir`/labels; null when neither holds one. */
export function labelsRootOf(dir: string): string | null {
  for (const d of [dir, path.join(dir, 'labels')]) if (LABEL_MARKERS.some((m) => fs.existsSync(path.join(d, m)))) return d;
  return null;
}

/**
 * Resolves a data folder: `root`/images when it exists, else `root` itself (the images release);
 * labels from `labels` (a picai_labels checkout, or a folder holding one under labels/), else
 * `root`/labels.
 */
export function resolveSource(root: string, labels?: string, splits?: string): PicaiSource {
  const r = path.resolve(root);
  if (!fs.existsSync(r)) throw new NotFoundError(`data folder '${r}' does not exist`, { file: r });
  const images = fs.existsSync(path.join(r, LAYOUT.images)) ? path.join(r, LAYOUT.images) : r;
  let lab: string | null;
  if (labels) {
    const l = path.resolve(labels);
    if (!fs.existsSync(l)) throw new NotFoundError(`labels folder '${l}' does not exist`, { file: l });
    lab = labelsRootOf(l);
    if (!lab) throw new UsageError(`${l}: not a picai_labels checkout (no ${LABEL_MARKERS.slice(0, 2).join(' or ')} folder, here or under labels/)`);
  } else lab = labelsRootOf(r);
  return { images, labels: lab, splits: splits ? path.resolve(splits) : undefined };
}

export const sourceOf = (r: DataRoot): PicaiSource => (typeof r === 'string' ? resolveSource(r) : r);

/** Reads .mha/.mhd (MetaImage) or .nii/.nii.gz (NIfTI-1) by extension. */
export function readImage(file: string): Volume {
  if (/\.(mha|mhd)$/i.test(file)) return readMetaImage(file);
  if (/\.nii(\.gz)?$/i.test(file)) return readNifti(file);
  throw new ImageFormatError(file, '', 'unknown image extension (expected .mha, .mhd, .nii or .nii.gz)');
}
/** Writes by extension; MetaImage is compressed unless `compress: false`. */
export function writeImage(file: string, v: Volume, o: { compress?: boolean } = {}): void {
  if (/\.(mha|mhd)$/i.test(file)) writeMetaImage(file, v, o);
  else if (/\.nii(\.gz)?$/i.test(file)) writeNifti(file, v);
  else throw new Error(`${file}: unknown image extension (expected .mha, .mhd, .nii or .nii.gz)`);
}

export interface CaseKey { patientId: string; studyId: string; key: string }

export function parseCaseKey(key: string): CaseKey {
  const m = /^(\w+?)_(\w+)$/.exec(key);
  if (!m) throw new UsageError(`case key '${key}' is not <patient_id>_<study_id> (PI-CAI image folders need that naming; picai_eval-style folders are read by evaluate --detections --labels)`);
  return { patientId: m[1]!, studyId: m[2]!, key };
}

/** Case keys found under <images>/<patient_id>/ (by their T2W file). */
export function listCases(root: DataRoot): string[] {
  const dir = sourceOf(root).images;
  const keys: string[] = [];
  for (const pid of fs.readdirSync(dir).sort()) {
    const pdir = path.join(dir, pid);
    if (!fs.statSync(pdir).isDirectory()) continue;
    for (const f of fs.readdirSync(pdir).sort()) {
      const m = /^(.+)_t2w\.(mha|mhd|nii\.gz|nii)$/.exec(f);
      if (m) keys.push(m[1]!);
    }
  }
  if (!keys.length) throw new NotFoundError(`${dir}: no <patient_id>/<patient_id>_<study_id>_t2w.mha (or .mhd, .nii.gz, .nii) images (not a PI-CAI images folder)`, { file: dir });
  return keys;
}

function findImage(base: string): string | null {
  for (const ext of ['.mha', '.mhd', '.nii.gz', '.nii']) if (fs.existsSync(base + ext)) return base + ext;
  return null;
}

export interface PicaiCase {
  key: string;
  t2w: Volume; adc: Volume; hbv: Volume;
  /** binarised lesion label on the T2W grid (null when no label file exists) */
  label: Volume | null;
  /** ISUP-valued label as stored */
  labelRaw: Volume | null;
  zones: Volume | null;
  gland: Volume | null;
}

/** The lesion label file of a case in a picai_labels tree: expert (resampled), else the 2025 expert labels, else AI-derived; null if none. */
export function lesionFileIn(labels: string, key: string): string | null {
  return [LABELS.lesionsExpert, LABELS.lesionsPooch, LABELS.lesionsAI].map((d) => findImage(path.join(labels, d, key))).find(Boolean) ?? null;
}
function lesionFile(root: DataRoot, key: string): string | null {
  const l = sourceOf(root).labels;
  return l ? lesionFileIn(l, key) : null;
}

/** lesion = (value >= 1): ISUP-valued expert labels and binary AI labels alike. */
function binarise(raw: Volume): Volume {
  const b = new Uint8Array(raw.data.length);
  for (let i = 0; i < b.length; i++) b[i] = raw.data[i]! >= 1 ? 1 : 0;
  return { ...raw, data: b, elementType: 'uint8' };
}

/**
 * The binarised lesion label of one case (null when it has no label file), read without the
 * images: what the evaluation needs. Its grid is checked against a detection map by the caller.
 */
export function loadLabel(root: DataRoot, key: string): Volume | null {
  const f = lesionFile(root, key);
  return f ? binarise(readImage(f)) : null;
}

/** Loads one case: the three axial sequences, the lesion label (expert, else AI) and the zonal mask (Yuan23) and whole gland. */
export function loadCase(root: DataRoot, key: string): PicaiCase {
  const src = sourceOf(root);
  const { patientId } = parseCaseKey(key);
  const seqs = {} as Record<Sequence, Volume>;
  for (const s of SEQUENCES) {
    const f = findImage(path.join(src.images, patientId, `${key}_${s}`));
    if (!f) throw new NotFoundError(`${src.images}: case ${key} has no ${s} image under ${patientId}/`, { file: src.images });
    seqs[s] = readImage(f);
  }
  const t2 = seqs.t2w;
  const onT2 = (f: string | null): Volume | null => {
    if (!f) return null;
    const v = readImage(f);
    if (v.dims.join() !== t2.dims.join()) {
      throw new ImageFormatError(f, 'dim', `label dims ${v.dims.join('x')} do not match the T2W image ${t2.dims.join('x')} (use the 'resampled' labels on the T2W grid)`);
    }
    return v;
  };
  const labelRaw = onT2(lesionFile(src, key));
  const inLabels = (d: string) => (src.labels ? findImage(path.join(src.labels, d, key)) : null);
  return {
    key, t2w: t2, adc: seqs.adc, hbv: seqs.hbv, label: labelRaw && binarise(labelRaw), labelRaw,
    zones: onT2(inLabels(LABELS.zones)), gland: onT2(inLabels(LABELS.gland)),
  };
}

export interface MarksheetRow {
  patient_id: string; study_id: string; mri_date?: string; patient_age?: number | null; psa?: number | null;
  psad?: number | null; prostate_volume?: number | null; histopath_type?: string; lesion_PIRADS?: string[];
  lesion_GS?: string[]; lesion_ISUP?: (number | null)[]; case_ISUP?: number | null; case_csPCa?: 'YES' | 'NO'; center?: string;
}

export const MARKSHEET_COLUMNS = ['patient_id', 'study_id', 'mri_date', 'patient_age', 'psa', 'psad', 'prostate_volume',
  'histopath_type', 'lesion_PIRADS', 'lesion_GS', 'lesion_ISUP', 'case_ISUP', 'case_csPCa', 'center'];

/** Parses marksheet.csv by header name (tolerates missing columns and a leading unnamed index column). */
export function readMarksheet(file: string): MarksheetRow[] {
  if (!fs.existsSync(file)) throw new NotFoundError(`${file}: marksheet not found`, { file });
  let rows: Record<string, string>[];
  try {
    rows = parse(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (e) {
    throw new InputFileError(`${file}: not a valid marksheet CSV (${csvErrorDetail(e)})`, { file });
  }
  const num = (v: string | undefined) => (v === undefined || v === '' || /^n\/?a$/i.test(v) ? null : Number(v));
  const list = (v: string | undefined) => (v === undefined || v === '' ? [] : v.split(','));
  return rows.map((r, i) => {
    if (!r.patient_id || !r.study_id) throw new InputFileError(`${file}: line ${i + 2} lacks '${r.patient_id ? 'study_id' : 'patient_id'}'`, { file });
    const cs = r.case_csPCa;
    if (cs !== undefined && cs !== '' && cs !== 'YES' && cs !== 'NO') throw new InputFileError(`${file}: line ${i + 2}: case_csPCa must be YES or NO`, { file });
    return {
      patient_id: r.patient_id, study_id: r.study_id, mri_date: r.mri_date, patient_age: num(r.patient_age), psa: num(r.psa),
      psad: num(r.psad), prostate_volume: num(r.prostate_volume), histopath_type: r.histopath_type,
      lesion_PIRADS: list(r.lesion_PIRADS), lesion_GS: list(r.lesion_GS), lesion_ISUP: list(r.lesion_ISUP).map((x) => num(x)),
      case_ISUP: num(r.case_ISUP), case_csPCa: (cs || undefined) as 'YES' | 'NO' | undefined, center: r.center,
    };
  });
}

export function writeMarksheet(file: string, rows: MarksheetRow[]): void {
  const q = (v: unknown) => {
    const s = v === null || v === undefined ? '' : Array.isArray(v) ? v.map((x) => (x === null ? 'N/A' : String(x))).join(',') : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [MARKSHEET_COLUMNS.join(','), ...rows.map((r) => MARKSHEET_COLUMNS.map((c) => q((r as unknown as Record<string, unknown>)[c])).join(','))];
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, lines.join('\n') + '\n');
}

/**
 * Patient-grouped folds from a seeded shuffle of patient ids: no patient spans two folds. With
 * `positive` (case keys with csPCa) the deal is stratified: patients with a positive case are dealt
 * round-robin first, then the others, so every fold gets its share of both classes.
 */
export function makeFolds(keys: string[], k = 5, seed = 0, positive?: Set<string>): string[][] {
  const byPatient = new Map<string, string[]>();
  for (const key of keys) {
    const { patientId } = parseCaseKey(key);
    byPatient.set(patientId, [...(byPatient.get(patientId) ?? []), key]);
  }
  const rng = new Rng(seed);
  const all = [...byPatient.keys()].sort();
  const isPos = (p: string) => byPatient.get(p)!.some((c) => positive?.has(c));
  const pids = positive ? [...rng.shuffle(all.filter(isPos)), ...rng.shuffle(all.filter((p) => !isPos(p)))] : rng.shuffle(all);
  const folds: string[][] = Array.from({ length: k }, () => []);
  pids.forEach((p, i) => folds[i % k]!.push(...byPatient.get(p)!));
  return folds;
}

/** One fold of an official split: the cases it trains on and the held-out cases. */
export interface SplitFold { train: string[]; val: string[] }

const isStrings = (a: unknown): a is string[] => Array.isArray(a) && a.every((x) => typeof x === 'string');

/**
 * Official 5-fold splits as shipped: nnU-Net's splits_final.json / the splits.json of picai_baseline
 * and Z-SSMNet (`splits/picai_nnunet/`: a list of { train, val }), or a folder of picai ds-configs
 * (`splits/picai/ds-config-{train,valid}-fold-<k>.json`, each { subject_list }).
 */
export function readSplits(where: string): SplitFold[] {
  if (!fs.existsSync(where)) throw new NotFoundError(`splits '${where}' do not exist`, { file: where });
  if (fs.statSync(where).isDirectory()) {
    const folds: SplitFold[] = [];
    for (let k = 0; ; k++) {
      const v = path.join(where, `ds-config-valid-fold-${k}.json`), t = path.join(where, `ds-config-train-fold-${k}.json`);
      if (!fs.existsSync(v)) break;
      const list = (f: string) => {
        const j = parseJson<{ subject_list?: unknown }>(fs.readFileSync(f, 'utf8'), f);
        if (!isStrings(j?.subject_list)) throw new InputFileError(`${f}: 'subject_list' must be an array of case names`, { file: f });
        return j.subject_list;
      };
      folds.push({ val: list(v), train: fs.existsSync(t) ? list(t) : [] });
    }
    if (!folds.length) throw new NotFoundError(`${where}: no ds-config-valid-fold-0.json (a picai splits folder) and not a splits JSON file`, { file: where });
    // a folder without train configs: the other folds train
    return folds.map((f, k) => (f.train.length ? f : { val: f.val, train: folds.filter((_, i) => i !== k).flatMap((o) => o.val) }));
  }
  const j = parseJson<unknown>(fs.readFileSync(where, 'utf8'), where);
  if (!Array.isArray(j) || !j.length) throw new InputFileError(`${where}: expected nnU-Net's splits (a list of { "train": [...], "val": [...] })`, { file: where });
  return j.map((f, k) => {
    const o = f as { train?: unknown; val?: unknown };
    if (!isStrings(o?.train) || !isStrings(o?.val)) throw new InputFileError(`${where}: fold ${k} ('[${k}]'): 'train' and 'val' must be arrays of case names`, { file: where });
    return { train: o.train, val: o.val };
  });
}

/** Folds as stored beside the data (labels/folds.json: held-out case lists), else computed; official splits via `splits`. */
export function loadFolds(root: DataRoot, k = 5, seed = 0): string[][] {
  const src = sourceOf(root);
  if (src.splits) return readSplits(src.splits).map((f) => f.val);
  const f = src.labels ? path.join(src.labels, LABELS.folds) : null;
  if (f && fs.existsSync(f)) {
    const folds = parseJson<string[][]>(fs.readFileSync(f, 'utf8'), f);
    if (!Array.isArray(folds) || !folds.every(Array.isArray)) throw new InputFileError(`${f}: expected an array of arrays of case keys`, { file: f });
    return folds;
  }
  return makeFolds(listCases(src), k, seed);
}
