// Weights users already have: Z-SSMNet's MNet state-dict names → paperlab's, and a loader for its
// nnU-Net v1 checkpoints (`model_final_checkpoint.model`, `.pth`, `.ckpt`: torch.save files read
// without running code). Addressed as `paperlab convert --map prostate/z-ssmnet`.
//
// z-ssmnet  github.com/yuanyuan29/Z-SSMNet, src/z_ssmnet/z_nnmnet/training_docker/MNet.py (and the SSL
//           pre-training copy ssl/pretrain/MNet.py, same names): blocks down11…bottleneck5 / up11…up41 as
//           paperlab's; each CB2d/CB3d is CB3d(conv1, conv2) of CNA3d(conv, norm, activation), so
//           '<block>.CB2d.conv1.conv.weight' ↔ '<block>.CB2d.conv1.weight' and '….conv1.norm.weight' ↔
//           '….norm1.weight'; the deep-supervision heads are a ModuleList 'outputs.0…6' ↔ 'out1…out7'.
//           Names read from that code; checked on a PyTorch re-implementation with those names
//           (test/modules/prostate/weights.test.ts: all seven outputs equal).
//           The FMU cannot be read off the weights except 'cat' (doubled widths): 'sub' (Z-SSMNet's) is assumed.
import fs from 'node:fs';
import path from 'node:path';
import type { KeyMap } from '../../core/io/keymap.ts';
import * as torch from '../../core/torch/index.ts';
import { InputFileError } from '../../core/errors.ts';
import { unpickle } from '../../core/io/pickle.ts';
import { isNdArray } from '../../core/io/ndarray.ts';
import { parseJson } from '../../core/errors.ts';
import { MNet, mnetConfig, type MNetConfig } from './model.ts';
import type { SavedModel } from './pipeline.ts';
import type { Shape3 } from './ssl.ts';

export const Z_SSMNET: KeyMap = {
  name: 'z-ssmnet',
  description: "Z-SSMNet's MNet (src/z_ssmnet/z_nnmnet/training_docker/MNet.py: CB3d(conv1, conv2) of CNA3d(conv, norm), heads outputs.0–6)",
  rules: [
    [/^(\w+)\.(CB2d|CB3d)\.conv([12])\.conv\.(weight|bias)$/, '$1.$2.conv$3.$4'],
    [/^(\w+)\.(CB2d|CB3d)\.conv([12])\.norm\.(weight|bias)$/, '$1.$2.norm$3.$4'],
    [/^outputs\.(\d)\.weight$/, (_, i) => `out${Number(i) + 1}.weight`],
  ],
  // InstanceNorm3d(track_running_stats=True) would add these; paperlab's InstanceNorm keeps none
  drop: [/\.norm\.(running_mean|running_var|num_batches_tracked)$/],
};

export const WEIGHT_MAPS: readonly KeyMap[] = [Z_SSMNET];

/** MNet's configuration read off a (paperlab-named) state dict. */
export function inferConfig(sd: Record<string, torch.Tensor>, file: string): MNetConfig {
  const need = (k: string) => {
    const t = sd[k];
    if (!t) throw new InputFileError(`${file}: no '${k}' (not an MNet state dict after key mapping)`, { file });
    return t.shape;
  };
  const first = need('down11.CB2d.conv1.weight');
  const heads = [1, 2, 4, 6].map((i) => need(`out${i}.weight`)[1]!);
  const widths = [...heads, need('bottleneck1.CB2d.conv1.weight')[0]!] as MNetConfig['widths'];
  const cat = need('down22.CB2d.conv1.weight')[1] === 2 * widths[1];
  return mnetConfig({ inChannels: first[1]!, numClasses: need('out1.weight')[0]!, widths, fmu: cat ? 'cat' : 'sub' });
}

/** nnU-Net v1's plans.pkl (beside the fold folder): the ADC channel's CT-normalisation properties and the patch. */
function fromPlans(file: string): Pick<SavedModel, 'adc' | 'patch'> {
  const plans = unpickle(fs.readFileSync(file), { file, globals: 'numpy' }) as Record<string, any>;
  const p = plans?.dataset_properties?.intensityproperties?.['1'];
  const num = (v: unknown, field: string): number => {
    const n = isNdArray(v) ? Number(v.data[0]) : v;
    if (typeof n !== 'number' || !Number.isFinite(n)) throw new InputFileError(`${file}: ${field} is missing or not a number`, { file });
    return n;
  };
  const stages = Object.values(plans?.plans_per_stage ?? {}) as Array<Record<string, unknown>>;
  const ps = stages.at(-1)?.patch_size;
  const patch = (isNdArray(ps) ? Array.from(ps.data as ArrayLike<number | bigint>, Number) : ps) as number[] | undefined;
  if (!Array.isArray(patch) || patch.length !== 3) throw new InputFileError(`${file}: plans_per_stage[-1].patch_size is not a 3-D size`, { file });
  const f = 'dataset_properties.intensityproperties[1]';
  return {
    adc: { lo: num(p?.percentile_00_5, `${f}.percentile_00_5`), hi: num(p?.percentile_99_5, `${f}.percentile_99_5`), mean: num(p?.mean, `${f}.mean`), std: num(p?.sd, `${f}.sd`) },
    patch: patch as Shape3,
  };
}

/**
 * An MNet from a PyTorch checkpoint (paperlab's names, or Z-SSMNet's through the key map). The
 * preprocessing it was trained with comes from `<file minus extension>.json` (what `train` writes) or,
 * for an nnU-Net fold folder, from `plans.pkl` one folder up (or beside it).
 */
export function loadTorchMNet(file: string): { net: MNet; meta: SavedModel } {
  const probe = torch.loadStateDict(file, { prefix: 'auto' });
  const official = Object.keys(probe.tensors).some((k) => /\.conv[12]\.conv\.weight$|^outputs\./.test(k));
  torch.dispose(probe.tensors);
  const { tensors } = torch.loadStateDict(file, { prefix: 'auto', ...(official ? { map: Z_SSMNET } : {}) });
  try {
    const config = inferConfig(tensors, file);
    const json = file.replace(/\.[^./]+$/, '.json');
    const plans = [path.join(path.dirname(file), '..', 'plans.pkl'), path.join(path.dirname(file), 'plans.pkl')].find((f) => fs.existsSync(f));
    let meta: SavedModel;
    if (fs.existsSync(json)) meta = { ...parseJson<SavedModel>(fs.readFileSync(json, 'utf8'), json), config };
    else if (plans) meta = { config, zonal: config.inChannels === 6, ...fromPlans(plans) };
    else throw new InputFileError(`${file}: the preprocessing it was trained with is unknown: put its ${path.basename(json)} ({adc, zonal, patch}, as train writes) or nnU-Net's plans.pkl beside it`, { file });
    const net = new MNet(config);
    try {
      net.loadStateDict(tensors);
    } catch (e) {
      net.dispose();
      throw new InputFileError(`${file}: ${(e as Error).message}${official ? ' (after key map prostate/z-ssmnet)' : ''}`, { file });
    }
    return { net, meta };
  } finally {
    torch.dispose(tensors);
  }
}
