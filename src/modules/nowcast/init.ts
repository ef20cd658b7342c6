// `train --init`: start a model from the weights of an earlier run (the winners' core → transfer
// fine-tuning): a paperlab training checkpoint (its model.* tensors), a nowcast model file, any
// plain safetensors state dict, or a PyTorch .pth/.pt/.ckpt (torch.save or Lightning, read without
// running code; the official W4C22 U-Net / SIANet names mapped by weights.ts); the optimizer starts
// fresh. Keys and shapes are checked up front.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { InputFileError, NotFoundError, UsageError, parseJson } from '../../core/errors.ts';
import { W4C_SIANET, W4C_UNET } from './weights.ts';
import { CHECKPOINT_FORMAT, modelTensorsOf } from '../../core/train/index.ts';

export type InitKind = 'training-checkpoint' | 'model-file' | 'state-dict' | 'pytorch';

export interface InitWeights {
  /** the safetensors file read */
  file: string;
  kind: InitKind;
  /** sha256 of the file (the run record keeps it) */
  sha256: string;
  /** the model's state dict as found in the file (keys without the checkpoint's 'model.' prefix) */
  tensors: Record<string, Tensor>;
}

/** The safetensors file a path names: the file itself, or in a run folder its model.safetensors, else its latest checkpoint. */
export function resolveInitFile(p: string): string {
  if (!fs.existsSync(p)) throw new NotFoundError(`${p}: no such checkpoint or model file (--init)`);
  if (fs.statSync(p).isDirectory()) {
    const model = path.join(p, 'model.safetensors');
    if (fs.existsSync(model)) return model;
    const latest = path.join(p, 'checkpoints', 'latest.json');
    if (fs.existsSync(latest)) {
      const { tag } = parseJson<{ tag?: string }>(fs.readFileSync(latest, 'utf8'), latest);
      if (typeof tag === 'string') return path.join(p, 'checkpoints', `${tag}.safetensors`);
    }
    throw new NotFoundError(`${p}: a folder without model.safetensors or checkpoints/latest.json (--init)`);
  }
  return p;
}

/** The training-checkpoint state next to `<tag>.safetensors` (`<tag>.json`), when there is one. */
function checkpointState(file: string): Record<string, unknown> | null {
  const side = file.replace(/\.safetensors$/, '.json');
  if (side === file || !fs.existsSync(side)) return null;
  const j = parseJson<{ state?: Record<string, unknown> }>(fs.readFileSync(side, 'utf8'), side);
  return j.state && typeof j.state === 'object' ? j.state : null;
}

/**
 * Reads the weights to start from. A paperlab training checkpoint ('paperlab-train/1': the state
 * file beside it says so, or its keys carry optim.* / rng.torch) gives its model.* tensors, prefix
 * dropped; everything else is taken as the model's own state dict.
 */
export function readInitWeights(p: string): InitWeights {
  const file = resolveInitFile(p);
  const sha256 = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  if (/\.(pth?|ckpt|bin)$/i.test(file)) return { file, kind: 'pytorch', sha256, tensors: readPytorch(file) };
  let loaded: ReturnType<typeof torch.loadSafetensors>;
  try {
    loaded = torch.loadSafetensors(file);
  } catch (e) {
    throw new InputFileError(`${file}: not a readable safetensors file (--init): ${(e as Error).message}`, { file, cause: e });
  }
  const { tensors, metadata } = loaded;
  const keys = Object.keys(tensors);
  const state = checkpointState(file);
  const isCheckpoint = state?.format === CHECKPOINT_FORMAT || keys.some((k) => k.startsWith('optim.') || k === 'rng.torch');
  if (!isCheckpoint) return { file, kind: metadata.build ? 'model-file' : 'state-dict', sha256, tensors };
  if (state && Array.isArray(state.model) && state.model.some((m) => m !== '')) {
    torch.dispose(tensors);
    throw new InputFileError(`${file}: a training checkpoint of several models [${state.model.join(', ')}]; --init takes one model's weights`, { file });
  }
  const model = modelTensorsOf(tensors);
  if (!Object.keys(model).length) throw new InputFileError(`${file}: a training checkpoint without model.* tensors`, { file });
  return { file, kind: 'training-checkpoint', sha256, tensors: model };
}

/**
 * A PyTorch state dict with paperlab's names: wrapper prefixes (model., module., Lightning's
 * state_dict) stripped; the official code's names mapped (SIANet's when it has conv1_2 layers, else
 * the starter kit's U-Net), unless the keys are paperlab's own already (body.*).
 */
function readPytorch(file: string): Record<string, Tensor> {
  const probe = torch.loadStateDict(file, { prefix: 'auto' });
  const keys = Object.keys(probe.tensors);
  if (keys.some((k) => k.startsWith('body.'))) return probe.tensors;
  torch.dispose(probe.tensors);
  const map = keys.some((k) => /\.conv1_2\./.test(k)) ? W4C_SIANET : W4C_UNET;
  return torch.loadStateDict(file, { prefix: 'auto', map }).tensors;
}

export interface InitReport { loaded: number; missing: string[]; unexpected: string[]; mismatched: string[] }

const list = (xs: string[], n = 12) => `[${xs.slice(0, n).join(', ')}${xs.length > n ? `, … ${xs.length - n} more` : ''}]`;

/**
 * Copies the weights into `model`. Strict: every key of the model present with its shape and no
 * other key, else a UsageError listing the missing, unexpected and misshapen keys (nothing is
 * loaded). Not strict: the keys that match in name and shape are loaded, the rest keep their
 * fresh initialisation (reported).
 */
export function applyInit(model: torch.nn.Module, w: InitWeights, strict: boolean): InitReport {
  const own = model.stateDict();
  const missing = Object.keys(own).filter((k) => !(k in w.tensors));
  const unexpected = Object.keys(w.tensors).filter((k) => !(k in own));
  const mismatched = Object.keys(own).filter((k) => k in w.tensors && w.tensors[k]!.shape.join(',') !== own[k]!.shape.join(','))
    .map((k) => `${k} [${w.tensors[k]!.shape}] vs [${own[k]!.shape}]`);
  if (strict && (missing.length || unexpected.length || mismatched.length)) {
    throw new UsageError(
      `${w.file} (--init, ${w.kind}) does not fit the model: missing keys ${list(missing)}, unexpected keys ${list(unexpected)}, `
      + `shape mismatches (file vs model) ${list(mismatched)}; build the same architecture, or pass --no-init-strict to load only the keys that fit`,
    );
  }
  const fit: Record<string, Tensor> = {};
  for (const k of Object.keys(own)) if (k in w.tensors && w.tensors[k]!.shape.join(',') === own[k]!.shape.join(',')) fit[k] = w.tensors[k]!;
  model.loadStateDict(fit, false);
  return { loaded: Object.keys(fit).length, missing, unexpected, mismatched };
}
