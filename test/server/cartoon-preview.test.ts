// Issue #25: the live preview of `cartoon apply` (POST /api/preview/cartoon/apply) and "Save as
// run" (…/run). Refused like every state-changing route without the token, cross-origin, under a
// foreign Host; unknown run or upload ids are 404; parameters naming files are refused (the input
// is always a file the server chose: the run's photo.png or a staged upload); an oversized body is
// 413. Otherwise the answer is a PNG of the photo's size within the preview pixel budget, and the
// controls change it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { startServer, type Served } from '../../src/server/main.ts';
import { PREVIEW } from '../../src/modules/cartoon/config.ts';

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pl-cprev-')));
const root = path.join(tmp, 'runs');
const FIXTURE = path.resolve('test/fixtures/cartoon/chelsea.png'); // 96×64, CC0 (LICENSE.md there)

let srv: Served;
let port = 0;
let host = '';
let small: Buffer; // 192×128: within the preview budget
let large: Buffer; // 640×427: over it
let runId = '';

interface Reply { status: number; body: string; raw: Buffer; headers: http.IncomingHttpHeaders }
function request(o: { method?: string; path: string; host?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { host: o.host ?? host, ...o.headers };
    if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body);
    const r = http.request({ hostname: '127.0.0.1', port, path: o.path, method: o.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { const raw = Buffer.concat(chunks); resolve({ status: res.statusCode!, body: raw.toString('utf8'), raw, headers: res.headers }); });
    });
    r.on('error', reject);
    r.end(o.body);
  });
}
const json = (extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', 'x-paperlab-token': srv.token, ...extra });
const preview = (body: unknown, headers = json(), route = '/api/preview/cartoon/apply') =>
  request({ method: 'POST', path: route, headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
async function upload(data: Buffer, name: string): Promise<string> {
  const r = await request({ method: 'POST', path: `/api/uploads?module=cartoon&command=apply&param=input&name=${name}`, headers: { ...json(), 'content-type': 'application/octet-stream' }, body: data });
  assert.equal(r.status, 201, r.body);
  return (JSON.parse(r.body) as { upload: string }).upload;
}
async function waitRun(id: string): Promise<{ status: string; error: string | null; files: string[]; summary: Record<string, unknown> | null }> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    const info = JSON.parse((await request({ path: `/api/runs/${id}` })).body) as { status: string; error: string | null; files: string[]; active: boolean; summary: Record<string, unknown> | null };
    if (info.status !== 'running' && !info.active) return info;
    if (Date.now() > deadline) throw new Error(`run ${id} did not finish`);
    await new Promise((res) => setTimeout(res, 250));
  }
}
const pngSize = async (b: Buffer) => { const m = await sharp(b).metadata(); assert.equal(m.format, 'png'); return { w: m.width!, h: m.height! }; };

before(async () => {
  small = await sharp(FIXTURE).resize(192, 128).png().toBuffer();
  large = await sharp(FIXTURE).resize(640, 427).png().toBuffer();
  srv = await startServer({ port: 0, root, cwd: tmp });
  port = Number(new URL(srv.url).port);
  host = `127.0.0.1:${port}`;
  // a cartoon apply run on an uploaded photo: the run keeps its own copy (photo.png) and the cartoon
  const r = await request({ method: 'POST', path: '/api/runs', headers: json(), body: JSON.stringify({ module: 'cartoon', command: 'apply', params: {}, uploads: { input: await upload(small, 'cat.png') } }) });
  assert.equal(r.status, 201, r.body);
  runId = (JSON.parse(r.body) as { id: string }).id;
  const info = await waitRun(runId);
  assert.equal(info.status, 'done', String(info.error));
  assert.ok(info.files.includes('photo.png') && info.files.includes('cartoon.png'), `files: ${info.files}`);
});
let closed = false;
after(async () => { if (!closed) await srv.close(); });

/** Processes whose parent is this test and whose command line runs the preview worker (Linux /proc). */
function previewWorkers(): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid && fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').includes('preview-worker')) out.push(Number(d));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

test('preview: no token, cross-origin, cross-site, foreign Host, wrong content type are refused', async () => {
  const body = JSON.stringify({ run: runId, params: { stroke: 4 } });
  const refusals: [Record<string, string>, string | undefined, number][] = [
    [{ 'content-type': 'application/json' }, undefined, 403],
    [json({ 'x-paperlab-token': 'wrong' }), undefined, 403],
    [json({ origin: 'http://evil.example' }), undefined, 403],
    [json({ 'sec-fetch-site': 'cross-site' }), undefined, 403],
    [json(), 'evil.example:80', 403],
    [json({ 'content-type': 'text/plain' }), undefined, 415],
  ];
  for (const [headers, h, status] of refusals) {
    for (const route of ['/api/preview/cartoon/apply', '/api/preview/cartoon/apply/run']) {
      const r = await request({ method: 'POST', path: route, headers, host: h, body });
      assert.equal(r.status, status, `${route} ${JSON.stringify(headers)} ${h ?? ''}: ${r.body}`);
      assert.notEqual(r.headers['content-type'], 'image/png');
    }
  }
});

test('preview: unknown ids, path-like parameters, wrong commands and oversized bodies are refused', async () => {
  const runsBefore = fs.readdirSync(root).sort();
  const cases: [unknown, number, RegExp?, string?][] = [
    [{ run: 'no-such-run', params: {} }, 404],
    [{ upload: `${'0'.repeat(32)}-input.png`, params: {} }, 404, /no upload/],
    [{ upload: '../index.sqlite' }, 400, /bad upload id/],
    [{ upload: `${'0'.repeat(32)}-input.png/../../x.png` }, 400, /bad upload id/],
    [{ run: runId, upload: `${'0'.repeat(32)}-input.png` }, 400, /exactly one/],
    [{ params: {} }, 400, /exactly one/],
    [{ run: runId, params: { input: '/etc/passwd' } }, 400, /parameter 'input' names a file/],
    [{ run: runId, params: { checkpoint: '/etc/passwd' } }, 400, /parameter 'checkpoint' names a file/],
    [{ run: runId, params: { colourMap: '../../x.png' } }, 400, /parameter 'colourMap' names a file/],
    [{ run: runId, params: { output: '/tmp/x.png' } }, 400, /parameter 'output' names a file/],
    [{ run: runId, params: { stroke: 9 } }, 400, /parameter 'stroke'/],
    [{ run: runId, params: { nope: 1 } }, 400, /unknown parameter 'nope'/],
    [{ run: runId, params: [] }, 400, /params must be a JSON object/],
    [{ run: runId }, 404, /has no preview/, '/api/preview/cartoon/train'],
    [{ run: runId }, 404, /unknown module/, '/api/preview/nosuch/apply'],
  ];
  for (const [body, status, msg, route] of cases) {
    for (const r0 of route ? [route] : ['/api/preview/cartoon/apply', '/api/preview/cartoon/apply/run']) {
      const r = await preview(body, json(), r0);
      assert.equal(r.status, status, `${r0} ${JSON.stringify(body)}: ${r.body}`);
      if (msg) assert.match((JSON.parse(r.body) as { error: string }).error, msg);
      assert.doesNotMatch(r.body, /root:x:0:0/);
    }
  }
  // a run of another command is not a photo to preview
  const other = await request({ method: 'POST', path: '/api/runs', headers: json(), body: JSON.stringify({ module: 'demo', command: 'fit-line', params: { epochs: 2 } }) });
  assert.equal(other.status, 201, other.body);
  const otherId = (JSON.parse(other.body) as { id: string }).id;
  await waitRun(otherId);
  const r = await preview({ run: otherId });
  assert.equal(r.status, 400);
  assert.match((JSON.parse(r.body) as { error: string }).error, /demo fit-line run, not cartoon apply/);
  // an oversized body: 413 before anything is read
  const big = await preview({ run: runId, params: { stroke: 3 }, pad: 'x'.repeat(200_000) });
  assert.equal(big.status, 413);
  assert.deepEqual(fs.readdirSync(root).sort().filter((f) => f !== otherId), runsBefore.filter((f) => f !== otherId));
});

test('preview: a PNG of the photo\'s size within the preview budget; the controls change it; no run is created', async () => {
  const runsBefore = fs.readdirSync(root).sort();
  const a = await preview({ run: runId, params: { stroke: 1, abstraction: 1 } });
  assert.equal(a.status, 200, a.body);
  assert.equal(a.headers['content-type'], 'image/png');
  assert.deepEqual(await pngSize(a.raw), { w: 192, h: 128 }); // within the budget: the run's own size
  const b = await preview({ run: runId, params: { stroke: 5, abstraction: 1 } });
  assert.equal(b.status, 200, b.body);
  const [ra, rb] = await Promise.all([a.raw, b.raw].map((x) => sharp(x).removeAlpha().raw().toBuffer()));
  let diff = 0;
  for (let i = 0; i < ra!.length; i++) diff += Math.abs(ra![i]! - rb![i]!);
  assert.ok(diff / ra!.length > 1, `stroke 1 → 5 changed the preview by only ${(diff / ra!.length).toFixed(2)} per channel`);
  // a large upload: scaled down to the budget, aspect kept
  const id = await upload(large, 'big.png');
  const c = await preview({ upload: id, params: { classic: true, hueShift: 90 } });
  assert.equal(c.status, 200, c.body);
  const { w, h } = await pngSize(c.raw);
  assert.ok(w * h <= PREVIEW.maxPixels && w * h > 0.9 * PREVIEW.maxPixels, `${w}×${h} for a budget of ${PREVIEW.maxPixels} px`);
  assert.ok(Math.abs(w / h - 640 / 427) < 0.03, `aspect ${w}/${h}`);
  assert.deepEqual(fs.readdirSync(root).sort(), runsBefore, 'a preview creates no run');
  // an upload that is no image (a JSON file staged for another parameter kind): 422 naming it, no content echoed
  const notImage = await request({ method: 'POST', path: '/api/uploads?module=cartoon&command=apply&param=input&name=x.json', headers: { ...json(), 'content-type': 'application/octet-stream' },
    body: '{"secret": "s3cr3t-value"}' });
  assert.equal(notImage.status, 201, notImage.body);
  const bad = await preview({ upload: (JSON.parse(notImage.body) as { upload: string }).upload });
  assert.equal(bad.status, 422, bad.body);
  assert.match(bad.body, /not an image/);
  assert.doesNotMatch(bad.body, /s3cr3t/);
});

test('save as run: a full-resolution cartoon apply run with the previewed values, on the run\'s own photo', async () => {
  const r = await preview({ run: runId, params: { stroke: 4.5, abstraction: 3, hueShift: 45 } }, json(), '/api/preview/cartoon/apply/run');
  assert.equal(r.status, 201, r.body);
  const { id } = JSON.parse(r.body) as { id: string };
  const info = await waitRun(id);
  assert.equal(info.status, 'done', String(info.error));
  assert.equal(info.summary?.stroke, 4.5);
  assert.equal(info.summary?.hueShift, 45);
  assert.deepEqual([info.summary?.width, info.summary?.height], [192, 128]);
  assert.ok(info.files.includes('photo.png') && info.files.includes('cartoon.png'), `files: ${info.files}`);
});

test('closing the server ends the one preview worker', { skip: fs.existsSync('/proc/self/stat') ? false : 'no /proc' }, async () => {
  assert.equal(previewWorkers().length, 1, 'one long-lived preview worker served every preview');
  closed = true;
  await srv.close();
  for (const until = Date.now() + 10_000; previewWorkers().length && Date.now() < until;) await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(previewWorkers(), []);
});
