// The run page's viewers in a real browser (Debian's Chromium through playwright-core), on quick
// runs made here through the API: the traffic map (cells, flow arrows; clicking the change-point
// timeline changes the map's window; hover names cells and flows) and the action skeleton player
// (play advances the frames and the drawn joints move; true and predicted labels shown). Each
// viewer's screenshot is checked for content by its pixel statistics.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, skipWithoutChromium, screenshotDir, startDashboard, stopChild, runThroughApi, assertNotBlank, type Dashboard } from '../helpers/dashboard.ts';

const skip = skipWithoutChromium;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-viewers-'));
const shots = screenshotDir();

let server: Dashboard;
before(async () => {
  if (skip) return;
  server = await startDashboard(20000 + (process.pid % 1000), home);
});
after(() => stopChild(server?.child));

const apiRun = (body: Record<string, unknown>): Promise<string> => runThroughApi(server.url, body, 180_000);

async function browserPage() {
  const browser = await launchBrowser();
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { browser, page, errors };
}

test('browser: the traffic viewer maps cells and flows, and a click on the change-point timeline changes the window', { skip }, async () => {
  // a planted day (change points at known slices), then analyze with that truth
  const gen = await apiRun({ module: 'traffic', command: 'generate', params: { volume: 30, T: 48, geo: true } });
  const truth = (JSON.parse(fs.readFileSync(path.join(home, gen, 'truth.json'), 'utf8')) as { changepoint_slices: number[] }).changepoint_slices;
  const id = await apiRun({ module: 'traffic', command: 'analyze', params: { file: path.join(home, gen, 'points.csv'), truth: truth.map(String), plots: false, compare: false } });
  const { browser, page, errors } = await browserPage();
  try {
    await page.goto(`${server.url}/#/r/${encodeURIComponent(id)}`);
    const viewer = page.locator('[data-testid=viewer-traffic]');
    await viewer.locator('[data-testid=traffic-map] line.flow').first().waitFor();
    const cells = JSON.parse(fs.readFileSync(path.join(home, id, 'cells.geojson'), 'utf8')) as { features: unknown[] };
    const cpj = JSON.parse(fs.readFileSync(path.join(home, id, 'changepoints.json'), 'utf8')) as { n_slices: number; n_cells: number };
    const T = cpj.n_slices;
    // the files the viewer reads agree: one feature per cell with ids 0…N−1, flows between those ids within the slices, one score row per slice
    const ids = (cells.features as { properties: { cell_id: number } }[]).map((f) => f.properties.cell_id).sort((a, b) => a - b);
    assert.deepEqual(ids, [...Array(cpj.n_cells).keys()]);
    const flowRows = fs.readFileSync(path.join(home, id, 'flows.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(',').map(Number));
    assert.ok(flowRows.length > 0 && flowRows.every(([t, , a, b]) => t! >= 0 && t! < T && a! < cpj.n_cells && b! < cpj.n_cells && a! >= 0 && b! >= 0));
    assert.equal(fs.readFileSync(path.join(home, id, 'scores.csv'), 'utf8').trim().split('\n').length, T + 1);
    assert.equal(await viewer.locator('path.cell').count(), cells.features.length, 'one polygon per cell');
    assert.ok(await viewer.locator('line.flow').count() > 0, 'flow arrows');
    // the map keeps the data's aspect: its height follows the cells' extent, not a fixed box
    const box = (await viewer.locator('[data-testid=traffic-map]').boundingBox())!;
    assert.ok(box.width > 200 && box.height > 100, `map ${box.width}×${box.height}`);
    // timeline: detected change points and the planted truth, distinguished
    const tl = viewer.locator('[data-testid=traffic-timeline]');
    assert.ok(await tl.locator('line.changepoint').count() > 0, 'detected change points');
    assert.equal(await tl.locator('line.truth').count(), truth.filter((c) => c > 0 && c < T).length, 'one dashed line per ground-truth change point');
    assert.ok(await tl.locator('path.score').getAttribute('d'), 'the score curve');

    const map = viewer.locator('[data-testid=traffic-map]');
    const widths = () => viewer.locator('line.flow').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-src')}>${e.getAttribute('data-dst')}:${e.getAttribute('data-w')}`).sort().join(' '));
    const w0 = await map.getAttribute('data-window'), f0 = await widths();
    assert.equal(w0!.split('-')[0], '0', 'the first segment at the start');
    await tl.scrollIntoViewIfNeeded();
    const tb = (await tl.boundingBox())!;
    await page.mouse.click(tb.x + tb.width * 0.93, tb.y + tb.height * 0.5);
    await page.waitForFunction(`document.querySelector('[data-testid=traffic-map]')?.getAttribute('data-window') !== ${JSON.stringify(w0)}`);
    const w1 = await map.getAttribute('data-window');
    assert.ok(Number(w1!.split('-')[1]) === T, `a click near the end selects the last segment (${w1})`);
    assert.notEqual(await widths(), f0, 'other flows in the other window');
    // one slice
    await viewer.locator('[data-testid=traffic-window-mode]').selectOption('slice');
    const w2 = (await map.getAttribute('data-window'))!.split('-').map(Number);
    assert.equal(w2[1]! - w2[0]!, 1);
    await tl.focus();
    await page.keyboard.press(w2[0]! > 0 ? 'ArrowLeft' : 'ArrowRight');
    const w3 = (await map.getAttribute('data-window'))!.split('-').map(Number);
    assert.equal(Math.abs(w3[0]! - w2[0]!), 1, `← / → steps one slice: ${w2} → ${w3}`);
    // hover: a flow names its cells and its volume; a cell its id
    await viewer.locator('line.flow').last().hover({ force: true });
    await viewer.locator('[data-testid=traffic-hover]', { hasText: /flow cell \d+ → cell \d+: [\d.e+-]+ moves per slice/ }).waitFor();
    await viewer.locator('circle.seed').first().hover({ force: true });
    await viewer.locator('[data-testid=traffic-hover]', { hasText: /^cell \d+: out/ }).waitFor();
    await viewer.screenshot({ path: path.join(shots, 'viewer-traffic.png') });
    await assertNotBlank(path.join(shots, 'viewer-traffic.png'));
    await map.screenshot({ path: path.join(shots, 'viewer-traffic-map.png') });
    await assertNotBlank(path.join(shots, 'viewer-traffic-map.png'));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('browser: the traffic viewer on the quick command (synthetic): the planted grid, and a detector menu that switches the change points', { skip }, async () => {
  const id = await apiRun({ module: 'traffic', command: 'synthetic', params: { families: ['a'], detectors: ['pelt', 'lad'], seeds: 1, T: 48 } });
  const { browser, page, errors } = await browserPage();
  try {
    await page.goto(`${server.url}/#/r/${encodeURIComponent(id)}`);
    const viewer = page.locator('[data-testid=viewer-traffic]');
    await viewer.locator('line.flow').first().waitFor();
    assert.equal(await viewer.locator('path.cell').count(), 16, 'the 4 × 4 grid of the generator');
    assert.match(await viewer.locator('h3').innerText(), /family a, seed 0/);
    const cp = JSON.parse(fs.readFileSync(path.join(home, id, 'changepoints.json'), 'utf8')) as { changepoints: { slice: number }[]; others: { lad: { changepoints: { slice: number }[] } } };
    const marks = () => viewer.locator('[data-testid=traffic-timeline] line.changepoint').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-slice'))));
    assert.deepEqual(await marks(), cp.changepoints.map((c) => c.slice));
    await viewer.locator('[data-testid=traffic-detector]').selectOption('1');
    assert.deepEqual(await marks(), cp.others.lad.changepoints.map((c) => c.slice).filter((c) => c > 0));
    assert.match(await viewer.locator('[data-testid=traffic-timeline]').textContent() ?? '', /lad score/);
    await viewer.screenshot({ path: path.join(shots, 'viewer-traffic-synthetic.png') });
    await assertNotBlank(path.join(shots, 'viewer-traffic-synthetic.png'));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});

test('browser: the skeleton viewer plays an action clip (the joints move) with its true and predicted labels', { skip }, async () => {
  const id = await apiRun({ module: 'action', command: 'quick', params: { epochs: 2, nTrain: 24, nTest: 12 } });
  const { browser, page, errors } = await browserPage();
  try {
    await page.goto(`${server.url}/#/r/${encodeURIComponent(id)}`);
    const viewer = page.locator('[data-testid=viewer-skeleton]');
    const svg = viewer.locator('[data-testid=skeleton-svg]');
    await svg.locator('circle.joint').first().waitFor();
    assert.equal(await svg.locator('circle.joint').count(), 25, 'the NTU layout: 25 joints');
    assert.equal(await svg.locator('line.bone').count(), 24, '24 bones');
    assert.match(await viewer.locator('[data-testid=skeleton-true]').innerText(), /^true: \w+/);
    assert.match(await viewer.locator('[data-testid=skeleton-predicted]').innerText(), /^predicted: \w+ \(p = (0\.\d\d|1\.00)\)/);
    assert.match(await viewer.locator('[data-testid=skeleton-frame-label]').innerText(), /^frame 1 \/ \d+/);
    const joints = () => svg.locator('circle.joint').evaluateAll((els) => els.map((e) => `${e.getAttribute('cx')},${e.getAttribute('cy')}`).join(' '));
    const before0 = await joints();
    await viewer.locator('[data-testid=skeleton-play]').click();
    await page.waitForFunction("Number(document.querySelector('[data-testid=skeleton-svg]')?.getAttribute('data-frame')) >= 2");
    await viewer.locator('[data-testid=skeleton-play]').click(); // pause
    assert.equal(await viewer.locator('[data-testid=skeleton-play]').innerText(), 'Play');
    assert.notEqual(await joints(), before0, 'the drawn joints moved');
    assert.match(await viewer.locator('[data-testid=skeleton-frame-label]').innerText(), /^frame [3-9]|^frame \d\d/);
    // the scrubber sets the frame; another clip shows its own labels
    await viewer.locator('[data-testid=skeleton-frame]').fill('0');
    assert.equal(await svg.getAttribute('data-frame'), '0');
    const options = await viewer.locator('[data-testid=skeleton-clip] option').count();
    assert.ok(options >= 2, `${options} clips`);
    await viewer.locator('[data-testid=skeleton-clip]').selectOption('1');
    assert.match(await viewer.locator('[data-testid=skeleton-true]').innerText(), /^true: \w+/);
    await viewer.screenshot({ path: path.join(shots, 'viewer-skeleton.png') });
    await assertNotBlank(path.join(shots, 'viewer-skeleton.png'));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
