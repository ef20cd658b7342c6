// demo — the typed API: `fitLine(params, ctx)` and its command (registered in commands.ts).
export { fitLine as fitLineCommand, type FitLineParams } from './commands.ts';
export { fitLine } from './experiments.ts';
