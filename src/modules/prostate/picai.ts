// PI-CAI data conventions (the public PI-CAI training set as the challenge distributes it): folder layout, image/label readers by extension, marksheet,
// patient-grouped folds.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { csvErrorDetail, parseJson } from '../../core/errors.ts';
import { readMetaImage, writeMetaImage, ImageFormatError } from './metaimage.ts';
import { readNifti, writeNifti } from './nifti.ts';
import { Rng } from '../../core/rng.ts';
import type { Volume } from './volume.ts';

export const SEQUENCES = ['t2w', 'adc', 'hbv'] as const;
export type Sequence = (typeof SEQUENCES)[number];

export const LAYOUT = {
  images: 'images',
  lesionsExpert: 'labels/csPCa_lesion_delineations/human_expert/resampled',
  lesionsAI: 'labels/csPCa_lesion_delineations/AI/Bosma22a',
  lesionsPooch: 'labels/csPCa_lesion_delineations/human_expert/Pooch25',
  gland: 'labels/anatomical_delineations/whole_gland/AI/Bosma22b',
  zones: 'labels/anatomical_delineations/zonal_pz_tz/AI/Yuan23',
  marksheet: 'labels/clinical_information/marksheet.csv',
  folds: 'labels/folds.json',
};

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
  if (!m) throw new Error(`case key '${key}' is not <patient_id>_<study_id>`);
  return { patientId: m[1]!, studyId: m[2]!, key };
}

/** Case keys found under images/<patient_id>/ (by their T2W file). */
export function listCases(root: string): string[] {
  const dir = path.join(root, LAYOUT.images);
  if (!fs.existsSync(dir)) throw new Error(`${root}: no '${LAYOUT.images}' folder (not a PI-CAI layout)`);
  const keys: string[] = [];
  for (const pid of fs.readdirSync(dir).sort()) {
    const pdir = path.join(dir, pid);
    if (!fs.statSync(pdir).isDirectory()) continue;
    for (const f of fs.readdirSync(pdir).sort()) {
      const m = /^(.+)_t2w\.(mha|mhd|nii\.gz|nii)$/.exec(f);
      if (m) keys.push(m[1]!);
    }
  }
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

/** The lesion label file of a case: expert (resampled), else the 2025 expert labels, else AI-derived; null if none. */
function lesionFile(root: string, key: string): string | null {
  return [LAYOUT.lesionsExpert, LAYOUT.lesionsPooch, LAYOUT.lesionsAI].map((d) => findImage(path.join(root, d, key))).find(Boolean) ?? null;
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
export function loadLabel(root: string, key: string): Volume | null {
  const f = lesionFile(root, key);
  return f ? binarise(readImage(f)) : null;
}

/** Loads one case: the three axial sequences, the lesion label (expert, else AI) and the zonal mask. */
export function loadCase(root: string, key: string): PicaiCase {
  const { patientId } = parseCaseKey(key);
  const seqs = {} as Record<Sequence, Volume>;
  for (const s of SEQUENCES) {
    const f = findImage(path.join(root, LAYOUT.images, patientId, `${key}_${s}`));
    if (!f) throw new Error(`${root}: case ${key} has no ${s} image under ${LAYOUT.images}/${patientId}/`);
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
  const labelRaw = onT2(lesionFile(root, key));
  return {
    key, t2w: t2, adc: seqs.adc, hbv: seqs.hbv, label: labelRaw && binarise(labelRaw), labelRaw,
    zones: onT2(findImage(path.join(root, LAYOUT.zones, key))),
    gland: onT2(findImage(path.join(root, LAYOUT.gland, key))),
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
  if (!fs.existsSync(file)) throw new Error(`${file}: marksheet not found`);
  let rows: Record<string, string>[];
  try {
    rows = parse(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true }) as Record<string, string>[];
  } catch (e) {
    throw new Error(`${file}: not a valid marksheet CSV (${csvErrorDetail(e)})`);
  }
  const num = (v: string | undefined) => (v === undefined || v === '' || /^n\/?a$/i.test(v) ? null : Number(v));
  const list = (v: string | undefined) => (v === undefined || v === '' ? [] : v.split(','));
  return rows.map((r, i) => {
    if (!r.patient_id || !r.study_id) throw new Error(`${file}: row ${i + 2} lacks patient_id or study_id`);
    const cs = r.case_csPCa;
    if (cs !== undefined && cs !== '' && cs !== 'YES' && cs !== 'NO') throw new Error(`${file}: row ${i + 2}: case_csPCa must be YES or NO`);
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

/** Folds as stored beside the data (labels/folds.json), else computed. */
export function loadFolds(root: string, k = 5, seed = 0): string[][] {
  const f = path.join(root, LAYOUT.folds);
  if (fs.existsSync(f)) {
    const folds = parseJson<string[][]>(fs.readFileSync(f, 'utf8'), f);
    if (!Array.isArray(folds) || !folds.every(Array.isArray)) throw new Error(`${f}: expected an array of arrays of case keys`);
    return folds;
  }
  return makeFolds(listCases(root), k, seed);
}
