// tools — everyday commands that are no paper's: weight conversion (and, later, more). The CLI
// offers them at the top level too (`paperlab convert …` ≡ `paperlab tools convert …`).
// To add a command: define it below with defineCommand and append it to `commands`.
import { z } from 'zod';
import { registerModule, defineCommand, type CommandSpec } from '../../core/registry.ts';
import { convertDefaults, prefixSchema } from './config.ts';

const impl = () => import('./experiments.ts');

export const convertParams = z.object({
  input: z.string().describe('state dict to read: .pt/.pth (torch.save), .ckpt (PyTorch Lightning) or .safetensors').meta({ path: 'input' }),
  output: z.string().describe('safetensors file to write').meta({ path: 'output' }),
  map: z.string().optional().describe("key map '<module>/<table>' from an official implementation's names to paperlab's (e.g. nowcast/w4c-unet)"),
  prefix: prefixSchema.default(convertDefaults.prefix).describe("key prefix to strip (keys without it are left out); 'auto' strips wrapper prefixes every key shares (module., model., net.); 'none' keeps keys"),
});
export type ConvertParams = z.infer<typeof convertParams>;

export const convert = defineCommand({
  name: 'convert',
  description: 'Convert a PyTorch checkpoint (.pth/.pt/.ckpt, read without running code) or safetensors file to safetensors',
  params: convertParams,
  positional: ['input', 'output'],
  run: async (p, ctx) => (await impl()).convert(p, ctx),
});

const commands: CommandSpec<any>[] = [convert];

registerModule({
  name: 'tools',
  title: 'Tools',
  description: 'Everyday commands that are no paper\'s: convert weights users already have.',
  topLevel: true,
  commands,
});
