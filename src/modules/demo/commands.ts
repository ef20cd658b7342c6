// The demo module's commands: a module-free end-to-end check of the engine, registry and run
// store. Schemas and descriptions live here; each run imports its implementation when it runs.
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';

const impl = () => import('./experiments.ts');

export const fitLineParams = z.object({
  a: z.number().default(3).describe('true slope'),
  b: z.number().default(-1).describe('true intercept'),
  points: z.number().int().min(2).max(1_000_000).default(256).describe('number of noisy points'),
  noise: z.number().min(0).default(0.1).describe('noise standard deviation'),
  lr: z.number().positive().max(10).default(0.1).describe('SGD step size'),
  epochs: z.number().int().min(0).max(10_000_000).default(200).describe('full-batch steps'),
  checkpointEvery: z.number().int().min(1).default(50).describe('steps between checkpoints'),
  dtype: z.enum(['float32', 'float64']).default('float64').describe('tensor precision'),
});
export type FitLineParams = z.infer<typeof fitLineParams>;

export const fitLine = defineCommand({
  name: 'fit-line',
  description: 'Fit y = a·x + b to noisy points by SGD on libtorch (a 2-second end-to-end check)',
  quick: true,
  resumable: true,
  params: fitLineParams,
  metrics: [
    { name: 'loss', label: 'training loss (MSE)', x: 'epoch', scale: 'log' },
  ],
  run: async (p, ctx) => (await impl()).fitLine(p, ctx),
});

registerModule({
  name: 'demo',
  title: 'Engine demo',
  description: 'A module-free end-to-end check of the engine, registry and run store.',
  commands: [fitLine],
});
