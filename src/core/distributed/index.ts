// Data parallelism for every trainer: the world from the torchrun variables (env.ts), the
// DistributedDataParallel wrapper (ddp.ts), the sampler (sampler.ts), the local launcher
// (launch.ts) and a run's per-rank context (rank-context.ts). docs/distributed.md tells the story.
export { joinFromEnv, worldFromEnv, currentWorld, broadcastJson, anyRank, timeoutFromEnv, SINGLE, type World } from './env.ts';
export { DistributedDataParallel, type DdpOptions, type DdpStats } from './ddp.ts';
export { DistributedSampler, shardIndices, shardedDraw, shardBatch, type SamplerOptions } from './sampler.ts';
export { followerContext } from './rank-context.ts';
