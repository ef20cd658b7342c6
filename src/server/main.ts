// `paperlab serve` / `npm start`: the dashboard on http://127.0.0.1:<port> (localhost only by default).
import { serve } from '@hono/node-server';
import { loadModules } from '../modules/index.ts';
import { defaultRoot } from '../core/runs.ts';
import { createApp } from './app.ts';

export interface ServeOptions { port?: number; host?: string; root?: string }

export async function startServer(o: ServeOptions = {}): Promise<{ url: string; close: () => Promise<void> }> {
  await loadModules();
  const root = o.root ?? defaultRoot();
  const host = o.host ?? '127.0.0.1';
  if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') {
    process.stderr.write(`paperlab: warning: binding to ${host} exposes the dashboard beyond this machine\n`);
  }
  const { app, shutdown } = createApp({ root });
  const server = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const s = serve({ fetch: app.fetch, port: o.port ?? 8787, hostname: host }, () => resolve(s));
    s.on('error', reject);
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const url = `http://${host === '::1' ? '[::1]' : host}:${port}`;
  process.stdout.write(`paperlab dashboard: ${url}  (runs in ${root})\n`);
  const close = () => new Promise<void>((res) => { shutdown(); server.close(() => res()); });
  const onSig = () => { void close().then(() => process.exit(0)); };
  process.once('SIGINT', onSig);
  process.once('SIGTERM', onSig);
  return { url, close };
}
