// What a plot shows, read from the SVG that ctx.plot writes (Vega's SVG renderer): axis titles,
// tick labels, and the drawn marks of each layer — for picture tests that fail on a blank plot.

const texts = (svg: string, role: string) => [...svg.matchAll(new RegExp(`<g class="mark-text role-${role}[^"]*"[^>]*>(.*?)</g>`, 'gs'))]
  .flatMap((m) => [...m[1]!.matchAll(/<text[^>]*>(.*?)<\/text>/gs)].map((t) => unescapeXml(t[1]!.replace(/<[^>]+>/g, ''))));

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
}

/** Axis titles, tick labels, and the number of points drawn per line path / rules in the plot. */
export function readSvg(svg: string) {
  const lines = [...svg.matchAll(/<g class="mark-line role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)]
    .flatMap((m) => [...m[1]!.matchAll(/<path[^>]*\sd="([^"]*)"/g)].map((d) => (d[1]!.match(/[ML]/g) ?? []).length));
  const rules = [...svg.matchAll(/<g class="mark-rule role-mark[^"]*"[^>]*>(.*?)<\/g>/gs)]
    .map((m) => ({ count: (m[1]!.match(/<line/g) ?? []).length, dashed: /stroke-dasharray/.test(m[1]!) }));
  return { axisTitles: texts(svg, 'axis-title'), tickLabels: texts(svg, 'axis-label'), linePoints: lines, rules };
}
