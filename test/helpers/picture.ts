// The picture checker of the picture tests (test/pictures/): what a plot's SVG says (axis titles,
// legend entries, every text) and where its plot areas are, and whether the PNG drawn from it has
// marks there. Reads Vega's SVG (the charts: plot areas are the frames' and concat cells'
// backgrounds, lines are `mark-line` paths) and the SVG documents written directly (image grids,
// heat maps: plot areas are their embedded <image>s). checkPicture returns the problems it found,
// none for a good picture, so that a test can also show it failing on a broken one.
import sax from 'sax';
import sharp from 'sharp';

export interface Rect { x: number; y: number; w: number; h: number }

export interface SvgInfo {
  width: number; height: number;
  /** axis titles (Vega's role-axis-title) */
  axisTitles: string[];
  /** legend titles and entries (Vega's role-legend-title / role-legend-label) */
  legend: string[];
  /** every <text>, in document order */
  texts: string[];
  /** the plot areas in SVG units: Vega frames / concat cells with a size, embedded cell images */
  plots: Rect[];
  /** each drawn line (Vega `mark-line` path): its points' extent in SVG units and the plot area it lies in */
  lines: { points: number; x: [number, number]; y: [number, number]; plot: Rect | null }[];
}

interface Frame { tx: number; ty: number; cls: string; name: string }

const translate = (t: string | undefined): [number, number] => {
  const m = t ? /translate\(\s*([-\d.e]+)[\s,]+([-\d.e]+)\s*\)/.exec(t) : null;
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
};

/** Reads the texts, plot areas and line marks of an SVG document. */
export function readPicture(svg: string): SvgInfo {
  const out: SvgInfo = { width: 0, height: 0, axisTitles: [], legend: [], texts: [], plots: [], lines: [] };
  const stack: Frame[] = [];
  const pendingLines: { pts: [number, number][] }[] = [];
  let text: { buf: string; role: string } | null = null;
  const roleOf = () => [...stack].reverse().find((f) => f.cls)?.cls ?? '';
  const parser = sax.parser(true, {});
  parser.onopentag = (n) => {
    const a = n.attributes as Record<string, string>;
    const parent = stack.at(-1) ?? { tx: 0, ty: 0, cls: '', name: '' };
    const [dx, dy] = translate(a.transform);
    const f: Frame = { tx: parent.tx + dx, ty: parent.ty + dy, cls: n.name === 'g' ? a.class ?? '' : '', name: n.name };
    stack.push(f);
    if (n.name === 'svg' && stack.length === 1) {
      out.width = Number(a.width ?? 0); out.height = Number(a.height ?? 0);
    } else if (n.name === 'text') {
      text = { buf: '', role: roleOf() };
    } else if (n.name === 'path' && a.class === 'background') {
      const m = /^M([-\d.]+),([-\d.]+)h([\d.]+)v([\d.]+)/.exec(a.d ?? '');
      const owner = [...stack].slice(0, -1).reverse().find((s) => s.cls)?.cls ?? '';
      const inLegend = stack.some((s) => /role-legend/.test(s.cls));
      if (m && Number(m[3]) > 0 && Number(m[4]) > 0 && /role-(frame|scope)/.test(owner) && !inLegend) {
        out.plots.push({ x: f.tx + Number(m[1]), y: f.ty + Number(m[2]), w: Number(m[3]), h: Number(m[4]) });
      }
    } else if (n.name === 'path' && /mark-line role-mark/.test(roleOf())) {
      const pts = [...(a.d ?? '').matchAll(/[ML]\s*([-\d.e]+)[\s,]+([-\d.e]+)/g)].map((m) => [f.tx + Number(m[1]), f.ty + Number(m[2])] as [number, number]);
      pendingLines.push({ pts });
    } else if (n.name === 'image' && /\bcells?\b/.test(a.class ?? '')) {
      out.plots.push({ x: f.tx + Number(a.x ?? 0), y: f.ty + Number(a.y ?? 0), w: Number(a.width ?? 0), h: Number(a.height ?? 0) });
    }
  };
  parser.ontext = (t) => { if (text) text.buf += t; };
  parser.onclosetag = (name) => {
    stack.pop();
    if (name === 'text' && text) {
      const s = text.buf.trim();
      out.texts.push(s);
      if (/role-axis-title/.test(text.role)) out.axisTitles.push(s);
      if (/role-legend-(title|label)/.test(text.role)) out.legend.push(s);
      text = null;
    }
  };
  parser.write(svg).close();
  // the innermost plot areas: a frame that holds concat cells is not a plot area itself
  // one area per place (a layered chart's path groups repeat its frame), and the innermost ones:
  // a frame that holds concat cells is not a plot area itself
  const same = (p: Rect, q: Rect) => Math.abs(p.x - q.x) <= 1.5 && Math.abs(p.y - q.y) <= 1.5 && Math.abs(p.w - q.w) <= 1.5 && Math.abs(p.h - q.h) <= 1.5;
  out.plots = out.plots.filter((p, i) => out.plots.findIndex((q) => same(p, q)) === i);
  const inside = (p: Rect, q: Rect) => q.w * q.h < 0.95 * p.w * p.h
    && q.x >= p.x - 1 && q.y >= p.y - 1 && q.x + q.w <= p.x + p.w + 1 && q.y + q.h <= p.y + p.h + 1;
  out.plots = out.plots.filter((p) => !out.plots.some((q) => inside(p, q)));
  for (const { pts } of pendingLines) {
    if (!pts.length) { out.lines.push({ points: 0, x: [0, 0], y: [0, 0], plot: null }); continue; }
    const xs = pts.map((p) => p[0]), ys = pts.map((p) => p[1]);
    const [cx, cy] = [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2];
    const plot = out.plots.find((p) => cx >= p.x - 1 && cx <= p.x + p.w + 1 && cy >= p.y - 1 && cy <= p.y + p.h + 1) ?? null;
    out.lines.push({ points: pts.length, x: [Math.min(...xs), Math.max(...xs)], y: [Math.min(...ys), Math.max(...ys)], plot });
  }
  return out;
}

/** Ink in the PNG's plot areas: pixels that are neither the background nor light-grey grid, and their colours. */
export async function inkInPlots(png: Buffer, svgWidth: number, plots: Rect[]): Promise<{ pixels: number; area: number; colours: number }> {
  const { data, info } = await sharp(png).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const W = info.width, H = info.height, C = info.channels, s = svgWidth > 0 ? W / svgWidth : 1;
  // the background: the most frequent colour of the whole picture
  const freq = new Map<number, number>();
  for (let i = 0; i < W * H; i += 7) { const k = (data[i * C]! << 16) | (data[i * C + 1]! << 8) | data[i * C + 2]!; freq.set(k, (freq.get(k) ?? 0) + 1); }
  const bg = [...freq.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  const br = bg >> 16, bgG = (bg >> 8) & 255, bb = bg & 255;
  const bins = new Map<number, number>();
  let pixels = 0, area = 0;
  for (const p of plots) {
    // 2 px inside the frame: its border stroke is not a mark
    const x0 = Math.max(0, Math.ceil(p.x * s) + 2), x1 = Math.min(W, Math.floor((p.x + p.w) * s) - 2);
    const y0 = Math.max(0, Math.ceil(p.y * s) + 2), y1 = Math.min(H, Math.floor((p.y + p.h) * s) - 2);
    for (let y = y0; y < y1; y++) {
      for (let x = x0; x < x1; x++) {
        area++;
        const i = (y * W + x) * C, r = data[i]!, g = data[i + 1]!, b = data[i + 2]!;
        const diff = Math.max(Math.abs(r - br), Math.abs(g - bgG), Math.abs(b - bb));
        const grey = Math.max(r, g, b) - Math.min(r, g, b) < 12 && r > 190;
        if (diff <= 40 || grey) continue;
        pixels++;
        const k = ((r >> 5) << 6) | ((g >> 5) << 3) | (b >> 5);
        bins.set(k, (bins.get(k) ?? 0) + 1);
      }
    }
  }
  const colours = [...bins.values()].filter((n) => n >= Math.max(20, 0.002 * pixels)).length;
  return { pixels, area, colours };
}

export interface PictureExpect {
  /** axis titles that must be there (exactly, in any order) */
  axisTitles?: readonly string[];
  /** legend titles/entries that must be there */
  legend?: readonly string[];
  /** texts that must be there (row/column labels, captions, titles), exactly */
  texts?: readonly (string | RegExp)[];
  /** axis titles that must not be there: raw column names */
  notTitles?: readonly string[];
  /** plot areas the picture must have (default 1) */
  minPlots?: number;
  /** the ink a plot area needs, as a fraction of the plot areas' pixels (default 0.002) */
  minInk?: number;
  /**
   * line charts: the drawn lines (together, per plot area) must span this fraction of the plot
   * area's width and height (default x 0.5, y 0.1); perLine: each line alone must span y
   */
  span?: { x?: number; y?: number; perLine?: number } | false;
}

/**
 * Checks a picture (its SVG text and the PNG drawn from it) against what it must show: the
 * problems found, [] when it is good.
 */
export async function checkPicture(svg: string, png: Buffer, e: PictureExpect = {}): Promise<string[]> {
  const p = readPicture(svg), bad: string[] = [];
  for (const t of e.axisTitles ?? []) if (!p.axisTitles.includes(t)) bad.push(`axis title '${t}' missing (has: ${p.axisTitles.join(' | ') || 'none'})`);
  for (const t of e.notTitles ?? []) if (p.axisTitles.includes(t)) bad.push(`axis title '${t}' is a raw column name`);
  for (const t of p.axisTitles) if (!t) bad.push('an empty axis title');
  for (const t of e.legend ?? []) if (!p.legend.includes(t)) bad.push(`legend entry '${t}' missing (has: ${p.legend.join(' | ') || 'none'})`);
  for (const t of p.legend) if (t.endsWith('…')) bad.push(`legend entry '${t}' is cut off`);
  for (const t of e.texts ?? []) {
    if (!p.texts.some((x) => (typeof t === 'string' ? x === t : t.test(x)))) bad.push(`text ${String(t)} missing`);
  }
  if (p.plots.length < (e.minPlots ?? 1)) bad.push(`${p.plots.length} plot areas, expected at least ${e.minPlots ?? 1}`);
  const meta = await sharp(png).metadata();
  if (!meta.width || !meta.height || meta.width < p.width) bad.push(`PNG ${meta.width}×${meta.height} smaller than the SVG's ${p.width}×${p.height}`);
  if (p.plots.length) {
    const ink = await inkInPlots(png, p.width, p.plots);
    const need = e.minInk ?? 0.002;
    if (ink.pixels < need * ink.area) bad.push(`no marks: ${ink.pixels} of ${ink.area} plot pixels drawn (need ${(100 * need).toFixed(2)} %)`);
    if (ink.colours < 2) bad.push(`marks of ${ink.colours} colour(s): a blank or uniform plot`);
  }
  const span = e.span === false ? null : { x: 0.5, y: 0.1, ...e.span };
  if (span && p.lines.length) {
    for (const plot of p.plots) {
      const ls = p.lines.filter((l) => l.plot === plot && l.points > 1);
      if (!ls.length) continue;
      const xs = Math.max(...ls.map((l) => l.x[1])) - Math.min(...ls.map((l) => l.x[0]));
      const ys = Math.max(...ls.map((l) => l.y[1])) - Math.min(...ls.map((l) => l.y[0]));
      const where = `plot at (${plot.x.toFixed(0)}, ${plot.y.toFixed(0)})`;
      if (xs < span.x * plot.w) bad.push(`${where}: lines span ${(100 * xs / plot.w).toFixed(0)} % of the width`);
      if (ys < span.y * plot.h) bad.push(`${where}: lines span ${(100 * ys / plot.h).toFixed(0)} % of the height (flattened)`);
      if (span.perLine !== undefined) {
        for (const l of ls) if (l.y[1] - l.y[0] < span.perLine * plot.h) bad.push(`${where}: a line spans ${(100 * (l.y[1] - l.y[0]) / plot.h).toFixed(1)} % of the height (flattened)`);
      }
    }
  }
  if (span && e.span !== undefined && !p.lines.some((l) => l.points > 1)) bad.push('no line drawn');
  return bad;
}
