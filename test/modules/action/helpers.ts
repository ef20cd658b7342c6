// A small stand-in RunContext for the action tests (the shared runner may not exist yet):
// writes into a temp folder, checkpoints as safetensors + JSON, plots through core/plots.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../../src/core/torch/index.ts';
import type { Tensor } from '../../../src/core/torch/index.ts';
import type { RunContext } from '../../../src/core/context.ts';
import { Rng } from '../../../src/core/rng.ts';
import { savePlot } from '../../../src/core/plots.ts';

export function tmpDir(tag = 'action'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `paperlab-${tag}-`));
}

export interface TestContext extends RunContext { logs: string[]; ticks: number; abort: AbortController }

export function testContext(dir: string, o: { seed?: number; resuming?: boolean } = {}): TestContext {
  fs.mkdirSync(dir, { recursive: true });
  const abort = new AbortController();
  const rows = new Map<string, Record<string, number | string | boolean | null>[]>();
  const logs: string[] = [];
  const ckDir = path.join(dir, 'checkpoints');
  const write = (name: string, data: string | Uint8Array) => { const p = path.join(dir, name); fs.mkdirSync(path.dirname(p), { recursive: true }); fs.writeFileSync(p, data); return p; };
  const ctx: TestContext = {
    id: 'test', seed: o.seed ?? 0, dir, resuming: o.resuming ?? false, signal: abort.signal, rng: new Rng(o.seed ?? 0), logs, ticks: 0, abort,
    path: (n) => path.join(dir, n),
    log: (m) => { logs.push(m); },
    progress: () => ({ tick: (n = 1) => { ctx.ticks += n; }, update: (v) => { ctx.ticks = v; }, done: () => {} }),
    metrics: {
      log: (row, name = 'metrics') => { if (!rows.has(name)) rows.set(name, []); rows.get(name)!.push(row); },
      rows: (name = 'metrics') => rows.get(name) ?? [],
    },
    checkpoints: {
      save: (tag: string, tensors: Record<string, Tensor>, state: Record<string, unknown> = {}) => {
        fs.mkdirSync(ckDir, { recursive: true });
        torch.saveSafetensors(path.join(ckDir, `${tag}.safetensors`), tensors);
        fs.writeFileSync(path.join(ckDir, `${tag}.json`), JSON.stringify(state));
      },
      latest: () => {
        if (!fs.existsSync(ckDir)) return null;
        const tags = fs.readdirSync(ckDir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
        const tag = tags.at(-1);
        return tag ? { tag, ...ctx.checkpoints.load(tag) } : null;
      },
      load: (tag: string) => ({
        tensors: torch.loadSafetensors(path.join(ckDir, `${tag}.safetensors`)).tensors,
        state: JSON.parse(fs.readFileSync(path.join(ckDir, `${tag}.json`), 'utf8')),
      }),
    },
    writeText: (n, t) => write(n, t),
    writeJson: (n, v) => write(n, JSON.stringify(v, null, 1)),
    writeBytes: (n, d) => write(n, d),
    plot: (n, spec) => savePlot(path.join(dir, n), spec),
    throwIfAborted: () => { if (abort.signal.aborted) throw new Error('interrupted'); },
  };
  return ctx;
}
