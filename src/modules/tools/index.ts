// tools — the typed API: `convert(params, ctx)` and its command (registered in commands.ts).
export { convert as convertCommand, type ConvertParams } from './commands.ts';
export { convert } from './experiments.ts';
