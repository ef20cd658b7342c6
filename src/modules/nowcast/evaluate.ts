// Evaluation: ensemble (TTA) probabilities, binarisation at τ, per-cell scores, mIoU, lead-time
// curves and the temporal-smoothness statistic mean |P_t − P_{t+1}|.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { NowcastModel } from './model.ts';
import { CellScores, type MetricMask } from './metrics.ts';
import { ensemble, binarize, type Transform } from './recipe.ts';
import type { SampleSet } from './synth.ts';

export interface EvalOptions {
  transforms: Transform[];
  average: 'prob' | 'logit';
  tau: number;
  batchSize: number;
  maskMode: MetricMask;
}
export const DEFAULT_EVAL: EvalOptions = { transforms: ['id'], average: 'prob', tau: 0.5, batchSize: 8, maskMode: 'zero' };

export interface EvalResult { scores: CellScores; temporalChange: number }

/** Ensemble probabilities of a model on x (eval mode, no grad). */
export function predictProba(model: NowcastModel, x: Tensor, o: Pick<EvalOptions, 'transforms' | 'average'>): Tensor {
  model.eval();
  return ensemble((z) => model.forward(z).logits, x, o);
}

/** Scores every sample set (one region-year cell each). */
export function evaluate(model: NowcastModel, sets: SampleSet[], o: Partial<EvalOptions> = {}): EvalResult {
  const e = { ...DEFAULT_EVAL, ...o };
  const sc = new CellScores();
  let tc = 0, tn = 0;
  for (const s of sets) {
    const N = s.x.shape[0]!;
    for (let i = 0; i < N; i += e.batchSize) {
      const n = Math.min(e.batchSize, N - i);
      torch.scope(() => {
        const p = predictProba(model, s.x.narrow(0, i, n), e);
        const T = p.shape[2]!;
        if (T > 1) { tc += p.narrow(2, 1, T - 1).sub(p.narrow(2, 0, T - 1)).abs().mean().item() * n; tn += n; }
        sc.add(s.cell, binarize(p, e.tau), s.y.narrow(0, i, n), s.mask.narrow(0, i, n), e.maskMode);
      });
    }
  }
  return { scores: sc, temporalChange: tn ? tc / tn : 0 };
}

/** Reference predictors of §8.3 item 3: all-rain, and a per-pixel climatology mask thresholded on training data. */
export function climatologyMask(train: SampleSet[], frac: number): Tensor {
  return torch.scope(() => {
    const rates = torch.cat(train.map((s) => s.y.mean([0, 2]).unsqueeze(0)), 0).mean(0); // (1, h, w)
    return rates.ge(frac).to('float32');
  });
}

/** Chooses the climatology threshold that maximises training mIoU over a grid of rain frequencies. */
export function tuneClimatology(train: SampleSet[]): { frac: number; mask: Tensor } {
  let best = { frac: 0.5, iou: -1 };
  for (const frac of [0.02, 0.05, 0.08, 0.12, 0.16, 0.2, 0.25, 0.3, 0.4, 0.5]) {
    const iou = torch.scope(() => {
      const m = climatologyMask(train, frac);
      return scoreConstant(train, m).mIoU();
    });
    if (iou > best.iou) best = { frac, iou };
  }
  return { frac: best.frac, mask: climatologyMask(train, best.frac) };
}

/** Scores a constant (1, h, w) prediction broadcast over every sample and slot. */
export function scoreConstant(sets: SampleSet[], m: Tensor, maskMode: MetricMask = 'zero'): CellScores {
  const sc = new CellScores();
  for (const s of sets) torch.scope(() => sc.add(s.cell, m.unsqueeze(0).unsqueeze(2).expandAs(s.y).contiguous(), s.y, s.mask, maskMode));
  return sc;
}
