// W4C22 geometry: the 252-px satellite input, its central 42-px target block, the ×6 upsampling
// to the 252-px radar grid, and the scaled "S" geometry of the CPU benchmark (spec §1, §8.1).
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';

export interface Geometry {
  /** input grid side (coarse satellite pixels) */
  inSize: number;
  /** side of the central input block the radar target covers */
  cropSize: number;
  /** one input pixel = scale × scale output pixels */
  scale: number;
  /** input slots */
  tIn: number;
  /** output slots */
  tOut: number;
}

/** The competition geometry: 252² input, central 42² block (rows 105…146), ×6 → 252² target, 4 → 32 slots. */
export const FULL: Geometry = { inSize: 252, cropSize: 42, scale: 6, tIn: 4, tOut: 32 };
/** The "S" CPU geometry of §8.1: 48² input, central 8² block (rows 20…27), ×6 → 48² target, 4 → 8 slots. */
export const SMALL: Geometry = { inSize: 48, cropSize: 8, scale: 6, tIn: 4, tOut: 8 };
/** A CI-sized geometry for tests: 24² input, central 4² block (rows 10…13), ×6 → 24² target, 4 → 4 slots. */
export const TINY: Geometry = { inSize: 24, cropSize: 4, scale: 6, tIn: 4, tOut: 4 };

export const GEOMETRIES = { full: FULL, s: SMALL, tiny: TINY } as const;
export type GeometryName = keyof typeof GEOMETRIES;

/** Zero-based first row/column of the central block; the block is rows start…start+cropSize−1. */
export function cropStart(g: Pick<Geometry, 'inSize' | 'cropSize'>): number {
  const d = g.inSize - g.cropSize;
  if (d < 0 || d % 2 !== 0) {
    throw new Error(`geometry: inSize ${g.inSize} − cropSize ${g.cropSize} must be even and ≥ 0 for a centred block`);
  }
  return d / 2;
}

/** Inclusive row/column range of the central block, e.g. [105, 146] for the full geometry. */
export function cropRange(g: Pick<Geometry, 'inSize' | 'cropSize'>): [number, number] {
  const s = cropStart(g);
  return [s, s + g.cropSize - 1];
}

/** Output side = cropSize · scale (= inSize for the competition ratios). */
export function outSize(g: Geometry): number {
  return g.cropSize * g.scale;
}

/** The input pixel (row, col) that output pixel (i, j) lies in: (start + ⌊i/scale⌋, start + ⌊j/scale⌋). */
export function inputPixelOf(g: Geometry, i: number, j: number): [number, number] {
  const s = cropStart(g);
  return [s + Math.floor(i / g.scale), s + Math.floor(j / g.scale)];
}

/** Crops the central cropSize² block of the last two (H, W) axes. */
export function cropCenter(x: Tensor, g: Pick<Geometry, 'inSize' | 'cropSize'>): Tensor {
  const H = x.shape[x.ndim - 2]!, W = x.shape[x.ndim - 1]!;
  if (H !== g.inSize || W !== g.inSize) {
    throw new Error(`cropCenter: expected spatial size ${g.inSize}×${g.inSize}, got ${H}×${W} (shape [${x.shape}])`);
  }
  const s = cropStart(g);
  return torch.scope(() => x.narrow(x.ndim - 2, s, g.cropSize).narrow(x.ndim - 1, s, g.cropSize));
}

/**
 * Trilinear resize of a (B, C, T, h, w) volume to (B, C, T, h·s, w·s). T is unchanged, so this is
 * per-frame bilinear ×s with half-pixel centres (align_corners = false), spec §4.2(c).
 */
export function upsample(x: Tensor, scale: number): Tensor {
  if (x.ndim !== 5) throw new Error(`upsample: expected a (B, C, T, H, W) tensor, got shape [${x.shape}]`);
  const [, , T, h, w] = x.shape as [number, number, number, number, number];
  return torch.F.interpolate(x, { size: [T, h * scale, w * scale], mode: 'trilinear', alignCorners: false });
}
