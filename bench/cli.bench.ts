// Start-up of the CLI, timed as whole processes (what a user waits for), against the budgets of
// issue #19: --version ≤ 0.3 s and ≤ 100 MiB peak RSS, `list` and any --help ≤ 0.5 s,
// `demo fit-line --epochs 0` (the engine loaded, a run opened and closed) ≤ 1.5 s. The reference
// row for loading the engine is `python3 -c "import torch"`. Each command and the reference run
// alternately, 7 rounds; medians, with the range in the note. Peak RSS comes from the kernel's
// accounting of the child (getrusage RUSAGE_CHILDREN, via python3, the same for both sides).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, PYTHON, type BenchHelper } from './helper.ts';

const BIN = fileURLToPath(new URL('../bin/paperlab.js', import.meta.url));
const ROUNDS = 7;

/** Wall milliseconds of one whole process. */
function wall(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr.toString().slice(-500)}`);
  return ms;
}

/** Peak RSS (MiB, measured by the kernel) and wall milliseconds of a whole process. */
function peak(cmd: string, args: string[], env: NodeJS.ProcessEnv): { mib: number; ms: number } {
  const py = 'import resource, subprocess, sys, time\nt = time.perf_counter()\nsubprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)\nprint((time.perf_counter() - t) * 1000, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
  const [ms, kib] = execFileSync(PYTHON, ['-c', py, cmd, ...args], { env, encoding: 'utf8' }).trim().split(' ').map(Number);
  return { mib: kib! / 1024, ms: ms! };
}

export default async function (h: BenchHelper): Promise<void> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-bench-cli-'));
  const env = { ...process.env, PAPERLAB_HOME: home, PAPERLAB_THREADS: String(h.threads) };
  const refArgs = ['-c', 'import torch'];
  const rows: { name: string; args: string[]; budget: number }[] = [
    { name: 'cli: paperlab --version', args: ['--version'], budget: 300 },
    { name: 'cli: paperlab list', args: ['list'], budget: 500 },
    { name: 'cli: paperlab --help', args: ['--help'], budget: 500 },
    { name: 'cli: paperlab nowcast --help', args: ['nowcast', '--help'], budget: 500 },
    { name: 'cli: paperlab prostate train --help', args: ['prostate', 'train', '--help'], budget: 500 },
    { name: 'cli: paperlab demo fit-line --epochs 0', args: ['demo', 'fit-line', '--epochs', '0', '--quiet'], budget: 1500 },
  ];
  for (const r of rows) {
    wall(process.execPath, [BIN, ...r.args], env); // warm the file cache
    const ours: number[] = [], ref: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      ours.push(wall(process.execPath, [BIN, ...r.args], env));
      ref.push(wall(PYTHON, refArgs, env));
    }
    const m = median(ours);
    h.record({
      name: r.name, paperlabMs: m, referenceMs: median(ref), reference: 'python3 -c "import torch" (whole process)', budget: r.budget,
      note: `whole process, median of ${ROUNDS} alternating with the reference; ours ${Math.min(...ours).toFixed(0)}–${Math.max(...ours).toFixed(0)} ms; budget ${r.budget} ms: ${m <= r.budget ? 'within' : 'OVER'}`,
    });
  }
  const ours = [0, 1, 2].map(() => peak(process.execPath, [BIN, '--version'], env));
  const ref = [0, 1, 2].map(() => peak(PYTHON, refArgs, env));
  const mib = median(ours.map((x) => x.mib));
  h.record({
    name: 'cli: paperlab --version peak RSS', paperlabMs: median(ours.map((x) => x.ms)), referenceMs: median(ref.map((x) => x.ms)),
    paperlabMiB: mib, referenceMiB: median(ref.map((x) => x.mib)), budget: 100, reference: 'python3 -c "import torch" (whole process)',
    note: `peak RSS ${mib.toFixed(0)} MiB vs ${median(ref.map((x) => x.mib)).toFixed(0)} MiB (kernel getrusage of the child, median of 3); budget 100 MiB: ${mib <= 100 ? 'within' : 'OVER'}`,
  });
  fs.rmSync(home, { recursive: true, force: true });
}
