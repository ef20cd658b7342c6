// The prostate slice viewer (web/viewers/slices.js) in a real browser (Debian's Chromium through
// playwright-core): a tiny demo run trains on phantoms, a detect run (detection maps and its copied
// scans/zonal masks as .mha) uses it; the detect run's page shows the viewer, the wheel, the arrow
// keys and the slider change the slice and the canvas with it, the heat overlay colours exactly the
// voxels where the detection map (read by the TS reader) is non-zero, the zonal tint exactly the
// gland, and the legends are there. The demo run (.nii.gz) shows the same viewer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { launchBrowser, skipWithoutChromium, screenshotDir, startDashboard, stopChild, runThroughApi, assertNotBlank, type Dashboard } from '../helpers/dashboard.ts';
import sharp from 'sharp';
import type { Locator, Page } from 'playwright-core';
import { readMetaImage } from '../../src/modules/prostate/metaimage.ts';

const skip = skipWithoutChromium;
const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-slices-'));
const shots = screenshotDir();

let server: Dashboard;
before(async () => {
  if (skip) return;
  server = await startDashboard(21000 + (process.pid % 1000), home);
});
after(async () => {
  await stopChild(server?.child);
  fs.rmSync(home, { recursive: true, force: true });
});

const apiRun = (body: Record<string, unknown>): Promise<string> => runThroughApi(server.url, body, 240_000);

// the page's elements, as far as these tests touch them (the test typecheck has no DOM library)
interface CanvasLike { dataset: Record<string, string | undefined>; width: number; height: number; getContext(k: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null }
interface ControlLike { value: string; dispatchEvent(e: unknown): boolean }
declare const Event: new (type: string, init?: { bubbles?: boolean }) => unknown;

/** RGB at the centre of every voxel of the shown slice, [y][x] flattened (3 numbers per voxel). */
const voxelColours = (canvas: Locator) => canvas.evaluate((c: CanvasLike) => {
  const nx = Number(c.dataset.nx), ny = Number(c.dataset.ny);
  const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
  const out: number[] = [];
  for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) {
    const o = (Math.floor(((y + 0.5) * c.height) / ny) * c.width + Math.floor(((x + 0.5) * c.width) / nx)) * 4;
    out.push(d[o]!, d[o + 1]!, d[o + 2]!);
  }
  return out;
});
/** Sets a range/number/select control as a user would, firing its input and change events. */
const setControl = (page: Page, testid: string, value: string) => page.locator(`[data-testid=slice-viewer] [data-testid=${testid}]`).evaluate((el: ControlLike, v) => {
  el.value = v;
  el.dispatchEvent(new Event('input', { bubbles: true }));
  el.dispatchEvent(new Event('change', { bubbles: true }));
}, value);
const sliceOf = async (canvas: Locator) => Number(await canvas.getAttribute('data-slice'));
const differs = (a: number[], b: number[]) => a.some((v, i) => v !== b[i]);

test('browser: a detect run shows the slice viewer; wheel, keys and slider change the slice; the overlay sits where the map is non-zero', { skip, timeout: 480_000 }, async () => {
  const demo = await apiRun({ module: 'prostate', command: 'demo', params: { cases: 6, iterations: 20 } });
  const det = await apiRun({ module: 'prostate', command: 'detect', params: { data: path.join(home, demo, 'phantoms'), model: path.join(home, demo), format: 'mha' } });
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/#/r/${encodeURIComponent(det)}`);
    const canvas = page.locator('[data-testid=slice-viewer] [data-testid=slice-canvas]');
    await page.locator('[data-testid=slice-canvas][data-slice]').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('[data-testid=slice-error]').textContent(), '', 'the viewer reports an error');
    const key = (await canvas.getAttribute('data-case'))!;
    const map = readMetaImage(path.join(home, det, 'detections', `${key}_detection_map.mha`));
    const zones = readMetaImage(path.join(home, det, 'volumes', `${key}_zones.mha`));
    const labelFile = path.join(home, det, 'volumes', `${key}_label.mha`);
    const label = fs.existsSync(labelFile) ? readMetaImage(labelFile).data : new Uint8Array(zones.data.length);
    const [nx, ny, nz] = map.dims;
    assert.deepEqual([await canvas.getAttribute('data-nx'), await canvas.getAttribute('data-ny'), await canvas.getAttribute('data-nz')], [nx, ny, nz].map(String), 'the canvas names the map\'s dims');
    assert.equal(await canvas.getAttribute('data-channel'), 't2w', 'T2W first');

    // it opens on the slice holding the map's maximum, which has detections on it
    const z0 = await sliceOf(canvas);
    const onSlice = (v: ArrayLike<number>, z: number) => Array.from({ length: nx * ny }, (_, i) => v[z * nx * ny + i]!);
    const d0 = onSlice(map.data, z0);
    assert.ok(d0.some((d) => d > 0), `case ${key}: no detection on the opening slice ${z0}`);
    assert.match((await page.locator('[data-testid=slice-info]').textContent())!, new RegExp(`^slice ${z0 + 1} / ${nz} · position S -?\\d+\\.\\d+ mm · spacing 0\\.5 × 0\\.5 × 3 mm`), 'slice, position and spacing shown');

    // the overlay: with opacity 1 every voxel with likelihood > 0 takes a heat colour (red ≥ green ≥ blue, red ≥ 110),
    // every other voxel is exactly as without the overlay
    await setControl(page, 'zone-mode', 'off');
    await setControl(page, 'opacity', '0');
    const bare = await voxelColours(canvas);
    await setControl(page, 'opacity', '1');
    const heat = await voxelColours(canvas);
    let coloured = 0;
    d0.forEach((d, i) => {
      const [r, g, b] = heat.slice(3 * i, 3 * i + 3) as [number, number, number];
      if (d > 0) {
        assert.ok(r >= 110 && r >= g && g >= b, `voxel ${i} (likelihood ${d}) is not heat-coloured: ${r},${g},${b}`);
        coloured++;
      } else assert.deepEqual(heat.slice(3 * i, 3 * i + 3), bare.slice(3 * i, 3 * i + 3), `voxel ${i} has no detection but changed with the overlay`);
    });
    assert.ok(coloured > 0, 'no voxel coloured');
    // the grey scan under it is not uniform (window/level auto from the percentiles)
    assert.ok(new Set(bare.filter((_, i) => i % 3 === 0)).size > 10, 'the scan looks flat');

    // the zonal tint covers exactly the gland's voxels (and the lesion label's, tinted green)
    await setControl(page, 'opacity', '0');
    await setControl(page, 'zone-mode', 'fill');
    const tinted = await voxelColours(canvas);
    const z0zones = onSlice(zones.data, z0);
    assert.ok(z0zones.some((v) => v === 1) || z0zones.some((v) => v === 2), 'no zone on the opening slice');
    const z0label = onSlice(label, z0);
    z0zones.forEach((zc, i) => assert.equal(differs(tinted.slice(3 * i, 3 * i + 3), bare.slice(3 * i, 3 * i + 3)), zc > 0 || z0label[i]! > 0, `voxel ${i} zone ${zc}`));
    await setControl(page, 'zone-mode', 'outline');
    await setControl(page, 'opacity', '0.6');

    // wheel, keys, slider: the slice changes and the picture with it
    const before = await voxelColours(canvas);
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const dir = z0 < nz - 1 ? 1 : -1;
    await page.mouse.wheel(0, 100 * dir);
    await page.locator(`[data-testid=slice-canvas][data-slice="${z0 + dir}"]`).waitFor();
    assert.ok(differs(await voxelColours(canvas), before), 'the wheel changed the slice number but not the picture');
    await canvas.click();
    await page.keyboard.press(dir > 0 ? 'ArrowDown' : 'ArrowUp');
    await page.locator(`[data-testid=slice-canvas][data-slice="${z0}"]`).waitFor();
    assert.deepEqual(await voxelColours(canvas), before, 'back on the same slice, the same picture');
    await page.keyboard.press(dir > 0 ? 'ArrowUp' : 'ArrowDown');
    await page.locator(`[data-testid=slice-canvas][data-slice="${z0 + dir}"]`).waitFor();
    await page.keyboard.press('Home');
    await page.locator('[data-testid=slice-canvas][data-slice="0"]').waitFor();
    await setControl(page, 'slice-range', String(nz - 1));
    assert.equal(await sliceOf(canvas), nz - 1, 'the slider moved to the last slice');
    assert.match((await page.locator('[data-testid=slice-info]').textContent())!, new RegExp(`^slice ${nz} / ${nz} `), 'the last slice\'s number');
    await setControl(page, 'slice-range', String(z0));

    // channels and window/level
    const t2 = await voxelColours(canvas);
    await setControl(page, 'channel', 'adc');
    assert.equal(await canvas.getAttribute('data-channel'), 'adc', 'ADC chosen');
    assert.ok(differs(await voxelColours(canvas), t2), 'ADC looks like T2W');
    await setControl(page, 'channel', 't2w');
    const w0 = Number(await page.locator('[data-testid=slice-viewer] [data-testid=window]').inputValue());
    assert.ok(w0 > 0, `window ${w0}`);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 + 120, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    const w1 = Number(await page.locator('[data-testid=slice-viewer] [data-testid=window]').inputValue());
    assert.ok(w1 > w0 * 1.5, `dragging right widens the window: ${w0} → ${w1}`);
    assert.ok(differs(await voxelColours(canvas), t2), 'a wider window, the same picture');
    await page.locator('[data-testid=slice-viewer] [data-testid=auto-window]').click();
    assert.deepEqual(await voxelColours(canvas), t2, 'auto restores the percentile window');

    // legends
    const legend = page.locator('[data-testid=slice-viewer] [data-testid=heat-legend]');
    assert.match((await legend.textContent())!, /csPCa likelihood.*0.*0\.5.*1/, 'the heat legend');
    assert.match((await page.locator('[data-testid=slice-viewer] [data-testid=zone-legend]').textContent())!, /PZ.*TZ/, 'the zone legend');
    await page.locator('[data-testid=slice-viewer]').screenshot({ path: path.join(shots, 'slice-viewer.png') });
    // another case from the selector (the cases come most suspicious first: the opening one leads)
    const keys = await page.locator('[data-testid=slice-viewer] [data-testid=case] option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value));
    assert.equal(keys.length, 6, 'every detected case is listed');
    assert.equal(keys[0], key, 'the opening case leads the list');
    await setControl(page, 'case', keys[1]!);
    await page.locator(`[data-testid=slice-canvas][data-case="${keys[1]}"]`).waitFor();
    await assertNotBlank(path.join(shots, 'slice-viewer.png'));
    const shot = await sharp(path.join(shots, 'slice-viewer.png')).raw().toBuffer({ resolveWithObject: true });
    let warm = 0;
    for (let i = 0; i < shot.data.length; i += shot.info.channels) if (shot.data[i]! > 150 && shot.data[i]! > shot.data[i + 2]! + 60) warm++;
    assert.ok(warm > 200, `the screenshot shows little of the heat overlay/legend (${warm} warm pixels)`);

    // the demo run (detection maps and volumes as .nii.gz) has the viewer too
    await page.goto(`${server.url}/#/r/${encodeURIComponent(demo)}`);
    await page.locator('h1', { hasText: 'prostate demo' }).waitFor(); // the detect run's page (and its canvas) is gone
    await page.locator('[data-testid=slice-canvas][data-slice]').waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('[data-testid=slice-error]').textContent(), '', 'the viewer reports an error');
    assert.ok(new Set((await voxelColours(page.locator('[data-testid=slice-canvas]'))).filter((_, i) => i % 3 === 0)).size > 10, 'the demo run\'s scan looks flat');
    await page.screenshot({ path: path.join(shots, 'slice-viewer-demo-page.png'), fullPage: true });
    await assertNotBlank(path.join(shots, 'slice-viewer-demo-page.png'));
    assert.deepEqual(errors, [], `page errors: ${errors.join('; ')}`);
  } finally {
    await browser.close();
  }
});
