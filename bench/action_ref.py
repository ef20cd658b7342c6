# PyTorch reference of paperlab's `action` network (src/modules/action/model/), layer by layer,
# for bench/action.bench.ts: one training step (forward, label-smoothed CE, backward, grad-norm clip,
# AdamW) and one inference forward at the same size, served for BenchHelper.interleave (refserver.py).
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(s, dim, heads):
        super().__init__()
        s.h, s.hd = heads, dim // heads
        s.wq, s.wk, s.wv, s.proj = (nn.Linear(dim, dim) for _ in range(4))

    def forward(s, xq, xkv):
        N, L, D = xq.shape
        S = xkv.shape[1]
        q = s.wq(xq).reshape(N, L, s.h, s.hd).transpose(1, 2)
        k = s.wk(xkv).reshape(N, S, s.h, s.hd).transpose(1, 2)
        v = s.wv(xkv).reshape(N, S, s.h, s.hd).transpose(1, 2)
        a = (q @ k.transpose(-2, -1)).mul(1 / math.sqrt(s.hd)).softmax(-1)
        return s.proj((a @ v).transpose(1, 2).reshape(N, L, D))


class Mlp(nn.Module):
    def __init__(s, dim, ratio):
        super().__init__()
        s.fc1, s.fc2 = nn.Linear(dim, round(dim * ratio)), nn.Linear(round(dim * ratio), dim)

    def forward(s, x):
        return s.fc2(F.gelu(s.fc1(x)))


def conv_out(n, k, st):
    return (n + 2 * (k // 2) - k) // st + 1


class Backbone(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.convs, s.norms = nn.ModuleList(), nn.ModuleList()
        cin, k = 3, c['backboneKernel']
        t, h, w = c['frames'], c['imgSize'], c['imgSize']
        for cout, st in zip(c['backboneChannels'], c['backboneStrides']):
            s.convs.append(nn.Conv3d(cin, cout, k, stride=st, padding=k // 2))
            s.norms.append(nn.BatchNorm3d(cout))
            cin = cout
            t, h, w = conv_out(t, k, st[0]), conv_out(h, k, st[1]), conv_out(w, k, st[2])
        s.to_tokens = nn.Linear(cin, c['dim'])
        s.pos = nn.Parameter(torch.randn(t, h, w, c['dim']) * 0.02)

    def forward(s, x):
        for cv, bn in zip(s.convs, s.norms):
            x = F.relu(bn(cv(x)))
        return s.to_tokens(x.permute(0, 2, 3, 4, 1)) + s.pos


class TokenSearch3D(nn.Module):
    def __init__(s, c):
        super().__init__()
        D, s.g, s.range = c['dim'], c['offsetGroups'], c['offsetRange']
        s.dw = nn.Conv3d(D, D, 3, padding=1, groups=D)
        s.pw = nn.Conv3d(D, 3 * s.g, 1)
        nn.init.zeros_(s.pw.weight); nn.init.zeros_(s.pw.bias)

    def forward(s, pooled):
        B, _, gt, gh, gw = pooled.shape
        o = torch.tanh(s.pw(F.gelu(s.dw(pooled)))) * s.range
        return o.reshape(B, s.g, 3, gt, gh, gw).permute(0, 1, 3, 4, 5, 2)


def reference_grid(g):
    ax = [(torch.arange(n, dtype=torch.float32) * 2 + 1) / n - 1 for n in g]
    t, y, x = torch.meshgrid(*ax, indexing='ij')
    return torch.stack([t, y, x], -1)


class Deformable(nn.Module):
    def __init__(s, c, grid):
        super().__init__()
        D = c['dim']
        s.grid, s.c = grid, c
        s.norm1, s.norm2 = nn.LayerNorm(D), nn.LayerNorm(D)
        s.search, s.attn, s.mlp = TokenSearch3D(c), Attention(D, c['heads']), Mlp(D, c['mlpRatio'])
        s.register_buffer('ref', reference_grid(grid))
        s.register_buffer('cell', torch.tensor([2 / g for g in grid]))

    def forward(s, c, z):
        B, T, H, W, D = z.shape
        n = T * H * W
        zn = s.norm1(z)
        vol = zn.permute(0, 4, 1, 2, 3)
        off = s.search(F.adaptive_avg_pool3d(vol, s.grid))
        pos = s.ref + off * s.cell
        g = off.shape[1]
        gt, gh, gw = s.grid
        grid = pos.flip(-1).reshape(B * g, gt, gh, gw, 3)
        samp = F.grid_sample(vol.reshape(B * g, D // g, T, H, W), grid, mode='bilinear', padding_mode='zeros', align_corners=False)
        samp = samp.reshape(B, D, gt * gh * gw).transpose(1, 2)
        cn = s.norm1(c)
        q = torch.cat([cn, zn.reshape(B, n, D)], 1)
        kv = torch.cat([cn, samp], 1)
        x = torch.cat([c, z.reshape(B, n, D)], 1) + s.attn(q, kv)
        x = x + s.mlp(s.norm2(x))
        return x[:, :2], x[:, 2:].reshape(B, T, H, W, D)


class JointStride(nn.Module):
    def __init__(s, c):
        super().__init__()
        D, J, sj = c['dim'], c['joints'], c['jointStride']
        s.norm, s.attn = nn.LayerNorm(D), Attention(D, c['heads'])
        groups = [list(range(r, J, sj)) for r in range(min(sj, J))]
        assert all(len(g) == len(groups[0]) for g in groups)
        order = [j for g in groups for j in g]
        inv = [0] * J
        for i, j in enumerate(order):
            inv[j] = i
        s.G = len(groups)
        s.register_buffer('order', torch.tensor(order))
        s.register_buffer('inv', torch.tensor(inv))

    def forward(s, c, p):
        B, T, J, D = p.shape
        G, n = s.G, J // s.G
        cp = c[:, 1:2]
        pn, cn = s.norm(p), s.norm(cp)
        pg = pn.index_select(2, s.order).reshape(B * T * G, n, D)
        cg = cn.reshape(B, 1, 1, D).expand(B, T * G, 1, D).reshape(B * T * G, 1, D)
        seq = torch.cat([cg, pg], 1)
        out = s.attn(seq, seq)
        dc = out[:, 0].reshape(B, T * G, D).sum(1) / (T * G)
        dp = out[:, 1:].reshape(B, T, G * n, D).index_select(2, s.inv)
        return torch.cat([c[:, :1], cp + dc.unsqueeze(1)], 1), p + dp


class TemporalStride(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.st = c['temporalStride']
        s.norm, s.attn = nn.LayerNorm(c['dim']), Attention(c['dim'], c['heads'])

    def forward(s, c, p):
        B, T, J, D = p.shape
        st = s.st
        frames = s.norm(p.mean(2))
        cn = s.norm(c)
        fr = frames.reshape(B, T // st, st, D).transpose(1, 2)
        seq = torch.cat([cn.unsqueeze(1).expand(B, st, 2, D).reshape(B * st, 2, D), fr.reshape(B * st, T // st, D)], 1)
        out = s.attn(seq, seq)
        dc = out[:, :2].reshape(B, st, 2, D).sum(1) / st
        df = out[:, 2:].reshape(B, st, T // st, D).transpose(1, 2).reshape(B, T, D)
        return c + dc, p + df.unsqueeze(2)


class Block(nn.Module):
    def __init__(s, c, grid):
        super().__init__()
        s.deform, s.joint, s.temporal = Deformable(c, grid), JointStride(c), TemporalStride(c)
        s.norm, s.mlp = nn.LayerNorm(c['dim']), Mlp(c['dim'], c['mlpRatio'])

    def forward(s, c, z, p):
        c, z = s.deform(c, z)
        c, p = s.joint(c, p)
        c, p = s.temporal(c, p)
        B, T, J, D = p.shape
        x = torch.cat([c, p.reshape(B, T * J, D)], 1)
        x = x + s.mlp(s.norm(x))
        return x[:, :2], z, x[:, 2:].reshape(B, T, J, D)


class CrossModalTransformer(nn.Module):
    def __init__(s, c, grid):
        super().__init__()
        D = c['dim']
        s.backbone = Backbone(c)
        s.embed = nn.Linear(c['coordDim'], D)
        s.joint_embed = nn.Parameter(torch.randn(c['joints'], D) * 0.02)
        s.time_embed = nn.Parameter(torch.randn(c['frames'], 1, D) * 0.02)
        s.c_rgb = nn.Parameter(torch.randn(1, 1, D) * 0.02)
        s.c_pose = nn.Parameter(torch.randn(1, 1, D) * 0.02)
        s.blocks = nn.ModuleList([Block(c, grid) for _ in range(c['depth'])])
        s.norm = nn.LayerNorm(D)
        s.head = nn.Linear(2 * D, c['numClasses'])

    def forward(s, pose, video):
        B = pose.shape[0]
        D = s.c_rgb.shape[-1]
        p = s.embed(pose) + s.joint_embed + s.time_embed
        z = s.backbone(video)
        c = torch.cat([s.c_rgb.expand(B, 1, D), s.c_pose.expand(B, 1, D)], 1)
        for b in s.blocks:
            c, z, p = b(c, z, p)
        c = s.norm(c)
        return s.head(c.reshape(B, 2 * D))


def make(CFG, B, grid):
    torch.manual_seed(0)
    m = CrossModalTransformer(CFG, grid)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-3, weight_decay=0.05)
    pose = torch.randn(B, CFG['frames'], CFG['joints'], CFG['coordDim'])
    video = torch.rand(B, 3, CFG['frames'], CFG['imgSize'], CFG['imgSize'])
    labels = torch.arange(B) % CFG['numClasses']

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(m(pose, video), labels, label_smoothing=0.1)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        return loss.item()

    def fwd():
        with torch.no_grad():
            m.eval(); m(pose, video); m.train()

    return m, {'step': step, 'forward': fwd}


def serve(cfg):
    """Interleaved timing: builds the net, prints its parameter count, then answers each stdin line
    `<step|forward> <reps>` with a JSON list of the milliseconds of each run."""
    import json
    from refserver import answer
    m, fns = make(cfg['model'], cfg['batch'], cfg['grid'])
    print(json.dumps({'params': sum(p.numel() for p in m.parameters()), 'threads': torch.get_num_threads()}), flush=True)
    answer(fns)
