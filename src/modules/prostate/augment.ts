// nnU-Net-style patches and augmentation for the supervised loop: patch sampling (a third of each
// batch forced onto foreground), rotation/scaling about the slice axis, mirroring, and the
// intensity transforms. The one-hot zonal channels travel with the images (nearest neighbour),
// so the mask is transformed with the images as the paper's zonal-aware input fusion requires.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import type { Rng } from '../../core/rng.ts';
import { PAPER } from './config.ts';
import type { NetCase } from './data.ts';
import type { Shape3 } from './ssl.ts';

/** Copies a `size` box starting at `start` (may lie partly outside: zeros there) into `out` at `off`. */
export function crop(src: Float32Array | Uint8Array, shape: Shape3, start: number[], size: Shape3, out: Float32Array, off: number): void {
  const [, Y, X] = shape;
  for (let z = 0; z < size[0]; z++) {
    const zz = start[0]! + z;
    for (let y = 0; y < size[1]; y++) {
      const yy = start[1]! + y;
      for (let x = 0; x < size[2]; x++) {
        const xx = start[2]! + x;
        const inb = zz >= 0 && yy >= 0 && xx >= 0 && zz < shape[0] && yy < Y && xx < X;
        out[off + (z * size[1] + y) * size[2] + x] = inb ? src[(zz * Y + yy) * X + xx]! : 0;
      }
    }
  }
}

/** nnU-Net patch sampling: random crop; with probability `fgRate` centred on a random lesion voxel. */
export function samplePatchStart(c: NetCase, size: Shape3, rng: Rng, fgRate = PAPER.train.fgRate): number[] {
  const s = c.shape;
  if (c.label && rng.random() < fgRate) {
    const fg: number[] = [];
    for (let i = 0; i < c.label.length; i++) if (c.label[i]) fg.push(i);
    if (fg.length) {
      const v = fg[rng.int(0, fg.length)]!;
      const X = s[2], Y = s[1];
      const ctr = [Math.floor(v / (X * Y)), Math.floor(v / X) % Y, v % X];
      return ctr.map((q, a) => Math.min(Math.max(q - Math.floor(size[a]! / 2), Math.min(0, s[a]! - size[a]!)), Math.max(0, s[a]! - size[a]!)));
    }
  }
  return s.map((n, a) => (n > size[a]! ? rng.int(0, n - size[a]! + 1) : Math.floor((n - size[a]!) / 2)));
}

export interface AugmentOptions {
  enabled?: boolean;
  /** probability of a rotation (nnU-Net default 0.2); ±30° (defaults: PAPER.augment in config.ts) */
  rotationRate?: number;
  maxRotationDeg?: number;
  /** probability of a scaling (0.2) in [0.7, 1.4] */
  scaleRate?: number;
  scaleRange?: [number, number];
  mirror?: boolean;
  intensity?: boolean;
}

/**
 * Spatial + intensity augmentation of a batch: x [B, C, Z, Y, X] (images, then one-hot zones),
 * y [B, Z, Y, X] int64. Rotation about the slice axis and in-plane scaling (nnU-Net's "dummy 2D"
 * augmentation for anisotropic data [recon]: the paper gives ±30° about each axis; with 3 mm slices
 * nnU-Net v1 rotates in-plane only), mirroring on all axes, nnU-Net intensity transforms on images.
 * Zones and labels are resampled by nearest neighbour, so one-hot zones stay one-hot.
 */
export function augmentBatch(x: Tensor, y: Tensor, nImageChannels: number, rng: Rng, o: AugmentOptions = {}): [Tensor, Tensor] {
  if (o.enabled === false) return [x.clone(), y.clone()];
  const A = PAPER.augment;
  return torch.scope(() => {
    const [B, C, Z, Y, X] = x.shape as [number, number, number, number, number];
    const xs: Tensor[] = [], ys: Tensor[] = [];
    for (let b = 0; b < B; b++) {
      let xb = x.narrow(0, b, 1), yb = y.narrow(0, b, 1).unsqueeze(1).to(x.dtype);
      const rot = rng.random() < (o.rotationRate ?? A.rotationRate) ? rng.uniform(-1, 1) * (o.maxRotationDeg ?? A.maxRotationDeg) * Math.PI / 180 : 0;
      const [s0, s1] = o.scaleRange ?? A.scaleRange;
      const sc = rng.random() < (o.scaleRate ?? A.scaleRate) ? rng.uniform(s0, s1) : 1;
      if (rot !== 0 || sc !== 1) {
        const c = Math.cos(rot) / sc, s = Math.sin(rot) / sc;
        const theta = torch.tensor([[[c, -s * (Y / X), 0, 0], [s * (X / Y), c, 0, 0], [0, 0, 1, 0]]], { dtype: x.dtype });
        const grid = torch.F.affineGrid(theta, [1, C, Z, Y, X], false);
        const img = torch.F.gridSample(xb.narrow(1, 0, nImageChannels), grid, { mode: 'bilinear', paddingMode: 'zeros', alignCorners: false });
        const rest = torch.F.gridSample(torch.cat([xb.narrow(1, nImageChannels, C - nImageChannels), yb], 1), grid, { mode: 'nearest', paddingMode: 'zeros', alignCorners: false });
        const zonesPart = rest.narrow(1, 0, C - nImageChannels);
        // voxels rotated in from outside: background zone
        let zp = zonesPart;
        if (C - nImageChannels === 3) {
          const none = zonesPart.sum(1, true).eq(0).to(x.dtype);
          zp = torch.cat([zonesPart.narrow(1, 0, 1).add(none), zonesPart.narrow(1, 1, 2)], 1);
        }
        xb = torch.cat([img, zp], 1);
        yb = rest.narrow(1, C - nImageChannels, 1);
      }
      if (o.mirror ?? A.mirror) {
        const axes = [2, 3, 4].filter(() => rng.random() < 0.5);
        if (axes.length) { xb = xb.flip(axes); yb = yb.flip(axes); }
      }
      if (o.intensity ?? A.intensity) {
        let img = xb.narrow(1, 0, nImageChannels);
        if (rng.random() < 0.1) {
          // noise from the seeded data stream (not libtorch's generator), so a resumed run replays exactly
          const sd = Math.sqrt(rng.uniform(0, 0.1));
          img = img.add(torch.tensor(Float32Array.from(rng.normals(img.numel, 0, sd)), { shape: img.shape, dtype: img.dtype }));
        }
        if (rng.random() < 0.15) img = img.mul(rng.uniform(0.75, 1.25));
        if (rng.random() < 0.15) {
          const m = img.mean([2, 3, 4], true);
          img = img.sub(m).mul(rng.uniform(0.75, 1.25)).add(m);
        }
        if (rng.random() < 0.3) {
          // gamma on the [min, max]-rescaled image, then back (nnU-Net GammaTransform)
          const mn = img.amin([2, 3, 4], true), mx = img.amax([2, 3, 4], true);
          const r = mx.sub(mn).add(1e-7);
          img = img.sub(mn).div(r).pow(rng.uniform(0.7, 1.5)).mul(r).add(mn);
        }
        xb = torch.cat([img, xb.narrow(1, nImageChannels, C - nImageChannels)], 1);
      }
      xs.push(xb); ys.push(yb.squeeze(1).round().to('int64'));
    }
    return [torch.cat(xs, 0).contiguous(), torch.cat(ys, 0).contiguous()] as [Tensor, Tensor];
  });
}

/** A batch of patches (before augmentation). */
export function makeBatch(cases: NetCase[], batch: number, size: Shape3, rng: Rng, fgRate = PAPER.train.fgRate, dtype: 'float32' | 'float64' = PAPER.train.dtype): [Tensor, Tensor] {
  const C = cases[0]!.channels.length;
  const vox = size[0] * size[1] * size[2];
  const xb = new Float32Array(batch * C * vox), yb = new Float32Array(batch * vox);
  for (let b = 0; b < batch; b++) {
    const c = cases[rng.int(0, cases.length)]!;
    // nnU-Net: the last (1 − round(B·(1 − fgRate))) samples of a batch are forced to contain foreground
    const forced = b >= Math.round(batch * (1 - fgRate));
    const st = samplePatchStart(c, size, rng, forced ? 1 : 0);
    c.channels.forEach((ch, k) => crop(ch, c.shape, st, size, xb, (b * C + k) * vox));
    if (c.label) crop(c.label, c.shape, st, size, yb, b * vox);
  }
  // padded voxels: background zone
  if (C === 6) for (let b = 0; b < batch; b++) {
    const o = b * C * vox;
    for (let i = 0; i < vox; i++) if (!xb[o + 3 * vox + i] && !xb[o + 4 * vox + i] && !xb[o + 5 * vox + i]) xb[o + 3 * vox + i] = 1;
  }
  const x = torch.tensor(xb, { shape: [batch, C, ...size], dtype });
  const y = torch.scope(() => torch.tensor(yb, { shape: [batch, ...size] }).to('int64'));
  return [x, y];
}
