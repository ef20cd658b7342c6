// Issue #25 in a real browser (Debian's Chromium through playwright-core): upload a photo on the
// cartoon apply form, run it, and the run page shows the photo and the cartoon before/after, both
// non-blank; the split slider moves by pointer and keyboard; moving the stroke control re-renders
// the "after" image through the live preview (its pixels change) without a new run; "Save as run"
// starts a real run with the previewed value.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { startServer, type Served } from '../../src/server/main.ts';
import { CHROMIUM, skipWithoutChromium, launchBrowser } from '../helpers/dashboard.ts';

const haveChromium = skipWithoutChromium === false;
const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pl-cui-')));
const root = path.join(tmp, 'runs');
const shots = process.env.PAPERLAB_SCREENSHOTS ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pl-shots-'));
// the committed CC0 photo (test/fixtures/cartoon/LICENSE.md: 96 px copy of scikit-image's chelsea), shown 3× larger
const FIXTURE = path.resolve('test/fixtures/cartoon/chelsea.png');
const photo = path.join(tmp, 'chelsea.png');
let srv: Served;

before(async () => {
  await sharp(FIXTURE).resize(288, 192).png().toFile(photo);
  srv = await startServer({ port: 0, root, cwd: tmp });
});
after(async () => { await srv.close(); });

async function assertNotBlank(file: string): Promise<void> {
  const stats = await sharp(file).stats();
  const spread = stats.channels.slice(0, 3).reduce((s, c) => s + c.stdev, 0) / 3;
  assert.ok(spread > 8, `${file} looks blank (pixel stdev ${spread.toFixed(1)})`);
}

// In the page (no DOM lib in tsconfig: typed loosely): an <img>'s pixels at its natural size.
type Pixels = { w: number; h: number; data: number[] };
const PIXELS = `(img) => new Promise((resolve, reject) => {
  const go = () => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    resolve({ w: c.width, h: c.height, data: Array.from(g.getImageData(0, 0, c.width, c.height).data) });
  };
  if (img.complete && img.naturalWidth) go(); else { img.addEventListener('load', go, { once: true }); img.addEventListener('error', reject, { once: true }); }
})`;
/** An <img>'s pixels (PIXELS run in the page on the element). */
const pixelsOf = async (img: import('playwright-core').Locator) => await img.evaluate((el, src) => (new Function(`return ${src}`))()(el), PIXELS) as Pixels;
const stdev = (p: Pixels) => {
  const rgb = p.data.filter((_, i) => i % 4 !== 3);
  const m = rgb.reduce((s, v) => s + v, 0) / rgb.length;
  return Math.sqrt(rgb.reduce((s, v) => s + (v - m) ** 2, 0) / rgb.length);
};
const meanAbsDiff = (a: Pixels, b: Pixels) => {
  assert.deepEqual([a.w, a.h], [b.w, b.h]);
  let d = 0;
  for (let i = 0; i < a.data.length; i++) if (i % 4 !== 3) d += Math.abs(a.data[i]! - b.data[i]!);
  return d / (a.data.length * 0.75);
};

test('browser: upload a photo → cartoon apply → before/after with a split slider and live stroke control; save as run', { skip: haveChromium ? false : `no ${CHROMIUM}` }, async () => {
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(srv.url + '/#/m/cartoon');
    const form = page.locator('[data-testid=form-apply]');
    await form.locator('[data-testid=upload-input]').setInputFiles(photo);
    await form.locator('[data-testid=run-apply]').click();
    await page.waitForURL(/#\/r\//);
    const first = decodeURIComponent(page.url().split('#/r/')[1]!);
    await page.waitForSelector('[data-testid=status].status-done', { timeout: 180_000 });
    const viewer = page.locator('[data-testid=cartoon-viewer]');
    await viewer.waitFor({ timeout: 30_000 });

    // both images: the run's files, at their full 288×192, not blank
    const beforeImg = viewer.locator('[data-testid=cartoon-before]');
    const afterImg = viewer.locator('[data-testid=cartoon-after]');
    const p0 = await pixelsOf(beforeImg);
    const c0 = await pixelsOf(afterImg);
    assert.deepEqual([p0.w, p0.h, c0.w, c0.h], [288, 192, 288, 192]);
    assert.ok(stdev(p0) > 10 && stdev(c0) > 10, `blank images: photo stdev ${stdev(p0).toFixed(1)}, cartoon ${stdev(c0).toFixed(1)}`);
    assert.ok(meanAbsDiff(p0, c0) > 3, 'the cartoon is the photo unchanged');
    assert.match(await viewer.innerText(), /photo/);
    assert.match(await viewer.locator('[data-testid=cartoon-label]').innerText(), /cartoon \(stroke α_s 3, abstraction α_a 2, hue 0°\)/);

    // the split: keyboard on the handle, then a pointer drag on the stage
    const stage = viewer.locator('[data-testid=cartoon-stage]');
    const split = async () => Number(await stage.getAttribute('data-split'));
    assert.equal(await split(), 50);
    await viewer.locator('[data-testid=cartoon-split]').focus();
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowLeft');
    assert.equal(await split(), 40);
    await page.keyboard.press('End');
    assert.equal(await split(), 100);
    const box = (await stage.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2, { steps: 5 });
    await page.mouse.up();
    assert.ok(Math.abs(await split() - 25) <= 1, `split after the drag: ${await split()}`);
    assert.match(await afterImg.evaluate((el) => (el as unknown as { style: { clipPath: string } }).style.clipPath), /inset\(0(px)? 0(px)? 0(px)? 2[45]/);
    assert.equal(await viewer.locator('[data-testid=cartoon-split]').getAttribute('aria-valuenow'), String(await split()));

    // live stroke control: the "after" image is re-rendered (preview), its pixels change; no run is created
    const runsBefore = fs.readdirSync(root).filter((f) => !f.startsWith('index.sqlite') && !f.startsWith('.')).length;
    await viewer.locator('[data-testid=cartoon-stroke]').fill('1');
    await page.waitForFunction(() => /"stroke":1,/.test((globalThis as unknown as { document: { querySelector: (s: string) => { dataset: Record<string, string> } } })
      .document.querySelector('[data-testid=cartoon-stage]').dataset.rendered ?? ''), undefined, { timeout: 120_000 });
    const c1 = await pixelsOf(afterImg);
    await viewer.locator('[data-testid=cartoon-stroke]').fill('5');
    await page.waitForFunction(() => /"stroke":5,/.test((globalThis as unknown as { document: { querySelector: (s: string) => { dataset: Record<string, string> } } })
      .document.querySelector('[data-testid=cartoon-stage]').dataset.rendered ?? ''), undefined, { timeout: 120_000 });
    const c5 = await pixelsOf(afterImg);
    assert.deepEqual([c1.w, c1.h], [288, 192], 'within the preview budget: the photo\'s own size');
    const d = meanAbsDiff(c1, c5);
    assert.ok(d > 1, `stroke 1 → 5 changed the preview by only ${d.toFixed(2)} per channel`);
    assert.match(await viewer.locator('[data-testid=cartoon-label]').innerText(), /stroke α_s 5,/);
    assert.match(await viewer.locator('[data-testid=cartoon-preview-state]').innerText(), /preview 288×192 px/);
    assert.equal(fs.readdirSync(root).filter((f) => !f.startsWith('index.sqlite') && !f.startsWith('.')).length, runsBefore, 'previews create no run');
    await viewer.screenshot({ path: path.join(shots, 'cartoon-before-after.png') });
    await assertNotBlank(path.join(shots, 'cartoon-before-after.png'));
    await page.screenshot({ path: path.join(shots, 'cartoon-run.png'), fullPage: true });
    await assertNotBlank(path.join(shots, 'cartoon-run.png'));

    // save as run: a new full-resolution run with stroke 5, whose page shows its own before/after
    await viewer.locator('[data-testid=cartoon-save]').click();
    await page.waitForURL((u) => /#\/r\//.test(u.hash) && !u.hash.includes(first));
    await page.waitForSelector('[data-testid=status].status-done', { timeout: 180_000 });
    await page.locator('[data-testid=cartoon-viewer] [data-testid=cartoon-label]', { hasText: 'stroke α_s 5,' }).waitFor({ timeout: 30_000 });
    const saved = await pixelsOf(page.locator('[data-testid=cartoon-after]'));
    assert.ok(meanAbsDiff(saved, c5) < 2, `the saved run's cartoon differs from the preview by ${meanAbsDiff(saved, c5).toFixed(2)}`);
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
  }
});
