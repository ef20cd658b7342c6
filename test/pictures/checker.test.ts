// The picture checker (test/helpers/picture.ts) passes a good chart and fails broken ones: a missing
// or raw axis title, a plot without marks, a line flattened onto its axis by a shared scale, a
// legend entry cut short, a blank image grid. And the chart helpers of src/core/plots.ts: axis
// titles from a metric declaration, and a log axis that survives zeros.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { savePlot, lineChart, metricTitle, xTitle, declaredMetric, type VegaLiteSpec } from '../../src/core/plots.ts';
import { checkPicture, readPicture } from '../helpers/picture.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-checker-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
async function draw(spec: VegaLiteSpec | string): Promise<{ svg: string; png: Buffer }> {
  const p = await savePlot(path.join(dir, `p${n++}`), spec);
  return { svg: fs.readFileSync(p.svg, 'utf8'), png: fs.readFileSync(p.png) };
}

const LOSS = { name: 'loss', label: 'training loss', unit: 'nats', x: 'step', scale: 'log' } as const;
const rows = Array.from({ length: 40 }, (_, i) => ({ step: i, loss: Math.exp(-i / 10), run: 'a' }));
const good = () => lineChart(rows, { x: 'step', y: 'loss', logY: true, xTitle: xTitle(LOSS.x), yTitle: metricTitle(LOSS) });
const expect = { axisTitles: ['step', 'training loss (nats) (log scale)'], notTitles: ['loss'], span: {} };

test('metricTitle / xTitle: label, unit and log scale from a declaration; declaredMetric finds it or says which is missing', () => {
  assert.equal(metricTitle(LOSS), 'training loss (nats) (log scale)');
  assert.equal(metricTitle({ label: 'test accuracy', scale: 'linear' }), 'test accuracy');
  assert.equal(metricTitle(LOSS, { log: false }), 'training loss (nats)');
  assert.equal(xTitle('eta'), 'step size η');
  assert.equal(xTitle('time'), 'time t = η · step');
  assert.equal(xTitle('iteration', { log: true }), 'iteration (log scale)');
  assert.equal(declaredMetric([LOSS, { name: 'acc', table: 'val', label: 'acc', x: 'step', scale: 'linear' }], 'acc', 'val').label, 'acc');
  assert.throws(() => declaredMetric([LOSS], 'acc'), /no metric 'acc'/);
});

test('a good chart passes: titles from the declaration, marks, the line across the plot', async () => {
  const { svg, png } = await draw(good());
  assert.deepEqual(await checkPicture(svg, png, expect), []);
  const p = readPicture(svg);
  assert.equal(p.plots.length, 1);
  assert.equal(p.lines.length, 1);
  assert.equal(p.lines[0]!.points, 40);
});

test('fails: axis titles missing or raw column names', async () => {
  const raw = await draw(lineChart(rows, { x: 'step', y: 'loss', logY: true }));
  const bad = await checkPicture(raw.svg, raw.png, expect);
  assert.ok(bad.some((b) => /axis title 'training loss \(nats\) \(log scale\)' missing/.test(b)), bad.join('; '));
  assert.ok(bad.some((b) => /'loss' is a raw column name/.test(b)), bad.join('; '));
  const none = await draw({ ...good(), layer: [{ mark: 'line', encoding: { x: { field: 'step', type: 'quantitative', title: null }, y: { field: 'loss', type: 'quantitative', title: null } } }] });
  assert.ok((await checkPicture(none.svg, none.png, expect)).some((b) => /missing \(has: none\)/.test(b)));
});

test('fails: no marks (no rows, or every value dropped) and a blank plot', async () => {
  const empty = await draw(lineChart([], { x: 'step', y: 'loss', xTitle: 'step', yTitle: 'training loss (nats) (log scale)' }));
  const bad = await checkPicture(empty.svg, empty.png, { ...expect, notTitles: [] });
  assert.ok(bad.some((b) => /^no marks/.test(b)), bad.join('; '));
  assert.ok(bad.some((b) => /colour/.test(b)), bad.join('; '));
  assert.ok(bad.some((b) => /no line drawn/.test(b)), bad.join('; '));
});

test('fails: a series flattened onto the axis by a shared linear scale (one series 10⁶ times the other)', async () => {
  const two = [...rows.map((r) => ({ ...r, run: 'small' })), ...rows.map((r) => ({ ...r, loss: 1e6 * (1 + r.step), run: 'large' }))];
  const { svg, png } = await draw(lineChart(two, { x: 'step', y: 'loss', color: 'run', xTitle: 'step', yTitle: 'training loss (nats)' }));
  const bad = await checkPicture(svg, png, { span: { perLine: 0.05 } });
  assert.equal(bad.length, 1, bad.join('; '));
  assert.match(bad[0]!, /a line spans 0\.\d % of the height \(flattened\)/);
});

test('fails: a legend entry cut short (a spec that sets a label limit); by default labels are whole', async () => {
  const long = rows.map((r) => ({ ...r, run: 'gradient-flow prediction ℓ″(0)(y₀² − x₀²)' }));
  const whole = await draw(lineChart(long, { x: 'step', y: 'loss', color: 'run', xTitle: 'step', yTitle: 'loss' }));
  assert.ok(readPicture(whole.svg).legend.includes('gradient-flow prediction ℓ″(0)(y₀² − x₀²)'));
  const cut = await draw({ ...lineChart(long, { x: 'step', y: 'loss', color: 'run', xTitle: 'step', yTitle: 'loss' }), config: { legend: { labelLimit: 80 } } });
  assert.ok((await checkPicture(cut.svg, cut.png)).some((b) => /legend entry '.*…' is cut off/.test(b)));
});

test('a log axis survives zeros: the zero rows are left out, the others drawn', async () => {
  const withZeros = rows.map((r, i) => ({ ...r, loss: i % 5 === 0 ? 0 : r.loss }));
  const { svg, png } = await draw(lineChart(withZeros, { x: 'step', y: 'loss', logY: true, xTitle: 'step', yTitle: 'training loss (nats) (log scale)' }));
  assert.deepEqual(await checkPicture(svg, png, expect), []);
  assert.equal(readPicture(svg).lines[0]!.points, 32);
});

test('image grids: plot areas are the cells; a grid of blank cells fails, labels are read', async () => {
  const cell = (fill: string) => `<image class="cell" x="10" y="30" width="64" height="64" href="data:image/svg+xml;base64,${Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="${fill}"/><circle cx="32" cy="32" r="16" fill="#c33"/></svg>`,
  ).toString('base64')}"/>`;
  const doc = (inner: string) => '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="110"><rect width="100" height="110" fill="white"/>'
    + `<text class="row-label" x="5" y="20">input</text>${inner}</svg>`;
  const ok = await draw(doc(cell('#246')));
  assert.deepEqual(await checkPicture(ok.svg, ok.png, { texts: ['input'], span: false }), []);
  const blank = await draw(doc('<image class="cell" x="10" y="30" width="64" height="64"/>'));
  const bad = await checkPicture(blank.svg, blank.png, { texts: ['input', 'output'], span: false });
  assert.ok(bad.some((b) => /^no marks/.test(b)) && bad.some((b) => /text output missing/.test(b)), bad.join('; '));
});
