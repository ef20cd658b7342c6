// Where this process stands in a data-parallel run: the torchrun variables (RANK, WORLD_SIZE,
// LOCAL_RANK, MASTER_ADDR, MASTER_PORT), read once, and the process group joined from them.
// Whoever started the process — `paperlab … --nproc N` (launch.ts), torchrun, a cluster
// scheduler or a shell on each machine — only has to set those variables.
import { UsageError } from '../errors.ts';
import * as dist from '../torch/distributed.ts';
import * as torch from '../torch/tensor.ts';

export interface World {
  rank: number;
  worldSize: number;
  /** rank among the processes of this machine (LOCAL_RANK) */
  localRank: number;
  /** rank 0: owns the run folder, metrics, checkpoints and progress */
  isMain: boolean;
}

export const SINGLE: World = { rank: 0, worldSize: 1, localRank: 0, isMain: true };

/** The collectives' timeout: PAPERLAB_DIST_TIMEOUT seconds (default 1800, torch's 30 min). */
export function timeoutFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const s = env.PAPERLAB_DIST_TIMEOUT;
  if (s === undefined || s === '') return 1800_000;
  const v = Number(s);
  if (!(v > 0)) throw new UsageError(`PAPERLAB_DIST_TIMEOUT must be a positive number of seconds, got '${s}'`);
  return Math.round(v * 1000);
}

function intVar(env: NodeJS.ProcessEnv, name: string, dflt?: number): number {
  const s = env[name];
  if (s === undefined || s === '') {
    if (dflt !== undefined) return dflt;
    throw new UsageError(`distributed run: ${name} is not set (WORLD_SIZE > 1 needs RANK, MASTER_ADDR and MASTER_PORT too)`);
  }
  const v = Number(s);
  if (!Number.isInteger(v) || v < 0) throw new UsageError(`distributed run: ${name} must be a non-negative integer, got '${s}'`);
  return v;
}

/** The world the environment describes (WORLD_SIZE unset or 1: a single process). */
export function worldFromEnv(env: NodeJS.ProcessEnv = process.env): World {
  const worldSize = intVar(env, 'WORLD_SIZE', 1);
  if (worldSize <= 1) return SINGLE;
  const rank = intVar(env, 'RANK');
  if (rank >= worldSize) throw new UsageError(`distributed run: RANK=${rank} must be below WORLD_SIZE=${worldSize}`);
  return { rank, worldSize, localRank: intVar(env, 'LOCAL_RANK', rank), isMain: rank === 0 };
}

/** gloo's network: GLOO_SOCKET_IFNAME, else the loopback for a local master, else this host's name. */
function glooDevice(env: NodeJS.ProcessEnv, addr: string): string {
  if (env.GLOO_SOCKET_IFNAME) return `iface:${env.GLOO_SOCKET_IFNAME.split(',')[0]}`;
  if (/^(127\.|localhost$|::1$)/.test(addr)) return 'host:127.0.0.1';
  return 'default';
}

/**
 * This process's world; joins the process group the environment describes on first call (a
 * TCPStore at MASTER_ADDR:MASTER_PORT, served by rank 0). Every later call returns the same world.
 */
export function joinFromEnv(env: NodeJS.ProcessEnv = process.env): World {
  const w = worldFromEnv(env);
  if (w.worldSize === 1 || dist.isInitialized()) return w;
  const addr = env.MASTER_ADDR || '127.0.0.1';
  const port = intVar(env, 'MASTER_PORT');
  dist.initProcessGroup({ addr, port, rank: w.rank, worldSize: w.worldSize, timeoutMs: timeoutFromEnv(env), device: glooDevice(env, addr) });
  return w;
}

/** The world of the current process group (a single process when none was joined). */
export function currentWorld(): World {
  if (!dist.isInitialized()) return SINGLE;
  const rank = dist.getRank(), worldSize = dist.getWorldSize();
  return { rank, worldSize, localRank: worldFromEnv().localRank, isMain: rank === 0 };
}

/** Rank `src`'s JSON value on every rank (two broadcasts: the length, then the UTF-8 bytes). */
export function broadcastJson<T>(value: T | undefined, src = 0): T {
  if (dist.getWorldSize() === 1) return value as T;
  const mine = dist.getRank() === src ? new TextEncoder().encode(JSON.stringify(value ?? null)) : new Uint8Array(0);
  return torch.scope(() => {
    const len = torch.tensor([mine.length], { dtype: 'int64' });
    dist.broadcast(len, src);
    const n = Number(len.item());
    const bytes = dist.getRank() === src ? torch.tensor(mine, { dtype: 'uint8' }) : torch.zeros([n], { dtype: 'uint8' });
    dist.broadcast(bytes, src);
    return JSON.parse(new TextDecoder().decode(bytes.toTypedArray() as Uint8Array)) as T;
  });
}

/** Whether any rank says yes (an all-reduce of one flag: every rank gets the same answer). */
export function anyRank(flag: boolean): boolean {
  if (dist.getWorldSize() === 1) return flag;
  return torch.scope(() => {
    const t = torch.tensor([flag ? 1 : 0], { dtype: 'int32' });
    dist.allReduce(t, 'max');
    return Number(t.item()) > 0;
  });
}
