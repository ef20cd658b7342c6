// Data parallelism over c10d (gloo on 127.0.0.1), with two real worker processes started by the
// core launcher (src/core/distributed/launch.ts) running test/helpers/dist-worker.ts:
// - an all-reduce of known tensors gives the exact sum (also avg, broadcast, allGather, barrier);
// - a rank that exits early, or hangs, makes the other fail with a DistributedError within the
//   configured timeout, and the launcher leaves no process behind;
// - 2 processes × batch B train to the same parameters as 1 process × batch 2B (same seed, same
//   data order) within 1e-5 relative after 20 steps, for nowcast and prostate at test size;
// - an interrupted 2-process run, resumed, ends with the parameters of the uninterrupted one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/core/torch/index.ts';
import { launch, type LaunchResult } from '../../src/core/distributed/launch.ts';
import { loadSafetensors } from '../../src/core/torch/serialize.ts';
import { train } from '../../src/modules/nowcast/train.ts';
import { trainDetector } from '../../src/modules/prostate/train.ts';
import { MNet } from '../../src/modules/prostate/model.ts';
import { nowcastData, nowcastOptions, prostateSetup, PROSTATE_TRAIN } from '../helpers/dist-configs.ts';
import { fakeContext } from '../helpers/context.ts';

torch.setNumThreads(1);
const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../helpers/dist-worker.ts');

interface Ranks { result: LaunchResult; out: string; ranks: Record<string, unknown>[]; stderr: string[] }

/** Runs a scenario on `nproc` ranks; collects what each wrote and the other ranks' stderr. */
async function runRanks(scenario: string, arg = '', o: { timeoutS?: number; graceMs?: number; out?: string } = {}): Promise<Ranks> {
  const out = o.out ?? fs.mkdtempSync(path.join(os.tmpdir(), `dist-${scenario}-`));
  const stderr: string[] = [];
  const result = await launch({
    nproc: 2, command: process.execPath, args: ['--import', 'tsx', WORKER, scenario, out, ...(arg ? [arg] : [])],
    env: { PAPERLAB_THREADS: '1', OPENBLAS_NUM_THREADS: '1', PAPERLAB_DIST_TIMEOUT: String(o.timeoutS ?? 60) },
    rank0Stdio: 'pipe', onOtherStderr: (r, l) => stderr.push(`[${r}] ${l}`), graceMs: o.graceMs ?? 10_000,
    onStart: (cs) => cs[0]!.stderr!.on('data', (d: Buffer) => stderr.push(`[0] ${d}`)),
  });
  const ranks = [0, 1].map((r) => {
    const f = path.join(out, `rank${r}.json`);
    return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) as Record<string, unknown> : {};
  });
  return { result, out, ranks, stderr };
}

/** Every tensor of `got` within `rel` of `want` (‖a − b‖ / ‖b‖), the same keys. */
function assertClose(got: Record<string, torch.Tensor>, want: Record<string, torch.Tensor>, rel: number, what: string): number {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${what}: keys`);
  let worst = 0;
  torch.scope(() => {
    for (const k of Object.keys(want)) {
      const a = got[k]!.to('float64'), b = want[k]!.to('float64');
      const r = a.sub(b).norm().item() / Math.max(b.norm().item(), 1e-12);
      worst = Math.max(worst, r);
      assert.ok(r <= rel, `${what}: ${k} differs by ${r.toExponential(2)} relative (limit ${rel})`);
    }
  });
  return worst;
}

const weightsOf = (out: string) => loadSafetensors(path.join(out, 'weights.safetensors')).tensors;

test('collectives across 2 ranks: all-reduce of known tensors is the exact sum; avg, broadcast, allGather, barrier', async () => {
  const { result, ranks, stderr } = await runRanks('collectives');
  assert.deepEqual(result.codes, [0, 0], stderr.join('\n'));
  for (const r of ranks) {
    // rank 0 holds [1, 1, 0], rank 1 [2, 0.5, -3]: sums exact in binary floating point
    assert.deepEqual(r.sum, [3, 1.5, -3]);
    assert.deepEqual(r.sum2, [1, 10]);
    assert.deepEqual(r.avg, [2]); // (1 + 3) / 2
    assert.deepEqual(r.broadcast, [8, 9]); // rank 1's values
    assert.deepEqual(r.gathered, [0, 1]);
  }
  // DDP: rank 0's initial weights everywhere; noSync accumulates locally; syncGradients averages
  const [d0, d1] = ranks.map((r) => r.ddp as Record<string, number[]>);
  assert.deepEqual(d1!.weights, d0!.weights);
  assert.deepEqual(d0!.buckets, [2]); // weight and bias, one tiny bucket each
  assert.ok(d0!.local!.some((g, i) => g !== d1!.local![i]), 'inside noSync the ranks keep their own gradients');
  const mean = d0!.local!.map((g, i) => (g + d1!.local![i]!) / 2);
  for (const d of [d0!, d1!]) d.synced!.forEach((g, i) => assert.ok(Math.abs(g - mean[i]!) <= 1e-12 * Math.max(1, Math.abs(mean[i]!)), `grad ${i}: ${g} vs ${mean[i]}`));
});

test('a rank that exits early fails the other at once with a DistributedError; the launcher reports both', async () => {
  const { result, ranks, stderr } = await runRanks('exit-early', '', { timeoutS: 20 });
  assert.equal(result.codes[1], 3, stderr.join('\n'));
  assert.equal(result.codes[0], 1);
  assert.equal(ranks[0]!.name, 'DistributedError');
  assert.match(String(ranks[0]!.message), /allReduce .*on rank 0 failed: .*another rank exited or crashed/);
  assert.ok(Number(ranks[0]!.ms) < 20_000, `failed after ${ranks[0]!.ms} ms, timeout 20 s`);
});

test('a rank that hangs makes the other fail with a timeout error within the configured time; the launcher kills the hung rank', async () => {
  const { result, ranks, stderr } = await runRanks('hang', '', { timeoutS: 2, graceMs: 500 });
  assert.equal(ranks[0]!.name, 'DistributedError', stderr.join('\n'));
  assert.match(String(ranks[0]!.message), /timed out.*no answer within 2 s \(PAPERLAB_DIST_TIMEOUT\)/i);
  const ms = Number(ranks[0]!.ms);
  assert.ok(ms >= 1500 && ms < 2000 + 10_000, `failed after ${ms} ms with a 2 s timeout`);
  assert.equal(result.codes[0], 1);
  assert.deepEqual(result.killed, [1]);
  for (const pid of result.pids) assert.throws(() => process.kill(pid, 0), /ESRCH/, `process ${pid} is still alive`);
});

test('nowcast: 2 processes × batch 2 train to the parameters of 1 process × batch 4 (20 steps, within 1e-5 relative)', async () => {
  const two = await runRanks('nowcast', '20');
  assert.deepEqual(two.result.codes, [0, 0], two.stderr.join('\n'));
  const one = train(nowcastOptions(20, 4), nowcastData(), null);
  const worst = assertClose(weightsOf(two.out), one.model.stateDict(), 1e-5, 'nowcast');
  // rank 0's losses are those of its half of each global batch: one per step
  assert.equal((two.ranks[0]!.losses as number[]).length, 20);
  assert.ok(worst < 1e-5);
});

test('prostate: 2 processes × batch 1 train to the parameters of 1 process × batch 2 (20 iterations, within 1e-5 relative)', async () => {
  const two = await runRanks('prostate');
  assert.deepEqual(two.result.codes, [0, 0], two.stderr.join('\n'));
  const { cases, cfg } = prostateSetup();
  torch.manualSeed(1);
  const net = new MNet(cfg);
  await trainDetector(net, cases, { ...PROSTATE_TRAIN, batch: 2 }, fakeContext());
  assertClose(weightsOf(two.out), net.stateDict(), 1e-5, 'prostate');
});

test('resume: a 2-process nowcast run interrupted at step 7 and resumed ends with the parameters of the uninterrupted run', async () => {
  const straight = await runRanks('nowcast', '12');
  assert.deepEqual(straight.result.codes, [0, 0], straight.stderr.join('\n'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-resume-'));
  const cut = await runRanks('nowcast', '12:interrupt:7', { out });
  assert.match(String(cut.ranks[0]!.error), /interrupted/, cut.stderr.join('\n'));
  assert.ok(fs.existsSync(path.join(out, 'run', 'checkpoints', 'model-step-000007.json')), 'rank 0 wrote the checkpoint');
  fs.rmSync(path.join(out, 'weights.safetensors'), { force: true });
  const resumed = await runRanks('nowcast', '12:resume', { out });
  assert.deepEqual(resumed.result.codes, [0, 0], resumed.stderr.join('\n'));
  for (const r of resumed.ranks) assert.equal(r.resumedFrom, 7, 'every rank restored step 7 from rank 0\'s checkpoint');
  assertClose(weightsOf(out), weightsOf(straight.out), 1e-7, 'resumed vs uninterrupted');
});

const CLI = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/paperlab.js');
const TRAIN_ARGS = ['nowcast', 'train', '--geometry', 'tiny', '--start-filters', '2', '--depth', '2', '--str-hidden', '2', '--batch-size', '1', '--quiet', '--json'];

/** `paperlab … --nproc 2` (bin/paperlab.js: dist/, which npm test builds first); resolves with its exit code and output. */
function cli(args: string[], home: string, onSpawn?: () => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [CLI, ...args, '--nproc', '2', '--out', home], {
      env: { ...process.env, PAPERLAB_THREADS: '1', PAPERLAB_DIST_TIMEOUT: '30' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '';
    c.stdout.on('data', (d) => { stdout += d; });
    c.stderr.on('data', (d) => { stderr += d; });
    onSpawn?.();
    c.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('CLI --nproc 2: rank 0 owns the run (one metrics row per step, checkpoints, summary), rank 1 logs to log.rank1.txt', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-cli-'));
  const r = await cli([...TRAIN_ARGS, '--steps', '3'], home);
  assert.equal(r.code, 0, r.stderr);
  const { id, dir } = JSON.parse(r.stdout) as { id: string; dir: string };
  assert.ok(fs.existsSync(path.join(dir, 'log.rank1.txt')));
  assert.match(fs.readFileSync(path.join(dir, 'log.rank1.txt'), 'utf8'), /start nowcast train/);
  const rows = fs.readFileSync(path.join(dir, 'train.jsonl'), 'utf8').trim().split('\n');
  assert.equal(rows.length, 3, 'each step logged once, by rank 0');
  assert.ok(fs.existsSync(path.join(dir, 'model.safetensors')));
  const { RunStore } = await import('../../src/core/runs.ts');
  const store = new RunStore(home);
  assert.equal(store.get(id).status, 'done');
  store.close();
});

test('CLI --nproc 2: a worker killed mid-run fails the run on rank 0 (marked failed, clear error), and no worker is left', async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dist-kill-'));
  let killed = 0;
  const done = cli([...TRAIN_ARGS, '--steps', '100000', '--checkpoint-every', '0'], home, () => {
    // once rank 1 has joined and logged its pid, kill it as an out-of-memory killer would
    const t = setInterval(() => {
      const runs = fs.existsSync(home) ? fs.readdirSync(home).filter((d) => fs.existsSync(path.join(home, d, 'log.rank1.txt'))) : [];
      const m = runs.length ? /pid=(\d+)/.exec(fs.readFileSync(path.join(home, runs[0]!, 'log.rank1.txt'), 'utf8')) : null;
      if (m) { clearInterval(t); killed = Number(m[1]); setTimeout(() => process.kill(killed, 'SIGKILL'), 1500); }
    }, 200);
  });
  const r = await done;
  assert.ok(killed > 0);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /DistributedError|another rank exited or crashed/);
  const { RunStore } = await import('../../src/core/runs.ts');
  const store = new RunStore(home);
  const [run] = store.list({});
  store.close();
  assert.equal(run!.status, 'failed');
  assert.match(String(run!.error), /another rank exited or crashed/);
  assert.throws(() => process.kill(run!.pid!, 0), /ESRCH/, 'rank 0 is gone');
  // the killed rank could not remove its scratch folder (rank-context.ts)
  for (const d of fs.readdirSync(os.tmpdir())) if (d.startsWith(`paperlab-${run!.id}-rank1-`)) fs.rmSync(path.join(os.tmpdir(), d), { recursive: true, force: true });
});
