// Weights users already have: the official implementations' state-dict names → paperlab's, and a
// loader that builds the model a PyTorch checkpoint describes (.pth/.pt/.ckpt read without running
// code, src/core/io/pth.ts). Addressed as `paperlab convert --map nowcast/<table>`.
//
// w4c-unet    the organisers' 3D U-Net (Weather4cast 2022 starter kit, github.com/iarai/weather4cast-2022:
//             models/baseline_UNET3D.py = ELEKTRONN3's unet.py at f754796 + models/unet.patch, held by
//             models/unet_lightning.py as `self.model`, so Lightning keys start with 'model.'):
//             down_convs.i.{conv1, norm0, conv2, norm1}, up_convs.j.{upconv, norm0, conv1, norm1, conv2, norm2},
//             reduce_channels. Names read from that code; checked on a PyTorch re-implementation with those
//             names (test/modules/nowcast/weights.test.ts, outputs equal).
// w4c-sianet  SIANet's released competition code (github.com/seominseok0429/W4C22-Simple-Baseline-for-Weather-
//             Forecasting-Using-Spatiotemporal-Context-Aggregation-Network, models/SIANet.py, class `sianet`):
//             the same U-Net names plus conv1_2 (the 3×1×1 temporal conv), norm01 (the encoder's first
//             BatchNorm; its norm0 and norm02 are built but never used in forward, so they are left out),
//             lka = Attention(proj_1, spatial_gating_unit.{conv0, conv_spatial, conv1}, proj_2) and
//             filter = Learnable_Filter(conv1, bn1, conv2, bn2, residual.{0,1}.{…, downsample.{0,1}}, seg_conv).
//             Names read from that code; its forward hard-codes the 252-px geometry (crop 105:147,
//             upsample to 32×252×252), paperlab's takes the geometry from the model's build options.
import type { KeyMap } from '../../core/io/keymap.ts';
import * as torch from '../../core/torch/index.ts';
import { InputFileError } from '../../core/errors.ts';
import { buildModel, type BuildOptions, type NowcastModel } from './model.ts';
import { FULL } from './config.ts';

const BN = '(weight|bias|running_mean|running_var)';
/** BatchNorm's step counter: PyTorch keeps one, paperlab's BatchNorm does not. */
const DROP_COUNTERS = [/\.num_batches_tracked$/];

export const W4C_UNET: KeyMap = {
  name: 'w4c-unet',
  description: "the Weather4cast 2022 starter kit's 3D U-Net (models/baseline_UNET3D.py, ELEKTRONN3 UNet)",
  rules: [
    [/^down_convs\.(\d+)\.conv([12])\.(weight|bias)$/, 'body.down$1.conv$2.$3'],
    [new RegExp(`^down_convs\\.(\\d+)\\.norm0\\.${BN}$`), 'body.down$1.bn1.$2'],
    [new RegExp(`^down_convs\\.(\\d+)\\.norm1\\.${BN}$`), 'body.down$1.bn2.$2'],
    [/^up_convs\.(\d+)\.upconv\.(weight|bias)$/, 'body.up$1.upconv.$2'],
    [new RegExp(`^up_convs\\.(\\d+)\\.norm0\\.${BN}$`), 'body.up$1.upbn.$2'],
    [/^up_convs\.(\d+)\.conv([12])\.(weight|bias)$/, 'body.up$1.block.conv$2.$3'],
    [new RegExp(`^up_convs\\.(\\d+)\\.norm([12])\\.${BN}$`), 'body.up$1.block.bn$2.$3'],
    [/^reduce_channels\.(weight|bias)$/, 'head.conv.$1'],
  ],
  drop: DROP_COUNTERS,
};

export const W4C_SIANET: KeyMap = {
  name: 'w4c-sianet',
  description: "SIANet's released W4C22 code (models/SIANet.py, class sianet: factorised blocks, LKA attention, Learnable_Filter)",
  rules: [
    [/^down_convs\.(\d+)\.conv1\.(weight|bias)$/, 'body.down$1.conv1.$2'],
    [/^down_convs\.(\d+)\.conv1_2\.(weight|bias)$/, 'body.down$1.tconv.$2'],
    [/^down_convs\.(\d+)\.conv2\.(weight|bias)$/, 'body.down$1.conv2.$2'],
    [new RegExp(`^down_convs\\.(\\d+)\\.norm01\\.${BN}$`), 'body.down$1.bn1.$2'],
    [new RegExp(`^down_convs\\.(\\d+)\\.norm1\\.${BN}$`), 'body.down$1.bn2.$2'],
    [/^up_convs\.(\d+)\.upconv\.(weight|bias)$/, 'body.up$1.upconv.$2'],
    [new RegExp(`^up_convs\\.(\\d+)\\.norm0\\.${BN}$`), 'body.up$1.upbn.$2'],
    [/^up_convs\.(\d+)\.conv1\.(weight|bias)$/, 'body.up$1.block.conv1.$2'],
    [/^up_convs\.(\d+)\.conv1_2\.(weight|bias)$/, 'body.up$1.block.tconv.$2'],
    [/^up_convs\.(\d+)\.conv2\.(weight|bias)$/, 'body.up$1.block.conv2.$2'],
    [new RegExp(`^up_convs\\.(\\d+)\\.norm([12])\\.${BN}$`), 'body.up$1.block.bn$2.$3'],
    [/^reduce_channels\.(weight|bias)$/, 'head.conv.$1'],
    [/^lka\.proj_1\./, 'str.lka.proj_in.'],
    [/^lka\.spatial_gating_unit\.conv0\./, 'str.lka.dwconv5.'],
    [/^lka\.spatial_gating_unit\.conv_spatial\./, 'str.lka.dwconv7_dil3.'],
    [/^lka\.spatial_gating_unit\.conv1\./, 'str.lka.conv1.'],
    [/^lka\.proj_2\./, 'str.lka.proj_out.'],
    [/^filter\.residual\.(\d)\.downsample\.0\./, (_, i) => `str.layer${Number(i) + 1}.downsample.`],
    [/^filter\.residual\.(\d)\.downsample\.1\./, (_, i) => `str.layer${Number(i) + 1}.downsample_bn.`],
    [/^filter\.residual\.(\d)\./, (_, i) => `str.layer${Number(i) + 1}.`],
    [/^filter\.seg_conv\./, 'str.conv_out.'],
    [/^filter\./, 'str.'],
  ],
  drop: [...DROP_COUNTERS, /^down_convs\.\d+\.norm0[2]?\./],
};

export const WEIGHT_MAPS: readonly KeyMap[] = [W4C_UNET, W4C_SIANET];

const shapeOf = (sd: Record<string, torch.Tensor>, k: string, file: string): number[] => {
  const t = sd[k];
  if (!t) throw new InputFileError(`${file}: no '${k}' (not a nowcast U-Net or SIANet state dict after key mapping)`, { file });
  return t.shape;
};

/** The build options a (paperlab-named) state dict implies; the geometry is the competition's unless given. */
export function inferBuild(sd: Record<string, torch.Tensor>, file: string, geometry = FULL): BuildOptions {
  const w = shapeOf(sd, 'body.down0.conv1.weight', file);
  const head = shapeOf(sd, 'head.conv.weight', file);
  const depth = Object.keys(sd).filter((k) => /^body\.down\d+\.conv1\.weight$/.test(k)).length;
  const sianet = 'body.down0.tconv.weight' in sd;
  const startFilters = w[0]!, tOut = head[0]!, tIn = head[1]! / startFilters;
  const strHidden = sd['str.lka.proj_in.weight']?.shape[0];
  return {
    model: sianet ? 'sianet' : 'unet3d', geometry: { ...geometry, tIn, tOut }, inChannels: w[1]!, startFilters, depth,
    ...(sianet ? { blockType: 'factorized' as const, str: strHidden !== undefined, ...(strHidden ? { strHidden } : {}) } : {}),
  };
}

/**
 * A model from a PyTorch checkpoint: paperlab's names as they are, else the official code's names
 * (the table is chosen by the keys: SIANet's conv1_2 or the U-Net's). Build options are read off the
 * tensor shapes; `geometry` overrides the competition geometry (SIANet's crop and scale).
 */
export function loadTorchModel(file: string, geometry = FULL): { model: NowcastModel; build: BuildOptions; map: string | null } {
  const probe = torch.loadStateDict(file, { prefix: 'auto' });
  const keys = Object.keys(probe.tensors);
  torch.dispose(probe.tensors);
  const map = keys.some((k) => k.startsWith('body.')) ? undefined : keys.some((k) => /\.conv1_2\./.test(k)) ? W4C_SIANET : W4C_UNET;
  const { tensors } = torch.loadStateDict(file, { prefix: 'auto', ...(map ? { map } : {}) });
  try {
    const build = inferBuild(tensors, file, geometry);
    const model = buildModel(build);
    try {
      model.loadStateDict(tensors);
    } catch (e) {
      model.dispose();
      throw new InputFileError(`${file}: ${(e as Error).message}${map ? ` (after key map nowcast/${map.name})` : ''}`, { file });
    }
    model.eval();
    return { model, build, map: map?.name ?? null };
  } finally {
    torch.dispose(tensors);
  }
}
