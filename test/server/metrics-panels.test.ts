// The run page's metric panels and compare in a real browser (Debian's Chromium through
// playwright-core): a probes run shows one panel per declared group on its declared x axis (read
// from the SVG's axis titles), with the 2/η reference, log toggle and smoothing; compare of two
// runs shows every metric of both, and the side-by-side summary table.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, skipWithoutChromium, screenshotDir, startDashboard, stopChild, runThroughApi, assertNotBlank, type Dashboard } from '../helpers/dashboard.ts';

const skip = skipWithoutChromium;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-panels-'));
const shots = screenshotDir();

let server: Dashboard;
before(async () => {
  server = await startDashboard(19000 + (process.pid % 1000), home);
});
after(() => stopChild(server?.child));

const apiRun = (body: Record<string, unknown>): Promise<string> => runThroughApi(server.url, body, 120_000);

const probes = (eta: number) => ({ module: 'unstable-convergence', command: 'probes', params: { steps: 30, eta, probeFreq: 3, controlProbeFreq: 7, k: 2 } });
/** The axis titles of a panel's SVG, as Vega writes them (aria-label "X-axis titled '…'"). */
const axisTitle = (panel: import('playwright-core').Locator, axis: 'X' | 'Y') =>
  panel.locator(`svg g[aria-label^="${axis}-axis titled"]`).first().getAttribute('aria-label');

test('browser: a probes run shows one panel per declared group on its declared x axis; compare of two runs shows every metric', { skip }, async () => {
  const a = await apiRun(probes(0.5));
  const b = await apiRun(probes(0.4));
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const mods = await (await fetch(server.url + '/api/modules')).json() as { name: string; commands: { name: string; metrics: { name: string; table: string; group: string }[] }[] }[];
    const decls = mods.find((m) => m.name === 'unstable-convergence')!.commands.find((c) => c.name === 'probes')!.metrics;
    const groups = [...new Set(decls.map((d) => d.group))];

    await page.goto(`${server.url}/#/r/${encodeURIComponent(a)}`);
    await page.waitForSelector('[data-testid=charts] [data-group="sharpness"] svg');
    for (const g of groups) await page.locator(`[data-testid=charts] [data-testid=panel][data-group="${g}"] svg`).waitFor();
    const sharp = page.locator('[data-testid=charts] [data-group="sharpness"]');
    assert.match((await axisTitle(sharp, 'X'))!, /titled 'step'/);
    assert.match((await axisTitle(sharp, 'Y'))!, /sharpness λ₁/);
    assert.match(await sharp.locator('svg').textContent() ?? '', /2\/η = 4/, 'the 2/η reference line of η = 0.5');
    // not "the first numeric column": no panel plots against η or time, and none plots η itself
    for (const x of await page.locator('[data-testid=charts] [data-testid=panel]').evaluateAll((els) => els.map((e) => e.getAttribute('data-x')))) {
      assert.ok(x === 'step', `a panel plots against ${x}`);
    }
    assert.equal(await page.locator('[data-testid=charts] [data-metrics~="probes.eta"]').count(), 0);
    // hover: the values of every series at the x under the pointer
    const area = (await sharp.locator('svg').boundingBox())!;
    await page.mouse.move(area.x + area.width * 0.5, area.y + area.height * 0.35);
    await page.mouse.move(area.x + area.width * 0.52, area.y + area.height * 0.35);
    await sharp.locator('[data-testid=hover-values]', { hasText: /step \d+ · sharpness λ₁ · run eos: \d/ }).waitFor();
    // drag selects an x range to zoom into; double-click resets
    const xLabel = async () => (await axisTitle(sharp, 'X'))!;
    const full = await xLabel();
    const box = (await sharp.locator('svg').boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.4, box.y + box.height * 0.4);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.4, { steps: 5 });
    await page.mouse.up();
    await sharp.locator(`svg g[aria-label^="X-axis titled"]:not([aria-label="${full}"])`).waitFor();
    const zoomed = /values from (\S+) to (\S+)/.exec(await xLabel())!;
    assert.ok(Number(zoomed[1]) > 0 && Number(zoomed[2]) < 30, `zoomed axis: ${zoomed[0]}`);
    await sharp.locator('svg').dblclick();
    await sharp.locator(`svg g[aria-label="${full}"]`).waitFor();
    // the loss panel is declared log; the toggle makes it linear
    const loss = page.locator('[data-testid=charts] [data-group="loss"]');
    assert.match((await axisTitle(loss, 'Y'))!, /log scale/);
    await loss.locator('[data-testid=log-toggle]').uncheck();
    await loss.locator('svg g[aria-label^="Y-axis titled"][aria-label*="linear scale"]').waitFor();
    await loss.locator('[data-testid=smoothing]').fill('0.8');
    await loss.locator('[data-testid=smoothing]').dispatchEvent('change');
    // smoothed: each run's raw line (faded) and its EMA
    await loss.locator('svg path[aria-roledescription="line mark"]').nth(3).waitFor();
    await page.screenshot({ path: path.join(shots, 'probes-panels.png'), fullPage: true });
    await assertNotBlank(path.join(shots, 'probes-panels.png'));

    await page.goto(`${server.url}/#/compare/${encodeURIComponent(a)},${encodeURIComponent(b)}`);
    await page.waitForSelector('[data-testid=compare-charts] [data-testid=compare-panel] svg');
    for (const g of groups) await page.locator(`[data-testid=compare-charts] [data-group="${g}"] svg`).waitFor();
    const shown = (await page.locator('[data-testid=compare-panel]').evaluateAll((els) => els.map((e) => e.getAttribute('data-metrics')))).join(' ').split(' ');
    for (const d of decls) assert.ok(shown.includes(`${d.table}.${d.name}`), `compare misses ${d.table}.${d.name}`);
    // both runs overlaid: the legend of the sharpness panel names each run (eos and control lines of each)
    const legend = await page.locator('[data-testid=compare-charts] [data-group="sharpness"] svg').textContent() ?? '';
    for (const id of [a, b]) assert.ok(legend.includes(id.slice(-6)), `the sharpness panel has no line of ${id}`);
    const side = page.locator('[data-testid=summary-side]');
    assert.equal(await side.locator('tr').first().locator('th').count(), 3, 'one column per run');
    assert.match(await side.innerText(), /last sharpness λ₁/);
    await page.screenshot({ path: path.join(shots, 'compare-panels.png'), fullPage: true });
    await assertNotBlank(path.join(shots, 'compare-panels.png'));
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
