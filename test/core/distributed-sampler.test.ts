// The data order of data-parallel training (src/core/distributed/sampler.ts), without processes:
// torch's DistributedSampler padding and strides, per-epoch shuffles, and the union of the ranks'
// shards of a global batch being that batch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DistributedSampler, shardIndices, shardedDraw } from '../../src/core/distributed/sampler.ts';
import { Rng } from '../../src/core/rng.ts';

test('shardIndices pads by repeating the head (torch DistributedSampler) and strides by rank; dropLast cuts', () => {
  const order = [9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
  // 10 over 4 ranks: padded to 12 with the first two, rank r takes r, r+4, r+8
  assert.deepEqual([0, 1, 2, 3].map((r) => shardIndices(order, r, 4)), [[9, 5, 1], [8, 4, 0], [7, 3, 9], [6, 2, 8]]);
  assert.deepEqual([0, 1, 2, 3].map((r) => shardIndices(order, r, 4, true)), [[9, 5], [8, 4], [7, 3], [6, 2]]);
  // fewer samples than ranks: the order repeats as often as needed
  assert.deepEqual([0, 1, 2].map((r) => shardIndices([5, 6], r, 3)), [[5], [6], [5]]);
  assert.deepEqual(shardIndices(order, 0, 1), order);
});

test('DistributedSampler: every rank the same size, the union covers the data, each epoch its own shuffle', () => {
  const n = 23, W = 3;
  const s = [0, 1, 2].map((rank) => new DistributedSampler(n, { world: { rank, worldSize: W }, seed: 5 }));
  assert.equal(s[0]!.numSamples, 8);
  const e0 = s.map((x) => x.indices());
  assert.ok(e0.every((ix) => ix.length === 8));
  assert.deepEqual([...new Set(e0.flat())].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  s.forEach((x) => x.setEpoch(1));
  const e1 = s.map((x) => x.indices());
  assert.notDeepEqual(e1, e0);
  s.forEach((x) => x.setEpoch(0));
  assert.deepEqual(s.map((x) => x.indices()), e0, 'the same epoch gives the same order');
  const plain = new DistributedSampler(6, { world: { rank: 1, worldSize: 2 }, shuffle: false });
  assert.deepEqual(plain.indices(), [1, 3, 5]);
});

test('shardedDraw: together, the ranks\' shards of a step\'s global batch are that batch', () => {
  const draw = (n: number) => { const r = new Rng(7); return Array.from({ length: n }, () => r.int(0, 100)); };
  const global = draw(8);
  const shards = [0, 1].map((rank) => shardedDraw(4, draw, { rank, worldSize: 2 }));
  assert.deepEqual(shards.flat().sort(), [...global].sort());
  assert.deepEqual(shards[0], [global[0], global[2], global[4], global[6]]);
  assert.deepEqual(shardedDraw(8, draw, { rank: 0, worldSize: 1 }), global);
});
