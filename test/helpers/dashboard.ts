// The dashboard in a child process and Debian's Chromium for the browser tests: one place for the
// server start (wait for its "dashboard: <url>" line), its stop, the page's token and the browser
// launch options.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** node:test's skip option: false where Chromium exists, else the reason. */
export const skipWithoutChromium: false | string = fs.existsSync(CHROMIUM) ? false : `no ${CHROMIUM}`;
/** Where screenshots go: PAPERLAB_SCREENSHOTS, else a fresh temporary folder. */
export const screenshotDir = (): string => process.env.PAPERLAB_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pl-shots-'));
/** Debian's Chromium, headless, through playwright-core (loaded only by the tests that drive a browser). */
export async function launchBrowser(): Promise<import('playwright-core').Browser> {
  const { chromium } = await import('playwright-core');
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface Dashboard { child: ChildProcess; url: string }

/** `paperlab serve --port <port> --out <root>` (1 thread), resolved once it prints its address. */
export function startDashboard(port: number, root: string): Promise<Dashboard> {
  const child = spawn(process.execPath, [path.resolve('bin/paperlab.js'), 'serve', '--port', String(port), '--out', root], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PAPERLAB_THREADS: '1' },
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 90_000);
    child.stdout!.on('data', (d) => { out += d; const m = /dashboard: (http:\/\/\S+)/.exec(out); if (m) { clearTimeout(t); resolve({ child, url: m[1]! }); } });
    child.stderr!.on('data', (d) => { out += d; });
    child.on('exit', (c) => { clearTimeout(t); reject(new Error(`server exited ${c}: ${out}`)); });
  });
}

/** Stops a child (the dashboard) and waits for it to exit. */
export const stopChild = (c: ChildProcess | undefined, sig: NodeJS.Signals = 'SIGTERM'): Promise<unknown> =>
  new Promise((r) => { if (!c || c.exitCode !== null) r(null); else { c.once('exit', r); c.kill(sig); } });

/** The token the page carries (<meta name="paperlab-token">), as a same-origin client reads it. */
export async function pageToken(url: string): Promise<string> {
  const m = /<meta name="paperlab-token" content="([^"]+)">/.exec(await (await fetch(url + '/')).text());
  if (!m) throw new Error('the page has no token');
  return m[1]!;
}

/** Starts a run through the API (POST /api/runs with the page's token) and waits until it is done. */
export async function runThroughApi(url: string, body: Record<string, unknown>, timeoutMs: number): Promise<string> {
  const r = await fetch(url + '/api/runs', { method: 'POST', headers: { 'content-type': 'application/json', 'x-paperlab-token': await pageToken(url) }, body: JSON.stringify(body) });
  if (r.status !== 201) throw new Error(`POST /api/runs answered ${r.status}: ${await r.text()}`);
  const { id } = await r.json() as { id: string };
  for (const until = Date.now() + timeoutMs; Date.now() < until;) {
    const info = await (await fetch(`${url}/api/runs/${id}`)).json() as { status: string; active: boolean; error?: string };
    if (info.status !== 'running' && !info.active) {
      if (info.status !== 'done') throw new Error(`run ${id} ended ${info.status}: ${info.error ?? ''}`);
      return id;
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`run ${id} did not finish within ${timeoutMs / 1000} s`);
}

/** Not blank: a screenshot whose pixels vary (text, plots) rather than one flat colour. */
export async function assertNotBlank(file: string): Promise<void> {
  const { default: sharp } = await import('sharp');
  const stats = await sharp(file).stats();
  const spread = stats.channels.slice(0, 3).reduce((s, c) => s + c.stdev, 0) / 3;
  if (!(spread > 8)) throw new Error(`${file} looks blank (pixel stdev ${spread.toFixed(1)})`);
}
