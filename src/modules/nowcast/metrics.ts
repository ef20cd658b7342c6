// W4C22 metrics: confusion counts under the masking convention, precision / recall / F1 /
// accuracy / CSI = IoU per region-year cell, mIoU as the unweighted mean over cells, lead-time curves.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { MaskMode } from './config.ts';

export interface Confusion { tp: number; fp: number; fn: number; tn: number }
export interface Scores { precision: number; recall: number; f1: number; accuracy: number; csi: number; iou: number }

const div = (a: number, b: number) => (b === 0 ? 0 : a / b);

/** Every metric is 0 when its denominator is 0 (IoU of an empty union is 0, as the reference). */
export function scores(c: Confusion): Scores {
  const precision = div(c.tp, c.tp + c.fp), recall = div(c.tp, c.tp + c.fn);
  const csi = div(c.tp, c.tp + c.fp + c.fn);
  return { precision, recall, f1: div(2 * precision * recall, precision + recall), accuracy: div(c.tp + c.tn, c.tp + c.fp + c.fn + c.tn), csi, iou: csi };
}

/** Masked pixels: the reference convention (zero) or strict exclusion (config.ts MASK_MODES). */
export type MetricMask = MaskMode;

/**
 * Confusion counts of binary prediction P and truth Y (any equal shapes), optionally per index of
 * axis `perDim` (e.g. the slot axis for lead-time curves). Masking 'zero' (reference): P and Y are
 * set to 0 at masked pixels, which count as true negatives; 'exclude' drops them.
 */
export function confusion(pred: Tensor, truth: Tensor, mask: Tensor | null = null, mode: MetricMask = 'zero'): Confusion {
  return confusionPer(pred, truth, mask, mode, null)[0]!;
}

export function confusionPer(pred: Tensor, truth: Tensor, mask: Tensor | null, mode: MetricMask, perDim: number | null): Confusion[] {
  if (pred.shape.join() !== truth.shape.join()) throw new Error(`confusion: prediction [${pred.shape}] and truth [${truth.shape}] differ in shape`);
  if (mask && mask.shape.join() !== truth.shape.join()) throw new Error(`confusion: mask [${mask.shape}] and truth [${truth.shape}] differ in shape`);
  return torch.noGrad(() => torch.scope(() => {
    let p = pred.gt(0.5), y = truth.gt(0.5);
    let valid = torch.onesLike(p, { dtype: 'bool' });
    if (mask) {
      const m = mask.gt(0.5);
      p = p.logicalAnd(m.logicalNot()); y = y.logicalAnd(m.logicalNot());
      if (mode === 'exclude') valid = m.logicalNot();
    }
    const dims = [...Array(p.ndim).keys()].filter((d) => d !== (perDim === null ? -1 : (perDim + p.ndim) % p.ndim));
    const cnt = (b: Tensor) => (perDim === null ? [b.sum().item()] : b.to('float64').sum(dims).toArray());
    const np = p.logicalNot(), ny = y.logicalNot();
    const tp = cnt(p.logicalAnd(y)), fp = cnt(p.logicalAnd(ny)), fn = cnt(np.logicalAnd(y)), tn = cnt(np.logicalAnd(ny).logicalAnd(valid));
    return tp.map((_, i) => ({ tp: tp[i]!, fp: fp[i]!, fn: fn[i]!, tn: tn[i]! }));
  }));
}

export function addConfusion(a: Confusion, b: Confusion): Confusion {
  return { tp: a.tp + b.tp, fp: a.fp + b.fp, fn: a.fn + b.fn, tn: a.tn + b.tn };
}
export const emptyConfusion = (): Confusion => ({ tp: 0, fp: 0, fn: 0, tn: 0 });

/** Accumulates counts per region-year cell and per lead time; reports per-cell scores and mIoU. */
export class CellScores {
  readonly cells = new Map<string, Confusion>();
  readonly lead = new Map<string, Confusion[]>();
  /** pred, truth, mask: (B, 1, T, H, W) */
  add(cell: string, pred: Tensor, truth: Tensor, mask: Tensor | null, mode: MetricMask = 'zero'): void {
    const per = confusionPer(pred, truth, mask, mode, 2);
    const tot = per.reduce(addConfusion, emptyConfusion());
    this.cells.set(cell, addConfusion(this.cells.get(cell) ?? emptyConfusion(), tot));
    const old = this.lead.get(cell) ?? per.map(() => emptyConfusion());
    this.lead.set(cell, old.map((c, i) => addConfusion(c, per[i]!)));
  }
  perCell(): Record<string, Scores & Confusion> {
    return Object.fromEntries([...this.cells].map(([k, c]) => [k, { ...c, ...scores(c) }]));
  }
  /** Unweighted mean of cell IoUs over `cells` (default: all). */
  mIoU(cells?: string[]): number { return meanIoU([...(cells ?? this.cells.keys())].map((k) => this.cells.get(k) ?? emptyConfusion())); }
  /** IoU per lead time (slot 1…T), counts summed over the given cells. */
  leadTimeIoU(cells?: string[]): number[] {
    const ks = cells ?? [...this.lead.keys()];
    const T = Math.max(0, ...ks.map((k) => this.lead.get(k)?.length ?? 0));
    return Array.from({ length: T }, (_, t) => scores(ks.reduce((a, k) => addConfusion(a, this.lead.get(k)?.[t] ?? emptyConfusion()), emptyConfusion())).iou);
  }
}

/** mIoU: the unweighted mean of per-cell IoUs (each cell's IoU from its own pooled counts). */
export function meanIoU(cells: Confusion[]): number {
  if (cells.length === 0) return 0;
  return cells.reduce((s, c) => s + scores(c).iou, 0) / cells.length;
}
