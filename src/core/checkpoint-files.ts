// Reading a run's checkpoint files (<run>/checkpoints/<tag>.safetensors + <tag>.json, and
// latest.json naming the newest tag): shared by the run context (runner.ts) and the context of
// data-parallel ranks ≥ 1 (distributed/rank-context.ts), which read rank 0's folder.
import fs from 'node:fs';
import path from 'node:path';
import { readJson } from './io/atomic.ts';
import { loadSafetensors } from './torch/serialize.ts';
import type { Tensor } from './torch/tensor.ts';

export interface CheckpointFiles {
  tensors: Record<string, Tensor>;
  state: Record<string, unknown>;
  /** metrics table row counts when the checkpoint was saved (absent in older checkpoints) */
  metricsRows?: Record<string, number>;
}

/** The tag latest.json names, or null before the first checkpoint. */
export function latestCheckpointTag(ckDir: string): string | null {
  const f = path.join(ckDir, 'latest.json');
  return fs.existsSync(f) ? readJson<{ tag: string }>(f).tag : null;
}

export function readCheckpoint(ckDir: string, tag: string): CheckpointFiles {
  const meta = readJson<{ state: Record<string, unknown>; metricsRows?: Record<string, number> }>(path.join(ckDir, `${tag}.json`));
  return { tensors: loadSafetensors(path.join(ckDir, `${tag}.safetensors`)).tensors, state: meta.state, ...(meta.metricsRows ? { metricsRows: meta.metricsRows } : {}) };
}
