// `traffic synthetic` (the quick command) writes its first planted sequence as analyze names the
// files, for the dashboard's traffic viewer: cells.geojson (one polygon per cell, ids 0…N−1, metres),
// flows.csv (src/dst among those ids, slices within the sequence), scores.csv (one row per slice,
// a score column per detector), changepoints.json (detected change points, the others', the planted truth).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import '../../../src/modules/traffic/index.ts';
import { getCommand, validateParams } from '../../../src/core/registry.ts';
import { fakeContext, tmpDir } from '../../helpers/context.ts';

for (const points of [false, true]) {
  test(`traffic synthetic${points ? ' --points' : ''}: the first sequence's cells, flows, scores and change points, with consistent ids`, async () => {
    const dir = tmpDir();
    const c = getCommand('traffic', 'synthetic');
    const params = validateParams(c, { families: ['a', 'null'], detectors: ['pelt', 'lad'], seeds: 1, T: 48, gridSide: 4, points, ...(points ? { volume: 30 } : {}) });
    await c.run(params as never, fakeContext({ dir, seed: 3 }));
    const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
    const cp = JSON.parse(read('changepoints.json')) as {
      sequence: string; detector: string; n_slices: number; n_cells: number; slice_seconds: number; t0: number; truth: number[];
      changepoints: { slice: number; time_of_day: string }[]; others: Record<string, { changepoints: { slice: number }[] }>;
    };
    assert.equal(cp.sequence, 'family a, seed 3000');
    assert.equal(cp.detector, 'pelt');
    assert.deepEqual(Object.keys(cp.others), ['lad']);
    const T = cp.n_slices;
    // the planted day; points through the pipeline may spill a last trip into one more slice
    if (points) assert.ok(T === 48 || T === 49, `${T} slices`); else assert.equal(T, 48);
    assert.equal(cp.slice_seconds, 900);
    assert.ok(cp.truth.length > 0 && cp.truth.every((t) => Number.isInteger(t) && t > 0 && t < T), `truth ${cp.truth}`);
    assert.ok(cp.changepoints.every((x) => x.slice > 0 && x.slice < T && /^\d\d:\d\d$/.test(x.time_of_day)));

    const cells = JSON.parse(read('cells.geojson')) as { type: string; features: { properties: { cell_id: number }; geometry: { type: string; coordinates: number[][][] } }[] };
    assert.equal(cells.type, 'FeatureCollection');
    assert.equal(cells.features.length, cp.n_cells, 'one feature per cell');
    if (!points) assert.equal(cp.n_cells, 16, 'the 4 × 4 grid');
    assert.deepEqual(cells.features.map((f) => f.properties.cell_id).sort((a, b) => a - b), [...Array(cp.n_cells).keys()]);
    for (const f of cells.features) {
      assert.equal(f.geometry.type, 'Polygon');
      assert.ok(f.geometry.coordinates[0]!.length >= 4, `cell ${f.properties.cell_id} has a polygon`);
    }

    const flows = read('flows.csv').trim().split('\n');
    assert.equal(flows[0], 'slice,slice_start,src,dst,moves,objects');
    const rows = flows.slice(1).map((l) => l.split(',').map(Number));
    assert.ok(rows.length > T);
    for (const [t, start, a, b, m] of rows) {
      assert.ok(t! >= 0 && t! < T && start === cp.t0 + t! * 900, `slice ${t}`);
      assert.ok(a! >= 0 && a! < cp.n_cells && b! >= 0 && b! < cp.n_cells, `edge ${a}→${b} between cells of cells.geojson`);
      assert.ok(m! > 0);
    }
    const scores = read('scores.csv').trim().split('\n');
    assert.ok(scores[0]!.endsWith(',score_pelt,score_lad'), scores[0]);
    assert.equal(scores.length, T + 1, 'one row per slice');
  });
}
