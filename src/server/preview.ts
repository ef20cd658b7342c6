// Live previews for commands that declare one (CommandSpec.preview, core/registry.ts), e.g. the
// cartoon page's stroke / abstraction / hue controls:
//   POST /api/preview/<module>/<command>       {params?, run | upload}  -> image/png
//   POST /api/preview/<module>/<command>/run   {params?, run | upload}  -> {id}: the same as a real run ("Save as run")
// The input file is never the client's: it is the `runFile` of a run of the same command (the photo
// the run read, copied into its folder) or a staged upload (uploads.ts), named by id. Parameters
// that name files cannot be set by the client; the others are validated by the command's schema,
// over the run's own parameters. The routes sit behind the same Host / Origin / token / JSON / body
// size guards as every other API route (app.ts registerGuards).
// Previews render in ONE long-lived worker process (preview-worker.ts), so the engine and the model
// load once: requests are served one at a time; a request still waiting when a newer one arrives is
// answered 409 (superseded), so at most one runs and one waits; a preview taking longer than
// PREVIEW_TIMEOUT_MS kills the worker (the next request starts a new one); closing the server kills it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Hono, Env } from 'hono';
import { getCommand, describeParams, validateParams, type PreviewSpec, type CommandSpec } from '../core/registry.ts';
import type { RunStore } from '../core/runs.ts';
import { confinePaths, type PathPolicy } from '../core/paths.ts';
import { UsageError, NotFoundError, ConflictError, PaperlabError, reviveError } from '../core/errors.ts';
import { UPLOADS, UPLOAD_ID } from './uploads.ts';
import { isPlainObject } from './security.ts';

export const PREVIEW_ROUTE = '/api/preview';
export const PREVIEW_TIMEOUT_MS = 120_000;

const here = path.dirname(fileURLToPath(import.meta.url));
const OWN_EXT = path.extname(fileURLToPath(import.meta.url));
const WORKER_ARGS = OWN_EXT === '.ts' ? ['--import', 'tsx', path.join(here, 'preview-worker.ts')] : [path.join(here, 'preview-worker' + OWN_EXT)];
const ROOT = path.resolve(here, '../..');

type StartRun = (job: { module: string; command: string; params: Record<string, unknown>; seed: number; inputs?: Record<string, string> }) => Promise<string>;
export interface PreviewDeps { store: RunStore; policy: PathPolicy; startRun: StartRun }

/** A regular file at `rel` below the real folder `dir`, no symlink on the way; else null. */
function regularFileBelow(dir: string, rel: string): string | null {
  if (!fs.lstatSync(dir, { throwIfNoEntry: false })?.isDirectory()) return null;
  let cur = dir;
  const parts = rel.split('/');
  for (const [i, p] of parts.entries()) {
    if (!p || p === '.' || p === '..') return null;
    cur = path.join(cur, p);
    const st = fs.lstatSync(cur, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink() || (i < parts.length - 1 ? !st.isDirectory() : !st.isFile())) return null;
  }
  return cur;
}

interface Resolved { cmd: CommandSpec; spec: PreviewSpec; params: Record<string, unknown>; file: string; seed: number; upload: boolean }

/** The command, its preview, the validated parameters with the server-chosen input file. */
function resolve(store: RunStore, policy: PathPolicy, module: string, command: string, body: Record<string, unknown> | undefined): Resolved {
  const cmd = getCommand(module, command);
  const spec = cmd.preview;
  if (!spec) throw new NotFoundError(`${module} ${command} has no preview`);
  if (!body) throw new UsageError('the body must be a JSON object {params?, run | upload}');
  const given = body.params ?? {};
  if (!isPlainObject(given)) throw new UsageError('params must be a JSON object');
  const infos = describeParams(cmd);
  for (const k of Object.keys(given)) {
    if (infos.some((i) => i.name === k && i.path)) throw new UsageError(`parameter '${k}' names a file: a preview reads the run's or the upload's file, never a path`);
  }
  if ((body.run === undefined) === (body.upload === undefined)) throw new UsageError('give exactly one of run (a run id) or upload (an upload id)');
  let base: Record<string, unknown> = {};
  let file: string | null;
  let runDir: string | undefined;
  let seed = 0;
  if (body.run !== undefined) {
    if (typeof body.run !== 'string') throw new UsageError('run must be a run id');
    const r = store.get(body.run);
    if (r.id !== body.run) throw new NotFoundError(`no run '${body.run}'`);
    if (r.module !== module || r.command !== command) throw new UsageError(`run ${r.id} is a ${r.module} ${r.command} run, not ${module} ${command}`);
    file = regularFileBelow(r.dir, spec.runFile);
    if (!file) throw new NotFoundError(`run ${r.id} has no ${spec.runFile} (it has not read its input yet, or it failed)`);
    // the run's own parameters, less the files it wrote
    base = Object.fromEntries(Object.entries(r.params).filter(([k]) => !infos.some((i) => i.name === k && i.path === 'output')));
    runDir = r.dir;
    seed = r.seed;
  } else {
    if (typeof body.upload !== 'string' || !UPLOAD_ID.test(body.upload)) throw new UsageError('bad upload id');
    file = regularFileBelow(path.join(store.root, UPLOADS), body.upload);
    if (!file) throw new NotFoundError(`no upload '${body.upload}' (upload it again)`);
  }
  const params = validateParams(cmd, { ...base, ...given, [spec.input]: file }, `${module} ${command} preview`);
  // the run's other input files (a checkpoint, a colour map) stay where the dashboard may read
  confinePaths(params, infos, policy, runDir);
  return { cmd, spec, params, file, seed, upload: body.upload !== undefined };
}

interface Job { id: number; module: string; command: string; params: Record<string, unknown>; maxPixels: number }
interface Waiting { job: Job; resolve: (png: Buffer) => void; reject: (e: Error) => void }

/** The one preview worker: one job at a time, one waiting (a newer request supersedes it). */
class PreviewWorker {
  private child: ChildProcess | null = null;
  private busy: (Waiting & { timer: NodeJS.Timeout }) | null = null;
  private waiting: Waiting | null = null;
  private next = 1;
  private closed = false;

  render(job: Omit<Job, 'id'>): Promise<Buffer> {
    if (this.closed) return Promise.reject(new ConflictError('the server is closing'));
    return new Promise((resolve, reject) => {
      this.waiting?.reject(new ConflictError('superseded by a newer preview request'));
      this.waiting = { job: { ...job, id: this.next++ }, resolve, reject };
      this.pump();
    });
  }

  private pump(): void {
    if (this.busy || !this.waiting || this.closed) return;
    const w = this.waiting;
    this.waiting = null;
    const child = this.child ?? this.spawn();
    const timer = setTimeout(() => { child.kill('SIGKILL'); }, PREVIEW_TIMEOUT_MS);
    this.busy = { ...w, timer };
    child.stdin!.write(JSON.stringify(w.job) + '\n');
  }

  private spawn(): ChildProcess {
    const threads = process.env.PAPERLAB_PREVIEW_THREADS ?? String(Math.min(4, os.availableParallelism()));
    const child = spawn(process.execPath, WORKER_ARGS, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PAPERLAB_THREADS: threads } });
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-2000); });
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      let m: { id: number; png?: string; error?: string; name?: string };
      try { m = JSON.parse(line); } catch { return; }
      const b = this.busy;
      if (!b || b.job.id !== m.id) return;
      clearTimeout(b.timer);
      this.busy = null;
      if (m.png !== undefined) b.resolve(Buffer.from(m.png, 'base64'));
      else b.reject(reviveError(m.name, m.error ?? 'preview failed'));
      this.pump();
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      const b = this.busy;
      if (b) {
        clearTimeout(b.timer);
        this.busy = null;
        b.reject(new PaperlabError(`the preview worker stopped (${signal ?? code})${signal === 'SIGKILL' ? ` after ${PREVIEW_TIMEOUT_MS / 1000} s` : ''}: ${stderr.trim().split('\n').pop() ?? ''}`));
      }
      this.pump();
    });
    this.child = child;
    return child;
  }

  close(): void {
    this.closed = true;
    this.waiting?.reject(new ConflictError('the server is closing'));
    this.waiting = null;
    if (this.child) { this.child.stdin?.end(); this.child.kill('SIGTERM'); this.child = null; }
  }
}

/** Registers the preview routes; returns what the server's shutdown calls. */
export function registerPreviewRoutes<E extends Env>(app: Hono<E>, { store, policy, startRun }: PreviewDeps): { close: () => void } {
  const worker = new PreviewWorker();
  const body = (c: { get: (k: 'body') => unknown }) => c.get('body') as Record<string, unknown> | undefined;
  app.post(`${PREVIEW_ROUTE}/:module/:command`, async (c) => {
    const { module, command } = c.req.param() as { module: string; command: string };
    const r = resolve(store, policy, module, command, body(c as never));
    const png = await worker.render({ module, command, params: r.params, maxPixels: r.spec.maxPixels });
    return new Response(new Uint8Array(png), { headers: { 'content-type': 'image/png', 'cache-control': 'no-store' } });
  });
  app.post(`${PREVIEW_ROUTE}/:module/:command/run`, async (c) => {
    const { module, command } = c.req.param() as { module: string; command: string };
    const r = resolve(store, policy, module, command, body(c as never));
    // an upload moves into the new run's inputs/ (as POST /api/runs does); a run's file is read where it is
    const inputs = r.upload ? { [r.spec.input]: r.file } : undefined;
    const id = await startRun({ module, command, params: r.params, seed: r.seed, inputs });
    return c.json({ id }, 201);
  });
  return { close: () => worker.close() };
}
