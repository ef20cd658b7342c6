// Metric panels like a tracker's: one panel per declared group (src/core/registry.ts MetricSpec),
// on the declared x axis, with a log toggle (non-positive values dropped), EMA smoothing (as
// TensorBoard: debiased exponential moving average), drag-to-zoom (double-click resets), hover
// values and reference lines (e.g. 2/η). Undeclared columns get one panel each.
import { h, fmt } from './ui.js';

const X_TITLES = { step: 'step', epoch: 'epoch', time: 'time t = η · step', eta: 'step size η', iteration: 'iteration', iter: 'iteration', t: 'step t' };
const X_FALLBACK = ['step', 'epoch', 'iteration', 'iter', 't'];
export const xTitle = (x) => X_TITLES[x] ?? (x === '__index' ? 'row' : x);
const yTitle = (m) => (m.unit ? `${m.label} (${m.unit})` : m.label);

/**
 * The panels of one run's (or several runs') tables: declared metrics grouped, then each
 * undeclared numeric column against step/epoch/iteration (else the row index).
 * tables: Map<table, rows[]>; decls: MetricSpec[] with table and group filled in.
 */
export function panelsOf(tables, decls) {
  const groups = new Map();
  const declared = new Set();
  for (const m of decls) {
    const rows = tables.get(m.table);
    if (!rows || !rows.some((r) => typeof r[m.name] === 'number')) continue;
    declared.add(`${m.table}.${m.name}`);
    const g = groups.get(m.group) ?? { group: m.group, x: m.x, scale: m.scale, metrics: [] };
    g.metrics.push(m);
    groups.set(m.group, g);
  }
  for (const [table, rows] of tables) {
    if (!rows.length) continue;
    const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const x = X_FALLBACK.find((k) => cols.includes(k) && rows.some((r) => typeof r[k] === 'number')) ?? '__index';
    // In a table with declarations, the axes, series and reference columns and constants are not metrics.
    const own = decls.filter((m) => m.table === table);
    const skip = new Set(own.length ? [...X_FALLBACK, 'time', 'eta', ...own.flatMap((m) => [m.x, ...[m.series ?? []].flat(), m.reference?.column])] : []);
    const constant = (c) => own.length > 0 && rows.length > 1 && rows.every((r) => r[c] === rows[0][c]);
    for (const c of cols) {
      if (c === x || skip.has(c) || declared.has(`${table}.${c}`) || !rows.some((r) => typeof r[c] === 'number') || constant(c)) continue;
      const group = `${table}: ${c}`;
      groups.set(group, { group, x, scale: 'linear', metrics: [{ table, name: c, label: c, x, scale: 'linear', group }] });
    }
  }
  return [...groups.values()];
}

/** EMA with TensorBoard's debiasing: s_t = (w s_{t−1} + (1 − w) v_t) / (1 − w^t). */
export function smooth(values, w) {
  if (!(w > 0)) return values.slice();
  let last = 0, n = 0;
  return values.map((v) => { n++; last = last * w + (1 - w) * v; return last / (1 - w ** n); });
}

/** The points of one metric of one run: {x, value, raw, series}, split by the declared series column. */
export function pointsOf(rows, m, { smoothing = 0, log = false, prefix = '' } = {}) {
  const split = new Map();
  const splitBy = [m.series ?? []].flat();
  rows.forEach((r, i) => {
    const x = m.x === '__index' ? i : r[m.x];
    const v = r[m.name];
    if (typeof x !== 'number' || typeof v !== 'number' || !Number.isFinite(v) || !Number.isFinite(x)) return;
    if (log && v <= 0) return;
    const s = prefix + m.label + splitBy.filter((c) => r[c] !== undefined).map((c) => ` · ${c} ${fmt(r[c])}`).join('');
    if (!split.has(s)) split.set(s, []);
    split.get(s).push({ x, raw: v });
  });
  return [...split].flatMap(([series, pts]) => {
    const sm = smooth(pts.map((p) => p.raw), smoothing);
    return pts.map((p, i) => ({ x: p.x, raw: p.raw, value: sm[i], series }));
  });
}

/** Reference lines of a metric: numerator / row[column] for each distinct value, or / params[param]. */
export function referencesOf(rows, m, params = {}) {
  const r = m.reference;
  if (!r) return [];
  let ds = [1];
  if (r.column) ds = [...new Set(rows.map((x) => x[r.column]).filter((v) => typeof v === 'number' && v !== 0))];
  else if (r.param) ds = typeof params[r.param] === 'number' && params[r.param] !== 0 ? [params[r.param]] : [];
  return ds.map((d) => ({ y: r.numerator / d, label: r.column || r.param ? `${r.label} = ${fmt(r.numerator / d)}` : r.label }));
}

/** Vega-Lite spec of one panel. */
export function panelSpec({ title, x, yTitle: yt, values, refs = [], log = false, domain = null, smoothing = 0, width = 440, height = 230 }) {
  const xEnc = { field: 'x', type: 'quantitative', title: xTitle(x), scale: domain ? { domain, nice: false } : { nice: false } };
  const yScale = log ? { type: 'log', nice: false } : { zero: false };
  // A reference line far outside the data (e.g. the control run's 2/η on the large-η run's
  // sharpness) would flatten every curve: keep those within one data magnitude of the data.
  const ys = values.map((v) => v.value);
  const lo = Math.min(...ys), hi = Math.max(...ys), span = Math.max(hi - lo, Math.abs(hi), Math.abs(lo));
  const refVals = refs.filter((r) => (!log || r.y > 0) && (!ys.length || (r.y >= lo - span && r.y <= hi + span)));
  const layers = [];
  const color = { field: 'series', type: 'nominal', title: null, legend: { orient: 'bottom', direction: 'vertical', labelLimit: 0, symbolType: 'stroke', symbolOpacity: 1 } };
  if (smoothing > 0) layers.push({ mark: { type: 'line', opacity: 0.25, clip: true }, encoding: { x: xEnc, y: { field: 'raw', type: 'quantitative', scale: yScale }, color } });
  layers.push({
    mark: { type: 'line', clip: true, point: values.length < 60 ? { size: 18 } : false },
    encoding: { x: xEnc, y: { field: 'value', type: 'quantitative', title: yt, scale: yScale }, color },
  });
  layers.push({
    params: [{ name: 'hover', select: { type: 'point', on: 'pointermove', nearest: true, encodings: ['x'], clear: 'pointerout' } },
      { name: 'zoom', select: { type: 'interval', encodings: ['x'] } }],
    mark: { type: 'point', clip: true, size: 40, filled: true },
    encoding: { x: xEnc, y: { field: 'value', type: 'quantitative', scale: yScale }, color,
      opacity: { condition: { param: 'hover', empty: false, value: 1 }, value: 0 },
      tooltip: [{ field: 'series', title: 'series' }, { field: 'x', title: xTitle(x), format: '.4~g' }, { field: 'value', title: yt, format: '.5~g' },
        ...(smoothing > 0 ? [{ field: 'raw', title: 'raw', format: '.5~g' }] : [])] },
  });
  if (refVals.length) {
    layers.push({ data: { values: refVals }, mark: { type: 'rule', strokeDash: [5, 4], color: '#b00' }, encoding: { y: { field: 'y', type: 'quantitative' } } });
    layers.push({ data: { values: refVals }, mark: { type: 'text', align: 'left', dx: 4, dy: -6, color: '#b00' }, encoding: { y: { field: 'y', type: 'quantitative' }, x: { value: 0 }, text: { field: 'label' } } });
  }
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width, height, data: { values }, layer: layers };
}

/**
 * A panel element with its controls. series(opts) returns {values, refs} for the current
 * smoothing/log; the panel redraws when a control changes or when redraw() is called.
 */
export function panelElement(p, series, { testid = 'panel', width } = {}) {
  const state = { log: p.scale === 'log', smoothing: 0, domain: null };
  const box = h('div', { class: 'plot' });
  const logBox = h('input', { type: 'checkbox', 'data-testid': 'log-toggle' });
  logBox.checked = state.log;
  const slider = h('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: 0, 'data-testid': 'smoothing' });
  const sval = h('span', { class: 'muted' }, '0');
  const readout = h('div', { class: 'hover-values muted', 'data-testid': 'hover-values' }, '\u00a0');
  const ids = p.metrics.map((m) => `${m.table}.${m.name}`);
  const el = h('div', { class: 'chart panel', 'data-testid': testid, 'data-group': p.group, 'data-x': p.x, 'data-metrics': ids.join(' '), 'data-metric': ids.length === 1 ? ids[0] : undefined },
    h('div', { class: 'panel-controls' }, h('label', {}, logBox, ' log'), h('label', {}, 'smoothing ', slider, ' ', sval),
      h('span', { class: 'muted' }, 'drag: zoom · double-click: reset')),
    box, readout);
  let view = null;
  const draw = async () => {
    const { values, refs } = series({ log: state.log, smoothing: state.smoothing });
    const title = p.metrics.length === 1 ? yTitle(p.metrics[0]) : p.group;
    const yt = p.metrics.length === 1 ? yTitle(p.metrics[0]) : p.group;
    view?.finalize();
    box.replaceChildren();
    if (!window.vega || !window.vegaLite) return;
    const spec = panelSpec({ title, x: p.x, yTitle: yt, values, refs, log: state.log, domain: state.domain, smoothing: state.smoothing, width });
    view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'svg', container: box, hover: true });
    // Hover values as TensorBoard shows them: every series at the x under the pointer.
    view.addSignalListener('hover', (_name, sel) => {
      const x = Object.values(sel ?? {}).flat().find((v) => typeof v === 'number');
      if (typeof x !== 'number') return;
      const near = new Map();
      for (const v of values) { const best = near.get(v.series); if (!best || Math.abs(v.x - x) < Math.abs(best.x - x)) near.set(v.series, v); }
      readout.replaceChildren(h('b', {}, `${xTitle(p.x)} ${fmt(x)}`),
        ...[...near].map(([series, v]) => h('span', {}, ` · ${series}: ${fmt(v.value)}${state.smoothing > 0 ? ` (raw ${fmt(v.raw)})` : ''}`)));
    });
    await view.runAsync();
  };
  logBox.addEventListener('change', () => { state.log = logBox.checked; draw(); });
  slider.addEventListener('change', () => { state.smoothing = Number(slider.value); sval.textContent = slider.value; draw(); });
  box.addEventListener('pointerup', () => {
    const z = view?.signal('zoom');
    const r = z && (z.x ?? Object.values(z)[0]);
    if (Array.isArray(r) && r.length === 2 && r[0] !== r[1]) { state.domain = [Math.min(...r), Math.max(...r)]; setTimeout(draw, 0); }
  });
  box.addEventListener('dblclick', () => { state.domain = null; draw(); });
  el.redraw = draw;
  return el;
}

/** Scalar leaves of a nested summary as [dotted key, value] pairs (arrays and deep objects left out). */
function leaves(obj, prefix = '', depth = 0, out = []) {
  for (const [k, v] of Object.entries(obj ?? {})) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) { if (depth < 3) leaves(v, key, depth + 1, out); } else if (!Array.isArray(v)) out.push([key, v]);
  }
  return out;
}

/**
 * The chosen runs side by side: command, status, the last value of every metric (per series) and
 * every scalar of the summaries, one column per run. byRun: [{run, tables, label, panels}].
 */
export function summaryTable(byRun) {
  const rows = new Map();
  const put = (key, i, v) => { if (!rows.has(key)) rows.set(key, byRun.map(() => undefined)); rows.get(key)[i] = v; };
  byRun.forEach((b, i) => {
    put('command', i, `${b.run.module ?? ''} ${b.run.command ?? ''}`.trim());
    put('status', i, b.run.status);
    for (const p of b.panels) {
      for (const m of p.metrics) {
        const pts = pointsOf(b.tables.get(m.table) ?? [], m);
        const last = new Map();
        for (const q of pts) last.set(q.series, q.raw);
        for (const [series, v] of last) put(`last ${series}`, i, v);
      }
    }
    for (const [k, v] of leaves(b.run.summary)) put(`summary ${k}`, i, v);
  });
  return h('div', { class: 'scroll' }, h('table', { 'data-testid': 'summary-side' },
    h('tr', {}, h('th', {}, ''), byRun.map((b) => h('th', {}, h('a', { href: `#/r/${encodeURIComponent(b.run.id)}` }, b.label)))),
    [...rows].map(([k, vs]) => h('tr', {}, h('th', {}, k), vs.map((v) => h('td', {}, fmt(v)))))));
}
