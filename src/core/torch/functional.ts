// torch.nn.functional over aten ops. Argument names and order follow PyTorch.
import { lazy as op, reductionCode, type Reduction, Tensor, scope } from './tensor.ts';

type Pair = number | readonly number[];
function tuple(v: Pair, n: number): number[] {
  return typeof v === 'number' ? Array(n).fill(v) : [...v];
}

const ops = {
  linear: op('linear'), conv1d: op('conv1d'), conv2d: op('conv2d'), conv3d: op('conv3d'),
  convT2d: op('conv_transpose2d.input'), convT3d: op('conv_transpose3d.input'),
  maxPool1d: op('max_pool1d'), maxPool2d: op('max_pool2d'), maxPool3d: op('max_pool3d'),
  avgPool1d: op('avg_pool1d'), avgPool2d: op('avg_pool2d'), avgPool3d: op('avg_pool3d'),
  adaptiveAvg1d: op('adaptive_avg_pool1d'), adaptiveAvg2d: op('adaptive_avg_pool2d'), adaptiveAvg3d: op('adaptive_avg_pool3d'),
  adaptiveMax2d: op('adaptive_max_pool2d'),
  batchNorm: op('batch_norm'), groupNorm: op('group_norm'), layerNorm: op('layer_norm'), instanceNorm: op('instance_norm'),
  dropout: op('dropout'), embedding: op('embedding'),
  mse: op('mse_loss'), l1: op('l1_loss'), smoothL1: op('smooth_l1_loss'), huber: op('huber_loss'),
  ce: op('cross_entropy_loss'), nll: op('nll_loss_nd'), bce: op('binary_cross_entropy'),
  bceLogits: op('binary_cross_entropy_with_logits'), kl: op('kl_div'),
  padConst: op('constant_pad_nd'), padReflect1d: op('reflection_pad1d'), padReflect2d: op('reflection_pad2d'),
  padReflect3d: op('reflection_pad3d'), padRep1d: op('replication_pad1d'), padRep2d: op('replication_pad2d'),
  padRep3d: op('replication_pad3d'),
  upNearest1d: op('upsample_nearest1d.vec'), upNearest2d: op('upsample_nearest2d.vec'), upNearest3d: op('upsample_nearest3d.vec'),
  upLinear1d: op('upsample_linear1d.vec'), upBilinear2d: op('upsample_bilinear2d.vec'), upTrilinear3d: op('upsample_trilinear3d.vec'),
  upBicubic2d: op('upsample_bicubic2d.vec'),
  gridSampler: op('grid_sampler'), affineGrid: op('affine_grid_generator'), pixelShuffle: op('pixel_shuffle'),
  pixelUnshuffle: op('pixel_unshuffle'), oneHot: op('one_hot'), cosineSim: op('cosine_similarity'),
  pairwiseDistance: op('pairwise_distance'), cdist: op('cdist'), unfold: op('im2col'), fold: op('col2im'),
  normalize_norm: op('linalg_vector_norm'),
};

export function linear(x: Tensor, weight: Tensor, bias: Tensor | null = null): Tensor { return ops.linear(x, weight, bias); }

export interface ConvOptions { stride?: Pair; padding?: Pair; dilation?: Pair; groups?: number }
export function conv1d(x: Tensor, w: Tensor, b: Tensor | null = null, o: ConvOptions = {}): Tensor {
  return ops.conv1d(x, w, b, tuple(o.stride ?? 1, 1), tuple(o.padding ?? 0, 1), tuple(o.dilation ?? 1, 1), o.groups ?? 1);
}
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, o: ConvOptions = {}): Tensor {
  return ops.conv2d(x, w, b, tuple(o.stride ?? 1, 2), tuple(o.padding ?? 0, 2), tuple(o.dilation ?? 1, 2), o.groups ?? 1);
}
export function conv3d(x: Tensor, w: Tensor, b: Tensor | null = null, o: ConvOptions = {}): Tensor {
  return ops.conv3d(x, w, b, tuple(o.stride ?? 1, 3), tuple(o.padding ?? 0, 3), tuple(o.dilation ?? 1, 3), o.groups ?? 1);
}
export interface ConvTOptions extends ConvOptions { outputPadding?: Pair }
export function convTranspose2d(x: Tensor, w: Tensor, b: Tensor | null = null, o: ConvTOptions = {}): Tensor {
  return ops.convT2d(x, w, b, tuple(o.stride ?? 1, 2), tuple(o.padding ?? 0, 2), tuple(o.outputPadding ?? 0, 2), o.groups ?? 1, tuple(o.dilation ?? 1, 2));
}
export function convTranspose3d(x: Tensor, w: Tensor, b: Tensor | null = null, o: ConvTOptions = {}): Tensor {
  return ops.convT3d(x, w, b, tuple(o.stride ?? 1, 3), tuple(o.padding ?? 0, 3), tuple(o.outputPadding ?? 0, 3), o.groups ?? 1, tuple(o.dilation ?? 1, 3));
}

export interface PoolOptions { stride?: Pair; padding?: Pair; dilation?: Pair; ceilMode?: boolean }
export function maxPool1d(x: Tensor, k: Pair, o: PoolOptions = {}): Tensor {
  return ops.maxPool1d(x, tuple(k, 1), tuple(o.stride ?? k, 1), tuple(o.padding ?? 0, 1), tuple(o.dilation ?? 1, 1), o.ceilMode ?? false);
}
export function maxPool2d(x: Tensor, k: Pair, o: PoolOptions = {}): Tensor {
  return ops.maxPool2d(x, tuple(k, 2), tuple(o.stride ?? k, 2), tuple(o.padding ?? 0, 2), tuple(o.dilation ?? 1, 2), o.ceilMode ?? false);
}
export function maxPool3d(x: Tensor, k: Pair, o: PoolOptions = {}): Tensor {
  return ops.maxPool3d(x, tuple(k, 3), tuple(o.stride ?? k, 3), tuple(o.padding ?? 0, 3), tuple(o.dilation ?? 1, 3), o.ceilMode ?? false);
}
export function avgPool1d(x: Tensor, k: Pair, o: PoolOptions = {}): Tensor {
  return ops.avgPool1d(x, tuple(k, 1), tuple(o.stride ?? k, 1), tuple(o.padding ?? 0, 1), o.ceilMode ?? false, true);
}
export function avgPool2d(x: Tensor, k: Pair, o: PoolOptions = {}): Tensor {
  return ops.avgPool2d(x, tuple(k, 2), tuple(o.stride ?? k, 2), tuple(o.padding ?? 0, 2), o.ceilMode ?? false, true, null);
}
export function avgPool3d(x: Tensor, k: Pair, o: PoolOptions = {}): Tensor {
  return ops.avgPool3d(x, tuple(k, 3), tuple(o.stride ?? k, 3), tuple(o.padding ?? 0, 3), o.ceilMode ?? false, true, null);
}
export function adaptiveAvgPool1d(x: Tensor, size: Pair): Tensor { return ops.adaptiveAvg1d(x, tuple(size, 1)); }
export function adaptiveAvgPool2d(x: Tensor, size: Pair): Tensor { return ops.adaptiveAvg2d(x, tuple(size, 2)); }
export function adaptiveAvgPool3d(x: Tensor, size: Pair): Tensor { return ops.adaptiveAvg3d(x, tuple(size, 3)); }
export function adaptiveMaxPool2d(x: Tensor, size: Pair): Tensor {
  const [v, i] = ops.adaptiveMax2d(x, tuple(size, 2)) as Tensor[];
  i!.dispose();
  return v!;
}

export function batchNorm(x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null,
  bias: Tensor | null, training: boolean, momentum = 0.1, eps = 1e-5): Tensor {
  return ops.batchNorm(x, weight, bias, runningMean, runningVar, training, momentum, eps, false);
}
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  return ops.groupNorm(x, numGroups, weight, bias, eps, false);
}
export function layerNorm(x: Tensor, normalizedShape: readonly number[], weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  return ops.layerNorm(x, [...normalizedShape], weight, bias, eps, false);
}
export function instanceNorm(x: Tensor, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  return ops.instanceNorm(x, weight, bias, null, null, true, 0.1, eps, false);
}
export function dropout(x: Tensor, p: number, training: boolean): Tensor {
  if (p < 0 || p > 1) throw new Error(`dropout: p must be in [0, 1], got ${p}`);
  return ops.dropout(x, p, training);
}
export function embedding(weight: Tensor, indices: Tensor, paddingIdx = -1): Tensor {
  return ops.embedding(weight, indices, paddingIdx, false, false);
}

// ---- losses (reduction: 'mean' | 'sum' | 'none', as PyTorch)
export function mseLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return ops.mse(input, target, reductionCode(reduction));
}
export function l1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  return ops.l1(input, target, reductionCode(reduction));
}
export function smoothL1Loss(input: Tensor, target: Tensor, reduction: Reduction = 'mean', beta = 1): Tensor {
  return ops.smoothL1(input, target, reductionCode(reduction), beta);
}
export function huberLoss(input: Tensor, target: Tensor, reduction: Reduction = 'mean', delta = 1): Tensor {
  return ops.huber(input, target, reductionCode(reduction), delta);
}
/** Cross-entropy of logits [N, C, ...] against class indices (int64) or class probabilities. */
export function crossEntropy(
  logits: Tensor,
  target: Tensor,
  o: { weight?: Tensor; reduction?: Reduction; ignoreIndex?: number; labelSmoothing?: number } = {},
): Tensor {
  return ops.ce(logits, target, o.weight ?? null, reductionCode(o.reduction ?? 'mean'), o.ignoreIndex ?? -100, o.labelSmoothing ?? 0);
}
export function nllLoss(logProbs: Tensor, target: Tensor, reduction: Reduction = 'mean', weight: Tensor | null = null): Tensor {
  return ops.nll(logProbs, target, weight, reductionCode(reduction), -100);
}
export function binaryCrossEntropy(p: Tensor, target: Tensor, reduction: Reduction = 'mean', weight: Tensor | null = null): Tensor {
  return ops.bce(p, target, weight, reductionCode(reduction));
}
export function binaryCrossEntropyWithLogits(logits: Tensor, target: Tensor, o: { weight?: Tensor; posWeight?: Tensor; reduction?: Reduction } = {}): Tensor {
  return ops.bceLogits(logits, target, o.weight ?? null, o.posWeight ?? null, reductionCode(o.reduction ?? 'mean'));
}
export function klDiv(input: Tensor, target: Tensor, reduction: Reduction = 'mean', logTarget = false): Tensor {
  return ops.kl(input, target, reductionCode(reduction), logTarget);
}

// ---- resampling, padding, misc
/** F.pad: pad lists the last dim first, as PyTorch ([left, right, top, bottom, ...]). */
export function pad(x: Tensor, p: readonly number[], mode: 'constant' | 'reflect' | 'replicate' = 'constant', value = 0): Tensor {
  if (mode === 'constant') return ops.padConst(x, [...p], value);
  const k = p.length / 2;
  const f = mode === 'reflect' ? [ops.padReflect1d, ops.padReflect2d, ops.padReflect3d][k - 1] : [ops.padRep1d, ops.padRep2d, ops.padRep3d][k - 1];
  if (!f) throw new Error(`pad: ${mode} padding takes 2, 4 or 6 values, got ${p.length}`);
  return f(x, [...p]);
}

export type InterpMode = 'nearest' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear';
/** F.interpolate by output size or scale factor. */
export function interpolate(
  x: Tensor,
  o: { size?: readonly number[]; scaleFactor?: number | readonly number[]; mode?: InterpMode; alignCorners?: boolean },
): Tensor {
  const mode = o.mode ?? 'nearest';
  const sp = x.ndim - 2;
  const size = o.size ? [...o.size] : null;
  const scale = o.scaleFactor == null ? null : tuple(o.scaleFactor, sp);
  const ac = o.alignCorners ?? false;
  if (mode === 'nearest') return [ops.upNearest1d, ops.upNearest2d, ops.upNearest3d][sp - 1]!(x, size, scale);
  if (mode === 'linear') return ops.upLinear1d(x, size, ac, scale);
  if (mode === 'bilinear') return ops.upBilinear2d(x, size, ac, scale);
  if (mode === 'bicubic') return ops.upBicubic2d(x, size, ac, scale);
  return ops.upTrilinear3d(x, size, ac, scale);
}

/** F.grid_sample (2-D or 3-D); grid in [-1, 1], last dim (x, y[, z]). */
export function gridSample(x: Tensor, grid: Tensor, o: { mode?: 'bilinear' | 'nearest' | 'bicubic'; paddingMode?: 'zeros' | 'border' | 'reflection'; alignCorners?: boolean } = {}): Tensor {
  const mode = { bilinear: 0, nearest: 1, bicubic: 2 }[o.mode ?? 'bilinear'];
  const pm = { zeros: 0, border: 1, reflection: 2 }[o.paddingMode ?? 'zeros'];
  return ops.gridSampler(x, grid, mode, pm, o.alignCorners ?? false);
}
/** F.affine_grid: theta [N, 2, 3] or [N, 3, 4] → sampling grid for gridSample. */
export function affineGrid(theta: Tensor, size: readonly number[], alignCorners = false): Tensor {
  return ops.affineGrid(theta, [...size], alignCorners);
}
export function pixelShuffle(x: Tensor, r: number): Tensor { return ops.pixelShuffle(x, r); }
export function pixelUnshuffle(x: Tensor, r: number): Tensor { return ops.pixelUnshuffle(x, r); }
export function oneHot(x: Tensor, numClasses = -1): Tensor { return ops.oneHot(x, numClasses); }
export function cosineSimilarity(a: Tensor, b: Tensor, dim = 1, eps = 1e-8): Tensor { return ops.cosineSim(a, b, dim, eps); }
export function cdist(a: Tensor, b: Tensor, p = 2): Tensor { return ops.cdist(a, b, p, null); }
/** F.normalize: x / max(||x||_p, eps) along dim. */
export function normalize(x: Tensor, p = 2, dim = 1, eps = 1e-12): Tensor {
  return scope(() => x.div(ops.normalize_norm(x, p, [dim], true, null).clamp(eps).expandAs(x)));
}
/** F.unfold (im2col) for 4-D input. */
export function unfold(x: Tensor, k: Pair, o: { dilation?: Pair; padding?: Pair; stride?: Pair } = {}): Tensor {
  return ops.unfold(x, tuple(k, 2), tuple(o.dilation ?? 1, 2), tuple(o.padding ?? 0, 2), tuple(o.stride ?? 1, 2));
}
export function relu(x: Tensor): Tensor { return x.relu(); }
export function gelu(x: Tensor): Tensor { return x.gelu(); }
export function sigmoid(x: Tensor): Tensor { return x.sigmoid(); }
export function softmax(x: Tensor, dim: number): Tensor { return x.softmax(dim); }
export function logSoftmax(x: Tensor, dim: number): Tensor { return x.logSoftmax(dim); }

/**
 * Scaled dot-product attention softmax(QKᵀ/√d + mask)V over the last two dims.
 * mask: bool (true = attend) or additive float, broadcastable to [.., Lq, Lk].
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null = null, dropoutP = 0, training = false): Tensor {
  return scope(() => {
    const d = q.shape[q.ndim - 1]!;
    let s = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(d));
    if (mask) s = mask.dtype === 'bool' ? s.maskedFill(mask.logicalNot(), -Infinity) : s.add(mask);
    let a = s.softmax(-1);
    if (dropoutP > 0 && training) a = dropout(a, dropoutP, true);
    return a.matmul(v);
  });
}
