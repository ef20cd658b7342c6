// Paper A's robust-training recipe: the direction-aware geometric augmentation policy
// (AP), its inverse for the ablation, the "existing strategy" random augmentation, and the
// geometric augmentation ensemble (GAE) at test time: y = (1/n) Σ_i A_i⁻¹(F(A_i(x))).
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { Rng } from '../../core/rng.ts';
import { TTA_PRESETS, type AugmentMode, type TtaPreset, type Average } from './config.ts';

export type { AugmentMode, TtaPreset } from './config.ts';

/** Geometric transforms of the two spatial axes (H = north→south rows, W = west→east columns). */
export type Transform = 'id' | 'rot90' | 'rot180' | 'rot270' | 'rot180_vflip' | 'rot270_vflip' | 'vflip' | 'hflip' | 'transpose';
export const TRANSFORMS: Transform[] = ['id', 'rot90', 'rot180', 'rot270', 'rot180_vflip', 'rot270_vflip', 'vflip', 'hflip', 'transpose'];

/** The policy's five transforms; each keeps at least one component of a north-east motion. */
export const POLICY: Transform[] = ['rot90', 'rot270', 'rot180_vflip', 'rot270_vflip', 'vflip'];
/** The two transforms the policy leaves out (both reverse a north-east motion): the ablation's inverse policy. */
export const INVERSE_POLICY: Transform[] = ['rot180', 'transpose'];

const rot90op = torch.lazy('rot90');
/** Rotation by k·90° from the H axis toward the W axis (numpy/torch rot90 over dims (H, W)). */
function rot(x: Tensor, k: number): Tensor { return rot90op(x, k, [x.ndim - 2, x.ndim - 1]); }

/** Applies a transform to the last two axes of x. */
export function applyTransform(x: Tensor, t: Transform): Tensor {
  const H = x.ndim - 2, W = x.ndim - 1;
  return torch.scope(() => {
    switch (t) {
      case 'id': return x.clone();
      case 'rot90': return rot(x, 1);
      case 'rot180': return rot(x, 2);
      case 'rot270': return rot(x, 3);
      case 'rot180_vflip': return rot(x, 2).flip(H); // = left-right mirror
      case 'rot270_vflip': return rot(x, 3).flip(H); // = anti-diagonal reflection
      case 'vflip': return x.flip(H);
      case 'hflip': return x.flip(W);
      case 'transpose': return x.transpose(H, W).contiguous();
      default: throw new Error(`unknown transform '${t as string}'; valid: ${TRANSFORMS.join(', ')}`);
    }
  });
}

/** The inverse transform: A⁻¹(A(x)) = x. */
export function inverseOf(t: Transform): Transform {
  return t === 'rot90' ? 'rot270' : t === 'rot270' ? 'rot90' : t;
}

/**
 * Motion (east, north) after a transform: the image of the displacement under the transform
 * (rows grow southward, so north = −Δrow). The transforms are linear on displacements, so the
 * images of the two unit motions, read off a 5×5 field with one bright pixel, give the map.
 * Used to draw the policy on an arrow field and to test the "keeps one component" claim.
 */
export function transformMotion(east: number, north: number, t: Transform): [number, number] {
  const image = (dRow: number, dCol: number): [number, number] => torch.noGrad(() => torch.scope(() => {
    const a = torch.zeros([5, 5]);
    a.at(2 + dRow, 2 + dCol).fill_(1);
    const k = applyTransform(a, t).flatten().argmax().item();
    const r = Math.floor(k / 5) - 2, c = (k % 5) - 2;
    return [c, -r] as [number, number];
  }));
  const e = image(0, 1), n = image(-1, 0);
  return [east * e[0] + north * n[0], east * e[1] + north * n[1]];
}

/** Picks one transform per sample: policy with p = 0.8 (uniform over the five), else identity. */
export function sampleTransform(mode: 'policy' | 'inverse', rng: Rng, p = 0.8): Transform {
  if (rng.random() >= p) return 'id';
  return rng.choice(mode === 'policy' ? POLICY : INVERSE_POLICY);
}

export interface Augmented { x: Tensor; y: Tensor; mask: Tensor; transform: string }

/**
 * Augments one batch (the same transform for input, target and mask, per sample).
 * - policy / inverse: paper A's policy (or its inverse) with p = 0.8
 * - random ("existing strategy"), each with p = 0.5: rot90·k, vflip, time reversal of input and
 *   target, channel shuffle, cut-out of up to 30×30 input px (scaled to the input size)
 */
export function augmentBatch(x: Tensor, y: Tensor, mask: Tensor, mode: AugmentMode, rng: Rng): Augmented {
  if (mode === 'none') return { x, y, mask, transform: 'id' };
  const B = x.shape[0]!;
  const names: string[] = [];
  const out = torch.scope(() => {
    const xs: Tensor[] = [], ys: Tensor[] = [], ms: Tensor[] = [];
    for (let b = 0; b < B; b++) {
      let xb = x.narrow(0, b, 1), yb = y.narrow(0, b, 1), mb = mask.narrow(0, b, 1);
      if (mode === 'policy' || mode === 'inverse') {
        const t = sampleTransform(mode, rng);
        names.push(t);
        xb = applyTransform(xb, t); yb = applyTransform(yb, t); mb = applyTransform(mb, t);
      } else {
        const parts: string[] = [];
        if (rng.random() < 0.5) { const k = rng.int(0, 4); const t = (['id', 'rot90', 'rot180', 'rot270'] as const)[k]!; xb = applyTransform(xb, t); yb = applyTransform(yb, t); mb = applyTransform(mb, t); parts.push(t); }
        if (rng.random() < 0.5) { xb = xb.flip(3); yb = yb.flip(3); mb = mb.flip(3); parts.push('vflip'); }
        if (rng.random() < 0.5) { xb = xb.flip(2); yb = yb.flip(2); mb = mb.flip(2); parts.push('timerev'); }
        if (rng.random() < 0.5) {
          const perm = rng.permutation(xb.shape[1]!);
          xb = xb.indexSelect(1, torch.tensor(perm, { dtype: 'int64' })); parts.push('chshuffle');
        }
        if (rng.random() < 0.5) {
          const H = xb.shape[3]!, W = xb.shape[4]!, maxS = Math.max(1, Math.round((30 / 252) * H));
          const h = rng.int(1, maxS + 1), w = rng.int(1, maxS + 1), r0 = rng.int(0, H - h + 1), c0 = rng.int(0, W - w + 1);
          const keep = torch.ones([1, 1, 1, H, W], { dtype: xb.dtype });
          torch.noGrad(() => keep.at(0, 0, 0, [r0, r0 + h], [c0, c0 + w]).zero_());
          xb = xb.mul(keep); parts.push('cutout');
        }
        names.push(parts.join('+') || 'id');
      }
      xs.push(xb); ys.push(yb); ms.push(mb);
    }
    return { x: torch.cat(xs, 0), y: torch.cat(ys, 0), mask: torch.cat(ms, 0) };
  });
  return { ...out, transform: names.join(',') };
}

/** paper = {id, vflip} (paper A's run); released = {id, rot180} (the team's predictor); policy = {id} ∪ the 5 policy transforms. */
export function ttaTransforms(preset: TtaPreset): Transform[] {
  switch (preset) {
    case 'none': return ['id'];
    case 'paper': return ['id', 'vflip'];
    case 'released': return ['id', 'rot180'];
    case 'policy': return ['id', ...POLICY];
    default: throw new Error(`unknown TTA preset '${preset as string}'; valid: ${TTA_PRESETS.join(', ')}`);
  }
}

export interface TtaOptions {
  transforms: Transform[];
  /** average probabilities (default) or logits (the released predictor) */
  average: Average;
}

/**
 * Geometric augmentation ensemble (paper A eq. 1): (1/n) Σ A_i⁻¹(F(A_i(x))). `f` maps a
 * (B, C, T, H, W) input to (B, 1, T', H', W') logits. Returns ensemble probabilities.
 */
export function ensemble(f: (x: Tensor) => Tensor, x: Tensor, o: TtaOptions): Tensor {
  if (o.transforms.length === 0) throw new Error('ensemble: empty transform list');
  return torch.noGrad(() => torch.scope(() => {
    let acc: Tensor | null = null;
    for (const t of o.transforms) {
      const z = applyTransform(f(applyTransform(x, t)), inverseOf(t));
      const v = o.average === 'prob' ? z.sigmoid() : z;
      acc = acc ? acc.add(v) : v;
    }
    const mean = acc!.div(o.transforms.length);
    return o.average === 'prob' ? mean : mean.sigmoid();
  }));
}

/** Binarises probabilities: rain ⇔ p ≥ τ. */
export function binarize(p: Tensor, tau = 0.5): Tensor {
  if (!(tau > 0 && tau < 1)) throw new Error(`threshold τ must be in (0, 1), got ${tau}`);
  return torch.scope(() => p.ge(tau).to(p.dtype === 'float64' ? 'float64' : 'float32'));
}
