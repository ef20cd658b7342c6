// The local launcher, as `torchrun --nproc-per-node N`: picks a free port on 127.0.0.1, starts N
// copies of a command with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR and
// MASTER_PORT set, and watches them. Rank 0 keeps the terminal (progress, summary, --events);
// the other ranks' stderr comes through prefixed with their rank. Each worker runs in its own
// process group: Ctrl-C / SIGTERM to the launcher is passed to every group, and when a worker fails
// the others get `graceMs` to fail on their own (their next collective sees the closed sockets and
// rank 0 marks the run failed), then their groups are killed: no hang, no orphan.
// Loads no engine: the launcher itself never touches libtorch.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A TCP port free on 127.0.0.1 now (the OS picks it). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, host, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface LaunchOptions {
  nproc: number;
  /** the program and its arguments, the same for every rank */
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** default: a free port */
  port?: number;
  /** rank 0's stdio: 'inherit' (the CLI) or 'pipe' (the caller reads child.stdout / writes stdin) */
  rank0Stdio?: 'inherit' | 'pipe';
  /** the other ranks' stdin: 'ignore', or 'pipe' (the caller writes to it) */
  othersStdin?: 'ignore' | 'pipe';
  /** where the other ranks' stderr lines go (default: our stderr, prefixed "[rank k] ") */
  onOtherStderr?: (rank: number, line: string) => void;
  /** after a worker fails, how long the others may take to fail on their own before they are killed (ms) */
  graceMs?: number;
  /** called once every worker has started */
  onStart?: (children: ChildProcess[]) => void;
}

export interface LaunchResult {
  /** each rank's exit code (128 + signal number when killed by a signal) */
  codes: number[];
  /** the code to exit with: rank 0's if it failed, else the first failed rank's, else 0 */
  code: number;
  /** ranks that were killed by the launcher after the grace period */
  killed: number[];
  pids: number[];
}

const SIGNO: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15, SIGHUP: 1, SIGABRT: 6, SIGSEGV: 11 };

/** Starts the workers and resolves when all have exited. */
export async function launch(o: LaunchOptions): Promise<LaunchResult> {
  const port = o.port ?? await freePort();
  const grace = o.graceMs ?? 30_000;
  const children: ChildProcess[] = [];
  const codes: (number | null)[] = Array.from({ length: o.nproc }, () => null);
  const killed: number[] = [];
  const killGroup = (c: ChildProcess, sig: NodeJS.Signals) => { try { if (c.pid) process.kill(-c.pid, sig); } catch { /* gone */ } };
  for (let rank = 0; rank < o.nproc; rank++) {
    const env = {
      ...process.env, ...o.env, RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(o.nproc),
      LOCAL_WORLD_SIZE: String(o.nproc), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port),
    };
    const stdio: ('inherit' | 'pipe' | 'ignore')[] = rank === 0
      ? (o.rank0Stdio === 'pipe' ? ['pipe', 'pipe', 'pipe'] : ['inherit', 'inherit', 'inherit'])
      : [o.othersStdin ?? 'ignore', 'ignore', 'pipe'];
    const c = spawn(o.command, o.args, { env, stdio, detached: true });
    if (rank > 0) prefixLines(c, rank, o.onOtherStderr ?? ((r, l) => process.stderr.write(`[rank ${r}] ${l}\n`)));
    children.push(c);
  }
  o.onStart?.(children);
  let hits = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    hits++;
    for (const c of children) if (c.exitCode === null && c.signalCode === null) killGroup(c, hits > 1 ? 'SIGKILL' : sig);
  };
  const onInt = () => onSignal('SIGINT'), onTerm = () => onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  let graceTimer: NodeJS.Timeout | null = null;
  try {
    await Promise.all(children.map((c, rank) => new Promise<void>((resolve) => {
      c.on('error', () => { codes[rank] = 127; resolve(); });
      c.on('exit', (code, signal) => {
        codes[rank] = code ?? 128 + (signal ? SIGNO[signal] ?? 1 : 1);
        if (codes[rank] !== 0 && !graceTimer) {
          graceTimer = setTimeout(() => {
            children.forEach((x, r) => { if (x.exitCode === null && x.signalCode === null) { killed.push(r); killGroup(x, 'SIGKILL'); } });
          }, grace);
        }
        // the worker's own children (none today) go with its group
        killGroup(c, 'SIGKILL');
        resolve();
      });
    })));
  } finally {
    if (graceTimer) clearTimeout(graceTimer);
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
  const final = codes.map((c) => c ?? 1);
  const firstBad = final.find((c) => c !== 0) ?? 0;
  return { codes: final, code: final[0] !== 0 ? final[0]! : firstBad, killed, pids: children.map((c) => c.pid ?? 0) };
}

function prefixLines(c: ChildProcess, rank: number, out: (rank: number, line: string) => void): void {
  let buf = '';
  c.stderr?.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) { out(rank, buf.slice(0, nl)); buf = buf.slice(nl + 1); }
  });
  c.stderr?.on('end', () => { if (buf) out(rank, buf); });
}

/** argv without `--nproc N` / `--nproc=N`, and N (null when absent). */
export function takeNproc(argv: string[]): { nproc: number | null; rest: string[] } {
  const rest: string[] = [];
  let nproc: number | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--nproc') { nproc = Number(argv[++i]); continue; }
    if (a.startsWith('--nproc=')) { nproc = Number(a.slice('--nproc='.length)); continue; }
    rest.push(a);
  }
  return { nproc, rest };
}
