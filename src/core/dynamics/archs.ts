// The convolutional architectures of Cohen et al.'s edge-of-stability code (locuslab/edge-of-stability,
// src/archs.py, src/vgg.py, src/resnet_cifar.py) as flat-θ models (float64). Parameter blocks carry
// the names of the reference's PyTorch state_dict ('0.weight', 'features.4.bias',
// 'layer2.0.bn1.weight', …), so a checkpoint saved from the reference loads by name.
//  - cnn-<act>, cnn-avgpool-<act>, cnn-bn-<act>: two 3×3 conv layers of 32 channels (padding 1, with
//    bias), each followed by the activation, [BatchNorm2d,] and 2×2 max (or average) pooling, then a
//    linear head;
//  - vgg11, vgg11-bn: VGG configuration A without dropout (conv3×3 [BN] ReLU, 5 max-pools; classifier
//    512-512-classes), conv weights N(0, 2/(9·out)), zero conv bias;
//  - resnet32: the CIFAR ResNet (3 stages of 5 BasicBlocks, 16/32/64 channels) with the reference's
//    shortcut: AvgPool2d(1, stride) + BatchNorm, zero-padded to the new width (option A with BN);
//    conv weights Kaiming-normal (fan_out), the last BN of each residual branch zero-initialized.
// BatchNorm runs in training mode (batch statistics of the examples passed), as the reference's GD
// does (it never calls eval()); the reference normalizes over physical batches of 1000.
import * as torch from '../torch/index.ts';
import type { Tensor } from '../torch/index.ts';
import { ParamLayout, F64, type FlatModel } from './objective.ts';
import { activate, type Activation } from './models.ts';
import { jitterInit } from '../jitter.ts';

type P = Record<string, Tensor>;

/** Accumulates named parameter blocks and their initializers in layout order. */
class Builder {
  readonly entries: { name: string; shape: number[] }[] = [];
  private readonly inits: (() => Tensor)[] = [];
  add(name: string, shape: number[], init: () => Tensor): this {
    this.entries.push({ name, shape });
    this.inits.push(init);
    return this;
  }
  /** PyTorch's default Conv2d / Linear init: U(±1/√fan_in) for weight and bias (kaiming_uniform, a = √5). */
  defaultLayer(name: string, shape: number[], bias = true): this {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const u = (s: number[]) => () => torch.empty(s, F64).uniform_(-1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    this.add(`${name}.weight`, shape, u(shape));
    return bias ? this.add(`${name}.bias`, [shape[0]!], u([shape[0]!])) : this;
  }
  bn(name: string, c: number, weight = 1): this {
    return this.add(`${name}.weight`, [c], () => torch.full([c], weight, F64)).add(`${name}.bias`, [c], () => torch.zeros([c], F64));
  }
  model(name: string, forward: (p: P, x: Tensor) => Tensor): FlatModel {
    const layout = new ParamLayout(this.entries);
    const inits = this.inits;
    return { name, layout, forward, init: () => jitterInit(torch.scope(() => torch.cat(inits.map((f) => f().reshape(-1))))) };
  }
}

const bnTrain = (h: Tensor, p: P, name: string) => torch.F.batchNorm(h, null, null, p[`${name}.weight`]!, p[`${name}.bias`]!, true);
const asImages = (x: Tensor, shape: readonly number[]) => x.reshape(x.shape[0]!, ...shape);

/** archs.py `convnet` / `convnet_bn`: [conv3×3 → act → (BN) → pool] per width, flatten, linear. */
export function convNet(inShape: readonly [number, number, number], classes: number,
  o: { widths?: number[]; act?: Activation; pooling?: 'max' | 'average'; bn?: boolean } = {}): FlatModel {
  const widths = o.widths ?? [32, 32], act = o.act ?? 'relu', pooling = o.pooling ?? 'max', bn = o.bn ?? false;
  const b = new Builder();
  const per = bn ? 4 : 3; // modules per stage in the reference's nn.Sequential
  let size = inShape[1];
  widths.forEach((w, l) => {
    b.defaultLayer(`${per * l}`, [w, l > 0 ? widths[l - 1]! : inShape[0], 3, 3]);
    if (bn) b.bn(`${per * l + 2}`, w);
    size = Math.floor(size / 2);
  });
  const head = `${per * widths.length + 1}`; // after the Flatten
  b.defaultLayer(head, [classes, widths.at(-1)! * size * size]);
  const name = `cnn${bn ? '-bn' : ''}${pooling === 'average' ? '-avgpool' : ''}-${act}`;
  return b.model(name, (p, x) => {
    let h = asImages(x, inShape);
    widths.forEach((_, l) => {
      h = torch.F.conv2d(h, p[`${per * l}.weight`]!, p[`${per * l}.bias`]!, { padding: 1 });
      h = activate(act, h);
      if (bn) h = bnTrain(h, p, `${per * l + 2}`);
      h = pooling === 'max' ? torch.F.maxPool2d(h, 2) : torch.F.avgPool2d(h, 2);
    });
    return torch.F.linear(h.reshape(h.shape[0]!, -1), p[`${head}.weight`]!, p[`${head}.bias`]!);
  });
}

const VGG11_CFG: (number | 'M')[] = [64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'];

/** vgg.py `vgg11_nodropout` / `vgg11_nodropout_bn` (CIFAR-10 input 3×32×32). */
export function vgg11(classes: number, o: { bn?: boolean } = {}): FlatModel {
  const bn = o.bn ?? false;
  const b = new Builder();
  const plan: ({ conv: string; bn?: string } | 'M')[] = [];
  let idx = 0, inC = 3;
  for (const v of VGG11_CFG) {
    if (v === 'M') { plan.push('M'); idx += 1; continue; }
    const conv = `features.${idx}`, shape = [v, inC, 3, 3];
    b.add(`${conv}.weight`, shape, () => torch.randn(shape, F64).mul(Math.sqrt(2 / (9 * v))));
    b.add(`${conv}.bias`, [v], () => torch.zeros([v], F64));
    if (bn) b.bn(`features.${idx + 1}`, v);
    plan.push(bn ? { conv, bn: `features.${idx + 1}` } : { conv });
    idx += bn ? 3 : 2;
    inC = v;
  }
  b.defaultLayer('classifier.0', [512, 512]).defaultLayer('classifier.2', [512, 512]).defaultLayer('classifier.4', [classes, 512]);
  return b.model(bn ? 'vgg11-bn' : 'vgg11', (p, x) => {
    let h = asImages(x, [3, 32, 32]);
    for (const s of plan) {
      if (s === 'M') { h = torch.F.maxPool2d(h, 2); continue; }
      h = torch.F.conv2d(h, p[`${s.conv}.weight`]!, p[`${s.conv}.bias`]!, { padding: 1 });
      if (s.bn) h = bnTrain(h, p, s.bn);
      h = h.relu();
    }
    h = h.reshape(h.shape[0]!, -1);
    h = torch.F.linear(h, p['classifier.0.weight']!, p['classifier.0.bias']!).relu();
    h = torch.F.linear(h, p['classifier.2.weight']!, p['classifier.2.bias']!).relu();
    return torch.F.linear(h, p['classifier.4.weight']!, p['classifier.4.bias']!);
  });
}

/** resnet_cifar.py `resnet32` (blocks = 5 per stage; 3 gives resnet20). */
export function resNetCifar(classes: number, o: { blocks?: number } = {}): FlatModel {
  const nb = o.blocks ?? 5;
  const b = new Builder();
  const kaiming = (out: number, inC: number) => () => torch.randn([out, inC, 3, 3], F64).mul(Math.sqrt(2 / (out * 9)));
  b.add('conv1.weight', [16, 3, 3, 3], kaiming(16, 3)).bn('bn1', 16);
  const blocks: { name: string; stride: number; inC: number; planes: number }[] = [];
  let inC = 16;
  [16, 32, 64].forEach((planes, s) => {
    for (let k = 0; k < nb; k++) {
      const name = `layer${s + 1}.${k}`, stride = s > 0 && k === 0 ? 2 : 1;
      b.add(`${name}.conv1.weight`, [planes, inC, 3, 3], kaiming(planes, inC)).bn(`${name}.bn1`, planes);
      b.add(`${name}.conv2.weight`, [planes, planes, 3, 3], kaiming(planes, planes)).bn(`${name}.bn2`, planes, 0);
      if (stride !== 1) b.bn(`${name}.downsample.1`, inC);
      blocks.push({ name, stride, inC, planes });
      inC = planes;
    }
  });
  b.defaultLayer('fc', [classes, 64]);
  return b.model(nb === 5 ? 'resnet32' : `resnet${6 * nb + 2}`, (p, x) => {
    let h = bnTrain(torch.F.conv2d(asImages(x, [3, 32, 32]), p['conv1.weight']!, null, { padding: 1 }), p, 'bn1').relu();
    for (const k of blocks) {
      let out = bnTrain(torch.F.conv2d(h, p[`${k.name}.conv1.weight`]!, null, { padding: 1, stride: k.stride }), p, `${k.name}.bn1`).relu();
      out = bnTrain(torch.F.conv2d(out, p[`${k.name}.conv2.weight`]!, null, { padding: 1 }), p, `${k.name}.bn2`);
      let id = h;
      if (k.stride !== 1) {
        id = bnTrain(torch.F.avgPool2d(h, 1, { stride: k.stride }), p, `${k.name}.downsample.1`);
        id = torch.cat([id, torch.zerosLike(id)], 1);
      }
      h = out.add(id).relu();
    }
    h = torch.F.adaptiveAvgPool2d(h, 1).reshape(h.shape[0]!, -1);
    return torch.F.linear(h, p['fc.weight']!, p['fc.bias']!);
  });
}

export const CONV_ARCH_PATTERN = /^(cnn(-bn|-avgpool)?-(relu|elu|tanh)|vgg11(-bn)?|resnet32)$/;

/** A convolutional architecture by the reference's id, or null when `arch` is not one. */
export function convArchByName(arch: string, inShape: readonly number[], classes: number): FlatModel | null {
  if (!CONV_ARCH_PATTERN.test(arch)) return null;
  if (inShape.length !== 3) throw new Error(`arch '${arch}' needs image inputs [channels, height, width], the data has shape [${inShape}]`);
  const shape = inShape as [number, number, number];
  const cnn = /^cnn(-bn|-avgpool)?-(relu|elu|tanh)$/.exec(arch);
  if (cnn) return convNet(shape, classes, { act: cnn[2] as Activation, bn: cnn[1] === '-bn', pooling: cnn[1] === '-avgpool' ? 'average' : 'max' });
  if (shape.join('x') !== '3x32x32') throw new Error(`arch '${arch}' is the CIFAR-10 network: it needs 3×32×32 inputs, the data has ${shape.join('×')}`);
  if (arch.startsWith('vgg11')) return vgg11(classes, { bn: arch.endsWith('-bn') });
  return resNetCifar(classes);
}
