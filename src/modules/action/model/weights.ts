// A trained model as one file: model.safetensors with the weights, and the config and class names in
// its metadata, so evaluate / predict / explain rebuild the network without the training run.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../../core/torch/index.ts';
import { parseJson } from '../../../core/errors.ts';
import type { RunContext } from '../../../core/context.ts';
import type { ActionConfig } from '../config.ts';
import { makeConfig } from './shapes.ts';
import { CrossModalTransformer } from './transformer.ts';

/** Writes model.safetensors (weights; config and class names in the metadata) into the run folder. */
export function saveModel(ctx: Pick<RunContext, 'writeBytes'>, model: CrossModalTransformer, classNames: string[], name = 'model.safetensors'): string {
  return ctx.writeBytes(name, torch.toSafetensors(model.stateDict(), { config: JSON.stringify(model.config), classNames: JSON.stringify(classNames), format: 'paperlab-action-1' }));
}

/** Loads a model from a .safetensors file or a run folder holding model.safetensors. */
export function loadModel(p: string): { model: CrossModalTransformer; classNames: string[] } {
  const file = fs.existsSync(p) && fs.statSync(p).isDirectory() ? path.join(p, 'model.safetensors') : p;
  if (!fs.existsSync(file)) throw new Error(`${file}: no such model file (give a model.safetensors or the run folder of 'action train')`);
  const st = torch.loadSafetensors(file);
  if (!st.metadata.config) { torch.dispose(st.tensors); throw new Error(`${file}: no 'config' in the safetensors metadata (not written by 'action train')`); }
  let config: ActionConfig;
  try { config = makeConfig(parseJson<Partial<ActionConfig>>(st.metadata.config, `${file}: metadata 'config'`)); } catch (e) { torch.dispose(st.tensors); throw e; }
  const model = new CrossModalTransformer(config);
  try { model.loadStateDict(st.tensors); } catch (e) { throw new Error(`${file}: ${(e as Error).message}`); } finally { torch.dispose(st.tensors); }
  model.eval();
  return { model, classNames: st.metadata.classNames ? parseJson<string[]>(st.metadata.classNames, `${file}: metadata 'classNames'`) : Array.from({ length: config.numClasses }, (_, i) => `class ${i}`) };
}
