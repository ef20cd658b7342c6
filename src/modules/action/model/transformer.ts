// The whole network (the paper's Fig. 2(a)): tokenisers → two cross-modal tokens → L blocks of
// [3D deformable attention, local joint stride attention, temporal stride attention] → classifier
// on the last cross-modal tokens.
import * as torch from '../../../core/torch/index.ts';
import type { Tensor } from '../../../core/torch/index.ts';
import type { ActionConfig } from '../config.ts';
import { Mlp } from './layers.ts';
import { RGBBackbone, PoseEmbedding } from './tokens.ts';
import { DeformableAttention3D } from './deformable.ts';
import { LocalJointStrideAttention } from './joint-stride.ts';
import { TemporalStrideAttention } from './temporal-stride.ts';

const { nn } = torch;

/** One block ℓ: deformable attention (RGB), joint-stride attention, temporal-stride attention, MLP. */
export class CrossModalBlock extends nn.Module {
  deform: DeformableAttention3D | null;
  joint: LocalJointStrideAttention; temporal: TemporalStrideAttention;
  norm: InstanceType<typeof nn.LayerNorm>; mlp: Mlp;
  constructor(readonly c: ActionConfig) {
    super();
    this.deform = c.rgb ? this.child('deform', new DeformableAttention3D(c)) : null;
    this.joint = this.child('joint', new LocalJointStrideAttention(c));
    this.temporal = this.child('temporal', new TemporalStrideAttention(c));
    this.norm = this.child('norm', new nn.LayerNorm(c.dim, { dtype: c.dtype }));
    this.mlp = this.child('mlp', new Mlp(c.dim, c.mlpRatio, c.dtype, c.dropout));
  }
  forward(c: Tensor, z: Tensor | null, p: Tensor): [Tensor, Tensor | null, Tensor] {
    if (this.deform && z) [c, z] = this.deform.forward(c, z);
    [c, p] = this.joint.forward(c, p);
    [c, p] = this.temporal.forward(c, p);
    // [recon] pose-side MLP over [c_rgb; c_pose; P]
    const [B, T, J, D] = p.shape as number[];
    let x = torch.cat([c, p.reshape([B!, T! * J!, D!])], 1);
    x = x.add(this.mlp.forward(this.norm.forward(x)));
    return [x.narrow(1, 0, 2), z, x.narrow(1, 2, T! * J!).reshape([B!, T!, J!, D!])];
  }
}

export interface ActionInput {
  /** [B, T, J·M, C] */
  pose: Tensor;
  /** [B, 3, T, H, W] in [0, 1]; omit for pose-only */
  video?: Tensor | null;
}

/** The whole network. forward returns logits [B, numClasses]. */
export class CrossModalTransformer extends nn.Module {
  backbone: RGBBackbone | null;
  poseEmbed: PoseEmbedding;
  cRgb: Tensor; cPose: Tensor;
  blocks: CrossModalBlock[] = [];
  norm: InstanceType<typeof nn.LayerNorm>;
  head: InstanceType<typeof nn.Linear>;
  constructor(readonly config: ActionConfig) {
    super();
    const c = config;
    this.backbone = c.rgb ? this.child('backbone', new RGBBackbone(c)) : null;
    this.poseEmbed = this.child('pose_embed', new PoseEmbedding(c));
    this.cRgb = this.param('c_rgb', nn.init.truncNormal_(torch.empty([1, 1, c.dim], { dtype: c.dtype }), 0.02));
    this.cPose = this.param('c_pose', nn.init.truncNormal_(torch.empty([1, 1, c.dim], { dtype: c.dtype }), 0.02));
    for (let l = 0; l < c.depth; l++) this.blocks.push(this.child(`block${l}`, new CrossModalBlock(c)));
    this.norm = this.child('norm', new nn.LayerNorm(c.dim, { dtype: c.dtype }));
    this.head = this.child('head', new nn.Linear(c.head === 'concat' ? 2 * c.dim : c.dim, c.numClasses, true, { dtype: c.dtype }));
  }

  /** Checks input shapes and values; errors name the field. */
  check(x: ActionInput): void {
    const c = this.config;
    const ps = x.pose.shape;
    const want = [c.frames, c.joints * c.bodies, c.coordDim];
    if (ps.length !== 4 || ps[1] !== want[0] || ps[2] !== want[1] || ps[3] !== want[2]) {
      throw new Error(`action model: 'pose' must be [B, ${want.join(', ')}] (frames, joints·bodies, coords), got [${ps}]`);
    }
    if (x.video) {
      const vs = x.video.shape;
      if (!c.rgb) throw new Error("action model: got 'video' but the model was built pose-only (rgb=false)");
      if (vs.length !== 5 || vs[0] !== ps[0] || vs[1] !== 3 || vs[2] !== c.frames || vs[3] !== c.imgSize || vs[4] !== c.imgSize) {
        throw new Error(`action model: 'video' must be [${ps[0]}, 3, ${c.frames}, ${c.imgSize}, ${c.imgSize}], got [${vs}]`);
      }
    }
  }

  /** Final cross-modal tokens [B, 2, D] (after the last block and the norm). */
  features(x: ActionInput): Tensor {
    this.check(x);
    const B = x.pose.shape[0]!;
    let p = this.poseEmbed.forward(x.pose);
    let z = this.backbone && x.video ? this.backbone.forward(x.video) : null;
    const D = this.config.dim;
    let c = torch.cat([this.cRgb.expand([B, 1, D]), this.cPose.expand([B, 1, D])], 1);
    for (const blk of this.blocks) [c, z, p] = blk.forward(c, z, p);
    return this.norm.forward(c);
  }

  forward(x: ActionInput): Tensor {
    const c = this.features(x);
    const h = this.config.head === 'concat' ? c.reshape([c.shape[0]!, 2 * this.config.dim]) : c.sum(1);
    return this.head.forward(h);
  }

  /** Turns on recording of attention maps and offsets in every block (for explain/diagnostics). */
  setRecord(on: boolean): void {
    for (const b of this.blocks) {
      b.joint.attn.record = on; b.temporal.attn.record = on;
      if (b.deform) { b.deform.record = on; b.deform.attn.record = on; }
    }
  }

  /** Parameters of the 3D token search (offset networks). */
  offsetParameters(): Tensor[] {
    return this.blocks.flatMap((b) => (b.deform ? b.deform.search.parameters() : []));
  }
}
