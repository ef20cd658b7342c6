// The single-neuron model F(x, y) = ℓ(x·y) of Ahn et al. (2023), as we reconstruct it [recon; tags
// explained in model.ts]: GD in closed form on two scalars.
// ∇F = ℓ'(xy)·(y, x);  ∇²F = [[ℓ''y², ℓ''xy + ℓ'], [ℓ''xy + ℓ', ℓ''x²]].
import type { XyLoss } from './model.ts';
import { jitterInit } from '../../core/jitter.ts';

export function xyDerivs(loss: XyLoss, s: number): { l: number; l1: number; l2: number } {
  if (loss === 'sqrt') { const r = Math.sqrt(1 + s * s); return { l: r, l1: s / r, l2: 1 / (r * r * r) }; }
  const sp = (u: number) => (u > 0 ? u + Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u)));
  const sig = 1 / (1 + Math.exp(-s));
  const k = loss === 'symlogistic' ? 1 : 0.5;
  if (loss !== 'symlogistic' && loss !== 'halfsymlogistic') throw new Error(`unknown ℓ '${loss as string}' (sqrt, symlogistic, halfsymlogistic)`);
  return { l: k * (sp(s) + sp(-s)), l1: k * (2 * sig - 1), l2: k * 2 * sig * (1 - sig) };
}

export function xySharpness(loss: XyLoss, x: number, y: number): number {
  const { l1, l2 } = xyDerivs(loss, x * y);
  const a = l2 * y * y, c = l2 * x * x, b = l2 * x * y + l1;
  return (a + c) / 2 + Math.sqrt(((a - c) / 2) ** 2 + b * b);
}

export interface XyRow { step: number; x: number; y: number; loss: number; sharpness: number }

export function xyGD(
  loss: XyLoss,
  x0: number,
  y0: number,
  eta: number,
  steps: number,
  every = 0,
): { x: number; y: number; rows: XyRow[]; signFlips: number; diverged: boolean } {
  const start = jitterInit(Float64Array.of(x0, y0));
  let x = start[0]!, y = start[1]!, flips = 0;
  const rows: XyRow[] = [];
  for (let t = 0; t <= steps; t++) {
    const { l, l1 } = xyDerivs(loss, x * y);
    if (every > 0 && (t % every === 0 || t === steps)) rows.push({ step: t, x, y, loss: l, sharpness: xySharpness(loss, x, y) });
    if (!Number.isFinite(l) || Math.abs(x) + Math.abs(y) > 1e8) return { x, y, rows, signFlips: flips, diverged: true };
    if (t === steps) break;
    const nx = x - eta * l1 * y, ny = y - eta * l1 * x;
    if (Math.sign(nx) !== Math.sign(x) && x !== 0) flips++;
    x = nx; y = ny;
  }
  return { x, y, rows, signFlips: flips, diverged: false };
}
