// Plots as SVG and PNG from Vega-Lite specs: vega-lite compiles, vega renders headless to SVG,
// sharp rasterizes the SVG to PNG. No browser, no canvas.
// vega, vega-lite and sharp load on the first render, not with this file: the spec builders below
// are used by modules whose commands are listed (and --help'd) without drawing anything.
import { writeFileAtomic } from './io/atomic.ts';

export type VegaLiteSpec = Record<string, unknown>;

/** Renders a Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const full = { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', background: 'white', ...spec };
  const [vl, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const compiled = vl.compile(full as unknown as import('vega-lite').TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterizes an SVG string to PNG bytes (scale 2 for crisp figures). */
export async function svgToPng(svg: string, density = 144): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  return sharp(Buffer.from(svg), { density }).png().toBuffer();
}

/** Writes <base>.svg and <base>.png atomically; returns both paths. */
export async function savePlot(base: string, spec: VegaLiteSpec): Promise<{ svg: string; png: string }> {
  const svg = await renderSvg(spec);
  const png = await svgToPng(svg);
  writeFileAtomic(`${base}.svg`, svg);
  writeFileAtomic(`${base}.png`, png);
  return { svg: `${base}.svg`, png: `${base}.png` };
}

/** A line chart of rows {x, y, series?}: the common case (loss curves, sweeps). */
export function lineChart(rows: Record<string, unknown>[], o: {
  x: string; y: string; color?: string; title?: string; logX?: boolean; logY?: boolean;
  width?: number; height?: number; rules?: { y?: number; x?: number; label?: string; dash?: boolean }[];
}): VegaLiteSpec {
  const line = {
    mark: { type: 'line', point: rows.length < 60 },
    encoding: {
      x: { field: o.x, type: 'quantitative', title: o.x, scale: o.logX ? { type: 'log' } : { zero: false } },
      y: { field: o.y, type: 'quantitative', title: o.y, scale: o.logY ? { type: 'log' } : { zero: false } },
      ...(o.color ? { color: { field: o.color, type: 'nominal' } } : {}),
    },
  };
  const layers: Record<string, unknown>[] = [line];
  for (const r of o.rules ?? []) {
    layers.push({
      data: { values: [r] },
      mark: { type: 'rule', strokeDash: r.dash === false ? [] : [4, 4], color: 'black' },
      encoding: r.y !== undefined ? { y: { field: 'y', type: 'quantitative', title: null } } : { x: { field: 'x', type: 'quantitative', title: null } },
    });
  }
  return {
    title: o.title, width: o.width ?? 480, height: o.height ?? 280,
    data: { values: rows }, layer: layers,
  };
}
