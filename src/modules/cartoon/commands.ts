// cartoon — the commands: photo → cartoon with stroke, abstraction and colour controls (CARTOONER,
// Ahn et al. 2023), its two-stage training, the controllability metrics and a quick demo. Schemas
// and descriptions live here (defaults from config.ts); each run imports its implementation
// (experiments.ts) when it runs.
import { z } from 'zod';
import { precisionParam } from '../../core/train/precision.ts';
import { registerModule, defineCommand } from '../../core/registry.ts';
import { APPLY, EVALUATE, PREVIEW, LEVELS, OUTPUT_DEPTHS, SCENE_SIZE, STROKE_MASKS, TRAIN } from './config.ts';

const impl = () => import('./experiments.ts');

const level = (d: number, what: string) => z.number().min(1).max(LEVELS).default(d).describe(what);
const modelParam = () => z.string().optional().describe('a model file from `cartoon train`; default: the shipped small model').meta({ path: 'input' });

export const applyParams = z.object({
  input: z.string().min(1).describe('photo file (PNG/JPEG/WebP/TIFF) or a folder of photos').meta({ path: 'input' }),
  output: z.string().optional().describe('output file — .png/.jpg (depth 8), .png (16), .npy (float) — or a folder when input is a folder; default: cartoon.png / cartoon.npy (a folder: cartoons/) in the run folder').meta({ path: 'output' }),
  depth: z.enum(OUTPUT_DEPTHS).default(APPLY.depth).describe("output depth: '8' 8-bit PNG/JPEG, '16' 16-bit PNG (round(v·65535)), 'float' .npy float32 [H, W, 3] sRGB in [0, 1]"),
  stroke: level(APPLY.stroke, 'stroke thickness α_s ∈ [1, 5] (real-valued)'),
  abstraction: level(APPLY.abstraction, 'abstraction α_a ∈ [1, 5] (real-valued)'),
  hueShift: z.number().min(-360).max(360).default(APPLY.hueShift).describe('rotate the colour map hue by this many degrees'),
  colourMap: z.string().optional().describe('an edited colour map image (resized to the photo); default: SLIC superpixels of the photo').meta({ path: 'input' }),
  segments: z.number().int().min(1).max(5000).optional().describe('SLIC segments of the colour map; default: 200 at 256 px, scaled to the image'),
  checkpoint: modelParam(),
  classic: z.boolean().default(false).describe('use the non-learned classic cartoonizer (guided filter + superpixels + XDoG)'),
  maxSide: z.number().int().min(8).max(16384).optional().describe('also shrink so the longer side is at most this (default: full resolution within --max-pixels)'),
  maxPixels: z.number().int().min(64).max(64_000_000).default(APPLY.maxPixels)
    .describe('pixel budget: a larger photo is scaled down to fit it (stated in the summary and log)'),
});
export type ApplyParams = z.infer<typeof applyParams>;

const W = TRAIN.weights;
export const trainParams = z.object({
  photos: z.string().optional().describe('folder of photos (PNG/JPEG); default: the procedural generator').meta({ path: 'input' }),
  cartoons: z.string().optional().describe('folder of cartoon images (PNG/JPEG), unpaired with the photos').meta({ path: 'input' }),
  size: z.number().int().min(16).max(512).default(TRAIN.size).describe('training patch side (a multiple of 4; 64–128 at CPU scale)'),
  scenes: z.number().int().min(2).max(100000).default(TRAIN.scenes).describe('procedural scenes in the pool'),
  batch: z.number().int().min(1).max(256).default(TRAIN.batch).describe('images per step (split over the level groups)'),
  groups: z.number().int().min(1).max(LEVELS).default(TRAIN.groups).describe('texture-level groups per step (5: every branch every step)'),
  stage1Steps: z.number().int().min(0).default(TRAIN.stage1Steps).describe('stage 1 steps: all but the abstraction unit, L_texture + L_color'),
  stage2Steps: z.number().int().min(0).default(TRAIN.stage2Steps).describe('stage 2 steps: abstraction unit only, L_texture'),
  lr: z.number().positive().max(1).default(TRAIN.lr).describe(`Adam learning rate (β = ${TRAIN.betas.join(', ')})`),
  stage2Lr: z.number().positive().max(1).optional().describe('[ours] learning rate of the abstraction unit in stage 2; default: lr'),
  augment: z.boolean().default(TRAIN.augment).describe('[ours] photo augmentation of the procedural pool (blur, contrast, gamma, noise) for real-photo transfer'),
  channels: z.number().int().min(2).max(256).default(TRAIN.channels).describe('feature channels of E and the controller (even; the paper preset: 64)'),
  advWeight: z.number().min(0).default(W.adv).describe('weight of L_adv'),
  contentWeight: z.number().min(0).default(W.content).describe('weight of L_content (random-feature CNN)'),
  tvWeight: z.number().min(0).default(W.tv).describe('weight of L_tv'),
  colorWeight: z.number().min(0).default(W.color).describe('weight of L_color'),
  pairedWeight: z.number().min(0).default(W.paired).describe('[ours] weight of the paired L1 on synthetic pairs (0: the paper’s unpaired losses only)'),
  pairedGradWeight: z.number().min(0).default(W.pairedGrad ?? 0).describe('[ours] weight of the L1 between output and paired-target L gradients (synthetic pairs; the shipped model used 20 in stage 2)'),
  spectralNorm: z.boolean().default(TRAIN.spectralNorm).describe('spectral normalisation in the discriminator'),
  checkpointEvery: z.number().int().min(1).default(TRAIN.checkpointEvery).describe('steps between checkpoints'),
  precision: precisionParam(),
});
export type TrainParams = z.infer<typeof trainParams>;

export const evaluateParams = z.object({
  checkpoint: modelParam(),
  classic: z.boolean().default(false).describe('evaluate the classic cartoonizer instead'),
  photos: z.string().optional().describe('folder of photos; default: procedural scenes').meta({ path: 'input' }),
  images: z.number().int().min(2).max(1000).default(EVALUATE.images).describe('procedural scenes to evaluate'),
  size: z.number().int().min(16).max(1024).default(EVALUATE.size).describe('image side (procedural) or max side (photos)'),
  strokeMask: z.enum(STROKE_MASKS).default(EVALUATE.strokeMask).describe("how W binarises strokes: 'ink' (L < 20, default), 'tophat' (darker than the local background), 'sobel' (a Sobel edge map)"),
});
export type EvaluateParams = z.infer<typeof evaluateParams>;

export const demoParams = z.object({
  size: z.number().int().min(16).max(256).default(SCENE_SIZE).describe('scene side in px (even)'),
  classic: z.boolean().default(false).describe('use the classic cartoonizer'),
});
export type DemoParams = z.infer<typeof demoParams>;

export const apply = defineCommand({
  name: 'apply',
  description: 'Cartoonize a photo (or a folder of photos) with stroke, abstraction and colour controls',
  positional: ['input', 'output'],
  params: applyParams,
  // the dashboard's live controls: the photo a run read (its photo.png) or an upload, at 0.1 MP
  preview: { input: 'input', runFile: 'photo.png', maxPixels: PREVIEW.maxPixels, render: async (p, ctx) => (await import('./preview.ts')).preview(p, ctx.maxPixels) },
  run: async (p, ctx) => (await impl()).apply(p, ctx),
});

export const train = defineCommand({
  name: 'train',
  description: 'Two-stage CARTOONER training on procedural scenes or on folders of photos and cartoons',
  resumable: true,
  params: trainParams,
  metrics: [
    { name: 'd', label: 'discriminator loss', x: 'step', scale: 'linear', group: 'adversarial' },
    { name: 'adv', label: 'generator adversarial loss', x: 'step', scale: 'linear', group: 'adversarial' },
    { name: 'content', label: 'content loss (VGG features)', x: 'step', scale: 'log', group: 'generator terms' },
    { name: 'color', label: 'colour loss', x: 'step', scale: 'log', group: 'generator terms' },
    { name: 'tv', label: 'total-variation loss', x: 'step', scale: 'log', group: 'generator terms' },
    { name: 'paired', label: 'paired reconstruction loss', x: 'step', scale: 'log', group: 'generator terms' },
  ],
  run: async (p, ctx) => (await impl()).train(p, ctx),
});

export const evaluate = defineCommand({
  name: 'evaluate',
  description: 'Controllability metrics: stroke width, abstraction, hue following, disentanglement, continuity',
  params: evaluateParams,
  run: async (p, ctx) => (await impl()).evaluate(p, ctx),
});

export const demo = defineCommand({
  name: 'demo',
  description: 'Quick look: the shipped model on a procedural scene, sweeping stroke, abstraction and hue',
  quick: true,
  params: demoParams,
  run: async (p, ctx) => (await impl()).demo(p, ctx),
});

registerModule({
  name: 'cartoon',
  title: 'Interactive cartoonization',
  description: 'CARTOONER: separate texture (L) and colour (ab) decoders, a stroke/abstraction texture controller and colour-map control; plus a classic cartoonizer',
  papers: ['Ahn, Kwon, Back, Hong, Kim. Interactive Cartoonization with Controllable Perceptual Factors. CVPR 2023 (arXiv 2212.09555)'],
  commands: [apply, train, evaluate, demo],
});
