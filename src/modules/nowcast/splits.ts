// The timestamps/splits table of the W4C22 data (the starter kit's load_timestamps and sample ids):
// reading it, finding a year's table in either layout, the rows of a split in file order, and the
// training / validation / test windows.
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { csvErrorDetail, InputFileError } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/io/atomic.ts';
import type { Split } from './data.ts';
export interface SplitRow {
  time: string; date_str: string; date: string;
  RATE: number; ACRR: number; DBZH: number; 'REFL-BT': number; all_vars: number;
  split: string; split_type: string;
  /** a 'region' column, where a table has one (the starter kit's tables have none: every region of a year shares one timeline) */
  region?: string;
}
export const SPLIT_COLUMNS = ['time', 'date_str', 'date', 'RATE', 'ACRR', 'DBZH', 'REFL-BT', 'all_vars', 'split', 'split_type'] as const;

/** Minutes since the epoch of a (YYYYMMDD, HHMMSS) row (UTC). */
export function rowMinutes(r: Pick<SplitRow, 'date_str' | 'time'>): number {
  const d = r.date_str, t = r.time.padStart(6, '0');
  const n = (s: string, a: number) => Number(s.slice(a, a + 2));
  const ms = Date.UTC(Number(d.slice(0, 4)), n(d, 4) - 1, n(d, 6), n(t, 0), n(t, 2), n(t, 4));
  if (!Number.isFinite(ms)) throw new Error('bad timestamp: columns \'date_str\' (YYYYMMDD) and \'time\' (HHMMSS) do not form a date');
  return ms / 60000;
}

/** Reads a timestamps/splits CSV (cached per file, size and mtime); errors are InputFileErrors naming the file, line and column. */
export function readSplits(file: string): SplitRow[] {
  if (!fs.existsSync(file)) throw new InputFileError(`${file}: no such splits table`, { file });
  const st = fs.statSync(file);
  const stamp = `${st.size}:${st.mtimeMs}`;
  const hit = CACHE.get(file);
  if (hit && hit.stamp === stamp) return hit.rows;
  const rows = parseSplits(file);
  CACHE.set(file, { stamp, rows });
  return rows;
}

const CACHE = new Map<string, { stamp: string; rows: SplitRow[] }>();
/** Forgets every cached splits table. */
export function clearSplitsCache(): void { CACHE.clear(); }

function parseSplits(file: string): SplitRow[] {
  const bad = (msg: string): never => { throw new InputFileError(`${file}${msg}`, { file }); };
  let recs: { record: Record<string, string>; info: { lines: number } }[] = [];
  try {
    recs = parseCsv(fs.readFileSync(file, 'utf8'), { columns: true, skip_empty_lines: true, trim: true, info: true }) as typeof recs;
  } catch (e) {
    bad(`: not a valid splits table (${csvErrorDetail(e)})`);
  }
  if (recs.length === 0) bad(': empty splits table');
  for (const c of ['time', 'date_str', 'all_vars', 'split', 'split_type']) {
    if (!(c in recs[0]!.record)) bad(`: missing column '${c}' (a splits table has columns time, date_str, all_vars, split, split_type)`);
  }
  const hasRegion = 'region' in recs[0]!.record;
  return recs.map(({ record: r, info }) => {
    const at = ` line ${info.lines}`;
    const num = (k: string) => { const v = Number(r[k] ?? 0); if (!Number.isFinite(v)) bad(`${at}: column '${k}' is not a number`); return v; };
    if (!/^\d{8}$/.test(r.date_str ?? '')) bad(`${at}: column 'date_str' must be YYYYMMDD (8 digits)`);
    if (!/^\d{1,6}$/.test(r.time ?? '')) bad(`${at}: column 'time' must be HHMMSS (up to 6 digits)`);
    return {
      time: r.time!.padStart(6, '0'), date_str: r.date_str!, date: r.date ?? '',
      RATE: num('RATE'), ACRR: num('ACRR'), DBZH: num('DBZH'), 'REFL-BT': num('REFL-BT'), all_vars: num('all_vars'),
      split: r.split!, split_type: r.split_type!, ...(hasRegion ? { region: r.region ?? '' } : {}),
    };
  });
}

export function writeSplits(file: string, rows: SplitRow[]): void {
  const lines = [SPLIT_COLUMNS.join(',')];
  for (const r of rows) lines.push(SPLIT_COLUMNS.map((c) => String(r[c])).join(','));
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeFileAtomic(file, lines.join('\n') + '\n');
}

const SPLIT_NAME: Record<Split, string> = { train: 'training', val: 'validation', test: 'test', heldout: 'heldout' };

/** Rows of one split in file order: sorted by (date_str, time), all_vars == 1 (the order of the images in the split's files). */
export function splitRows(rows: readonly SplitRow[], split: Split): SplitRow[] {
  return rows.filter((r) => r.split === SPLIT_NAME[split] && r.all_vars === 1)
    .sort((a, b) => (a.date_str + a.time < b.date_str + b.time ? -1 : a.date_str + a.time > b.date_str + b.time ? 1 : 0));
}

/**
 * Training windows: start i is valid only when row i+L−1 is exactly (L−1)·15 min after
 * row i (no gap), L = tIn + tOut. Returns valid start indices into the split's file.
 */
export function trainingWindows(rows: readonly SplitRow[], tIn: number, tOut: number, slotMinutes = 15): number[] {
  const L = tIn + tOut;
  const mins = rows.map(rowMinutes);
  const out: number[] = [];
  for (let i = 0; i + L - 1 < rows.length; i++) if (mins[i + L - 1]! - mins[i]! === (L - 1) * slotMinutes) out.push(i);
  return out;
}

/** Validation sequences: starts of each run of tIn `validation_in` rows; target is the next tOut rows. */
export function validationWindows(rows: readonly SplitRow[], tIn: number): number[] {
  const out: number[] = [];
  for (let i = 0; i + tIn - 1 < rows.length; i++) {
    let ok = true;
    for (let k = 0; k < tIn; k++) if (rows[i + k]!.split_type !== 'validation_in') { ok = false; break; }
    if (ok && (i === 0 || rows[i - 1]!.split_type !== 'validation_in')) out.push(i);
  }
  return out;
}

/** Test / heldout sequences: consecutive groups of tIn input images in the file. */
export function testWindows(nImages: number, tIn: number): number[] {
  if (nImages % tIn !== 0) throw new Error(`test file holds ${nImages} images, not a multiple of ${tIn}`);
  return Array.from({ length: nImages / tIn }, (_, j) => j * tIn);
}


// ------------------------------------------------------------------ where a year's table is (the two layouts)
/** The release's one table for every year, at the data root (the starter kit's `splits_path: data/timestamps_and_splits_stage2.csv`). */
export const STAGE2_SPLITS = 'timestamps_and_splits_stage2.csv';

/**
 * Where the splits table of `year` may be, in the order tried: paperlab's per-year layout
 * `<root>/<year>/timestamps_and_splits_<year>.csv` (what `synth` writes), the release layout
 * `<root>/timestamps_and_splits_stage2.csv` (one table, rows of every year), and Stage 1's
 * `<root>/timestamps_and_splits_<year>.csv`.
 */
export function splitsCandidates(root: string, year: number | string): string[] {
  return [path.join(root, String(year), `timestamps_and_splits_${year}.csv`), path.join(root, STAGE2_SPLITS), path.join(root, `timestamps_and_splits_${year}.csv`)];
}

export interface YearSplits { file: string; rows: SplitRow[]; layout: 'per-year' | 'release' | 'stage1' }

/** Year of a row as the starter kit takes it (`df['date'].dt.year`), or from date_str when `date` is empty. */
function rowYear(r: SplitRow): number { return Number((/^\d{4}/.test(r.date) ? r.date : r.date_str).slice(0, 4)); }

/**
 * The rows of `year` (and of `region`, where the table has a 'region' column), from the first
 * table found (splitsCandidates). A table holding several years (the release's) is filtered by
 * the year of its `date` column, as the starter kit does; a per-year table is taken whole.
 */
export function yearSplits(root: string, year: number | string, region?: string): YearSplits {
  const cands = splitsCandidates(root, year);
  const file = cands.find((f) => fs.existsSync(f));
  if (!file) throw new InputFileError(`${root}: no splits table for ${year} (looked for ${cands.map((f) => path.relative(root, f)).join(', ')})`, { file: root });
  const layout = file === cands[0] ? 'per-year' : file === cands[1] ? 'release' : 'stage1';
  let rows = readSplits(file);
  if (layout !== 'per-year') {
    rows = rows.filter((r) => rowYear(r) === Number(year));
    if (!rows.length) throw new InputFileError(`${file}: no rows of ${year} (the year of column 'date')`, { file });
  }
  if (region !== undefined && rows.some((r) => r.region !== undefined)) {
    rows = rows.filter((r) => r.region === region);
    if (!rows.length) throw new InputFileError(`${file}: no rows of region '${region}' in ${year} (column 'region')`, { file });
  }
  return { file, rows, layout };
}
