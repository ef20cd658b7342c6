// Child process of test/core/blas-threads.test.ts: at the thread count given (argv[2]), runs matrix
// products on both sides of the BLAS threading policy's sizes (native/blas.cpp), forward and
// through autograd, and prints one JSON line: a digest of each result's bytes, labelled, and the
// policy's counters.
import { createHash } from 'node:crypto';
import * as torch from '../../src/core/torch/index.ts';
import { native } from '../../src/core/torch/native.ts';

torch.setNumThreads(Number(process.argv[2] ?? 2));
torch.manualSeed(3);
const parts: Record<string, string> = {};
const add = (label: string, t: torch.Tensor) => {
  const a = t.detach().contiguous().toTypedArray() as Float32Array | Float64Array;
  parts[label] = createHash('sha256').update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength)).digest('hex');
};
const n0 = native.blasStats().narrowed;
for (const dtype of ['float32', 'float64'] as const) {
  const o = { dtype };
  torch.scope(() => {
    // gemm, in multiply-adds: 32,768, 524,288 and 884,736 (small: under 2^20 per thread) and
    // 2.6 and 6 million (large); OpenBLAS alone threads every one but the first at 2 threads
    for (const [m, k, n] of [[32, 32, 32], [256, 32, 64], [96, 96, 96], [128, 128, 160], [300, 200, 100]] as const) {
      const a = torch.randn([m, k], o), b = torch.randn([k, n], o);
      const size = m * k * n < 2 ** 21 ? 'small' : 'large';
      add(`${size} ${dtype} mm ${m}x${k}x${n}`, a.matmul(b));
      add(`${size} ${dtype} mm ${m}x${k}x${n} (a col-major)`, a.t().contiguous().t().matmul(b));
      add(`${size} ${dtype} mm ${n}x${k}x${m} (transposed)`, b.t().matmul(a.t()));
    }
    // gemv: 100x784 and 256x512 small (under 512 KiB of matrix per thread), 784x784 large in float64
    for (const [m, k] of [[100, 784], [256, 512], [784, 784]] as const) {
      const a = torch.randn([m, k], o);
      const size = m * k * (dtype === 'float64' ? 8 : 4) < 2 ** 20 ? 'small' : 'large';
      add(`${size} ${dtype} mv ${m}x${k}`, a.mv(torch.randn([k], o)));
      add(`${size} ${dtype} mv ${k}x${m} (transposed)`, a.t().mv(torch.randn([m], o)));
    }
    // the engine bench's HVP: small mms in first- and second-order backward
    const W1 = torch.randn([64, 32], o).requiresGrad_(), W2 = torch.randn([1, 64], o).requiresGrad_();
    const X = torch.randn([256, 32], o), Y = torch.randn([256, 1], o);
    const loss = X.matmul(W1.t()).tanh().matmul(W2.t()).sub(Y).pow(2).mean();
    const g = torch.grad(loss, [W1, W2], { createGraph: true }) as torch.Tensor[];
    const hv = torch.grad(g[0]!.mul(W1.detach()).sum().add(g[1]!.sum()), [W1, W2]) as torch.Tensor[];
    [...g, ...hv].forEach((t, i) => add(`small ${dtype} hvp ${i}`, t));
  });
}
const s = native.blasStats();
process.stdout.write(JSON.stringify({ parts, policy: s.policy, threads: s.threads, narrowed: s.narrowed - n0 }) + '\n');
