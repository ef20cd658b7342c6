// Faults a local tool must survive: SIGINT/SIGTERM during synchronous work (CLI and dashboard
// worker), a second signal, a full disk (a real size-limited tmpfs where this machine lets us mount
// one, and an injected ENOSPC at the write layer everywhere), a read-only store, and a resume that
// must not write a metrics row twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

const BIN = path.resolve('bin/paperlab.js');
const WORKER = path.resolve('src/server/worker.ts');
const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), p));
const env = (home: string) => ({ ...process.env, PAPERLAB_HOME: home, PAPERLAB_THREADS: '1' });
const cli = (home: string, args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: env(home) });

// A synchronous loop: 10⁶ optimizer steps of the reproducibility harness, no await inside.
const MEASURE = ['reproducibility', 'measure', '--problem', 'quadratic', '--dim', '2', '--oracle', 'stochastic', '--delta', '1.4142135623730951',
  '--epsilon', '0.01', '--pairs', '2000', '--optimizer', 'sgd-avg', '--budget', '1000000', '--quiet'];

interface RunJson { id: string; status: string; error: string | null; dir: string }
const runsOf = (home: string): RunJson[] => JSON.parse(cli(home, ['runs', 'list', '--json']).stdout || '[]');

/** Waits until the only run in `home` has logged its start line (it is then computing). */
async function waitStarted(home: string, child: ChildProcess, ms = 120_000): Promise<string> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    assert.equal(child.exitCode, null, 'the run exited before it was signalled');
    const dirs = fs.existsSync(home) ? fs.readdirSync(home).filter((d) => fs.existsSync(path.join(home, d, 'log.txt'))) : [];
    if (dirs.length && /\bstart\b/.test(fs.readFileSync(path.join(home, dirs[0]!, 'log.txt'), 'utf8'))) return path.join(home, dirs[0]!);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the run did not start');
}
const exited = (c: ChildProcess) => new Promise<{ code: number | null; signal: string | null }>((r) => {
  if (c.exitCode !== null || c.signalCode !== null) r({ code: c.exitCode, signal: c.signalCode });
  else c.once('exit', (code, signal) => r({ code, signal }));
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`CLI: ${sig} stops a synchronous run within a step, marks it interrupted and exits non-zero`, async () => {
    const home = tmp('pl-sig-');
    const child = spawn(process.execPath, [BIN, ...MEASURE], { env: env(home), stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d) => { err += d; });
    await waitStarted(home, child);
    await new Promise((r) => setTimeout(r, 1500)); // deep inside the loop
    const t0 = Date.now();
    child.kill(sig);
    const { code } = await exited(child);
    const dt = Date.now() - t0;
    assert.equal(code, 130, err);
    assert.ok(dt < 3000, `took ${dt} ms to stop`);
    const [run] = runsOf(home);
    assert.equal(run?.status, 'interrupted');
    console.log(`${sig}: stopped ${dt} ms after the signal`);
  });
}

test('CLI: SIGINT writes the last checkpoint of a resumable run; resume continues it with no metric row twice', async () => {
  const home = tmp('pl-sig-ck-');
  const child = spawn(process.execPath, [BIN, 'demo', 'fit-line', '--epochs', '60000', '--checkpoint-every', '25000', '--quiet'], { env: env(home), stdio: 'ignore' });
  const dir = await waitStarted(home, child);
  while (!fs.existsSync(path.join(dir, 'metrics.jsonl')) || fs.statSync(path.join(dir, 'metrics.jsonl')).size < 20_000) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGINT');
  assert.equal((await exited(child)).code, 130);
  // The checkpoint was written at the stop (none was due before step 25000) and matches the rows.
  const ck = JSON.parse(fs.readFileSync(path.join(dir, 'checkpoints/last.json'), 'utf8')) as { state: { epoch: number }; metricsRows: { metrics: number } };
  const rowsAtStop = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
  assert.ok(ck.state.epoch > 0 && ck.state.epoch < 25_000, `checkpoint at epoch ${ck.state.epoch}`);
  assert.equal(ck.metricsRows.metrics, rowsAtStop);
  assert.equal(ck.state.epoch, rowsAtStop);
  // Kill the resumed run hard between checkpoints, resume again: every epoch exactly once.
  const id = path.basename(dir);
  const again = spawn(process.execPath, [BIN, 'runs', 'resume', id, '--quiet'], { env: env(home), stdio: 'ignore' });
  const grown = rowsAtStop + 15_000; // still before the next checkpoint, at 25000
  while (fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').split('\n').length < grown) {
    assert.equal(again.exitCode, null, 'resume ended early');
    await new Promise((r) => setTimeout(r, 50));
  }
  again.kill('SIGKILL');
  await exited(again);
  const r = cli(home, ['runs', 'resume', id, '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const epochs = fs.readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { epoch: number }).epoch);
  assert.equal(epochs.length, 60_000);
  assert.ok(epochs.every((e, i) => e === i + 1), 'metric rows are not epochs 1…N exactly once');
  assert.equal(fs.readFileSync(path.join(dir, 'metrics.csv'), 'utf8').trim().split('\n').length, 60_001);
});

test('engine: a second signal exits at once, even from a loop that never polls', async () => {
  const script = `import { interrupts } from ${JSON.stringify(path.resolve('src/core/torch/tensor.ts'))};
    interrupts.watch(); process.stdout.write('ready\\n');
    const end = Date.now() + 60000; let seen = 0;
    while (Date.now() < end) { if (!seen && interrupts.pending()) { seen = interrupts.pending(); process.stdout.write('pending ' + seen + '\\n'); } }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  while (!out.includes('ready')) { assert.equal(child.exitCode, null); await new Promise((r) => setTimeout(r, 50)); }
  child.kill('SIGTERM');
  while (!out.includes('pending')) { assert.equal(child.exitCode, null, 'the first signal killed the process'); await new Promise((r) => setTimeout(r, 20)); }
  assert.match(out, /pending 15/);
  const t0 = Date.now();
  child.kill('SIGTERM');
  const { code } = await exited(child);
  assert.equal(code, 128 + 15);
  assert.ok(Date.now() - t0 < 2000);
});

test('engine: a run that never looks at its signal is stopped by its next operator call about 1 s after SIGTERM', async () => {
  const script = `import * as torch from ${JSON.stringify(path.resolve('src/core/torch/tensor.ts'))};
    torch.interrupts.watch(); process.stdout.write('ready\\n');
    const end = Date.now() + 60000;
    try { while (Date.now() < end) torch.scope(() => torch.ones([64]).add(1).sum().item()); process.stdout.write('ran out\\n'); }
    catch (e) { process.stdout.write('threw: ' + e.message + '\\n'); process.exitCode = 130; }`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  while (!out.includes('ready')) { assert.equal(child.exitCode, null); await new Promise((r) => setTimeout(r, 50)); }
  const t0 = Date.now();
  child.kill('SIGTERM');
  const { code } = await exited(child);
  const dt = Date.now() - t0;
  assert.equal(code, 130, out);
  assert.match(out, /threw: interrupted: the run did not stop within 1 s of the signal/);
  assert.ok(dt > 900 && dt < 3000, `stopped after ${dt} ms`);
});

test('dashboard worker: SIGINT (the stop button) stops a synchronous run; the run ends interrupted', async () => {
  const home = tmp('pl-sig-w-');
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { env: env(home), stdio: ['pipe', 'pipe', 'pipe'] });
  const params = { problem: 'quadratic', dim: 2, oracle: 'stochastic', delta: Math.SQRT2, epsilon: 0.01, pairs: 2000, optimizer: 'sgd-avg', budget: 1_000_000 };
  child.stdin!.write(JSON.stringify({ module: 'reproducibility', command: 'measure', params, seed: 0, root: home }) + '\n');
  const events: { type: string; run?: { status: string } }[] = [];
  let buf = '';
  child.stdout!.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) { events.push(JSON.parse(buf.slice(0, nl))); buf = buf.slice(nl + 1); }
  });
  await waitStarted(home, child);
  await new Promise((r) => setTimeout(r, 1500));
  const t0 = Date.now();
  child.kill('SIGINT');
  const { code } = await exited(child);
  assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
  assert.equal(code, 130);
  const end = events.find((e) => e.type === 'end');
  assert.equal(end?.run?.status, 'interrupted');
  assert.equal(runsOf(home)[0]?.status, 'interrupted');
});

// ---------------------------------------------------------------- full disk, read-only store
const leftovers = (root: string) => {
  const out: string[] = [];
  const walk = (d: string) => { for (const e of fs.readdirSync(d, { withFileTypes: true })) { if (e.isDirectory()) walk(path.join(d, e.name)); else if (e.name.includes('.tmp-')) out.push(e.name); } };
  walk(root);
  return out;
};

/** A fresh tmpfs of `kb` KiB, or null where this machine does not let the test mount one. */
function tmpfs(kb: number): { dir: string; release(): void } | null {
  if (process.getuid?.() !== 0) return null;
  const dir = tmp('pl-tmpfs-');
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k`, 'tmpfs', dir]);
  if (r.status !== 0) { fs.rmSync(dir, { recursive: true, force: true }); return null; }
  return { dir, release: () => { spawnSync('umount', [dir]); fs.rmSync(dir, { recursive: true, force: true }); } };
}

test('full disk (a real 1 MiB tmpfs): one error naming the path, no .tmp-* left, the run failed, the index usable', (t) => {
  const fsx = tmpfs(1024);
  if (!fsx) { t.skip('cannot mount a tmpfs here (not root); the injected-ENOSPC test covers the write layer'); return; }
  try {
    const home = path.join(fsx.dir, 'runs');
    assert.equal(cli(home, ['runs', 'list']).status, 0);
    // Leave ~150 KiB: the store opens and the run starts, then its metrics fill the disk.
    const avail = Number(spawnSync('df', ['-k', '--output=avail', fsx.dir], { encoding: 'utf8' }).stdout.trim().split('\n').pop());
    fs.writeFileSync(path.join(fsx.dir, 'filler'), Buffer.alloc((avail - 150) * 1024));
    const r = cli(home, ['demo', 'fit-line', '--epochs', '20000', '--checkpoint-every', '5000', '--quiet']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot (write|append to) ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/\\S+: no space left on device \\(ENOSPC\\)`));
    assert.equal(r.stderr.trim().split('\n').length, 1, `one error line, got: ${r.stderr}`);
    assert.deepEqual(leftovers(fsx.dir), []);
    // The disk is still full: listing works and shows the run failed, with the same message.
    const [run] = runsOf(home);
    assert.equal(run?.status, 'failed');
    assert.match(run!.error!, /no space left on device/);
    assert.equal(JSON.parse(fs.readFileSync(path.join(run!.dir, 'run.json'), 'utf8')).status, 'failed');
    // With space again, the store works as before.
    fs.rmSync(path.join(fsx.dir, 'filler'));
    const ok = cli(home, ['demo', 'fit-line', '--epochs', '50', '--quiet']);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual(runsOf(home).map((x) => x.status).sort(), ['done', 'failed']);
  } finally {
    fsx.release();
  }
});

test('read-only store: one clear error naming the path', (t) => {
  const fsx = tmpfs(4096);
  if (!fsx) { t.skip('cannot mount here (not root)'); return; }
  try {
    const home = path.join(fsx.dir, 'runs');
    assert.equal(cli(home, ['demo', 'fit-line', '--epochs', '20', '--quiet']).status, 0);
    assert.equal(spawnSync('mount', ['-o', 'remount,ro', fsx.dir]).status, 0);
    for (const args of [['runs', 'list'], ['demo', 'fit-line', '--epochs', '20', '--quiet']]) {
      const r = cli(home, args);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, new RegExp(`run store ${home.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot open its index \\S+index\\.sqlite: read-only file system`), r.stderr);
    }
  } finally {
    fsx.release();
  }
});

test('full disk injected at the write layer (any machine): the run fails naming the file, no .tmp-* left, nothing half-written', async () => {
  const { runCommand } = await import('../../src/core/runner.ts');
  const { RunStore } = await import('../../src/core/runs.ts');
  await import('../../src/modules/demo/index.ts');
  const home = tmp('pl-enospc-');
  const store = new RunStore(home);
  const orig = fs.writeSync;
  let writes = 0;
  const inStore = (fd: unknown) => { try { return typeof fd === 'number' && fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(home); } catch { return false; } };
  // After 300 writes into the store, every write fails as on a full disk, a short write first.
  (fs as { writeSync: unknown }).writeSync = function (fd: number, buf: Uint8Array, off?: number, len?: number) {
    if (inStore(fd) && ++writes > 300) {
      if (writes === 301 && typeof off === 'number' && (len ?? 0) > 1) return (orig as (...a: unknown[]) => number).call(fs, fd, buf, off, 1);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return (orig as (...a: unknown[]) => number).apply(fs, [fd, buf, off, len].slice(0, arguments.length));
  };
  let err: Error | null = null;
  try {
    await runCommand('demo', 'fit-line', { epochs: 2000, checkpointEvery: 100 }, { store, seed: 1 });
  } catch (e) { err = e as Error; } finally {
    (fs as { writeSync: unknown }).writeSync = orig;
  }
  assert.ok(err, 'the run should fail');
  assert.match(err!.message, new RegExp(`^cannot (write|append to) ${home}/\\S+: no space left on device \\(ENOSPC\\)$`));
  assert.deepEqual(leftovers(home), []);
  const [run] = store.list();
  assert.equal(run?.status, 'failed');
  assert.equal(run?.error, err!.message);
  // Every metrics row on disk is whole (a failed append was cut back).
  for (const line of fs.readFileSync(path.join(run!.dir, 'metrics.jsonl'), 'utf8').split('\n').filter(Boolean)) JSON.parse(line);
  store.close();
});
