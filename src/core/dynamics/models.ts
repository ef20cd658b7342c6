// The reference architectures of Cohen et al. (locuslab/edge-of-stability archs.py) as flat-θ
// models: fully connected nets with a choice of activation, the `regression` net for the
// Chebyshev task, the 20-layer `deeplinear` net. All float64.
import * as torch from '../torch/index.ts';
import type { Tensor } from '../torch/index.ts';
import { ParamLayout, F64, type FlatModel } from './objective.ts';
import { jitterInit } from '../jitter.ts';
import { convArchByName } from './archs.ts';

export type Activation = 'relu' | 'elu' | 'tanh' | 'hardtanh' | 'softplus' | 'identity';

export function activate(name: Activation, x: Tensor): Tensor {
  switch (name) {
    case 'relu': return x.relu();
    case 'elu': return x.elu();
    case 'tanh': return x.tanh();
    case 'hardtanh': return x.clamp(-1, 1);
    case 'softplus': return x.softplus();
    case 'identity': return x;
    default: throw new Error(`unknown activation '${name as string}' (relu, elu, tanh, hardtanh, softplus, identity)`);
  }
}

/** PyTorch's nn.Linear default init: weights U(±√(1/fan_in)) (kaiming_uniform a=√5), bias U(±1/√fan_in). */
function linearDefault(outF: number, inF: number, bias: boolean): Tensor[] {
  const bound = 1 / Math.sqrt(inF);
  const w = torch.empty([outF, inF], F64).uniform_(-bound, bound);
  return bias ? [w, torch.empty([outF], F64).uniform_(-bound, bound)] : [w];
}

/**
 * Fully connected net: `widths` = [in, hidden..., out], activation after every hidden layer, with
 * biases (reference `fc-<act>`: 2 hidden layers of width 200). PyTorch default init.
 */
export function fcNet(widths: readonly number[], act: Activation, o: { bias?: boolean } = {}): FlatModel {
  if (widths.length < 2) throw new Error('fcNet: widths needs at least [in, out]');
  const bias = o.bias ?? true;
  const entries: { name: string; shape: number[] }[] = [];
  for (let i = 0; i + 1 < widths.length; i++) {
    entries.push({ name: `W${i}`, shape: [widths[i + 1]!, widths[i]!] });
    if (bias) entries.push({ name: `b${i}`, shape: [widths[i + 1]!] });
  }
  const layout = new ParamLayout(entries);
  const L = widths.length - 1;
  // the reference's nn.Sequential(Flatten, Linear, act, …, Linear): Linear i is module 2i + 1
  const stateNames = Object.fromEntries(entries.map((e) => [e.name, `${2 * Number(e.name.slice(1)) + 1}.${e.name[0] === 'W' ? 'weight' : 'bias'}`]));
  return {
    name: `fc-${act}-${widths.slice(1, -1).join('x') || 'linear'}`,
    layout,
    stateNames,
    forward(p, x) {
      let h = x.reshape(x.shape[0]!, -1);
      for (let i = 0; i < L; i++) {
        h = torch.F.linear(h, p[`W${i}`]!, bias ? p[`b${i}`]! : null);
        if (i + 1 < L) h = activate(act, h);
      }
      return h;
    },
    init() {
      return jitterInit(torch.scope(() => {
        const parts: Tensor[] = [];
        for (let i = 0; i < L; i++) parts.push(...linearDefault(widths[i + 1]!, widths[i]!, bias));
        return torch.cat(parts.map((t) => t.reshape(-1)));
      }));
    },
  };
}

/**
 * The reference `regression` net for chebyshev-k-20: scalar → `width` tanh units → scalar. The
 * hidden layer has Xavier-normal weights with gain 1.9 and zero bias; the output layer is
 * bias-free with Xavier-normal init (gain 1).
 */
export function regressionNet(width = 100, o: { gain?: number } = {}): FlatModel {
  const gain = o.gain ?? 1.9;
  const layout = new ParamLayout([
    { name: 'W0', shape: [width, 1] }, { name: 'b0', shape: [width] }, { name: 'W1', shape: [1, width] },
  ]);
  return {
    name: `regression-${width}`,
    layout,
    forward(p, x) {
      const h = torch.F.linear(x.reshape(x.shape[0]!, 1), p.W0!, p.b0!).tanh();
      return torch.F.linear(h, p.W1!);
    },
    init() {
      return jitterInit(torch.scope(() => torch.cat([
        torch.randn([width], F64).mul(gain * Math.sqrt(2 / (1 + width))),
        torch.zeros([width], F64),
        torch.randn([width], F64).mul(Math.sqrt(2 / (width + 1))),
      ])));
    },
  };
}

/** The reference `deeplinear`: `depth` bias-free width×width linear layers, Xavier-normal init. */
export function deepLinearNet(depth = 20, width = 50): FlatModel {
  const layout = new ParamLayout(Array.from({ length: depth }, (_, i) => ({ name: `W${i}`, shape: [width, width] })));
  return {
    name: `deeplinear-${depth}x${width}`,
    layout,
    forward(p, x) {
      let h = x;
      for (let i = 0; i < depth; i++) h = torch.F.linear(h, p[`W${i}`]!);
      return h;
    },
    init() {
      return jitterInit(torch.scope(() => torch.randn([depth * width * width], F64).mul(Math.sqrt(2 / (width + width)))));
    },
  };
}

/**
 * Model by the reference's arch id: fc-<act>, fc-<act>-depth<k>, regression, deeplinear, and the
 * convolutional ones of archs.ts (cnn-…, vgg11[-bn], resnet32), which need `inputShape` [C, H, W].
 */
export function modelByName(arch: string, inputDim: number, outputDim: number, inputShape?: readonly number[]): FlatModel {
  const conv = convArchByName(arch, inputShape ?? (inputDim === 3072 ? [3, 32, 32] : [inputDim]), outputDim);
  if (conv) return conv;
  if (arch === 'regression') {
    if (inputDim !== 1 || outputDim !== 1) throw new Error(`arch 'regression' needs scalar input and output, the data has ${inputDim} → ${outputDim}`);
    return regressionNet();
  }
  if (arch === 'deeplinear') {
    if (inputDim !== outputDim) throw new Error(`arch 'deeplinear' needs input dim = output dim, got ${inputDim} → ${outputDim}`);
    return deepLinearNet(20, inputDim);
  }
  const m = /^fc-(relu|elu|tanh|hardtanh|softplus)(?:-depth(\d+))?(?:-w(\d+))?$/.exec(arch);
  if (m) {
    const depth = m[2] ? Number(m[2]) : 2;
    const width = m[3] ? Number(m[3]) : 200;
    return fcNet([inputDim, ...Array(depth).fill(width), outputDim], m[1] as Activation);
  }
  throw new Error(`unknown arch '${arch}' (regression, deeplinear, fc-{relu,elu,tanh,hardtanh,softplus}[-depthK][-wW], `
    + 'cnn[-bn|-avgpool]-{relu,elu,tanh}, vgg11[-bn], resnet32)');
}
