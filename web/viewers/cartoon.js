// Cartoon before/after (issue #25): for a `cartoon apply` run, the photo the run read (photo.png,
// its own copy) under the cartoon it wrote, split by a draggable slider (pointer and keyboard),
// both at full resolution scaled to fit. Below, live controls: stroke α_s, abstraction α_a, hue
// shift and the classic toggle re-render the cartoon of the same photo at preview size through
// POST /api/preview/cartoon/apply (one request at a time; a change made meanwhile is sent when it
// returns, older ones are dropped), without creating a run; "Save as run" starts a real run at full
// resolution with those values (POST /api/preview/cartoon/apply/run).
import { h, TOKEN } from '../ui.js';

export const name = 'cartoon';

const PHOTO = 'photo.png';
const cartoonFile = (files) => files.find((f) => /^cartoon\.(png|jpe?g)$/i.test(f));

export function match(run, files) {
  return run.module === 'cartoon' && run.command === 'apply' && files.includes(PHOTO) && Boolean(cartoonFile(files));
}

const num = (v, d) => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const caption = (c) => `cartoon (stroke α_s ${+c.stroke.toFixed(2)}, abstraction α_a ${+c.abstraction.toFixed(2)}, hue ${c.hueShift > 0 ? '+' : ''}${c.hueShift}°${c.classic ? ', classic' : ''})`;

/** POST as JSON with the page's token; resolves with the response (the caller reads it). */
const post = (url, body) => fetch(url, {
  method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-paperlab-token': TOKEN }, body: JSON.stringify(body),
});

/** The split: a handle at x % of the width; the cartoon shows right of it, the photo left. */
function splitter(stage, after, handle) {
  let pos = 50;
  const set = (x) => {
    pos = Math.max(0, Math.min(100, x));
    after.style.clipPath = `inset(0 0 0 ${pos}%)`;
    handle.style.left = `${pos}%`;
    handle.setAttribute('aria-valuenow', String(Math.round(pos)));
    stage.dataset.split = String(Math.round(pos));
  };
  const fromPointer = (e) => { const r = stage.getBoundingClientRect(); if (r.width > 0) set((100 * (e.clientX - r.left)) / r.width); };
  let dragging = false;
  stage.addEventListener('pointerdown', (e) => { dragging = true; stage.setPointerCapture?.(e.pointerId); fromPointer(e); e.preventDefault(); handle.focus(); });
  stage.addEventListener('pointermove', (e) => { if (dragging) fromPointer(e); });
  const end = () => { dragging = false; };
  stage.addEventListener('pointerup', end);
  stage.addEventListener('pointercancel', end);
  handle.addEventListener('keydown', (e) => {
    const step = e.shiftKey ? 10 : 2;
    const keys = { ArrowLeft: -step, ArrowDown: -step, ArrowRight: step, ArrowUp: step, PageDown: -10, PageUp: 10 };
    const to = e.key === 'Home' ? 0 : e.key === 'End' ? 100 : e.key in keys ? pos + keys[e.key] : undefined;
    if (to === undefined) return;
    set(to);
    e.preventDefault();
  });
  set(50);
}

function range(label, key, min, max, step, value, onInput) {
  const out = h('output', {}, String(value));
  const input = h('input', { type: 'range', min, max, step, value, 'data-control': key, 'data-testid': `cartoon-${key}`, 'aria-label': label });
  input.addEventListener('input', () => { out.textContent = input.value; onInput(); });
  return { el: h('label', { class: 'cv-control' }, h('span', {}, label), input, out), input, out };
}

export function mount(run, files, ctx) {
  const p = run.params ?? {};
  const initial = { stroke: num(p.stroke, 3), abstraction: num(p.abstraction, 2), hueShift: num(p.hueShift, 0), classic: Boolean(p.classic) };
  const before = h('img', { class: 'cv-before', src: ctx.fileUrl(PHOTO), alt: 'photo', 'data-testid': 'cartoon-before', draggable: 'false' });
  const after = h('img', { class: 'cv-after', src: ctx.fileUrl(cartoonFile(files)), alt: 'cartoon', 'data-testid': 'cartoon-after', draggable: 'false' });
  // a small photo is enlarged to be seen (480 px wide at most); a large one is scaled to fit (style.css)
  before.addEventListener('load', () => { if (before.naturalWidth < 480) before.style.width = '480px'; });
  const handle = h('div', {
    class: 'cv-handle', role: 'slider', tabindex: '0', 'aria-label': 'split between photo and cartoon', 'aria-valuemin': '0', 'aria-valuemax': '100', 'data-testid': 'cartoon-split',
  });
  const right = h('span', { class: 'cv-label cv-right', 'data-testid': 'cartoon-label' }, caption(initial));
  const stage = h('div', { class: 'cv-stage', 'data-testid': 'cartoon-stage' }, before, after, handle, h('span', { class: 'cv-label cv-left' }, 'photo'), right);
  splitter(stage, after, handle);

  const state = h('span', { class: 'muted cv-state', 'data-testid': 'cartoon-preview-state' }, 'full resolution (the run’s output)');
  const values = () => ({ stroke: Number(s.input.value), abstraction: Number(a.input.value), hueShift: Number(hue.input.value), classic: classic.checked });
  let inFlight = false;
  let wanted = null;
  let blobUrl = null;
  let shownOnce = false;
  const render = async () => {
    if (inFlight || !wanted) return;
    const v = wanted;
    wanted = null;
    inFlight = true;
    stage.dataset.preview = 'busy';
    state.classList.remove('error');
    state.textContent = shownOnce ? 'rendering the preview…' : 'rendering the preview… (the first one starts the preview worker and loads the model)';
    const t0 = performance.now();
    try {
      const r = await post('/api/preview/cartoon/apply', { run: run.id, params: v });
      if (r.status === 409) return; // superseded on the server by a newer request of ours
      if (!r.ok) throw new Error((await r.json().catch(() => ({}))).error || `preview: ${r.status}`);
      const blob = await r.blob();
      if (blobUrl) URL.revokeObjectURL(blobUrl);
      blobUrl = URL.createObjectURL(blob);
      await new Promise((res, rej) => { after.onload = res; after.onerror = () => rej(new Error('the preview is not an image')); after.src = blobUrl; });
      right.textContent = caption(v);
      shownOnce = true;
      state.textContent = `preview ${after.naturalWidth}×${after.naturalHeight} px in ${((performance.now() - t0) / 1000).toFixed(1)} s — “Save as run” renders it at full resolution`;
      stage.dataset.rendered = JSON.stringify(v);
      state.classList.remove('error');
    } catch (e) {
      state.textContent = e.message;
      state.classList.add('error');
    } finally {
      inFlight = false;
      stage.dataset.preview = wanted ? 'busy' : 'idle';
      if (wanted) void render();
    }
  };
  let timer = null;
  const changed = () => { wanted = values(); clearTimeout(timer); timer = setTimeout(render, 120); };
  const s = range('stroke α_s', 'stroke', 1, 5, 0.1, initial.stroke, changed);
  const a = range('abstraction α_a', 'abstraction', 1, 5, 0.1, initial.abstraction, changed);
  // the slider spans one turn: a run's ±360° shift shows as the same rotation within ±180°
  const hue = range('hue shift (°)', 'hue', -180, 180, 5, ((((initial.hueShift + 180) % 360) + 360) % 360) - 180, changed);
  const classic = h('input', { type: 'checkbox', 'data-testid': 'cartoon-classic', checked: initial.classic });
  classic.addEventListener('change', changed);
  const save = h('button', { 'data-testid': 'cartoon-save', onclick: async () => {
    save.disabled = true;
    try {
      const r = await post('/api/preview/cartoon/apply/run', { run: run.id, params: values() });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) throw new Error(body.error || `save: ${r.status}`);
      location.hash = `#/r/${encodeURIComponent(body.id)}`;
    } catch (e) { state.textContent = e.message; state.classList.add('error'); } finally { save.disabled = false; }
  } }, 'Save as run');
  const reset = h('button', { class: 'secondary', 'data-testid': 'cartoon-reset', onclick: () => {
    for (const [c, v] of [[s, initial.stroke], [a, initial.abstraction], [hue, ((((initial.hueShift + 180) % 360) + 360) % 360) - 180]]) {
      c.input.value = String(v);
      c.out.textContent = c.input.value;
    }
    classic.checked = initial.classic;
    wanted = null;
    after.src = ctx.fileUrl(cartoonFile(files));
    right.textContent = caption(initial);
    state.textContent = 'full resolution (the run’s output)';
    delete stage.dataset.rendered;
  } }, 'Reset');
  const controls = h('div', { class: 'cv-controls' }, s.el, a.el, hue.el, h('label', { class: 'cv-control' }, classic, 'classic'), save, reset, state);
  return h('div', { class: 'cartoon-viewer', 'data-testid': 'cartoon-viewer' },
    h('div', { class: 'muted cv-help' }, 'Drag the split (or focus it and use the arrow keys) to compare; move the controls to preview the cartoon of the same photo.'),
    stage, controls);
}
