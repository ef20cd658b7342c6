// Skeleton viewer (action): plays the clips of a run's skeletons.json (written by `action quick` and
// `action train`: joints per frame, the bone list, the true and the predicted class) as an SVG
// stick figure with play/pause, a frame scrubber and the labels; a menu picks the clip.
import { h } from '../ui.js';

export const name = 'skeleton';

export const match = (run, files) => run.module === 'action' && files.includes('skeletons.json');

const SVG = 'http://www.w3.org/2000/svg';
const s = (tag, attrs = {}) => {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
};

/** x right, y up → screen: one scale for every frame of the clip (the figure's motion stays visible), equal aspect. */
function projector(frames, size, pad) {
  let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
  for (const f of frames) for (const j of f) if (j && Number.isFinite(j[0]) && Number.isFinite(j[1])) {
    x0 = Math.min(x0, j[0]); x1 = Math.max(x1, j[0]); y0 = Math.min(y0, j[1]); y1 = Math.max(y1, j[1]);
  }
  if (!Number.isFinite(x0)) { x0 = y0 = -1; x1 = y1 = 1; }
  const k = (size - 2 * pad) / Math.max(1e-6, x1 - x0, y1 - y0);
  const cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
  return (j) => [size / 2 + (j[0] - cx) * k, size / 2 - (j[1] - cy) * k];
}

export async function mount(run, files, ctx) {
  const r = await fetch(ctx.fileUrl('skeletons.json'));
  if (!r.ok) throw new Error(`skeletons.json: ${r.status}`);
  const data = await r.json();
  if (data.format !== 'paperlab-action-skeletons-1' || !Array.isArray(data.clips) || !Array.isArray(data.bones)) throw new Error('skeletons.json: not a paperlab-action-skeletons-1 file');
  const size = 360, fps = data.fps > 0 ? data.fps : 8;
  const svg = s('svg', { width: size, height: size, viewBox: `0 0 ${size} ${size}`, class: 'skeleton-svg', 'data-testid': 'skeleton-svg', role: 'img' });
  const $pick = h('select', { 'data-testid': 'skeleton-clip', 'aria-label': 'clip' },
    ...data.clips.map((c, i) => h('option', { value: i }, `${c.name} — true ${c.label ?? '?'}, predicted ${c.predicted}`)));
  const $play = h('button', { type: 'button', 'data-testid': 'skeleton-play' }, 'Play');
  const $scrub = h('input', { type: 'range', min: 0, max: 0, value: 0, step: 1, 'data-testid': 'skeleton-frame', 'aria-label': 'frame' });
  const $frame = h('span', { class: 'muted', 'data-testid': 'skeleton-frame-label' });
  const $true = h('span', { 'data-testid': 'skeleton-true' });
  const $pred = h('span', { 'data-testid': 'skeleton-predicted' });
  let clip = null, proj = null, bones = [], joints = [], t = 0, timer = null;

  const draw = () => {
    const f = clip.frames[t] ?? [];
    bones.forEach((el, i) => {
      const [a, b] = data.bones[i], ja = f[a], jb = f[b];
      if (!ja || !jb) { el.setAttribute('visibility', 'hidden'); return; }
      const [x1, y1] = proj(ja), [x2, y2] = proj(jb);
      el.setAttribute('visibility', 'visible');
      el.setAttribute('x1', x1.toFixed(1)); el.setAttribute('y1', y1.toFixed(1)); el.setAttribute('x2', x2.toFixed(1)); el.setAttribute('y2', y2.toFixed(1));
    });
    joints.forEach((el, j) => {
      const p = f[j];
      if (!p) { el.setAttribute('visibility', 'hidden'); return; }
      const [x, y] = proj(p);
      el.setAttribute('visibility', 'visible');
      el.setAttribute('cx', x.toFixed(1)); el.setAttribute('cy', y.toFixed(1));
    });
    $scrub.value = String(t);
    $frame.textContent = `frame ${t + 1} / ${clip.frames.length} (${fps} fps)`;
    svg.setAttribute('data-frame', String(t));
  };
  const stop = () => { if (timer) clearInterval(timer); timer = null; $play.textContent = 'Play'; };
  const play = () => {
    stop();
    timer = setInterval(() => {
      if (!svg.isConnected) { stop(); return; }
      t = (t + 1) % clip.frames.length; draw();
    }, 1000 / fps);
    $play.textContent = 'Pause';
  };
  const load = (i) => {
    stop();
    clip = data.clips[i];
    t = 0;
    proj = projector(clip.frames, size, 24);
    const nj = clip.frames[0]?.length ?? 0;
    svg.replaceChildren(s('rect', { width: size, height: size, fill: 'white' }));
    bones = data.bones.map(() => svg.appendChild(s('line', { class: 'bone', stroke: '#555', 'stroke-width': 3, 'stroke-linecap': 'round' })));
    joints = Array.from({ length: nj }, (_, j) => {
      const c = svg.appendChild(s('circle', { class: 'joint', r: 4, fill: '#1f77b4', 'data-joint': j }));
      c.appendChild(s('title')).textContent = `joint ${j}`;
      return c;
    });
    $scrub.max = String(Math.max(0, clip.frames.length - 1));
    const right = clip.label !== null && clip.label === clip.predicted;
    $true.textContent = `true: ${clip.label ?? 'unknown'}`;
    $pred.textContent = `predicted: ${clip.predicted} (p = ${Number(clip.probability).toFixed(2)})`;
    $pred.className = clip.label === null ? '' : right ? 'right' : 'wrong';
    draw();
  };
  $pick.addEventListener('change', () => load(Number($pick.value)));
  $play.addEventListener('click', () => (timer ? stop() : play()));
  $scrub.addEventListener('input', () => { stop(); t = Number($scrub.value); draw(); });
  load(0);
  return h('section', { class: 'viewer skeleton-viewer', 'data-testid': 'viewer-skeleton' },
    h('h3', {}, 'Skeleton clips'),
    h('div', { class: 'row' }, $pick),
    h('div', { class: 'skeleton-labels row' }, $true, $pred),
    svg,
    h('div', { class: 'row' }, $play, $scrub, $frame),
    h('p', { class: 'muted' }, `joints (dots) and bones of the clip as the model sees it (x right, y up; ${data.joints} joints × ${data.bodies} bod${data.bodies === 1 ? 'y' : 'ies'}); classes: ${data.classNames.join(', ')}`));
}
