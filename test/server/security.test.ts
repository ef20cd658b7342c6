// Issue #26: the dashboard obeys only its own page. Cross-origin and cross-site requests, a foreign
// Host (DNS rebinding), a missing or wrong token are refused with 403 and create no run and no file;
// path parameters stay in the allowed folders; run files are served only as regular files (no
// symlinks); malformed bodies are 400, never 500; errors never quote the file a reader was given.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { startServer, type Served } from '../../src/server/main.ts';
import { runCommand } from '../../src/core/runner.ts';
import { RunStore } from '../../src/core/runs.ts';
import { getCommand, describeParams, UsageError } from '../../src/core/registry.ts';
import { confinePaths, type PathPolicy } from '../../src/core/paths.ts';
import { allowedHosts } from '../../src/server/security.ts';

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pl-sec-')));
const work = path.join(tmp, 'work');          // where serve "started": readable, and an --allow-dir
const allowed = path.join(tmp, 'allowed');    // another --allow-dir (outputs may go here)
const outside = path.join(tmp, 'outside');    // neither: nothing may appear here
const root = path.join(tmp, 'runs');
for (const d of [work, allowed, outside]) fs.mkdirSync(d, { recursive: true });
const photo = path.join(work, 'in.png');

let srv: Served;
let port = 0;
let host = '';

before(async () => {
  await sharp({ create: { width: 24, height: 16, channels: 3, background: { r: 200, g: 80, b: 40 } } }).png().toFile(photo);
  srv = await startServer({ port: 0, root, cwd: work, allowDirs: [work, allowed] });
  port = Number(new URL(srv.url).port);
  host = `127.0.0.1:${port}`;
});
after(async () => { await srv.close(); });

interface Reply { status: number; body: string; raw: Buffer; headers: http.IncomingHttpHeaders }
/** node:http, so that Host (and Origin, Sec-Fetch-Site) can be set as a browser or an attacker would. */
function request(o: { method?: string; path: string; host?: string; headers?: Record<string, string>; body?: string | Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { host: o.host ?? host, ...o.headers };
    if (o.body !== undefined) headers['content-length'] = Buffer.byteLength(o.body);
    const r = http.request({ hostname: '127.0.0.1', port, path: o.path, method: o.method ?? 'GET', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { const raw = Buffer.concat(chunks); resolve({ status: res.statusCode!, body: raw.toString('utf8'), raw, headers: res.headers }); });
    });
    r.on('error', reject);
    r.end(o.body);
  });
}
const json = (extra: Record<string, string> = {}) => ({ 'content-type': 'application/json', 'x-paperlab-token': srv.token, ...extra });
const post = (body: unknown, headers = json()) => request({ method: 'POST', path: '/api/runs', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });

/** What the store holds: the run folders and the index rows. */
function storeState(): { dirs: string[]; rows: number } {
  const dirs = fs.readdirSync(root).filter((f) => !f.startsWith('index.sqlite')).sort();
  const s = new RunStore(root);
  try { return { dirs, rows: s.list().length }; } finally { s.close(); }
}

async function waitRun(id: string): Promise<{ status: string; error: string | null; files: string[]; dir?: string }> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await request({ path: `/api/runs/${id}` });
    const info = JSON.parse(r.body) as { status: string; error: string | null; files: string[]; active: boolean };
    if (info.status !== 'running' && !info.active) return info;
    if (Date.now() > deadline) throw new Error(`run ${id} did not finish`);
    await new Promise((res) => setTimeout(res, 250));
  }
}

test('allowed Host names follow the bound address', () => {
  assert.deepEqual(allowedHosts('127.0.0.1', 8787), ['127.0.0.1:8787', 'localhost:8787']);
  assert.deepEqual(allowedHosts('::1', 8787), ['[::1]:8787', 'localhost:8787']);
  assert.deepEqual(allowedHosts('localhost', 80), ['localhost:80', 'localhost', '127.0.0.1:80', '127.0.0.1', '[::1]:80', '[::1]']);
});

test('cross-origin, cross-site, foreign Host, missing or wrong token: 403, no run, no file', async () => {
  const before = storeState();
  const evilOut = path.join(outside, 'made', 'by', 'evil.png');
  const cartoon = JSON.stringify({ module: 'cartoon', command: 'apply', params: { input: photo, output: evilOut, classic: true } });
  const cartoonInside = JSON.stringify({ module: 'cartoon', command: 'apply', params: { input: photo, output: 'evil.png', classic: true } });
  const demo = JSON.stringify({ module: 'demo', command: 'fit-line', params: { epochs: 5 } });
  const wrongSameLength = srv.token.slice(0, -1) + (srv.token.endsWith('A') ? 'B' : 'A');
  const cases: [string, Parameters<typeof request>[0]][] = [];
  for (const [what, body] of [['cartoon apply', cartoon], ['cartoon apply (relative output)', cartoonInside], ['demo fit-line', demo]] as const) {
    cases.push(
      [`${what}: cross-origin text/plain (the finding)`, { method: 'POST', path: '/api/runs', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' }, body }],
      [`${what}: cross-origin text/plain with the token`, { method: 'POST', path: '/api/runs', headers: { origin: 'http://evil.example', 'content-type': 'text/plain', 'x-paperlab-token': srv.token }, body }],
      [`${what}: cross-origin JSON with the token`, { method: 'POST', path: '/api/runs', headers: json({ origin: 'http://evil.example' }), body }],
      [`${what}: Origin null (sandboxed frame)`, { method: 'POST', path: '/api/runs', headers: json({ origin: 'null' }), body }],
      [`${what}: another port on localhost`, { method: 'POST', path: '/api/runs', headers: json({ origin: `http://127.0.0.1:${port + 1}` }), body }],
      [`${what}: Sec-Fetch-Site cross-site`, { method: 'POST', path: '/api/runs', headers: json({ 'sec-fetch-site': 'cross-site' }), body }],
      [`${what}: Sec-Fetch-Site same-site`, { method: 'POST', path: '/api/runs', headers: json({ 'sec-fetch-site': 'same-site' }), body }],
      [`${what}: Host evil.example:PORT (DNS rebinding)`, { method: 'POST', path: '/api/runs', host: `evil.example:${port}`, headers: json({ origin: `http://evil.example:${port}` }), body }],
      [`${what}: Host attacker.com`, { method: 'POST', path: '/api/runs', host: 'attacker.com', headers: json(), body }],
      [`${what}: no token`, { method: 'POST', path: '/api/runs', headers: { 'content-type': 'application/json', origin: `http://${host}` }, body }],
      [`${what}: wrong token`, { method: 'POST', path: '/api/runs', headers: json({ 'x-paperlab-token': 'wrong' }), body }],
      [`${what}: wrong token of the right length`, { method: 'POST', path: '/api/runs', headers: json({ 'x-paperlab-token': wrongSameLength }), body }],
    );
  }
  for (const [what, req] of cases) {
    const r = await request(req);
    assert.equal(r.status, 403, `${what}: ${r.status} ${r.body}`);
  }
  // A foreign Host is refused on every route, the page and static files included (its token stays unread).
  for (const p of ['/', '/index.html', '/app.js', '/vendor/vega.min.js', '/api/runs', '/api/modules']) {
    for (const h of [`evil.example:${port}`, 'attacker.com', `localhost.evil.example:${port}`]) {
      const r = await request({ path: p, host: h });
      assert.equal(r.status, 403, `GET ${p} with Host ${h}`);
      assert.ok(!r.body.includes(srv.token), `GET ${p} with Host ${h} leaked the token`);
    }
  }
  // Stop and resume are guarded the same way.
  for (const p of ['/api/runs/x/stop', '/api/runs/x/resume']) {
    assert.equal((await request({ method: 'POST', path: p, headers: { origin: 'http://evil.example', 'content-type': 'text/plain' }, body: '' })).status, 403);
    assert.equal((await request({ method: 'POST', path: p, headers: { 'content-type': 'application/json' }, body: '{}' })).status, 403);
  }
  await new Promise((res) => setTimeout(res, 500)); // a worker started by mistake would have made its folder by now
  assert.deepEqual(storeState(), before, 'the store changed');
  assert.ok(!fs.existsSync(path.join(outside, 'made')), 'a folder was created outside');
  assert.deepEqual(fs.readdirSync(outside), []);
  assert.ok(!fs.existsSync(path.join(work, 'evil.png')));
});

test('malformed bodies are 400 (wrong content type 415), never 500', async () => {
  const before = storeState();
  for (const b of ['null', '1', '"x"', '[]', 'true', '{bad json', '', '[1,2]', '{"module":"demo","command":"fit-line","params":[]}', '{"module":"demo","command":"fit-line","params":null}', '{"module":1,"command":"fit-line"}', '{"module":"demo","command":"fit-line","seed":"3"}']) {
    const r = await post(b);
    assert.equal(r.status, 400, `body ${JSON.stringify(b)} gave ${r.status} ${r.body}`);
    assert.ok(!/TypeError|Cannot read/.test(r.body), r.body);
  }
  for (const ct of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
    const r = await post({ module: 'demo', command: 'fit-line' }, { 'content-type': ct, 'x-paperlab-token': srv.token });
    assert.equal(r.status, 415, ct);
  }
  const enc = await request({ path: '/api/runs/x/files/%E0%A4%A' });
  assert.ok(enc.status >= 400 && enc.status < 500, `bad percent-encoding gave ${enc.status}`);
  assert.deepEqual(storeState(), before);
});

test('a legitimate request works: output inside the run folder or an allowed folder; outside is 400 and creates nothing', async () => {
  const refused: [Record<string, unknown>, RegExp][] = [
    [{ input: photo, output: path.join(outside, 'deep', 'x.png'), classic: true }, /parameter 'output'/],
    [{ input: photo, output: '/x.png', classic: true }, /parameter 'output'/],
    [{ input: photo, output: '../../x.png', classic: true }, /parameter 'output'/],
    [{ input: photo, output: 'a/../../x.png', classic: true }, /parameter 'output'/],
    [{ input: '/etc/hostname', classic: true }, /parameter 'input'/],
    [{ input: path.join(outside, 'nope.png'), classic: true }, /parameter 'input'/],
    [{ input: photo, checkpoint: '/etc/passwd' }, /parameter 'checkpoint'/],
  ];
  // a symlink inside an allowed folder that leads outside is judged by where it leads
  fs.symlinkSync(outside, path.join(work, 'to-outside'));
  fs.writeFileSync(path.join(outside, 'o.png'), fs.readFileSync(photo));
  refused.push([{ input: photo, output: path.join(work, 'to-outside', 'new', 'x.png'), classic: true }, /parameter 'output'/]);
  refused.push([{ input: path.join(work, 'to-outside', 'o.png'), classic: true }, /parameter 'input'/]);
  const before = storeState();
  for (const [params, msg] of refused) {
    const r = await post({ module: 'cartoon', command: 'apply', params });
    assert.equal(r.status, 400, `${JSON.stringify(params)}: ${r.status} ${r.body}`);
    assert.match(JSON.parse(r.body).error, msg);
  }
  const trafficOut = await post({ module: 'traffic', command: 'analyze', params: { file: '/etc/passwd' } });
  assert.equal(trafficOut.status, 400);
  assert.match(JSON.parse(trafficOut.body).error, /parameter 'file'/);
  assert.deepEqual(storeState(), before);
  assert.deepEqual(fs.readdirSync(outside), ['o.png']);

  // Right Host, same Origin, the token, JSON: the run starts; a relative output lands in the run folder.
  const ok = await post({ module: 'cartoon', command: 'apply', params: { input: 'in.png', output: 'pics/out.png', classic: true } }, json({ origin: `http://${host}`, 'sec-fetch-site': 'same-origin' }));
  assert.equal(ok.status, 201, ok.body);
  const { id } = JSON.parse(ok.body) as { id: string };
  const info = await waitRun(id);
  assert.equal(info.status, 'done', String(info.error));
  assert.ok(info.files.includes('pics/out.png'), `files: ${info.files}`);
  const png = await request({ path: `/api/runs/${id}/files/pics/out.png` });
  assert.equal(png.status, 200);
  assert.equal(png.headers['content-type'], 'image/png');
  assert.match(String(png.headers['content-security-policy']), /sandbox/);
  assert.deepEqual(png.raw, fs.readFileSync(path.join(root, id, 'pics', 'out.png')));
  assert.equal((await sharp(png.raw).metadata()).width, 24);
  assert.ok(!fs.existsSync(path.join(work, 'pics')), 'the relative output went to the working folder');

  // An output inside an --allow-dir folder is allowed (and the folder below it is created there).
  const ok2 = await post({ module: 'cartoon', command: 'apply', params: { input: photo, output: path.join(allowed, 'sub', 'x.png'), classic: true } });
  assert.equal(ok2.status, 201, ok2.body);
  assert.equal((await waitRun(JSON.parse(ok2.body).id)).status, 'done');
  assert.ok(fs.statSync(path.join(allowed, 'sub', 'x.png')).isFile());

  // Symlinks inside the run folder are not served: to /etc/passwd, to a file inside, through a linked folder.
  const dir = path.join(root, id);
  fs.symlinkSync('/etc/passwd', path.join(dir, 'passwd'));
  fs.symlinkSync(path.join(dir, 'pics', 'out.png'), path.join(dir, 'inside.png'));
  fs.symlinkSync('pics/out.png', path.join(dir, 'relative.png'));
  fs.symlinkSync(path.join(dir, 'pics'), path.join(dir, 'linked'));
  fs.symlinkSync('/etc', path.join(dir, 'etc'));
  for (const f of ['passwd', 'inside.png', 'relative.png', 'linked/out.png', 'etc/passwd', 'etc/hostname']) {
    const r = await request({ path: `/api/runs/${id}/files/${f}` });
    assert.equal(r.status, 404, `${f} was served (${r.status})`);
    assert.ok(!r.body.includes('root:'), `${f} leaked /etc/passwd`);
  }
  // metrics tables too: a symlinked table reads as empty
  const foreign = path.join(outside, 'foreign.jsonl');
  fs.writeFileSync(foreign, '{"secret":"x"}\n');
  fs.symlinkSync(foreign, path.join(dir, 'leak.jsonl'));
  assert.deepEqual(JSON.parse((await request({ path: `/api/runs/${id}/metrics/leak` })).body), []);
  const listed = JSON.parse((await request({ path: `/api/runs/${id}` })).body) as { files: string[] };
  assert.ok(!listed.files.some((f) => ['passwd', 'inside.png', 'relative.png', 'leak.jsonl'].includes(f) || f.startsWith('linked/') || f.startsWith('etc/')), `listed: ${listed.files}`);
});

test('the page carries the token only in its own meta tag; web/ does not follow symlinks', async () => {
  const page = await request({ path: '/' });
  assert.equal(page.status, 200);
  assert.ok(page.body.includes(`<meta name="paperlab-token" content="${srv.token}">`));
  assert.equal(page.headers['cache-control'], 'no-store');
  assert.match(String(page.headers['content-security-policy']), /frame-ancestors 'none'/);
  assert.equal(page.headers['x-frame-options'], 'DENY');
  assert.equal(page.headers['access-control-allow-origin'], undefined);
  // localhost:PORT is the same server under its other name
  assert.equal((await request({ path: '/api/runs', host: `localhost:${port}` })).status, 200);
  const link = path.resolve('web', `pl-test-link-${process.pid}`);
  fs.symlinkSync('/etc/passwd', link);
  try {
    const r = await request({ path: `/${path.basename(link)}` });
    assert.ok(!r.body.includes('root:'), 'web/ followed a symlink out');
  } finally {
    fs.rmSync(link, { force: true });
  }
});

test('path policy: lists, schemes, literals, dangling symlinks; the CLI is not confined', async () => {
  const policy: PathPolicy = { base: work, inputs: [work], outputs: [allowed] };
  const infos = describeParams(getCommand('prostate', 'detect'));
  const model = infos.find((p) => p.name === 'model')!;
  assert.equal(model.path, 'input');
  assert.equal(model.pathList, true);
  fs.mkdirSync(path.join(work, 'm1'), { recursive: true });
  const r = confinePaths({ data: '.', model: 'm1, m2' }, infos, policy);
  assert.equal(r.model, `${path.join(work, 'm1')},${path.join(work, 'm2')}`);
  assert.throws(() => confinePaths({ data: '.', model: `m1,${outside}` }, infos, policy), (e: Error) => e instanceof UsageError && /parameter 'model'/.test(e.message));
  const action = describeParams(getCommand('action', 'train'));
  assert.equal(confinePaths({ data: 'synthetic' }, action, policy).data, 'synthetic');
  assert.equal(confinePaths({ data: 'ntu:skel' }, action, policy).data, `ntu:${path.join(work, 'skel')}`);
  assert.throws(() => confinePaths({ data: 'ntu:/etc' }, action, policy), /parameter 'data'/);
  const explain = describeParams(getCommand('action', 'explain'));
  assert.equal(confinePaths({ input: 'synthetic:wave', model: 'm1' }, explain, policy).input, 'synthetic:wave');
  const evaluate = describeParams(getCommand('traffic', 'evaluate'));
  assert.equal(confinePaths({ pred: '3, 7', truth: '1' }, evaluate, policy).pred, '3, 7');
  // a dangling symlink in an allowed folder would create its target outside: refused
  fs.symlinkSync(path.join(outside, 'created-through-link.png'), path.join(allowed, 'dangling.png'));
  const apply = describeParams(getCommand('cartoon', 'apply'));
  assert.throws(() => confinePaths({ input: 'in.png', output: path.join(allowed, 'dangling.png') }, apply, policy), /parameter 'output'/);
  // relative outputs go into the run folder once it exists
  const runDir = path.join(tmp, 'a-run');
  fs.mkdirSync(runDir);
  assert.equal(confinePaths({ input: 'in.png', output: 'o/x.png' }, apply, policy, runDir).output, path.join(runDir, 'o', 'x.png'));
  // a symlink planted in a run folder does not carry a relative output out (resume)
  fs.symlinkSync(outside, path.join(runDir, 'o2'));
  assert.throws(() => confinePaths({ input: 'in.png', output: 'o2/x.png' }, apply, policy, runDir), /parameter 'output'/);
  // the CLI path (runCommand without the server's policy) keeps a local user's freedom
  const cli = await runCommand('cartoon', 'apply', { input: photo, output: path.join(outside, 'cli', 'x.png'), classic: true }, { root });
  assert.equal(cli.run.status, 'done');
  assert.ok(fs.statSync(path.join(outside, 'cli', 'x.png')).isFile());
  // every module's path parameters are marked (spot checks across modules)
  const marked = (m: string, c: string) => describeParams(getCommand(m, c)).filter((p) => p.path).map((p) => `${p.name}:${p.path}`).sort();
  assert.deepEqual(marked('cartoon', 'apply'), ['checkpoint:input', 'colourMap:input', 'input:input', 'output:output']);
  assert.deepEqual(marked('nowcast', 'synth'), ['root:output']);
  assert.deepEqual(marked('prostate', 'phantoms'), ['dir:output']);
  assert.deepEqual(marked('traffic', 'analyze'), ['file:input']);
  assert.deepEqual(marked('orfit', 'rotated-digits'), ['digitsCsv:input', 'mnistImages:input', 'mnistLabels:input', 'mnistTestImages:input', 'mnistTestLabels:input']);
});

test('errors name the file and the field, never its content: traffic analyze on secret files', async () => {
  const marker = `SECRET-${crypto.randomBytes(12).toString('hex')}`;
  const s = () => `${marker}-${crypto.randomBytes(6).toString('hex')}`;
  const files: Record<string, string> = {
    'plain.csv': Array.from({ length: 20 }, s).join('\n') + '\n',
    'csvlike.csv': `id,t,x,y\n${Array.from({ length: 5 }, () => `${s()},${s()},${s()},${s()}`).join('\n')}\n`,
    'badcoord.csv': `id,t,x,y\n${s()},1,${s()},${s()}\n`,
    'quoted.csv': `id,t,x,y\n${s()}"${s()}",1,2,3\n`,
    'secret.xml': `<fcd-export><timestep time="${s()}"><vehicle id="${s()}" x="${s()}" y="1"/></timestep><${s()}></fcd-export>\n`,
    'secret.json': `{"changepoints": ${s()}}`,
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(work, name), text);
  const leaks = (out: string, secret: string): string | null => {
    if (out.includes(marker)) return marker;
    for (let i = 0; i + 8 <= secret.length; i++) if (out.includes(secret.slice(i, i + 8))) return secret.slice(i, i + 8);
    return null;
  };
  const messages: string[] = [];
  for (const name of ['plain.csv', 'csvlike.csv', 'badcoord.csv', 'quoted.csv', 'secret.xml']) {
    const f = path.join(work, name);
    const err = await runCommand('traffic', 'analyze', { file: f }, { root }).then(() => null, (e: Error) => e);
    assert.ok(err, `${name}: analyze did not fail`);
    assert.ok(err.message.includes(name), `${name}: the message does not name the file: ${err.message}`);
    messages.push(err.message);
    assert.equal(leaks(err.message, files[name]!), null, `${name}: the message quotes the file: ${err.message}`);
  }
  const pred = await runCommand('traffic', 'evaluate', { pred: path.join(work, 'secret.json'), truth: ['1'] }, { root }).then(() => null, (e: Error) => e);
  assert.ok(pred && /secret\.json: not valid JSON/.test(pred.message), String(pred?.message));
  messages.push(pred.message);
  // /etc/passwd itself (the finding) through the CLI path
  if (fs.existsSync('/etc/passwd')) {
    const e = await runCommand('traffic', 'analyze', { file: '/etc/passwd' }, { root }).then(() => null, (x: Error) => x);
    assert.ok(e && !e.message.includes('root:') && /passwd:1: field 'id': no column for 'id'/.test(e.message), String(e?.message));
  }
  // and through the dashboard: the worker's run fails; its record and /api/runs stay clean
  const viaServer = await post({ module: 'traffic', command: 'analyze', params: { file: 'csvlike.csv' } });
  assert.equal(viaServer.status, 201, viaServer.body);
  const run = await waitRun(JSON.parse(viaServer.body).id);
  assert.equal(run.status, 'failed');
  assert.match(String(run.error), /csvlike\.csv:2: field 't': bad timestamp/);

  const all = Object.values(files).join('\n');
  const store = new RunStore(root);
  try {
    for (const r of store.list().filter((x) => x.status === 'failed')) {
      assert.equal(leaks(String(r.error), all), null, `run ${r.id}: error quotes a secret file: ${r.error}`);
      assert.equal(leaks(fs.readFileSync(path.join(r.dir, 'log.txt'), 'utf8'), all), null, `run ${r.id}: log.txt quotes a secret file`);
      assert.equal(leaks(fs.readFileSync(path.join(r.dir, 'run.json'), 'utf8'), all), null, `run ${r.id}: run.json quotes a secret file`);
      assert.equal(leaks((await request({ path: `/api/runs/${r.id}` })).body, all), null, `/api/runs/${r.id} quotes a secret file`);
    }
  } finally {
    store.close();
  }
  const listing = (await request({ path: '/api/runs?limit=1000' })).body;
  assert.equal(leaks(listing, all), null, '/api/runs quotes a secret file');
  assert.ok(messages.length >= 6);
});

// Issue #25: uploads for input path parameters obey the same rules (Host, Origin, token), have a
// size limit (413), are typed by content (415 naming the parameter), and never take a path from the client.
const octet = (extra: Record<string, string> = {}) => ({ 'content-type': 'application/octet-stream', 'x-paperlab-token': srv.token, ...extra });
const uploadPath = (name: string, param = 'file') => `/api/uploads?module=orfit&command=stream-csv&param=${param}&name=${encodeURIComponent(name)}`;
const staged = () => { try { return fs.readdirSync(path.join(root, '.uploads')).sort(); } catch { return []; } };

test('uploads: no token, cross-origin, foreign Host, wrong type are refused and stage nothing', async () => {
  const csv = Buffer.from('x,y\n1,2\n');
  const before = staged();
  const refusals: [Omit<Parameters<typeof request>[0], 'path'>, number][] = [
    [{ headers: { 'content-type': 'application/octet-stream' } }, 403],
    [{ headers: octet({ 'x-paperlab-token': 'wrong' }) }, 403],
    [{ headers: octet({ origin: 'http://evil.example' }) }, 403],
    [{ headers: octet({ 'sec-fetch-site': 'cross-site' }) }, 403],
    [{ headers: octet(), host: 'evil.example:80' }, 403],
    [{ headers: json() }, 415],
    [{ headers: octet({ 'content-type': 'multipart/form-data; boundary=x' }) }, 415],
  ];
  for (const [o, status] of refusals) {
    const r = await request({ method: 'POST', path: uploadPath('a.csv'), body: csv, ...o });
    assert.equal(r.status, status, `${JSON.stringify(o)}: ${r.body}`);
  }
  // a parameter that takes no file, a command without it
  assert.equal((await request({ method: 'POST', path: uploadPath('a.csv', 'target'), headers: octet(), body: csv })).status, 400);
  assert.deepEqual(staged(), before);
});

test('uploads: content checked by magic bytes (415 naming the parameter), size limited (413)', async () => {
  const before = staged();
  const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#fff' } }).png().toBuffer();
  const wrong: [string, Buffer][] = [['data.png', Buffer.from('x,y\n1,2\n')], ['data.csv', png], ['a.bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 2, 1, 0])]];
  for (const [name, body] of wrong) {
    const r = await request({ method: 'POST', path: uploadPath(name), headers: octet(), body });
    assert.equal(r.status, 415, `${name}: ${r.body}`);
    assert.match(JSON.parse(r.body).error, /parameter 'file'/);
  }
  const small = await startServer({ port: 0, root: path.join(tmp, 'runs-small'), cwd: work, maxUpload: 1000 });
  try {
    const u = new URL(small.url);
    const status = await new Promise<number>((resolve, reject) => {
      const body = Buffer.from('x,y\n' + '1,2\n'.repeat(2000));
      const req = http.request({ hostname: '127.0.0.1', port: Number(u.port), path: uploadPath('big.csv'), method: 'POST',
        headers: { host: u.host, 'content-type': 'application/octet-stream', 'x-paperlab-token': small.token, 'content-length': body.length } }, (res) => { res.resume(); resolve(res.statusCode!); });
      req.on('error', (e) => setTimeout(() => reject(e), 1000));
      req.end(body);
    });
    assert.equal(status, 413);
    assert.equal(fs.existsSync(path.join(tmp, 'runs-small', '.uploads')), false);
  } finally { await small.close(); }
  assert.deepEqual(staged(), before);
});

test('uploads: a name with ../ is only shown; the file lands in the new run\'s inputs/ and the run reads it', async () => {
  const outsideBefore = fs.readdirSync(outside).sort();
  const rows = Array.from({ length: 40 }, (_, i) => `${i % 7},${(i * 3) % 5},${(2 * (i % 7) - (i * 3) % 5).toFixed(1)}`);
  const csv = Buffer.from(['a,b,y', ...rows].join('\n') + '\n');
  const up = await request({ method: 'POST', path: uploadPath('../../outside/evil.csv'), headers: octet(), body: csv });
  assert.equal(up.status, 201, up.body);
  const { upload, name } = JSON.parse(up.body) as { upload: string; name: string };
  assert.equal(name, 'evil.csv');
  assert.doesNotMatch(upload, /[/\\]|\.\./);
  assert.ok(staged().includes(upload));
  assert.deepEqual(fs.readdirSync(outside).sort(), outsideBefore);
  // an upload id is a name the server gave, nothing else
  for (const bad of ['../index.sqlite', upload.replace(/^./, 'z'), `${upload}/x`]) {
    const r = await post({ module: 'orfit', command: 'stream-csv', params: { target: 'y' }, uploads: { file: bad } });
    assert.ok(r.status === 400 || r.status === 404, `${bad}: ${r.status} ${r.body}`);
  }
  const ok = await post({ module: 'orfit', command: 'stream-csv', params: { target: 'y' }, uploads: { file: upload } });
  assert.equal(ok.status, 201, ok.body);
  const { id } = JSON.parse(ok.body) as { id: string };
  const info = await waitRun(id);
  assert.equal(info.status, 'done', String(info.error));
  assert.ok(info.files.includes(`inputs/${upload}`), `files: ${info.files}`);
  assert.ok(!staged().includes(upload), 'the staged file moved into the run');
  const full = JSON.parse((await request({ path: `/api/runs/${id}` })).body) as { params: { file: string } };
  assert.ok(full.params.file.endsWith(path.join(id, 'inputs', upload)), full.params.file);
});

test('delete and annotate: refused without the token or cross-origin; with them, the folder and the row go together', async () => {
  const s = new RunStore(root);
  const r = s.create('demo', 'fit-line', {}, 0);
  s.update(r.id, { status: 'done', pid: null });
  s.close();
  const tries: [string, string, Record<string, string>][] = [
    ['DELETE', `/api/runs/${r.id}`, { 'content-type': 'application/json' }],
    ['DELETE', `/api/runs/${r.id}`, json({ origin: 'http://evil.example' })],
    ['POST', `/api/runs/${r.id}/annotate`, { 'content-type': 'application/json' }],
    ['POST', `/api/runs/${r.id}/annotate`, json({ 'sec-fetch-site': 'cross-site' })],
  ];
  for (const [method, p, headers] of tries) {
    const res = await request({ method, path: p, headers, body: JSON.stringify({ tags: ['x'] }) });
    assert.equal(res.status, 403, `${method} ${p} ${JSON.stringify(headers)}: ${res.body}`);
  }
  assert.ok(fs.existsSync(r.dir));
  assert.deepEqual(JSON.parse((await request({ path: `/api/runs/${r.id}` })).body).tags, []);
  const bad = await request({ method: 'POST', path: `/api/runs/${r.id}/annotate`, headers: json(), body: JSON.stringify({ tags: 'x' }) });
  assert.equal(bad.status, 400);
  const ok = await request({ method: 'POST', path: `/api/runs/${r.id}/annotate`, headers: json(), body: JSON.stringify({ tags: ['a', 'b'], notes: 'n' }) });
  assert.equal(ok.status, 200, ok.body);
  assert.deepEqual(JSON.parse((await request({ path: '/api/runs?q=b&module=demo' })).body).map((x: { id: string }) => x.id).includes(r.id), true);
  const del = await request({ method: 'DELETE', path: `/api/runs/${r.id}`, headers: json(), body: '{}' });
  assert.equal(del.status, 200, del.body);
  assert.equal(fs.existsSync(r.dir), false);
  assert.equal((await request({ path: `/api/runs/${r.id}` })).status, 404);
  assert.equal((await request({ path: '/api/runs?sort=nope' })).status, 400);
});
