// Probe (one-off): engine profiling of the action workload per sub-module (backbone, 3D deformable
// attention, joint stride, temporal stride, full forward), ours vs PyTorch on bench/action_ref.py; it
// was used to find the engine's allocation cost. Needs python3 with torch.
// Usage (from the repository root): node --import tsx scripts/probes/action/prof.ts
import * as torch from '../../../src/core/torch/index.ts';
import { CrossModalTransformer, makeConfig } from '../../../src/modules/action/index.ts';
import { BenchHelper } from '../../../bench/helper.ts';
const h = new BenchHelper();
const cfg = makeConfig({
  numClasses: 6, joints: 25, frames: 16, imgSize: 32, dim: 32, heads: 4, depth: 2, mlpRatio: 2,
  backboneChannels: [16, 32], backboneStrides: [[1, 2, 2], [2, 2, 2]],
});
torch.manualSeed(0);
const m = new CrossModalTransformer(cfg).eval();
const B = 8;
const pose = torch.randn([B, 16, 25, 3]).keep(), video = torch.rand([B, 3, 16, 32, 32]).keep();
const t = async (name: string, f: () => unknown) => console.log(
  name, (await h.timeIt(() => torch.noGrad(() => torch.scope(f)), { warmup: 2, reps: 7 })).toFixed(2),
);
await t('backbone', () => m.backbone!.forward(video));
const z = torch.noGrad(() => m.backbone!.forward(video)).keep();
const p = torch.noGrad(() => m.poseEmbed.forward(pose)).keep();
const c = torch.randn([B, 2, 32]).keep();
const b = m.blocks[0]!;
await t('deform', () => b.deform!.forward(c, z));
await t('joint', () => b.joint.forward(c, p));
await t('temporal', () => b.temporal.forward(c, p));
await t('full', () => m.forward({ pose, video }));
const py = h.python(`
import sys; sys.path.insert(0, 'bench')
exec(open('bench/action_ref.py').read())
CFG = json.loads('${JSON.stringify(cfg)}')
torch.manual_seed(0)
m = CrossModalTransformer(CFG, [4,4,4]).eval()
pose = torch.randn(8,16,25,3); video = torch.rand(8,3,16,32,32)
r = {}
with torch.no_grad():
    r['backbone'] = bench(lambda: m.backbone(video), 2, 7)
    z = m.backbone(video); p = m.embed(pose) + m.joint_embed + m.time_embed; c = torch.randn(8,2,32)
    b = m.blocks[0]
    r['deform'] = bench(lambda: b.deform(c, z), 2, 7)
    r['joint'] = bench(lambda: b.joint(c, p), 2, 7)
    r['temporal'] = bench(lambda: b.temporal(c, p), 2, 7)
    r['full'] = bench(lambda: m(pose, video), 2, 7)
print(json.dumps(r))
`);
console.log('py', py);
