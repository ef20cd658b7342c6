// A minimal RunContext for tests (the core runner is not part of this module).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../../src/core/torch/index.ts';
import { Rng } from '../../../src/core/rng.ts';
import type { RunContext } from '../../../src/core/context.ts';
import { savePlot } from '../../../src/core/plots.ts';

export function tmpDir(prefix = 'nowcast-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testContext(dir: string, seed = 0, o: { resuming?: boolean; signal?: AbortSignal; plots?: boolean } = {}): RunContext & { logs: string[]; ticks: number } {
  fs.mkdirSync(dir, { recursive: true });
  const tables = new Map<string, Record<string, number | string | boolean | null>[]>();
  const logs: string[] = [];
  const ckDir = path.join(dir, 'checkpoints');
  const ctx = {
    id: 'test', seed, dir, resuming: o.resuming ?? false, signal: o.signal ?? new AbortController().signal, rng: new Rng(seed), logs, ticks: 0,
    path: (n: string) => path.join(dir, n),
    log: (m: string) => { logs.push(m); },
    progress: () => ({ tick: () => { ctx.ticks++; }, update: () => {}, done: () => {} }),
    metrics: {
      log: (row: Record<string, number | string | boolean | null>, name = 'metrics') => { const t = tables.get(name) ?? []; t.push(row); tables.set(name, t); },
      rows: (name = 'metrics') => tables.get(name) ?? [],
    },
    checkpoints: {
      save: (tag: string, tensors: Record<string, torch.Tensor>, state: Record<string, unknown> = {}) => {
        const d = path.join(ckDir, tag);
        fs.mkdirSync(d, { recursive: true });
        torch.saveSafetensors(path.join(d, 'tensors.safetensors'), tensors);
        fs.writeFileSync(path.join(d, 'state.json'), JSON.stringify(state));
      },
      latest: () => {
        if (!fs.existsSync(ckDir)) return null;
        const tags = fs.readdirSync(ckDir).sort((a, b) => fs.statSync(path.join(ckDir, a)).mtimeMs - fs.statSync(path.join(ckDir, b)).mtimeMs || a.localeCompare(b));
        const tag = tags[tags.length - 1];
        if (!tag) return null;
        return { tag, ...ctx.checkpoints.load(tag) };
      },
      load: (tag: string) => ({
        tensors: torch.loadSafetensors(path.join(ckDir, tag, 'tensors.safetensors')).tensors,
        state: JSON.parse(fs.readFileSync(path.join(ckDir, tag, 'state.json'), 'utf8')) as Record<string, unknown>,
      }),
    },
    writeText: (n: string, t: string) => { const f = path.join(dir, n); fs.mkdirSync(path.dirname(f), { recursive: true }); fs.writeFileSync(f, t); return f; },
    writeJson: (n: string, v: unknown) => ctx.writeText(n, JSON.stringify(v, null, 2)),
    writeBytes: (n: string, b: Uint8Array) => { const f = path.join(dir, n); fs.mkdirSync(path.dirname(f), { recursive: true }); fs.writeFileSync(f, b); return f; },
    plot: async (n: string, spec: Record<string, unknown>) => (o.plots === false ? { svg: '', png: '' } : savePlot(path.join(dir, n), spec)),
    throwIfAborted: () => { if (ctx.signal.aborted) throw new Error('interrupted'); },
  };
  return ctx;
}
