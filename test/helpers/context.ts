// The one RunContext for tests: the runner's own context (openRunContext) over a temporary folder,
// so checkpoints, metrics tables, resume (tables cut back to the checkpoint), log.txt, atomic
// writes and plots behave exactly as in a run, without the run store. What a test wants to look
// at (log lines, progress ticks, events) is collected on the side, and `abort` stops it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openRunContext, type RunEvent } from '../../src/core/runner.ts';
import type { RunContext } from '../../src/core/context.ts';

export interface FakeContextOptions {
  /** the run folder (made if missing; default: a new temporary folder) */
  dir?: string;
  seed?: number;
  /** a resumed run: checkpoints.latest() is where to continue from */
  resuming?: boolean;
  /** an outer signal; `abort` aborts the context too */
  signal?: AbortSignal;
  id?: string;
}

export interface FakeContext extends RunContext {
  /** log lines, in order */
  readonly logs: string[];
  /** progress: the sum of ticks, or the last update() value */
  ticks: number;
  /** every event the context emitted (log, metric, progress, plot) */
  readonly events: RunEvent[];
  /** aborts ctx.signal (as Ctrl-C or a dashboard stop would) */
  readonly abort: AbortController;
  /** writes the metrics CSV files (a run does this at checkpoints and at the end) */
  flush(): void;
}

/** A new temporary folder. */
export function tmpDir(prefix = 'paperlab-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A RunContext with real checkpoint and metrics semantics over a (temporary) folder. */
export function fakeContext(o: FakeContextOptions = {}): FakeContext {
  const dir = o.dir ?? tmpDir();
  const abort = new AbortController();
  const signal = o.signal ? AbortSignal.any([abort.signal, o.signal]) : abort.signal;
  const logs: string[] = [];
  const events: RunEvent[] = [];
  let holder: { ticks: number } | null = null;
  const ctx = openRunContext(dir, {
    id: o.id ?? 'test', seed: o.seed ?? 0, resuming: o.resuming ?? false, signal,
    onEvent: (e) => { events.push(e); if (e.type === 'log') logs.push(e.message); },
    progress: {
      create: () => ({
        tick: (n = 1) => { holder!.ticks += n; },
        update: (v) => { holder!.ticks = v; },
        done: () => {},
      }),
    },
  });
  const fake = Object.assign(ctx, { logs, events, abort, ticks: 0 }) as FakeContext;
  holder = fake;
  return fake;
}
