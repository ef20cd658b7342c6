// A picture test per module: each quick command (`quick: true` in src/modules/*/commands.ts), run
// at its quickest size, writes its main picture with the axis titles its metric declarations give
// (metricTitle / xTitle of src/core/plots.ts), legends that are not cut off, marks in the plot area
// of more than one colour in the PNG, and lines that span the plot (not flattened onto an axis).
// test/pictures/checker.test.ts shows the checker failing on broken pictures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCommand } from '../../src/core/runner.ts';
import { getCommand, type MetricSpec } from '../../src/core/registry.ts';
import { metricTitle, xTitle } from '../../src/core/plots.ts';
import { checkPicture, readPicture, type PictureExpect } from '../helpers/picture.ts';
import { readSvg } from '../helpers/svg.ts';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-pictures-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

/** Runs `module command` with `params` (seed 1) and returns its run folder. */
async function run(module: string, command: string, params: Record<string, unknown>): Promise<string> {
  await import(`../../src/modules/${module}/commands.ts`);
  const r = await runCommand(module, command, params, { root, seed: 1 });
  assert.equal(r.run.status, 'done', String(r.run.error));
  return r.run.dir;
}

/** Checks <dir>/<name>.svg and .png; returns the SVG text. */
async function picture(dir: string, name: string, e: PictureExpect): Promise<string> {
  const svg = fs.readFileSync(path.join(dir, `${name}.svg`), 'utf8');
  const problems = await checkPicture(svg, fs.readFileSync(path.join(dir, `${name}.png`)), e);
  assert.deepEqual(problems, [], `${name}: ${problems.join('; ')}`);
  return svg;
}

/** The declaration of `name` among the command's metrics. */
function decl(module: string, command: string, name: string): MetricSpec {
  const m = getCommand(module, command).metrics?.find((x) => x.name === name);
  assert.ok(m, `${module} ${command} declares ${name}`);
  return m;
}

test('action quick: the confusion matrix, titled predicted / true class, with a count legend and filled cells; the attention key', async () => {
  const dir = await run('action', 'quick', { epochs: 3 });
  await picture(dir, 'confusion', { axisTitles: ['predicted class', 'true class'], legend: ['test clips'], notTitles: ['predicted', 'true'], span: false });
  // the attention figure says what its colours mean
  const explain = readPicture(fs.readFileSync(path.join(dir, 'explain.svg'), 'utf8'));
  assert.ok(explain.texts.some((t) => t.startsWith('attention weight')) && explain.texts.includes('high'), explain.texts.join(' | '));
});

test('cartoon demo: the before/after sheet labelled by control and level, larger than 384×192', async () => {
  const dir = await run('cartoon', 'demo', {});
  const svg = await picture(dir, 'demo', {
    texts: [/^stroke α_s/, /^abstraction α_a/, /^hue shift/, 'input', 'output', 'photo', 'α_s = 1', 'α_a = 5', '0°'], minPlots: 18, span: false,
  });
  const p = readPicture(svg);
  assert.ok(p.width >= 768 && p.height >= 384, `${p.width}×${p.height}`);
});

test('demo fit-line: training loss on a log axis titled from its declaration, falling across the plot', async () => {
  const dir = await run('demo', 'fit-line', { epochs: 60 });
  const loss = decl('demo', 'fit-line', 'loss');
  await picture(dir, 'loss', { axisTitles: [xTitle(loss.x), metricTitle(loss)], notTitles: ['loss'], span: { x: 0.9, y: 0.3 } });
});

test('nowcast train (quick, few steps): the loss chart titled from the declaration, and the labelled frame strip', async () => {
  const dir = await run('nowcast', 'train', { steps: 12, evalEvery: 0, checkpointEvery: 0, recalibrateBn: 0 });
  await picture(dir, 'loss', { legend: ['per batch', 'mean of last 20'], axisTitles: ['optimiser step', metricTitle(decl('nowcast', 'train', 'loss'))], span: { x: 0.9 } });
  await picture(dir, 'frames', {
    texts: ['input IR_108', 'truth (white = rain)', 'rain probability', /^prediction \(p ≥/, '+15 min', '+60 min'], minPlots: 16, span: false,
  });
});

test('orfit synthetic: max residual on seen points (log) per method, titled from the declarations; solid legend symbols', async () => {
  const dir = await run('orfit', 'synthetic', {});
  const m = decl('orfit', 'synthetic', 'maxResidualSeen');
  const svg = await picture(dir, 'residual-seen', {
    axisTitles: [xTitle(m.x), metricTitle(m)], legend: ['orfit (unlimited)', 'one-step-sgd', 'method'], notTitles: ['maxResidualSeen', 'mean', 'lo'], span: { x: 0.9, y: 0.5 },
  });
  assert.doesNotMatch(svg.match(/<g class="mark-group role-legend".*?<\/g><\/g><\/g>/s)?.[0] ?? '', /opacity="0\.18"/, 'legend symbols are not the faint bands');
});

test('prostate demo: the FROC on a log x axis with titles, and an overlay with its legend caption', async () => {
  const dir = await run('prostate', 'demo', {});
  await picture(dir, 'froc', { axisTitles: ['false positives per case (log)', 'sensitivity (lesion level)'], span: { x: 0.3, y: 0 } });
  const train = decl('prostate', 'train', 'loss');
  await picture(dir, 'train_loss', { axisTitles: [xTitle(train.x), metricTitle(train, { log: false })], notTitles: ['loss'], span: { x: 0.9 } });
  const overlay = fs.readdirSync(path.join(dir, 'png')).find((n) => n.endsWith('.svg'))!.replace(/\.svg$/, '');
  await picture(path.join(dir, 'png'), overlay, { texts: [/red: detection map/, 'T2W'], span: false });
});

test('reproducibility measure: measured deviation and its bound against oracle calls, log–log, titled from the declaration', async () => {
  const dir = await run('reproducibility', 'measure', {});
  const svg = await picture(dir, 'deviation', {
    axisTitles: ['oracle calls t (log scale)', metricTitle(decl('reproducibility', 'measure', 'deviation'))], legend: ['measured deviation'], span: { x: 0.8, y: 0.3 },
  });
  assert.ok(readPicture(svg).legend.some((t) => t.startsWith('bound ')), 'the bound is in the legend, uncut');
});

test('threshold-neurons mean-trajectory: six panels titled from the declarations, each drawn, 2/η on the sharpness panel', async () => {
  const dir = await run('threshold-neurons', 'mean-trajectory', { d: 30, nTrain: 100, nTest: 100, eta: 0.04, time: 3 });
  const titles = ['ap', 'am', 'diff', 'b', 'loss', 'sharpness'].map((n) => metricTitle(decl('threshold-neurons', 'mean-trajectory', n)));
  assert.ok(titles.includes('train loss (log scale)'), 'the loss panel is on a log axis as declared');
  const svg = await picture(dir, 'trajectory', { axisTitles: titles, minPlots: 6, span: { x: 0.9, perLine: 0.05 } });
  assert.deepEqual(readSvg(svg).rules.filter((r) => r.dashed).map((r) => r.count), [1], 'one 2/η line');
});

test('threshold-neurons xy: final sharpness, 2/η and the gradient-flow prediction vs η, legend uncut, lines across the plot', async () => {
  const dir = await run('threshold-neurons', 'xy', {});
  await picture(dir, 'xy_sharpness', {
    axisTitles: ['step size η (log scale)', 'sharpness λ_max'], legend: ['2/η', 'final sharpness', 'gradient-flow prediction'], span: { x: 0.9, y: 0.5 },
  });
});

test('traffic synthetic: moves and #edges per slice over the day with detected and planted change points', async () => {
  const dir = await run('traffic', 'synthetic', { families: ['a'], seeds: 1 });
  const svg = await picture(dir, 'family_a', { axisTitles: ['time of day (h)', 'count per 15-min slice'], legend: ['total moves', '#edges'], span: { x: 0.9, y: 0.3 } });
  assert.ok(readSvg(svg).rules.length >= 2, 'change-point rules drawn');
});

test('unstable-convergence quadratic: |θ_i| vs eigenvalue per η with the 2/η lines', async () => {
  const dir = await run('unstable-convergence', 'quadratic', {});
  const svg = await picture(dir, 'components', { axisTitles: ['eigenvalue λ_i'], legend: ['step size η'], span: { x: 0.8, y: 0.5 } });
  assert.ok(readSvg(svg).rules.some((r) => r.dashed && r.count >= 1), '2/η lines');
});

test('unstable-convergence momentum-thresholds: |x_t| below (converging) and above (diverging) each optimizer\'s threshold', async () => {
  const dir = await run('unstable-convergence', 'momentum-thresholds', {});
  const svg = await picture(dir, 'thresholds', { axisTitles: ['step', '|x_t| (log scale)'], legend: ['curvature λ', 'λ = 0.99 × MSS', 'λ = 1.01 × MSS'], span: { x: 0.5, y: 0.5 } });
  const p = readPicture(svg);
  assert.equal(p.lines.length, 6, 'three optimizers × below / above');
  assert.ok(p.legend.some((t) => t.startsWith('Nesterov')) && p.legend.some((t) => t.startsWith('GD')));
});
