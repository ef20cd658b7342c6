// One run, in its own process, for the server: reads a job (one JSON line) on stdin, runs it
// through the runner, writes run events as JSON lines on stdout. When the server goes away
// (stdin closes) the run is interrupted cleanly and stays resumable.
import readline from 'node:readline';
import { loadModules } from '../modules/index.ts';
import { runCommand, resumeRun, RunInterrupted, type RunEvent } from '../core/runner.ts';
import type { PathPolicy } from '../core/paths.ts';

interface Job {
  module: string; command: string; params: Record<string, unknown>; seed: number; root: string; resume?: string; policy?: PathPolicy; nproc?: number;
  /** parameter -> a staged upload, moved into the new run's inputs/ */
  inputs?: Record<string, string>;
}

const ac = new AbortController();
const send = (e: RunEvent | { type: 'error'; message: string; name?: string }) => { try { process.stdout.write(JSON.stringify(e) + '\n'); } catch { ac.abort(); } };
process.stdout.on('error', () => ac.abort());
process.on('SIGINT', () => ac.abort());
process.on('SIGTERM', () => ac.abort());

const rl = readline.createInterface({ input: process.stdin });
let started = false;
rl.on('line', (line) => {
  if (started) { if (line.trim() === 'stop') ac.abort(); return; }
  started = true;
  const job = JSON.parse(line) as Job;
  if ((job.nproc ?? 1) > 1 && !process.env.WORLD_SIZE) void launchRanks(job);
  else void run(job);
});

/**
 * nproc > 1: this worker is the launcher (core/distributed/launch.ts): nproc copies of itself get
 * the job with the torchrun variables set; rank 0's events are ours, a stop goes to every rank.
 */
async function launchRanks(job: Job): Promise<void> {
  const { launch } = await import('../core/distributed/launch.ts');
  const line = JSON.stringify({ ...job, nproc: 1 }) + '\n';
  let children: import('node:child_process').ChildProcess[] = [];
  ac.signal.addEventListener('abort', () => { for (const c of children) c.stdin?.end('stop\n'); }, { once: true });
  const r = await launch({
    nproc: job.nproc!, command: process.execPath, args: [...process.execArgv, process.argv[1]!],
    env: process.env.PAPERLAB_THREADS ? {} : { PAPERLAB_THREADS: '1' }, rank0Stdio: 'pipe', othersStdin: 'pipe',
    onStart: (cs) => {
      children = cs;
      cs[0]!.stdout!.pipe(process.stdout);
      cs[0]!.stderr!.pipe(process.stderr);
      for (const c of cs) c.stdin!.write(line);
    },
  });
  process.exitCode = r.code;
  rl.close();
  process.stdin.destroy();
}
rl.on('close', () => ac.abort());

async function run(job: Job): Promise<void> {
  try {
    await loadModules([job.module]);
    const o = { root: job.root, seed: job.seed, signal: ac.signal, onEvent: send, pathPolicy: job.policy, inputs: job.inputs };
    if (job.resume) await resumeRun(job.resume, o);
    else await runCommand(job.module, job.command, job.params, o);
    process.exitCode = 0;
  } catch (e) {
    // the class's name travels too, so the server answers with its status (core/errors.ts)
    if (!(e instanceof RunInterrupted)) send({ type: 'error', message: (e as Error)?.message ?? String(e), name: (e as Error)?.name });
    process.exitCode = e instanceof RunInterrupted ? 130 : 1;
  } finally {
    rl.close();
    process.stdin.destroy();
  }
}
