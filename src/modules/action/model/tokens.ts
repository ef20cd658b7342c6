// The tokenisers (the paper's Fig. 2(a), left): the RGB backbone turns the clip into the RGB tokens Z
// (a T'×H'×W' volume of D-vectors), the pose embedding turns each joint of each frame into a pose
// token of P.
import * as torch from '../../../core/torch/index.ts';
import type { Tensor } from '../../../core/torch/index.ts';
import type { ActionConfig } from '../config.ts';
import { tokenShape } from './shapes.ts';

const { nn } = torch;

/** [recon] RGB backbone: a small 3D CNN (conv3d → BatchNorm3d → ReLU per layer) then a linear map to D. */
export class RGBBackbone extends nn.Module {
  convs: InstanceType<typeof nn.Conv3d>[] = [];
  norms: InstanceType<typeof nn.BatchNorm3d>[] = [];
  toTokens: InstanceType<typeof nn.Linear>;
  pos: Tensor;
  constructor(readonly c: ActionConfig) {
    super();
    let cin = 3;
    c.backboneChannels.forEach((cout, i) => {
      this.convs.push(this.child(`conv${i}`, new nn.Conv3d(cin, cout, c.backboneKernel, { stride: c.backboneStrides[i]!, padding: Math.floor(c.backboneKernel / 2), dtype: c.dtype })));
      this.norms.push(this.child(`bn${i}`, new nn.BatchNorm3d(cout, { dtype: c.dtype })));
      cin = cout;
    });
    this.toTokens = this.child('to_tokens', new nn.Linear(cin, c.dim, true, { dtype: c.dtype }));
    const [t, h, w] = tokenShape(c);
    this.pos = this.param('pos_embed', nn.init.truncNormal_(torch.empty([t, h, w, c.dim], { dtype: c.dtype }), 0.02));
  }
  /** video [B, 3, T, H, W] → Z [B, T', H', W', D] */
  forward(video: Tensor): Tensor {
    let x = video;
    for (let i = 0; i < this.convs.length; i++) x = this.norms[i]!.forward(this.convs[i]!.forward(x)).relu();
    return this.toTokens.forward(x.permute([0, 2, 3, 4, 1])).add(this.pos);
  }
}

/** Pose tokens: linear embedding of each joint's coordinates + learned joint and temporal embeddings. */
export class PoseEmbedding extends nn.Module {
  embed: InstanceType<typeof nn.Linear>;
  jointEmbed: Tensor; timeEmbed: Tensor;
  constructor(readonly c: ActionConfig) {
    super();
    if (c.poseStats) { // [recon] fixed input standardisation (buffers: saved with the weights)
      this.buffer('input_mean', torch.tensor(Float32Array.from(c.poseStats.mean)).to(c.dtype));
      this.buffer('input_std', torch.tensor(Float32Array.from(c.poseStats.std)).to(c.dtype));
    }
    this.embed = this.child('embed', new nn.Linear(c.coordDim, c.dim, true, { dtype: c.dtype }));
    this.jointEmbed = this.param('joint_embed', nn.init.truncNormal_(torch.empty([c.joints * c.bodies, c.dim], { dtype: c.dtype }), 0.02));
    this.timeEmbed = this.param('time_embed', nn.init.truncNormal_(torch.empty([c.frames, 1, c.dim], { dtype: c.dtype }), 0.02));
  }
  /** pose [B, T, J·M, C] → P [B, T, J·M, D] */
  forward(pose: Tensor): Tensor {
    const x = this.c.poseStats ? pose.sub(this.getBuffer('input_mean')).div(this.getBuffer('input_std')) : pose;
    return this.embed.forward(x).add(this.jointEmbed).add(this.timeEmbed);
  }
}
