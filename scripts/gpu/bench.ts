// The GPU bench (scripts/gpu/check.sh): each deep-learning module's bench (bench/<m>.bench.ts: the
// train step, and inference where it has one), ours against the same step in the machine's PyTorch
// in the same run, both on CUDA:
//   - ours: the factories' default device is CUDA (setDefaultDevice), so the benches' models and
//     data are made there; every timed call ends with torch.cuda.synchronize() (BenchHelper.timeIt
//     and bench/serve.ts's children alike, through PAPERLAB_BENCH_DEVICE);
//   - the reference: the benches' PyTorch scripts, unchanged, with scripts/gpu/python/sitecustomize.py
//     first on PYTHONPATH (CUDA as the default device, clocks that synchronize first).
// Rows are named "GPU <name>" and say the GPU; they go to the file given (default gpu-bench.json).
// Usage: node bin/run-ts.js scripts/gpu/bench.ts [out.json] [module…]
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as torch from '../../src/core/torch/index.ts';
import { BenchHelper, type BenchFn } from '../../bench/helper.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const [outArg, ...only] = process.argv.slice(2);
const out = path.resolve(outArg ?? 'gpu-bench.json');
const MODULES = only.length ? only : ['nowcast', 'prostate', 'action', 'cartoon'];
const device = process.env.PAPERLAB_BENCH_DEVICE ?? 'cuda';

if (device.startsWith('cuda') && !torch.cuda.isAvailable()) {
  console.error('GPU bench: no CUDA device (torch.cuda.isAvailable() is false)');
  process.exit(2);
}
process.env.PAPERLAB_BENCH_DEVICE = device;
process.env.PYTHONPATH = [path.join(here, 'python'), process.env.PYTHONPATH].filter(Boolean).join(path.delimiter);
torch.setDefaultDevice(device);
const v = torch.torchVersion();
const gpu = `${v.gpu ?? device}, CUDA ${v.cudaRuntime ?? '?'} (driver ${v.cudaDriver ?? '?'}), libtorch ${v.torch}`;

/** Our timing waits for the GPU after each call (kernels run asynchronously). */
class GpuBenchHelper extends BenchHelper {
  override readonly machine = `${gpu}; node ${process.version}`;
  override readonly timeIt = async (fn: () => unknown, o: { warmup?: number; reps?: number; minMs?: number } = {}): Promise<number> => {
    const synced = async () => { await fn(); torch.cuda.synchronize(); };
    const { timeIt } = await import('../../bench/helper.ts');
    return timeIt(synced, o);
  };
  override record(r: Parameters<BenchHelper['record']>[0]) {
    return super.record({ ...r, name: `GPU ${r.name}`, reference: `PyTorch on the same GPU (${gpu})`, note: `${r.note ?? ''}; ${device}` });
  }
}

const h = new GpuBenchHelper();
console.log(`paperlab GPU bench — ${h.machine}`);
let failed = 0;
for (const m of MODULES) {
  console.log(`\n# ${m}`);
  try {
    const mod = (await import(pathToFileURL(path.join(here, '..', '..', 'bench', `${m}.bench.ts`)).href)) as { default: BenchFn };
    await mod.default(h);
  } catch (e) {
    failed++;
    console.error(`  ${m} failed: ${(e as Error).stack ?? e}`);
  }
  torch.cuda.emptyCache();
}
h.save(out);
console.log(`\n${h.rows.length} rows written to ${out}${failed ? `; ${failed} module bench(es) failed` : ''}`);
process.exitCode = failed ? 1 : 0;
