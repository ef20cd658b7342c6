// End to end: a module-free experiment registered through the registry runs from the CLI,
// appears in `paperlab runs`, resumes after an interruption; bad input gets clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, spawn } from 'node:child_process';

const BIN = path.resolve('bin/paperlab.js');
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-cli-'));
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, PAPERLAB_HOME: home } });

test('demo fit-line runs from the CLI, recovers the line, writes its files and is listed by `paperlab runs`', () => {
  const r = cli(['demo', 'fit-line', '--epochs', '150', '--seed', '3', '--json', '--quiet']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { id: string; dir: string; summary: { a: number; b: number } };
  assert.ok(Math.abs(out.summary.a - 3) < 0.1 && Math.abs(out.summary.b + 1) < 0.05, JSON.stringify(out.summary));
  for (const f of ['params.json', 'run.json', 'summary.json', 'metrics.csv', 'metrics.jsonl', 'loss.png', 'loss.svg', 'log.txt', 'checkpoints/last.safetensors']) {
    assert.ok(fs.existsSync(path.join(out.dir, f)), `missing ${f}`);
  }
  const csv = fs.readFileSync(path.join(out.dir, 'metrics.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'epoch,loss');
  assert.equal(csv.length, 151);
  const list = cli(['runs', 'list']);
  assert.match(list.stdout, new RegExp(`${out.id}\\s+done\\s+demo fit-line\\s+seed=3`));
  const show = JSON.parse(cli(['runs', 'show', out.id]).stdout) as { params: { epochs: number }; files: string[] };
  assert.equal(show.params.epochs, 150);
  assert.ok(show.files.includes('loss.png'));
  // Same seed, same result, bit for bit.
  const again = JSON.parse(cli(['demo', 'fit-line', '--epochs', '150', '--seed', '3', '--json', '--quiet']).stdout);
  assert.equal(again.summary.a, out.summary.a);
});

test('a run killed mid-way is marked interrupted and resumes from its last checkpoint', async () => {
  const child = spawn(process.execPath, [BIN, 'demo', 'fit-line', '--epochs', '1000000', '--checkpoint-every', '200', '--quiet'], { env: { ...process.env, PAPERLAB_HOME: home } });
  // Wait for the first checkpoint, then kill hard (no chance to clean up).
  const deadline = Date.now() + 60_000;
  let runDir = '';
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    const dirs = fs.readdirSync(home).filter((d) => d.includes('fit-line')).map((d) => path.join(home, d));
    runDir = dirs.find((d) => fs.existsSync(path.join(d, 'checkpoints/latest.json')) && !fs.existsSync(path.join(d, 'summary.json'))) ?? '';
    if (runDir) break;
  }
  assert.ok(runDir, 'no checkpoint appeared');
  child.kill('SIGKILL');
  await new Promise((r) => child.on('exit', r));
  const id = path.basename(runDir);
  assert.match(cli(['runs', 'list']).stdout, new RegExp(`${id}\\s+interrupted`));
  const ckEpoch = JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoints/last.json'), 'utf8')).state.epoch as number;
  assert.ok(ckEpoch >= 200);
  // Resuming a million epochs would be long: check that resume starts from the checkpoint, then interrupt it.
  const res = spawn(process.execPath, [BIN, 'runs', 'resume', id, '--quiet'], { env: { ...process.env, PAPERLAB_HOME: home } });
  let err = '';
  res.stderr.on('data', (d) => { err += d; });
  const logFile = path.join(runDir, 'log.txt');
  const until = Date.now() + 60_000;
  while (Date.now() < until && !/resuming from epoch/.test(fs.readFileSync(logFile, 'utf8'))) await new Promise((r) => setTimeout(r, 200));
  res.kill('SIGINT');
  const code = await new Promise((r) => res.on('exit', r));
  assert.equal(code, 130, err);
  assert.match(fs.readFileSync(path.join(runDir, 'log.txt'), 'utf8'), new RegExp(`resuming from epoch ${ckEpoch}|resuming from epoch \\d+`));
  assert.match(cli(['runs', 'list']).stdout, new RegExp(`${id}\\s+interrupted`));
});

test('bad input: unknown module, command or parameter and invalid values give clear errors with the valid choices', () => {
  const m = cli(['nosuch']);
  assert.equal(m.status, 3);
  assert.match(m.stderr, /unknown module or command 'nosuch'. Modules: .*demo/);
  const c = cli(['demo', 'nosuch']);
  assert.match(c.stderr, /unknown command 'nosuch' for module 'demo'. Valid commands: fit-line/);
  assert.equal(c.status, 3);
  const p = cli(['demo', 'fit-line', '--lrr', '1']);
  assert.equal(p.status, 2);
  assert.match(p.stderr, /unknown option '--lrr'.*Valid parameters for demo fit-line: .*--lr/);
  const v = cli(['demo', 'fit-line', '--lr', 'abc']);
  assert.match(v.stderr, /parameter 'lr': expected a number, got 'abc'/);
  const z = cli(['demo', 'fit-line', '--epochs', '2.5']);
  assert.match(z.stderr, /parameter 'epochs'/);
  const e = cli(['demo', 'fit-line', '--dtype', 'float16']);
  assert.match(e.stderr, /float32, float64/);
  const nan = cli(['demo', 'fit-line', '--lr', '9', '--epochs', '300', '--quiet']);
  assert.equal(nan.status, 1);
  assert.match(nan.stderr, /loss is not finite/);
  assert.match(cli(['runs', 'list', '--status', 'failed']).stdout, /failed\s+demo fit-line/);
});

test('help is derived from the schemas at every level', () => {
  assert.match(cli(['--help']).stdout, /demo/);
  assert.match(cli(['demo', '--help']).stdout, /fit-line/);
  const h = cli(['demo', 'fit-line', '--help']).stdout;
  assert.match(h, /--checkpoint-every <integer>\s+steps between checkpoints \(default: 50\)/);
  assert.match(h, /--dtype <choice>[\s\S]*choices:\s+"float32",\s+"float64"/);
});

test('--version prints the package version, alone (launcher) and after other options (commander)', () => {
  const version = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { version: string }).version;
  assert.equal(cli(['--version']).stdout.trim(), version);
  assert.equal(cli(['-V']).stdout.trim(), version);
  assert.equal(cli(['--threads', '1', '--version']).stdout.trim(), version);
});

test('exit codes by error class: usage 2, not found 3, input file 4, conflict 5 (README, core/errors.ts)', async () => {
  // a store of its own, filled without running anything: two fit-line runs, one done
  const { RunStore } = await import('../../src/core/runs.ts');
  const own = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-cli-codes-'));
  const store = new RunStore(own);
  const a = store.create('demo', 'fit-line', {}, 0, true);
  store.create('demo', 'fit-line', {}, 1, true);
  store.update(a.id, { status: 'done', finished: new Date().toISOString() });
  store.close();
  const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, PAPERLAB_HOME: own } });
  const usage = run(['demo', 'fit-line', '--epochs', 'abc']);
  assert.equal(usage.status, 2, usage.stderr);
  const missing = run(['runs', 'show', 'no-such-run']);
  assert.equal(missing.status, 3, missing.stderr);
  assert.match(missing.stderr, /^paperlab: no run 'no-such-run' in /);
  const ambiguous = run(['runs', 'show', 'fit-line']);
  assert.equal(ambiguous.status, 5, ambiguous.stderr);
  assert.match(ambiguous.stderr, /run id 'fit-line' is ambiguous/);
  const done = run(['runs', 'resume', a.id]);
  assert.equal(done.status, 5, done.stderr);
  assert.match(done.stderr, /is already done/);
  const bad = path.join(own, 'changepoints.json');
  fs.writeFileSync(bad, '{"changepoints": [');
  const input = run(['traffic', 'evaluate', '--pred', bad, '--truth', '1']);
  assert.equal(input.status, 4, input.stderr);
  assert.match(input.stderr, /changepoints\.json: not valid JSON \(ends too early\)/);
  assert.doesNotMatch(input.stderr, /\n\s+at /, 'no stack for an error the user can fix');
});
