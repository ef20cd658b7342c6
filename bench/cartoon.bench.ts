// cartoon: one CARTOONER stage-1 training step (HSV augmentation with L-caching, Lab conversion,
// G forward over five level groups, critic update with five heads and spectral norm, generator
// update with adversarial + content + TV + colour + paired losses, Adam) — paperlab vs the same
// model and step written in PyTorch, in the same run. Also one inference pass.
import * as torch from '../src/core/torch/index.ts';
import type { BenchHelper } from './helper.ts';
import { CartoonTrainer, DEFAULT_TRAIN } from '../src/modules/cartoon/train.ts';
import { Rng } from '../src/core/rng.ts';

const C = 32, B = 10, S = 64;

const PY = `
import math
import torch.nn as nn
import torch.nn.functional as F
torch.manual_seed(0)
C, B, S = ${C}, ${B}, ${S}
M = torch.tensor([[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.072175], [0.0193339, 0.119192, 0.9503041]])
WHITE = torch.tensor([0.95047, 1.0, 1.08883]).view(1, 3, 1, 1)
D3 = (6 / 29) ** 3
def rgb2lab(x):
    lin = torch.where(x <= 0.04045, x / 12.92, ((x.clamp(min=0.04045) + 0.055) / 1.055) ** 2.4)
    xyz = torch.einsum('ij,njhw->nihw', M, lin) / WHITE
    f = torch.where(xyz > D3, xyz.clamp(min=D3) ** (1 / 3), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return torch.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], 1)
def rgb2hsv(x):
    r, g, b = x[:, 0], x[:, 1], x[:, 2]
    v = torch.maximum(torch.maximum(r, g), b); mn = torch.minimum(torch.minimum(r, g), b); d = v - mn
    ds = torch.where(d == 0, torch.ones_like(d), d)
    h = torch.where(v == r, ((g - b) / ds).remainder(6), torch.where(v == g, (b - r) / ds + 2, (r - g) / ds + 4)) / 6
    h = torch.where(d == 0, torch.zeros_like(h), h); h = torch.where(h >= 1, h - 1, h)
    s = torch.where(v == 0, torch.zeros_like(v), d / torch.where(v == 0, torch.ones_like(v), v))
    return torch.stack([h, s, v], 1)
def hsv2rgb(x):
    h, s, v = x[:, 0], x[:, 1], x[:, 2]
    h6 = h.remainder(1) * 6; i = h6.floor(); f = h6 - i
    p = v * (1 - s); q = v * (1 - f * s); t = v * (1 - (1 - f) * s)
    def pick(vals):
        out = vals[5]
        for k in range(4, -1, -1): out = torch.where(i == k, vals[k], out)
        return out
    return torch.stack([pick([v, q, p, p, t, v]), pick([t, v, v, q, p, p]), pick([p, p, t, v, v, q])], 1)
def perturb(x, hue, sat, val):
    hsv = rgb2hsv(x)
    return hsv2rgb(torch.stack([(hsv[:, 0] + hue / 360).remainder(1), (hsv[:, 1] * sat).clamp(0, 1), (hsv[:, 2] * val).clamp(0, 1)], 1))
def conv(i, o, k, **kw): return nn.Conv2d(i, o, k, padding=k // 2, **kw)
class Res(nn.Module):
    def __init__(s, c): super().__init__(); s.c1 = conv(c, c, 3); s.c2 = conv(c, c, 3)
    def forward(s, x): return x + s.c2(F.leaky_relu(s.c1(x), 0.2))
class G(nn.Module):
    def __init__(s):
        super().__init__()
        s.e1 = conv(3, C // 2, 3); s.e2 = conv(C // 2, C, 3, stride=2); s.er = nn.Sequential(Res(C), Res(C))
        s.stroke = nn.ModuleList([nn.Sequential(conv(C, C, 3), nn.LeakyReLU(0.2), conv(C, C, 3)) for _ in range(5)])
        s.abstr = nn.ModuleList([nn.Sequential(conv(C, C, k, groups=C), conv(C, C, 1)) for k in (3, 7, 11, 15, 19)])
        s.tr = nn.Sequential(Res(C), Res(C)); s.t1 = conv(C, C // 2, 3); s.t2 = conv(C // 2, 1, 3)
        s.cin = conv(C + 2, C, 3); s.cr = nn.Sequential(Res(C), Res(C)); s.cout = conv(C + 2, 2, 3)
    def unit(s, branches, f, a):
        a = min(5, max(1, a)); i = math.floor(a); j = min(i + 1, 5); w = a - i
        gi = branches[i - 1](f)
        return gi if w == 0 or i == j else gi * (1 - w) + branches[j - 1](f) * w
    def forward(s, photo, cmap, levels):
        lab = rgb2lab(photo); x = torch.stack([lab[:, 0] / 50 - 1, lab[:, 1] / 110, lab[:, 2] / 110], 1)
        f = s.er(F.leaky_relu(s.e2(F.leaky_relu(s.e1(x), 0.2)), 0.2))
        u = torch.cat([fg + s.unit(s.stroke, fg, a) for fg, a in zip(f.chunk(len(levels)), levels)])
        L = (s.t2(F.leaky_relu(s.t1(F.interpolate(s.tr(u), size=(S, S), mode='bilinear')), 0.2)).tanh() + 1) * 50
        mab = rgb2lab(cmap)[:, 1:] / 110
        h = F.leaky_relu(s.cin(torch.cat([f, F.adaptive_avg_pool2d(mab, f.shape[2:])], 1)), 0.2)
        h = F.interpolate(s.cr(h), size=(S, S), mode='bilinear')
        return L, s.cout(torch.cat([h, mab], 1)).tanh() * 110
SN = nn.utils.spectral_norm
class D(nn.Module):
    def __init__(s):
        super().__init__()
        s.c1 = SN(nn.Conv2d(1, 32, 4, 2, 1)); s.c2 = SN(nn.Conv2d(32, 64, 4, 2, 1)); s.c3 = SN(nn.Conv2d(64, 64, 3, 1, 1))
        s.heads = nn.ModuleList([SN(nn.Conv2d(64, 1, 3, 1, 1)) for _ in range(5)])
    def forward(s, L, k):
        x = L / 50 - 1
        return s.heads[k - 1](F.leaky_relu(s.c3(F.leaky_relu(s.c2(F.leaky_relu(s.c1(x), 0.2)), 0.2)), 0.2))
g = torch.Generator().manual_seed(1234)
CW = [torch.randn(16, 1, 3, 3, generator=g) * math.sqrt(2 / 9), torch.randn(32, 16, 3, 3, generator=g) * math.sqrt(2 / 144), torch.randn(32, 32, 3, 3, generator=g) * math.sqrt(2 / 288)]
def content(L):
    h = F.relu(F.conv2d(L / 50 - 1, CW[0], padding=1)); h = F.relu(F.conv2d(h, CW[1], padding=1, stride=2))
    return F.relu(F.conv2d(h, CW[2], padding=1))
gen, dis = G(), D()
stage1 = [p for n, p in gen.named_parameters() if not n.startswith('abstr')]
optG = torch.optim.Adam(stage1, lr=5e-4, betas=(0.5, 0.99)); optD = torch.optim.Adam(dis.parameters(), lr=5e-4, betas=(0.5, 0.99))
photo, cmap, real, paired = torch.rand(B, 3, S, S), torch.rand(B, 3, S, S), torch.rand(B, 3, S, S), torch.rand(B, 3, S, S)
levels = [3, 1, 5, 2, 4]
hue = torch.rand(B, 1, 1) * 360 - 180; sat = torch.rand(B, 1, 1) + 0.5; val = torch.rand(B, 1, 1) * 0.4 + 0.8
def step():
    with torch.no_grad():
        map_aug = perturb(cmap, hue, sat, val)
        target_ab = rgb2lab(perturb(photo, hue, sat, val))[:, 1:]
        photoL = rgb2lab(photo)[:, :1]; realL = rgb2lab(real)[:, :1]; pairedL = rgb2lab(paired)[:, :1]
    L, ab = gen(photo, map_aug, levels)
    optD.zero_grad()
    dl = sum(((dis(r, k) - 1) ** 2).mean() + (dis(f.detach(), k) ** 2).mean() for r, f, k in zip(realL.chunk(5), L.chunk(5), levels)) / 5
    dl.backward(); optD.step()
    optG.zero_grad()
    adv = sum(((dis(f, k) - 1) ** 2).mean() for f, k in zip(L.chunk(5), levels)) / 5
    with torch.no_grad(): cp = content(photoL)
    cont = F.l1_loss(content(L), cp)
    x = L / 100; tv = ((x[:, :, 1:] - x[:, :, :-1]) ** 2).mean() + ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).mean()
    total = adv + 2 * cont + 1e-4 * tv + F.l1_loss(ab / 110, target_ab / 110) + 20 * F.l1_loss(L / 100, pairedL / 100)
    total.backward(); optG.step()
def infer():
    with torch.no_grad(): gen(photo, cmap, [2.5])
print(json.dumps({'step': bench(step, 2, 6), 'infer': bench(infer, 2, 10)}))
`;

export default async function (h: BenchHelper): Promise<void> {
  if (!h.hasPythonTorch()) { process.stdout.write('cartoon: reference python has no torch; skipped\n'); return; }
  const py = h.python(PY);
  torch.manualSeed(0);
  const tr = new CartoonTrainer({ ...DEFAULT_TRAIN, batch: B, model: { channels: C } });
  const batch = {
    photo: torch.rand([B, 3, S, S]).keep(), map: torch.rand([B, 3, S, S]).keep(),
    real: torch.rand([B, 3, S, S]).keep(), paired: torch.rand([B, 3, S, S]).keep(),
  };
  const lvs = [3, 1, 5, 2, 4].map((k) => ({ level: k, ks: k, ka: 1 }));
  const rng = new Rng(1);
  const step = await h.timeIt(() => { tr.trainStep(batch, rng, lvs, 1); }, { warmup: 2, reps: 6 });
  h.record({ name: `cartoon: train step stage 1 (B=${B}, ${S}px, C=${C})`, paperlabMs: step, referenceMs: py.step!, note: 'HSV aug + Lab + G/D fwd+bwd + Adam, 5 level groups' });
  tr.G.eval();
  const infer = await h.timeIt(() => torch.noGrad(() => torch.scope(() => { tr.G.forward(batch.photo, batch.map, 2.5, 1); })), { warmup: 2, reps: 10 });
  h.record({ name: `cartoon: inference (B=${B}, ${S}px, C=${C}, α_s=2.5)`, paperlabMs: infer, referenceMs: py.infer!, note: 'encoder + controller (two branches) + both decoders' });
  torch.dispose(batch);
  tr.dispose();
}
