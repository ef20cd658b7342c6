// Traffic viewer: a vector map of the run's cells (cells.geojson) with the flows between them
// (flows.csv) as arrows whose width is the mean moves per slice in the chosen time window, and
// below it the change-point timeline (scores.csv: the primary detector's score per slice;
// changepoints.json: detected change points, and the ground truth when the run was given one).
// Clicking or dragging on the timeline picks the window the map shows. No tile server: the
// cells are drawn from their own coordinates (lon/lat shown equirectangular about the data's
// centre, so a metre is as long east as north; projected input as its metres).
import { h } from '../ui.js';

export const name = 'traffic';

const NEEDED = ['cells.geojson', 'flows.csv', 'scores.csv', 'changepoints.json'];
export const match = (run, files) => run.module === 'traffic' && NEEDED.every((f) => files.includes(f));

const SVG = 'http://www.w3.org/2000/svg';
const s = (tag, attrs = {}, text) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
};
const TOP_CHOICES = [25, 50, 100, 300, 1000];
const M_PER_DEG = 111_320;

async function get(ctx, file, as) {
  const r = await fetch(ctx.fileUrl(file));
  if (!r.ok) throw new Error(`${file}: ${r.status}`);
  return as === 'json' ? r.json() : r.text();
}

/** A CSV with a header and numeric (or plain text) fields, no quoting (what analyze writes). */
function csvRows(text, file) {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const head = (lines.shift() ?? '').split(',');
  return { head, rows: lines.map((l, i) => {
    const v = l.split(',');
    if (v.length !== head.length) throw new Error(`${file}: line ${i + 2} has ${v.length} fields, the header ${head.length}`);
    return v;
  }) };
}

/** The cells in display coordinates (x east, y north; metres), with their seeds. */
function readCells(gj) {
  if (gj?.type !== 'FeatureCollection' || !Array.isArray(gj.features)) throw new Error('cells.geojson: not a FeatureCollection');
  const geo = gj.local_metres && Number.isFinite(gj.local_metres.lon0) ? gj.local_metres : null;
  const cos = geo ? Math.cos((geo.lat0 * Math.PI) / 180) : 1;
  const xy = geo ? ([lon, lat]) => [(lon - geo.lon0) * cos * M_PER_DEG, (lat - geo.lat0) * M_PER_DEG] : ([x, y]) => [x, y];
  const cells = new Map();
  gj.features.forEach((f, i) => {
    const p = f.properties ?? {};
    if (!Number.isInteger(p.cell_id)) throw new Error(`cells.geojson: feature ${i} has no integer cell_id`);
    const ring = (f.geometry?.coordinates?.[0] ?? []).map(xy);
    const seed = geo && Number.isFinite(p.seed_lon) ? xy([p.seed_lon, p.seed_lat]) : Number.isFinite(p.seed_x_m) ? [p.seed_x_m, p.seed_y_m] : centroid(ring);
    cells.set(p.cell_id, { id: p.cell_id, ring, seed, boundary: p.boundary_seed === true });
  });
  return { cells, geo };
}
const centroid = (ring) => ring.length ? [ring.reduce((a, p) => a + p[0], 0) / ring.length, ring.reduce((a, p) => a + p[1], 0) / ring.length] : [0, 0];

/** The flow rows bucketed by slice: bySlice[t] = [[src, dst, moves], …]. */
function readFlows(text, T) {
  const { head, rows } = csvRows(text, 'flows.csv');
  const col = (n) => { const i = head.indexOf(n); if (i < 0) throw new Error(`flows.csv: no column '${n}'`); return i; };
  const [cs, ca, cb, cm] = ['slice', 'src', 'dst', 'moves'].map(col);
  const bySlice = Array.from({ length: T }, () => []);
  for (const r of rows) {
    const t = Number(r[cs]);
    if (t >= 0 && t < T) bySlice[t].push([Number(r[ca]), Number(r[cb]), Number(r[cm])]);
  }
  return bySlice;
}

/** Mean moves per slice of each directed edge over slices [a, b). */
function windowFlows(bySlice, a, b) {
  const agg = new Map();
  for (let t = a; t < b; t++) for (const [i, j, m] of bySlice[t]) { const k = `${i}>${j}`; agg.set(k, (agg.get(k) ?? 0) + m); }
  const n = Math.max(1, b - a);
  return [...agg.entries()].map(([k, v]) => { const [i, j] = k.split('>').map(Number); return { src: i, dst: j, w: v / n }; })
    .filter((e) => e.w > 0).sort((p, q) => q.w - p.w || p.src - q.src || p.dst - q.dst);
}

const hhmm = (sec) => { const m = Math.floor((((Math.round(sec) % 86400) + 86400) % 86400) / 60); return `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`; };
const niceStep = (span, n) => {
  const raw = span / n, p = 10 ** Math.floor(Math.log10(raw)), f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
};

export async function mount(run, files, ctx) {
  const [gj, cp, scoresText, flowsText] = await Promise.all([get(ctx, 'cells.geojson', 'json'), get(ctx, 'changepoints.json', 'json'), get(ctx, 'scores.csv'), get(ctx, 'flows.csv')]);
  const { cells } = readCells(gj);
  const T = cp.n_slices, sliceS = cp.slice_seconds, t0 = cp.t0 ?? 0;
  if (!Number.isInteger(T) || T < 1 || !(sliceS > 0)) throw new Error('changepoints.json: n_slices or slice_seconds missing');
  const bySlice = readFlows(flowsText, T);
  const sc = csvRows(scoresText, 'scores.csv');
  const column = (name) => { const i = sc.head.indexOf(name); return Array.from({ length: T }, (_, t) => (i < 0 ? 0 : Number(sc.rows[t]?.[i]) || 0)); };
  // the primary detector and the others the run compared (each: its score column and change points)
  const detectors = [[cp.detector, cp.changepoints], ...Object.entries(cp.others ?? {}).map(([n, o]) => [n, o?.changepoints])]
    .map(([n, cps]) => ({ name: n, score: column(`score_${n}`), cps: (cps ?? []).map((c) => c.slice).filter((c) => Number.isInteger(c) && c > 0 && c < T) }));
  let det = detectors[0], score = det.score, detected = det.cps, bounds = [0, ...detected, T];
  const totalCol = sc.head.indexOf('total_moves');
  const total = Array.from({ length: T }, (_, t) => Number(sc.rows[t]?.[totalCol] ?? 0) || 0);
  const truth = (cp.truth ?? []).filter((c) => Number.isInteger(c) && c > 0 && c < T);
  const timeOf = (t) => hhmm(t0 + t * sliceS);

  // ------------------------------------------------------------------ map frame
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const c of cells.values()) {
    for (const [x, y] of [...c.ring, c.seed]) { x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y); }
  }
  if (!(x1 > x0)) { x1 = x0 + 1; } if (!(y1 > y0)) { y1 = y0 + 1; }
  const W = 640, pad = 12, k = Math.min((W - 2 * pad) / (x1 - x0), (520 - 2 * pad) / (y1 - y0));
  const H = Math.ceil((y1 - y0) * k + 2 * pad);
  const X = (x) => pad + (x - x0) * k, Y = (y) => H - pad - (y - y0) * k;
  const map = s('svg', { width: W, height: H, viewBox: `0 0 ${W} ${H}`, class: 'traffic-map', 'data-testid': 'traffic-map', role: 'img' });
  const defs = map.appendChild(s('defs'));
  const marker = defs.appendChild(s('marker', { id: `arrow-${run.id}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 3, markerHeight: 3, orient: 'auto-start-reverse', markerUnits: 'strokeWidth' }));
  marker.appendChild(s('path', { d: 'M0 0L10 5L0 10z', fill: '#b30000' }));
  const gCells = map.appendChild(s('g', { class: 'cells' }));
  for (const c of cells.values()) {
    gCells.appendChild(s('path', { class: 'cell', 'data-cell': c.id, d: `M${c.ring.map(([x, y]) => `${X(x).toFixed(1)} ${Y(y).toFixed(1)}`).join('L')}Z` }));
  }
  const gFlows = map.appendChild(s('g', { class: 'flows' }));
  const gSeeds = map.appendChild(s('g', { class: 'seeds' }));
  for (const c of cells.values()) gSeeds.appendChild(s('circle', { class: c.boundary ? 'seed boundary' : 'seed', 'data-cell': c.id, cx: X(c.seed[0]).toFixed(1), cy: Y(c.seed[1]).toFixed(1), r: 2.5 }));
  const bar = niceStep((x1 - x0) / 2, 1);
  map.appendChild(s('path', { class: 'scale-bar', d: `M${pad} ${H - 6}h${(bar * k).toFixed(1)}`, stroke: '#333', 'stroke-width': 2 }));
  map.appendChild(s('text', { x: pad + bar * k + 4, y: H - 3, 'font-size': 10 }, bar >= 1000 ? `${bar / 1000} km` : `${bar} m`));

  // ------------------------------------------------------------------ timeline
  const TW = 640, TH = 180, L = 44, R = 10, TT = 14, TB = 44;
  const tx = (t) => L + (t / T) * (TW - L - R);
  const vmax = Math.max(1e-12, ...total);
  const tl = s('svg', { width: TW, height: TH, viewBox: `0 0 ${TW} ${TH}`, class: 'traffic-timeline', 'data-testid': 'traffic-timeline', role: 'img' });
  tl.appendChild(s('rect', { x: L, y: TT, width: TW - L - R, height: TH - TT - TB, fill: 'white', stroke: '#ddd' }));
  tl.appendChild(s('path', { class: 'volume', fill: '#cbd5e1', 'fill-opacity': 0.6, d: `M${tx(0)} ${TH - TB}${total.map((v, t) => `L${tx(t).toFixed(1)} ${(TH - TB - (v / vmax) * (TH - TT - TB)).toFixed(1)}L${tx(t + 1).toFixed(1)} ${(TH - TB - (v / vmax) * (TH - TT - TB)).toFixed(1)}`).join('')}L${tx(T)} ${TH - TB}Z` }));
  const $sel = tl.appendChild(s('rect', { class: 'window', y: TT, height: TH - TT - TB, fill: '#2563eb', 'fill-opacity': 0.22, stroke: '#2563eb', 'stroke-opacity': 0.5 }));
  const gDet = tl.appendChild(s('g', { class: 'detector' }));
  for (const c of truth) {
    tl.appendChild(s('line', { class: 'truth', 'data-slice': c, x1: tx(c), x2: tx(c), y1: TT, y2: TH - TB, stroke: '#111', 'stroke-dasharray': '4 3' }));
    tl.appendChild(s('path', { class: 'truth-marker', d: `M${tx(c)} ${TH - TB + 1}l5 6l-5 6l-5 -6z`, fill: 'white', stroke: '#111' }, undefined)).appendChild(s('title', {}, `ground truth ${timeOf(c)} (slice ${c})`));
  }
  // the chosen detector's score (scaled to its max) and change points
  const drawDetector = () => {
    const smax = Math.max(1e-12, ...score.map(Math.abs));
    const ty = (v) => TH - TB - (v / smax) * (TH - TT - TB);
    gDet.replaceChildren(s('path', { class: 'score', fill: 'none', stroke: '#1d2330', 'stroke-width': 1.5, d: score.map((v, t) => `${t ? 'L' : 'M'}${tx(t + 0.5).toFixed(1)} ${ty(Math.max(0, v)).toFixed(1)}`).join('') }));
    for (const c of detected) {
      gDet.appendChild(s('line', { class: 'changepoint', 'data-slice': c, x1: tx(c), x2: tx(c), y1: TT, y2: TH - TB, stroke: '#dc2626', 'stroke-width': 2 }));
      gDet.appendChild(s('path', { class: 'cp-marker', d: `M${tx(c)} ${TT}l-6 -9h12z`, fill: '#dc2626' })).appendChild(s('title', {}, `detected by ${det.name}: ${timeOf(c)} (slice ${c})`));
    }
    gDet.appendChild(s('text', { x: 12, y: (TT + TH - TB) / 2, 'font-size': 10, 'text-anchor': 'middle', transform: `rotate(-90 12 ${(TT + TH - TB) / 2})` }, `${det.name} score`));
    gDet.appendChild(s('text', { x: L - 3, y: TT + 8, 'font-size': 9, 'text-anchor': 'end' }, smax.toPrecision(3)));
  };
  drawDetector();
  const tstep = Math.max(1, Math.round(niceStep(T * sliceS / 3600, 8) * 3600 / sliceS));
  for (let t = 0; t <= T; t += tstep) {
    tl.appendChild(s('line', { x1: tx(t), x2: tx(t), y1: TH - TB, y2: TH - TB + 4, stroke: '#555' }));
    tl.appendChild(s('text', { x: tx(t), y: TH - TB + 24, 'font-size': 10, 'text-anchor': tx(t) > TW - R - 15 ? 'end' : 'middle' }, timeOf(t)));
  }
  tl.appendChild(s('text', { x: (L + TW - R) / 2, y: TH - 3, 'font-size': 10, 'text-anchor': 'middle' }, `time of day (slices of ${sliceS / 60} min)`));
  tl.appendChild(s('text', { x: L - 3, y: TH - TB, 'font-size': 9, 'text-anchor': 'end' }, '0'));

  // ------------------------------------------------------------------ controls, state
  const $mode = h('select', { 'data-testid': 'traffic-window-mode', 'aria-label': 'window' },
    h('option', { value: 'segment' }, 'window: segment between detected change points'), h('option', { value: 'slice' }, 'window: one slice'), h('option', { value: 'hour' }, 'window: one hour'));
  const $det = h('select', { 'data-testid': 'traffic-detector', 'aria-label': 'detector' }, ...detectors.map((d, i) => h('option', { value: i }, `detector: ${d.name}${i ? '' : ' (primary)'}`)));
  const $top = h('select', { 'data-testid': 'traffic-top', 'aria-label': 'flows drawn' },
    ...TOP_CHOICES.map((n) => h('option', { value: n, selected: n === 100 }, `the ${n} strongest flows`)));
  const $win = h('div', { class: 'muted', 'data-testid': 'traffic-window' });
  const $hover = h('div', { class: 'hover-values', 'data-testid': 'traffic-hover' }, 'hover a cell or a flow');
  const $legend = h('div', { class: 'traffic-legend' });
  let cur = { a: 0, b: bounds[1] }, flows = [], wmax = 1;
  const windowAt = (t) => {
    const mode = $mode.value;
    if (mode === 'slice') return { a: t, b: t + 1 };
    if (mode === 'hour') { const n = Math.max(1, Math.round(3600 / sliceS)); const a = Math.min(Math.max(0, t - Math.floor(n / 2)), Math.max(0, T - n)); return { a, b: Math.min(T, a + n) }; }
    let i = 0; while (bounds[i + 1] <= t) i++;
    return { a: bounds[i], b: bounds[i + 1] };
  };
  const widthOf = (w) => 0.6 + 7 * (w / wmax);
  const drawWindow = () => {
    const { a, b } = cur;
    const all = windowFlows(bySlice, a, b);
    flows = all.filter((e) => e.src !== e.dst && cells.has(e.src) && cells.has(e.dst)).slice(0, Number($top.value));
    wmax = Math.max(1e-12, flows[0]?.w ?? 1);
    const frag = document.createDocumentFragment();
    // weakest first, so the strong arrows are drawn on top
    for (const [n, e] of [...flows.entries()].reverse()) {
      const p = cells.get(e.src).seed, q = cells.get(e.dst).seed;
      const dx = X(q[0]) - X(p[0]), dy = Y(q[1]) - Y(p[1]), len = Math.hypot(dx, dy) || 1, off = Math.min(6, 0.06 * len);
      const ux = (-dy / len) * off, uy = (dx / len) * off, shrink = Math.min(6, 0.2 * len) / len;
      const line = s('line', {
        class: 'flow', 'data-flow': n, 'data-src': e.src, 'data-dst': e.dst, 'data-w': e.w.toFixed(3),
        x1: (X(p[0]) + ux + dx * shrink).toFixed(1), y1: (Y(p[1]) + uy + dy * shrink).toFixed(1),
        x2: (X(q[0]) + ux - dx * shrink).toFixed(1), y2: (Y(q[1]) + uy - dy * shrink).toFixed(1),
        'stroke-width': widthOf(e.w).toFixed(2), 'marker-end': `url(#arrow-${run.id})`,
      });
      frag.appendChild(line);
    }
    gFlows.replaceChildren(frag);
    map.setAttribute('data-window', `${a}-${b}`);
    $sel.setAttribute('x', tx(a)); $sel.setAttribute('width', Math.max(1, tx(b) - tx(a)));
    const left = all.length - flows.length;
    $win.textContent = `window: slices ${a}–${b - 1} (${timeOf(a)}–${timeOf(b)}), ${flows.length} flows drawn${left ? ` (${left} weaker or self flows left out)` : ''}; arrow width = mean moves per slice`;
    const fmt = (v) => (v >= 10 ? v.toFixed(0) : v.toFixed(v >= 1 ? 1 : 2));
    $legend.replaceChildren(...[1, 0.5, 0.1].map((f) => {
      const sw = s('svg', { width: 44, height: 14 });
      sw.appendChild(s('line', { x1: 2, y1: 7, x2: 42, y2: 7, stroke: '#b30000', 'stroke-width': widthOf(f * wmax) }));
      return h('span', { class: 'legend-item' }, sw, ` ${fmt(f * wmax)}`);
    }), h('span', { class: 'legend-item' }, ' moves / slice · '), h('span', { class: 'legend-item cp' }, '▼ detected change point'),
    truth.length ? h('span', { class: 'legend-item' }, ' ◇ ground truth (dashed)') : '', h('span', { class: 'legend-item' }, ' grey: total moves'));
  };
  const select = (t) => { const w = windowAt(Math.min(T - 1, Math.max(0, t))); if (w.a !== cur.a || w.b !== cur.b) { cur = w; drawWindow(); } };
  const sliceAt = (ev) => { const r = tl.getBoundingClientRect(); return Math.floor(((ev.clientX - r.left) * (TW / r.width) - L) / (TW - L - R) * T); };
  let dragging = false;
  tl.addEventListener('pointerdown', (ev) => { dragging = true; tl.setPointerCapture?.(ev.pointerId); select(sliceAt(ev)); });
  tl.addEventListener('pointermove', (ev) => {
    const t = sliceAt(ev);
    if (dragging) select(t);
    if (t >= 0 && t < T) $hover.textContent = `slice ${t} (${timeOf(t)}): ${det.name} score ${score[t].toPrecision(4)}, total moves ${total[t]}`;
  });
  tl.addEventListener('pointerup', () => { dragging = false; });
  tl.setAttribute('tabindex', '0');
  tl.addEventListener('keydown', (ev) => {
    // ← / → step to the previous / next window
    if (ev.key === 'ArrowLeft' && cur.a > 0) { select(cur.a - 1); ev.preventDefault(); }
    if (ev.key === 'ArrowRight' && cur.b < T) { select(cur.b); ev.preventDefault(); }
  });
  $mode.addEventListener('change', () => { cur = windowAt(cur.a); drawWindow(); });
  $top.addEventListener('change', drawWindow);
  $det.addEventListener('change', () => {
    det = detectors[Number($det.value)]; score = det.score; detected = det.cps; bounds = [0, ...detected, T];
    drawDetector(); cur = windowAt(cur.a); drawWindow();
  });
  map.addEventListener('mouseover', (ev) => {
    const el = ev.target;
    if (el.classList?.contains('flow')) {
      const e = flows[Number(el.getAttribute('data-flow'))];
      $hover.textContent = `flow cell ${e.src} → cell ${e.dst}: ${e.w.toPrecision(3)} moves per slice (slices ${cur.a}–${cur.b - 1})`;
    } else if (el.getAttribute?.('data-cell') !== null && el.getAttribute?.('data-cell') !== undefined) {
      const id = Number(el.getAttribute('data-cell'));
      const out = flows.filter((e) => e.src === id).reduce((a, e) => a + e.w, 0), inn = flows.filter((e) => e.dst === id).reduce((a, e) => a + e.w, 0);
      $hover.textContent = `cell ${id}: out ${out.toPrecision(3)}, in ${inn.toPrecision(3)} moves per slice (drawn flows, slices ${cur.a}–${cur.b - 1})`;
    }
  });
  drawWindow();
  return h('section', { class: 'viewer traffic-viewer', 'data-testid': 'viewer-traffic' },
    h('h3', {}, `Cells and flows (${cells.size} cells, ${T} slices${cp.sequence ? `; ${cp.sequence}` : ''})`),
    h('div', { class: 'row' }, $mode, detectors.length > 1 ? $det : '', $top), $win, map, $legend, $hover, tl,
    h('p', { class: 'muted' }, 'click or drag on the timeline (or ← / → on it) to choose the window the map shows'));
}
