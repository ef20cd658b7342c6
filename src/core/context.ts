// What a registered command receives when it runs: seed, run folder, progress, logger,
// metrics writer, checkpoints, plots. One path for every module and every surface.
import type { Rng } from './rng.ts';

export interface Progress {
  /** advance by n (default 1) */
  tick(n?: number, info?: Record<string, number | string>): void;
  /** set the absolute position */
  update(value: number, info?: Record<string, number | string>): void;
  done(): void;
}

export interface MetricsWriter {
  /**
   * Appends one row to the run's metrics table `name` (default "metrics"): written to
   * <run>/<name>.jsonl and <run>/<name>.csv, and streamed live to the dashboard.
   */
  log(row: Record<string, number | string | boolean | null>, name?: string): void;
  /** Rows logged so far to table `name` (for plots at the end of a run). */
  rows(name?: string): Record<string, number | string | boolean | null>[];
}

export interface Checkpoints {
  /** Saves tensors (safetensors, atomic) plus a JSON state under <run>/checkpoints/<tag>. */
  save(tag: string, tensors: Record<string, import('./torch/tensor.ts').Tensor>, state?: Record<string, unknown>): void;
  /** The newest checkpoint, or null. Tensors are loaded fresh (caller disposes). */
  latest(): { tag: string; tensors: Record<string, import('./torch/tensor.ts').Tensor>; state: Record<string, unknown> } | null;
  load(tag: string): { tensors: Record<string, import('./torch/tensor.ts').Tensor>; state: Record<string, unknown> };
}

export interface RunContext {
  /** run id in the store */
  readonly id: string;
  readonly seed: number;
  /** the run's folder: write every output here (ctx.path(name) joins) */
  readonly dir: string;
  /** true when this run continues an interrupted one: restoreTrainingCheckpoint(ctx.checkpoints, …) (core/train) or ctx.checkpoints.latest() */
  readonly resuming: boolean;
  /** aborted when the user interrupts (Ctrl-C, dashboard stop): loops check it and return */
  readonly signal: AbortSignal;
  /** seeded generator for data generation; libtorch is seeded with the same seed */
  readonly rng: Rng;
  /**
   * Where the run's tensors go: 'cpu', 'cuda', 'cuda:N' (the --device option or $PAPERLAB_DEVICE,
   * 'auto' resolved: CUDA when present). Models: model.to(ctx.device); data: tensor.to(ctx.device).
   */
  readonly device: string;
  path(name: string): string;
  log(message: string): void;
  progress(total: number, label: string): Progress;
  readonly metrics: MetricsWriter;
  readonly checkpoints: Checkpoints;
  /** atomic writes into the run folder */
  writeText(name: string, text: string): string;
  writeJson(name: string, value: unknown): string;
  writeBytes(name: string, data: Uint8Array): string;
  /**
   * Renders a Vega-Lite spec to <name>.svg and <name>.png in the run folder. Returns the paths.
   * A string is taken as a finished SVG document (drawn directly, for pictures with many marks).
   */
  plot(name: string, spec: Record<string, unknown> | string): Promise<{ svg: string; png: string }>;
  /** Throws if the run was interrupted (call between steps). */
  throwIfAborted(): void;
}
