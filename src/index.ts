// paperlab's typed API, the package's main entry (`import { torch, runCommand } from 'paperlab'`):
// the libtorch facade as one namespace, and the registry, runner and run store that the CLI and the
// dashboard are built on. Each module is its own entry (`import … from 'paperlab/orfit'`; importing
// it registers its commands), the dashboard is 'paperlab/server'.
export * as torch from './core/torch/index.ts';
export {
  defineCommand, registerModule, listModules, getModule, getCommand, validateParams, describeParams, paramsJsonSchema,
  RESERVED, UsageError, type CommandSpec, type ModuleSpec, type ParamSchema, type ParamInfo,
} from './core/registry.ts';
export { runCommand, resumeRun, RunInterrupted, type RunEvent, type RunOptions, type RunResult, type ProgressFactory } from './core/runner.ts';
export { RunStore, defaultRoot, type RunRecord, type RunStatus, type RunFilter } from './core/runs.ts';
export type { RunContext, Progress, MetricsWriter, Checkpoints } from './core/context.ts';
export { loadModules, moduleNames, loadErrors } from './modules/index.ts';
