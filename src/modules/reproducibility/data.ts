// Real data for the finite-sum setting: labelled numeric CSV files (plain or .gz), e.g. the UCI
// handwritten digits shipped with the project (64 pixel columns 0–16, then the label).
// Every error names the file, the row and the column.
import fs from 'node:fs';
import zlib from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { csvErrorDetail } from '../../core/errors.ts';

export interface LabeledData {
  /** n × p features, row-major */
  X: Float64Array;
  /** n labels */
  y: Float64Array;
  n: number;
  p: number;
  file: string;
}

export interface CsvOptions {
  /** which column holds the label (default 'last') */
  labelColumn?: 'first' | 'last' | number;
  /** first row is a header: 'auto' (default) skips it when it is not numeric */
  header?: boolean | 'auto';
}

/** Reads a numeric CSV (or .csv.gz) with one label column. */
export function readLabeledCsv(file: string, o: CsvOptions = {}): LabeledData {
  if (!fs.existsSync(file)) throw new Error(`${file}: file not found`);
  let buf: Buffer = fs.readFileSync(file);
  if (file.endsWith('.gz') || (buf[0] === 0x1f && buf[1] === 0x8b)) {
    try {
      buf = zlib.gunzipSync(buf);
    } catch (e) {
      throw new Error(`${file}: not a valid gzip file (${(e as Error).message}); the file may be truncated`);
    }
  }
  let rows: string[][];
  try {
    rows = parse(buf.toString('utf8'), { skip_empty_lines: true, trim: true, relax_column_count: true }) as string[][];
  } catch (e) {
    throw new Error(`${file}: CSV parse error: ${csvErrorDetail(e)}`);
  }
  if (rows.length === 0) throw new Error(`${file}: no rows`);
  const header = o.header ?? 'auto';
  let start = 0;
  if (header === true || (header === 'auto' && rows[0]!.some((c) => c !== '' && !Number.isFinite(Number(c))))) start = 1;
  const m = rows[start]?.length ?? 0;
  if (m < 2) throw new Error(`${file}: need at least one feature column and a label column, got ${m} column(s)`);
  const lc = o.labelColumn ?? 'last';
  const li = lc === 'last' ? m - 1 : lc === 'first' ? 0 : lc;
  if (!(Number.isInteger(li) && li >= 0 && li < m)) throw new Error(`${file}: label column ${String(lc)} out of range (0..${m - 1})`);
  const n = rows.length - start, p = m - 1;
  const X = new Float64Array(n * p), y = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const row = rows[start + r]!;
    if (row.length !== m) throw new Error(`${file}: row ${start + r + 1} has ${row.length} columns, expected ${m} (truncated or ragged file?)`);
    let k = 0;
    for (let c = 0; c < m; c++) {
      const v = Number(row[c]);
      if (row[c] === '' || !Number.isFinite(v)) throw new Error(`${file}: row ${start + r + 1}, column ${c + 1}: not a finite number${row[c] === '' ? ' (empty)' : ''}`);
      if (c === li) y[r] = v; else X[r * p + k++] = v;
    }
  }
  return { X, y, n, p, file };
}
