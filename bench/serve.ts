// Our side of BenchHelper.interleave, in a child process like the reference's (bench/refserver.py):
// `node bin/run-ts.js bench/serve.ts <bench module file> <json cfg>` imports the module's `serve`,
// prints its hello object as one JSON line, then answers each stdin line `<name> <reps>` by running
// fns[name] reps times and printing a JSON list of the milliseconds of each run. An empty line or
// end of input stops it.
import readline from 'node:readline';
import { pathToFileURL } from 'node:url';
import * as torch from '../src/core/torch/index.ts';

export interface Served { hello: object; fns: Record<string, () => unknown> }

const [file, cfg] = process.argv.slice(2);
if (!file || !cfg) { console.error('usage: bench/serve.ts <bench module file> <json cfg>'); process.exit(2); }
const mod = (await import(pathToFileURL(file).href)) as { serve?: (cfg: unknown) => Served | Promise<Served> };
// The GPU bench (scripts/gpu/bench.ts) runs the same workloads on CUDA: made there, and each timed
// call waits for its kernels.
const device = process.env.PAPERLAB_BENCH_DEVICE;
if (device) torch.setDefaultDevice(device);
const sync = device?.startsWith('cuda') ? () => torch.cuda.synchronize() : null;
// Start the OpenMP pool before the parent pins this main thread after the hello line (helper.ts,
// BENCH_CPU): workers made later would inherit the pinned mask.
torch.scope(() => torch.ones([1 << 22]).add_(1).sum().item());
if (!mod.serve) { console.error(`${file} exports no serve(cfg)`); process.exit(2); }
const { hello, fns } = await mod.serve(JSON.parse(cfg));
process.stdout.write(JSON.stringify(hello) + '\n');
for await (const line of readline.createInterface({ input: process.stdin })) {
  if (!line.trim()) break;
  const [name, reps] = line.trim().split(/\s+/);
  const fn = fns[name!];
  if (!fn) { console.error(`serve: unknown workload '${name}'`); process.exit(2); }
  const ts: number[] = [];
  for (let i = 0; i < Number(reps); i++) { const s = performance.now(); fn(); sync?.(); ts.push(performance.now() - s); }
  process.stdout.write(JSON.stringify(ts) + '\n');
}
process.exit(0);
