// The API maps errors by class (core/errors.ts), not by message text: an unknown run id is 404, an
// ambiguous prefix 409, a malformed id 400, an unknown module 404. In process, through app.request.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../src/server/app.ts';
import { RunStore } from '../../src/core/runs.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-api-errors-'));
// two runs whose ids share 'fit-line', made straight in the store (nothing runs)
const seedStore = new RunStore(root);
const done = seedStore.create('demo', 'fit-line', {}, 0, true);
const other = seedStore.create('demo', 'fit-line', {}, 1, true);
seedStore.update(done.id, { status: 'done', finished: new Date().toISOString() });
seedStore.close();

const served = createApp({ root, token: 'test-token', hosts: ['localhost'], cwd: root });
after(() => served.shutdown());

async function call(method: string, url: string, body?: unknown): Promise<{ status: number; error: string }> {
  const headers: Record<string, string> = { host: 'localhost' };
  if (method !== 'GET') Object.assign(headers, { 'content-type': 'application/json', 'x-paperlab-token': 'test-token' });
  const r = await served.app.request(`http://localhost${url}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const j = (await r.json()) as { error?: string };
  return { status: r.status, error: j.error ?? '' };
}

test('an unknown run id is 404, an ambiguous prefix 409, a malformed id 400', async () => {
  const unknown = await call('GET', '/api/runs/no-such-run');
  assert.equal(unknown.status, 404);
  assert.match(unknown.error, /no run 'no-such-run'/);
  const ambiguous = await call('GET', '/api/runs/fit-line');
  assert.equal(ambiguous.status, 409);
  assert.match(ambiguous.error, /run id 'fit-line' is ambiguous/);
  for (const url of ['/api/runs/fit-line/files/log.txt', '/api/runs/fit-line/metrics/metrics']) assert.equal((await call('GET', url)).status, 409, url);
  assert.equal((await call('GET', '/api/runs/no-such-run/files/log.txt')).status, 404);
  assert.equal((await call('GET', `/api/compare?ids=${done.id},no-such-run`)).status, 404);
  const malformed = await call('GET', '/api/runs/%24bad');
  assert.equal(malformed.status, 400);
  // a unique prefix still finds its run
  const one = await call('GET', `/api/runs/${other.id.slice(-6)}`);
  assert.equal(one.status, 200);
});

test('stop/resume of an unknown or ambiguous run, and an unknown module or command, by class', async () => {
  assert.equal((await call('POST', '/api/runs/no-such-run/resume')).status, 404);
  assert.equal((await call('POST', '/api/runs/fit-line/stop')).status, 409);
  assert.equal((await call('POST', `/api/runs/${done.id}/resume`)).status, 409);
  const mod = await call('POST', '/api/runs', { module: 'nosuch', command: 'x' });
  assert.equal(mod.status, 404);
  assert.match(mod.error, /unknown module 'nosuch'/);
});
