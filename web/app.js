// paperlab dashboard: pages generated from the registry (/api/modules), runs from the run store.
// No framework: hash routes #/, #/m/<module>, #/r/<run>, #/compare/<a>,<b>,...
const $main = document.getElementById('main');
const $nav = document.getElementById('nav');
let modules = [];
let liveSource = null;

import { h, api, fmt, statusEl } from './ui.js';
import { runsPanel, runActions } from './runs.js';
import { valueView, finishedLog, fileInputFor, uploadFiles } from './views.js';
import { panelsOf, panelElement, pointsOf, referencesOf, summaryTable } from './metrics.js';
import { viewersFor } from './viewers/index.js';

async function render() {
  if (liveSource) { liveSource.close(); liveSource = null; }
  const [, page, arg] = (location.hash || '#/').split('/');
  $nav.replaceChildren(...modules.map((m) => h('a', { href: `#/m/${m.name}`, class: page === 'm' && arg === m.name ? 'active' : '' }, m.name)));
  try {
    if (page === 'm') await modulePage(arg);
    else if (page === 'r') await runPage(decodeURIComponent(arg));
    else if (page === 'compare') await comparePage(decodeURIComponent(arg).split(','));
    else await homePage();
  } catch (e) {
    $main.replaceChildren(h('p', { class: 'error' }, String(e.message || e)));
  }
}

// ---------------------------------------------------------------- home
async function homePage() {
  const runs = runsPanel({ limit: '10' }, false);
  await runs.ready;
  $main.replaceChildren(
    h('h1', {}, 'paperlab'),
    h('p', { class: 'muted' }, 'Each module implements a recent paper on libtorch. Pick one, set its parameters, run, watch and compare.'),
    h('div', { class: 'cards' }, modules.map((m) => {
      const quick = m.commands.find((c) => c.quick);
      return h('div', { class: 'card' },
        h('h3', {}, h('a', { href: `#/m/${m.name}` }, m.title)),
        h('div', { class: 'muted' }, m.description),
        quick ? h('div', { class: 'row', style: 'margin-top:8px' },
          h('button', { 'data-testid': `quick-${m.name}`, onclick: () => startRun(m.name, quick.name, {}, 0) }, `Run ${quick.name} (defaults)`)) : null);
    })),
    h('h2', {}, 'Recent runs'), runs.el);
}

// ---------------------------------------------------------------- module page
function paramInput(p) {
  const id = `p-${p.name}`;
  const common = { name: p.name, id, 'data-param': p.name };
  let input;
  if (p.choices) input = h('select', common, p.choices.map((c) => h('option', { value: c, selected: c === p.default }, c)));
  else if (p.type === 'boolean') input = h('input', { ...common, type: 'checkbox', checked: p.default === true });
  else if ((p.type === 'number' || p.type === 'integer') && p.keywords) {
    // A number or a word ('auto'): free text, validated by the server against the schema.
    input = h('input', { ...common, type: 'text', value: p.default ?? '', placeholder: `a number or ${p.keywords.join(', ')}` });
  } else if (p.type === 'number' || p.type === 'integer') {
    const num = h('input', { ...common, type: 'number', step: p.type === 'integer' ? 1 : 'any', value: p.default ?? '', min: p.minimum, max: p.maximum });
    // A bounded number gets a slider too (texture/colour strengths, thresholds, ...).
    if (p.minimum !== undefined && p.maximum !== undefined && p.maximum - p.minimum <= 1000) {
      const slider = h('input', { type: 'range', min: p.minimum, max: p.maximum, step: p.type === 'integer' ? 1 : (p.maximum - p.minimum) / 100, value: p.default ?? p.minimum,
        oninput: (e) => { num.value = e.target.value; } });
      num.addEventListener('input', () => { slider.value = num.value; });
      input = h('div', {}, num, slider);
    } else input = num;
  } else if (p.type === 'array' && p.itemChoices) {
    const chosen = Array.isArray(p.default) ? p.default : [];
    input = h('select', { ...common, multiple: true, size: Math.min(p.itemChoices.length, 6) }, p.itemChoices.map((c) => h('option', { value: c, selected: chosen.includes(c) }, c)));
  } else if (p.type === 'array') input = h('input', { ...common, type: 'text', value: Array.isArray(p.default) ? p.default.join(',') : '', placeholder: 'comma,separated' });
  else {
    // Path parameters (registry: ParamInfo.path): where the dashboard lets them point.
    const placeholder = p.path === 'output' ? 'relative: inside the run folder' : p.path === 'input' ? 'relative to the folder serve started in' : undefined;
    input = h('input', { ...common, type: 'text', value: p.default ?? '', placeholder, 'data-path': p.path });
    if (p.path === 'input' && !p.pathList && !p.pathSchemes) input = h('div', {}, input, fileInputFor(p));
  }
  return h('label', { for: id, title: p.description || '' }, h('span', { class: 'name' }, p.name), p.description || '', input);
}

function readForm(form, cmd) {
  const out = {};
  for (const p of cmd.params) {
    const el = form.querySelector(`[data-param="${p.name}"]`);
    if (!el) continue;
    if (p.type === 'boolean') { out[p.name] = el.checked; continue; }
    if (p.type === 'array' && p.itemChoices) { out[p.name] = [...el.selectedOptions].map((o) => o.value); continue; }
    const v = el.value;
    if (v === '' && p.default === undefined) continue;
    if (p.nullable && v === '') { out[p.name] = p.default ?? null; continue; }
    if (p.keywords?.includes(v)) out[p.name] = v;
    else if (p.type === 'number' || p.type === 'integer') out[p.name] = v === '' ? p.default : Number(v);
    else if (p.type === 'array') out[p.name] = v.split(',').map((s) => s.trim()).filter(Boolean).map((s) => (p.itemType === 'number' || p.itemType === 'integer') ? Number(s) : s);
    else out[p.name] = v;
  }
  return out;
}

async function modulePage(name) {
  const m = modules.find((x) => x.name === name);
  if (!m) throw new Error(`unknown module ${name}`);
  const runs = runsPanel({ module: name }, true);
  await runs.ready;
  const sections = m.commands.map((cmd) => {
    const err = h('div', { class: 'error' });
    const seed = h('input', { type: 'number', min: 0, step: 1, value: 0, 'data-param': '__seed' });
    const nproc = h('input', { type: 'number', min: 1, max: 64, step: 1, value: 1, 'data-param': '__nproc' });
    const form = h('form', { class: 'params', 'data-testid': `form-${cmd.name}` },
      cmd.params.map(paramInput),
      h('label', {}, h('span', { class: 'name' }, 'seed'), 'random seed', seed),
      h('label', {}, h('span', { class: 'name' }, 'nproc'), 'data-parallel worker processes (trainers; like torchrun --nproc-per-node)', nproc),
      h('div', { class: 'actions' }, h('button', { type: 'submit', 'data-testid': `run-${cmd.name}` }, `Run ${cmd.name}`), err));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      err.textContent = '';
      try {
        const uploads = await uploadFiles(form, name, cmd.name);
        await startRun(name, cmd.name, readForm(form, cmd), Number(seed.value || 0), Number(nproc.value || 1), uploads);
      } catch (x) { err.textContent = x.message; }
    });
    return h('section', {}, h('h2', {}, `${cmd.name}${cmd.quick ? ' · quick' : ''}`), h('p', { class: 'muted' }, cmd.description), form);
  });
  $main.replaceChildren(h('h1', {}, m.title), h('p', { class: 'muted' }, m.description),
    (m.papers || []).length ? h('p', { class: 'muted' }, 'Paper: ', m.papers.join('; ')) : '',
    ...sections, h('h2', {}, 'Runs'), runs.el);
}

async function startRun(module, command, params, seed, nproc = 1, uploads) {
  const { id } = await api('/api/runs', { method: 'POST', body: JSON.stringify({ module, command, params, seed, uploads, ...(nproc > 1 ? { nproc } : {}) }) });
  location.hash = `#/r/${encodeURIComponent(id)}`;
}

// ---------------------------------------------------------------- metrics
const declsOf = (module, command) => modules.find((m) => m.name === module)?.commands.find((c) => c.name === command)?.metrics ?? [];

// ---------------------------------------------------------------- run page
async function runPage(id) {
  const run = await api(`/api/runs/${encodeURIComponent(id)}`);
  const tables = new Map();
  const progress = new Map();
  const $progress = h('div', { 'data-testid': 'progress' });
  const $charts = h('div', { class: 'charts', 'data-testid': 'charts' });
  const $gallery = h('div', { class: 'gallery', 'data-testid': 'gallery' });
  const $viewers = h('div', { class: 'viewers', 'data-testid': 'viewers' });
  let viewerFiles = '';
  const $log = h('pre', { 'data-testid': 'log' });
  const $status = h('span', {}, statusEl(run.status));
  const $summary = h('div', {});
  const $err = h('div', { class: 'error', 'data-testid': 'error' }, run.error || '');
  const $actions = h('div', { class: 'row' });
  $main.replaceChildren(
    h('h1', {}, `${run.module} ${run.command}`), h('div', { class: 'row' }, h('code', {}, run.id), $status, h('span', { class: 'muted' }, `seed ${run.seed}`), $actions), $err,
    h('h2', {}, 'Progress'), $progress, h('h2', {}, 'Metrics'), $charts, h('h2', {}, 'Pictures'), $viewers, $gallery, h('h2', {}, 'Summary'), $summary,
    h('h2', {}, 'Parameters'), paramsTable(run.params), h('h2', {}, 'Tags and notes'), runActions(run), h('h2', {}, 'Log'), $log, h('h2', {}, 'Files'), h('div', { 'data-testid': 'files' }));

  const setProgress = (label, value, total) => {
    let p = progress.get(label);
    if (!p) {
      p = { fill: h('div', { class: 'fill' }), text: h('div', { class: 'label' }) };
      progress.set(label, p);
      $progress.append(h('div', { class: 'progress', 'data-label': label }, p.text, h('div', { class: 'bar' }, p.fill)));
    }
    const pct = total > 0 ? Math.min(100, Math.round((100 * value) / total)) : 0;
    p.fill.style.width = `${pct}%`;
    p.text.textContent = `${label}: ${value}/${total} (${pct} %)`;
    p.text.setAttribute('data-pct', String(pct));
  };
  // One panel per declared group (and per undeclared column); new data redraws them, at most every 300 ms.
  const decls = declsOf(run.module, run.command);
  const panels = new Map();
  let redraw = null;
  const scheduleCharts = () => {
    if (redraw) return;
    redraw = setTimeout(async () => {
      redraw = null;
      for (const p of panelsOf(tables, decls)) {
        let el = panels.get(p.group);
        if (!el) {
          el = panelElement(p, (o) => ({
            values: p.metrics.flatMap((m) => pointsOf(tables.get(m.table) ?? [], m, o)),
            refs: p.metrics.flatMap((m) => referencesOf(tables.get(m.table) ?? [], m, run.params)),
          }));
          panels.set(p.group, el);
          $charts.append(el);
        }
        await el.redraw();
      }
    }, 300);
  };
  const refreshFiles = async () => {
    const r = await api(`/api/runs/${encodeURIComponent(id)}`);
    $status.replaceChildren(statusEl(r.status));
    $err.textContent = r.error || '';
    // Pictures: PNG/JPEG, plus SVGs that have no PNG twin (e.g. animated skeletons).
    const imgs = r.files.filter((f) => /\.(png|jpg|jpeg)$/i.test(f) || (/\.svg$/i.test(f) && !r.files.includes(f.replace(/\.svg$/i, '.png'))));
    const seen = new Set([...$gallery.querySelectorAll('img')].map((i) => i.dataset.file));
    for (const f of imgs) if (!seen.has(f)) $gallery.append(h('figure', {}, h('img', { src: `/api/runs/${encodeURIComponent(id)}/files/${f}?t=${Date.now()}`, 'data-file': f, alt: f }), h('figcaption', {}, f)));
    if (r.files.join('\n') !== viewerFiles) {
      viewerFiles = r.files.join('\n');
      $viewers.replaceChildren(...(await viewersFor(r, r.files)));
    }
    const filesEl = $main.querySelector('[data-testid=files]');
    filesEl.replaceChildren(...r.files.map((f) => h('div', {}, h('a', { href: `/api/runs/${encodeURIComponent(id)}/files/${f}`, target: '_blank' }, f))));
    $summary.replaceChildren(r.summary ? valueView(r.summary, 0, 'summary') : h('span', { class: 'muted' }, r.status === 'running' ? 'running…' : 'none'));
    $actions.replaceChildren(...[
      r.active ? h('button', { class: 'secondary', 'data-testid': 'stop', onclick: () => api(`/api/runs/${encodeURIComponent(id)}/stop`, { method: 'POST' }) }, 'Stop') : null,
      !r.active && r.resumable && (r.status === 'interrupted' || r.status === 'failed') ? h('button', { 'data-testid': 'resume', onclick: async () => { await api(`/api/runs/${encodeURIComponent(id)}/resume`, { method: 'POST' }); render(); } }, 'Resume') : null].filter(Boolean));
    return r;
  };

  // History first (metrics of a finished or resumed run), then live events.
  for (const f of run.files.filter((f) => /^[a-z0-9_-]+\.jsonl$/i.test(f))) {
    const name = f.replace(/\.jsonl$/, '');
    tables.set(name, await api(`/api/runs/${encodeURIComponent(id)}/metrics/${name}`));
  }
  if (run.status === 'done') for (const [label] of [['done']]) setProgress(label, 1, 1);
  scheduleCharts();
  await refreshFiles();
  // A finished run's log comes from its log.txt (the server keeps events only of runs it started).
  const logFromFile = !run.active;
  if (logFromFile) $log.textContent = await finishedLog(id);
  const src = new EventSource(`/api/runs/${encodeURIComponent(id)}/events`);
  liveSource = src;
  const seenMetric = new Set();
  src.onmessage = async (msg) => {
    const e = JSON.parse(msg.data);
    if (e.type === 'progress') setProgress(e.label, e.value, e.total);
    else if (e.type === 'metric') {
      const key = JSON.stringify([e.table, e.row]);
      if (seenMetric.has(key) && run.status !== 'running') return;
      seenMetric.add(key);
      if (!tables.has(e.table)) tables.set(e.table, []);
      const rows = tables.get(e.table);
      if (run.status === 'running' || !rows.some((r) => JSON.stringify(r) === JSON.stringify(e.row))) rows.push(e.row);
      scheduleCharts();
    } else if (e.type === 'log' && !logFromFile) {
      $log.textContent += e.message + '\n';
      $log.scrollTop = $log.scrollHeight;
    } else if (e.type === 'plot') await refreshFiles();
    else if (e.type === 'end') {
      src.close();
      if (e.run.status === 'done') for (const [label, p] of progress) { p.fill.style.width = '100%'; p.text.setAttribute('data-pct', '100'); p.text.textContent = `${label}: done (100 %)`; }
      await refreshFiles();
    }
  };
}

function paramsTable(obj, testid = 'params') {
  return h('table', { 'data-testid': testid }, Object.entries(obj).map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, fmt(v)))));
}

// ---------------------------------------------------------------- compare
async function comparePage(ids) {
  const cmp = await api(`/api/compare?ids=${ids.map(encodeURIComponent).join(',')}`);
  const byRun = await Promise.all(cmp.runs.map(async (r) => {
    const info = await api(`/api/runs/${encodeURIComponent(r.id)}`);
    const tables = new Map();
    for (const f of info.files.filter((f) => /^[a-z0-9_-]+\.jsonl$/i.test(f))) {
      const t = f.replace(/\.jsonl$/, '');
      tables.set(t, await api(`/api/runs/${encodeURIComponent(r.id)}/metrics/${t}`));
    }
    const label = r.id.slice(-6) + (cmp.differing.length ? ' ' + cmp.differing.map((k) => `${k}=${fmt(r.params[k])}`).join(' ') : '');
    const run = { ...r, module: r.module ?? info.module, command: r.command ?? info.command };
    return { run, tables, label, panels: panelsOf(tables, declsOf(info.module, info.command)) };
  }));
  // Every group of every run: the union, each overlaid with one line per run (and per metric of the group).
  const groups = new Map();
  for (const b of byRun) for (const p of b.panels) if (!groups.has(p.group)) groups.set(p.group, p);
  const $charts = h('div', { class: 'charts', 'data-testid': 'compare-charts' });
  $main.replaceChildren(h('h1', {}, `Compare ${ids.length} runs`),
    h('h2', {}, 'Parameters that differ'),
    h('table', { 'data-testid': 'param-diff' }, h('tr', {}, h('th', {}, 'parameter'), cmp.runs.map((r) => h('th', {}, r.id))),
      (cmp.differing.length ? cmp.differing : ['(none)']).map((k) => h('tr', {}, h('td', {}, k), cmp.runs.map((r) => h('td', {}, k === '(none)' ? '' : fmt(r.params[k])))))),
    h('h2', {}, 'Curves'), $charts,
    h('h2', {}, 'Side by side'), summaryTable(byRun),
    h('h2', {}, 'Full summaries'),
    h('table', {}, h('tr', {}, h('th', {}, 'run'), h('th', {}, 'status'), h('th', {}, 'summary')),
      cmp.runs.map((r) => h('tr', {}, h('td', {}, h('a', { href: `#/r/${encodeURIComponent(r.id)}` }, r.id)), h('td', {}, statusEl(r.status)), h('td', {}, r.summary ? valueView(r.summary) : '')))));
  for (const [group, p0] of groups) {
    const metricsOf = (b) => b.panels.find((q) => q.group === group)?.metrics ?? [];
    const all = byRun.flatMap(metricsOf);
    const p = { ...p0, metrics: [...new Map(all.map((m) => [`${m.table}.${m.name}`, m])).values()] };
    const el = panelElement(p, (o) => ({
      values: byRun.flatMap((b) => metricsOf(b).flatMap((m) => pointsOf(b.tables.get(m.table) ?? [], { ...m, label: p.metrics.length > 1 ? m.label : '' },
        { ...o, prefix: b.label + (p.metrics.length > 1 ? ' · ' : '') }))),
      refs: byRun.flatMap((b) => metricsOf(b).flatMap((m) => referencesOf(b.tables.get(m.table) ?? [], m, b.run.params))),
    }), { testid: 'compare-panel', width: 480 });
    $charts.append(el);
    await el.redraw();
  }
}

// ---------------------------------------------------------------- boot
window.addEventListener('hashchange', render);
modules = await api('/api/modules');
await render();
