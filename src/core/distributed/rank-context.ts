// The run context of ranks 1…N−1 of a data-parallel run. Rank 0 owns the run: its context (the
// runner's) writes metrics, checkpoints, plots, progress and the run record. The others run the
// same command in lockstep, and their context keeps every side effect to themselves: log lines go
// to <run>/log.rank<k>.txt, metrics rows stay in memory, checkpoint saves and plots are skipped
// (rank 0 writes the same values), and `path()` / `write*()` point into a private scratch folder
// (removed at the end) — a command that writes a model file or generates data there and reads it
// back works, without racing rank 0 on its files. Checkpoints are read from rank 0's folder, so a
// resumed run restores the same state on every rank (multi-machine resume needs that folder shared).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunContext, Checkpoints, MetricsWriter, Progress } from '../context.ts';
import { Rng } from '../rng.ts';
import { RunInterrupted, UsageError } from '../errors.ts';
import { appendAtomic } from '../io/atomic.ts';
import { latestCheckpointTag, readCheckpoint } from '../checkpoint-files.ts';

export interface FollowerOptions {
  rank: number;
  /** LOCAL_RANK: with a CUDA device, this rank's GPU on its machine (cuda:<localRank>, as torchrun users set it) */
  localRank?: number;
  resuming: boolean;
  signal: AbortSignal;
  /** also print log lines on stderr (the launcher prefixes them with the rank) */
  echoLog?: boolean;
}

export function followerContext(
  run: { id: string; seed: number; dir: string; device?: string | null }, o: FollowerOptions,
): RunContext & { flush(): void; close(): void } {
  const dir = path.resolve(run.dir);
  fs.mkdirSync(dir, { recursive: true }); // another machine's copy of the folder, for the log
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), `paperlab-${run.id.replace(/[^\w.-]/g, '_')}-rank${o.rank}-`));
  const inside = (name: string) => {
    const p = path.resolve(scratch, name);
    if (p !== scratch && !p.startsWith(scratch + path.sep)) throw new UsageError(`'${name}' would be written outside the run folder`);
    return p;
  };
  const write = (name: string, data: string | Uint8Array) => {
    const p = inside(name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, data);
    return p;
  };
  const logFile = path.join(dir, `log.rank${o.rank}.txt`);
  const log = (message: string) => {
    appendAtomic(logFile, `${new Date().toISOString()} ${message}\n`);
    if (o.echoLog) process.stderr.write(message + '\n');
  };
  const tables = new Map<string, Record<string, number | string | boolean | null>[]>();
  const metrics: MetricsWriter = {
    log(row, name = 'metrics') { (tables.get(name) ?? tables.set(name, []).get(name)!).push(row); },
    rows(name = 'metrics') { return tables.get(name) ?? []; },
  };
  const ckDir = path.join(dir, 'checkpoints');
  const checkpoints: Checkpoints = {
    save() { /* rank 0 saves */ },
    latest() {
      const tag = latestCheckpointTag(ckDir);
      return tag === null ? null : { tag, ...checkpoints.load(tag) };
    },
    load(tag) {
      const { tensors, state } = readCheckpoint(ckDir, tag);
      return { tensors, state };
    },
  };
  const noProgress: Progress = { tick() {}, update() {}, done() {} };
  const device = run.device?.startsWith('cuda') ? `cuda:${o.localRank ?? o.rank}` : run.device ?? 'cpu';
  return {
    id: run.id,
    seed: run.seed,
    device,
    dir,
    resuming: o.resuming,
    signal: o.signal,
    rng: new Rng(run.seed),
    path: inside,
    log,
    progress: () => noProgress,
    metrics,
    checkpoints,
    writeText: (name, text) => write(name, text),
    writeJson: (name, value) => write(name, JSON.stringify(value, null, 2)),
    writeBytes: (name, data) => write(name, data),
    async plot(name) {
      const base = inside(name.replace(/\.(png|svg)$/, ''));
      return { svg: `${base}.svg`, png: `${base}.png` };
    },
    throwIfAborted() { if (o.signal.aborted) throw new RunInterrupted(); },
    flush() {},
    close() { fs.rmSync(scratch, { recursive: true, force: true }); },
  };
}
