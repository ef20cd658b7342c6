// Data parallelism on this machine: a nowcast-S train epoch (SIANet-S, the nowcast bench's model;
// 8 steps of a global batch of 4) as 2 processes × 1 thread (gloo all-reduce over 127.0.0.1) against
// 1 process × 2 threads, the same global batch. Rounds alternate the two set-ups; the row is the
// median step time of each (first step of a run dropped), with the range over rounds, and the share
// of the 2-process step spent in the gradient all-reduce (and buffer broadcast).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { launch } from '../src/core/distributed/launch.ts';
import { median, type BenchHelper } from './helper.ts';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'distributed-worker.ts');
const STEPS = 8, GLOBAL = 4, ROUNDS = 2;

interface RankOut { stepMs: number[]; reduceMs: number[]; gradBytes: number; params: number }

async function runOnce(nproc: number, threads: number): Promise<RankOut[]> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-dist-'));
  const env = { PAPERLAB_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) };
  const args = ['--import', 'tsx', WORKER, out, String(STEPS), String(GLOBAL)];
  const r = await launch({ nproc, command: process.execPath, args, env, rank0Stdio: 'inherit' });
  if (r.code !== 0) throw new Error(`distributed bench: ${nproc} process(es) exited with ${r.codes.join(', ')}`);
  const res = Array.from({ length: nproc }, (_, k) => JSON.parse(fs.readFileSync(path.join(out, `rank${k}.json`), 'utf8')) as RankOut);
  fs.rmSync(out, { recursive: true, force: true });
  return res;
}

export default async function (h: BenchHelper): Promise<void> {
  const two: number[] = [], one: number[] = [], share: number[] = [];
  let bytes = 0, params = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const d = await runOnce(2, 1);
    // a step ends when the slower rank's all-reduce returns: the step time is the ranks' max
    const steps = d[0]!.stepMs.map((_, i) => Math.max(...d.map((r) => r.stepMs[i]!))).slice(1);
    two.push(median(steps));
    share.push(median(d[0]!.reduceMs.slice(1).map((m, i) => m / d[0]!.stepMs[i + 1]!)));
    bytes = d[0]!.gradBytes; params = d[0]!.params;
    one.push(median((await runOnce(1, 2))[0]!.stepMs.slice(1)));
  }
  const range = (xs: number[]) => `${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms`;
  h.record({
    name: 'distributed: nowcast-S train step, 2 proc × 1 thread vs 1 × 2',
    paperlabMs: median(two),
    referenceMs: median(one),
    reference: 'paperlab, 1 process × 2 threads, same global batch',
    note: `SIANet-S (${params} params, ${(bytes / 2 ** 20).toFixed(2)} MiB of gradients a step), global batch ${GLOBAL}, ${STEPS} steps × ${ROUNDS} rounds; `
      + `2×1: ${range(two)}, 1×2: ${range(one)}; all-reduce + buffer broadcast ${(100 * median(share)).toFixed(1)} % of the 2-process step `
      + `(rounds ${share.map((s) => (100 * s).toFixed(1)).join(', ')} %); gloo over 127.0.0.1`,
  });
}
