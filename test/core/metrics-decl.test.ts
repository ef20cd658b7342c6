// Metric declarations (src/core/registry.ts MetricSpec): what `paperlab list --json` and the
// dashboard read. Every declared metric must name a column its command writes, with its x axis
// column alongside: checked on quick runs of three commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { z } from 'zod';
import { registerModule, defineCommand, describeMetrics } from '../../src/core/registry.ts';

interface Decl {
  name: string; table: string; x: string; group: string; label: string; scale: string; series?: string | string[];
  reference?: { column?: string; param?: string };
}
type Listing = { name: string; commands: { name: string; metrics: Decl[] }[] }[];

const cli = (args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/paperlab.js', ...args], { encoding: 'utf8', env: { ...process.env, PAPERLAB_THREADS: '1' } });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
};
const listing = (): Listing => JSON.parse(cli(['list', '--json'])) as Listing;
const declsOf = (l: Listing, m: string, c: string) => l.find((x) => x.name === m)!.commands.find((x) => x.name === c)!.metrics;

test('list --json carries every declaring command\'s metrics with table and group filled in', () => {
  const l = listing();
  for (const [m, c] of [['unstable-convergence', 'probes'], ['unstable-convergence', 'eos'], ['threshold-neurons', 'mean-trajectory'], ['nowcast', 'train'],
    ['prostate', 'train'], ['action', 'train'], ['cartoon', 'train'], ['orfit', 'synthetic'], ['reproducibility', 'measure'], ['demo', 'fit-line']] as const) {
    const d = declsOf(l, m, c);
    assert.ok(d.length > 0, `${m} ${c} declares no metric`);
    for (const x of d) {
      assert.ok(x.table && x.group && x.label && x.x, `${m} ${c} ${x.name}: ${JSON.stringify(x)}`);
      assert.ok(x.scale === 'linear' || x.scale === 'log');
    }
  }
  const sharp = declsOf(l, 'unstable-convergence', 'probes').find((x) => x.name === 'sharpness')!;
  assert.equal(sharp.x, 'step');
  assert.equal(sharp.reference?.column, 'eta', 'probes sharpness carries the 2/η reference');
});

test('every declared metric names a column its command writes, next to its x axis (quick runs)', () => {
  const l = listing();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-metrics-'));
  const runs: [string, string, string[]][] = [
    ['unstable-convergence', 'probes', ['--steps', '30', '--probe-freq', '5', '--control-probe-freq', '7', '--k', '2']],
    ['threshold-neurons', 'mean-trajectory', []],
    ['demo', 'fit-line', ['--epochs', '5']],
    ['orfit', 'synthetic', []],
  ];
  for (const [m, c, args] of runs) {
    const out = path.join(home, `${m}-${c}`);
    cli([m, c, ...args, '--quiet', '--out', out]);
    const [dir] = fs.readdirSync(out).filter((f) => fs.statSync(path.join(out, f)).isDirectory());
    const run = path.join(out, dir!);
    for (const d of declsOf(l, m, c)) {
      const file = path.join(run, `${d.table}.jsonl`);
      assert.ok(fs.existsSync(file), `${m} ${c}: metric ${d.name} names table ${d.table}, which the run did not write`);
      const rows = fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).map((s) => JSON.parse(s) as Record<string, unknown>);
      assert.ok(rows.some((r) => typeof r[d.name] === 'number'), `${m} ${c}: no numeric column '${d.name}' in ${d.table}`);
      assert.ok(rows.every((r) => typeof r[d.x] === 'number'), `${m} ${c}: x axis '${d.x}' missing from ${d.table}`);
      for (const col of [d.series ?? []].flat()) assert.ok(rows.every((r) => col in r), `${m} ${c}: series column '${col}' missing`);
      if (d.reference?.column) assert.ok(rows.every((r) => typeof r[d.reference!.column!] === 'number'), `${m} ${c}: reference column missing`);
    }
  }
});

test('the registry refuses malformed declarations and fills in the defaults', () => {
  const params = z.object({ eta: z.number().default(0.1) });
  const cmd = (metrics: unknown[]) => defineCommand({ name: 'x', description: 'x', params, metrics: metrics as never, run: () => ({}) });
  assert.throws(() => registerModule({ name: 'bad-scale', title: '', description: '', commands: [cmd([{ name: 'loss', label: 'loss', x: 'step', scale: 'sqrt' }])] }), /metric 'loss'.*scale/);
  assert.throws(() => registerModule({ name: 'bad-ref', title: '', description: '', commands: [cmd([{ name: 's', label: 's', x: 'step', scale: 'linear', reference: { label: '2/η', numerator: 2, param: 'lr' } }])] }),
    /reference parameter 'lr'/);
  assert.throws(() => registerModule({ name: 'twice', title: '', description: '', commands: [cmd([{ name: 'a', label: 'a', x: 'step', scale: 'log' }, { name: 'a', label: 'b', x: 'step', scale: 'log' }])] }),
    /declared twice/);
  assert.deepEqual(describeMetrics(cmd([{ name: 'a', label: 'A', x: 'epoch', scale: 'log' }])), [{ name: 'a', label: 'A', x: 'epoch', scale: 'log', table: 'metrics', group: 'a' }]);
});
