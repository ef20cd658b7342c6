// Errors shared by every layer. Two rules hold for every message a reader throws: it names the file
// and the line/field/column at fault and says what was expected, and it never quotes the file's
// bytes (no cell values, no header lines, no library messages that echo text). Messages end up in
// run records, log.txt and the dashboard's API, and the file may be anything a path points at.

// ---------------------------------------------------------------- the hierarchy
// Every error a user can cause or fix is a PaperlabError: surfaces show its message without a
// stack, and map its class to an exit code (the CLI) or an HTTP status (the server):
//
//   class               when                                                exit  HTTP
//   UsageError          bad parameter, flag, value or path                    2    400
//   NotFoundError       unknown run id, module, command; a missing file       3    404
//   InputFileError      a file that was read is unreadable or malformed       4    422
//   ConflictError       the state forbids it (ambiguous run id, run already   5    409
//                       running or done, not resumable)
//   RunInterrupted      Ctrl-C, a dashboard stop (the run stays resumable)  130    409
//   FileError           the file system refused a write (full disk, ...)      1    500
//   PaperlabError       anything else we raise on purpose                     1    500
//   (any other Error)   a bug or a library failure: shown with PAPERLAB_DEBUG  1    500
//
// Throw the most specific class; a module may subclass one (its codes follow). exitCodeOf() and
// httpStatusOf() are the only mappings; the CLI and the server use nothing else.

export interface PaperlabErrorOptions {
  /** the file at fault, when there is one (messages name it too) */
  file?: string;
  /** an errno or library code (ENOENT, SQLITE_FULL), when there is one */
  code?: string;
  cause?: unknown;
}

/** The base of every error paperlab raises on purpose. */
export class PaperlabError extends Error {
  override name = 'PaperlabError';
  /** the CLI's exit code for this class */
  readonly exitCode: number = 1;
  /** the server's HTTP status for this class */
  readonly httpStatus: number = 500;
  readonly file: string | undefined;
  readonly code: string | undefined;
  constructor(message: string, o: PaperlabErrorOptions = {}) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause });
    this.file = o.file;
    this.code = o.code;
  }
}

/** An error in what the user asked for (bad parameter, flag, value or path): exit 2, HTTP 400. */
export class UsageError extends PaperlabError {
  override name = 'UsageError';
  override readonly exitCode: number = 2;
  override readonly httpStatus: number = 400;
}

/** Something named does not exist: a run id, a module, a command, a file. Exit 3, HTTP 404. */
export class NotFoundError extends PaperlabError {
  override name = 'NotFoundError';
  override readonly exitCode: number = 3;
  override readonly httpStatus: number = 404;
}

/**
 * A file that was read cannot be used: unreadable or malformed (bad JSON, a CSV error, a
 * checkpoint that does not fit the model). The message names the file and where in it, never its
 * bytes (see the rules above). Exit 4, HTTP 422.
 */
export class InputFileError extends PaperlabError {
  override name = 'InputFileError';
  override readonly exitCode: number = 4;
  override readonly httpStatus: number = 422;
}

/** The request is valid but the state forbids it: an ambiguous run id, a run already running or done. Exit 5, HTTP 409. */
export class ConflictError extends PaperlabError {
  override name = 'ConflictError';
  override readonly exitCode: number = 5;
  override readonly httpStatus: number = 409;
}

/** A run stopped by Ctrl-C or a dashboard stop; its checkpoints are kept. Exit 130. */
export class RunInterrupted extends PaperlabError {
  override name = 'RunInterrupted';
  override readonly exitCode: number = 130;
  override readonly httpStatus: number = 409;
  constructor() { super('run interrupted'); }
}

/**
 * A collective or the rendezvous of a data-parallel run failed: a peer process exited or crashed
 * (its sockets closed), or did not answer within the timeout (PAPERLAB_DIST_TIMEOUT). Exit 1, HTTP 500.
 */
export class DistributedError extends PaperlabError {
  override name = 'DistributedError';
}

/** The CLI's exit code for an error: the class's code for a PaperlabError, 1 for anything else. */
export function exitCodeOf(e: unknown): number {
  return e instanceof PaperlabError ? e.exitCode : 1;
}

/** The server's HTTP status for an error: the class's status for a PaperlabError, 500 for anything else. */
export function httpStatusOf(e: unknown): number {
  return e instanceof PaperlabError ? e.httpStatus : 500;
}

const BY_NAME: Record<string, new (message: string) => PaperlabError> = {
  PaperlabError, UsageError, NotFoundError, InputFileError, ConflictError, DistributedError,
};
/**
 * An error sent across a process boundary by name and message (the dashboard's run workers) made
 * into its class again; an unknown name gives a plain PaperlabError.
 */
export function reviveError(name: unknown, message: string): PaperlabError {
  if (name === 'RunInterrupted') return new RunInterrupted();
  const C = typeof name === 'string' && Object.hasOwn(BY_NAME, name) ? BY_NAME[name]! : PaperlabError;
  return new C(message);
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

/**
 * JSON.parse whose error (an InputFileError) names `where` (a file, a metadata field) and never
 * quotes the text.
 */
export function parseJson<T = unknown>(text: string, where: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (e) {
    const at = jsonErrorWhere(e, text);
    throw new InputFileError(`${where}: not valid JSON${at ? ` (${at})` : ''}`, { file: where });
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

/**
 * A file-system failure (a full disk, a read-only store, a denied write): one line naming the path
 * and the reason, never the data. Exit 1, HTTP 500: the machine, not the request, is at fault.
 * Failures to read a file the user named are NotFoundError / InputFileError (readFileError()).
 */
export class FileError extends PaperlabError {
  override name = 'FileError';
  declare readonly file: string;
  constructor(file: string, doing: string, cause: unknown) {
    const code = (cause as NodeJS.ErrnoException | undefined)?.code;
    super(`cannot ${doing} ${file}: ${reason(code, cause)}`, { file, code });
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

/** `e` as a FileError about `file` (kept as is when it already is a PaperlabError naming a file). */
export function fileError(file: string, doing: string, e: unknown): Error {
  return e instanceof PaperlabError && e.file !== undefined ? e : new FileError(file, doing, e);
}

/**
 * A failure to read `file`: NotFoundError when it (or a folder on its path) does not exist,
 * InputFileError otherwise (permission, a folder, an I/O error). One line naming the path and
 * the reason ("cannot read <file>: no such file or folder (ENOENT)").
 */
export function readFileError(file: string, e: unknown, doing = 'read'): PaperlabError {
  if (e instanceof PaperlabError && e.file !== undefined) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const message = `cannot ${doing} ${file}: ${reason(code, e)}`;
  return code === 'ENOENT' || code === 'ENOTDIR' ? new NotFoundError(message, { file, code }) : new InputFileError(message, { file, code });
}
