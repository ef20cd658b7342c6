// A labelled grid of images as one SVG document (and its PNG): row titles on the left, column titles
// on top, an optional caption under each cell. Used for frame strips (nowcast: input / truth /
// probability / prediction by lead time) and before/after strips (cartoon). The cells are embedded
// as PNG data URIs, so the SVG is self-contained and its labels are plain <text> a test can read.
import { encodePng } from './io/image.ts';
import { savePlotSvg, xmlEscape } from './plots.ts';
import type { Tensor } from './torch/index.ts';

export interface ImageGrid {
  /** cells[r][c]: a [C, H, W] tensor in [0, 1] (C = 1 or 3), or null for an empty cell */
  cells: (Tensor | null)[][];
  rowLabels: string[];
  colLabels: string[];
  /** text under individual cells, same indexing as `cells` */
  captions?: (string | null)[][];
  title?: string;
  /** displayed size of each cell in px (default: the largest cell's size) */
  cellWidth?: number;
  cellHeight?: number;
}

const FONT = 'font-family="sans-serif"';

/** Builds the SVG document of a labelled image grid. */
export async function imageGridSvg(g: ImageGrid): Promise<string> {
  const all = g.cells.flat().filter((t): t is Tensor => t !== null);
  const cw = g.cellWidth ?? Math.max(1, ...all.map((t) => t.shape.at(-1)!));
  const ch = g.cellHeight ?? Math.max(1, ...all.map((t) => t.shape.at(-2)!));
  const hasCaptions = (g.captions ?? []).some((r) => r.some((c) => c));
  const left = 12 + 7.5 * Math.max(4, ...g.rowLabels.map((l) => l.length)), top = g.title ? 52 : 28, gap = 6, capH = hasCaptions ? 18 : 0;
  const cols = Math.max(g.colLabels.length, ...g.cells.map((r) => r.length));
  // wide enough for the title and for each caption centred under its cell (≈ 6.5 px per 11-px character)
  const capFit = Math.max(0, ...(g.captions ?? []).flatMap((r) => r.map((c, i) => {
    if (!c) return 0;
    return Math.max(left + i * (cw + gap) + cw / 2, 3.3 * c.length + 4) + 3.3 * c.length + 8;
  })));
  const width = Math.ceil(Math.max(left + cols * (cw + gap) + 8, capFit, 9 * (g.title?.length ?? 0) + 16));
  const height = Math.ceil(top + g.cells.length * (ch + capH + gap) + 8);
  const parts: string[] = [`<rect width="${width}" height="${height}" fill="white"/>`];
  if (g.title) parts.push(`<text x="${width / 2}" y="20" ${FONT} font-size="15" font-weight="bold" text-anchor="middle">${xmlEscape(g.title)}</text>`);
  g.colLabels.forEach((l, c) => {
    parts.push(`<text class="col-label" x="${left + c * (cw + gap) + cw / 2}" y="${top - 8}" ${FONT} font-size="13" text-anchor="middle">${xmlEscape(l)}</text>`);
  });
  for (const [r, row] of g.cells.entries()) {
    const y = top + r * (ch + capH + gap);
    parts.push(`<text class="row-label" x="${left - 8}" y="${y + ch / 2 + 4}" ${FONT} font-size="13" text-anchor="end">${xmlEscape(g.rowLabels[r] ?? '')}</text>`);
    for (const [c, cell] of row.entries()) {
      const x = left + c * (cw + gap);
      if (cell) {
        const png = (await encodePng(cell)).toString('base64');
        parts.push(`<rect x="${x - 1}" y="${y - 1}" width="${cw + 2}" height="${ch + 2}" fill="none" stroke="#999"/>`);
        parts.push(`<image class="cell" x="${x}" y="${y}" width="${cw}" height="${ch}" preserveAspectRatio="xMidYMid meet" style="image-rendering:pixelated" `
          + `href="data:image/png;base64,${png}"/>`);
      }
      const cap = g.captions?.[r]?.[c];
      if (cap) parts.push(`<text class="caption" x="${Math.max(x + cw / 2, 3.3 * cap.length + 4)}" y="${y + ch + 13}" ${FONT} font-size="11" text-anchor="middle">${xmlEscape(cap)}</text>`);
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n`
    + `${parts.join('\n')}\n</svg>\n`;
}

/** Writes <base>.svg and <base>.png of a labelled image grid. */
export async function saveImageGrid(base: string, g: ImageGrid): Promise<{ svg: string; png: string }> {
  return savePlotSvg(base, await imageGridSvg(g));
}

/** Row and column labels and the number of embedded images of a grid SVG (for picture tests). */
export function readImageGrid(svg: string): { rows: string[]; cols: string[]; captions: string[]; images: number } {
  const grab = (cls: string) => [...svg.matchAll(new RegExp(`<text class="${cls}"[^>]*>(.*?)</text>`, 'g'))].map((m) => m[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
  return { rows: grab('row-label'), cols: grab('col-label'), captions: grab('caption'), images: (svg.match(/<image class="cell"/g) ?? []).length };
}
