// `paperlab serve` / `npm start`: the dashboard on http://127.0.0.1:<port> (localhost only by default).
import { serve } from '@hono/node-server';
import { loadModules } from '../modules/index.ts';
import { defaultRoot } from '../core/runs.ts';
import { createApp } from './app.ts';
import { allowedHosts } from './security.ts';

export interface ServeOptions {
  port?: number;
  host?: string;
  root?: string;
  /** folders runs started from the dashboard may read and write besides their run folder (--allow-dir) */
  allowDirs?: string[];
  /** where relative input paths resolve; readable when allowDirs is empty (default: process.cwd()) */
  cwd?: string;
  /** the largest browser upload, in bytes (default 64 MiB; --max-upload-mb) */
  maxUpload?: number;
}

export interface Served {
  url: string;
  /** the token the page sends back on every state-changing request (X-Paperlab-Token); for programmatic clients */
  token: string;
  close: () => Promise<void>;
}

export async function startServer(o: ServeOptions = {}): Promise<Served> {
  await loadModules();
  const root = o.root ?? defaultRoot();
  const host = o.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    process.stderr.write(`paperlab: warning: binding to ${host} exposes the dashboard beyond this machine\n`);
  }
  const { app, shutdown, token, policy, setHosts } = createApp({ root, cwd: o.cwd, allowDirs: o.allowDirs, maxUpload: o.maxUpload });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: o.port ?? 8787, hostname: host }, () => resolve(s));
    s.on('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port ?? 8787;
  setHosts(allowedHosts(host, port));
  const url = `http://${host.includes(':') ? `[${host.replace(/^\[|\]$/g, '')}]` : host}:${port}`;
  process.stdout.write(`paperlab dashboard: ${url}  (runs in ${root})\n`);
  process.stdout.write(`  runs started here read from ${policy.inputs.join(', ')}; write into their run folder${policy.outputs.length ? ` or ${policy.outputs.join(', ')}` : ''}\n`);
  const close = () => new Promise<void>((res) => { shutdown(); server.close(() => res()); });
  const onSig = () => { void close().then(() => process.exit(0)); };
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  return { url, token, close };
}
