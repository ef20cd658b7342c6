// Losses of both papers: masked weighted BCE with logits, SIANet's deep supervision (paper B eq. 4),
// the spatial-temporal smoothness loss of paper A (eqs. 3–5) and the released code's variant.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { upsample } from './geometry.ts';
import type { ModelOutput } from './model.ts';
import { PAPER, TRAIN, type MaskMode, type SmoothMode } from './config.ts';

export type { MaskMode, SmoothMode } from './config.ts';

/**
 * Weighted BCE with logits, mean reduction, positive weight `posWeight` (paper B: 4; reference
 * configs 2.577389 Stage 2, 6.114572 Stage 1).
 * Masking: 'zero' is the reference convention (logit and label set to 0 at masked pixels before
 * the loss: they add a constant and no gradient); 'exclude' averages over unmasked pixels only.
 */
export function weightedBce(logits: Tensor, target: Tensor, mask: Tensor | null, posWeight = PAPER.posWeight, mode: MaskMode = PAPER.maskMode): Tensor {
  if (logits.shape.join() !== target.shape.join()) throw new Error(`weightedBce: logits [${logits.shape}] and target [${target.shape}] differ in shape`);
  return torch.scope(() => {
    const pw = torch.scalar(posWeight, { dtype: logits.dtype, device: logits.device });
    if (!mask) return torch.F.binaryCrossEntropyWithLogits(logits, target, { posWeight: pw });
    if (mode === 'zero') {
      const z = torch.where(mask, 0, logits), y = torch.where(mask, 0, target);
      return torch.F.binaryCrossEntropyWithLogits(z, y, { posWeight: pw });
    }
    const per = torch.F.binaryCrossEntropyWithLogits(logits, target, { posWeight: pw, reduction: 'none' });
    const keep = mask.logicalNot().to(logits.dtype);
    return per.mul(keep).sum().div(keep.sum().clamp(1));
  });
}

/** Paper A eq. 4 [recon: local mean, not the paper's "sum"]: mean |P − box3×3(P)| per frame, replicate-padded. */
export function spatialSmoothness(p: Tensor): Tensor {
  return torch.scope(() => {
    const [B, C, T, H, W] = p.shape as [number, number, number, number, number];
    const f = p.reshape([B * C * T, 1, H, W]);
    const k = torch.F.avgPool2d(torch.F.pad(f, [1, 1, 1, 1], 'replicate'), 3, { stride: 1 });
    return f.sub(k).abs().mean();
  });
}

/** P_{t+1} − P_t along the slot axis (dim 2). */
function slotDiff(p: Tensor): Tensor {
  const T = p.shape[2]!;
  return p.narrow(2, 1, T - 1).sub(p.narrow(2, 0, T - 1));
}

/** Paper A eq. 5: (1/(T−1)) Σ_t mean |P_t − P_{t+1}| over the slot axis (dim 2). */
export function temporalSmoothness(p: Tensor): Tensor {
  if (p.shape[2]! < 2) throw new Error('temporalSmoothness needs at least 2 output slots');
  return torch.scope(() => slotDiff(p).abs().mean());
}

/** Released-code variant: 1e-6 · Σ_all (P_t − P_{t+1})², summed over batch, pixels and slot pairs. */
export function releasedSmoothness(p: Tensor, weight = 1e-6): Tensor {
  return torch.scope(() => slotDiff(p).square().sum().mul(weight));
}

/**
 * Terms the released code's sum ran over on one GPU at the competition size: batch 16 × 252² px ×
 * 31 slot pairs (the loss is computed per GPU; DDP averages the gradients).
 */
export const RELEASED_SUM_TERMS = 16 * 252 * 252 * 31;

/**
 * [recon] The released-code term at the per-element strength it had in the competition run:
 * 1e-6 · RELEASED_SUM_TERMS · mean (P_t − P_{t+1})² ≈ 31.5 · mean (P_t − P_{t+1})². A literal 1e-6 on
 * the sum shrinks with the tensor: at S (batch 8, 48², 7 pairs) it is ~244× weaker than what the
 * authors trained with, i.e. practically off.
 */
export function releasedSmoothnessScaled(p: Tensor): Tensor {
  return torch.scope(() => slotDiff(p).square().mean().mul(1e-6 * RELEASED_SUM_TERMS));
}

export interface LossOptions {
  posWeight: number;
  maskMode: MaskMode;
  /** deep-supervision weight α on y_early (paper B eq. 4; 0.2). [recon] y_early is upsampled ×scale like y_final */
  alpha: number;
  smooth: SmoothMode;
  /** β_s, β_t of paper A (0.1 each) */
  betaSpatial: number;
  betaTemporal: number;
}
/** The `train` command's loss (config.ts TRAIN): paper B's α and positive weight, paper A's smoothness terms. */
export const DEFAULT_LOSS: LossOptions = {
  posWeight: TRAIN.posWeight, maskMode: TRAIN.maskMode, alpha: TRAIN.alpha, smooth: TRAIN.smooth,
  betaSpatial: TRAIN.betaSpatial, betaTemporal: TRAIN.betaTemporal,
};

export interface LossParts { total: Tensor; bce: number; early: number; spatial: number; temporal: number }

/** The training objective: L_wbce(final) + α·L_wbce(early↑) + smoothness terms on P = σ(final) at output resolution. */
export function nowcastLoss(out: ModelOutput, y: Tensor, mask: Tensor | null, o: LossOptions, scale: number): LossParts {
  let bce = 0, early = 0, spatial = 0, temporal = 0;
  const total = torch.scope(() => {
    const lb = weightedBce(out.logits, y, mask, o.posWeight, o.maskMode);
    let L = lb;
    bce = lb.item();
    if (out.early && o.alpha > 0) {
      const le = weightedBce(upsample(out.early, scale), y, mask, o.posWeight, o.maskMode);
      early = le.item();
      L = L.add(le.mul(o.alpha));
    }
    if (o.smooth !== 'none') {
      const p = out.logits.sigmoid();
      if (o.smooth === 'paper') {
        const ls = spatialSmoothness(p), lt = temporalSmoothness(p);
        spatial = ls.item(); temporal = lt.item();
        L = L.add(ls.mul(o.betaSpatial)).add(lt.mul(o.betaTemporal));
      } else {
        const lt = o.smooth === 'released' ? releasedSmoothness(p) : releasedSmoothnessScaled(p);
        temporal = lt.item();
        L = L.add(lt);
      }
    }
    return L;
  });
  return { total, bce, early, spatial, temporal };
}
