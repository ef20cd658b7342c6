/* global URLSearchParams */
// Run page views: summaries as tables (nested objects as key-value tables, arrays of objects as
// tables, long arrays cut with a count), the log of a finished run, and browser uploads for input
// path parameters (POST /api/uploads; the server names and checks the file: src/server/uploads.ts).
import { h, fmt, TOKEN } from './ui.js';

const MAX_ROWS = 20;
const MAX_ITEMS = 20;
const MAX_COLS = 12;
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** A value as the page shows it: a table for objects and arrays of objects, text otherwise. */
export function valueView(v, depth = 0, testid) {
  if (v === null || v === undefined) return h('span', { class: 'muted' }, '—');
  if (typeof v !== 'object') return fmt(v);
  if (depth > 4) return h('code', {}, JSON.stringify(v).slice(0, 200));
  if (Array.isArray(v)) {
    if (!v.length) return h('span', { class: 'muted' }, '(empty)');
    if (v.every(isObj)) return rowsTable(v, depth);
    if (v.every((x) => typeof x !== 'object' || x === null)) {
      const shown = v.slice(0, MAX_ITEMS).map(fmt).join(', ');
      return h('span', {}, v.length > MAX_ITEMS ? `${shown}, … (${v.length} in all)` : shown);
    }
    return kvTable(Object.fromEntries(v.slice(0, MAX_ROWS).map((x, i) => [String(i), x])), depth, testid, v.length);
  }
  return kvTable(v, depth, testid);
}

function kvTable(obj, depth, testid, total) {
  const entries = Object.entries(obj);
  const more = (total ?? entries.length) - Math.min(entries.length, MAX_ROWS * 5);
  return h('table', { class: 'kv', 'data-testid': testid },
    entries.slice(0, MAX_ROWS * 5).map(([k, x]) => h('tr', {}, h('th', {}, k), h('td', {}, valueView(x, depth + 1)))),
    more > 0 ? h('tr', {}, h('td', { colspan: 2, class: 'more' }, `… ${more} more`)) : null);
}

function rowsTable(rows, depth) {
  const cols = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!cols.includes(k)) cols.push(k);
  const shownCols = cols.slice(0, MAX_COLS);
  return h('table', { class: 'kv rows' },
    h('tr', {}, shownCols.map((c) => h('th', {}, c)), cols.length > MAX_COLS ? h('th', { class: 'more' }, `+${cols.length - MAX_COLS} columns`) : null),
    rows.slice(0, MAX_ROWS).map((r) => h('tr', {}, shownCols.map((c) => h('td', {}, valueView(r[c], depth + 1))))),
    rows.length > MAX_ROWS ? h('tr', {}, h('td', { colspan: shownCols.length, class: 'more' }, `… ${rows.length - MAX_ROWS} more rows (${rows.length} in all)`)) : null);
}

/** The log of a run that is not running any more (log.txt in its folder), or '' when it has none. */
export async function finishedLog(id) {
  const r = await fetch(`/api/runs/${encodeURIComponent(id)}/files/log.txt`);
  return r.ok ? r.text() : '';
}

/** A file chooser beside an input path parameter: the chosen file is uploaded when the run starts. */
export function fileInputFor(p) {
  return h('span', { class: 'upload' }, 'or upload: ', h('input', { type: 'file', 'data-upload': p.name, 'data-testid': `upload-${p.name}` }));
}

/** Uploads the files chosen in the form; resolves with {parameter: upload id} for POST /api/runs. */
export async function uploadFiles(form, module, command) {
  const out = {};
  for (const el of form.querySelectorAll('input[data-upload]')) {
    const file = el.files?.[0];
    if (!file) continue;
    const qs = new URLSearchParams({ module, command, param: el.dataset.upload, name: file.name });
    const r = await fetch(`/api/uploads?${qs}`, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/octet-stream', 'x-paperlab-token': TOKEN }, body: file });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(body.error || `upload of ${file.name}: ${r.status}`);
    out[el.dataset.upload] = body.upload;
  }
  return out;
}
