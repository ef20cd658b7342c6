// The shared bench helper: time our code and the reference (PyTorch CPU / NumPy run by
// /usr/bin/python3) in the same run, and write rows to bench/results.json.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { writeJsonAtomic } from '../src/core/io/atomic.ts';
import { getNumThreads, torchVersion } from '../src/core/torch/tensor.ts';

export interface BenchRow {
  name: string;
  /** median milliseconds per iteration, ours */
  paperlabMs: number;
  /** median milliseconds per iteration, reference in the same run */
  referenceMs: number;
  /** paperlab ÷ reference (1.0 = parity, lower is better) */
  ratio: number;
  reference: string;
  note: string;
  /** rows with a budget (the CLI's start-up): the most paperlabMs (or paperlabMiB) may be */
  budget?: number;
  /** peak resident memory, MiB (memory rows, whose budget is in MiB) */
  paperlabMiB?: number;
  referenceMiB?: number;
  machine: string;
  time: string;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS = path.join(HERE, 'results.json');
export const PYTHON = process.env.PAPERLAB_PYTHON ?? '/usr/bin/python3';
/**
 * The CPU that both sides' main threads are pinned to (BenchHelper.server): the last one, or
 * PAPERLAB_BENCH_CPU (-1: no pinning). Why: on this project's 2-vCPU machine the two vCPUs differ by
 * 1.5× for the same single-thread work (a one-element PyTorch add pinned: 1.04 µs on CPU 1, 1.55 µs
 * on CPU 0, run after run), so a per-op row measured whichever CPU the scheduler gave each side's
 * main thread, not the code. Only the main thread is pinned: every other thread of the process is
 * set back to all CPUs first, each time (pinThreads), because a pool thread made after the pin
 * inherits it (OpenBLAS starts its workers at its first threaded call: in our process that came
 * after the pin, and a float64 784² mv then ran both its threads on one CPU, 100 µs instead of 54).
 */
export const BENCH_CPU = (() => {
  const v = process.env.PAPERLAB_BENCH_CPU;
  const n = os.cpus().length;
  const c = v === undefined || v === '' ? n - 1 : Number(v);
  return Number.isInteger(c) && c >= 0 && c < n && n > 1 ? c : -1;
})();

/** Every thread of process `pid` on all CPUs, then its main thread (tid = pid) on BENCH_CPU. */
function pinThreads(pid: number | undefined): void {
  if (BENCH_CPU < 0 || pid === undefined) return;
  try {
    execFileSync('taskset', ['-a', '-p', '-c', `0-${os.cpus().length - 1}`, String(pid)], { stdio: 'ignore' });
    execFileSync('taskset', ['-p', '-c', String(BENCH_CPU), String(pid)], { stdio: 'ignore' });
  } catch { /* taskset missing: unpinned (the machine line says pinned; rows stay valid, noisier) */ }
}

/** Untimed warm-up per side and workload before the interleaved rounds (at least 3 blocks). */
const WARMUP_MS = 1000;

/** Pause before each interleaved block, ours and the reference's alike. */
const SETTLE_MS = 250;

/** Median ms per call of fn after warm-up (fn may be async). */
export async function timeIt(fn: () => unknown, o: { warmup?: number; reps?: number; minMs?: number } = {}): Promise<number> {
  for (let i = 0; i < (o.warmup ?? 2); i++) await fn();
  const times: number[] = [];
  const reps = o.reps ?? 10;
  const t0 = performance.now();
  while (times.length < reps || (o.minMs && performance.now() - t0 < o.minMs)) {
    const s = performance.now();
    await fn();
    times.push(performance.now() - s);
    if (times.length > 10000) break;
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export class BenchHelper {
  readonly rows: BenchRow[] = [];
  readonly threads = getNumThreads();
  // The OpenMP wait settings the engine chose (src/core/torch/native.ts) travel to the reference too,
  // through the environment every reference process inherits: both sides run under the same ones.
  readonly machine = `${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, ${this.threads} thread(s), ${process.env.OMP_WAIT_POLICY ? `OMP_WAIT_POLICY=${process.env.OMP_WAIT_POLICY}` : `GOMP_SPINCOUNT=${process.env.GOMP_SPINCOUNT ?? 'default'}`}, ${BENCH_CPU >= 0 ? `main threads on CPU ${BENCH_CPU}` : 'main threads unpinned'}, libtorch ${torchVersion().torch}, node ${process.version}`;
  readonly timeIt = timeIt;

  /**
   * Runs a Python script with the reference stack (torch, numpy) at our thread count. The script
   * prints one JSON object on its last line; it gets `THREADS` and a `bench(fn, warmup, reps)`
   * helper returning median ms.
   */
  python<T = Record<string, number>>(script: string, timeoutMs = 300_000): T {
    const prelude = `
import json, time, statistics, os
THREADS = ${this.threads}
try:
    import torch
    torch.set_num_threads(THREADS)
except ImportError:
    torch = None
def bench(fn, warmup=2, reps=10, min_ms=0):
    for _ in range(warmup): fn()
    ts = []
    t0 = time.perf_counter()
    while len(ts) < reps or (time.perf_counter() - t0) * 1000 < min_ms:
        s = time.perf_counter(); fn(); ts.append((time.perf_counter() - s) * 1000)
        if len(ts) > 10000: break
    return statistics.median(ts)
`;
    let out: string;
    try {
      out = execFileSync(PYTHON, ['-c', prelude + '\n' + script], {
        encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20,
        env: { ...process.env, OMP_NUM_THREADS: String(this.threads), OPENBLAS_NUM_THREADS: String(this.threads), MKL_NUM_THREADS: String(this.threads) },
      });
    } catch (e) {
      throw new Error(`reference python failed: ${(e as { stderr?: string }).stderr ?? (e as Error).message}`);
    }
    const last = out.trim().split('\n').pop()!;
    return JSON.parse(last) as T;
  }

  /**
   * A long-lived reference process for interleaved timing: imports `serve` from bench/<file>.py and
   * calls it with `cfg`. `serve` prints one JSON line first (returned by `hello()`), then answers
   * each stdin line `<command> <reps>` with one line: a JSON list of the milliseconds of each rep.
   */
  referenceServer(file: string, cfg: object): BenchServer {
    // The warm-up op starts the OpenMP pool before the main thread is pinned (BENCH_CPU), as serve.ts does.
    return this.server('reference python', PYTHON, ['-u', '-c', `import json, sys\nsys.path.insert(0, ${JSON.stringify(HERE)})\nimport torch\ntorch.set_num_threads(${this.threads})\ntorch.ones(1 << 22).add_(1).sum()\nfrom ${file} import serve\nserve(json.loads(${JSON.stringify(JSON.stringify(cfg))}))`]);
  }

  /**
   * Our side as the same kind of long-lived child process (bench/serve.ts): `serve(cfg)` exported by
   * the bench module `moduleUrl` builds the workloads. Timing our code in this (parent) process
   * instead measured it 20–30% slower than the identical code in a child, interleaved the same way
   * (2 cores, 2 threads: child/parent ratio 0.77 and 0.83 over 20 rounds), so both sides run as
   * children woken the same way, with the same thread settings.
   */
  selfServer(moduleUrl: string, cfg: object): BenchServer {
    return this.server('paperlab', process.execPath, [path.join(HERE, '..', 'bin', 'run-ts.js'), path.join(HERE, 'serve.ts'), fileURLToPath(moduleUrl), JSON.stringify(cfg)]);
  }

  private server(what: string, cmd: string, args: string[]): BenchServer {
    const T = String(this.threads);
    const child = spawn(cmd, args, {
      env: { ...process.env, PAPERLAB_THREADS: T, OMP_NUM_THREADS: T, OPENBLAS_NUM_THREADS: T, MKL_NUM_THREADS: T }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const lines: string[] = [];
    let waiting: { res: (s: string) => void; rej: (e: Error) => void } | null = null;
    readline.createInterface({ input: child.stdout }).on('line', (l) => { if (waiting) { const w = waiting; waiting = null; w.res(l); } else lines.push(l); });
    child.on('exit', (code) => { if (waiting) waiting.rej(new Error(`${what} exited (${code}): ${err.slice(-2000)}`)); });
    const next = () => new Promise<string>((res, rej) => { const l = lines.shift(); if (l !== undefined) res(l); else waiting = { res, rej }; });
    return {
      // after the hello line the child's pools exist: pin its main thread (BENCH_CPU)
      hello: async <R = Record<string, number>>() => { const h = JSON.parse(await next()) as R; pinThreads(child.pid); return h; },
      pin: () => pinThreads(child.pid),
      ask: async (command: string, reps: number) => { child.stdin.write(`${command} ${reps}\n`); return JSON.parse(await next()) as number[]; },
      close: () => { child.stdin.end(); },
    };
  }

  /**
   * Interleaved timing of two servers: `rounds` turns each of `block` reps of ours, then `block`
   * reference reps of `command`. Both sides see the same machine load (timing all reference reps
   * first and ours seconds later let load drift between the phases skew the ratio), and each block
   * starts SETTLE_MS after the other side's (OpenBLAS threads spin ~0.1 s after their last call and
   * would steal the cores from short reps), and its first rep is dropped, so neither side is timed
   * while its threads and caches wake up from the other's turn. Before the rounds, each side runs
   * untimed warm-up blocks (at least 3 and WARMUP_MS): V8 tiers our code up over the first thousands
   * of calls (a 1,000-add block took 1.4–2.2 ms for its first four blocks, 1.0 ms after), while
   * Python's interpreter starts at its steady state, so timing from the first block measured our
   * JIT's warm-up, not the code. Returns the kept times and a note with the spread of the per-round
   * ratio of medians.
   */
  async interleave(mine: BenchServer, ref: BenchServer, command: string, o: { rounds: number; block: number }) {
    const kept: number[] = [], theirs: number[] = [], ratios: number[] = [];
    for (const side of [mine, ref]) {
      const t0 = performance.now();
      for (let b = 0; b < 3 || performance.now() - t0 < WARMUP_MS; b++) { await side.ask(command, o.block); side.pin(); }
    }
    for (let r = 0; r < o.rounds; r++) {
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      mine.pin();
      const a = await mine.ask(command, o.block);
      await new Promise((res) => setTimeout(res, SETTLE_MS));
      ref.pin();
      const b = await ref.ask(command, o.block);
      kept.push(...a.slice(1)); theirs.push(...b.slice(1));
      ratios.push(median(a.slice(1)) / median(b.slice(1)));
    }
    const note = `${o.rounds} interleaved rounds of ${o.block} reps per side after warm-up, each side in its own child process (first rep of each block dropped); per-round ratio median ${median(ratios).toFixed(2)}, range ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}`;
    return { mine: kept, theirs, ratios, note };
  }

  /** Whether the reference python has torch (benchmarks skip rows cleanly when not). */
  hasPythonTorch(): boolean {
    try { execFileSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }); return true; } catch { return false; }
  }

  record(
    r: {
      name: string;
      paperlabMs: number;
      referenceMs: number;
      reference?: string;
      note?: string;
      budget?: number;
      paperlabMiB?: number;
      referenceMiB?: number;
    },
  ): BenchRow {
    const row: BenchRow = {
      name: r.name, paperlabMs: round(r.paperlabMs), referenceMs: round(r.referenceMs),
      ratio: round(r.paperlabMs / r.referenceMs), reference: r.reference ?? 'PyTorch (python3-torch)',
      note: r.note ?? '',
      ...(r.budget !== undefined ? { budget: r.budget } : {}),
      ...(r.paperlabMiB !== undefined ? { paperlabMiB: round(r.paperlabMiB) } : {}),
      ...(r.referenceMiB !== undefined ? { referenceMiB: round(r.referenceMiB) } : {}),
      machine: this.machine, time: new Date().toISOString(),
    };
    this.rows.push(row);
    process.stdout.write(`${row.name.padEnd(48)} paperlab ${fmt(row.paperlabMs)}  ref ${fmt(row.referenceMs)}  ratio ${row.ratio.toFixed(2)}×  ${row.note}\n`);
    return row;
  }

  /** Merges this run's rows into bench/results.json (rows replaced by name). */
  save(file = RESULTS): void {
    let old: BenchRow[] = [];
    if (fs.existsSync(file)) { try { old = JSON.parse(fs.readFileSync(file, 'utf8')).rows ?? []; } catch { old = []; } }
    const names = new Set(this.rows.map((r) => r.name));
    const rows = [...old.filter((r) => !names.has(r.name)), ...this.rows].sort((a, b) => a.name.localeCompare(b.name));
    writeJsonAtomic(file, { updated: new Date().toISOString(), rows });
  }
}

function round(x: number): number { return Math.round(x * 1e4) / 1e4; }
function fmt(ms: number): string { return (ms < 1 ? `${(ms * 1000).toFixed(2)} µs` : `${ms.toFixed(3)} ms`).padStart(12); }

export type BenchFn = (h: BenchHelper) => Promise<void>;

/** A long-lived timing process (BenchHelper.referenceServer / selfServer). */
export interface BenchServer {
  hello<R = Record<string, number>>(): Promise<R>;
  ask(command: string, reps: number): Promise<number[]>;
  /** re-applies the thread placement (BENCH_CPU) to threads made since */
  pin(): void;
  close(): void;
}

export const median = (v: readonly number[]): number => { const s = [...v].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
