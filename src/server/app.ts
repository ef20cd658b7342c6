// The dashboard's HTTP API, generated from the module registry, over the run store.
// Runs execute in worker processes (never in the server); events stream to pages by SSE.
// It answers only its own page: see security.ts (Host, Origin, token, content type, files) and
// src/core/paths.ts (where a run's path parameters may point).
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { listModules, getCommand, validateParams, describeParams, describeMetrics, paramsJsonSchema } from '../core/registry.ts';
import { RunStore, type RunRecord, type RunSortKey } from '../core/runs.ts';
import type { RunEvent } from '../core/runner.ts';
import { httpStatusOf, reviveError } from '../core/errors.ts';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { confinePaths, realFolders, type PathPolicy } from '../core/paths.ts';
import { registerUploadRoutes, stagedInputs, UPLOAD_ROUTE, DEFAULT_MAX_UPLOAD } from './uploads.ts';
import { registerManageRoutes } from './manage.ts';
import { registerPreviewRoutes } from './preview.ts';
import { TOKEN_HEADER, TOKEN_META, newToken, tokenChecker, mediaType, isPlainObject, readRegularFileInside, realFileInside } from './security.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const WEB = path.join(ROOT, 'web');
// The worker beside this file: worker.ts through tsx when the server runs from src/, the compiled
// worker.js (plain node, no tsx) when it runs from dist/.
const OWN_EXT = path.extname(fileURLToPath(import.meta.url));
const WORKER_ARGS = OWN_EXT === '.ts' ? ['--import', 'tsx', path.join(here, 'worker.ts')] : [path.join(here, 'worker' + OWN_EXT)];
/** A dependency's folder as node finds it from here: ROOT/node_modules in a checkout, a parent node_modules when paperlab is itself installed (hoisted). */
function packageDir(name: string): string {
  for (let d = here; ; d = path.dirname(d)) {
    const p = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return p;
    if (path.dirname(d) === d) return path.join(ROOT, 'node_modules', name);
  }
}
// vendor file -> [its package folder, the file]: served only while its real path stays in the package
const VENDOR: Record<string, [string, string]> = Object.fromEntries([['vega', 'vega.min.js'], ['vega-lite', 'vega-lite.min.js']].map(([pkg, file]) => {
  const dir = packageDir(pkg!);
  return [file!, [dir, path.join(dir, 'build', file!)]];
}));
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.jsonl': 'text/plain; charset=utf-8', '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml', '.jpg': 'image/jpeg',
  '.geojson': 'application/geo+json', '.sql': 'text/plain; charset=utf-8', '.nii': 'application/octet-stream',
  '.gz': 'application/gzip', '.safetensors': 'application/octet-stream', '.mha': 'application/octet-stream',
};
export const MAX_BODY = 64 * 1024;

// Headers on every answer: no framing (clickjacking), no sniffing, no cross-origin embedding.
const COMMON_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin', 'referrer-policy': 'no-referrer',
};
// The page: scripts only from here (vega compiles expressions, hence 'unsafe-eval'), inline styles.
const PAGE_CSP = "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
// A run's files: whatever a run wrote (an SVG could carry a script) opens sandboxed, without our origin.
const FILE_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";

// `stopped`: the worker has been sent its one stop signal. A second signal makes a worker exit at
// once without marking its run (the engine's "Ctrl-C twice"), so the server never sends two.
interface Active { child: ChildProcess; events: RunEvent[]; listeners: Set<(e: RunEvent) => void>; done: boolean; id?: string; stopped?: boolean }

export interface AppOptions {
  /** the run store folder */
  root: string;
  /** the secret the page sends back (X-Paperlab-Token) on every state-changing request (default: random) */
  token?: string;
  /** Host header values this server answers to, e.g. allowedHosts('127.0.0.1', 8787); until set (setHosts), every request is refused */
  hosts?: Iterable<string>;
  /** where relative input paths of runs resolve, and the folder runs may read when allowDirs is empty (default: process.cwd()) */
  cwd?: string;
  /** folders runs started here may read and write besides the run folder (paperlab serve --allow-dir) */
  allowDirs?: string[];
  /** the largest file a browser may upload for an input path parameter, in bytes (default 64 MiB) */
  maxUpload?: number;
}

export interface DashboardApp {
  app: Hono<Env>;
  store: RunStore;
  shutdown: () => void;
  /** the per-server token the page carries */
  token: string;
  /** where runs started here may read and write */
  policy: PathPolicy;
  /** sets the Host header values this server answers to (once it knows its port) */
  setHosts: (hosts: Iterable<string>) => void;
}

type Env = { Variables: { body: Record<string, unknown> | undefined } };

export function createApp(o: AppOptions): DashboardApp {
  const store = new RunStore(o.root);
  const active = new Map<string, Active>();
  const app = new Hono<Env>();
  const token = o.token ?? newToken();
  const tokenOk = tokenChecker(token);
  let hosts = new Set([...(o.hosts ?? [])].map((h) => h.toLowerCase()));
  const cwd = path.resolve(o.cwd ?? process.cwd());
  const allow = realFolders(o.allowDirs ?? [], 'allowed folder');
  const policy: PathPolicy = {
    base: cwd,
    inputs: [...new Set([...(allow.length ? allow : realFolders([cwd], 'working folder')), fs.realpathSync(store.root)])],
    outputs: allow,
  };
  const indexHtml = () => fs.readFileSync(path.join(WEB, 'index.html'), 'utf8')
    .replace(/<head>/i, `<head>\n  <meta name="${TOKEN_META}" content="${token}">`);

  const startJob = (job: WorkerJob) => startWorker({ store, active, policy }, job);
  const deps: RouteDeps = { store, active, policy, startWorker: startJob };
  registerGuards(app, { isHost: (h) => hosts.has(h), tokenOk });
  registerRegistryRoutes(app);
  registerUploadRoutes(app, store, o.maxUpload ?? DEFAULT_MAX_UPLOAD);
  const preview = registerPreviewRoutes(app, { store, policy, startRun: startJob });
  registerManageRoutes(app, store, (id) => { const a = active.get(id); return Boolean(a && !a.done); });
  registerRunRoutes(app, deps);
  registerFileRoutes(app, deps);
  registerEventRoutes(app, deps);
  registerFrontEndRoutes(app, indexHtml);

  const shutdown = () => {
    preview.close();
    for (const a of active.values()) if (!a.done) { a.child.stdin?.end(); if (!a.stopped) { a.stopped = true; a.child.kill('SIGTERM'); } }
    store.close();
  };
  const setHosts = (h: Iterable<string>) => { hosts = new Set([...h].map((x) => x.toLowerCase())); };
  return { app, store, shutdown, token, policy, setHosts };
}

type WorkerJob = {
  module: string; command: string; params: Record<string, unknown>; seed: number; resume?: string; nproc?: number; inputs?: Record<string, string>;
};

/** What the route groups share with createApp. */
interface RouteDeps {
  store: RunStore;
  active: Map<string, Active>;
  policy: PathPolicy;
  startWorker: (job: WorkerJob) => Promise<string>;
}

/** Who may ask: the bound Host on every route; for changes, our own origin, the token and JSON. */
function registerGuards(app: Hono<Env>, { isHost, tokenOk }: { isHost: (host: string) => boolean; tokenOk: (t: string | undefined) => boolean }): void {
  // By class (core/errors.ts): usage 400, not found 404, input file 422, conflict 409, else 500.
  app.onError((err, c) => c.json({ error: err.message }, httpStatusOf(err) as ContentfulStatusCode));

  app.use('*', async (c, next) => {
    const host = (c.req.header('host') ?? '').toLowerCase();
    if (!isHost(host)) return c.json({ error: 'forbidden: this server answers only under the address it was started on' }, 403, COMMON_HEADERS);
    await next();
    for (const [k, v] of Object.entries(COMMON_HEADERS)) c.res.headers.set(k, v);
  });
  app.use('/api/*', async (c, next) => {
    const m = c.req.method;
    if (m === 'GET' || m === 'HEAD') return next();
    const own = `http://${c.req.header('host')!.toLowerCase()}`;
    const origin = c.req.header('origin');
    if (origin !== undefined && origin.toLowerCase() !== own) return c.json({ error: 'forbidden: cross-origin request' }, 403);
    const site = c.req.header('sec-fetch-site');
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return c.json({ error: 'forbidden: cross-site request' }, 403);
    if (!tokenOk(c.req.header(TOKEN_HEADER))) return c.json({ error: `forbidden: missing or wrong ${TOKEN_HEADER} header (reload the dashboard page)` }, 403);
    // An upload is the one raw body (its own size limit and content check: uploads.ts).
    const upload = c.req.path === UPLOAD_ROUTE && m === 'POST';
    const want = upload ? 'application/octet-stream' : 'application/json';
    if (mediaType(c.req.header('content-type')) !== want) return c.json({ error: `the body must be sent as Content-Type: ${want}` }, 415);
    await next();
  });
  const jsonLimit = bodyLimit({ maxSize: MAX_BODY, onError: (c) => c.json({ error: `request body over ${MAX_BODY} bytes` }, 413) });
  app.use('/api/*', (c, next) => (c.req.path === UPLOAD_ROUTE ? next() : jsonLimit(c, next)));
  app.use('/api/*', async (c, next) => {
    const m = c.req.method;
    if (m === 'GET' || m === 'HEAD' || c.req.path === UPLOAD_ROUTE) return next();
    // An empty body is no body (stop, resume); anything else must be one JSON object.
    const text = await c.req.text();
    let body: unknown;
    if (text.trim() !== '') {
      try { body = JSON.parse(text); } catch { return c.json({ error: 'the body is not valid JSON' }, 400); }
      if (!isPlainObject(body)) return c.json({ error: 'the body must be a JSON object' }, 400);
    }
    c.set('body', body as Record<string, unknown> | undefined);
    await next();
  });
}

function registerRegistryRoutes(app: Hono<Env>): void {
  app.get('/api/modules', (c) => c.json(listModules().map((m) => ({
    name: m.name, title: m.title, description: m.description, papers: m.papers ?? [],
    commands: m.commands.map((cmd) => ({
      name: cmd.name, description: cmd.description, quick: Boolean(cmd.quick), resumable: Boolean(cmd.resumable),
      positional: cmd.positional ?? [], params: describeParams(cmd), schema: paramsJsonSchema(cmd), metrics: describeMetrics(cmd),
    })),
  }))));
}

/** The runs: list, start, one run, its metrics, stop, resume, and a comparison of runs. */
function registerRunRoutes(app: Hono<Env>, { store, active, policy, startWorker }: RouteDeps): void {
  app.get('/api/runs', (c) => {
    const q = c.req.query();
    const limit = q.limit && /^\d+$/.test(q.limit) ? Math.min(1000, Number(q.limit)) : 200;
    const rows = store.list({ module: q.module, command: q.command, status: q.status as RunRecord['status'], limit,
      text: q.q || undefined, sort: (q.sort || undefined) as RunSortKey | undefined, desc: q.order !== 'asc' });
    return c.json(rows.map(publicRun));
  });

  app.post('/api/runs', async (c) => {
    const body = c.get('body');
    if (!body) return c.json({ error: 'the body must be a JSON object {module, command, params?, seed?, nproc?}' }, 400);
    if (typeof body.module !== 'string' || typeof body.command !== 'string') return c.json({ error: 'module and command are required strings' }, 400);
    if (body.params !== undefined && !isPlainObject(body.params)) return c.json({ error: 'params must be a JSON object' }, 400);
    const cmd = getCommand(body.module, body.command);
    const inputs = stagedInputs(store, body.module, body.command, body.uploads);
    const params = validateParams(cmd, { ...(body.params as object ?? {}), ...inputs }, `${body.module} ${body.command}`);
    const seed = body.seed === undefined ? 0 : body.seed;
    if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) return c.json({ error: 'seed must be a non-negative integer' }, 400);
    // Path parameters: refused here (400, nothing created) when they point outside the allowed folders.
    confinePaths(params, describeParams(cmd), policy);
    // data-parallel worker processes (the CLI's --nproc): the run's worker launches them
    const nproc = body.nproc === undefined ? 1 : body.nproc;
    if (typeof nproc !== 'number' || !Number.isInteger(nproc) || nproc < 1 || nproc > 64) return c.json({ error: 'nproc must be an integer from 1 to 64' }, 400);
    const id = await startWorker({ module: body.module, command: body.command, params, seed, nproc, inputs });
    return c.json({ id }, 201);
  });

  app.get('/api/runs/:id', (c) => {
    const r = store.get(c.req.param('id'));
    const files = store.files(r.id);
    return c.json({ ...publicRun(r), files, active: active.has(r.id) && !active.get(r.id)!.done });
  });

  app.get('/api/runs/:id/metrics/:table', (c) => {
    const table = c.req.param('table');
    if (!/^[a-z0-9_-]+$/i.test(table)) return c.json({ error: 'bad table name' }, 400);
    const r = store.get(c.req.param('id'));
    const f = readRegularFileInside(r.dir, `${table}.jsonl`);
    if (!f.ok) return c.json([]);
    const rows = f.data.toString('utf8').split('\n').filter((l) => l.trim()).flatMap((l) => { try { return [JSON.parse(l)]; } catch { return []; } });
    return c.json(rows);
  });

  app.post('/api/runs/:id/stop', (c) => {
    const r = store.get(c.req.param('id'));
    const a = active.get(r.id);
    if (!a || a.done) return c.json({ error: `run ${r.id} is not running here` }, 409);
    // A signal, not a stdin line: a worker computing synchronously reads stdin only when its loop
    // ends, while the engine sees SIGINT at once and the run stops within a step.
    if (!a.stopped) { a.stopped = true; a.child.kill('SIGINT'); }
    return c.json({ ok: true });
  });

  app.post('/api/runs/:id/resume', async (c) => {
    const r = store.get(c.req.param('id'));
    if (r.status !== 'interrupted' && r.status !== 'failed') return c.json({ error: `run ${r.id} is ${r.status}` }, 409);
    if (!r.resumable) return c.json({ error: `${r.module} ${r.command} cannot resume` }, 409);
    // The stored parameters may come from the CLI (no confinement): check them as for a new run.
    confinePaths(r.params, describeParams(getCommand(r.module, r.command)), policy, r.dir);
    const id = await startWorker({ module: r.module, command: r.command, params: r.params, seed: r.seed, resume: r.id });
    return c.json({ id }, 202);
  });

  app.get('/api/compare', (c) => {
    const ids = (c.req.query('ids') ?? '').split(',').filter(Boolean);
    if (ids.length < 2) return c.json({ error: 'give two or more run ids: ?ids=a,b' }, 400);
    const rs = ids.map((id) => store.get(id));
    const keys = [...new Set(rs.flatMap((r) => Object.keys(r.params)))];
    const differing = keys.filter((k) => new Set(rs.map((r) => JSON.stringify(r.params[k]))).size > 1);
    return c.json({ runs: rs.map(publicRun), differing });
  });
}

function registerFileRoutes(app: Hono<Env>, { store }: RouteDeps): void {
  // A run's files: regular files inside its folder only (no symlinks, even pointing inside).
  app.get('/api/runs/:id/files/*', (c) => {
    const id = c.req.param('id');
    const r = store.get(id);
    const raw = new URL(c.req.url).pathname;
    const at = raw.indexOf('/files/');
    let rel: string;
    try { rel = decodeURIComponent(raw.slice(at + '/files/'.length)); } catch { return c.json({ error: 'bad file path' }, 400); }
    const f = readRegularFileInside(r.dir, rel);
    if (!f.ok) return c.json({ error: f.status === 400 ? 'bad file path' : `no file '${rel}' in run ${r.id}` }, f.status);
    return new Response(f.data, { headers: { 'content-type': TYPES[path.extname(f.file).toLowerCase()] ?? 'application/octet-stream', 'content-security-policy': FILE_CSP } });
  });
}

/** A run's events by SSE: the history so far, then live events until its end. */
function registerEventRoutes(app: Hono<Env>, { store, active }: RouteDeps): void {
  app.get('/api/runs/:id/events', (c) => {
    const r = store.get(c.req.param('id'));
    return streamSSE(c, async (s) => {
      const a = active.get(r.id);
      if (!a || a.done) {
        for (const e of a?.events ?? []) await s.writeSSE({ data: JSON.stringify(e) });
        await s.writeSSE({ data: JSON.stringify({ type: 'end', run: publicRun(store.get(r.id)) }) });
        return;
      }
      const queue: RunEvent[] = [...a.events];
      let wake: (() => void) | null = null;
      const listener = (e: RunEvent) => { queue.push(e); wake?.(); };
      a.listeners.add(listener);
      s.onAbort(() => { a.listeners.delete(listener); wake?.(); });
      try {
        while (!s.aborted) {
          while (queue.length) {
            const e = queue.shift()!;
            await s.writeSSE({ data: JSON.stringify(e.type === 'end' || e.type === 'start' ? { ...e, run: publicRun(e.run) } : e) });
            if (e.type === 'end') return;
          }
          await new Promise<void>((res) => { wake = res; setTimeout(res, 15000); });
          wake = null;
          if (!queue.length && !s.aborted) await s.writeSSE({ event: 'ping', data: '{}' });
        }
      } finally {
        a.listeners.delete(listener);
      }
    });
  });
}

/** The front end: web/ and two vendor files, nothing else; unknown API routes are 404. */
function registerFrontEndRoutes(app: Hono<Env>, indexHtml: () => string): void {
  app.get('/vendor/:file', (c) => {
    const v = VENDOR[c.req.param('file')];
    const f = v ? realFileInside(v[0], v[1]) : null;
    if (!f) return c.json({ error: 'not found' }, 404);
    return new Response(fs.readFileSync(f), { headers: { 'content-type': TYPES['.js']!, 'cache-control': 'max-age=3600' } });
  });
  app.all('/api/*', (c) => c.json({ error: `no such API route: ${c.req.method} ${c.req.path}` }, 404));
  // The page (with this server's token; never cached, a restarted server has a new one) and web/.
  const page = () => new Response(indexHtml(), { headers: { 'content-type': TYPES['.html']!, 'cache-control': 'no-store', 'content-security-policy': PAGE_CSP } });
  app.get('*', (c) => {
    const rel = c.req.path.replace(/^\/+/, '');
    if (rel === '' || rel === 'index.html') return page();
    const want = path.resolve(WEB, rel);
    const f = want.startsWith(WEB + path.sep) ? realFileInside(WEB, want) : null;
    if (!f) return page();
    return new Response(fs.readFileSync(f), { headers: { 'content-type': TYPES[path.extname(f)] ?? 'application/octet-stream' } });
  });
}

/** Starts a run in a worker process; resolves with its id once the worker reports the start. */
function startWorker({ store, active, policy }: Pick<RouteDeps, 'store' | 'active' | 'policy'>, job: WorkerJob): Promise<string> {
  const child = spawn(process.execPath, WORKER_ARGS, {
    cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, PAPERLAB_THREADS: process.env.PAPERLAB_THREADS ?? '1' },
  });
  const a: Active = { child, events: [], listeners: new Set(), done: false };
  let stderr = '';
  child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
  child.stdin!.write(JSON.stringify({ ...job, root: store.root, policy }) + '\n');
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
        let e: RunEvent | { type: 'error'; message: string; name?: string };
        try { e = JSON.parse(line); } catch { continue; }
        if (e.type === 'error') { if (!a.id) reject(reviveError(e.name, e.message)); continue; }
        if (e.type === 'start') { a.id = e.run.id; active.set(e.run.id, a); resolve(e.run.id); }
        if (e.type === 'progress' || e.type === 'metric' || e.type === 'log') {
          // keep a bounded history for late subscribers
          if (a.events.length > 5000) a.events.splice(1, 1000);
        }
        a.events.push(e);
        if (e.type === 'end') a.done = true;
        for (const l of a.listeners) l(e);
      }
    });
    child.on('exit', (code) => {
      if (!a.id) reject(new Error(`run worker exited (${code}) before starting: ${stderr.trim().split('\n').pop() ?? ''}`));
      if (!a.done && a.id) {
        a.done = true;
        const end: RunEvent = { type: 'end', run: store.get(a.id) };
        a.events.push(end);
        for (const l of a.listeners) l(end);
      }
    });
  });
}

function publicRun(r: RunRecord): Omit<RunRecord, 'dir' | 'pid'> {
  const { dir: _d, pid: _p, ...rest } = r;
  return rest;
}
