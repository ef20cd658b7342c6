import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as torch from '../../../src/core/torch/index.ts';
import { runCommand } from '../../../src/core/runner.ts';
import { spawnSync } from 'node:child_process';
import '../../../src/modules/reproducibility/commands.ts';

torch.setNumThreads(1);
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'repro-cmd-'));

test('measure (the quick command): JSON result with interval, bound and suboptimality, plot, per-pair CSV; same seed → same numbers', async () => {
  const params = { budget: 200, pairs: 500 };
  const a = await runCommand('reproducibility', 'measure', params, { root, seed: 3 });
  assert.equal(a.run.status, 'done');
  const s = a.summary as Record<string, any>;
  assert.ok(s.mean > 0 && s.ci95[0] < s.mean && s.mean < s.ci95[1]);
  assert.equal(s.boundFormula, 'exact closed form (quadratic)');
  assert.ok(Math.abs(s.mean - s.bound) < 4 * s.stderr, `measured ${s.mean} vs closed form ${s.bound}`);
  assert.equal(s.epsOptimal, true);
  for (const f of ['result.json', 'deviations.csv', 'deviation.png', 'deviation.svg']) assert.ok(fs.existsSync(path.join(a.run.dir, f)), f);
  const csv = fs.readFileSync(path.join(a.run.dir, 'deviations.csv'), 'utf8').trim().split('\n');
  assert.equal(csv.length, 501);
  const b = await runCommand('reproducibility', 'measure', params, { root, seed: 3 });
  assert.equal((b.summary as any).mean, s.mean);
});

test('measure accepts every optimizer and oracle combination it lists', async () => {
  const r = await runCommand('reproducibility', 'measure', { problem: 'ridge', oracle: 'grad-adversarial', optimizer: 'gd', budget: 50, pairs: 2, dim: 4 }, { root, seed: 1 });
  const s = r.summary as any;
  assert.equal(s.boundFormula, '(2ηδ(1−q^T)/(1−q))²');
  assert.ok(Math.abs(s.max - s.bound) <= 1e-9 * s.bound);
  const t = await runCommand('reproducibility', 'measure', { problem: 'lad', oracle: 'stochastic', optimizer: 'subgradient-avg', budget: 100, pairs: 50, epsilon: 0.5 }, { root, seed: 1 });
  assert.ok((t.summary as any).mean <= (t.summary as any).bound);
  // reg-gd with the automatic step 1/(L + λ): the bound is for that step, with equality on the flat direction
  const v = await runCommand('reproducibility', 'measure', { optimizer: 'reg-gd', oracle: 'grad-adversarial', budget: 5, pairs: 2 }, { root, seed: 1 });
  const sv = v.summary as any;
  assert.equal(sv.lr, 1 / (sv.constants.L + 0.05));
  assert.ok(Math.abs(sv.max - sv.bound) <= 1e-9 * sv.bound, `measured ${sv.max} vs bound ${sv.bound}`);
  const u = await runCommand('reproducibility', 'measure', { optimizer: 'torch-adam', budget: 20, pairs: 10, lr: 0.01 }, { root, seed: 1 });
  assert.equal(u.run.status, 'done');
});

test('sweep (tiny): per-setting plots, metrics, summary table with measured vs bound exponents', async () => {
  const r = await runCommand('reproducibility', 'sweep', { settings: ['smooth-gradient', 'strongly-convex', 'followup'], scale: 'tiny', pairs: 10 }, { root, seed: 0 });
  assert.equal(r.run.status, 'done');
  const s = r.summary as any;
  assert.deepEqual(s.exponentMismatches, []);
  for (const f of ['summary.md', 'summary.json', 'e2-inexact-gradient-vs-T.png', 'e2-inexact-gradient-vs-eps.svg', 'e4-strongly-convex.png', 'e6-followup-deviation.png']) {
    assert.ok(fs.existsSync(path.join(r.run.dir, f)), f);
  }
  const md = fs.readFileSync(path.join(r.run.dir, 'summary.md'), 'utf8');
  assert.match(md, /measured exp\./);
  // E6 replication: AGD has by far the largest deviation, Reg-GD below GD
  const e6 = (s.summary as any[]).filter((x) => x.setting.includes('E6'));
  const dev = (name: string) => Number(/deviation ([0-9.e+-]+)/.exec(e6.find((x) => x.method === name).note)![1]);
  assert.ok(dev('AGD') > 100 * dev('GD'));
  assert.ok(dev('Reg-GD') < dev('GD'));
});

test('bad parameters are rejected naming the field', async () => {
  await assert.rejects(runCommand('reproducibility', 'measure', { delta: -1 }, { root }), /delta/);
  await assert.rejects(runCommand('reproducibility', 'measure', { oracle: 'nope' }, { root }), /oracle/);
  await assert.rejects(runCommand('reproducibility', 'sweep', { settings: ['e9'] }, { root }), /settings/);
  await assert.rejects(runCommand('reproducibility', 'measure', { budget: 2.5 }, { root }), /budget/);
  // no 0 = automatic sentinel: leave --lr out for the automatic step
  await assert.rejects(runCommand('reproducibility', 'measure', { lr: 0 }, { root }), /lr/);
});

test('CLI: a bad item of a list parameter is refused by the schema (exit 2, naming the parameter and the valid values) before any run is created', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'repro-cli-'));
  const r = spawnSync(process.execPath, ['bin/paperlab.js', 'reproducibility', 'sweep', '--settings', 'smooth-init,bogus', '--quiet'],
    { env: { ...process.env, PAPERLAB_HOME: home }, encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /settings/);
  assert.match(r.stderr, /smooth-init.*smooth-gradient.*followup/);
  assert.deepEqual(fs.readdirSync(home), [], 'no run folder or run store was created');
});

test('sweep honours the abort signal and resumes from its last checkpoint without redoing finished settings', async () => {
  const { resumeRun } = await import('../../../src/core/runner.ts');
  const ac = new AbortController();
  const params = { settings: ['smooth-gradient', 'strongly-convex'], scale: 'tiny', pairs: 4 };
  let id = '';
  await assert.rejects(runCommand('reproducibility', 'sweep', params, {
    root, seed: 0, signal: ac.signal,
    onEvent: (e) => { if (e.type === 'start') id = e.run.id; if (e.type === 'plot') ac.abort(); },
  }));
  assert.ok(id);
  const logs: string[] = [];
  const r = await resumeRun(id, { root, onEvent: (e) => { if (e.type === 'log') logs.push(e.message); } });
  assert.equal(r.run.status, 'done');
  assert.ok(logs.some((l) => /resuming: smooth-gradient already done/.test(l)), logs.join('\n'));
  assert.ok(!logs.some((l) => /^E2 /.test(l)), 'E2 was measured again');
  assert.equal((r.summary as any).summary.length, 6);
});
