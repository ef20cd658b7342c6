// W4C22 geometry: the 252-px satellite input, its central 42-px target block (the radar target
// covers only the central 42² input pixels), the ×6 upsampling to the 252-px radar grid, and the
// scaled geometries of the CPU benchmark (README.md).
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { Geometry } from './config.ts';

// The geometries themselves are plain data in config.ts (the schemas name them).
export { FULL, SMALL, TINY, GEOMETRIES, GEOMETRY_NAMES, type Geometry, type GeometryName } from './config.ts';

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
 * per-frame bilinear ×s with half-pixel centres (align_corners = false), as SIANet upsamples its
 * 42² output to the 252² radar grid (paper B).
 */
export function upsample(x: Tensor, scale: number): Tensor {
  if (x.ndim !== 5) throw new Error(`upsample: expected a (B, C, T, H, W) tensor, got shape [${x.shape}]`);
  const [, , T, h, w] = x.shape as [number, number, number, number, number];
  return torch.F.interpolate(x, { size: [T, h * scale, w * scale], mode: 'trilinear', alignCorners: false });
}
