# PyTorch reference of paperlab's `prostate` network (src/modules/prostate/model.ts), the MNet of
# Z-SSMNet block by block (spec §5), for bench/prostate.bench.ts: one training step (forward of
# the seven deep-supervised heads, 0.5·focal + 0.5·CE, backward, grad-norm clip 12, SGD Nesterov)
# at the same size. Run by the bench with `bench()` defined in its prelude.
import torch
import torch.nn as nn
import torch.nn.functional as F


class CB(nn.Module):
    def __init__(s, cin, cout, kind):
        super().__init__()
        k, p = ((1, 3, 3), (0, 1, 1)) if kind == '2d' else ((3, 3, 3), (1, 1, 1))
        s.conv1 = nn.Conv3d(cin, cout, k, padding=p)
        s.norm1 = nn.InstanceNorm3d(cout, affine=True)
        s.conv2 = nn.Conv3d(cout, cout, k, padding=p)
        s.norm2 = nn.InstanceNorm3d(cout, affine=True)

    def forward(s, x):
        x = F.leaky_relu(s.norm1(s.conv1(x)), 0.01)
        return F.leaky_relu(s.norm2(s.conv2(x)), 0.01)


def pool2d(x):
    return F.max_pool3d(x, (1, 2, 2))


def pool3d(x, min_z=8):
    return F.max_pool3d(x, (2, 2, 2) if x.shape[2] >= min_z else (1, 2, 2))


def fmu(a, b):
    return (a - b).abs()


class Down(nn.Module):
    def __init__(s, cin, cout, pool, out):
        super().__init__()
        s.pool, s.out = pool, out
        s.cb2d = CB(cin, cout, '2d') if out != '3d' else None
        s.cb3d = CB(cin, cout, '3d') if out != '2d' else None

    def forward(s, x):
        if s.pool == 'both':
            h = fmu(pool2d(x[0]), pool3d(x[1]))
        else:
            h = x if s.pool == 'none' else pool2d(x) if s.pool == '2d' else pool3d(x)
        return (s.cb2d(h) if s.cb2d else None, s.cb3d(h) if s.cb3d else None)


class Up(nn.Module):
    def __init__(s, cin, cout, out):
        super().__init__()
        s.cb2d = CB(cin, cout, '2d') if out != '3d' else None
        s.cb3d = CB(cin, cout, '3d') if out != '2d' else None

    def forward(s, x2d, skip2d, x3d, skip3d):
        size = skip2d.shape[2:]
        up = lambda t: t if t.shape[2:] == size else F.interpolate(t, size=size, mode='trilinear', align_corners=False)
        h = torch.cat([fmu(skip2d, skip3d), fmu(up(x2d), up(x3d))], 1)
        return (s.cb2d(h) if s.cb2d else None, s.cb3d(h) if s.cb3d else None)


DOWN = [('down11', -1, 0, 'none', 'both'), ('down12', 0, 1, '2d', 'both'), ('down13', 1, 2, '2d', 'both'),
        ('down14', 2, 3, '2d', 'both'), ('bottleneck1', 3, 4, '2d', '2d'),
        ('down21', 0, 1, '3d', 'both'), ('down22', 1, 2, 'both', 'both'), ('down23', 2, 3, 'both', 'both'),
        ('bottleneck2', 3, 4, 'both', 'both'), ('down31', 1, 2, '3d', 'both'), ('down32', 2, 3, 'both', 'both'),
        ('bottleneck3', 3, 4, 'both', 'both'), ('down41', 2, 3, '3d', 'both'), ('bottleneck4', 3, 4, 'both', 'both'),
        ('bottleneck5', 3, 4, '3d', '3d')]
UP = [('up41', (3, 4), 3, '3d'), ('up31', (3, 4), 3, 'both'), ('up32', (2, 3), 2, '3d'), ('up21', (3, 4), 3, 'both'),
      ('up22', (2, 3), 2, 'both'), ('up23', (1, 2), 1, '3d'), ('up11', (3, 4), 3, '2d'), ('up12', (2, 3), 2, '2d'),
      ('up13', (1, 2), 1, '2d'), ('up14', (0, 1), 0, 'both')]


class MNet(nn.Module):
    def __init__(s, cin=6, ncls=2, kn=(32, 48, 64, 80, 96)):
        super().__init__()
        for name, ci, co, pool, out in DOWN:
            setattr(s, name, Down(cin if ci < 0 else kn[ci], kn[co], pool, out))
        for name, (a, b), co, out in UP:
            setattr(s, name, Up(kn[a] + kn[b], kn[co], out))
        s.heads = nn.ModuleList([nn.Conv3d(kn[l], ncls, 1, bias=False) for l in (0, 1, 1, 2, 2, 3, 3)])

    def forward(s, x):
        d11 = s.down11(x); d12 = s.down12(d11[0]); d13 = s.down13(d12[0]); d14 = s.down14(d13[0])
        b1 = s.bottleneck1(d14[0])
        d21 = s.down21(d11[1]); d22 = s.down22([d21[0], d12[1]]); d23 = s.down23([d22[0], d13[1]])
        b2 = s.bottleneck2([d23[0], d14[1]])
        d31 = s.down31(d21[1]); d32 = s.down32([d31[0], d22[1]]); b3 = s.bottleneck3([d32[0], d23[1]])
        d41 = s.down41(d31[1]); b4 = s.bottleneck4([d41[0], d32[1]]); b5 = s.bottleneck5(d41[1])
        u41 = s.up41(b4[0], d41[0], b5[1], d41[1])
        u31 = s.up31(b3[0], d32[0], b4[1], d32[1])
        u32 = s.up32(u31[0], d31[0], u41[1], d31[1])
        u21 = s.up21(b2[0], d23[0], b3[1], d23[1])
        u22 = s.up22(u21[0], d22[0], u31[1], d22[1])
        u23 = s.up23(u22[0], d21[0], u32[1], d21[1])
        u11 = s.up11(b1[0], d14[0], b2[1], d14[1])
        u12 = s.up12(u11[0], d13[0], u21[1], d13[1])
        u13 = s.up13(u12[0], d12[0], u22[1], d12[1])
        u14 = s.up14(u13[0], d11[0], u23[1], d11[1])
        feats = [u14[0] + u14[1], u23[1], u13[0], u32[1], u12[0], u41[1], u11[0]]
        return [h(f) for h, f in zip(s.heads, feats)]


def focal(logits, t, gamma=2, smooth=1e-5):
    p = logits.softmax(1)
    oh = F.one_hot(t, logits.shape[1]).movedim(-1, 1).to(logits.dtype).clamp(smooth / (logits.shape[1] - 1), 1 - smooth)
    pt = (oh * p).sum(1) + smooth
    return (-(1 - pt) ** gamma * pt.log()).mean()


def ds_loss(outs, y):
    w = [1, .5, .5, .25, .25, .125, .125][:len(outs)]
    tot = 0
    for o, wi in zip(outs, w):
        t = y if o.shape[2:] == y.shape[1:] else F.interpolate(y[:, None].float(), size=o.shape[2:], mode='nearest')[:, 0].long()
        tot = tot + wi / sum(w) * (0.5 * focal(o, t) + 0.5 * F.cross_entropy(o, t))
    return tot


def run(B, shape, mult=1.0):
    torch.manual_seed(0)
    kn = tuple(max(1, round(w * mult)) for w in (32, 48, 64, 80, 96))
    net = MNet(kn=kn)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.99, nesterov=True, weight_decay=3e-5)
    x = torch.randn(B, 6, *shape)
    y = (torch.rand(B, *shape) > 0.9).long()

    def step():
        opt.zero_grad()
        loss = ds_loss(net(x), y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 12)
        opt.step()

    c0 = time.process_time()
    t_step = bench(step, warmup=1, reps=4)
    cpu_step = (time.process_time() - c0) * 1000 / 5  # CPU ms per call (warm-up included): robust to a loaded machine
    net.eval()
    with torch.no_grad():
        c0 = time.process_time()
        t_fwd = bench(lambda: net(x)[0].sum().item(), warmup=1, reps=4)
        cpu_fwd = (time.process_time() - c0) * 1000 / 5
    return {'step': t_step, 'forward': t_fwd, 'cpu_step': cpu_step, 'cpu_forward': cpu_fwd,
            'params': sum(p.numel() for p in net.parameters())}
