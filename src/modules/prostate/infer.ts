// Sliding-window inference as nnU-Net v1 runs it for the Z-SSMNet detector: windows overlapping by
// half a patch, Gaussian importance weighting, optional mirror test-time augmentation, and the mean
// softmax of an ensemble (e.g. the five fold models) of the csPCa class over a whole case.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { crop } from './augment.ts';
import type { NetCase } from './data.ts';
import type { MNet } from './model.ts';
import type { Shape3 } from './ssl.ts';

/** nnU-Net's sliding-window start positions along one axis (step = fraction of the patch). */
export function windowStarts(n: number, patch: number, step = 0.5): number[] {
  if (n <= patch) return [0];
  const k = Math.ceil((n - patch) / (patch * step)) + 1;
  const span = n - patch;
  return Array.from({ length: k }, (_, i) => Math.round((span * i) / (k - 1)));
}

/** Gaussian importance map (σ = patch/8 per axis), max 1, zeros lifted to the smallest positive value. */
export function gaussianMap(size: Shape3): Float32Array {
  const out = new Float32Array(size[0] * size[1] * size[2]);
  const g = size.map((n) => Array.from({ length: n }, (_, i) => Math.exp(-(((i - (n - 1) / 2) / (n / 8)) ** 2) / 2)));
  let o = 0, mx = 0;
  for (let z = 0; z < size[0]; z++) for (let y = 0; y < size[1]; y++) for (let x = 0; x < size[2]; x++, o++) {
    out[o] = g[0]![z]! * g[1]![y]! * g[2]![x]!;
    mx = Math.max(mx, out[o]!);
  }
  let mn = Infinity;
  for (let i = 0; i < out.length; i++) { out[i] = out[i]! / mx; if (out[i]! > 0) mn = Math.min(mn, out[i]!); }
  for (let i = 0; i < out.length; i++) if (out[i] === 0) out[i] = mn;
  return out;
}

export interface InferOptions {
  patch: Shape3;
  step?: number;
  /** mirror test-time augmentation over these axes (0 = z, 1 = y, 2 = x) */
  mirrorAxes?: number[];
  gaussian?: boolean;
}

/** Sliding-window softmax of the csPCa class over a whole case (on its network grid), [Z, Y, X]. */
export function predictCase(nets: MNet[], c: NetCase, o: InferOptions): Float32Array {
  const S = c.shape;
  const size = o.patch.map((p, a) => Math.min(p, Math.max(S[a]!, a === 0 ? 1 : 16))) as Shape3;
  // pad to at least the patch size
  const padded = S.map((n, a) => Math.max(n, size[a]!)) as Shape3;
  const vox = size[0] * size[1] * size[2];
  const C = c.channels.length;
  const w = o.gaussian === false ? new Float32Array(vox).fill(1) : gaussianMap(size);
  const acc = new Float64Array(padded[0] * padded[1] * padded[2]), wsum = new Float64Array(acc.length);
  const mirrors = [[]] as number[][];
  for (const a of o.mirrorAxes ?? []) for (const m of [...mirrors]) mirrors.push([...m, a + 2]);
  const dtype = nets[0]!.cfg.dtype;
  for (const net of nets) net.eval();
  for (const z0 of windowStarts(padded[0], size[0], o.step ?? 0.5))
    for (const y0 of windowStarts(padded[1], size[1], o.step ?? 0.5))
      for (const x0 of windowStarts(padded[2], size[2], o.step ?? 0.5)) {
        const xb = new Float32Array(C * vox);
        c.channels.forEach((ch, k) => crop(ch, S, [z0, y0, x0], size, xb, k * vox));
        if (C === 6) for (let i = 0; i < vox; i++) if (!xb[3 * vox + i] && !xb[4 * vox + i] && !xb[5 * vox + i]) xb[3 * vox + i] = 1;
        const prob = torch.noGrad(() => torch.scope(() => {
          const x = torch.tensor(xb, { shape: [1, C, ...size], dtype });
          let sum: Tensor | null = null;
          for (const net of nets) for (const m of mirrors) {
            const xi = m.length ? x.flip(m) : x;
            let p = net.forward(xi)[0]!.softmax(1).narrow(1, 1, 1);
            if (m.length) p = p.flip(m);
            sum = sum ? sum.add(p) : p;
          }
          return sum!.div(nets.length * mirrors.length).to('float32').contiguous().toTypedArray() as Float32Array;
        }));
        for (let z = 0; z < size[0]; z++) for (let y = 0; y < size[1]; y++) for (let x = 0; x < size[2]; x++) {
          const i = (z * size[1] + y) * size[2] + x;
          const j = ((z0 + z) * padded[1] + y0 + y) * padded[2] + x0 + x;
          acc[j]! += prob[i]! * w[i]!; wsum[j]! += w[i]!;
        }
      }
  const out = new Float32Array(S[0] * S[1] * S[2]);
  for (let z = 0; z < S[0]; z++) for (let y = 0; y < S[1]; y++) for (let x = 0; x < S[2]; x++) {
    const j = (z * padded[1] + y) * padded[2] + x;
    out[(z * S[1] + y) * S[2] + x] = wsum[j]! > 0 ? acc[j]! / wsum[j]! : 0;
  }
  return out;
}
