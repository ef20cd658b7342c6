// Runs a registered command: validates parameters, opens a run in the store, builds the context
// (seed, progress, metrics, checkpoints, plots), runs it, and marks it done, failed or interrupted.
// CLI, server and tests all come through here: one path, whatever the module.
import fs from 'node:fs';
import path from 'node:path';
import { getCommand, validateParams, UsageError } from './registry.ts';
import { RunStore, writeCsv, type RunRecord } from './runs.ts';
import type { RunContext, Progress, MetricsWriter, Checkpoints } from './context.ts';
import { Rng } from './rng.ts';
import { writeFileAtomic, writeJsonAtomic, readJson } from './io/atomic.ts';
import { savePlot } from './plots.ts';
import { manualSeed } from './torch/tensor.ts';
import { saveSafetensors, loadSafetensors } from './torch/serialize.ts';
import type { Tensor } from './torch/tensor.ts';

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
  /** progress display (the CLI's bars); events are sent to onEvent regardless */
  progress?: ProgressFactory;
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
  /** print log lines to stderr */
  echoLog?: boolean;
}

export class RunInterrupted extends Error {
  override name = 'RunInterrupted';
  constructor() { super('run interrupted'); }
}

export interface RunResult { run: RunRecord; summary: Record<string, unknown> | null }

/** Validates and runs `module command` with raw parameters (from flags, a form or JSON). */
export async function runCommand(module: string, command: string, raw: Record<string, unknown>, o: RunOptions = {}): Promise<RunResult> {
  const cmd = getCommand(module, command);
  const params = validateParams(cmd, raw, `${module} ${command}`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be a non-negative integer, got ${seed}`);
  const store = o.store ?? new RunStore(o.root);
  const run = store.create(module, command, params, seed, Boolean(cmd.resumable));
  return execute(store, run, false, o, () => { if (!o.store) store.close(); });
}

/** Continues an interrupted (or failed) run in its own folder, from its last checkpoint. */
export async function resumeRun(id: string, o: RunOptions = {}): Promise<RunResult> {
  const store = o.store ?? new RunStore(o.root);
  const run = store.get(id);
  const cmd = getCommand(run.module, run.command);
  if (run.status === 'done') throw new UsageError(`run ${run.id} is already done`);
  if (run.status === 'running') throw new UsageError(`run ${run.id} is still running (pid ${run.pid})`);
  if (!cmd.resumable) throw new UsageError(`${run.module} ${run.command} cannot resume; start a new run`);
  const again = store.update(run.id, { status: 'running', error: null, finished: null, pid: process.pid });
  return execute(store, again, true, o, () => { if (!o.store) store.close(); });
}

async function execute(store: RunStore, run: RunRecord, resuming: boolean, o: RunOptions, cleanup: () => void): Promise<RunResult> {
  const cmd = getCommand(run.module, run.command);
  const emit = (e: RunEvent) => { try { o.onEvent?.(e); } catch { /* a listener must not kill the run */ } };
  const ctx = makeContext(run, resuming, o, emit);
  manualSeed(run.seed);
  ctx.log(`${resuming ? 'resume' : 'start'} ${run.module} ${run.command} seed=${run.seed} pid=${process.pid}`);
  emit({ type: 'start', run });
  let summary: Record<string, unknown> | null = null;
  let final: RunRecord;
  try {
    const out = await cmd.run(run.params as never, ctx);
    summary = out ?? null;
    ctx.flush();
    if (summary) writeJsonAtomic(path.join(run.dir, 'summary.json'), summary);
    final = store.update(run.id, { status: 'done', summary, finished: new Date().toISOString() });
  } catch (e) {
    ctx.flush();
    const interrupted = e instanceof RunInterrupted || o.signal?.aborted || (e as Error)?.name === 'AbortError';
    const msg = interrupted ? 'interrupted' + (cmd.resumable ? ' (resume with: paperlab runs resume ' + run.id + ')' : '') : String((e as Error)?.message ?? e);
    ctx.log(interrupted ? msg : `error: ${msg}`);
    final = store.update(run.id, { status: interrupted ? 'interrupted' : 'failed', error: msg, finished: new Date().toISOString() });
    emit({ type: 'end', run: final });
    ctx.close();
    cleanup();
    if (interrupted) throw new RunInterrupted();
    throw e;
  }
  emit({ type: 'end', run: final });
  ctx.close();
  cleanup();
  return { run: final, summary };
}

function makeContext(run: RunRecord, resuming: boolean, o: RunOptions, emit: (e: RunEvent) => void): RunContext & { flush(): void; close(): void } {
  const dir = run.dir;
  const inside = (name: string) => {
    const p = path.resolve(dir, name);
    if (p !== dir && !p.startsWith(dir + path.sep)) throw new Error(`'${name}' would be written outside the run folder`);
    return p;
  };
  const logFile = path.join(dir, 'log.txt');
  const log = (message: string) => {
    fs.appendFileSync(logFile, `${new Date().toISOString()} ${message}\n`);
    if (o.echoLog) process.stderr.write(message + '\n');
    emit({ type: 'log', message });
  };

  // Metrics: JSONL appended as rows come (survives a kill); CSV rewritten at checkpoints and the end.
  const tables = new Map<string, Record<string, number | string | boolean | null>[]>();
  const dirty = new Set<string>();
  const loadTable = (name: string) => {
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
  const flush = () => {
    for (const name of dirty) writeCsv(path.join(dir, `${name}.csv`), loadTable(name));
    dirty.clear();
  };
  const metrics: MetricsWriter = {
    log(row, name = 'metrics') {
      if (!/^[a-z0-9_-]+$/i.test(name)) throw new Error(`metrics table name '${name}' must be a plain word`);
      loadTable(name).push(row);
      fs.appendFileSync(path.join(dir, `${name}.jsonl`), JSON.stringify(row) + '\n');
      dirty.add(name);
      emit({ type: 'metric', table: name, row });
    },
    rows(name = 'metrics') { return loadTable(name); },
  };

  const ckDir = path.join(dir, 'checkpoints');
  const checkpoints: Checkpoints = {
    save(tag, tensors: Record<string, Tensor>, state = {}) {
      if (!/^[A-Za-z0-9_.-]+$/.test(tag)) throw new Error(`checkpoint tag '${tag}' must be a plain name`);
      if (tag === 'latest') throw new Error(`checkpoint tag 'latest' is reserved (checkpoints/latest.json points at the newest); use e.g. 'last'`);
      fs.mkdirSync(ckDir, { recursive: true });
      saveSafetensors(path.join(ckDir, `${tag}.safetensors`), tensors, { format: 'pt' });
      // The state file is written last: a checkpoint counts only once both exist.
      writeJsonAtomic(path.join(ckDir, `${tag}.json`), { tag, time: new Date().toISOString(), state });
      writeJsonAtomic(path.join(ckDir, 'latest.json'), { tag });
      flush();
    },
    latest() {
      const f = path.join(ckDir, 'latest.json');
      if (!fs.existsSync(f)) return null;
      const { tag } = readJson<{ tag: string }>(f);
      return { tag, ...checkpoints.load(tag) };
    },
    load(tag) {
      const meta = readJson<{ state: Record<string, unknown> }>(path.join(ckDir, `${tag}.json`));
      return { tensors: loadSafetensors(path.join(ckDir, `${tag}.safetensors`)).tensors, state: meta.state };
    },
  };

  const signal = o.signal ?? new AbortController().signal;
  const bars: Progress[] = [];
  const ctx = {
    id: run.id,
    seed: run.seed,
    dir,
    resuming,
    signal,
    rng: new Rng(run.seed),
    path: inside,
    log,
    progress(total: number, label: string): Progress {
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
    },
    metrics,
    checkpoints,
    writeText(name: string, text: string) { const p = inside(name); writeFileAtomic(p, text); return p; },
    writeJson(name: string, value: unknown) { const p = inside(name); writeJsonAtomic(p, value); return p; },
    writeBytes(name: string, data: Uint8Array) { const p = inside(name); writeFileAtomic(p, data); return p; },
    async plot(name: string, spec: Record<string, unknown>) {
      const base = inside(name.replace(/\.(png|svg)$/, ''));
      const out = await savePlot(base, spec);
      emit({ type: 'plot', name, png: path.relative(dir, out.png), svg: path.relative(dir, out.svg) });
      return out;
    },
    throwIfAborted() { if (signal.aborted) throw new RunInterrupted(); },
    flush,
    close() { o.progress?.stop?.(); },
  };
  return ctx;
}
