// Figures: region × year IoU table (the layout of paper A Table 1 and paper B Tables 2–3), lead-time curves, input/truth/probability/prediction
// frames with the target box drawn (PNG), and the augmentation policy applied to an arrow field.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { imageGridSvg } from '../../core/image-grid.ts';
import { lineChart, savePlotSvg, xmlEscape } from '../../core/plots.ts';
import { type Geometry, cropStart } from './geometry.ts';
import { regionLabel } from './data.ts';
import { TRANSFORMS, POLICY, INVERSE_POLICY, transformMotion } from './recipe.ts';

/** Vega-Lite heatmap of IoU per (year row, region column), values printed in the cells. */
export function regionYearTable(perCell: Record<string, { iou: number }>, title = 'IoU per region-year'): Record<string, unknown> {
  const rows = Object.entries(perCell).map(([cell, v]) => {
    const [region, year] = cell.split('/');
    return { region: regionLabel(region!), year: String(year), iou: Number(v.iou.toFixed(3)) };
  });
  return {
    title, data: { values: rows }, width: Math.max(160, 48 * new Set(rows.map((r) => r.region)).size), height: 40 * new Set(rows.map((r) => r.year)).size,
    encoding: { x: { field: 'region', type: 'nominal', sort: null }, y: { field: 'year', type: 'ordinal' } },
    layer: [
      { mark: 'rect', encoding: { color: { field: 'iou', type: 'quantitative', scale: { scheme: 'blues', domain: [0, 1] } } } },
      { mark: { type: 'text', fontSize: 11 }, encoding: { text: { field: 'iou', type: 'quantitative', format: '.3f' } } },
    ],
  };
}

/** Training loss against step (the `train` table of the metrics), with a 20-step moving average over the noisy per-batch values. */
export function lossChart(rows: Record<string, unknown>[]): Record<string, unknown> {
  const w = 20;
  const loss = rows.map((r) => Number(r.loss));
  const values = rows.flatMap((r, i) => {
    const win = loss.slice(Math.max(0, i - w + 1), i + 1);
    return [{ step: r.step, loss: loss[i], series: 'per batch' }, { step: r.step, loss: win.reduce((a, b) => a + b, 0) / win.length, series: `mean of last ${w}` }];
  }).filter((v) => v.loss! > 0); // a log axis: a zero would blank the chart
  return {
    title: 'training loss: weighted BCE + α·early + STL', width: 480, height: 280, data: { values }, mark: 'line',
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'optimiser step' },
      // the declared label and log scale of train.loss (commands.ts); the title says what it sums
      y: { field: 'loss', type: 'quantitative', title: 'training loss (log scale)', scale: { type: 'log', nice: false } },
      color: { field: 'series', type: 'nominal', title: null, scale: { domain: ['per batch', `mean of last ${w}`], range: ['#b8cce4', '#1f4e79'] } },
      order: { field: 'series' }, strokeWidth: { value: 2 },
    },
  };
}

/** Lead-time IoU curves, one series per configuration. Slot k is k·15 min ahead. */
export function leadTimeChart(curves: Record<string, number[]>, title = 'IoU by lead time'): Record<string, unknown> {
  const rows = Object.entries(curves).flatMap(([name, c]) => c.map((v, i) => ({ minutes: (i + 1) * 15, iou: v, config: name })));
  return lineChart(rows, { x: 'minutes', y: 'iou', color: 'config', title, xTitle: 'lead time (min)', yTitle: 'IoU', colorTitle: 'configuration' });
}

/** The policy on an arrow field: the ENE motion (east 2, north 1) after each transform; policy vs inverse. */
export function policyArrowChart(): Record<string, unknown> {
  const rows = TRANSFORMS.filter((t) => t !== 'hflip').map((t) => {
    const [e, n] = transformMotion(2, 1, t);
    const group = t === 'id' ? 'identity' : POLICY.includes(t) ? 'policy' : INVERSE_POLICY.includes(t) ? 'inverse policy' : 'other';
    return { transform: t, x0: 0, y0: 0, east: e, north: n, group };
  });
  return {
    title: 'direction-aware policy on an east-north-east motion', data: { values: rows },
    facet: { field: 'transform', type: 'nominal', columns: 4, sort: null },
    spec: {
      width: 90, height: 90,
      layer: [
        { mark: { type: 'rule', strokeWidth: 3 }, encoding: { x: { field: 'x0', type: 'quantitative', scale: { domain: [-2.5, 2.5] }, title: 'east' }, y: { field: 'y0', type: 'quantitative', scale: { domain: [-2.5, 2.5] }, title: 'north' }, x2: { field: 'east' }, y2: { field: 'north' }, color: { field: 'group', type: 'nominal' } } },
        { mark: { type: 'point', filled: true, size: 80 }, encoding: { x: { field: 'east', type: 'quantitative' }, y: { field: 'north', type: 'quantitative' }, color: { field: 'group', type: 'nominal' } } },
      ],
    },
  };
}

function toRgb(gray: Tensor): Tensor {
  return torch.scope(() => gray.unsqueeze(0).expand([3, gray.shape[0]!, gray.shape[1]!]).contiguous());
}

function enlarge(img: Tensor, side: number): Tensor {
  return torch.scope(() => torch.F.interpolate(img.unsqueeze(0), { size: [side, side], mode: 'nearest' }).squeeze(0));
}

/**
 * The IR_108 slot t of a standardised (C, tIn, H, W) input, colder = brighter on the scale [lo, hi]
 * shared by the input panels, with the target block's box in red.
 */
function irPanel(g: Geometry, x: Tensor, irChannel: number, t: number, side: number, lo: number, hi: number): Tensor {
  return torch.scope(() => {
    const ir = x.select(0, irChannel).select(0, t);
    // colder (lower IR) = brighter cloud: invert after scaling [lo, hi] to [0, 1]
    const irRgb = toRgb(ir.sub(lo).div(Math.max(1e-6, hi - lo)).rsub(1)).clone();
    const s = cropStart(g), e = s + g.cropSize - 1;
    for (const [r0, r1, c0, c1] of [[s, s, s, e], [e, e, s, e], [s, e, s, s], [s, e, e, e]] as const) {
      irRgb.at(0, [r0, r1 + 1], [c0, c1 + 1]).fill_(1);
      irRgb.at(1, [r0, r1 + 1], [c0, c1 + 1]).fill_(0);
      irRgb.at(2, [r0, r1 + 1], [c0, c1 + 1]).fill_(0);
    }
    return enlarge(irRgb, side);
  });
}

/** Lead-time slots shown in the frames: all when there are ≤ `max`, else `max` evenly spaced ones ending at the last. */
export function frameLeads(tOut: number, max = 4): number[] {
  if (tOut <= max) return [...Array(tOut).keys()];
  return [...new Set([...Array(max).keys()].map((i) => Math.round(((i + 1) * tOut) / max) - 1))];
}

/**
 * The labelled frames of one sample (frames.svg and frames.png): rows = IR_108 input (the target
 * block boxed in red; one input slot per column, the last under the rightmost), truth,
 * probability, prediction (≥ τ); columns = lead times in minutes (slot k is (k+1)·15 min ahead).
 * Inputs are (C, tIn, H, W) standardised, truth and probability (tOut, h, w); `irChannel` indexes
 * IR_108 among the loaded channels.
 */
export async function writeFrames(
  base: string, g: Geometry, x: Tensor, truth: Tensor, prob: Tensor, tau: number, irChannel: number, leads?: number[],
): Promise<{ svg: string; png: string }> {
  const side = 144, tIn = x.shape[1]!;
  const ls = leads ?? frameLeads(truth.shape[0]!);
  const n = ls.length, inSlots = ls.map((_, j) => Math.max(0, tIn - n + j)).map((t) => Math.min(t, tIn - 1));
  const { lo, hi } = torch.noGrad(() => torch.scope(() => {
    const ir = x.select(0, irChannel);
    return { lo: ir.min().item(), hi: ir.max().item() };
  }));
  const cells = torch.noGrad(() => torch.scope(() => [
    inSlots.map((t) => irPanel(g, x, irChannel, t, side, lo, hi)),
    ls.map((t) => enlarge(toRgb(truth.select(0, t).to('float32')), side)),
    ls.map((t) => enlarge(toRgb(prob.select(0, t).to('float32').clamp(0, 1)), side)),
    ls.map((t) => enlarge(toRgb(prob.select(0, t).ge(tau).to('float32')), side)),
  ]));
  try {
    const svg = await imageGridSvg({
      title: 'nowcast: IR input, radar truth, predicted probability and rain mask by lead time',
      cells, rowLabels: ['input IR_108', 'truth (white = rain)', 'rain probability', `prediction (p ≥ ${tau})`],
      colLabels: ls.map((t) => `+${(t + 1) * 15} min`),
      captions: [inSlots.map((t) => (t === tIn - 1 ? 'input at t0' : `input t0 − ${(tIn - 1 - t) * 15} min`))],
    });
    return await savePlotSvg(base, withColourBars(svg, lo, hi, tau));
  } finally {
    torch.dispose(cells.flat());
  }
}

/**
 * The frames' scales, drawn under the grid: the IR_108 input's shared grey scale in its standardised
 * units (the reference preprocessing: σ of the channel from its mean; colder = brighter), the rain
 * probability's 0…1 with τ marked, and the two colours of the truth and prediction masks (the
 * competition's rain label, rate ≥ 0.2 mm/h).
 */
export function withColourBars(svg: string, lo: number, hi: number, tau: number): string {
  const m = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg);
  if (!m) return svg;
  const W = Number(m[1]), H = Number(m[2]), add = 74, H2 = H + add, bw = 220, bh = 14, x0 = 24, y0 = H + 22;
  const font = 'font-family="sans-serif"';
  const text = (x: number, y: number, t: string, anchor = 'middle', size = 11) => `<text x="${x}" y="${y}" ${font} font-size="${size}" text-anchor="${anchor}">${xmlEscape(t)}</text>`;
  const bar = (x: number, id: string, title: string, ticks: [number, string][]) => [
    text(x, y0 - 6, title, 'start', 12),
    `<rect x="${x}" y="${y0}" width="${bw}" height="${bh}" fill="url(#${id})" stroke="#666"/>`,
    ...ticks.flatMap(([f, l]) => [`<path d="M${x + f * bw} ${y0 + bh}v4" stroke="#333"/>`, text(x + f * bw, y0 + bh + 15, l)]),
  ].join('\n');
  const gx = x0 + bw + 60, sx = gx + bw + 60;
  const parts = [
    '<g class="colorbars">',
    '<defs><linearGradient id="cb-grey"><stop offset="0" stop-color="black"/><stop offset="1" stop-color="white"/></linearGradient></defs>',
    bar(x0, 'cb-grey', 'IR_108, standardised (σ; colder = brighter)', [[0, hi.toFixed(1)], [0.5, ((hi + lo) / 2).toFixed(1)], [1, lo.toFixed(1)]]),
    bar(gx, 'cb-grey', 'rain probability', [[0, '0'], [0.5, '0.5'], [1, '1']]),
    `<path class="tau" d="M${gx + tau * bw} ${y0 - 2}v${bh + 4}" stroke="red" stroke-width="2"/>`,
    text(gx + tau * bw, y0 + bh + 28, `τ = ${tau}`, 'middle', 10),
    text(sx, y0 - 6, 'truth and prediction', 'start', 12),
    `<rect x="${sx}" y="${y0}" width="${bh}" height="${bh}" fill="white" stroke="#666"/>`, text(sx + bh + 6, y0 + 11, 'rain (≥ 0.2 mm/h)', 'start'),
    `<rect x="${sx + 130}" y="${y0}" width="${bh}" height="${bh}" fill="black" stroke="#666"/>`, text(sx + 130 + bh + 6, y0 + 11, 'no rain', 'start'),
    '</g>',
  ];
  const W2 = Math.max(W, sx + 230);
  return svg
    .replace(`width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"`, `width="${W2}" height="${H2}" viewBox="0 0 ${W2} ${H2}"`)
    .replace(`<rect width="${W}" height="${H}" fill="white"/>`, `<rect width="${W2}" height="${H2}" fill="white"/>`)
    .replace(/<\/svg>\s*$/, `${parts.join('\n')}\n</svg>\n`);
}
