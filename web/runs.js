/* global URLSearchParams */
// Run tables like a tracker's: search (module, command, status, parameters, tags, notes), sort by
// column, tags shown, delete with a confirmation dialog; and the run page's tags/notes editor.
import { h, api, fmt, statusEl } from './ui.js';

const SORTABLE = { run: 'created', status: 'status', command: 'module', finished: 'finished' };

/** A searchable, sortable run table over /api/runs with base filters (e.g. {module}); selectable: checkboxes for compare. */
export function runsPanel(base, selectable) {
  const state = { q: '', status: '', sort: 'created', order: 'desc' };
  const $table = h('div', {});
  const search = h('input', { type: 'search', class: 'search', 'data-testid': 'run-search', placeholder: 'search: module, command, status, parameters, tags, notes' });
  const status = h('select', { 'data-testid': 'run-status' }, ['', 'running', 'done', 'failed', 'interrupted'].map((s) => h('option', { value: s }, s || 'any status')));
  let timer = null;
  search.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { state.q = search.value.trim(); refresh(); }, 200); });
  status.addEventListener('change', () => { state.status = status.value; refresh(); });
  const refresh = async () => {
    const qs = new URLSearchParams({ ...base, sort: state.sort, order: state.order });
    if (state.q) qs.set('q', state.q);
    if (state.status) qs.set('status', state.status);
    const runs = await api(`/api/runs?${qs}`);
    const onSort = (key) => { state.order = state.sort === key && state.order === 'desc' ? 'asc' : 'desc'; state.sort = key; refresh(); };
    $table.replaceChildren(runsTable(runs, selectable, state, onSort, refresh));
  };
  const el = h('div', { 'data-testid': 'runs-panel' }, h('div', { class: 'row', style: 'margin-bottom:6px' }, search, status), $table);
  return { el, ready: refresh() };
}

function runsTable(runs, selectable, state, onSort, refresh) {
  const chosen = new Set();
  const btn = h('button', { class: 'secondary', disabled: true, 'data-testid': 'compare', onclick: () => { location.hash = `#/compare/${[...chosen].join(',')}`; } }, 'Compare selected');
  const head = (label) => {
    const key = SORTABLE[label];
    if (!key) return h('th', {}, label);
    const arrow = state.sort === key ? (state.order === 'desc' ? ' ▼' : ' ▲') : '';
    return h('th', { class: 'sortable', 'data-sort': key, onclick: () => onSort(key) }, label + arrow);
  };
  const body = runs.length ? runs.map((r) => h('tr', { 'data-row': r.id },
    selectable ? h('td', {}, h('input', { type: 'checkbox', 'data-run': r.id, onchange: (e) => { if (e.target.checked) chosen.add(r.id); else chosen.delete(r.id); btn.disabled = chosen.size < 2; } })) : null,
    h('td', {}, h('a', { href: `#/r/${encodeURIComponent(r.id)}` }, r.id), r.notes ? h('div', { class: 'muted note' }, r.notes.slice(0, 120)) : null),
    h('td', {}, statusEl(r.status)),
    h('td', {}, `${r.module} ${r.command}`),
    h('td', {}, (r.tags || []).map((t) => h('span', { class: 'chip' }, t))),
    h('td', { class: 'muted' }, Object.entries(r.params).slice(0, 6).map(([k, v]) => `${k}=${fmt(v)}`).join(' ')),
    h('td', { class: 'muted' }, r.summary ? Object.entries(r.summary).filter(([, v]) => typeof v !== 'object').slice(0, 4).map(([k, v]) => `${k}=${fmt(v)}`).join(' ') : (r.error || '')),
    h('td', {}, r.status === 'running' ? null : h('button', { class: 'secondary danger', 'data-testid': 'delete', 'data-run': r.id, onclick: () => deleteRun(r.id, refresh) }, 'Delete')),
  )) : [h('tr', {}, h('td', { colspan: 8, class: 'muted' }, state.q || state.status ? 'No run matches.' : 'No runs yet.'))];
  const table = h('table', { 'data-testid': 'runs' },
    h('tr', {}, selectable ? h('th', {}, '') : null, ['run', 'status', 'command', 'tags', 'parameters', 'summary', ''].map(head)), body);
  return h('div', {}, selectable ? h('div', { class: 'row', style: 'margin-bottom:6px' }, btn) : null, table);
}

/** Asks in a dialog, then deletes the run (its folder and index row) and calls done(). */
export function deleteRun(id, done) {
  const err = h('div', { class: 'error' });
  const dlg = h('dialog', { 'data-testid': 'confirm-delete' },
    h('p', {}, 'Delete run ', h('code', {}, id), '?'),
    h('p', { class: 'muted' }, 'Its folder (metrics, pictures, checkpoints, inputs) and its row in the index are removed for good.'), err,
    h('div', { class: 'row' },
      h('button', { class: 'secondary', 'data-testid': 'confirm-delete-no', onclick: () => { dlg.close(); dlg.remove(); } }, 'Cancel'),
      h('button', { class: 'danger', 'data-testid': 'confirm-delete-yes', onclick: async () => {
        try { await api(`/api/runs/${encodeURIComponent(id)}`, { method: 'DELETE' }); } catch (e) { err.textContent = e.message; return; }
        dlg.close(); dlg.remove(); await done();
      } }, 'Delete')));
  document.body.append(dlg);
  dlg.showModal();
}

/** The run page's tags and notes editor, and its delete button. */
export function runActions(run) {
  const tags = h('input', { type: 'text', 'data-testid': 'tags', value: (run.tags || []).join(', '), placeholder: 'tags, comma separated' });
  const notes = h('textarea', { 'data-testid': 'notes', rows: 3, placeholder: 'notes' });
  notes.value = run.notes || '';
  const said = h('span', { class: 'muted' });
  const save = async () => {
    try {
      const r = await api(`/api/runs/${encodeURIComponent(run.id)}/annotate`, { method: 'POST', body: JSON.stringify({ tags: tags.value.split(',').map((t) => t.trim()).filter(Boolean), notes: notes.value }) });
      tags.value = r.tags.join(', ');
      said.textContent = 'saved';
    } catch (e) { said.textContent = e.message; }
  };
  return h('div', { class: 'annotate' }, h('label', {}, 'Tags ', tags), h('label', {}, 'Notes', notes),
    h('div', { class: 'row' }, h('button', { class: 'secondary', 'data-testid': 'save-notes', onclick: save }, 'Save'), said,
      run.status === 'running' ? null : h('button', { class: 'danger', 'data-testid': 'delete', onclick: () => deleteRun(run.id, () => { location.hash = `#/m/${run.module}`; }) }, 'Delete run')));
}
