// issue #24: `measure` on a user's problem: a diagonal quadratic's spectrum (--spectrum), the start
// (--start) and the direction of the initial gap (--oracle init-direction --init-direction). GD with
// step η from two starts u0 ± (δ/2)e_i differing along one eigen-direction λᵢ: the gap is multiplied by
// (1 − ηλᵢ) at every step, so the deviation (squared distance) after T steps is (1 − ηλᵢ)^{2T}·δ², exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as torch from '../../../src/core/torch/index.ts';
import { runCommand } from '../../../src/core/runner.ts';
import '../../../src/modules/reproducibility/commands.ts';

torch.setNumThreads(1);
// relative: rounding is ~1e-15 here; scripts/test-jitter.sh scales each start coordinate by 1 + O(1e-12),
// which moves the gap δ by ~1e-12 relative. An off-by-one T would be off by a factor 0.81 or less.
const TOL = 1e-9;

test('measure --spectrum 1,0.5,0.1 --oracle init-direction: GD deviation after T steps = (1 − ηλ)^{2T}·δ² along the chosen eigen-direction', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'repro-user-'));
  const T = 10, delta = 0.1;
  const base = { problem: 'quadratic', spectrum: [1, 0.5, 0.1], oracle: 'init-direction', optimizer: 'gd', budget: T, delta, pairs: 2, epsilon: 1 };
  // automatic step 1/L = 1: λ = 0.5 → factor 0.5 per step; λ = 0.1 → 0.9 (the strongly convex bound q^{2T}δ², attained)
  for (const [dir, lam, start] of [[[0, 1, 0], 0.5, [3, -2, 1]], [[0, 0, -2], 0.1, undefined]] as const) {
    const r = await runCommand('reproducibility', 'measure', { ...base, initDirection: [...dir], ...(start ? { start: [...start] } : {}) }, { root, seed: 0 });
    assert.equal(r.run.status, 'done', String(r.run.error));
    const s = r.summary as Record<string, any>;
    assert.equal(s.lr, 1);
    const want = (1 - s.lr * lam) ** (2 * T) * delta * delta;
    assert.ok(Math.abs(s.mean - want) <= TOL * want && Math.abs(s.max - want) <= TOL * want, `λ = ${lam}: deviation ${s.mean} vs (1 − ηλ)^{2T}δ² = ${want}`);
    if (lam === 0.1) assert.ok(Math.abs(s.bound - want) <= TOL * want, `bound ${s.bound} = ${want}`);
  }
  // an explicit step: η = 0.5 along λ = 1 → factor 0.5
  const e = await runCommand('reproducibility', 'measure', { ...base, lr: 0.5, initDirection: [1, 0, 0] }, { root, seed: 0 });
  const want = 0.5 ** (2 * T) * delta * delta;
  assert.ok(Math.abs((e.summary as any).mean - want) <= TOL * want, `η = 0.5, λ = 1: ${(e.summary as any).mean} vs ${want}`);
  // the new parameters are checked against the problem before any run is created
  const runs = fs.readdirSync(root).length;
  await assert.rejects(runCommand('reproducibility', 'measure', { ...base, initDirection: [1, 0] }, { root }), /parameter 'initDirection': expected 3 numbers/);
  await assert.rejects(runCommand('reproducibility', 'measure', { ...base, initDirection: [1, 0, 0], start: [1] }, { root }), /parameter 'start': expected 3 numbers/);
  await assert.rejects(runCommand('reproducibility', 'measure', { ...base, initDirection: undefined }, { root }), /oracle init-direction needs initDirection/);
  await assert.rejects(runCommand('reproducibility', 'measure', { problem: 'ridge', spectrum: [1, 2] }, { root }), /give problem quadratic/);
  await assert.rejects(runCommand('reproducibility', 'measure', { problem: 'lad', start: [1, 2, 3, 4] }, { root }), /keeps its own start/);
  assert.equal(fs.readdirSync(root).length, runs);
  // --start on a built-in quadratic moves u0 (D recomputed) and leaves the dynamics of the gap alone
  const ridge = await runCommand('reproducibility', 'measure', { problem: 'ridge', dim: 3, start: [1, 2, 3], oracle: 'init-adversarial', optimizer: 'gd', budget: 5, pairs: 2, epsilon: 100 }, { root });
  assert.equal(ridge.run.status, 'done', String(ridge.run.error));
  fs.rmSync(root, { recursive: true, force: true });
});

test('CLI: reproducibility measure --spectrum 1,0.5,0.1 --start 3,-2,1 --oracle init-direction --init-direction 0,0,1 prints 0.9^{2T}·δ²', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'repro-user-cli-'));
  const r = spawnSync(process.execPath, ['bin/paperlab.js', 'reproducibility', 'measure', '--spectrum', '1,0.5,0.1', '--start', '3,-2,1',
    '--oracle', 'init-direction', '--init-direction', '0,0,1', '--optimizer', 'gd', '--budget', '10', '--delta', '0.1', '--pairs', '2', '--epsilon', '1', '--quiet', '--json'],
  { env: { ...process.env, PAPERLAB_HOME: home }, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout).summary;
  const want = 0.9 ** 20 * 0.01;
  assert.ok(Math.abs(s.mean - want) <= TOL * want, `${s.mean} vs ${want}`);
  fs.rmSync(home, { recursive: true, force: true });
});
