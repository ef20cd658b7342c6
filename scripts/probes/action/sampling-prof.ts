// Probe (one-off, #27 item 8): where the action bench's time goes — engine ops per forward and per
// block (counted by wrapping the addon's call), major GCs per forward and per training step, and
// per-part minimum CPU times (WALL=1: wall times) ours vs PyTorch (bench/action_ref.py), both after
// 5 training steps as in the bench. Needs python3 with torch. It found the GC per forward that
// native/addon.cpp no longer causes (scoped tensors are not reported to V8 as external memory).
// Usage (from the repository root): PAPERLAB_THREADS=1 node --import tsx scripts/probes/action/sampling-prof.ts
const cpuNow = () => { const u = process.cpuUsage(); return u.user + u.system; };
import { PerformanceObserver, constants } from 'node:perf_hooks';
import * as torch from '../../../src/core/torch/index.ts';
import { native } from '../../../src/core/torch/native.ts';
import { CrossModalTransformer, makeConfig, trainStep } from '../../../src/modules/action/index.ts';
import { BenchHelper } from '../../../bench/helper.ts';

const h = new BenchHelper();
const cfg = makeConfig({
  numClasses: 6, joints: 25, frames: 16, imgSize: 32, dim: 32, heads: 4, depth: 2, mlpRatio: 2,
  backboneChannels: [16, 32], backboneStrides: [[1, 2, 2], [2, 2, 2]], jointStride: 5, temporalStride: 2,
});
torch.manualSeed(0);
const m = new CrossModalTransformer(cfg);
const B = 8;
const pose = torch.randn([B, 16, 25, 3]).keep(), video = torch.rand([B, 3, 16, 32, 32]).keep();
const labels = torch.arange(0, B, 1, { dtype: 'int64' }).remainder(6).keep();
const opt = new torch.optim.AdamW(m.parameters(), { lr: 1e-3, weightDecay: 0.05 });

// op counting: wrap the addon's generic call
const counts = new Map<number, number>();
const call = native.call.bind(native);
let counting = false;
(native as { call: typeof native.call }).call = (hd: number, ...a: unknown[]) => {
  if (counting) counts.set(hd, (counts.get(hd) ?? 0) + 1);
  return call(hd, ...a);
};
const count = (name: string, f: () => unknown) => {
  counts.clear(); counting = true; f(); counting = false;
  const tot = [...counts.values()].reduce((a, b) => a + b, 0);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${native.opSchema(k).split('(')[0]}×${v}`).join(' ');
  console.log(`ops ${name}: ${tot}  ${top}`);
};
const z = torch.noGrad(() => m.backbone!.forward(video)).keep();
const p = torch.noGrad(() => m.poseEmbed.forward(pose)).keep();
const c = torch.randn([B, 2, 32]).keep();
const b = m.blocks[0]!;
m.eval();
count('forward (no grad)', () => torch.noGrad(() => torch.scope(() => { m.forward({ pose, video }); })));
count('deform layer', () => torch.noGrad(() => torch.scope(() => { b.deform!.forward(c, z); })));
count('joint layer', () => torch.noGrad(() => torch.scope(() => { b.joint.forward(c, p); })));
count('temporal layer', () => torch.noGrad(() => torch.scope(() => { b.temporal.forward(c, p); })));
m.train();
trainStep(m, opt, { pose, video, labels }, 0.1, 1); // the optimizer's state is made on the first step
count('train step (JS-issued ops)', () => trainStep(m, opt, { pose, video, labels }, 0.1, 1));

const minT = async (f: () => unknown, reps = 15) => {
  for (let i = 0; i < 3; i++) f();
  let best = Infinity;
  const now = () => (process.env.WALL ? performance.now() * 1000 : cpuNow()); // µs
  for (let i = 0; i < reps; i++) { const s = now(); f(); best = Math.min(best, (now() - s) / 1000); }
  return best;
};
for (let i = 0; i < 5; i++) trainStep(m, opt, { pose, video, labels }, 0.1, 1); // as in the bench: the forward rows run after training steps
// major GCs over 20 forwards and 10 training steps
let major = 0;
const isMajor = (e: unknown) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
const obs = new PerformanceObserver((l) => { for (const e of l.getEntries()) if (isMajor(e)) major++; });
obs.observe({ entryTypes: ['gc'] });
m.eval();
for (let i = 0; i < 20; i++) torch.noGrad(() => torch.scope(() => { m.forward({ pose, video }); }));
await new Promise((r) => setTimeout(r, 50));
const fwdGcs = major; major = 0;
m.train();
for (let i = 0; i < 10; i++) trainStep(m, opt, { pose, video, labels }, 0.1, 1);
await new Promise((r) => setTimeout(r, 50));
obs.disconnect();
console.log(`major GCs: ${fwdGcs} in 20 forwards, ${major} in 10 training steps`);
const zg = z.detach().requiresGrad_().keep();
const ours: Record<string, number> = {};
m.eval();
ours.backbone = await minT(() => torch.noGrad(() => torch.scope(() => { m.backbone!.forward(video); })));
ours.deform = await minT(() => torch.noGrad(() => torch.scope(() => { b.deform!.forward(c, z); })), 40);
ours.joint = await minT(() => torch.noGrad(() => torch.scope(() => { b.joint.forward(c, p); })), 40);
ours.temporal = await minT(() => torch.noGrad(() => torch.scope(() => { b.temporal.forward(c, p); })), 40);
ours.forward = await minT(() => torch.noGrad(() => torch.scope(() => { m.forward({ pose, video }); })));
m.train();
ours.backbone_fb = await minT(() => torch.scope(() => { m.backbone!.forward(video).sum().backward(); }));
ours.deform_fb = await minT(() => torch.scope(() => { const [cc, zz] = b.deform!.forward(c, zg); cc.sum().add(zz.sum()).backward(); }), 40);
ours.step = await minT(() => trainStep(m, opt, { pose, video, labels }, 0.1, 1));
const py = h.python(`
import sys; sys.path.insert(0, 'bench')
exec(open('bench/action_ref.py').read())
CFG = json.loads('${JSON.stringify(cfg)}')
import time
clk = time.perf_counter if os.environ.get('WALL') else time.process_time
def minT(f, reps=15):
    for _ in range(3): f()
    best = 1e9
    for _ in range(reps):
        s = clk(); f(); best = min(best, (clk() - s) * 1000)
    return best
m, fns = make(CFG, 8, [4, 4, 4])
for _ in range(5): fns['step']()  # as in the bench: the forward rows run after training steps
pose = torch.randn(8,16,25,3); video = torch.rand(8,3,16,32,32)
r = {}
m.eval()
with torch.no_grad():
    z = m.backbone(video); p = m.embed(pose) + m.joint_embed + m.time_embed; c = torch.randn(8,2,32)
    b = m.blocks[0]
    r['backbone'] = minT(lambda: m.backbone(video))
    r['deform'] = minT(lambda: b.deform(c, z), 40)
    r['joint'] = minT(lambda: b.joint(c, p), 40)
    r['temporal'] = minT(lambda: b.temporal(c, p), 40)
    r['forward'] = minT(lambda: m(pose, video))
m.train()
zg = z.detach().requires_grad_()
r['backbone_fb'] = minT(lambda: m.backbone(video).sum().backward())
def dfb():
    cc, zz = b.deform(c, zg); (cc.sum() + zz.sum()).backward()
r['deform_fb'] = minT(dfb, 40)
r['step'] = minT(fns['step'])
print(json.dumps(r))
`);
console.log(`threads ${torch.getNumThreads()}; min ms, ours / PyTorch / ratio`);
for (const k of Object.keys(ours)) console.log(`${k.padEnd(12)} ${ours[k]!.toFixed(2).padStart(8)} ${py[k]!.toFixed(2).padStart(8)}  ${(ours[k]! / py[k]!).toFixed(2)}`);
