// The torchrun variables (src/core/distributed/env.ts): a single process without them, clear
// UsageErrors for impossible values, and a rendezvous nobody joins failing within the timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { worldFromEnv, joinFromEnv, timeoutFromEnv, SINGLE } from '../../src/core/distributed/env.ts';
import { freePort, takeNproc } from '../../src/core/distributed/launch.ts';
import { DistributedError, UsageError } from '../../src/core/errors.ts';
import * as dist from '../../src/core/torch/distributed.ts';

test('worldFromEnv: no WORLD_SIZE (or 1) is one process; RANK, LOCAL_RANK as torchrun sets them; bad values are UsageErrors naming the variable', () => {
  assert.deepEqual(worldFromEnv({}), SINGLE);
  assert.deepEqual(worldFromEnv({ WORLD_SIZE: '1', RANK: '0' }), SINGLE);
  assert.deepEqual(worldFromEnv({ WORLD_SIZE: '4', RANK: '3', LOCAL_RANK: '1' }), { rank: 3, worldSize: 4, localRank: 1, isMain: false });
  assert.throws(() => worldFromEnv({ WORLD_SIZE: '2' }), (e: unknown) => e instanceof UsageError && /RANK is not set/.test(e.message));
  assert.throws(() => worldFromEnv({ WORLD_SIZE: '2', RANK: '2' }), /RANK=2 must be below WORLD_SIZE=2/);
  assert.throws(() => worldFromEnv({ WORLD_SIZE: 'two' }), /WORLD_SIZE must be a non-negative integer/);
  assert.throws(() => timeoutFromEnv({ PAPERLAB_DIST_TIMEOUT: '-1' }), /PAPERLAB_DIST_TIMEOUT must be a positive number of seconds/);
  assert.equal(timeoutFromEnv({ PAPERLAB_DIST_TIMEOUT: '2.5' }), 2500);
  assert.deepEqual(takeNproc(['nowcast', 'train', '--nproc', '2', '--steps', '3']), { nproc: 2, rest: ['nowcast', 'train', '--steps', '3'] });
  assert.deepEqual(takeNproc(['--nproc=4', 'list']), { nproc: 4, rest: ['list'] });
});

test('a rendezvous that the other rank never joins fails with a DistributedError after the timeout, leaving no group', async () => {
  const port = await freePort();
  const t0 = Date.now();
  assert.throws(() => joinFromEnv({ WORLD_SIZE: '2', RANK: '0', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port), PAPERLAB_DIST_TIMEOUT: '1' }),
    (e: unknown) => e instanceof DistributedError && /rendezvous of rank 0 of 2 at 127\.0\.0\.1:\d+ failed/.test(e.message));
  assert.ok(Date.now() - t0 < 30_000);
  assert.equal(dist.isInitialized(), false);
  assert.equal(dist.getWorldSize(), 1);
});

test('paperlab --nproc 0 is a usage error (exit 2) before anything starts', () => {
  const cli = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../bin/paperlab.js');
  const r = spawnSync(process.execPath, [cli, 'nowcast', 'train', '--nproc', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--nproc must be a positive integer, got 0/);
});
