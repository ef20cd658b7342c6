// The losses of CARTOONER's two training stages, L_texture and L_color (Ahn et al. 2023) [recon: the
// paper's exact terms and weights were not recovered]:
// L_texture = L_adv + λ_c·L_content + λ_tv·L_tv (+ [ours] λ_p·L_paired on synthetic pairs),
// L_color = L1(ab_pred, ab of the HSV-augmented image). The weights live in config.ts.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { nn, F } from '../../core/torch/index.ts';
import { Rng } from '../../core/rng.ts';

/** LSGAN critic loss: mean((D(real) − 1)²) + mean(D(fake)²). */
export function lsganD(real: Tensor, fake: Tensor): Tensor {
  return torch.scope(() => real.sub(1).square().mean().add(fake.square().mean()));
}
/** LSGAN generator loss: mean((D(fake) − 1)²). */
export function lsganG(fake: Tensor): Tensor {
  return torch.scope(() => fake.sub(1).square().mean());
}

/**
 * The content network of L_content. No pretrained VGG weights may be downloaded, so [ours] it is a
 * fixed random-feature CNN on L: conv3×3(1→16)·ReLU, conv3×3 s2(16→32)·ReLU,
 * conv3×3(32→32)·ReLU, He-normal weights drawn from its own seed (identical in every run).
 */
export class RandomFeatureNet extends nn.Module {
  readonly ws: Tensor[];
  constructor(seed = 1234) {
    super();
    const rng = new Rng(seed);
    const shapes: [number, number][] = [[16, 1], [32, 16], [32, 32]];
    this.ws = shapes.map(([o, i], k) => {
      const std = Math.sqrt(2 / (i * 9));
      const data = Float32Array.from({ length: o * i * 9 }, () => rng.normal(0, std));
      const w = torch.tensor(data, { shape: [o, i, 3, 3] });
      this.buffer(`w${k}`, w);
      return w;
    });
  }
  forward(L: Tensor): Tensor {
    return torch.scope(() => {
      let h = L.div(50).sub(1);
      h = F.conv2d(h, this.ws[0]!, null, { padding: 1 }).relu();
      h = F.conv2d(h, this.ws[1]!, null, { padding: 1, stride: 2 }).relu();
      return F.conv2d(h, this.ws[2]!, null, { padding: 1 }).relu();
    });
  }
}

/** L_content: L1 between content-net features of the photo L and the output L. */
export function contentLoss(net: RandomFeatureNet, photoL: Tensor, outL: Tensor): Tensor {
  return torch.scope(() => F.l1Loss(net.forward(outL), torch.noGrad(() => net.forward(photoL))));
}

/** L_tv: mean squared neighbour differences of L/100 (total variation, White-box style). */
export function tvLoss(L: Tensor): Tensor {
  return torch.scope(() => {
    const x = L.div(100);
    const H = x.shape[2]!, W = x.shape[3]!;
    const dy = x.narrow(2, 1, H - 1).sub(x.narrow(2, 0, H - 1));
    const dx = x.narrow(3, 1, W - 1).sub(x.narrow(3, 0, W - 1));
    return dy.square().mean().add(dx.square().mean());
  });
}

/** L_color: L1 between predicted and target ab, in units of 110 (the ab range). */
export function colorLoss(abPred: Tensor, abTarget: Tensor): Tensor {
  return torch.scope(() => F.l1Loss(abPred.div(110), abTarget.div(110)));
}

/** [ours, CPU-scale aid] L1 between output L and the paired synthetic cartoon's L, in units of 100. */
export function pairedLoss(L: Tensor, target: Tensor): Tensor {
  return torch.scope(() => F.l1Loss(L.div(100), target.div(100)));
}

/**
 * [ours, CPU-scale aid] L1 between the finite-difference gradients (x and y) of the output L and of the
 * paired cartoon's L, in units of 100 per px. The plain L1 barely notices a low-amplitude texture left
 * in a region the target has flattened; its gradients do, so this term carries the abstraction levels.
 */
export function pairedGradLoss(L: Tensor, target: Tensor): Tensor {
  return torch.scope(() => {
    const d = L.sub(target).div(100);
    const H = d.shape[2]!, W = d.shape[3]!;
    const dy = d.narrow(2, 1, H - 1).sub(d.narrow(2, 0, H - 1));
    const dx = d.narrow(3, 1, W - 1).sub(d.narrow(3, 0, W - 1));
    return dy.abs().mean().add(dx.abs().mean());
  });
}
