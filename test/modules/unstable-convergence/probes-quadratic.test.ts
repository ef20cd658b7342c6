// issue #24: `probes` on the quadratic objective from the CLI. On ½θᵀdiag(λ)θ with θ₀ along one
// eigen-direction λ, GD at η keeps the gradient on that direction, so every probe has a closed form:
// RP = [L(θ − ηg) − L(θ)]/(η‖g‖²) = ηλ/2 − 1, η/2·DS = η/2·DSint = ηλ/2, A1 = 1, and the sharpness is
// the spectrum's largest value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../../../src/core/runner.ts';
import '../../../src/modules/unstable-convergence/commands.ts';

const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-9, `${what}: ${a} vs ${b}`);

test('probes --objective quadratic: spectrum 1,4 from θ₀ = (0, 1) gives RP = ηλ/2 − 1 (0.2 at η = 0.6, −0.9 at η = 0.05) at every probe', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'uc-quad-'));
  const r = await runCommand('unstable-convergence', 'probes', {
    objective: 'quadratic', spectrum: [1, 4], start: [0, 1], eta: 0.6, controlEta: 0.05, steps: 20, probeFreq: 1, controlProbeFreq: 3, k: 2,
  }, { root });
  assert.equal(r.run.status, 'done', String(r.run.error));
  const s = r.summary as Record<string, any>;
  assert.equal(s.objective, 'quadratic-spectrum-2');
  // η = 0.6: ηλ = 2.4 > 2, the S/MSS = 1.2 window starts at step 0, and the loss grows (RP > 0)
  assert.equal(s.eos.startStep, 0);
  close(s.eos.medianRP, 0.6 * 4 / 2 - 1, 'eos median RP');
  close(s.eos.medianDSintEta, 1.2, 'eos median η/2·DSint');
  close(s.eos.medianSharpRatio, 1.2, 'eos median S/MSS');
  close(s.eos.medianA1, 1, 'eos median A1');
  close(s.control.medianRP, 0.05 * 4 / 2 - 1, 'control median RP');
  const lines = fs.readFileSync(path.join(r.run.dir, 'probes.csv'), 'utf8').trim().split('\n');
  const head = lines[0]!.split(',');
  const rows = lines.slice(1).map((l) => Object.fromEntries(l.split(',').map((v, i) => [head[i], v])));
  assert.equal(rows.length, 21 + 7, 'eos: every step 0…20; control: 0, 3, …, 18');
  for (const row of rows) {
    const eta = Number(row.eta);
    close(Number(row.rp), eta * 4 / 2 - 1, `${row.run} step ${row.step}: RP`);
    close(Number(row.dsEta), eta * 4 / 2, `${row.run} step ${row.step}: η/2·DS`);
    close(Number(row.sharpness), 4, `${row.run} step ${row.step}: sharpness`);
  }
  // the quadratic's parameters belong to it; a start of the wrong length is refused before any run
  const runs = fs.readdirSync(root).length;
  await assert.rejects(runCommand('unstable-convergence', 'probes', { spectrum: [1, 4] }, { root }), /spectrum is a parameter of the quadratic objective/);
  await assert.rejects(runCommand('unstable-convergence', 'probes', { objective: 'quadratic', spectrum: [1, 4], start: [1] }, { root }), /parameter 'start': expected 2 numbers/);
  assert.equal(fs.readdirSync(root).length, runs);
  fs.rmSync(root, { recursive: true, force: true });
});

test('CLI: paperlab unstable-convergence probes --objective quadratic --spectrum 1,4 --start 0,1 prints RP = ηλ/2 − 1', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'uc-quad-cli-'));
  const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../../bin/paperlab.js', import.meta.url)), 'unstable-convergence', 'probes',
    '--objective', 'quadratic', '--spectrum', '1,4', '--start', '0,1', '--eta', '0.6', '--control-eta', '0.05', '--steps', '10', '--probe-freq', '1', '--k', '2', '--quiet', '--json'],
  { encoding: 'utf8', env: { ...process.env, PAPERLAB_HOME: home } });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout).summary;
  close(s.eos.medianRP, 0.2, 'eos median RP');
  close(s.control.medianRP, -0.9, 'control median RP');
  fs.rmSync(home, { recursive: true, force: true });
});
