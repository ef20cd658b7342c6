// File-backed datasets over the W4C layout and model files (safetensors with the build config in
// the metadata, so `eval` and `predict` rebuild the exact architecture).
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { parseJson, InputFileError } from '../../core/errors.ts';
import { buildModel, type BuildOptions, type NowcastModel } from './model.ts';
import {
  openRegion, readSample, yearSplits, splitRows, trainingWindows, validationWindows, testWindows, openImages,
  HRIT_STATS, OPERA_KEY, preprocessOpera, type ChannelName, type ChannelStat, type RegionReader, type RadarOptions,
} from './data.ts';
import type { Geometry } from './geometry.ts';
import { loadTorchModel } from './weights.ts';
import { CHANNELS } from './config.ts';
import type { Batch, Dataset } from './train.ts';
import type { SampleSet } from './samples.ts';

/** Statistics for standardisation: `<root>/synth_stats.json` for synthetic data, else the organisers' reference table (HRIT_STATS). */
export function statsFor(root: string): Record<string, ChannelStat> {
  const f = path.join(root, 'synth_stats.json');
  if (!fs.existsSync(f)) return HRIT_STATS;
  return parseJson<Record<string, ChannelStat>>(fs.readFileSync(f, 'utf8'), f);
}

export interface FileSource { root: string; regions: string[]; years: number[]; channels: ChannelName[]; geometry: Geometry; radar?: RadarOptions }

/** Training samples read from HDF5 one window at a time (never whole files). */
export class FileDataset implements Dataset {
  readonly index: { reader: RegionReader; start: number; cell: string }[] = [];
  private readonly readers: RegionReader[] = [];
  private constructor(readonly src: FileSource, readonly stats: Record<string, ChannelStat>) {}
  get length(): number { return this.index.length; }

  static async open(src: FileSource, split: 'train' | 'val'): Promise<FileDataset> {
    const ds = new FileDataset(src, statsFor(src.root));
    const g = src.geometry;
    for (const year of src.years) {
      for (const region of src.regions) {
        const table = yearSplits(src.root, year, region);
        const rows = splitRows(table.rows, split);
        const starts = split === 'train' ? trainingWindows(rows, g.tIn, g.tOut) : validationWindows(rows, g.tIn);
        const r = await openRegion(src.root, year, region, split, { size: g.inSize });
        if (r.hrit.length !== rows.length) {
          r.close();
          throw new InputFileError(`${r.hrit.fileName}: holds ${r.hrit.length} images but ${table.file} lists ${rows.length} '${split}' rows of ${year} (all_vars 1)`, { file: r.hrit.fileName });
        }
        ds.readers.push(r);
        for (const s of starts) if (s + g.tIn + g.tOut <= r.hrit.length) ds.index.push({ reader: r, start: s, cell: `${region}/${year}` });
      }
    }
    return ds;
  }
  batch(indices: number[]): Batch {
    const g = this.src.geometry;
    return torch.scope(() => {
      const so = { channels: this.src.channels, stats: this.stats, radar: this.src.radar };
      const ss = indices.map((i) => { const e = this.index[i]!; return readSample(e.reader, e.start, g.tIn, g.tOut, so); });
      return { x: torch.stack(ss.map((s) => s.x)), y: torch.stack(ss.map((s) => s.y!)), mask: torch.stack(ss.map((s) => s.mask!)) };
    });
  }
  close(): void { for (const r of this.readers) r.close(); }
}

/**
 * Evaluation sets per region-year from files: `val` (inputs and targets from the val files) or
 * `test` (inputs from the test file; targets from `<region>.test.rates.crop.h5`, which only the
 * synthetic generator writes, or none).
 */
export async function loadEvalSets(src: FileSource, split: 'val' | 'test' | 'heldout', maxSeqs = Infinity): Promise<SampleSet[]> {
  const g = src.geometry, stats = statsFor(src.root);
  const out: SampleSet[] = [];
  for (const year of src.years) for (const region of src.regions) {
    const r = await openRegion(src.root, year, region, split, { size: g.inSize });
    try {
      let starts: number[];
      let truth: { read(s: number, n: number): Tensor; close(): void } | null = null;
      if (split === 'val') starts = validationWindows(splitRows(yearSplits(src.root, year, region).rows, 'val'), g.tIn);
      else {
        checkTestCount(src.root, year, region, split, r.hrit.fileName, r.hrit.length);
        starts = testWindows(r.hrit.length, g.tIn);
        const tf = path.join(src.root, String(year), 'OPERA', `${region}.${split}.rates.crop.h5`);
        if (fs.existsSync(tf)) truth = await openImages(tf, OPERA_KEY, { channels: 1, length: starts.length * g.tOut });
      }
      starts = starts.slice(0, maxSeqs);
      const xs: Tensor[] = [], ys: Tensor[] = [], ms: Tensor[] = [];
      starts.forEach((s, j) => {
        const smp = readSample(split === 'val' ? r : { hrit: r.hrit, close: () => {} }, s, g.tIn, g.tOut, { channels: src.channels, stats, radar: src.radar });
        xs.push(smp.x);
        if (split === 'val') { ys.push(smp.y!); ms.push(smp.mask!); } else if (truth) {
          const t = torch.scope(() => {
            const raw = truth!.read(j * g.tOut, g.tOut).permute([1, 0, 2, 3]);
            const { label, mask } = preprocessOpera(raw, src.radar);
            return { label, mask };
          });
          ys.push(t.label); ms.push(t.mask);
        }
      });
      const set = torch.scope(() => {
        const x = torch.stack(xs);
        const ho = g.cropSize * g.scale;
        const y = ys.length ? torch.stack(ys) : torch.zeros([xs.length, 1, g.tOut, ho, ho]);
        const mask = ms.length ? torch.stack(ms) : torch.ones([xs.length, 1, g.tOut, ho, ho], { dtype: 'bool' });
        return { x, y, mask };
      });
      torch.dispose(xs, ys, ms);
      truth?.close();
      out.push({ ...set, cell: `${region}/${year}`, region, year, hasTruth: split === 'val' || !!truth } as SampleSet & { hasTruth: boolean });
    } finally {
      r.close();
    }
  }
  return out;
}

/**
 * The test (heldout) file must hold exactly the `<split>_in` rows (all_vars 1) of its year in the
 * splits table, where there is one: the starter kit counts its sequences (60 per region-year in
 * the release) as those rows in groups of len_seq_in, indexing into the file from 0.
 */
function checkTestCount(root: string, year: number, region: string, split: 'test' | 'heldout', file: string, n: number): void {
  let table;
  try { table = yearSplits(root, year, region); } catch (e) { if (e instanceof InputFileError && /no splits table/.test(e.message)) return; throw e; }
  const want = table.rows.filter((r) => r.split_type === `${split}_in` && r.all_vars === 1).length;
  if (want !== n) throw new InputFileError(`${file}: holds ${n} images but ${table.file} lists ${want} '${split}_in' rows of ${year} (all_vars 1)`, { file });
}

/** Regions with a `<region>.<split>.reflbt0.ns.h5` file under `<root>/<year>/HRIT` for any of the years, sorted. */
export function regionsIn(root: string, years: number[], split: string): string[] {
  const set = new Set<string>();
  for (const y of years) {
    const d = path.join(root, String(y), 'HRIT');
    if (!fs.existsSync(d)) continue;
    for (const f of fs.readdirSync(d)) { const m = new RegExp(`^(.+)\\.${split}\\.reflbt0\\.ns\\.h5$`).exec(f); if (m) set.add(m[1]!); }
  }
  return [...set].sort();
}

/** Saves a model with its build options (JSON in the safetensors metadata). */
export function saveModel(file: string, model: NowcastModel, build: BuildOptions, extra: Record<string, unknown> = {}): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  torch.saveSafetensors(file, model.stateDict(), { build: JSON.stringify(build), extra: JSON.stringify(extra) });
}

/** Loads a model file written by saveModel (errors name the file and the field). */
export function loadModel(file: string): { model: NowcastModel; build: BuildOptions; extra: Record<string, unknown> } {
  // a PyTorch checkpoint (.pth/.pt/.ckpt, paperlab's or the official code's names): weights.ts
  if (/\.(pth|pt|ckpt|bin)$/i.test(file)) {
    const { model, build } = loadTorchModel(file);
    return { model, build, extra: build.inChannels === CHANNELS.length ? { channels: [...CHANNELS] } : {} };
  }
  const { tensors, metadata } = torch.loadSafetensors(file);
  if (!metadata.build) { torch.dispose(tensors); throw new Error(`${file}: no 'build' entry in the safetensors metadata (not a nowcast model file)`); }
  let build: BuildOptions;
  try { build = parseJson<BuildOptions>(metadata.build, `${file}: metadata 'build'`); } catch (e) { torch.dispose(tensors); throw e; }
  const model = buildModel(build);
  try { model.loadStateDict(tensors); } catch (e) { model.dispose(); throw new Error(`${file}: ${(e as Error).message}`); } finally { torch.dispose(tensors); }
  model.eval();
  return { model, build, extra: metadata.extra ? parseJson<Record<string, unknown>>(metadata.extra, `${file}: metadata 'extra'`) : {} };
}
