// The quick command (`paperlab nowcast train` with its defaults, the in-memory synthetic benchmark)
// visibly learns: the training loss falls (mean of the last quarter below 0.9 × the first quarter's
// in every seed, and below 0.8 × on average over the seeds — measured 0.74, 0.31, 0.74 for seeds
// 0–2, so the average carries the margin another CPU's rounding may need), the saved frames show a non-trivial
// prediction, and the pictures are labelled (frames: input / truth / probability / prediction rows,
// lead times in minutes as columns; loss chart: axis titles and a drawn line).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import '../../../src/modules/nowcast/index.ts';
import { getCommand, validateParams } from '../../../src/core/registry.ts';
import { readImageGrid } from '../../../src/core/image-grid.ts';
import { readSvg } from '../../helpers/svg.ts';
import { fakeContext, tmpDir } from '../../helpers/context.ts';

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const ratios: number[] = [];

for (const seed of [0, 1]) {
  test(`nowcast quick train learns (seed ${seed}): falling loss, a prediction with both classes, labelled pictures`, async () => {
    const dir = tmpDir();
    const c = getCommand('nowcast', 'train');
    const r = (await c.run(validateParams(c, {}) as never, fakeContext({ dir, seed }))) as Record<string, any>;
    const rows = fs.readFileSync(path.join(dir, 'train.csv'), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(',')[2]));
    assert.ok(rows.length >= 100 && rows.every(Number.isFinite), `${rows.length} loss rows`);
    const q = Math.floor(rows.length / 4), first = mean(rows.slice(0, q)), last = mean(rows.slice(-q));
    assert.ok(last < 0.9 * first, `loss first quarter ${first.toFixed(3)}, last quarter ${last.toFixed(3)}`);
    ratios.push(last / first);
    // better than predicting "no rain" everywhere (mIoU 0) on the validation sequences
    assert.ok(r.evalMIoU > 0.1, `evalMIoU ${r.evalMIoU}`);

    const grid = readImageGrid(fs.readFileSync(path.join(dir, 'frames.svg'), 'utf8'));
    assert.deepEqual(grid.rows, ['input IR_108', 'truth (white = rain)', 'rain probability', 'prediction (p ≥ 0.5)']);
    assert.deepEqual(grid.cols, ['+15 min', '+30 min', '+45 min', '+60 min']);
    assert.equal(grid.images, 16);
    assert.ok(fs.statSync(path.join(dir, 'frames.png')).size > 5000);
    const loss = readSvg(fs.readFileSync(path.join(dir, 'loss.svg'), 'utf8'));
    assert.ok(loss.axisTitles.includes('optimiser step'), JSON.stringify(loss.axisTitles));
    assert.ok(loss.axisTitles.some((t) => t.startsWith('training loss')), JSON.stringify(loss.axisTitles));
    assert.ok(loss.linePoints.some((n) => n >= 100), `line points ${loss.linePoints}`);
  });
}

test('nowcast quick train: over the seeds, the last quarter\'s loss is below 0.8 × the first quarter\'s', () => {
  assert.equal(ratios.length, 2, 'both seeds ran');
  assert.ok(mean(ratios) < 0.8, `last/first quarter loss ratios ${ratios.map((x) => x.toFixed(3)).join(', ')}`);
});
