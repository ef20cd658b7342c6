// Module `cartoon`: interactive cartoonization with texture and colour controls — CARTOONER
// (Ahn, Kwon, Back, Hong, Kim; "Interactive Cartoonization with Controllable Perceptual Factors",
// CVPR 2023, arXiv 2212.09555) at CPU scale, plus a classic non-learned cartoonizer.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { registerModule, defineCommand } from '../../core/registry.ts';
import * as torch from '../../core/torch/index.ts';
import { lineChart } from '../../core/plots.ts';
import { writeImage } from '../../core/io/image.ts';
import { labToRgb, rotateHue } from './color.ts';
import { FolderSource, SyntheticSource, listImages, makeScene, planarToTensor, type CartoonSource } from './data.ts';
import { applyFile, openCartoonizer, photoColourMap, readPhoto, SHIPPED_MODEL } from './apply.ts';
import { DEFAULT_TRAIN, saveModel, trainCartooner } from './train.ts';
import { controllability, kid } from './evaluate.ts';
import { Rng } from '../../core/rng.ts';

export * from './color.ts';
export * from './model.ts';
export * from './losses.ts';
export * from './data.ts';
export * from './train.ts';
export * from './evaluate.ts';
export * from './classic.ts';
export * from './apply.ts';
export * as raster from './raster.ts';

const level = (d: number, what: string) => z.number().min(1).max(5).default(d).describe(what);
const imageExt = /\.(png|jpe?g)$/i;

const apply = defineCommand({
  name: 'apply',
  description: 'Cartoonize a photo (or a folder of photos) with stroke, abstraction and colour controls',
  positional: ['input', 'output'],
  params: z.object({
    input: z.string().min(1).describe('photo file (PNG/JPEG/WebP/TIFF) or a folder of photos').meta({ path: 'input' }),
    output: z.string().default('').describe('output PNG/JPEG file (a folder when input is a folder); default: cartoon.png in the run folder').meta({ path: 'output' }),
    stroke: level(3, 'stroke thickness α_s ∈ [1, 5] (real-valued)'),
    abstraction: level(2, 'abstraction α_a ∈ [1, 5] (real-valued)'),
    hueShift: z.number().min(-360).max(360).default(0).describe('rotate the colour map hue by this many degrees'),
    colourMap: z.string().default('').describe('an edited colour map image (resized to the photo); default: SLIC superpixels of the photo').meta({ path: 'input' }),
    segments: z.number().int().min(0).max(5000).default(0).describe('SLIC segments of the colour map (0: 200 at 256 px, scaled to the image)'),
    checkpoint: z.string().default('').describe('a model file from `cartoon train` (default: the shipped small model)').meta({ path: 'input' }),
    classic: z.boolean().default(false).describe('use the non-learned classic cartoonizer (guided filter + superpixels + XDoG)'),
    maxSide: z.number().int().min(8).max(4096).default(256).describe('resize so the longer side is at most this'),
  }),
  async run(p, ctx) {
    const cz = openCartoonizer({ checkpoint: p.checkpoint || undefined, classic: p.classic });
    try {
      const opts = { stroke: p.stroke, abstraction: p.abstraction, hueShift: p.hueShift, colourMap: p.colourMap || undefined, segments: p.segments || undefined, maxSide: p.maxSide };
      const isDir = fs.existsSync(p.input) && fs.statSync(p.input).isDirectory();
      if (!isDir) {
        const out = p.output || ctx.path('cartoon.png');
        if (!imageExt.test(out)) throw new Error(`output '${out}' must end in .png, .jpg or .jpeg`);
        const size = await applyFile(cz, p.input, out, opts);
        ctx.log(`wrote ${out}`);
        return { output: out, ...size, engine: cz.kind, model: cz.info?.trainedOn ?? null, stroke: p.stroke, abstraction: p.abstraction, hueShift: p.hueShift };
      }
      const files = listImages(p.input);
      const outDir = p.output || ctx.path('cartoons');
      if (imageExt.test(outDir)) throw new Error(`input '${p.input}' is a folder, so output must be a folder, got '${outDir}'`);
      const bar = ctx.progress(files.length, 'cartoon apply');
      const outputs: string[] = [];
      for (const f of files) {
        ctx.throwIfAborted();
        const out = path.join(outDir, path.basename(f).replace(/\.[^.]+$/, '') + '.png');
        await applyFile(cz, f, out, opts);
        outputs.push(out);
        bar.tick();
      }
      bar.done();
      return { outputs, count: outputs.length, engine: cz.kind, stroke: p.stroke, abstraction: p.abstraction, hueShift: p.hueShift };
    } finally {
      cz.dispose();
    }
  },
});

const train = defineCommand({
  name: 'train',
  description: 'Two-stage CARTOONER training on procedural scenes or on folders of photos and cartoons',
  resumable: true,
  params: z.object({
    photos: z.string().default('').describe('folder of photos (PNG/JPEG); empty: the procedural generator').meta({ path: 'input' }),
    cartoons: z.string().default('').describe('folder of cartoon images (PNG/JPEG), unpaired with the photos').meta({ path: 'input' }),
    size: z.number().int().min(16).max(512).default(64).describe('training patch side (even; 64–128 at CPU scale)'),
    scenes: z.number().int().min(2).max(100000).default(200).describe('procedural scenes in the pool'),
    batch: z.number().int().min(1).max(256).default(10).describe('images per step (split over the level groups)'),
    groups: z.number().int().min(1).max(5).default(5).describe('texture-level groups per step (5: every branch every step)'),
    stage1Steps: z.number().int().min(0).default(500).describe('stage 1 steps: all but the abstraction unit, L_texture + L_color'),
    stage2Steps: z.number().int().min(0).default(250).describe('stage 2 steps: abstraction unit only, L_texture'),
    lr: z.number().positive().max(1).default(DEFAULT_TRAIN.lr).describe('Adam learning rate (β = 0.5, 0.99)'),
    stage2Lr: z.number().min(0).max(1).default(0).describe('[ours] learning rate of the abstraction unit in stage 2 (0: same as lr)'),
    augment: z.boolean().default(false).describe('[ours] photo augmentation of the procedural pool (blur, contrast, gamma, noise) for real-photo transfer'),
    channels: z.number().int().min(2).max(256).default(32).describe('feature channels of E and the controller (spec: 64)'),
    advWeight: z.number().min(0).default(DEFAULT_TRAIN.weights.adv).describe('weight of L_adv'),
    contentWeight: z.number().min(0).default(DEFAULT_TRAIN.weights.content).describe('weight of L_content (random-feature CNN)'),
    tvWeight: z.number().min(0).default(DEFAULT_TRAIN.weights.tv).describe('weight of L_tv'),
    colorWeight: z.number().min(0).default(DEFAULT_TRAIN.weights.color).describe('weight of L_color'),
    pairedWeight: z.number().min(0).default(DEFAULT_TRAIN.weights.paired).describe('[ours] weight of the paired L1 on synthetic pairs (0 = the paper’s unpaired losses only)'),
    pairedGradWeight: z.number().min(0).default(0).describe('[ours] weight of the L1 between output and paired-target L gradients (synthetic pairs; the shipped model used 20 in stage 2)'),
    spectralNorm: z.boolean().default(true).describe('spectral normalisation in the discriminator'),
    checkpointEvery: z.number().int().min(1).default(50).describe('steps between checkpoints'),
  }),
  async run(p, ctx) {
    if (p.size % 4) throw new Error(`size must be a multiple of 4, got ${p.size}`);
    if (p.channels % 2) throw new Error(`channels must be even, got ${p.channels}`);
    if (Boolean(p.photos) !== Boolean(p.cartoons)) throw new Error('give both --photos and --cartoons folders, or neither (procedural data)');
    const source: CartoonSource = p.photos ? await FolderSource.open(p.photos, p.cartoons, p.size) : new SyntheticSource(p.size, p.scenes, ctx.seed, { augment: p.augment });
    const data = p.photos ? `photos ${p.photos}, cartoons ${p.cartoons}` : `procedural scenes (${p.scenes} at ${p.size} px, seed ${ctx.seed}${p.augment ? ', photo augmentation' : ''})`;
    ctx.log(`training on ${data}`);
    const o = {
      ...DEFAULT_TRAIN, batch: p.batch, groups: p.groups, stage1Steps: p.stage1Steps, stage2Steps: p.stage2Steps, lr: p.lr,
      stage2Lr: p.stage2Lr > 0 ? p.stage2Lr : undefined,
      model: { channels: p.channels }, spectralNorm: p.spectralNorm, checkpointEvery: p.checkpointEvery,
      weights: { adv: p.advWeight, content: p.contentWeight, tv: p.tvWeight, color: p.colorWeight, paired: p.pairedWeight, pairedGrad: p.pairedGradWeight },
    };
    const { trainer } = await trainCartooner(o, source, ctx);
    try {
      const modelFile = ctx.path('model.safetensors');
      saveModel(modelFile, trainer.G, { trainedOn: data, steps: trainer.step });
      const rows = ctx.metrics.rows();
      const long = ['d', 'adv', 'color', 'paired', 'content'].flatMap((k) => rows.map((r) => ({ step: r.step, loss: r[k], term: k })));
      if (rows.length > 1) await ctx.plot('losses', lineChart(long, { x: 'step', y: 'loss', color: 'term', title: 'CARTOONER training losses' }));
      const mean = (k: string, from: number, to: number) => {
        const xs = rows.slice(from, to).map((r) => Number(r[k]));
        return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
      };
      const s1 = Math.min(rows.length, p.stage1Steps), q = Math.max(1, Math.floor(s1 / 4));
      return {
        model: modelFile, steps: trainer.step, data,
        stage1: { firstQuarter: { d: mean('d', 0, q), adv: mean('adv', 0, q), color: mean('color', 0, q), paired: mean('paired', 0, q) }, lastQuarter: { d: mean('d', s1 - q, s1), adv: mean('adv', s1 - q, s1), color: mean('color', s1 - q, s1), paired: mean('paired', s1 - q, s1) } },
      };
    } finally {
      trainer.dispose();
    }
  },
});

const evaluate = defineCommand({
  name: 'evaluate',
  description: 'Controllability metrics (§A.8): stroke width, abstraction, hue following, disentanglement, continuity',
  params: z.object({
    checkpoint: z.string().default('').describe('model file (default: the shipped model)').meta({ path: 'input' }),
    classic: z.boolean().default(false).describe('evaluate the classic cartoonizer instead'),
    photos: z.string().default('').describe('folder of photos (default: procedural scenes)').meta({ path: 'input' }),
    images: z.number().int().min(2).max(1000).default(8).describe('procedural scenes to evaluate'),
    size: z.number().int().min(16).max(1024).default(64).describe('image side (procedural) or max side (photos)'),
    strokeMask: z.enum(['ink', 'tophat', 'sobel']).default('ink').describe("how W binarises strokes: 'ink' (L < 20, default), 'tophat' (darker than the local background), 'sobel' (the spec's edge map)"),
  }),
  async run(p, ctx) {
    const cz = openCartoonizer({ checkpoint: p.checkpoint || undefined, classic: p.classic });
    let photos: torch.Tensor, maps: torch.Tensor;
    if (p.photos) {
      const list: torch.Tensor[] = [], ms: torch.Tensor[] = [];
      for (const f of listImages(p.photos)) {
        const ph = await readPhoto(f, p.size);
        // metrics batch: crop to a common square
        const s = Math.min(ph.shape[2]!, ph.shape[3]!) & ~1;
        const c = ph.narrow(2, 0, s).narrow(3, 0, s).contiguous();
        ph.dispose();
        list.push(c);
        ms.push(photoColourMap(c));
      }
      const s = Math.min(...list.map((t) => t.shape[2]!));
      photos = torch.cat(list.map((t) => t.narrow(2, 0, s).narrow(3, 0, s)), 0);
      maps = torch.cat(ms.map((t) => t.narrow(2, 0, s).narrow(3, 0, s)), 0);
      torch.dispose(list, ms);
    } else {
      const rng = new Rng(ctx.seed + 4242);
      const scenes = Array.from({ length: p.images }, () => makeScene(rng, p.size));
      photos = planarToTensor(scenes.map((s) => s.photo));
      maps = planarToTensor(scenes.map((s) => s.map));
    }
    try {
      const bar = ctx.progress(1, 'cartoon evaluate');
      const rep = controllability((a, b, s, t) => cz.lab(a, b, s, t), photos, maps, rotateHue, { stroke: { edge: p.strokeMask } });
      const kidScore = torch.scope(() => kid(cz.lab(photos, maps, 3, 3), torch.noGrad(() => cz.lab(photos, maps, 1, 1))));
      bar.done();
      const rows = rep.levels.flatMap((l, k) => rep.strokeWidth.map((r, i) => ({ level: l, image: i, strokeWidth: r[k]!, hfRatio: rep.hfRatio[i]![k]! })));
      rows.forEach((r) => ctx.metrics.log(r, 'controls'));
      await ctx.plot('stroke-width', lineChart(rows, { x: 'level', y: 'strokeWidth', color: 'image', title: 'stroke width W vs α_s' }));
      await ctx.plot('abstraction', lineChart(rows, { x: 'level', y: 'hfRatio', color: 'image', title: 'high-frequency ratio vs α_a (lower = more abstract)' }));
      ctx.writeJson('report.json', rep);
      // a contact sheet: α_s sweep (top) and α_a sweep (bottom) of the first image
      const sheet = torch.noGrad(() => torch.scope(() => {
        const ph = photos.narrow(0, 0, 1), mp = maps.narrow(0, 0, 1);
        const top = torch.cat(rep.levels.map((l) => labToRgb(cz.lab(ph, mp, l, 1))), 3);
        const bot = torch.cat(rep.levels.map((l) => labToRgb(cz.lab(ph, mp, 1, l))), 3);
        return torch.cat([top, bot], 2);
      }));
      await writeImage(ctx.path('sweep.png'), sheet);
      sheet.dispose();
      return {
        engine: cz.kind,
        strokeSpearman: { pooled: rep.strokeSpearman, meanPerImage: rep.strokeSpearmanPerImage, meanCurve: rep.strokeSpearmanMeanCurve },
        abstractionSpearman: { pooled: rep.abstractionSpearman, meanPerImage: rep.abstractionSpearmanPerImage, meanCurve: rep.abstractionSpearmanMeanCurve },
        continuity: rep.continuity, hue: rep.hue, disentangle: rep.disentangle,
        kidLevel3VsLevel1: kidScore, note: 'KID on a fixed random CNN: not comparable with published FID/KID',
      };
    } finally {
      torch.dispose(photos, maps);
      cz.dispose();
    }
  },
});

const demo = defineCommand({
  name: 'demo',
  description: 'Quick look: the shipped model on a procedural scene, sweeping stroke, abstraction and hue',
  quick: true,
  params: z.object({
    size: z.number().int().min(16).max(256).default(64).describe('scene side in px (even)'),
    classic: z.boolean().default(false).describe('use the classic cartoonizer'),
  }),
  async run(p, ctx) {
    if (p.size % 2) throw new Error(`size must be even, got ${p.size}`);
    const cz = openCartoonizer({ classic: p.classic });
    try {
      const scene = makeScene(ctx.rng, p.size);
      const sheet = torch.noGrad(() => torch.scope(() => {
        const ph = planarToTensor([scene.photo]), mp = planarToTensor([scene.map]);
        const row = (f: (l: number) => torch.Tensor) => torch.cat([ph, ...[1, 2, 3, 4, 5].map(f)], 3);
        return torch.cat([
          row((l) => labToRgb(cz.lab(ph, mp, l, 1))),
          row((l) => labToRgb(cz.lab(ph, mp, 3, l))),
          row((l) => labToRgb(cz.lab(ph, rotateHue(mp, (l - 1) * 72), 3, 2))),
        ], 2);
      }));
      const file = ctx.path('demo.png');
      await writeImage(file, sheet);
      sheet.dispose();
      return { image: file, rows: ['α_s = 1..5', 'α_a = 1..5', 'hue shift 0, 72, 144, 216, 288°'], engine: cz.kind, model: cz.info?.trainedOn ?? null };
    } finally {
      cz.dispose();
    }
  },
});

registerModule({
  name: 'cartoon',
  title: 'Interactive cartoonization',
  description: 'CARTOONER: separate texture (L) and colour (ab) decoders, a stroke/abstraction texture controller and colour-map control; plus a classic cartoonizer',
  papers: ['Ahn, Kwon, Back, Hong, Kim. Interactive Cartoonization with Controllable Perceptual Factors. CVPR 2023 (arXiv 2212.09555)'],
  commands: [apply, train, evaluate, demo],
});

export { SHIPPED_MODEL };
