// The one training checkpoint record: model(s), optimizer(s), scheduler(s), RNG state (ours and
// libtorch's), step, config and the loop's extra state, saved and restored through
// ctx.checkpoints with one key convention. A resumed run continues bit for bit where the
// interrupted one stopped (test/core/train.test.ts).
//
// Tensors (safetensors, <run>/checkpoints/<tag>.safetensors):
//   model.<name>                 the model's stateDict() entry <name> (parameters and buffers)
//   model.<part>.<name>          …of the model `part` when several are given ({ G, D })
//   optim.<i>.<key>              optimizer state of parameter i (its index in optimizer.params),
//                                key as torch's: exp_avg, exp_avg_sq, momentum_buffer
//   optim.<part>.<i>.<key>       …of the optimizer `part` when several are given
//   rng.torch                    libtorch's CPU generator state (uint8, torch.get_rng_state())
//   rng.cuda.<i>                 CUDA device i's generator state (torch.cuda.get_rng_state(i)), when CUDA is present
//   extra.<name>                 any other tensor the loop keeps (an EMA of the weights, …)
// JSON (<tag>.json, its "state"):
//   { format: 'paperlab-train/1', step, config, extra,
//     model: [parts], optimizer: { <part>: { type, hyper, scalars } },
//     scheduler: { <part>: state }, rng: { js: { <part>: RngState }, torch: boolean } }
//   where <part> is '' for a single model / optimizer / scheduler / Rng.
import type { Checkpoints } from '../context.ts';
import { Module } from '../torch/nn.ts';
import { Optimizer, type HyperParams, type Stateful } from '../torch/optim.ts';
import { tensor, hasRngState, getRngState, setRngState, cuda, type Tensor } from '../torch/tensor.ts';
import { Rng, type RngState } from '../rng.ts';
import { InputFileError, NotFoundError } from '../errors.ts';

export const CHECKPOINT_FORMAT = 'paperlab-train/1';

/** One thing, or several by name ({ G: generator, D: discriminator }). */
export type Named<T> = T | Record<string, T>;

/** What a training loop checkpoints and restores (all live objects; restore loads into them). */
export interface TrainingParts {
  /** the model, or several by name */
  model: Named<Module>;
  /** the optimizer(s): per-parameter state, step counts and hyper-parameters (lr included) */
  optimizer?: Named<Optimizer>;
  /** LR schedulers or any Stateful helper (ScheduledLR, ReduceLROnPlateau, your own) */
  scheduler?: Named<Stateful>;
  /** the loop's own generators (batch order, augmentation) */
  rng?: Named<Rng>;
  /**
   * libtorch's CPU generator (randn, rand, dropout, init): saved and restored with the rest
   * (default true). Needs an addon built with getRngState (npm run build:native); without it,
   * the checkpoint records that the state is missing and restore leaves the generator as it is.
   */
  torchRng?: boolean;
}

/** A checkpoint to save: the parts, where the loop is, and what else it needs to continue. */
export interface TrainingCheckpoint extends TrainingParts {
  /** where the loop is (the next step to run, an epoch count: the loop's own convention) */
  step: number;
  /** the run's configuration (JSON), returned on restore so a loop can check it still fits */
  config?: unknown;
  /** anything else the loop needs to continue (best loss, patience counter, history): JSON */
  extra?: Record<string, unknown>;
  /** other tensors to keep, saved as extra.<name> and returned on restore */
  tensors?: Record<string, Tensor>;
}

export interface RestoreOptions {
  /** restore this checkpoint instead of the latest; null when it does not exist (yet) */
  tag?: string;
  /**
   * Looks at the checkpoint's step, config and extra before anything is loaded: return false to
   * leave the parts alone and get null (e.g. the latest checkpoint belongs to another model
   * trained earlier in the same run).
   */
  when?: (info: { tag: string; step: number; config: unknown; extra: Record<string, unknown> }) => boolean;
}

/** What restoreTrainingCheckpoint gives back once the parts are loaded. */
export interface RestoredCheckpoint {
  tag: string;
  step: number;
  config: unknown;
  extra: Record<string, unknown>;
  /** the extra.<name> tensors, by name (the caller disposes them) */
  tensors: Record<string, Tensor>;
}

/**
 * A checkpoint that does not fit what it is restored into (a missing or unexpected tensor, a
 * shape, an optimizer of another kind) or was not written by saveTrainingCheckpoint. Names the
 * checkpoint's tag and the key at fault. Exit 4 / HTTP 422 (an InputFileError).
 */
export class CheckpointError extends InputFileError {
  override name = 'CheckpointError';
  readonly tag: string;
  readonly key: string | undefined;
  constructor(tag: string, problem: string, key?: string) {
    super(`checkpoint '${tag}': ${problem}`);
    this.tag = tag;
    this.key = key;
  }
}

/** A tag that sorts by step: stepTag(120) = 'step-000120', stepTag(3, 'epoch', 4) = 'epoch-0003'. */
export function stepTag(step: number, prefix = 'step', width = 6): string {
  return `${prefix}-${String(step).padStart(width, '0')}`;
}

/**
 * Saves model(s), optimizer(s), scheduler(s), RNG states, step, config and extra under `tag`
 * (ctx.checkpoints.save: atomic, and it becomes the latest). Save between steps: the tensors
 * are read as they are now.
 */
export function saveTrainingCheckpoint(checkpoints: Checkpoints, tag: string, c: TrainingCheckpoint): void {
  if (!(Number.isInteger(c.step) && c.step >= 0)) throw new Error(`saveTrainingCheckpoint: step must be a non-negative integer, got ${c.step}`);
  const tensors: Record<string, Tensor> = {};
  const put = (key: string, t: Tensor) => {
    if (key in tensors) throw new Error(`saveTrainingCheckpoint: two tensors under the key '${key}'`);
    tensors[key] = t;
  };
  const models = parts(c.model, isModule, 'model');
  for (const [part, m] of models) for (const [k, t] of Object.entries(m.stateDict())) put(prefixOf('model', part) + k, t);
  const optimizer: Record<string, { type: string; hyper: HyperParams | undefined; scalars: Record<string, number> }> = {};
  for (const [part, o] of parts(c.optimizer, isOptimizer, 'optimizer')) {
    const sd = o.stateDict();
    for (const [k, t] of Object.entries(sd.tensors)) put(prefixOf('optim', part) + k, t);
    optimizer[part] = { type: o.constructor.name, hyper: sd.hyper, scalars: sd.scalars };
  }
  const scheduler: Record<string, Record<string, unknown>> = {};
  for (const [part, s] of parts(c.scheduler, isStateful, 'scheduler')) scheduler[part] = s.stateDict();
  const js: Record<string, RngState> = {};
  for (const [part, r] of parts(c.rng, isRng, 'rng')) js[part] = r.state();
  for (const [k, t] of Object.entries(c.tensors ?? {})) put(`extra.${k}`, t);
  const withTorch = (c.torchRng ?? true) && hasRngState;
  let torchState: Tensor | null = null;
  const cudaStates: Tensor[] = [];
  try {
    if (withTorch) put('rng.torch', torchState = tensor(getRngState(), { dtype: 'uint8' }));
    // dropout masks drawn on a GPU come from its own generator (Philox seed and offset)
    if (withTorch) for (let i = 0; i < cuda.deviceCount(); i++) put(`rng.cuda.${i}`, cudaStates[i] = tensor(getRngState(`cuda:${i}`), { dtype: 'uint8' }));
    checkpoints.save(tag, tensors, {
      format: CHECKPOINT_FORMAT, step: c.step, config: c.config ?? null, extra: c.extra ?? {},
      model: models.map(([p]) => p), optimizer, scheduler,
      rng: { js, torch: withTorch, ...((c.torchRng ?? true) && !hasRngState ? { torchMissing: 'the libtorch addon predates getRngState (npm run build:native)' } : {}) },
    });
  } finally {
    torchState?.dispose();
    for (const t of cudaStates) t.dispose();
  }
}

/**
 * The model tensors of a checkpoint record's tensors (the `model.*` keys of the single model, or
 * `model.<part>.*`), with the prefix removed: what a model file or `--init` takes from a training
 * checkpoint. The other tensors (optimizer state, RNG states, extras) are disposed.
 */
export function modelTensorsOf(tensors: Record<string, Tensor>, part = ''): Record<string, Tensor> {
  const pre = prefixOf('model', part);
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith(pre)) out[k.slice(pre.length)] = t;
    else t.dispose();
  }
  return out;
}

/**
 * Loads the latest checkpoint (or `o.tag`) into the given parts and returns where the loop was,
 * or null when the run has no checkpoint yet (or none tagged `o.tag`, or `o.when` declines it).
 * The keys are checked before anything is loaded: a missing, unexpected or misshapen tensor, a
 * part the checkpoint lacks or an optimizer of another class is a CheckpointError naming the tag
 * and the key, and leaves the parts untouched (a value that fails its own check while loading,
 * e.g. a corrupt Rng state, is one too, named the same way). Parts not given are not loaded (an
 * evaluation can restore the model alone). On a run's context, loading a checkpoint also cuts
 * the metrics tables back to that checkpoint (see runner.ts).
 */
export function restoreTrainingCheckpoint(checkpoints: Checkpoints, p: TrainingParts, o: RestoreOptions = {}): RestoredCheckpoint | null {
  let ck: { tag: string; tensors: Record<string, Tensor>; state: Record<string, unknown> } | null;
  if (o.tag === undefined) ck = checkpoints.latest();
  else {
    try { ck = { tag: o.tag, ...checkpoints.load(o.tag) }; } catch (e) { if (e instanceof NotFoundError) return null; throw e; }
  }
  if (!ck) return null;
  const { tag, tensors: loaded, state } = ck;
  const fail = (problem: string, key?: string) => new CheckpointError(tag, problem, key);
  const extraTensors: Record<string, Tensor> = {};
  let accepted = true;
  try {
    if (state.format !== CHECKPOINT_FORMAT) {
      throw fail(`not written by saveTrainingCheckpoint (its state has format ${JSON.stringify(state.format ?? null)}, expected '${CHECKPOINT_FORMAT}')`);
    }
    if (o.when && !o.when({ tag, step: Number(state.step), config: state.config ?? null, extra: objectOf(state.extra) })) {
      accepted = false;
      return null;
    }
    const used = new Set<string>();
    // ---- check everything first
    const modelSds = checkModels(p, state, loaded, used, fail);
    const opts = checkOptimizers(p, state, loaded, used, fail);
    const savedSched = objectOf(state.scheduler);
    const scheds = parts(p.scheduler, isStateful, 'scheduler').map(([part, s]) => {
      const saved = savedSched[part];
      if (!saved || typeof saved !== 'object') throw fail(`has no state for the scheduler${part ? ` '${part}'` : ''}`, `scheduler${part ? '.' + part : ''}`);
      return { s, saved: saved as Record<string, unknown>, key: `scheduler${part ? '.' + part : ''}` };
    });
    const rngState = objectOf(state.rng);
    const savedJs = objectOf(rngState.js);
    const rngs = parts(p.rng, isRng, 'rng').map(([part, r]) => {
      const saved = savedJs[part];
      if (!saved) throw fail(`has no state for the Rng${part ? ` '${part}'` : ''}`, `rng.js${part ? '.' + part : ''}`);
      return { r, saved: saved as RngState, key: `rng.js${part ? '.' + part : ''}` };
    });
    let torchBytes: Uint8Array | null = null;
    if ((p.torchRng ?? true) && rngState.torch === true) {
      const t = loaded['rng.torch'];
      if (!t || t.dtype !== 'uint8') throw fail("has no uint8 tensor 'rng.torch' though its state says it saved libtorch's generator", 'rng.torch');
      if (!hasRngState) throw fail('holds libtorch\'s generator state, but this build of the addon cannot restore it (npm run build:native)', 'rng.torch');
      torchBytes = t.toTypedArray() as Uint8Array;
      used.add('rng.torch');
    }
    // CUDA generators: restored on the devices present (a checkpoint from a GPU resumes on a CPU
    // without them: the CPU draws its own masks)
    const cudaBytes: [number, Uint8Array][] = [];
    for (const [k, t] of Object.entries(loaded)) {
      const m = /^rng\.cuda\.(\d+)$/.exec(k);
      if (!m) continue;
      used.add(k);
      if ((p.torchRng ?? true) && Number(m[1]) < cuda.deviceCount() && t.dtype === 'uint8') cudaBytes.push([Number(m[1]), t.toTypedArray() as Uint8Array]);
    }
    for (const [k, t] of Object.entries(loaded)) if (k.startsWith('extra.')) { extraTensors[k.slice('extra.'.length)] = t; used.add(k); }
    // ---- then load (the checks above leave only a value's own validation to fail)
    for (const [m, sd] of modelSds) m.loadStateDict(sd);
    const stage = (key: string, f: () => void) => {
      try { f(); } catch (e) { throw e instanceof CheckpointError ? e : fail(`${key}: ${(e as Error).message}`, key); }
    };
    for (const { opt, key, sd } of opts) stage(key, () => opt.loadStateDict(sd));
    for (const { s, saved, key } of scheds) stage(key, () => s.loadStateDict(saved));
    for (const { r, saved, key } of rngs) stage(key, () => { r.setState(saved); });
    if (torchBytes) stage('rng.torch', () => setRngState(torchBytes!));
    for (const [i, b] of cudaBytes) stage(`rng.cuda.${i}`, () => setRngState(b, `cuda:${i}`));
    const step = state.step;
    if (!(typeof step === 'number' && Number.isInteger(step) && step >= 0)) throw fail(`step is ${JSON.stringify(step)}, not a non-negative integer`, 'step');
    return { tag, step, config: state.config ?? null, extra: objectOf(state.extra), tensors: extraTensors };
  } catch (e) {
    for (const t of Object.values(extraTensors)) t.dispose();
    throw e;
  } finally {
    for (const [k, t] of Object.entries(loaded)) if (!accepted || !k.startsWith('extra.')) t.dispose();
  }
}

type Fail = (problem: string, key?: string) => CheckpointError;

/** Restore, checking stage: each model's state dict from `loaded`, every key present and of the right shape. */
function checkModels(p: TrainingParts, state: Record<string, unknown>, loaded: Record<string, Tensor>, used: Set<string>, fail: Fail) {
  const models = parts(p.model, isModule, 'model');
  const savedModels = asStringArray(state.model);
  sameParts(fail, 'model', models.map(([k]) => k), savedModels);
  return models.map(([part, m]) => {
    const pre = prefixOf('model', part);
    const sd: Record<string, Tensor> = {};
    for (const [name, own] of Object.entries(m.stateDict())) {
      const key = pre + name;
      const t = loaded[key];
      if (!t) {
        const has = listSome(' (it has ', keysUnder(loaded, pre, savedModels, part), ')');
        throw fail(`has no tensor '${key}' for the model's '${name}'${has}`, key);
      }
      if (t.shape.join(',') !== own.shape.join(',')) throw fail(`tensor '${key}' has shape [${t.shape}] but the model's '${name}' has [${own.shape}]`, key);
      sd[name] = t;
      used.add(key);
    }
    const unexpected = keysUnder(loaded, pre, savedModels, part).filter((k) => !used.has(k));
    if (unexpected.length) {
      const listed = listSome('', unexpected.map((k) => `'${k}'`), '');
      throw fail(`has tensor${unexpected.length > 1 ? 's' : ''} ${listed} that the model does not have`, unexpected[0]);
    }
    return [m, sd] as const;
  });
}

/** Restore, checking stage: each optimizer's saved class, scalars and per-parameter tensors. */
function checkOptimizers(p: TrainingParts, state: Record<string, unknown>, loaded: Record<string, Tensor>, used: Set<string>, fail: Fail) {
  const savedOpt = objectOf(state.optimizer) as Record<string, { type?: unknown; hyper?: HyperParams; scalars?: Record<string, number> }>;
  return parts(p.optimizer, isOptimizer, 'optimizer').map(([part, opt]) => {
    const label = part ? `optimizer '${part}'` : 'optimizer';
    const saved = savedOpt[part];
    if (!saved) {
      const has = listSome(' (it has ', Object.keys(savedOpt).map((k) => (k ? `'${k}'` : 'one unnamed')), ')');
      throw fail(`has no state for the ${label}${has}`, `optim.${part}`);
    }
    if (saved.type !== opt.constructor.name) {
      throw fail(`the ${label} was ${String(saved.type)} when saved, this run's is ${opt.constructor.name}`, prefixOf('optim', part).slice(0, -1));
    }
    const pre = prefixOf('optim', part);
    const ts: Record<string, Tensor> = {};
    for (const key of keysUnder(loaded, pre, Object.keys(savedOpt), part)) {
      const rest = key.slice(pre.length);
      const i = /^(\d+)\./.exec(rest)?.[1];
      const param = i === undefined ? undefined : opt.params[Number(i)];
      if (!param) throw fail(`tensor '${key}' is for parameter ${i ?? '?'} but the ${label} has ${opt.params.length} parameters`, key);
      const t = loaded[key]!;
      if (t.shape.join(',') !== param.shape.join(',')) {
        throw fail(`tensor '${key}' has shape [${t.shape}] but parameter ${i} of the ${label} has [${param.shape}]`, key);
      }
      ts[rest] = t;
      used.add(key);
    }
    return { opt, label, key: pre.slice(0, -1), sd: { tensors: ts, scalars: saved.scalars ?? {}, hyper: saved.hyper } };
  });
}

// ---------------------------------------------------------------- helpers
const PART = /^[A-Za-z_][A-Za-z0-9_-]*$/;

function isModule(x: unknown): x is Module { return x instanceof Module; }
function isOptimizer(x: unknown): x is Optimizer { return x instanceof Optimizer; }
function isRng(x: unknown): x is Rng { return x instanceof Rng; }
function isStateful(x: unknown): x is Stateful {
  return typeof (x as Stateful)?.stateDict === 'function' && typeof (x as Stateful)?.loadStateDict === 'function';
}

/** A single thing as [['', it]], several by name as [[name, it], …] (sorted). */
function parts<T>(x: Named<T> | undefined, is: (v: unknown) => v is T, what: string): [string, T][] {
  if (x === undefined) return [];
  if (is(x)) return [['', x]];
  if (typeof x !== 'object' || x === null) throw new Error(`${what}: expected one or several by name, got ${typeof x}`);
  return Object.keys(x).sort().map((k) => {
    if (!PART.test(k)) throw new Error(`${what} name '${k}' must be a plain word starting with a letter (it becomes part of checkpoint keys)`);
    const v = (x as Record<string, unknown>)[k];
    if (!is(v)) throw new Error(`${what} '${k}' is not a ${what}`);
    return [k, v];
  });
}

function prefixOf(base: string, part: string): string { return part ? `${base}.${part}.` : `${base}.`; }

/** Loaded keys that belong to `part` under `base.`: for the unnamed part, those not under another part's prefix. */
function keysUnder(loaded: Record<string, Tensor>, pre: string, allParts: string[], part: string): string[] {
  const base = pre.slice(0, pre.indexOf('.') + 1);
  const others = allParts.filter((q) => q && q !== part).map((q) => `${base}${q}.`);
  return Object.keys(loaded).filter((k) => k.startsWith(pre) && !(part === '' && others.some((o) => k.startsWith(o))));
}

function sameParts(fail: (p: string, k?: string) => Error, what: string, want: string[], saved: string[]): void {
  const name = (ps: string[]) => (ps.length === 1 && ps[0] === '' ? `one ${what}` : `${what}s ${ps.map((q) => `'${q}'`).join(', ')}`);
  if (want.join('\0') !== [...saved].sort().join('\0')) throw fail(`holds ${name(saved)}, this run has ${name(want)}`, what);
}

function asStringArray(v: unknown): string[] { return Array.isArray(v) ? v.map(String) : ['']; }
function objectOf(v: unknown): Record<string, unknown> { return v && typeof v === 'object' && !Array.isArray(v) ? v as Record<string, unknown> : {}; }
function listSome(before: string, items: string[], after: string, n = 6): string {
  if (!items.length) return '';
  return `${before}${items.slice(0, n).join(', ')}${items.length > n ? `, … ${items.length - n} more` : ''}${after}`;
}
