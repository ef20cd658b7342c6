// tools — everyday commands that are no paper's: weight conversion (and, later, more). The CLI
// offers them at the top level too (`paperlab convert …` ≡ `paperlab tools convert …`).
// To add a command: define it below with defineCommand and append it to `commands`.
import { z } from 'zod';
import { registerModule, defineCommand, type CommandSpec } from '../../core/registry.ts';
import { convertDefaults, prefixSchema, hessianDefaults as H } from './config.ts';

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

export const hessianParams = z.object({
  checkpoint: z.string().describe('the saved model: .safetensors, .pt/.pth/.ckpt (torch.save, read without running code) with the reference\'s state_dict names, or an eos checkpoint (one flat \'theta\')').meta({ path: 'input' }),
  model: z.string().describe('architecture id (Cohen et al.\'s archs.py): fc-{relu,elu,tanh,hardtanh,softplus}[-depthK][-wW], cnn[-bn|-avgpool]-{relu,elu,tanh}, vgg11[-bn], resnet32, regression, deeplinear'),
  data: z.string().describe('data set as unstable-convergence eos takes it: cifar10, cifar10-<N>k[-<c>cls] (with dataRoot), digits, mnist, gmm, chebyshev-k-20, linear-50-50'),
  dataRoot: z.string().min(1).optional().describe('cifar10*: the folder holding cifar-10-batches-bin or cifar-10-batches-py').meta({ path: 'input' }),
  dataPath: z.string().min(1).optional().describe('mnist: "images,labels"; digits: CSV; cifar10: comma-separated binary batches').meta({ path: 'input', pathList: true }),
  layout: z.enum(['auto', 'bin', 'py']).default(H.layout).describe('cifar10*: release layout under dataRoot'),
  nTrain: z.number().int().min(1).optional().describe('keep the first N training examples (omitted: the data set\'s own size)'),
  loss: z.enum(['mse', 'ce']).default(H.loss).describe('loss: mse (0.5·‖o−t‖², one-hot targets) or ce (cross-entropy), mean over examples'),
  physicalBatch: z.number().int().min(1).optional().describe('accumulate Hessian-vector products over batches of this many examples (BatchNorm statistics per batch, as the reference\'s 1000); omitted: one batch'),
  topK: z.number().int().min(1).max(100).default(H.topK).describe('number of top eigenvalues (Lanczos)'),
  eigTol: z.number().positive().max(0.1).default(H.eigTol).describe('Lanczos relative residual tolerance'),
  trace: z.boolean().default(H.trace).describe('Hutchinson trace (--no-trace: off)'),
  traceIter: z.number().int().min(1).default(H.traceIter).describe('trace: at most this many Rademacher probes (PyHessian maxIter)'),
  traceTol: z.number().min(0).default(H.traceTol).describe('trace: stop when the running mean moves by less than this, relative (PyHessian tol; 0: all probes)'),
  density: z.boolean().default(H.density).describe('spectral density by stochastic Lanczos quadrature (--no-density: off)'),
  slqIter: z.number().int().min(2).default(H.slqIter).describe('density: Lanczos steps per run (PyHessian iter)'),
  slqRuns: z.number().int().min(1).default(H.slqRuns).describe('density: number of runs with independent starts (PyHessian n_v)'),
  bins: z.number().int().min(2).default(H.bins).describe('density: grid points'),
  sigmaSquared: z.number().positive().default(H.sigmaSquared).describe('density: Gaussian broadening, variance per unit of spectrum width (PyHessian sigma_squared)'),
  perLayer: z.boolean().default(H.perLayer).describe('also each parameter tensor\'s diagonal block of the Hessian (top-k, trace, density per layer)'),
});
export type HessianParams = z.infer<typeof hessianParams>;

export const hessian = defineCommand({
  name: 'hessian',
  description: 'Top-k eigenvalues, trace (Hutchinson) and spectral density (SLQ) of the Hessian of a saved model on its data, per layer on request (PyHessian)',
  params: hessianParams,
  positional: ['checkpoint'],
  run: async (p, ctx) => (await import('./hessian.ts')).hessian(p, ctx),
});

const commands: CommandSpec<any>[] = [convert, hessian];

registerModule({
  name: 'tools',
  title: 'Tools',
  description: 'Everyday commands that are no paper\'s: convert weights users already have, analyse the Hessian of a saved model.',
  topLevel: true,
  commands,
});
