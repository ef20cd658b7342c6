// The dashboard's HTTP API, generated from the module registry, over the run store.
// Runs execute in worker processes (never in the server); events stream to pages by SSE.
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { streamSSE } from 'hono/streaming';
import { listModules, getCommand, validateParams, describeParams, paramsJsonSchema, UsageError } from '../core/registry.ts';
import { RunStore, type RunRecord } from '../core/runs.ts';
import type { RunEvent } from '../core/runner.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const WEB = path.join(ROOT, 'web');
const VENDOR: Record<string, string> = {
  'vega.min.js': path.join(ROOT, 'node_modules/vega/build/vega.min.js'),
  'vega-lite.min.js': path.join(ROOT, 'node_modules/vega-lite/build/vega-lite.min.js'),
};
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.json': 'application/json', '.jsonl': 'text/plain; charset=utf-8', '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml', '.jpg': 'image/jpeg',
  '.geojson': 'application/geo+json', '.sql': 'text/plain; charset=utf-8', '.nii': 'application/octet-stream',
  '.gz': 'application/gzip', '.safetensors': 'application/octet-stream', '.mha': 'application/octet-stream',
};
export const MAX_BODY = 64 * 1024;

interface Active { child: ChildProcess; events: RunEvent[]; listeners: Set<(e: RunEvent) => void>; done: boolean; id?: string }

export interface AppOptions { root: string }

export function createApp(o: AppOptions): { app: Hono; store: RunStore; shutdown: () => void } {
  const store = new RunStore(o.root);
  const active = new Map<string, Active>();
  const app = new Hono();

  app.onError((err, c) => {
    const status = err instanceof UsageError || /^bad run id|outside run|no run '/.test(err.message) ? (/no run '/.test(err.message) ? 404 : 400) : 500;
    return c.json({ error: err.message }, status);
  });
  app.use('/api/*', bodyLimit({ maxSize: MAX_BODY, onError: (c) => c.json({ error: `request body over ${MAX_BODY} bytes` }, 413) }));

  // ---- registry
  app.get('/api/modules', (c) => c.json(listModules().map((m) => ({
    name: m.name, title: m.title, description: m.description, papers: m.papers ?? [],
    commands: m.commands.map((cmd) => ({
      name: cmd.name, description: cmd.description, quick: Boolean(cmd.quick), resumable: Boolean(cmd.resumable),
      positional: cmd.positional ?? [], params: describeParams(cmd), schema: paramsJsonSchema(cmd),
    })),
  }))));

  // ---- runs
  app.get('/api/runs', (c) => {
    const q = c.req.query();
    const rows = store.list({ module: q.module, command: q.command, status: q.status as RunRecord['status'], limit: q.limit ? Math.min(1000, Number(q.limit)) : 200 });
    return c.json(rows.map(publicRun));
  });

  app.post('/api/runs', async (c) => {
    let body: { module?: unknown; command?: unknown; params?: unknown; seed?: unknown };
    try { body = await c.req.json(); } catch { return c.json({ error: 'body must be JSON' }, 400); }
    if (typeof body.module !== 'string' || typeof body.command !== 'string') return c.json({ error: 'module and command are required strings' }, 400);
    const cmd = getCommand(body.module, body.command);
    const params = validateParams(cmd, (body.params ?? {}) as Record<string, unknown>, `${body.module} ${body.command}`);
    const seed = body.seed === undefined ? 0 : Number(body.seed);
    if (!Number.isInteger(seed) || seed < 0) return c.json({ error: 'seed must be a non-negative integer' }, 400);
    const id = await startWorker({ module: body.module, command: body.command, params, seed });
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
    const f = store.fileOf(c.req.param('id'), `${table}.jsonl`);
    if (!fs.existsSync(f)) return c.json([]);
    const rows = fs.readFileSync(f, 'utf8').split('\n').filter((l) => l.trim()).flatMap((l) => { try { return [JSON.parse(l)]; } catch { return []; } });
    return c.json(rows);
  });

  app.get('/api/runs/:id/files/*', (c) => {
    const id = c.req.param('id');
    const rel = decodeURIComponent(c.req.path.split(`/api/runs/${id}/files/`)[1] ?? '');
    if (!rel || rel.split(/[\\/]/).includes('..') || path.isAbsolute(rel)) return c.json({ error: 'bad file path' }, 400);
    const f = store.fileOf(id, rel);
    if (!fs.existsSync(f) || !fs.statSync(f).isFile()) return c.json({ error: `no file '${rel}' in run ${id}` }, 404);
    return new Response(fs.readFileSync(f), { headers: { 'content-type': TYPES[path.extname(f).toLowerCase()] ?? 'application/octet-stream' } });
  });

  app.post('/api/runs/:id/stop', (c) => {
    const r = store.get(c.req.param('id'));
    const a = active.get(r.id);
    if (!a || a.done) return c.json({ error: `run ${r.id} is not running here` }, 409);
    // A signal, not a stdin line: a worker computing synchronously reads stdin only when its loop
    // ends, while the engine sees SIGINT at once and the run stops within a step.
    a.child.kill('SIGINT');
    return c.json({ ok: true });
  });

  app.post('/api/runs/:id/resume', async (c) => {
    const r = store.get(c.req.param('id'));
    if (r.status !== 'interrupted' && r.status !== 'failed') return c.json({ error: `run ${r.id} is ${r.status}` }, 409);
    if (!r.resumable) return c.json({ error: `${r.module} ${r.command} cannot resume` }, 409);
    const id = await startWorker({ module: r.module, command: r.command, params: r.params, seed: r.seed, resume: r.id });
    return c.json({ id }, 202);
  });

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

  app.get('/api/compare', (c) => {
    const ids = (c.req.query('ids') ?? '').split(',').filter(Boolean);
    if (ids.length < 2) return c.json({ error: 'give two or more run ids: ?ids=a,b' }, 400);
    const rs = ids.map((id) => store.get(id));
    const keys = [...new Set(rs.flatMap((r) => Object.keys(r.params)))];
    const differing = keys.filter((k) => new Set(rs.map((r) => JSON.stringify(r.params[k]))).size > 1);
    return c.json({ runs: rs.map(publicRun), differing });
  });

  // ---- front end: web/ and two vendor files, nothing else
  app.get('/vendor/:file', (c) => {
    const f = VENDOR[c.req.param('file')];
    if (!f || !fs.existsSync(f)) return c.json({ error: 'not found' }, 404);
    return new Response(fs.readFileSync(f), { headers: { 'content-type': TYPES['.js']!, 'cache-control': 'max-age=3600' } });
  });
  app.get('*', (c) => {
    const rel = c.req.path === '/' ? 'index.html' : c.req.path.replace(/^\/+/, '');
    const f = path.resolve(WEB, rel);
    if (!f.startsWith(WEB + path.sep) || !fs.existsSync(f) || !fs.statSync(f).isFile()) {
      return new Response(fs.readFileSync(path.join(WEB, 'index.html')), { headers: { 'content-type': TYPES['.html']! } });
    }
    return new Response(fs.readFileSync(f), { headers: { 'content-type': TYPES[path.extname(f)] ?? 'application/octet-stream' } });
  });

  function startWorker(job: { module: string; command: string; params: Record<string, unknown>; seed: number; resume?: string }): Promise<string> {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'worker.ts')], {
      cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PAPERLAB_THREADS: process.env.PAPERLAB_THREADS ?? '1' },
    });
    const a: Active = { child, events: [], listeners: new Set(), done: false };
    let stderr = '';
    child.stderr!.on('data', (d) => { stderr = (stderr + d).slice(-4000); });
    child.stdin!.write(JSON.stringify({ ...job, root: store.root }) + '\n');
    return new Promise((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl); buf = buf.slice(nl + 1);
          let e: RunEvent | { type: 'error'; message: string };
          try { e = JSON.parse(line); } catch { continue; }
          if (e.type === 'error') { if (!a.id) reject(new UsageError(e.message)); continue; }
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

  const shutdown = () => {
    for (const a of active.values()) if (!a.done) { a.child.stdin?.end(); a.child.kill('SIGTERM'); }
    store.close();
  };
  return { app, store, shutdown };
}

function publicRun(r: RunRecord): Omit<RunRecord, 'dir' | 'pid'> {
  const { dir: _d, pid: _p, ...rest } = r;
  return rest;
}
