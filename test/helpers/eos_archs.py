"""The edge-of-stability reference architectures (Cohen et al., locuslab/edge-of-stability src/archs.py,
vgg.py, resnet_cifar.py) written with torch.nn, to check core/dynamics/archs.ts against PyTorch.

Usage: /usr/bin/python3 eos_archs.py ARCH CLASSES PARAMS.f64 INPUT.f64 N C H W
  PARAMS.f64: our flat θ in our layout order (float64); INPUT.f64: the images (float64, N×C×H×W).
Prints JSON: the module's named_parameters (name, shape) in order and the train-mode output.
"""
import json
import sys

import numpy as np
import torch
import torch.nn as nn

ACT = {'relu': nn.ReLU, 'elu': nn.ELU, 'tanh': nn.Tanh}


def convnet(widths, act, pooling, bn, in_shape, classes):
    mods, size = [], in_shape[1]
    for l, w in enumerate(widths):
        mods += [nn.Conv2d(widths[l - 1] if l else in_shape[0], w, kernel_size=3, padding=1, stride=1), ACT[act]()]
        if bn:
            mods.append(nn.BatchNorm2d(w))
        mods.append(nn.MaxPool2d((2, 2)) if pooling == 'max' else nn.AvgPool2d((2, 2)))
        size //= 2
    mods += [nn.Flatten(), nn.Linear(widths[-1] * size * size, classes)]
    return nn.Sequential(*mods)


class Vgg11(nn.Module):
    def __init__(self, bn, classes):
        super().__init__()
        layers, c = [], 3
        for v in [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M']:
            if v == 'M':
                layers.append(nn.MaxPool2d(2, 2))
                continue
            layers += [nn.Conv2d(c, v, 3, padding=1)] + ([nn.BatchNorm2d(v)] if bn else []) + [nn.ReLU()]
            c = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, classes))

    def forward(self, x):
        return self.classifier(self.features(x).flatten(1))


class Block(nn.Module):
    def __init__(self, cin, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = nn.Sequential(nn.AvgPool2d(1, stride=stride), nn.BatchNorm2d(cin)) if stride != 1 else None

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        idt = x
        if self.downsample is not None:
            idt = self.downsample(x)
            idt = torch.cat((idt, torch.zeros_like(idt)), 1)
        return torch.relu(out + idt)


class ResNet32(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        c, stages = 16, []
        for s, planes in enumerate([16, 32, 64]):
            blocks = []
            for k in range(5):
                blocks.append(Block(c, planes, 2 if s > 0 and k == 0 else 1))
                c = planes
            stages.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = stages
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = torch.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(nn.functional.adaptive_avg_pool2d(x, 1).flatten(1))


def build(arch, classes, in_shape):
    if arch.startswith('cnn'):
        parts = arch.split('-')
        return convnet([32, 32], parts[-1], 'average' if 'avgpool' in parts else 'max', 'bn' in parts, in_shape, classes)
    if arch.startswith('vgg11'):
        return Vgg11(arch.endswith('-bn'), classes)
    if arch == 'resnet32':
        return ResNet32(classes)
    if arch.startswith('fc-'):
        act = arch.split('-')[1]
        d = int(np.prod(in_shape))
        return nn.Sequential(nn.Flatten(), nn.Linear(d, 200), ACT[act](), nn.Linear(200, 200), ACT[act](), nn.Linear(200, classes))
    raise SystemExit('unknown arch ' + arch)


def main():
    arch, classes, pfile, xfile = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    shape = [int(s) for s in sys.argv[5:9]]
    m = build(arch, classes, shape[1:]).double()
    theta = torch.from_numpy(np.fromfile(pfile, dtype='<f8'))
    off = 0
    names = []
    with torch.no_grad():
        for name, p in m.named_parameters():
            names.append([name, list(p.shape)])
            k = p.numel()
            if off + k <= theta.numel():
                p.copy_(theta[off:off + k].view_as(p))
            off += k
    m.train()
    x = torch.from_numpy(np.fromfile(xfile, dtype='<f8')).view(*shape)
    out = m(x).detach()
    print(json.dumps({'params': names, 'total': off, 'output': out.flatten().tolist()}))


if __name__ == '__main__':
    main()
