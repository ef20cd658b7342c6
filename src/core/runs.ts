// The run store: one folder per run (params.json, run.json, metrics.jsonl/csv, log.txt, plots,
// checkpoints/) and an index in SQLite so runs can be listed, filtered and compared.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { writeJsonAtomic, writeFileAtomic } from './io/atomic.ts';
import { fileError, UsageError, NotFoundError, ConflictError } from './errors.ts';

export type RunStatus = 'running' | 'done' | 'failed' | 'interrupted';

export interface RunRecord {
  id: string;
  module: string;
  command: string;
  params: Record<string, unknown>;
  seed: number;
  status: RunStatus;
  created: string;
  finished: string | null;
  error: string | null;
  summary: Record<string, unknown> | null;
  dir: string;
  pid: number | null;
  resumable: boolean;
  /** the device the run computed on ('cpu', 'cuda', 'cuda:1'); null for runs recorded before devices */
  device: string | null;
  /** free labels and a note, set from the dashboard's run page */
  tags: string[];
  notes: string;
}

export type RunSortKey = 'created' | 'module' | 'command' | 'status' | 'finished';
export interface RunFilter {
  module?: string; command?: string; status?: RunStatus; limit?: number;
  /** text searched in the id, module, command, parameters, tags and notes (case-insensitive) */
  text?: string;
  sort?: RunSortKey; desc?: boolean;
}
const SORT_KEYS: readonly RunSortKey[] = ['created', 'module', 'command', 'status', 'finished'];
/** Where deleted run folders wait (inside the store, so a rename into it is atomic) until removed. */
export const TRASH = '.trash';

/** Where runs go: $PAPERLAB_HOME, else ./runs under the current directory. */
export function defaultRoot(): string {
  return path.resolve(process.env.PAPERLAB_HOME ?? 'runs');
}

const ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

export class RunStore {
  readonly root: string;
  private readonly db: Database.Database;

  constructor(root: string = defaultRoot()) {
    this.root = path.resolve(root);
    const file = path.join(this.root, 'index.sqlite');
    try {
      fs.mkdirSync(this.root, { recursive: true });
    } catch (e) {
      throw fileError(this.root, 'create the run store', e);
    }
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(`CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY, module TEXT NOT NULL, command TEXT NOT NULL, params TEXT NOT NULL,
        seed INTEGER NOT NULL, status TEXT NOT NULL, created TEXT NOT NULL, finished TEXT,
        error TEXT, summary TEXT, dir TEXT NOT NULL, pid INTEGER, resumable INTEGER NOT NULL DEFAULT 0)`);
      this.db.exec('CREATE INDEX IF NOT EXISTS runs_module ON runs(module, command, created)');
      // stores made before runs recorded their device, tags and notes get the columns (null / empty for their old runs)
      const cols = new Set((this.db.prepare('PRAGMA table_info(runs)').all() as { name: string }[]).map((c) => c.name));
      if (!cols.has('device')) this.db.exec('ALTER TABLE runs ADD COLUMN device TEXT');
      if (!cols.has('tags')) this.db.exec("ALTER TABLE runs ADD COLUMN tags TEXT NOT NULL DEFAULT '[]'");
      if (!cols.has('notes')) this.db.exec("ALTER TABLE runs ADD COLUMN notes TEXT NOT NULL DEFAULT ''");
    } catch (e) {
      throw indexError(this.root, file, 'open', e);
    }
    this.keepReserve();
    this.emptyTrash();
  }

  // A full disk must not leave a run 'running' nor the index unusable: the store keeps a small
  // reserve file, which end() frees when the disk is full, so a run can still be marked failed.
  // It is made again at the next opening with space.
  private reserveFile(): string { return path.join(this.root, '.reserve'); }
  private keepReserve(): void {
    const f = this.reserveFile();
    try { if (!fs.existsSync(f)) writeFileAtomic(f, new Uint8Array(RESERVE_BYTES)); } catch { /* full or read-only: fine */ }
  }
  private releaseReserve(): boolean {
    try { fs.rmSync(this.reserveFile()); return true; } catch { return false; }
  }

  close(): void { this.db.close(); }

  /**
   * Opens a new run folder and index row (status 'running'). `inputs` (parameter -> a staged file,
   * e.g. a dashboard upload) are moved into the run's inputs/ folder and the parameter points there.
   */
  create(
    module: string, command: string, params: Record<string, unknown>, seed: number, resumable = false, device: string | null = null,
    inputs: Record<string, string> = {},
  ): RunRecord {
    const now = new Date();
    const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
    const id = `${stamp}-${module}-${command}-${crypto.randomBytes(3).toString('hex')}`;
    const dir = path.join(this.root, id);
    const rec: RunRecord = {
      id, module, command, params, seed, status: 'running', created: now.toISOString(), finished: null,
      error: null, summary: null, dir, pid: process.pid, resumable, device, tags: [], notes: '',
    };
    try {
      try { fs.mkdirSync(dir, { recursive: true }); } catch (e) { throw fileError(dir, 'create', e); }
      rec.params = params = { ...params, ...moveInputs(dir, inputs) };
      writeJsonAtomic(path.join(dir, 'params.json'), { module, command, seed, params, ...(device ? { device } : {}) });
      this.write(() => this.db.prepare(`INSERT INTO runs (id, module, command, params, seed, status, created, dir, pid, resumable, device)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(id, module, command, JSON.stringify(params), seed, 'running',
        rec.created, dir, process.pid, resumable ? 1 : 0, device));
    } catch (e) {
      // A run that could not be opened leaves nothing behind (no folder, no index row).
      try { fs.rmSync(dir, { recursive: true, force: true }); } catch { /* read-only: nothing was made */ }
      throw e;
    }
    this.mirror(rec);
    return rec;
  }

  /** Updates a run's status (and error/summary), in the index and in <run>/run.json. */
  update(id: string, patch: Partial<Pick<RunRecord, 'status' | 'error' | 'summary' | 'finished' | 'pid' | 'device'>>): RunRecord {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    if (!row) throw new NotFoundError(`no run '${id}' in ${this.root}`);
    const next: RunRecord = { ...fromRow(row), ...patch };
    this.write(() => this.db.prepare('UPDATE runs SET status = ?, error = ?, summary = ?, finished = ?, pid = ?, device = ? WHERE id = ?').run(
      next.status, next.error, next.summary ? JSON.stringify(next.summary) : null, next.finished, next.pid, next.device, id));
    this.mirror(next);
    return next;
  }

  get(id: string): RunRecord {
    if (!ID_RE.test(id)) throw new UsageError(`bad run id '${id}'`);
    let row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Row | undefined;
    if (!row) {
      const matches = this.db.prepare('SELECT * FROM runs WHERE id LIKE ? ORDER BY created DESC LIMIT 2').all(`%${id}%`) as Row[];
      if (matches.length === 1) row = matches[0];
      else if (matches.length) throw new ConflictError(`run id '${id}' is ambiguous (it matches ${matches.map((m) => m.id as string).join(', ')}, maybe more): give more of it`);
      else throw new NotFoundError(`no run '${id}' in ${this.root}`);
    }
    return this.reconcile(fromRow(row!));
  }

  list(f: RunFilter = {}): RunRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.module) { where.push('module = ?'); args.push(f.module); }
    if (f.command) { where.push('command = ?'); args.push(f.command); }
    if (f.status) { where.push('status = ?'); args.push(f.status); }
    if (f.text) {
      where.push("(id || ' ' || module || ' ' || command || ' ' || status || ' ' || params || ' ' || tags || ' ' || notes) LIKE ? ESCAPE '\\'");
      args.push(`%${f.text.toLowerCase().replace(/[\\%_]/g, (ch) => '\\' + ch)}%`);
    }
    const sort = f.sort ?? 'created';
    if (!SORT_KEYS.includes(sort)) throw new UsageError(`cannot sort runs by '${sort}' (one of ${SORT_KEYS.join(', ')})`);
    const order = `${sort} ${f.desc === false ? 'ASC' : 'DESC'}${sort === 'created' ? '' : ', created DESC'}`;
    const sql = `SELECT * FROM runs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY ${order} LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, f.limit ?? 1000) as Row[];
    return rows.map((r) => this.reconcile(fromRow(r)));
  }

  /** Sets a run's tags and/or notes (index and run.json). */
  annotate(id: string, patch: { tags?: string[]; notes?: string }): RunRecord {
    const r = this.get(id);
    const tags = patch.tags ? [...new Set(patch.tags.map((t) => t.trim()).filter(Boolean))] : r.tags;
    const next = { ...r, tags, notes: patch.notes ?? r.notes };
    this.write(() => this.db.prepare('UPDATE runs SET tags = ?, notes = ? WHERE id = ?').run(JSON.stringify(next.tags), next.notes, r.id));
    this.mirror(next);
    return next;
  }

  /**
   * Deletes a run: its folder is first renamed into the store's trash (atomic, same file system),
   * then its index row is deleted in a transaction, then the trash is emptied. A crash after the
   * rename leaves a row whose folder is in the trash: the next opening of the store finishes the
   * deletion (emptyTrash). No state leaves a folder without its row outside the trash.
   */
  delete(id: string, hooks: { afterRename?: () => void } = {}): void {
    const r = this.get(id);
    if (r.status === 'running') throw new ConflictError(`run ${r.id} is running: stop it first`);
    const trash = path.join(this.root, TRASH);
    const dest = path.join(trash, r.id);
    try {
      fs.mkdirSync(trash, { recursive: true });
      if (fs.existsSync(r.dir)) fs.renameSync(r.dir, dest);
    } catch (e) { throw fileError(r.dir, 'move to the trash', e); }
    hooks.afterRename?.();
    try {
      this.write(() => this.db.transaction(() => { this.db.prepare('DELETE FROM runs WHERE id = ?').run(r.id); })());
    } catch (e) {
      // the index refused (full, read-only): the folder goes back where its row points
      try { if (fs.existsSync(dest)) fs.renameSync(dest, r.dir); } catch { /* left for emptyTrash at the next opening */ }
      throw e;
    }
    fs.rmSync(dest, { recursive: true, force: true });
  }

  /** Finishes deletions a crash interrupted: rows of trashed folders go, then the folders. */
  private emptyTrash(): void {
    const trash = path.join(this.root, TRASH);
    let names: string[];
    try { names = fs.readdirSync(trash); } catch { return; }
    try {
      const del = this.db.prepare('DELETE FROM runs WHERE id = ?');
      this.db.transaction(() => { for (const n of names) del.run(n); })();
      for (const n of names) fs.rmSync(path.join(trash, n), { recursive: true, force: true });
    } catch { /* read-only store: left for a later opening */ }
  }

  /** A 'running' run whose process is gone was killed: mark it interrupted (resumable or not). */
  private reconcile(r: RunRecord): RunRecord {
    if (r.status === 'running' && r.pid && r.pid !== process.pid && !alive(r.pid)) {
      const patch = { status: 'interrupted' as const, error: 'the process running it stopped', finished: new Date().toISOString() };
      // Listing must work on a full or read-only store: then the record is only corrected in memory.
      try { return this.update(r.id, patch); } catch { return { ...r, ...patch }; }
    }
    return r;
  }

  /** An index write; SQLite's errors become one line naming the index file. */
  private write<T>(f: () => T): T {
    try { return f(); } catch (e) { throw indexError(this.root, path.join(this.root, 'index.sqlite'), 'write', e); }
  }

  /**
   * Marks a run ended (failed or interrupted) even on a full disk: if the disk is full, the reserve
   * is freed for this one write.
   */
  end(id: string, patch: Partial<Pick<RunRecord, 'status' | 'error' | 'summary' | 'finished' | 'pid'>>): RunRecord {
    try {
      return this.update(id, patch);
    } catch (e) {
      if (!(isFull(e) && this.releaseReserve())) throw e;
      return this.update(id, patch);
    }
  }

  private mirror(r: RunRecord): void {
    if (fs.existsSync(r.dir)) writeJsonAtomic(path.join(r.dir, 'run.json'), r);
  }

  /** Files of a run (relative paths), for listings. */
  files(id: string): string[] {
    const r = this.get(id);
    const out: string[] = [];
    const walk = (d: string, rel: string) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.name.includes('.tmp-')) continue;
        if (e.isDirectory()) walk(path.join(d, e.name), rel + e.name + '/');
        else if (e.isFile()) out.push(rel + e.name);
      }
    };
    if (fs.existsSync(r.dir)) walk(r.dir, '');
    return out.sort();
  }
}

type Row = Record<string, unknown>;

const RESERVE_BYTES = 256 * 1024;
function isFull(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? '');
  return code === 'ENOSPC' || code === 'EDQUOT' || code.startsWith('SQLITE_FULL');
}

const SQLITE_REASONS: Record<string, string> = {
  SQLITE_FULL: 'no space left on device (SQLITE_FULL)', SQLITE_READONLY: 'the store is read-only (SQLITE_READONLY)',
  SQLITE_CANTOPEN: 'cannot open the file: the folder is read-only or missing (SQLITE_CANTOPEN)',
  SQLITE_IOERR: 'input/output error (SQLITE_IOERR)', SQLITE_CORRUPT: 'the file is damaged (SQLITE_CORRUPT)',
  SQLITE_NOTADB: 'not an SQLite database (SQLITE_NOTADB)',
};
function indexError(root: string, file: string, doing: string, e: unknown): Error {
  const code = String((e as { code?: unknown })?.code ?? '');
  if (code.startsWith('E')) return fileError(file, doing, e);
  const base = Object.keys(SQLITE_REASONS).find((k) => code === k || code.startsWith(k + '_'));
  let why = base ? SQLITE_REASONS[base]! : code || (e as Error)?.message || 'failed';
  if (base === 'SQLITE_CANTOPEN' || base === 'SQLITE_READONLY') {
    try { fs.accessSync(root, fs.constants.W_OK); } catch (a) { why = `${(a as NodeJS.ErrnoException).code === 'EROFS' ? 'read-only file system' : 'the folder is not writable'} (${code})`; }
  }
  return Object.assign(new Error(`run store ${root}: cannot ${doing} its index ${file}: ${why}`), { code });
}
function fromRow(r: Row): RunRecord {
  return {
    id: r.id as string, module: r.module as string, command: r.command as string,
    params: JSON.parse(r.params as string), seed: Number(r.seed), status: r.status as RunStatus,
    created: r.created as string, finished: (r.finished as string) ?? null, error: (r.error as string) ?? null,
    summary: r.summary ? JSON.parse(r.summary as string) : null, dir: r.dir as string,
    pid: r.pid == null ? null : Number(r.pid), resumable: Boolean(r.resumable), device: (r.device as string | null | undefined) ?? null,
    tags: r.tags ? JSON.parse(r.tags as string) : [], notes: (r.notes as string) ?? '',
  };
}

/** Moves staged files into <dir>/inputs/ (same names); returns parameter -> the moved file. */
function moveInputs(dir: string, inputs: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  const entries = Object.entries(inputs);
  if (!entries.length) return out;
  const to = path.join(dir, 'inputs');
  fs.mkdirSync(to, { recursive: true });
  for (const [param, staged] of entries) {
    const dest = path.join(to, path.basename(staged));
    try { fs.renameSync(staged, dest); } catch (e) { throw fileError(staged, `move into ${to}`, e); }
    out[param] = dest;
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Metrics rows → CSV text (union of keys as header, in first-seen order). */
export function toCsv(rows: Record<string, unknown>[]): string {
  const cols: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const cell = (v: unknown) => {
    if (v == null) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n') + '\n';
}

export function writeCsv(file: string, rows: Record<string, unknown>[]): void {
  writeFileAtomic(file, toCsv(rows));
}
