// `eos --dataset cifar10-5k --arch cnn-relu` at CI size: the Python-written CIFAR-10 fixtures
// (test/fixtures/cifar10: 2 training batches of 32 images, both release layouts) through the command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../../src/core/runner.ts';

const FIX = path.join(import.meta.dirname, '..', '..', 'fixtures', 'cifar10');

test('eos --dataset cifar10-5k --arch cnn-relu runs on the fixture release (binary and pickle layouts give the same run)', async () => {
  await import('../../../src/modules/unstable-convergence/commands.ts');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'uc-cifar-'));
  const params = { dataset: 'cifar10-5k', dataRoot: FIX, arch: 'cnn-relu', loss: 'mse', etas: [0.02], steps: 6, eigFreq: 3, neigs: 1, eigTol: 1e-4 };
  const sums: { parameters: number; objective: string; runs: { finalLoss: number; finalSharpness: number; steps: number }[] }[] = [];
  for (const layout of ['bin', 'py'] as const) {
    const r = await runCommand('unstable-convergence', 'eos', { ...params, layout }, { root, seed: 0 });
    assert.equal(r.run.status, 'done', String(r.run.error));
    sums.push(r.summary as typeof sums[number]);
    for (const f of ['loss.png', 'sharpness.svg', 'trace.csv', 'summary_per_eta.json']) assert.ok(fs.existsSync(path.join(r.run.dir, f)), f);
  }
  const [a, b] = sums as [typeof sums[number], typeof sums[number]];
  // cnn-relu on 3×32×32, 10 classes: conv 3→32 (896), conv 32→32 (9248), linear 2048→10 (20490)
  assert.equal(a.parameters, 30634);
  assert.match(a.objective, /^cifar10-5k\/cnn-relu\/mse$/);
  const ra = a.runs[0]!, rb = b.runs[0]!;
  assert.equal(ra.steps, 6);
  assert.ok(Number.isFinite(ra.finalLoss) && ra.finalSharpness > 0, JSON.stringify(ra));
  assert.equal(ra.finalLoss, rb.finalLoss, 'the two layouts hold the same images');
  // a class subset and the corrupt twin through the command
  const two = await runCommand('unstable-convergence', 'eos', { ...params, dataset: 'cifar10-5k-2cls', arch: 'cnn-bn-relu', steps: 2, eigFreq: 2 }, { root });
  assert.equal(two.run.status, 'done', String(two.run.error));
  assert.equal((two.summary as { parameters: number }).parameters, 896 + 64 + 9248 + 64 + 2048 * 2 + 2);
  const bad = await runCommand('unstable-convergence', 'eos', { ...params, dataRoot: path.join(FIX, 'corrupt'), layout: 'bin' }, { root }).catch((e: Error) => e);
  const msg = bad instanceof Error ? bad.message : String(bad.run.error);
  assert.match(msg, /corrupt\/cifar-10-batches-bin\/data_batch_1\.bin: record 31 is truncated/);
  await assert.rejects(runCommand('unstable-convergence', 'eos', { ...params, dataset: 'cifar10-5k', dataRoot: undefined }, { root })
    .then((r) => { if (r.run.status !== 'done') throw new Error(String(r.run.error)); }), /needs dataRoot/);
  fs.rmSync(root, { recursive: true, force: true });
});
