// Errors shared by every layer. Two rules hold for every message a reader throws: it names the file
// and the line/field/column at fault and says what was expected, and it never quotes the file's
// bytes (no cell values, no header lines, no library messages that echo text). Messages end up in
// run records, log.txt and the dashboard's API, and the file may be anything a path points at.

/** An error in what the user asked for (bad module, command, parameter or path): shown without a stack. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The user (Ctrl-C, SIGTERM, the dashboard's stop) interrupted a run; its checkpoints are kept. */
export class RunInterrupted extends Error {
  override name = 'RunInterrupted';
  constructor() { super('run interrupted'); }
}

/** Where a JSON.parse failure happened ("line 3, column 7"), without the text V8 quotes in its message. */
export function jsonErrorWhere(e: unknown, text: string): string {
  const m = /at position (\d+)/.exec(String((e as Error)?.message ?? ''));
  if (/Unexpected end of JSON input/.test(String((e as Error)?.message ?? ''))) return 'ends too early';
  if (!m) return '';
  const pos = Math.min(Number(m[1]), text.length);
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  const column = pos - before.lastIndexOf('\n');
  return `at line ${line}, column ${column}`;
}

/** JSON.parse whose error names `where` (a file, a metadata field) and never quotes the text. */
export function parseJson<T = unknown>(text: string, where: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    const at = jsonErrorWhere(e, text);
    throw new Error(`${where}: not valid JSON${at ? ` (${at})` : ''}`);
  }
}

/** A csv-parse error (its codes are not all prefixed CSV_: INVALID_OPENING_QUOTE is not). */
export function isCsvError(e: unknown): boolean {
  return e instanceof Error && e.constructor?.name === 'CsvError';
}

/**
 * A csv-parse error as "<what> (line N)": its code and line only. csv-parse's own messages quote the
 * offending field ("value is …"), so they are never passed on.
 */
export function csvErrorDetail(e: unknown): string {
  const err = e as { code?: unknown; lines?: unknown };
  const code = typeof err?.code === 'string' && /^[A-Z][A-Z_]*$/.test(err.code) ? err.code : '';
  const what = code ? code.replace(/^CSV_/, '').toLowerCase().replace(/_/g, ' ') : 'malformed CSV';
  return `${what}${typeof err?.lines === 'number' ? ` (line ${err.lines})` : ''}`;
}

/** A file-system failure: one line naming the path and the reason, never the data. */
export class FileError extends Error {
  override name = 'FileError';
  readonly code: string | undefined;
  readonly file: string;
  constructor(file: string, doing: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`cannot ${doing} ${file}: ${reason(code, cause)}`);
    this.code = code;
    this.file = file;
  }
}

const REASONS: Record<string, string> = {
  ENOSPC: 'no space left on device (ENOSPC)', EDQUOT: 'disk quota exceeded (EDQUOT)',
  EROFS: 'read-only file system (EROFS)', EACCES: 'permission denied (EACCES)', EPERM: 'permission denied (EPERM)',
  ENOENT: 'no such file or folder (ENOENT)', ENOTDIR: 'a part of the path is not a folder (ENOTDIR)',
  EISDIR: 'it is a folder (EISDIR)', EIO: 'input/output error (EIO)',
};
function reason(code: string | undefined, cause: unknown): string {
  if (code && REASONS[code]) return REASONS[code]!;
  if (code) return code;
  // Node's own messages name the operation and path; anything else is shown by its class only.
  return cause instanceof Error ? cause.name : 'failed';
}

/** `e` as a FileError about `file` (kept as is when it already is one). */
export function fileError(file: string, doing: string, e: unknown): Error {
  return e instanceof FileError ? e : new FileError(file, doing, e);
}
