// Picture tests: threshold-neurons' plots carry readable axis titles (no code names such as finalB,
// ap/am), draw their data, and the sharpness panels have the 2/η line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../../src/core/runner.ts';
import { readSvg } from '../../helpers/svg.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tn-plots-'));
const svgOf = (dir: string, name: string) => readSvg(fs.readFileSync(path.join(dir, `${name}.svg`), 'utf8'));
const CODE_NAMES = /^(finalB|testAcc|eta|value|ap|am|diff|b|loss|sharpness|step)$/;

test('mean-trajectory: panels titled a⁺, a⁻, a⁺ − a⁻, shared bias b, loss, sharpness; the sharpness panel has the 2/η line', async () => {
  await import('../../../src/modules/threshold-neurons/commands.ts');
  const r = await runCommand('threshold-neurons', 'mean-trajectory', { d: 30, nTrain: 100, nTest: 100, eta: 0.04, time: 3 }, { root });
  assert.equal(r.run.status, 'done', String(r.run.error));
  const s = svgOf(r.run.dir, 'trajectory');
  assert.ok(s.axisTitles.every((t) => !CODE_NAMES.test(t)), s.axisTitles.join(' | '));
  for (const t of ['a⁺ − a⁻ (even mode)', 'shared bias b', 'sharpness λ_max', 'step t']) assert.ok(s.axisTitles.includes(t), `${t} in ${s.axisTitles.join(' | ')}`);
  assert.equal(s.linePoints.length, 6);
  assert.ok(s.linePoints.every((n) => n >= 5), `every panel drawn: ${s.linePoints}`);
  assert.deepEqual(s.rules.filter((x) => x.dashed).map((x) => x.count), [1], 'one 2/η line, on the sharpness panel');
});

test('sweep: bias, accuracy and sharpness vs η with titles; the sharpness plot has 2/η', async () => {
  await import('../../../src/modules/threshold-neurons/commands.ts');
  const r = await runCommand('threshold-neurons', 'sweep', { model: 'mean', d: 20, nTrain: 60, nTest: 100, time: 2, etaMultiples: [0.5, 1, 2] }, { root });
  assert.equal(r.run.status, 'done', String(r.run.error));
  const b = svgOf(r.run.dir, 'bias_vs_eta');
  assert.deepEqual(b.axisTitles, ['step size η (log scale)', 'final bias b']);
  assert.equal(b.linePoints[0], 3);
  assert.deepEqual(svgOf(r.run.dir, 'accuracy_vs_eta').axisTitles, ['step size η (log scale)', 'test accuracy']);
  const s = svgOf(r.run.dir, 'sharpness_vs_eta');
  assert.deepEqual(s.axisTitles, ['step size η (log scale)', 'sharpness λ_max (log scale)']);
  assert.deepEqual(s.linePoints, [3, 3], 'final sharpness and 2/η, three step sizes each');
  fs.rmSync(root, { recursive: true, force: true });
});
