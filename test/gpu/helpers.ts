// The GPU tests' device: CUDA when present (they skip otherwise). PAPERLAB_GPU_TEST_DEVICE=cpu
// runs them on the CPU instead, as a dry run of their code on a machine without a GPU (CPU against
// CPU: the comparisons then hold trivially; what it checks is that the tests themselves run).
import * as torch from '../../src/core/torch/index.ts';

export const DEV: string = process.env.PAPERLAB_GPU_TEST_DEVICE ?? 'cuda';
export const RUN: boolean = DEV === 'cuda' ? torch.cuda.isAvailable() : true;
export const SKIP: string | false = RUN ? false : 'no CUDA device (test/gpu runs on a GPU machine: scripts/gpu/check.sh)';

/** Relative difference of two tensors' values (copied to the CPU, float64): ‖a − b‖ / max(‖b‖, tiny). */
export function relDiff(a: torch.Tensor, b: torch.Tensor): number {
  return torch.noGrad(() => torch.scope(() => {
    const x = a.to({ device: 'cpu', dtype: 'float64' }), y = b.to({ device: 'cpu', dtype: 'float64' });
    return x.sub(y).norm().item() / Math.max(y.norm().item(), 1e-30);
  }));
}

/**
 * Forward and backward of the same model (same initial weights) on the CPU and on DEV: the loss and
 * every parameter's gradient, relative differences. Both copies run in eval mode (dropout off,
 * BatchNorm on its running statistics) so no random draw differs between the devices.
 */
export function compareDevices(
  build: () => torch.nn.Module, inputs: () => torch.Tensor[], loss: (m: torch.nn.Module, xs: torch.Tensor[]) => torch.Tensor,
): { loss: [number, number]; lossRel: number; worstGradRel: number; worstName: string } {
  torch.manualSeed(0);
  const cpu = build().eval();
  torch.manualSeed(0);
  const dev = build().eval().to(DEV);
  torch.manualSeed(1);
  const xs = inputs();
  const xd = xs.map((x) => x.to(DEV));
  const lc = loss(cpu, xs), ld = loss(dev, xd);
  lc.backward(); ld.backward();
  const pc = cpu.namedParameters(), pd = dev.namedParameters();
  let worst = 0, worstName = '', compared = 0;
  pc.forEach(([name, p], i) => {
    const q = pd[i]![1];
    if (!p.grad || !q.grad) return;
    compared++;
    if (q.grad.device !== (DEV === 'cuda' ? 'cuda:0' : DEV)) throw new Error(`gradient of '${name}' is on ${q.grad.device}`);
    const r = relDiff(q.grad, p.grad);
    if (r > worst) { worst = r; worstName = name; }
  });
  if (compared < pc.length / 2) throw new Error(`only ${compared} of ${pc.length} parameters got gradients on both devices`);
  const [a, b] = [lc.item(), ld.item()];
  const out = { loss: [a, b] as [number, number], lossRel: Math.abs(b - a) / Math.max(Math.abs(a), 1e-12), worstGradRel: worst, worstName };
  cpu.dispose(); dev.dispose();
  return out;
}
