# PyTorch reference of the nowcast module's models (organisers' 3D U-Net and SIANet with the
# factorised block, CenterCrop and STR), written independently of the TypeScript code from the
# spec, for the benchmark: same architectures, one training step (forward, masked weighted BCE
# with deep supervision, backward, clip by value, AdamW).
import torch, torch.nn as nn, torch.nn.functional as F

class Drop3d(nn.Dropout3d):
    pass

def conv(i, o, k, bias=True, dil=(1, 1, 1), groups=1):
    pad = tuple(d * (kk - 1) // 2 for kk, d in zip(k, dil))
    c = nn.Conv3d(i, o, k, padding=pad, dilation=dil, groups=groups, bias=bias)
    nn.init.xavier_normal_(c.weight)
    if c.bias is not None: nn.init.zeros_(c.bias)
    return c

class Block(nn.Module):
    def __init__(self, kind, i, o, p):
        super().__init__()
        self.kind = kind
        self.conv1 = conv(i, o, (3, 3, 3) if kind == 'plain' else (1, 3, 3)); self.bn1 = nn.BatchNorm3d(o); self.d1 = Drop3d(p)
        self.tconv = conv(o, o, (3, 1, 1)) if kind != 'plain' else None
        self.conv2 = conv(o, o, (3, 3, 3)); self.bn2 = nn.BatchNorm3d(o); self.d2 = Drop3d(p)
    def forward(self, x):
        h = F.relu(self.d1(self.bn1(self.conv1(x))))
        if self.tconv is not None: h = self.tconv(h)
        return F.relu(self.d2(self.bn2(self.conv2(h))))

class Up(nn.Module):
    def __init__(self, kind, i, o):
        super().__init__()
        self.up = nn.ConvTranspose3d(i, o, 2, stride=2); nn.init.xavier_normal_(self.up.weight); nn.init.zeros_(self.up.bias)
        self.bn = nn.BatchNorm3d(o); self.block = Block(kind, 2 * o, o, 0.0)
    def forward(self, x, skip):
        u = F.relu(self.bn(self.up(x)))
        sl = [slice(None), slice(None)] + [slice((us - ds) // 2, (us - ds) // 2 + ds) for us, ds in zip(u.shape[2:], skip.shape[2:])]
        return self.block(torch.cat([u[tuple(sl)], skip], 1))

class Body(nn.Module):
    def __init__(self, kind, cin, f, depth, p):
        super().__init__()
        self.down = nn.ModuleList([Block(kind, cin if i == 0 else f * 2 ** (i - 1), f * 2 ** i, p) for i in range(depth)])
        self.ups = nn.ModuleList([Up(kind, f * 2 ** i, f * 2 ** (i - 1)) for i in range(depth - 1, 0, -1)])
        self.drop = Drop3d(p)
    def forward(self, x):
        skips = []
        for i, b in enumerate(self.down):
            x = b(x)
            if i < len(self.down) - 1:
                skips.append(self.drop(x)); x = F.max_pool3d(x, 2, ceil_mode=True)
            else: x = self.drop(x)
        for i, u in enumerate(self.ups): x = u(x, skips[-1 - i])
        return x

class Bottleneck(nn.Module):
    def __init__(self, i, w, m):
        super().__init__()
        self.c1 = conv(i, w, (1, 1, 1), bias=False); self.b1 = nn.BatchNorm3d(w, momentum=m)
        self.c2 = conv(w, w, (3, 3, 3), bias=False); self.b2 = nn.BatchNorm3d(w, momentum=m)
        self.c3 = conv(w, 4 * w, (1, 1, 1), bias=False); self.b3 = nn.BatchNorm3d(4 * w, momentum=m)
        self.proj = nn.Sequential(conv(i, 4 * w, (1, 1, 1), bias=False), nn.BatchNorm3d(4 * w, momentum=m)) if i != 4 * w else None
    def forward(self, x):
        h = self.b3(self.c3(F.relu(self.b2(self.c2(F.relu(self.b1(self.c1(x))))))))
        return F.relu(h + (self.proj(x) if self.proj is not None else x))

class STR(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.pin = conv(1, h, (1, 1, 1)); self.dw5 = conv(h, h, (5, 5, 5), groups=h)
        self.dw7 = conv(h, h, (7, 7, 7), dil=(3, 3, 3), groups=h); self.pw = conv(h, h, (1, 1, 1)); self.pout = conv(h, 1, (1, 1, 1))
        self.c1 = conv(1, h, (3, 3, 3), bias=False); self.b1 = nn.BatchNorm3d(h, momentum=0.01)
        self.c2 = conv(h, h, (3, 3, 3), bias=False); self.b2 = nn.BatchNorm3d(h, momentum=0.01)
        self.r1 = Bottleneck(h, h // 2, 0.01); self.r2 = Bottleneck(2 * h, h // 2, 0.01)
        self.out = conv(2 * h, 1, (1, 1, 1), bias=False)
    def forward(self, y):
        u = F.gelu(self.pin(y))
        a = y + self.pout(u * self.pw(self.dw7(self.dw5(u))))
        h = F.relu(self.b1(self.c1(a))); h = F.relu(self.b2(self.c2(h)))
        return self.out(self.r2(self.r1(h)))

class Net(nn.Module):
    def __init__(self, kind, cin, f, depth, p, tin, tout, crop_start, crop, scale, str_hidden):
        super().__init__()
        self.kind = kind
        self.body = Body('plain' if kind == 'unet3d' else 'factorized', cin, f, depth, p)
        self.head = conv(f * tin, tout, (1, 1, 1))
        self.str = STR(str_hidden) if kind == 'sianet' else None
        self.cs, self.crop, self.scale = crop_start, crop, scale
    def forward(self, x):
        h = self.body(x); B, f, T, H, W = h.shape
        y = self.head(h.reshape(B, f * T, 1, H, W))
        tout = y.shape[1]
        if self.kind == 'unet3d': return y.reshape(B, 1, tout, H, W), None
        early = y[:, :, :, self.cs:self.cs + self.crop, self.cs:self.cs + self.crop].reshape(B, 1, tout, self.crop, self.crop)
        final = self.str(early)
        up = lambda z: F.interpolate(z, size=(tout, self.crop * self.scale, self.crop * self.scale), mode='trilinear', align_corners=False)
        return up(final), up(early)

def wbce(logits, y, mask, pw):
    return F.binary_cross_entropy_with_logits(logits.masked_fill(mask, 0), y.masked_fill(mask, 0), pos_weight=torch.tensor(pw))

def make_step(kind, cfg):
    """One training step of `kind` (weighted BCE + 0.2·early head, value clipping, AdamW) and its parameter count."""
    g = cfg['geometry']
    net = Net(kind, cfg['channels'], cfg['f'], cfg['depth'], cfg['dropout'], g['tIn'], g['tOut'], (g['inSize'] - g['cropSize']) // 2, g['cropSize'], g['scale'], cfg['strHidden'])
    net.train()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-4, weight_decay=0.1)
    B = cfg['batch']; ho = g['cropSize'] * g['scale']
    x = torch.randn(B, cfg['channels'], g['tIn'], g['inSize'], g['inSize'])
    y = (torch.rand(B, 1, g['tOut'], ho, ho) < 0.2).float()
    mask = torch.rand(B, 1, g['tOut'], ho, ho) < 0.005
    def step():
        opt.zero_grad(set_to_none=True)
        logits, early = net(x)
        loss = wbce(logits, y, mask, 4.0)
        if early is not None: loss = loss + 0.2 * wbce(early, y, mask, 4.0)
        loss.backward()
        torch.nn.utils.clip_grad_value_(net.parameters(), 2.0)
        opt.step()
    return step, sum(p.numel() for p in net.parameters())

def serve(cfg):
    """Interleaved timing: builds both nets, prints their parameter counts, then answers each stdin
    line `<unet3d|sianet> <reps>` with a JSON list of the milliseconds of each training step (the
    bench alternates blocks of our steps and of these, so both see the same machine load)."""
    import json
    from refserver import answer
    torch.manual_seed(0)
    steps, params = {}, {}
    for kind in ['unet3d', 'sianet']:
        steps[kind], params[kind + '_params'] = make_step(kind, cfg)
    print(json.dumps(params), flush=True)
    answer(steps)
