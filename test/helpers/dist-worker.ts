// One rank of the data-parallel tests (test/core/distributed.test.ts), started by the core launcher
// with the torchrun variables set: `node --import tsx test/helpers/dist-worker.ts <scenario> <out> [args]`.
// Each rank writes what it saw to <out>/rank<k>.json (and rank 0 the trained weights to
// <out>/weights.safetensors) for the test to check.
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../../src/core/torch/index.ts';
import { joinFromEnv, DistributedDataParallel } from '../../src/core/distributed/index.ts';
import { followerContext } from '../../src/core/distributed/rank-context.ts';
import { saveSafetensors } from '../../src/core/torch/serialize.ts';
import { fakeContext } from './context.ts';
import { nowcastData, nowcastOptions, prostateSetup, PROSTATE_TRAIN } from './dist-configs.ts';
import { train } from '../../src/modules/nowcast/train.ts';
import { trainDetector } from '../../src/modules/prostate/train.ts';
import { MNet } from '../../src/modules/prostate/model.ts';
import type { RunContext } from '../../src/core/context.ts';

const [scenario, out, arg] = process.argv.slice(2) as [string, string, string | undefined];
const world = joinFromEnv();
const report = (v: Record<string, unknown>) => fs.writeFileSync(path.join(out, `rank${world.rank}.json`), JSON.stringify({ rank: world.rank, worldSize: world.worldSize, ...v }));
const weights = (m: torch.nn.Module) => { if (world.isMain) saveSafetensors(path.join(out, 'weights.safetensors'), m.stateDict()); };

/** A run context for this rank over `dir`: rank 0's writes, the others' follow (as the runner makes them). */
function rankContext(dir: string, resuming: boolean, abortAtStep?: number): RunContext {
  const ac = new AbortController();
  const ctx: RunContext = world.isMain ? fakeContext({ dir, resuming, signal: ac.signal }) : followerContext({ id: 'test', seed: 0, dir }, { rank: world.rank, resuming, signal: ac.signal });
  if (abortAtStep !== undefined) {
    // every rank stops before the same step, as a Ctrl-C forwarded by the launcher between steps would
    const log = ctx.metrics.log.bind(ctx.metrics);
    ctx.metrics.log = (row, name) => { log(row, name); if (name === 'train' && row.step === abortAtStep) ac.abort(); };
  }
  return ctx;
}

async function main(): Promise<void> {
  if (scenario === 'collectives') {
    const r = world.rank;
    // known values: rank r holds r + 1 and 2^-r (exact in binary), and its rank as int64
    const a = torch.tensor([r + 1, 2 ** -r, -3 * r], { dtype: 'float64' });
    const b = torch.tensor([r], { dtype: 'int64' });
    const c = torch.tensor([[r, 10 * r]], { dtype: 'float32' });
    torch.dist.allReduce([a, c], 'sum');
    const avg = torch.tensor([2 * r + 1], { dtype: 'float32' });
    torch.dist.allReduce(avg, 'avg');
    const bc = torch.tensor([r + 7, r + 8], { dtype: 'float32' });
    torch.dist.broadcast(bc, 1);
    const gathered = torch.dist.allGather(b).map((t) => Number(t.item()));
    torch.dist.barrier();
    const values = (t: torch.Tensor) => Array.from(t.data() as Float32Array | Float64Array);
    report({ sum: values(a), sum2: values(c), avg: values(avg), broadcast: values(bc), gathered, ddp: ddpScenario() });
    return;
  }
  if (scenario === 'exit-early' || scenario === 'hang') {
    if (world.rank === 1) {
      if (scenario === 'exit-early') process.exit(3);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000); // alive but never joins the collective
      process.exit(0);
    }
    const t0 = Date.now();
    try {
      torch.dist.allReduce(torch.ones([4]), 'sum');
      report({ ok: true, ms: Date.now() - t0 });
    } catch (e) {
      report({ ok: false, ms: Date.now() - t0, name: (e as Error).name, message: (e as Error).message });
      process.exit(1);
    }
    return;
  }
  if (scenario === 'nowcast') {
    // arg: "<steps>" or "<steps>:interrupt:<step>" / "<steps>:resume", with a run folder in <out>/run
    const [steps, mode, at] = (arg ?? '20').split(':');
    const data = nowcastData();
    const o = { ...nowcastOptions(Number(steps), 2), checkpointEvery: 5 };
    const dir = path.join(out, 'run');
    const ctx = mode ? rankContext(dir, mode === 'resume', mode === 'interrupt' ? Number(at) : undefined) : undefined;
    try {
      const r = train(o, data, null, ctx);
      weights(r.model);
      report({ losses: r.losses, resumedFrom: r.resumedFrom });
    } catch (e) {
      report({ error: (e as Error).message });
    }
    return;
  }
  if (scenario === 'prostate') {
    const { cases, cfg } = prostateSetup();
    torch.manualSeed(1 + world.rank * 1000); // different inits per rank: DDP must start every rank from rank 0's
    const net = new MNet(cfg);
    const r = await trainDetector(net, cases, { ...PROSTATE_TRAIN, batch: 1 }, fakeContextFor(out));
    weights(net);
    report({ losses: r.losses });
    return;
  }
  throw new Error(`unknown scenario ${scenario}`);
}

/**
 * DDP on a small model initialised differently per rank: after construction every rank has rank 0's
 * weights; two backward passes inside noSync() accumulate locally (ranks differ); syncGradients()
 * then gives every rank the mean of the accumulated gradients, one tiny bucket per parameter.
 */
function ddpScenario(): Record<string, number[]> {
  torch.manualSeed(100 + world.rank);
  const model = new torch.nn.Linear(3, 2, true, { dtype: 'float64' });
  const ddp = new DistributedDataParallel(model, { bucketCapMb: 1e-5 });
  const flat = () => model.parameters().flatMap((p) => Array.from(p.data() as Float64Array));
  const grads = () => model.parameters().flatMap((p) => Array.from(p.grad!.data() as Float64Array));
  const weights = flat();
  ddp.noSync(() => {
    for (let k = 0; k < 2; k++) {
      torch.scope(() => {
        const x = torch.tensor([[world.rank + 1, k, -1]], { dtype: 'float64' });
        model.forward(x).square().sum().backward();
      });
      ddp.syncGradients(); // inside noSync: nothing
    }
  });
  const local = grads();
  ddp.syncGradients();
  return { weights, local, synced: grads(), buckets: [ddp.buckets.length] };
}

function fakeContextFor(out: string): RunContext {
  const dir = path.join(out, `ctx${world.rank}`);
  return world.isMain ? fakeContext({ dir }) : followerContext({ id: 'test', seed: 0, dir }, { rank: world.rank, resuming: false, signal: new AbortController().signal });
}

main().catch((e) => { process.stderr.write(`rank ${world.rank}: ${(e as Error).stack}\n`); process.exit(1); });
