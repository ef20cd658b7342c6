// Picture tests: the plots of unstable-convergence carry readable axis titles (no code names), draw
// their data (a log axis with exact zeros must not blank the plot), and every sharpness panel has
// its 2/η line. And the default `eos` step size shows sustained edge of stability.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../../src/core/runner.ts';
import { defaults } from '../../../src/modules/unstable-convergence/config.ts';
import { readSvg } from '../../helpers/svg.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'uc-plots-'));
const svgOf = (dir: string, name: string) => readSvg(fs.readFileSync(path.join(dir, `${name}.svg`), 'utf8'));
const CODE_NAMES = /^(finalAbs|lambda|eta|time|loss|sharpness|sharpRatio|rp|dsIntEta|a1|ak|gradCos|distance|step)$/;

test('quadratic: components plot draws every component on a log axis (the exact zero at λ = h/2 is left out), with titles and ticks', async () => {
  await import('../../../src/modules/unstable-convergence/commands.ts');
  const q = await runCommand('unstable-convergence', 'quadratic', { dim: 40, etaInverseHalf: [30, 50], steps: 60 }, { root });
  assert.equal(q.run.status, 'done', String(q.run.error));
  const s = svgOf(q.run.dir, 'components');
  assert.deepEqual(s.axisTitles, ['eigenvalue λ_i', '|θ_i| after 60 GD steps (log scale)']);
  // the component λ = h/2 (15 for η = 2/30, 25 for η = 2/50) is zeroed in one step: 39 of 40 points drawn per η
  assert.deepEqual(s.linePoints, [39, 39]);
  assert.ok(s.tickLabels.length >= 6, `tick labels on both axes: ${s.tickLabels.join(' ')}`);
  assert.ok(s.rules.some((r) => r.count === 2 && r.dashed), 'the two 2/η markers');
});

test(`eos with the default step size (η = ${defaults.eos.etas.join(', ')}) is at the edge of stability for most of the run; its plots carry titles and the 2/η line`, async () => {
  await import('../../../src/modules/unstable-convergence/commands.ts');
  assert.deepEqual(defaults.eos.etas, [0.5]);
  const e = await runCommand('unstable-convergence', 'eos', { probeFreq: 25 }, { root, seed: 0 });
  assert.equal(e.run.status, 'done', String(e.run.error));
  const [r] = (e.summary as { runs: { steps: number; crossStep: number; medianSharpnessOverMss: number; plateauSharpnessOverMss: { median: number } }[] }).runs;
  const msg = JSON.stringify(r);
  // sustained: crosses 2/η in the first third and the second half of the window still sits at 2/η
  assert.ok(r!.crossStep <= r!.steps / 3, msg);
  assert.ok(r!.medianSharpnessOverMss > 0.95 && r!.medianSharpnessOverMss < 1.2, msg);
  assert.ok(r!.plateauSharpnessOverMss.median > 0.9 && r!.plateauSharpnessOverMss.median < 1.2, msg);
  const sh = svgOf(e.run.dir, 'sharpness');
  assert.deepEqual(sh.axisTitles, ['time η·t (step size × steps)', 'sharpness λ_max(∇²L)']);
  assert.ok(sh.linePoints[0]! >= 70, `the sharpness curve is drawn (${sh.linePoints})`);
  assert.ok(sh.rules.some((x) => x.count === 1 && x.dashed), 'the dotted 2/η line');
  const loss = svgOf(e.run.dir, 'loss');
  assert.deepEqual(loss.axisTitles, ['time η·t (step size × steps)', 'train loss (log scale)']);
  assert.ok(loss.linePoints[0]! > 700);
  const pr = svgOf(e.run.dir, 'probes');
  assert.ok(pr.axisTitles.every((t) => !CODE_NAMES.test(t)), `probe panels: ${pr.axisTitles.join(' | ')}`);
  assert.ok(pr.axisTitles.includes('relative progress RP') && pr.linePoints.every((n) => n > 5));
});

test('probes: the sharpness panel has the S = MSS line; no panel is titled by a code name', async () => {
  await import('../../../src/modules/unstable-convergence/commands.ts');
  const p = await runCommand('unstable-convergence', 'probes', { steps: 60, probeFreq: 5, controlProbeFreq: 7, k: 2 }, { root });
  assert.equal(p.run.status, 'done', String(p.run.error));
  const s = svgOf(p.run.dir, 'probes');
  assert.ok(s.axisTitles.includes('sharpness / MSS') && s.axisTitles.includes('A2 = ‖P_2 ĝ‖'), s.axisTitles.join(' | '));
  assert.ok(s.axisTitles.every((t) => !CODE_NAMES.test(t)), s.axisTitles.join(' | '));
  assert.ok(s.rules.filter((r) => r.count === 1 && r.dashed).length >= 2, 'S/MSS = 1 and η/2·DSint = 1 lines');
  assert.ok(s.linePoints.length >= 12 && s.linePoints.every((n) => n >= 5), `two runs per panel drawn: ${s.linePoints}`);
  fs.rmSync(root, { recursive: true, force: true });
});
