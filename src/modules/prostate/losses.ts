// The Z-nnMNet training loss of the paper: 0.5·Focal + 0.5·CE per output, deep-supervised with
// nnU-Net v1's weights [1, .5, .5, .25, .25, .125, .125] normalised to sum 1; and the restoration MSE
// of the paper's self-supervised pre-training.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { DS_WEIGHTS } from './model.ts';

/**
 * Focal loss as the reference (FocalLoss in Z-SSMNet's nnU-Net fork): softmax p; one-hot target
 * clamped to [1e-5, 1 − 1e-5]; pt = Σ_c onehot_c·p_c + 1e-5; FL = mean(−α(1 − pt)^γ ln pt), α = 1, γ = 2.
 * logits [N, C, ...], target int64 [N, ...] class indices.
 */
export function focalLoss(logits: Tensor, target: Tensor, gamma = 2, smooth = 1e-5): Tensor {
  return torch.scope(() => {
    const C = logits.shape[1]!;
    const p = logits.softmax(1);
    const oh = torch.F.oneHot(target, C).to(logits.dtype).permute([0, target.ndim, ...Array.from({ length: target.ndim - 1 }, (_, i) => i + 1)]);
    const ohc = oh.clamp(smooth / (C - 1), 1 - smooth);
    const pt = ohc.mul(p).sum(1).add(smooth);
    return pt.rsub(1).pow(gamma).mul(pt.log()).neg().mean();
  });
}

export function crossEntropy(logits: Tensor, target: Tensor): Tensor {
  return torch.F.crossEntropy(logits, target);
}

/** 0.5·FL + 0.5·CE for one output. */
export function focalCE(logits: Tensor, target: Tensor): Tensor {
  return torch.scope(() => focalLoss(logits, target).mul(0.5).add(crossEntropy(logits, target).mul(0.5)));
}

/** Nearest-neighbour downsampling of an integer label volume [N, Z, Y, X] to a spatial size. */
export function downsampleLabel(target: Tensor, size: readonly number[]): Tensor {
  if (target.shape.slice(1).join() === size.join()) return target.view(target.shape);
  return torch.scope(() => torch.F.interpolate(target.unsqueeze(1).to('float32'), { size, mode: 'nearest' }).squeeze(1).to('int64'));
}

/** Deep-supervised loss over the heads (highest resolution first); weights normalised over the heads used. */
export function deepSupervisionLoss(outputs: Tensor[], target: Tensor): Tensor {
  return torch.scope(() => {
    const w = DS_WEIGHTS.slice(0, outputs.length);
    const s = w.reduce((a, b) => a + b, 0);
    let total: Tensor | null = null;
    outputs.forEach((o, i) => {
      const t = downsampleLabel(target, o.shape.slice(2));
      const l = focalCE(o, t).mul(w[i]! / s);
      total = total ? total.add(l) : l;
    });
    return total!;
  });
}

/** SSL restoration loss: MSE between sigmoid(output) and the clean image channels. */
export function restorationLoss(output: Tensor, clean: Tensor): Tensor {
  return torch.scope(() => torch.F.mseLoss(output.sigmoid(), clean));
}
