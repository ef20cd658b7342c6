// Runs a registered command: validates parameters, opens a run in the store, builds the context
// (seed, progress, metrics, checkpoints, plots), runs it, and marks it done, failed or interrupted.
// CLI, server and tests all come through here: one path, whatever the module.
import fs from 'node:fs';
import path from 'node:path';
import { getCommand, validateParams, describeParams } from './registry.ts';
import { UsageError, ConflictError, RunInterrupted, DistributedError } from './errors.ts';
import { confinePaths, type PathPolicy } from './paths.ts';
import { RunStore, writeCsv, type RunRecord } from './runs.ts';
import type { RunContext, Progress, MetricsWriter, Checkpoints } from './context.ts';
import { Rng } from './rng.ts';
import { writeFileAtomic, writeJsonAtomic, appendAtomic } from './io/atomic.ts';
import { savePlot } from './plots.ts';
import { manualSeed, interrupts, resolveDevice, cuda, withDefaultDevice } from './torch/tensor.ts';
import { saveSafetensors } from './torch/serialize.ts';
import { latestCheckpointTag, readCheckpoint } from './checkpoint-files.ts';
import type { Tensor } from './torch/tensor.ts';
import { joinFromEnv, currentWorld, broadcastJson, type World } from './distributed/env.ts';
import { followerContext } from './distributed/rank-context.ts';

export type RunEvent =
  | { type: 'start'; run: RunRecord }
  | { type: 'progress'; label: string; value: number; total: number; info?: Record<string, number | string> }
  | { type: 'metric'; table: string; row: Record<string, unknown> }
  | { type: 'log'; message: string }
  | { type: 'plot'; name: string; png: string; svg: string }
  | { type: 'end'; run: RunRecord };

export interface ProgressFactory {
  create(total: number, label: string): Progress;
  stop?(): void;
}

export interface RunOptions {
  /** run store root (default $PAPERLAB_HOME or ./runs) */
  root?: string;
  store?: RunStore;
  seed?: number;
  /**
   * 'cpu', 'cuda', 'cuda:N', 'meta' or 'auto' (CUDA when present); default $PAPERLAB_DEVICE, else
   * 'auto'. A resumed run keeps its recorded device unless one is given.
   */
  device?: string;
  /** progress display (the CLI's bars); events are sent to onEvent regardless */
  progress?: ProgressFactory;
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
  /** print log lines to stderr */
  echoLog?: boolean;
  /**
   * Where path parameters may point (runs started by the dashboard): they are checked and made
   * absolute before the command sees them, relative outputs landing in the run folder. The CLI
   * sets none: a local user on their own shell may read and write anywhere.
   */
  pathPolicy?: PathPolicy;
  /** staged files (parameter -> file, e.g. dashboard uploads) moved into the new run's inputs/ folder; the parameter then points there */
  inputs?: Record<string, string>;
}

/** Thrown when a run is interrupted (it lives in errors.ts with the other error classes). */
export { RunInterrupted };

export interface RunResult { run: RunRecord; summary: Record<string, unknown> | null }

/** Validates and runs `module command` with raw parameters (from flags, a form or JSON). */
export async function runCommand(module: string, command: string, raw: Record<string, unknown>, o: RunOptions = {}): Promise<RunResult> {
  const cmd = getCommand(module, command);
  const params = validateParams(cmd, raw, `${module} ${command}`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got ${seed}`);
  // before the run exists: a UsageError leaves nothing behind
  const device = o.device !== undefined ? resolveDevice(o.device) : resolveDevice(process.env.PAPERLAB_DEVICE, 'PAPERLAB_DEVICE');
  // A data-parallel run (WORLD_SIZE > 1): rank 0 opens the run, the other ranks follow it.
  const world = joinFromEnv();
  if (!world.isMain) return execute(null, receiveRun(), false, o, () => {});
  const store = o.store ?? new RunStore(o.root);
  const run = shareRun(world, () => store.create(module, command, params, seed, Boolean(cmd.resumable), device, o.inputs));
  return execute(store, run, false, o, () => { if (!o.store) store.close(); });
}

/** Rank 0: makes the run and sends its record to the other ranks (or the error, so they stop too). */
function shareRun(world: World, make: () => RunRecord): RunRecord {
  if (world.worldSize === 1) return make();
  let run: RunRecord;
  try {
    run = make();
  } catch (e) {
    broadcastJson({ error: String((e as Error)?.message ?? e) });
    throw e;
  }
  broadcastJson({ run });
  return run;
}

/** Ranks 1…N−1: the record of the run rank 0 opened. */
function receiveRun(): RunRecord {
  const got = broadcastJson<{ run?: RunRecord; error?: string }>(undefined);
  if (!got.run) throw new DistributedError(`rank 0 could not open the run: ${got.error ?? 'unknown error'}`);
  return got.run;
}

/** Continues an interrupted (or failed) run in its own folder, from its last checkpoint. */
export async function resumeRun(id: string, o: RunOptions = {}): Promise<RunResult> {
  const world = joinFromEnv();
  if (!world.isMain) return execute(null, receiveRun(), true, o, () => {});
  const store = o.store ?? new RunStore(o.root);
  const again = shareRun(world, () => {
    const run = store.get(id);
    const cmd = getCommand(run.module, run.command);
    if (run.status === 'done') throw new ConflictError(`run ${run.id} is already done`);
    if (run.status === 'running') throw new ConflictError(`run ${run.id} is still running (pid ${run.pid})`);
    if (!cmd.resumable) throw new ConflictError(`${run.module} ${run.command} cannot resume; start a new run`);
    const device = o.device !== undefined ? resolveDevice(o.device)
      : process.env.PAPERLAB_DEVICE !== undefined ? resolveDevice(process.env.PAPERLAB_DEVICE, 'PAPERLAB_DEVICE') : resolveDevice(run.device ?? 'auto', 'the recorded device');
    return store.update(run.id, { status: 'running', error: null, finished: null, pid: process.pid, device });
  });
  return execute(store, again, true, o, () => { if (!o.store) store.close(); });
}

/** Runs the command in `run`'s context; `store` null: a rank ≥ 1 of a data-parallel run (rank 0 keeps the record). */
async function execute(store: RunStore | null, run: RunRecord, resuming: boolean, o: RunOptions, cleanup: () => void): Promise<RunResult> {
  const cmd = getCommand(run.module, run.command);
  const emit = (e: RunEvent) => { try { o.onEvent?.(e); } catch { /* a listener must not kill the run */ } };
  const stop = interruptibleSignal(o.signal);
  const ctx = store ? makeContext(run, resuming, { ...o, signal: stop.signal }, emit)
    : followerContext(run, { rank: currentWorld().rank, localRank: currentWorld().localRank, resuming, signal: stop.signal, echoLog: o.echoLog });
  try {
    manualSeed(run.seed);
    if (ctx.device.startsWith('cuda')) cuda.manualSeed(run.seed);
    const w = currentWorld();
    ctx.log(`${resuming ? 'resume' : 'start'} ${run.module} ${run.command} seed=${run.seed} device=${ctx.device} pid=${process.pid}${w.worldSize > 1 ? ` rank=${w.rank} of ${w.worldSize}` : ''}`);
    emit({ type: 'start', run });
    const params = o.pathPolicy ? confinePaths(run.params, describeParams(cmd), o.pathPolicy, run.dir) : run.params;
    // the run's device is the factories' default while it runs (torch.set_default_device)
    const out = await withDefaultDevice(ctx.device, () => cmd.run(params as never, ctx));
    const summary = out ?? null;
    ctx.flush();
    if (summary && store) writeJsonAtomic(path.join(run.dir, 'summary.json'), summary);
    if (!store) ctx.log('done');
    const final = store ? store.update(run.id, { status: 'done', summary, finished: new Date().toISOString() }) : { ...run, status: 'done' as const, summary };
    emit({ type: 'end', run: final });
    return { run: final, summary };
  } catch (e) {
    // The way out must not fail too (a full disk fails the flush and the log line as well): each
    // step is tried on its own, and the status is written to the index whatever else failed.
    const interrupted = e instanceof RunInterrupted || stop.signal.aborted || (e as Error)?.name === 'AbortError';
    const msg = interrupted ? 'interrupted' + (cmd.resumable ? ' (resume with: paperlab runs resume ' + run.id + ')' : '') : String((e as Error)?.message ?? e);
    try { ctx.flush(); } catch { /* the first error is the one to report */ }
    try { ctx.log(interrupted ? msg : `error: ${msg}`); } catch { /* idem */ }
    if (store) emit({ type: 'end', run: markEnded(store, run, interrupted ? 'interrupted' : 'failed', msg) });
    if (interrupted) throw new RunInterrupted();
    throw e;
  } finally {
    ctx.close();
    stop.dispose();
    cleanup();
  }
}

/** Marks a run failed or interrupted; when even that cannot be written, says so on stderr. */
function markEnded(store: RunStore, run: RunRecord, status: 'failed' | 'interrupted', error: string): RunRecord {
  const patch = { status, error, finished: new Date().toISOString() };
  try {
    return store.end(run.id, patch);
  } catch (e) {
    process.stderr.write(`paperlab: could not mark run ${run.id} ${status}: ${(e as Error).message}\n`);
    return { ...run, ...patch };
  }
}

/**
 * The run's AbortSignal: aborted by the caller's signal (dashboard stop, the CLI's listener) and by
 * SIGINT/SIGTERM arriving while the run computes synchronously. Node delivers signals to JS only
 * between event-loop turns, so reading `aborted` also polls the engine's signal counter.
 */
function interruptibleSignal(outer?: AbortSignal): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onOuter = () => ac.abort(outer!.reason);
  if (outer?.aborted) ac.abort(outer.reason); else outer?.addEventListener('abort', onOuter, { once: true });
  const abortedOf = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
  Object.defineProperty(ac.signal, 'aborted', {
    configurable: true,
    get(this: AbortSignal) {
      if (!abortedOf.call(this) && interrupts.pending(true)) ac.abort(new RunInterrupted());
      return abortedOf.call(this) as boolean;
    },
  });
  interrupts.watch();
  // While the run awaits, poll too, so 'abort' listeners fire without waiting for a step (this
  // does not acknowledge the signal: only the run's own loop reading `aborted` does).
  const poll = setInterval(() => { if (!abortedOf.call(ac.signal) && interrupts.pending()) ac.abort(new RunInterrupted()); }, 100);
  poll.unref();
  let live = true;
  return {
    signal: ac.signal,
    dispose() { if (!live) return; live = false; clearInterval(poll); outer?.removeEventListener('abort', onOuter); interrupts.unwatch(); },
  };
}

/**
 * A RunContext over a folder outside the run store, with the real semantics of a run's context:
 * checkpoints (safetensors + JSON, latest.json, metrics tables cut back on resume), metrics tables
 * (<name>.jsonl / .csv), log.txt, atomic writes, plots. For tests and scripts; commands get theirs
 * from runCommand/resumeRun. `flush()` writes the CSV tables; `close()` stops the progress display.
 */
export function openRunContext(dir: string, o: Omit<RunOptions, 'root' | 'store' | 'seed' | 'pathPolicy'> & { id?: string; seed?: number; resuming?: boolean } = {}): RunContext & { flush(): void; close(): void } {
  const abs = path.resolve(dir);
  fs.mkdirSync(abs, { recursive: true });
  const emit = (e: RunEvent) => { try { o.onEvent?.(e); } catch { /* a listener must not break the context */ } };
  // (the CPU unless o.device says otherwise: tests and scripts are not moved to a GPU behind their back)
  return makeContext({ id: o.id ?? path.basename(abs), seed: o.seed ?? 0, dir: abs, device: resolveDevice(o.device ?? 'cpu') }, o.resuming ?? false, o, emit);
}

/**
 * A run's metrics tables: JSONL appended as rows come (survives a kill); CSV rewritten at
 * checkpoints and the end (`flush`).
 */
function makeRunTables(dir: string, resuming: boolean, emit: (e: RunEvent) => void) {
  const tables = new Map<string, Record<string, number | string | boolean | null>[]>();
  const dirty = new Set<string>();
  const readTable = (name: string) => {
    let rows = tables.get(name);
    if (!rows) {
      rows = [];
      const f = path.join(dir, `${name}.jsonl`);
      if (fs.existsSync(f)) {
        for (const line of fs.readFileSync(f, 'utf8').split('\n')) if (line.trim()) { try { rows.push(JSON.parse(line)); } catch { /* torn last line */ } }
      }
      tables.set(name, rows);
    }
    return rows;
  };
  const tableNames = () => fs.readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl') && !f.includes('.tmp-'))
    .map((f) => f.slice(0, -'.jsonl'.length));

  // Resume: a run continues from a checkpoint, and redoes what came after it. Each checkpoint
  // records how many rows every table had; the first checkpoint loaded on resume cuts the tables
  // back to that, so redone steps are not written twice (no checkpoint loaded: back to none).
  let cut = !resuming;
  const cutTables = (counts: Record<string, number>) => {
    if (cut) return;
    cut = true;
    for (const name of tableNames()) {
      const rows = readTable(name);
      const keep = counts[name] ?? 0;
      if (rows.length <= keep) continue;
      rows.length = keep;
      writeFileAtomic(path.join(dir, `${name}.jsonl`), rows.map((r) => JSON.stringify(r) + '\n').join(''));
      dirty.add(name);
    }
  };
  /** Resume from a checkpoint that recorded no row counts: every row is kept. */
  const keepTables = () => { cut = true; };
  const rowCounts = () => Object.fromEntries(tableNames().map((n) => [n, readTable(n).length]));

  const flush = () => {
    for (const name of dirty) writeCsv(path.join(dir, `${name}.csv`), readTable(name));
    dirty.clear();
  };
  const metrics: MetricsWriter = {
    log(row, name = 'metrics') {
      if (!/^[a-z0-9_-]+$/i.test(name)) throw new Error(`metrics table name '${name}' must be a plain word`);
      cutTables({}); // a resumed run that logs before loading any checkpoint starts over
      const rows = readTable(name);
      appendAtomic(path.join(dir, `${name}.jsonl`), JSON.stringify(row) + '\n');
      rows.push(row);
      dirty.add(name);
      emit({ type: 'metric', table: name, row });
    },
    rows(name = 'metrics') { return readTable(name); },
  };
  return { metrics, flush, cutTables, keepTables, rowCounts };
}

/** A run's checkpoints: checkpoints/<tag>.safetensors + <tag>.json, and latest.json naming the newest. */
function makeCheckpoints(dir: string, tables: ReturnType<typeof makeRunTables>): Checkpoints {
  const ckDir = path.join(dir, 'checkpoints');
  const checkpoints: Checkpoints = {
    save(tag, tensors: Record<string, Tensor>, state = {}) {
      if (!/^[A-Za-z0-9_.-]+$/.test(tag)) throw new Error(`checkpoint tag '${tag}' must be a plain name`);
      if (tag === 'latest') throw new Error("checkpoint tag 'latest' is reserved (checkpoints/latest.json points at the newest); use e.g. 'last'");
      fs.mkdirSync(ckDir, { recursive: true });
      saveSafetensors(path.join(ckDir, `${tag}.safetensors`), tensors, { format: 'pt' });
      // The state file is written last: a checkpoint counts only once both exist.
      writeJsonAtomic(path.join(ckDir, `${tag}.json`), { tag, time: new Date().toISOString(), state, metricsRows: tables.rowCounts() });
      writeJsonAtomic(path.join(ckDir, 'latest.json'), { tag });
      tables.flush();
    },
    latest() {
      const tag = latestCheckpointTag(ckDir);
      return tag === null ? null : { tag, ...checkpoints.load(tag) };
    },
    load(tag) {
      const { tensors, state, metricsRows } = readCheckpoint(ckDir, tag);
      // Checkpoints written before row counts were recorded keep every row.
      if (metricsRows) tables.cutTables(metricsRows); else tables.keepTables();
      return { tensors, state };
    },
  };
  return checkpoints;
}

/** `ctx.progress`: a progress display (o.progress) plus throttled 'progress' events. */
function makeProgressFactory(o: RunOptions, emit: (e: RunEvent) => void, bars: Progress[]) {
  return (total: number, label: string): Progress => {
    const bar = o.progress?.create(total, label);
    let value = 0;
    let lastEmit = 0;
    let lastValue = -Infinity;
    // Throttled for long loops (every 1 % or 100 ms), but no step of a short loop is dropped.
    const send = (info?: Record<string, number | string>, force = false) => {
      const now = Date.now();
      if (force || now - lastEmit > 100 || value - lastValue >= total / 100 || value >= total) {
        lastEmit = now; lastValue = value;
        emit({ type: 'progress', label, value, total, info });
      }
    };
    const p: Progress = {
      tick(n = 1, info) { value += n; bar?.tick(n, info); send(info); },
      update(v, info) { value = v; bar?.update(v, info); send(info); },
      done() { value = total; bar?.done(); send(undefined, true); },
    };
    bars.push(p);
    send(undefined, true);
    return p;
  };
}

function makeContext(
  run: Pick<RunRecord, 'id' | 'seed' | 'dir'> & { device?: string | null },
  resuming: boolean,
  o: RunOptions,
  emit: (e: RunEvent) => void,
): RunContext & { flush(): void; close(): void } {
  const dir = run.dir;
  const inside = (name: string) => {
    const p = path.resolve(dir, name);
    if (p !== dir && !p.startsWith(dir + path.sep)) throw new UsageError(`'${name}' would be written outside the run folder`);
    return p;
  };
  const logFile = path.join(dir, 'log.txt');
  const log = (message: string) => {
    appendAtomic(logFile, `${new Date().toISOString()} ${message}\n`);
    if (o.echoLog) process.stderr.write(message + '\n');
    emit({ type: 'log', message });
  };

  const tables = makeRunTables(dir, resuming, emit);
  const checkpoints = makeCheckpoints(dir, tables);
  const signal = o.signal ?? new AbortController().signal;
  const bars: Progress[] = [];
  const ctx = {
    id: run.id,
    seed: run.seed,
    dir,
    resuming,
    signal,
    rng: new Rng(run.seed),
    device: run.device ?? 'cpu',
    path: inside,
    log,
    progress: makeProgressFactory(o, emit, bars),
    metrics: tables.metrics,
    checkpoints,
    writeText(name: string, text: string) { const p = inside(name); writeFileAtomic(p, text); return p; },
    writeJson(name: string, value: unknown) { const p = inside(name); writeJsonAtomic(p, value); return p; },
    writeBytes(name: string, data: Uint8Array) { const p = inside(name); writeFileAtomic(p, data); return p; },
    async plot(name: string, spec: Record<string, unknown> | string) {
      const base = inside(name.replace(/\.(png|svg)$/, ''));
      const out = await savePlot(base, spec);
      emit({ type: 'plot', name, png: path.relative(dir, out.png), svg: path.relative(dir, out.svg) });
      return out;
    },
    throwIfAborted() { if (signal.aborted) throw new RunInterrupted(); },
    flush: tables.flush,
    close() { o.progress?.stop?.(); },
  };
  return ctx;
}
