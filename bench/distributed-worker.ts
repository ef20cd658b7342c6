// One process of bench/distributed.bench.ts: trains SIANet-S (the nowcast bench's model and batch)
// for `steps` steps of a global batch `global`, as one of WORLD_SIZE ranks (or alone), and writes
// its per-step times and the all-reduce time to <out>/rank<k>.json.
// `node --import tsx bench/distributed-worker.ts <out> <steps> <global batch>`
import fs from 'node:fs';
import path from 'node:path';
import * as torch from '../src/core/torch/index.ts';
import { buildModel, weightedBce, upsample, SMALL, clipGradValue } from '../src/modules/nowcast/index.ts';
import { joinFromEnv, DistributedDataParallel, shardedDraw } from '../src/core/distributed/index.ts';
import { Rng } from '../src/core/rng.ts';

const [out, stepsArg, globalArg] = process.argv.slice(2) as [string, string, string];
const world = joinFromEnv();
const steps = Number(stepsArg), perRank = Number(globalArg) / world.worldSize;
torch.manualSeed(0);
const model = buildModel({ model: 'sianet', geometry: SMALL, inChannels: 11, startFilters: 8, depth: 4, dropout: 0.4, strHidden: 16 });
model.train();
const opt = new torch.optim.AdamW(model.parameters(), { lr: 1e-4, weightDecay: 0.1, foreach: true });
const ddp = new DistributedDataParallel(model);
const ho = SMALL.cropSize * SMALL.scale, N = 32;
const x = torch.randn([N, 11, SMALL.tIn, SMALL.inSize, SMALL.inSize]).keep();
const y = torch.rand([N, 1, SMALL.tOut, ho, ho]).lt(0.2).to('float32').keep();
const params = model.parameters();
const stepMs: number[] = [], reduceMs: number[] = [];
for (let s = 0; s < steps; s++) {
  const rng = new Rng(1000 + s);
  const idx = shardedDraw(perRank, (n) => Array.from({ length: n }, () => rng.int(0, N)));
  const before = ddp.stats.allReduceMs + ddp.stats.broadcastMs;
  const t0 = performance.now();
  torch.scope(() => {
    const ix = torch.tensor(idx, { dtype: 'int64' });
    const xb = x.indexSelect(0, ix), yb = y.indexSelect(0, ix);
    opt.zeroGrad();
    const o = model.forward(xb);
    let loss = weightedBce(o.logits, yb, null, 4);
    if (o.early) loss = loss.add(weightedBce(upsample(o.early, SMALL.scale), yb, null, 4).mul(0.2));
    loss.backward();
    ddp.syncGradients();
    clipGradValue(params, 2);
    opt.step();
  });
  stepMs.push(performance.now() - t0);
  reduceMs.push(ddp.stats.allReduceMs + ddp.stats.broadcastMs - before);
}
fs.writeFileSync(path.join(out, `rank${world.rank}.json`), JSON.stringify({
  rank: world.rank, worldSize: world.worldSize, threads: torch.getNumThreads(), stepMs, reduceMs,
  gradBytes: params.reduce((a, p) => a + p.numel * 4, 0), params: model.numParameters(),
}));
