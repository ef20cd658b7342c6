// cartoon — the run bodies of the commands (schemas in commands.ts): apply a cartoonizer to a photo
// or a folder, train CARTOONER, measure its controls, and the quick demo sheet.
import fs from 'node:fs';
import path from 'node:path';
import type { RunContext } from '../../core/context.ts';
import * as torch from '../../core/torch/index.ts';
import { lineChart, xTitle } from '../../core/plots.ts';
import { writeImage } from '../../core/io/image.ts';
import { saveImageGrid } from '../../core/image-grid.ts';
import { Rng } from '../../core/rng.ts';
import { labToRgb, rotateHue } from './color.ts';
import { FolderSource, SyntheticSource, listImages, planarToTensor, type CartoonSource } from './data.ts';
import { makeScene } from './scenes.ts';
import { DEPTH_EXTENSIONS, applyFile, openCartoonizer, photoColourMap, readPhoto, type ApplyOptions, type Cartoonizer } from './apply.ts';
import { saveModel, trainCartooner, trainOptions } from './train.ts';
import { controllability, kid, type ControlReport } from './evaluate.ts';
import { train as trainCommand, type ApplyParams, type DemoParams, type EvaluateParams, type TrainParams } from './commands.ts';

const imageExt = /\.(png|jpe?g)$/i;

export async function apply(p: ApplyParams, ctx: RunContext) {
  const cz = openCartoonizer({ checkpoint: p.checkpoint, classic: p.classic });
  try {
    const opts: ApplyOptions = {
      stroke: p.stroke,
      abstraction: p.abstraction,
      hueShift: p.hueShift,
      colourMap: p.colourMap || undefined,
      segments: p.segments,
      maxSide: p.maxSide,
      maxPixels: p.maxPixels,
      depth: p.depth,
    };
    const controls = { engine: cz.kind, stroke: p.stroke, abstraction: p.abstraction, hueShift: p.hueShift, depth: p.depth };
    const isDir = fs.existsSync(p.input) && fs.statSync(p.input).isDirectory();
    if (!isDir) return await applyOne(cz, p, opts, ctx);
    const outDir = p.output || ctx.path('cartoons');
    if (imageExt.test(outDir) || /\.npy$/i.test(outDir)) throw new Error(`input '${p.input}' is a folder, so output must be a folder, got '${outDir}'`);
    const outputs = await applyFolder(cz, p.input, outDir, opts, ctx);
    return { outputs, count: outputs.length, inRun: 'cartoons/', ...controls };
  } finally {
    cz.dispose();
  }
}

/**
 * One photo: the cartoon and the photo as it was cartoonized (photo.png) are written into the run
 * folder, so the run page shows both; an explicit output path gets a copy of the cartoon.
 */
async function applyOne(cz: Cartoonizer, p: ApplyParams, opts: ApplyOptions, ctx: RunContext) {
  const ext = p.output ? path.extname(p.output).toLowerCase().replace('.jpeg', '.jpg') : p.depth === 'float' ? '.npy' : '.png';
  const inRun = ctx.path(`cartoon${ext}`);
  const out = p.output || inRun;
  if (!DEPTH_EXTENSIONS[p.depth].test(out)) {
    throw new Error(`output '${out}' must end in ${p.depth === '8' ? '.png, .jpg or .jpeg' : p.depth === '16' ? '.png (16-bit PNG)' : '.npy (float32)'} for --depth ${p.depth}`);
  }
  const size = await applyFile(cz, p.input, inRun, { ...opts, photoOut: ctx.path('photo.png') });
  if (path.resolve(out) !== path.resolve(inRun)) {
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    fs.copyFileSync(inRun, out);
  }
  ctx.log(`wrote ${out}, ${size.width}×${size.height}${size.resized ? `: ${size.resized}` : ' (full resolution)'}`);
  return {
    output: out, cartoon: path.basename(inRun), photo: 'photo.png',
    ...size, engine: cz.kind, model: cz.info?.trainedOn ?? null, stroke: p.stroke, abstraction: p.abstraction, hueShift: p.hueShift, depth: p.depth,
  };
}

/**
 * Cartoonizes every image of a folder into the run's cartoons/ (PNG, or .npy for depth float; same
 * base names); an explicit output folder gets a copy of each.
 */
async function applyFolder(cz: Cartoonizer, dir: string, outDir: string, opts: ApplyOptions, ctx: RunContext): Promise<string[]> {
  const files = listImages(dir);
  const bar = ctx.progress(files.length, 'cartoon apply');
  const outputs: string[] = [];
  const inRun = ctx.path('cartoons');
  for (const f of files) {
    ctx.throwIfAborted();
    const name = path.basename(f).replace(/\.[^.]+$/, '') + (opts.depth === 'float' ? '.npy' : '.png');
    const out = path.join(outDir, name);
    const size = await applyFile(cz, f, path.join(inRun, name), opts);
    if (path.resolve(out) !== path.resolve(inRun, name)) {
      fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
      fs.copyFileSync(path.join(inRun, name), out);
    }
    if (size.resized) ctx.log(`${path.basename(f)}: ${size.resized}`);
    outputs.push(out);
    bar.tick();
  }
  bar.done();
  return outputs;
}

export async function train(p: TrainParams, ctx: RunContext) {
  if (p.size % 4) throw new Error(`size must be a multiple of 4, got ${p.size}`);
  if (p.channels % 2) throw new Error(`channels must be even, got ${p.channels}`);
  if (Boolean(p.photos) !== Boolean(p.cartoons)) throw new Error('give both --photos and --cartoons folders, or neither (procedural data)');
  const source: CartoonSource = p.photos ? await FolderSource.open(p.photos, p.cartoons!, p.size) : new SyntheticSource(
    p.size,
    p.scenes,
    ctx.seed,
    { augment: p.augment },
  );
  const data = p.photos ? `photos ${p.photos}, cartoons ${p.cartoons}` : `procedural scenes (${p.scenes} at ${p.size} px, seed ${ctx.seed}${p.augment ? ', photo augmentation' : ''})`;
  ctx.log(`training on ${data}`);
  const o = trainOptions({
    ...p, weights: { adv: p.advWeight, content: p.contentWeight, tv: p.tvWeight, color: p.colorWeight, paired: p.pairedWeight, pairedGrad: p.pairedGradWeight },
  });
  o.precision = p.precision;
  const { trainer } = await trainCartooner(o, source, ctx);
  try {
    const modelFile = ctx.path('model.safetensors');
    saveModel(modelFile, trainer.G, { trainedOn: data, steps: trainer.step });
    const rows = ctx.metrics.rows();
    // one line per declared loss term (commands.ts), named by its label; a log axis (the terms span decades)
    const terms = (trainCommand.metrics ?? []).filter((m) => ['d', 'adv', 'color', 'paired', 'content'].includes(m.name));
    const long = terms.flatMap((m) => rows.map((r) => ({ step: r.step, loss: r[m.name], term: m.label })));
    if (rows.length > 1) {
      await ctx.plot('losses', lineChart(long, { x: 'step', y: 'loss', color: 'term', title: 'CARTOONER training losses', logY: true, xTitle: xTitle('step'), yTitle: 'loss (log scale)', colorTitle: 'term' }));
    }
    return { model: modelFile, steps: trainer.step, data, stage1: stage1Summary(rows, p.stage1Steps) };
  } finally {
    trainer.dispose();
  }
}

/** Mean stage-1 losses over its first and last quarter (from the logged metrics rows). */
function stage1Summary(rows: Record<string, unknown>[], stage1Steps: number) {
  const mean = (k: string, from: number, to: number) => {
    const xs = rows.slice(from, to).map((r) => Number(r[k]));
    return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
  };
  const s1 = Math.min(rows.length, stage1Steps), q = Math.max(1, Math.floor(s1 / 4));
  const quarter = (from: number, to: number) => ({ d: mean('d', from, to), adv: mean('adv', from, to), color: mean('color', from, to), paired: mean('paired', from, to) });
  return { firstQuarter: quarter(0, q), lastQuarter: quarter(s1 - q, s1) };
}

/** The evaluation images: a folder of photos (cropped to a common square) or procedural scenes. */
async function evaluationImages(p: EvaluateParams, seed: number): Promise<{ photos: torch.Tensor; maps: torch.Tensor }> {
  if (!p.photos) {
    const rng = new Rng(seed + 4242);
    const scenes = Array.from({ length: p.images }, () => makeScene(rng, p.size));
    return { photos: planarToTensor(scenes.map((s) => s.photo)), maps: planarToTensor(scenes.map((s) => s.map)) };
  }
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
  const photos = torch.cat(list.map((t) => t.narrow(2, 0, s).narrow(3, 0, s)), 0);
  const maps = torch.cat(ms.map((t) => t.narrow(2, 0, s).narrow(3, 0, s)), 0);
  torch.dispose(list, ms);
  return { photos, maps };
}

/** A contact sheet of the first image: α_s sweep (top row) and α_a sweep (bottom row). */
function sweepSheet(cz: Cartoonizer, photos: torch.Tensor, maps: torch.Tensor, levels: number[]): torch.Tensor {
  return torch.noGrad(() => torch.scope(() => {
    const ph = photos.narrow(0, 0, 1), mp = maps.narrow(0, 0, 1);
    const top = torch.cat(levels.map((l) => labToRgb(cz.lab(ph, mp, l, 1))), 3);
    const bot = torch.cat(levels.map((l) => labToRgb(cz.lab(ph, mp, 1, l))), 3);
    return torch.cat([top, bot], 2);
  }));
}

export async function evaluate(p: EvaluateParams, ctx: RunContext) {
  const cz = openCartoonizer({ checkpoint: p.checkpoint, classic: p.classic });
  let images: { photos: torch.Tensor; maps: torch.Tensor } | null = null;
  try {
    images = await evaluationImages(p, ctx.seed);
    const { photos, maps } = images;
    const bar = ctx.progress(1, 'cartoon evaluate');
    const rep = controllability((a, b, s, t) => cz.lab(a, b, s, t), photos, maps, rotateHue, { stroke: { edge: p.strokeMask } });
    const kidScore = torch.scope(() => kid(cz.lab(photos, maps, 3, 3), torch.noGrad(() => cz.lab(photos, maps, 1, 1))));
    bar.done();
    await reportControls(rep, ctx);
    const sheet = sweepSheet(cz, photos, maps, rep.levels);
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
    if (images) torch.dispose(images.photos, images.maps);
    cz.dispose();
  }
}

/** Logs the per-level metrics, plots W and the HF ratio against the level, writes report.json. */
async function reportControls(rep: ControlReport, ctx: RunContext): Promise<void> {
  const rows = rep.levels.flatMap((l, k) => rep.strokeWidth.map((r, i) => ({ level: l, image: i, strokeWidth: r[k]!, hfRatio: rep.hfRatio[i]![k]! })));
  rows.forEach((r) => ctx.metrics.log(r, 'controls'));
  const titles = { color: 'image', colorTitle: 'test image' };
  await ctx.plot('stroke-width', lineChart(rows, { x: 'level', y: 'strokeWidth', title: 'stroke width W vs α_s', xTitle: 'stroke control α_s', yTitle: 'stroke width W (px)', ...titles }));
  await ctx.plot('abstraction', lineChart(rows, {
    x: 'level', y: 'hfRatio', title: 'high-frequency ratio vs α_a (lower = more abstract)', xTitle: 'abstraction control α_a', yTitle: 'high-frequency energy ratio', ...titles,
  }));
  ctx.writeJson('report.json', rep);
}

/**
 * The demo sheet (demo.svg / demo.png): a procedural scene and its cartoons, labelled — column 1
 * the input photo, then the output at levels 1..5 of each control (one row per control: stroke α_s,
 * abstraction α_a, colour-map hue shift), each cell shown at ≥ 192 px.
 */
export async function demo(p: DemoParams, ctx: RunContext) {
  if (p.size % 2) throw new Error(`size must be even, got ${p.size}`);
  const cz = openCartoonizer({ classic: p.classic });
  try {
    const scene = makeScene(ctx.rng, p.size);
    const L = [1, 2, 3, 4, 5];
    const cells = torch.noGrad(() => torch.scope(() => {
      const ph = planarToTensor([scene.photo]), mp = planarToTensor([scene.map]);
      const row = (f: (l: number) => torch.Tensor) => [ph.squeeze(0), ...L.map((l) => f(l).squeeze(0))];
      return [
        row((l) => labToRgb(cz.lab(ph, mp, l, 1))),
        row((l) => labToRgb(cz.lab(ph, mp, 3, l))),
        row((l) => labToRgb(cz.lab(ph, rotateHue(mp, (l - 1) * 72), 3, 2))),
      ];
    }));
    const side = Math.max(192, p.size);
    const rows = ['stroke α_s (α_a = 1)', 'abstraction α_a (α_s = 3)', 'hue shift (α_s = 3, α_a = 2)'];
    const captions = [L.map((l) => `α_s = ${l}`), L.map((l) => `α_a = ${l}`), L.map((l) => `${(l - 1) * 72}°`)].map((r) => ['photo', ...r]);
    try {
      const out = await saveImageGrid(ctx.path('demo'), {
        title: `cartoon demo (${cz.kind === 'classic' ? 'classic cartoonizer' : 'CARTOONER model'}): input photo and outputs by control level`,
        cells, rowLabels: rows, colLabels: ['input', ...L.map(() => 'output')], captions, cellWidth: side, cellHeight: side,
      });
      return { image: out.png, svg: out.svg, rows, engine: cz.kind, model: cz.info?.trainedOn ?? null };
    } finally {
      torch.dispose(cells);
    }
  } finally {
    cz.dispose();
  }
}
