// The dashboard in a real browser (Debian's Chromium through playwright-core), and the API's
// guards: path traversal, oversized bodies, invalid parameters, a server killed mid-run. Requests
// that change something carry the server's token, read from the page as a same-origin client
// would (test/server/security.test.ts covers the refusals).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { CHROMIUM, launchBrowser, skipWithoutChromium, screenshotDir, startDashboard, type Dashboard } from '../helpers/dashboard.ts';
import sharp from 'sharp';
import http from 'node:http';
import { RunStore } from '../../src/core/runs.ts';

const haveChromium = skipWithoutChromium === false;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-web-'));
const shots = screenshotDir();

const startServer = (port: number, root = home): Promise<Dashboard> => startDashboard(port, root);
/** The token the page carries (<meta name="paperlab-token">): what a same-origin client reads. */
async function tokenOf(url: string): Promise<string> {
  const m = /<meta name="paperlab-token" content="([^"]+)">/.exec(await (await fetch(url + '/')).text());
  assert.ok(m, 'the page has no token');
  return m[1]!;
}
const jsonHeaders = (token: string) => ({ 'content-type': 'application/json', 'x-paperlab-token': token });
const stop = (c: ChildProcess, sig: NodeJS.Signals = 'SIGTERM') => new Promise((r) => { if (c.exitCode !== null) r(null); else { c.once('exit', r); c.kill(sig); } });

let server: { child: ChildProcess; url: string };
before(async () => { server = await startServer(18000 + (process.pid % 1000)); });
after(async () => { await stop(server.child); });

/** Not blank: a screenshot whose pixels vary (text, plots) rather than one flat colour. */
async function assertNotBlank(file: string): Promise<void> {
  const stats = await sharp(file).stats();
  const spread = stats.channels.slice(0, 3).reduce((s, c) => s + c.stdev, 0) / 3;
  assert.ok(spread > 8, `${file} looks blank (pixel stdev ${spread.toFixed(1)})`);
}

test('API: path traversal, oversized bodies and invalid parameters are rejected with 4xx and nothing written', async () => {
  const before = fs.readdirSync(home).sort();
  const u = server.url;
  const headers = jsonHeaders(await tokenOf(u));
  for (const p of ['/api/runs/..%2F..%2Fetc/files/passwd', '/api/runs/x/files/..%2F..%2Fetc%2Fpasswd', '/api/runs/x/files/%2Fetc%2Fpasswd', '/../../etc/passwd']) {
    const r = await fetch(u + p);
    const text = await r.text();
    assert.ok(!text.includes('root:x:0:0'), `${p} leaked a system file`);
    if (p.startsWith('/api')) assert.ok(r.status >= 400 && r.status < 500, `${p} gave ${r.status}`);
  }
  // The server may answer 413 and close before the upload ends: read the status from the response event.
  const bigStatus = await new Promise<number>((resolve, reject) => {
    const body = JSON.stringify({ module: 'demo', command: 'fit-line', params: { pad: 'x'.repeat(200_000) } });
    const req = http.request(u + '/api/runs', { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => { res.resume(); resolve(res.statusCode!); });
    req.on('error', (e) => setTimeout(() => reject(e), 1000));
    req.end(body);
  });
  assert.equal(bigStatus, 413);
  const bad = await fetch(u + '/api/runs', { method: 'POST', headers, body: JSON.stringify({ module: 'demo', command: 'fit-line', params: { lr: -1 } }) });
  assert.equal(bad.status, 400);
  assert.match((await bad.json() as { error: string }).error, /parameter 'lr'/);
  const unknown = await fetch(u + '/api/runs', { method: 'POST', headers, body: JSON.stringify({ module: 'demo', command: 'fit-line', params: { nope: 1 } }) });
  assert.equal(unknown.status, 400);
  const mod = await fetch(u + '/api/runs', { method: 'POST', headers, body: JSON.stringify({ module: 'nosuch', command: 'x' }) });
  assert.equal(mod.status, 404);
  const notJson = await fetch(u + '/api/runs', { method: 'POST', headers, body: '{' });
  assert.equal(notJson.status, 400);
  const badNproc = await fetch(u + '/api/runs', { method: 'POST', headers, body: JSON.stringify({ module: 'demo', command: 'fit-line', nproc: 0 }) });
  assert.equal(badNproc.status, 400);
  assert.match((await badNproc.json() as { error: string }).error, /nproc must be an integer from 1 to 64/);
  assert.deepEqual(fs.readdirSync(home).filter((f) => !f.startsWith('index.sqlite')).sort(), before.filter((f) => !f.startsWith('index.sqlite')));
  const runs = await (await fetch(u + '/api/runs')).json() as unknown[];
  assert.equal(runs.length, 0);
});

test('browser: launch a run from the generated form, see progress reach 100 %, its plot, then compare two runs', { skip: haveChromium ? false : `no ${CHROMIUM}` }, async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url + '/');
    await page.waitForSelector('[data-testid=quick-demo]');
    await page.screenshot({ path: path.join(shots, 'home.png'), fullPage: true });
    await assertNotBlank(path.join(shots, 'home.png'));

    const runFromForm = async (epochs: number, lr: number) => {
      await page.goto(server.url + '/#/m/demo');
      const form = page.locator('[data-testid=form-fit-line]');
      await form.locator('input[data-param=epochs]').fill(String(epochs));
      await form.locator('input[data-param=lr]').fill(String(lr));
      await form.locator('[data-testid=run-fit-line]').click();
      await page.waitForURL(/#\/r\//);
      await page.waitForSelector('[data-testid=progress] [data-pct="100"]', { timeout: 120_000 });
      await page.waitForSelector('[data-testid=gallery] img[data-file="loss.png"]', { timeout: 60_000 });
      await page.waitForSelector('[data-testid=status].status-done', { timeout: 60_000 });
      await page.waitForSelector('[data-testid=charts] svg', { timeout: 30_000 });
      return decodeURIComponent(page.url().split('#/r/')[1]!);
    };
    const a = await runFromForm(120, 0.1);
    const img = page.locator('[data-testid=gallery] img[data-file="loss.png"]');
    // Runs in the page: the element is an <img> (typed loosely here; tsconfig has no DOM lib).
    type Img = { complete: boolean; naturalWidth: number; onload: unknown };
    await img.evaluate((el) => (el as unknown as Img).complete || new Promise((r) => { (el as unknown as Img).onload = r; }));
    assert.ok(await img.evaluate((el) => (el as unknown as Img).naturalWidth > 100), 'plot image did not load');
    await page.screenshot({ path: path.join(shots, 'run.png'), fullPage: true });
    await assertNotBlank(path.join(shots, 'run.png'));
    const b = await runFromForm(120, 0.02);

    await page.goto(server.url + '/#/m/demo');
    await page.waitForSelector('[data-testid=runs]');
    await page.locator(`input[data-run="${a}"]`).check();
    await page.locator(`input[data-run="${b}"]`).check();
    await page.locator('[data-testid=compare]').click();
    await page.waitForSelector('[data-testid=compare-charts] svg');
    const diff = await page.locator('[data-testid=param-diff]').innerText();
    assert.match(diff, /lr/);
    assert.match(diff, /0\.02/);
    const series = await page.locator('[data-testid=compare-charts] [data-metric="metrics.loss"] svg path').count();
    assert.ok(series >= 2, `expected an overlaid curve per run, saw ${series} paths`);
    await page.screenshot({ path: path.join(shots, 'compare.png'), fullPage: true });
    await assertNotBlank(path.join(shots, 'compare.png'));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

const launch = launchBrowser;
async function apiRun(body: Record<string, unknown>): Promise<string> {
  const r = await fetch(server.url + '/api/runs', { method: 'POST', headers: jsonHeaders(await tokenOf(server.url)), body: JSON.stringify(body) });
  assert.equal(r.status, 201, await r.clone().text());
  const { id } = await r.json() as { id: string };
  for (const until = Date.now() + 120_000; Date.now() < until;) {
    const info = await (await fetch(`${server.url}/api/runs/${id}`)).json() as { status: string; active: boolean };
    if (info.status !== 'running' && !info.active) return id;
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`run ${id} did not finish`);
}

test('browser: tag a run, find it by search, delete it through the confirmation dialog; its log and summary table show', { skip: haveChromium ? false : `no ${CHROMIUM}` }, async () => {
  const keep = await apiRun({ module: 'demo', command: 'fit-line', params: { epochs: 20 } });
  const gone = await apiRun({ module: 'demo', command: 'fit-line', params: { epochs: 30 } });
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/#/r/${encodeURIComponent(gone)}`);
    // a finished run: its log comes from log.txt, its summary is a table (no stray "null")
    await page.locator('[data-testid=log]', { hasText: 'start demo fit-line' }).waitFor();
    await page.waitForSelector('table[data-testid=summary] th');
    await page.locator('[data-testid=tags]').fill('doomed, sweep');
    await page.locator('[data-testid=notes]').fill('to be deleted');
    await page.locator('[data-testid=save-notes]').click();
    await page.waitForSelector('text=saved');

    await page.goto(server.url + '/#/m/demo');
    await page.waitForSelector(`[data-testid=runs] tr[data-row="${keep}"]`);
    assert.doesNotMatch(await page.locator('main').innerText(), /^\s*null\s*$/m, 'a stray "null" on the demo page');
    await page.locator('[data-testid=run-search]').fill('doomed');
    await page.locator(`[data-testid=runs] tr[data-row="${keep}"]`).waitFor({ state: 'detached' });
    assert.equal(await page.locator('[data-testid=runs] tr[data-row]').count(), 1);
    assert.match(await page.locator(`tr[data-row="${gone}"]`).innerText(), /doomed/);
    await page.locator('[data-testid=run-search]').fill('');
    await page.waitForSelector(`[data-testid=runs] tr[data-row="${keep}"]`);

    // Cancel keeps it; Delete removes the row, the folder and the API record.
    await page.locator(`tr[data-row="${gone}"] [data-testid=delete]`).click();
    await page.waitForSelector('dialog[data-testid=confirm-delete][open]');
    await page.screenshot({ path: path.join(shots, 'delete-dialog.png') });
    await assertNotBlank(path.join(shots, 'delete-dialog.png'));
    await page.locator('[data-testid=confirm-delete-no]').click();
    assert.ok(fs.existsSync(path.join(home, gone)));
    await page.locator(`tr[data-row="${gone}"] [data-testid=delete]`).click();
    await page.locator('[data-testid=confirm-delete-yes]').click();
    await page.locator(`[data-testid=runs] tr[data-row="${gone}"]`).waitFor({ state: 'detached' });
    assert.equal(fs.existsSync(path.join(home, gone)), false);
    assert.ok(fs.existsSync(path.join(home, keep)));
    assert.equal((await fetch(`${server.url}/api/runs/${gone}`)).status, 404);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('browser: a nested summary renders as nested tables, long arrays cut with a count, the page no wider than the window', { skip: haveChromium ? false : `no ${CHROMIUM}` }, async () => {
  const store = new RunStore(home);
  const r = store.create('demo', 'fit-line', {}, 0);
  const summary = {
    fit: { a: 2.5, b: -1, deep: { steps: [1, 2, 3] } },
    perEpoch: Array.from({ length: 30 }, (_, i) => ({ epoch: i, loss: 1 / (i + 1), note: 'x'.repeat(20) })),
    trace: Array.from({ length: 500 }, (_, i) => i / 7),
    missing: null,
  };
  store.update(r.id, { status: 'done', summary, pid: null, finished: new Date().toISOString() });
  store.close();
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    await page.goto(`${server.url}/#/r/${encodeURIComponent(r.id)}`);
    const table = page.locator('table[data-testid=summary]');
    await table.waitFor();
    const text = await table.innerText();
    assert.match(text, /10 more rows \(30 in all\)/);
    assert.match(text, /\(500 in all\)/);
    assert.ok(await table.locator('table').count() >= 3, 'nested objects and the array of rows are tables');
    assert.match(await table.locator('table.rows').first().innerText(), /epoch\s+loss\s+note/);
    assert.ok(Number(await page.evaluate('document.documentElement.scrollWidth')) <= 1280, 'the page grew wider than the window');
    await page.screenshot({ path: path.join(shots, 'summary.png'), fullPage: true });
    await assertNotBlank(path.join(shots, 'summary.png'));
  } finally {
    await browser.close();
  }
});

test('browser: upload a CSV to a command with an input path; the run reads it from its inputs/ folder', { skip: haveChromium ? false : `no ${CHROMIUM}` }, async () => {
  const csv = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pl-up-')), 'my data.csv');
  const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${(2 * (i % 7) - (i * 3) % 5).toFixed(1)}`);
  fs.writeFileSync(csv, ['a,b,y', ...rows].join('\n') + '\n');
  const browser = await launch();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(server.url + '/#/m/orfit');
    const form = page.locator('[data-testid=form-stream-csv]');
    await form.locator('[data-testid=upload-file]').setInputFiles(csv);
    await form.locator('[data-testid=run-stream-csv]').click();
    await page.waitForURL(/#\/r\//);
    await page.waitForSelector('[data-testid=status].status-done', { timeout: 120_000 });
    const id = decodeURIComponent(page.url().split('#/r/')[1]!);
    await page.waitForSelector('[data-testid=files] a[href*="/files/inputs/"]');
    const file = (JSON.parse(fs.readFileSync(path.join(home, id, 'params.json'), 'utf8')) as { params: { file: string } }).params.file;
    assert.equal(path.dirname(file), path.join(fs.realpathSync(home), id, 'inputs'));
    assert.equal(fs.readFileSync(file, 'utf8'), fs.readFileSync(csv, 'utf8'));
    assert.match(await page.locator('[data-testid=params]').innerText(), /inputs/);
    await page.screenshot({ path: path.join(shots, 'upload-run.png'), fullPage: true });
    await assertNotBlank(path.join(shots, 'upload-run.png'));

    // a wrong type is refused on the form, naming the parameter, and no run starts
    const png = path.join(path.dirname(csv), 'not.csv');
    fs.writeFileSync(png, await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toBuffer());
    await page.goto(server.url + '/#/m/orfit');
    await page.locator('[data-testid=form-stream-csv] [data-testid=upload-file]').setInputFiles(png);
    await page.locator('[data-testid=form-stream-csv] [data-testid=run-stream-csv]').click();
    await page.locator('[data-testid=form-stream-csv] .error', { hasText: "parameter 'file'" }).waitFor();
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('killing the server mid-run leaves the run interrupted and resumable', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-kill-'));
  const s = await startServer(19000 + (process.pid % 1000), root);
  const r = await fetch(s.url + '/api/runs', { method: 'POST', headers: jsonHeaders(await tokenOf(s.url)), body: JSON.stringify({ module: 'demo', command: 'fit-line', params: { epochs: 5_000_000, checkpointEvery: 100 } }) });
  assert.equal(r.status, 201);
  const { id } = await r.json() as { id: string };
  const ck = path.join(root, id, 'checkpoints', 'latest.json');
  const deadline = Date.now() + 60_000;
  while (!fs.existsSync(ck) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 200));
  assert.ok(fs.existsSync(ck), 'no checkpoint before the kill');
  await stop(s.child, 'SIGKILL');
  // The worker sees its parent go (stdin closes) and marks the run interrupted.
  const runJson = path.join(root, id, 'run.json');
  const until = Date.now() + 60_000;
  let status = '';
  while (Date.now() < until) {
    status = JSON.parse(fs.readFileSync(runJson, 'utf8')).status;
    if (status !== 'running') break;
    await new Promise((res) => setTimeout(res, 250));
  }
  assert.equal(status, 'interrupted');
  const s2 = await startServer(19500 + (process.pid % 400), root);
  try {
    const info = await (await fetch(`${s2.url}/api/runs/${id}`)).json() as { status: string; resumable: boolean };
    assert.equal(info.status, 'interrupted');
    assert.equal(info.resumable, true);
    // a new server, a new token: the old one is refused
    const t2 = await tokenOf(s2.url);
    assert.equal((await fetch(`${s2.url}/api/runs/${id}/resume`, { method: 'POST', headers: jsonHeaders('stale') })).status, 403);
    const res = await fetch(`${s2.url}/api/runs/${id}/resume`, { method: 'POST', headers: jsonHeaders(t2) });
    assert.equal(res.status, 202);
    // the resumed worker loads its checkpoint before the stop (a stop sent at once can beat the load)
    const log = path.join(root, id, 'log.txt');
    const loaded = Date.now() + 60_000;
    while (!/resuming from epoch \d+/.test(fs.readFileSync(log, 'utf8')) && Date.now() < loaded) await new Promise((res) => setTimeout(res, 200));
    await fetch(`${s2.url}/api/runs/${id}/stop`, { method: 'POST', headers: jsonHeaders(t2) });
  } finally {
    await stop(s2.child);
  }
  assert.match(fs.readFileSync(path.join(root, id, 'log.txt'), 'utf8'), /resuming from epoch \d+/);
});
