// Figures: region × year IoU table (the layout of paper A Table 1 and paper B Tables 2–3), lead-time curves, input/truth/probability/prediction
// frames with the target box drawn (PNG), and the augmentation policy applied to an arrow field.
import * as torch from '../../core/torch/index.ts';
import type { Tensor } from '../../core/torch/index.ts';
import { writeImage } from '../../core/io/image.ts';
import { lineChart } from '../../core/plots.ts';
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

/** Training loss against step (the `train` table of the metrics). */
export function lossChart(rows: Record<string, unknown>[]): Record<string, unknown> {
  return { title: 'training loss', width: 480, height: 260, data: { values: rows }, mark: 'line', encoding: { x: { field: 'step', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative', scale: { zero: false } } } };
}

/** Lead-time IoU curves, one series per configuration. Slot k is k·15 min ahead. */
export function leadTimeChart(curves: Record<string, number[]>, title = 'IoU by lead time'): Record<string, unknown> {
  const rows = Object.entries(curves).flatMap(([name, c]) => c.map((v, i) => ({ minutes: (i + 1) * 15, iou: v, config: name })));
  return lineChart(rows, { x: 'minutes', y: 'iou', color: 'config', title });
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
 * A PNG mosaic for one sample: rows = lead times; columns = IR_108 input (last slot, the target box
 * in red), truth, probability, prediction (≥ τ). Inputs are (C, tIn, H, W) standardised, truth and
 * probability (tOut, h, w); `irChannel`
 * indexes IR_108 among the loaded channels.
 */
export async function writeFrames(
  file: string, g: Geometry, x: Tensor, truth: Tensor, prob: Tensor, tau: number, irChannel: number, leads?: number[],
): Promise<void> {
  const side = 120, T = truth.shape[0]!;
  const ls = leads ?? [...new Set([0, Math.floor((T - 1) / 2), T - 1])];
  const img = torch.noGrad(() => torch.scope(() => {
    const ir = x.select(0, irChannel).select(0, x.shape[1]! - 1);
    // colder (lower IR) = brighter cloud: invert after min-max scaling
    const lo = ir.min().item(), hi = ir.max().item();
    const irN = ir.sub(lo).div(Math.max(1e-6, hi - lo)).rsub(1);
    const irRgb = toRgb(irN).clone();
    const s = cropStart(g), e = s + g.cropSize - 1;
    for (const [r0, r1, c0, c1] of [[s, s, s, e], [e, e, s, e], [s, e, s, s], [s, e, e, e]] as const) {
      irRgb.at(0, [r0, r1 + 1], [c0, c1 + 1]).fill_(1);
      irRgb.at(1, [r0, r1 + 1], [c0, c1 + 1]).fill_(0);
      irRgb.at(2, [r0, r1 + 1], [c0, c1 + 1]).fill_(0);
    }
    const irBig = enlarge(irRgb, side);
    const gap = torch.ones([3, side, 4]);
    const rows = ls.map((t) => {
      const panels = [irBig, enlarge(toRgb(truth.select(0, t).to('float32')), side), enlarge(toRgb(prob.select(0, t).to('float32')), side), enlarge(toRgb(prob.select(0, t).ge(tau).to('float32')), side)];
      return torch.cat(panels.flatMap((p, i) => (i ? [gap, p] : [p])), 2);
    });
    const hgap = torch.ones([3, 4, rows[0]!.shape[2]!]);
    return torch.cat(rows.flatMap((r, i) => (i ? [hgap, r] : [r])), 1);
  }));
  await writeImage(file, img);
  img.dispose();
}
