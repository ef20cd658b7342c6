import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sax from 'sax';
import sharp from 'sharp';
import { syntheticPoints } from '../../../src/modules/traffic/synthetic.ts';
import { runPipeline } from '../../../src/modules/traffic/pipeline.ts';
import { flowMapSvg, heatmapPlot, segmentSummaries } from '../../../src/modules/traffic/outputs.ts';
import { savePlotSvg, savePlot } from '../../../src/core/plots.ts';

/** Parses an SVG strictly (throws on malformed XML); returns its elements with their attributes. */
function parseSvg(svg: string): { name: string; attrs: Record<string, string> }[] {
  const p = sax.parser(true, {});
  const els: { name: string; attrs: Record<string, string> }[] = [];
  let err: Error | null = null;
  p.onerror = (e) => { err = e; };
  p.onopentag = (n) => els.push({ name: n.name, attrs: n.attributes as Record<string, string> });
  p.write(svg).close();
  if (err) throw err;
  return els;
}

async function checkPng(file: string, svgW: number, svgH: number) {
  const buf = fs.readFileSync(file);
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  const m = await sharp(buf).metadata();
  assert.equal(m.format, 'png');
  assert.equal(m.width, 2 * svgW); assert.equal(m.height, 2 * svgH);
}

test('flow map of a small scenario: a valid SVG (one path per flow bin and panel, legend, scale bar) and its PNG', async () => {
  const g = syntheticPoints({ family: 'a', seed: 21, volume: 30, T: 40, nChanges: 2, minSpacing: 10 });
  const r = await runPipeline(g.points, false, { detector: 'pelt', compare: false });
  const f = r.flows, segs = segmentSummaries(f, r.primary.changepoints).map((s) => ({ start: s.start_slice, end: s.end_slice }));
  assert.ok(segs.length >= 2, `segments ${segs.length}`);
  const svg = flowMapSvg(f, r.part, segs);
  const els = parseSvg(svg);
  const root = els[0]!;
  assert.equal(root.name, 'svg');
  const W = Number(root.attrs.width), H = Number(root.attrs.height);
  assert.ok(W > 0 && H > 0);
  // one panel per segment; in each, one <path> per non-empty bin, and the edges of every bin add up
  // to that segment's distinct edges (fewer than the 400 cap here)
  const panels = els.filter((e) => e.name === 'g' && e.attrs.class === 'panel');
  assert.equal(panels.length, segs.length);
  const legendBins = els.filter((e) => e.attrs.class === 'legend-bin');
  assert.ok(legendBins.length >= 2 && legendBins.length <= 10, `legend bins ${legendBins.length}`);
  const bins = els.filter((e) => e.attrs.class === 'flow-bin');
  const perPanel = new Map<number, number>();
  let panel = -1;
  for (const e of els) {
    if (e.attrs.class === 'panel') panel = Number(e.attrs['data-segment']);
    if (e.attrs.class === 'flow-bin') {
      assert.ok(Number(e.attrs['data-bin']) < legendBins.length);
      perPanel.set(panel, (perPanel.get(panel) ?? 0) + Number(e.attrs['data-edges']));
    }
  }
  assert.ok(bins.length >= segs.length && bins.length <= segs.length * legendBins.length, `${bins.length} flow paths`);
  segs.forEach((s, si) => {
    const edges = new Set<number>();
    for (let i = 0; i < f.slice.length; i++) if (f.slice[i]! >= s.start && f.slice[i]! < s.end && f.moves[i]! > 0) edges.add(f.src[i]! * f.N + f.dst[i]!);
    assert.equal(perPanel.get(si), edges.size, `segment ${si}: edges drawn`);
  });
  assert.equal(els.filter((e) => e.name === 'line').length, 0, 'no element per edge');
  assert.equal(els.filter((e) => e.name === 'g' && e.attrs.class === 'legend').length, 1);
  assert.equal(els.filter((e) => e.attrs.class === 'scale-bar').length, 1);
  assert.match(svg, /mean flow per slice, by segment/);
  assert.match(svg, /mean moves \/ slice/);
  // the picture says what it leaves out
  assert.match(flowMapSvg(f, r.part, segs, { maxPanels: 1, topEdges: 5 }), /strongest 5 edges per segment drawn \(\d+ weaker edges left out\).*first 1 of \d+ segments shown/s);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'traffic-plots-'));
  const out = await savePlotSvg(path.join(dir, 'flowmap'), svg);
  assert.equal(fs.readFileSync(out.svg, 'utf8'), svg);
  await checkPng(out.png, W, H);

  // the heat map: one embedded image for the cells, axes and a colour bar
  const hm = await heatmapPlot(f);
  const hels = parseSvg(hm);
  assert.equal(hels.filter((e) => e.name === 'image').length, 1);
  assert.equal(hels.filter((e) => e.name === 'rect').length <= 4, true, 'no rect per cell');
  assert.match(hm, /log\(1 \+ moves\)/);
  const hout = await savePlot(path.join(dir, 'heatmap'), hm);
  await checkPng(hout.png, Number(hels[0]!.attrs.width), Number(hels[0]!.attrs.height));

  await assert.rejects(savePlot(path.join(dir, 'x'), 'not an svg'), /must be an SVG document/);
  fs.rmSync(dir, { recursive: true, force: true });
});
