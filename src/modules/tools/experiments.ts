// tools — the run bodies.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import { getWeightMap } from '../../core/registry.ts';
import { loadModules } from '../index.ts';
import { UsageError } from '../../core/errors.ts';
import type { RunContext } from '../../core/context.ts';
import type { KeyMap } from '../../core/io/keymap.ts';
import type { ConvertParams } from './commands.ts';

/** The key map a `--map <module>/<table>` names (its module is loaded to ask it). */
async function keyMap(ref: string): Promise<KeyMap> {
  const mod = ref.split('/')[0] ?? '';
  if (!/^[a-z][a-z0-9-]*\/[a-z0-9-]+$/.test(ref)) throw new UsageError(`--map '${ref}': expected '<module>/<table>', e.g. nowcast/w4c-unet`);
  await loadModules([mod], false).catch(() => undefined);
  return getWeightMap(ref);
}

export async function convert(p: ConvertParams, ctx: RunContext) {
  const map = p.map ? await keyMap(p.map) : undefined;
  const loaded = torch.loadStateDict(p.input, { prefix: p.prefix === 'none' ? undefined : p.prefix, ...(map ? { map } : {}) });
  const names = Object.keys(loaded.tensors);
  const numel = names.reduce((a, k) => a + loaded.tensors[k]!.numel, 0);
  fs.mkdirSync(path.dirname(path.resolve(p.output)), { recursive: true });
  torch.saveSafetensors(p.output, loaded.tensors, {
    ...loaded.metadata,
    converted_from: path.basename(p.input),
    source_format: loaded.format,
    ...(map ? { key_map: p.map! } : {}),
  });
  torch.dispose(loaded.tensors);
  if (loaded.halfConverted.length) ctx.log(`${loaded.halfConverted.length} float16/bfloat16 tensors were converted to float32 (paperlab computes in float32)`);
  if (loaded.other.length) ctx.log(`left out the checkpoint's other entries: ${loaded.other.join(', ')}`);
  ctx.log(`wrote ${names.length} tensors (${numel} values) to ${p.output}`);
  return { output: p.output, format: loaded.format, tensors: names.length, values: numel, halfConverted: loaded.halfConverted.length, leftOut: loaded.other };
}
