// Slice viewer for prostate runs that wrote detection maps (detect, demo): the bpMRI scan (T2W / ADC /
// HBV) with the detection map as a semi-transparent heat overlay and the zonal masks (PZ / TZ, or the
// whole gland) as outlines or tinted regions, axial slice by slice. Everything is read from the run's
// own folder in the browser (volumes.js): detections/<case>_detection_map<ext> and, as detect and demo
// write them beside it, volumes/<case>_{t2w,adc,hbv,zones,label}<ext> on the detection map's grid
// (the lesion label, when the case has one, is outlined in green as in the PNG overlays).
// Slices: mouse wheel over the image, the range input, or the arrow keys (PageUp/PageDown by 5,
// Home/End) once the viewer has focus. Window/level: automatic from the 1st/99th percentiles of the
// volume; drag on the image (left/right: window width, up/down: level) or type them in.
// The image is drawn in index order (x to the right, y down), sized by the physical in-plane spacing.
/* global ImageData, Path2D, HTMLInputElement, HTMLSelectElement */
import { h } from '../ui.js';
import { parseVolume, percentiles, worldOf } from './volumes.js';

export const name = 'slices';

const DET = /^detections\/(.+)_detection_map\.(nii\.gz|nii|mha)$/;
const VOL_EXT = /\.(nii\.gz|nii|mha)$/;
const CHANNELS = [['t2w', 'T2W'], ['adc', 'ADC'], ['hbv', 'HBV']];
/** volumes/<case>_zones codes (src/modules/prostate/viewer-volumes.ts): 1 PZ, 2 TZ (PI-CAI's Yuan23), 3 whole gland. */
const ZONES = { 1: ['PZ (peripheral zone)', [0, 214, 255]], 2: ['TZ (transition zone)', [232, 121, 249]], 3: ['whole gland', [250, 250, 250]] };
/** Heat map of the likelihood 0 → 1: dark red, red, orange, light yellow (distinct from the grey scan). */
const HEAT = [[0, [110, 0, 30]], [0.35, [225, 25, 28]], [0.7, [253, 141, 60]], [1, [255, 240, 120]]];
const LESION = [34, 197, 94];
const DISPLAY = 460; // css px of the image's longer side

export function heat(t) {
  const x = Math.min(1, Math.max(0, t));
  for (let k = 1; k < HEAT.length; k++) {
    const [t1, c1] = HEAT[k];
    if (x <= t1) {
      const [t0, c0] = HEAT[k - 1];
      const f = (x - t0) / (t1 - t0);
      return c0.map((v, i) => Math.round(v + f * (c1[i] - v)));
    }
  }
  return HEAT.at(-1)[1];
}

export const match = (run, files) => run.module === 'prostate' && files.some((f) => DET.test(f));

const volumeFile = (files, key, kind) => files.find((f) => VOL_EXT.test(f) && f.replace(VOL_EXT, '') === `volumes/${key}_${kind}`);

async function load(ctx, file) {
  const r = await fetch(ctx.fileUrl(file));
  if (!r.ok) throw new Error(`${file}: HTTP ${r.status}`);
  return parseVolume(new Uint8Array(await r.arrayBuffer()), file);
}

/** The cases with a detection map, the most suspicious first when case_predictions.json says so. */
async function casesOf(files, ctx) {
  const cases = files.map((f) => DET.exec(f)).filter(Boolean).map((m) => ({ key: m[1], file: m[0] }));
  if (files.includes('case_predictions.json')) {
    try {
      const p = await (await fetch(ctx.fileUrl('case_predictions.json'))).json();
      cases.sort((a, b) => (p[b.key] ?? 0) - (p[a.key] ?? 0));
    } catch { /* keep the listing order */ }
  }
  return cases;
}

function heatLegend() {
  const bar = h('canvas', { width: 200, height: 12, class: 'heat-bar' });
  const g = bar.getContext('2d');
  for (let x = 0; x < 200; x++) { g.fillStyle = `rgb(${heat(x / 199).join(',')})`; g.fillRect(x, 0, 1, 12); }
  return h('div', { class: 'legend', 'data-testid': 'heat-legend' },
    h('div', { class: 'legend-title' }, 'csPCa likelihood (detection map)'), bar,
    h('div', { class: 'ticks' }, ...['0', '0.25', '0.5', '0.75', '1'].map((t) => h('span', {}, t))),
    h('div', { class: 'muted' }, 'voxels at 0 are not coloured'));
}

const swatch = (rgb, text) => h('div', { class: 'swatch-row' }, h('span', { class: 'swatch', style: `border-color: rgb(${rgb.join(',')})` }), text);
function zoneLegend(codes, lesion) {
  return h('div', { class: 'legend', 'data-testid': 'zone-legend' }, h('div', { class: 'legend-title' }, 'masks (outlines or tint)'),
    ...codes.map((c) => swatch(ZONES[c][1], ZONES[c][0])), lesion ? swatch(LESION, 'csPCa lesion (label)') : null);
}

/** Boundaries of slice z of a mask as one path per code in `codes`, in display coordinates. */
function outlinePaths(zones, nx, ny, z, sx, sy, codes = ZONES) {
  const off = z * nx * ny;
  const at = (x, y) => (x < 0 || y < 0 || x >= nx || y >= ny ? 0 : zones[off + y * nx + x]);
  const paths = new Map();
  const seg = (code, x0, y0, x1, y1) => {
    if (!codes[code]) return;
    if (!paths.has(code)) paths.set(code, new Path2D());
    const p = paths.get(code);
    p.moveTo(x0 * sx, y0 * sy); p.lineTo(x1 * sx, y1 * sy);
  };
  for (let y = -1; y < ny; y++) for (let x = -1; x < nx; x++) {
    const a = at(x, y), r = at(x + 1, y), d = at(x, y + 1);
    if (a !== r && y >= 0) seg(a || r, x + 1, y, x + 1, y + 1);
    if (a !== d && x >= 0) seg(a || d, x, y + 1, x + 1, y + 1);
  }
  return paths;
}

export async function mount(run, files, ctx) {
  const cases = await casesOf(files, ctx);
  const s = { cache: new Map(), vols: null, key: null, channel: 't2w', z: 0, opacity: 0.6, zoneMode: 'outline', win: {}, ticket: 0 };
  const canvas = h('canvas', { class: 'slice-canvas', 'data-testid': 'slice-canvas', role: 'img', 'aria-label': 'axial slice with the detection overlay' });
  const range = h('input', { type: 'range', min: 0, max: 0, value: 0, step: 1, 'data-testid': 'slice-range', 'aria-label': 'slice' });
  const info = h('div', { class: 'slice-info', 'data-testid': 'slice-info' }, 'loading…');
  const hover = h('div', { class: 'slice-hover muted', 'data-testid': 'slice-hover' });
  const status = h('div', { class: 'error', 'data-testid': 'slice-error' });
  const level = h('input', { type: 'number', step: 'any', 'data-testid': 'level', 'aria-label': 'level' });
  const width = h('input', { type: 'number', step: 'any', min: 0, 'data-testid': 'window', 'aria-label': 'window width' });
  const channel = h('select', { 'data-testid': 'channel' }, ...CHANNELS.map(([v, t]) => h('option', { value: v }, t)));
  const opacity = h('input', { type: 'range', min: 0, max: 1, step: 0.05, value: s.opacity, 'data-testid': 'opacity', 'aria-label': 'overlay opacity' });
  const zoneMode = h('select', { 'data-testid': 'zone-mode' }, ...[['outline', 'outlines'], ['fill', 'tinted'], ['off', 'off']].map(([v, t]) => h('option', { value: v }, t)));
  const caseSel = h('select', { 'data-testid': 'case' }, ...cases.map((c) => h('option', { value: c.key }, c.key)));
  const legends = h('div', { class: 'slice-legends' }, heatLegend());
  const root = h('div', { class: 'slice-viewer card', tabindex: 0, 'data-testid': 'slice-viewer' },
    h('div', { class: 'slice-title' }, h('strong', {}, 'Slices'), h('span', { class: 'muted' }, ' — wheel, arrow keys or the slider change the slice; drag on the image for window/level')),
    h('div', { class: 'panel-controls' },
      h('label', {}, 'case ', caseSel), h('label', {}, 'scan ', channel), h('label', {}, 'overlay opacity ', opacity), h('label', {}, 'masks ', zoneMode),
      h('label', {}, 'level ', level), h('label', {}, 'window ', width),
      h('button', { class: 'secondary', type: 'button', 'data-testid': 'auto-window', onclick: () => { delete s.win[s.channel]; draw(); } }, 'auto')),
    h('div', { class: 'slice-stage' }, canvas, legends),
    h('div', { class: 'row' }, range, info), hover, status);

  const base = () => s.vols?.[s.channel] ?? null;
  const windowOf = () => {
    const v = base();
    if (!v) return [0, 1];
    if (!s.win[s.channel]) s.win[s.channel] = percentiles(v.data);
    return s.win[s.channel];
  };

  function draw() {
    const v = s.vols;
    if (!v) return;
    const det = v.det, [nx, ny, nz] = det.dims;
    s.z = Math.min(nz - 1, Math.max(0, s.z));
    const [lo, hi] = windowOf();
    level.value = String(+((lo + hi) / 2).toPrecision(5)); width.value = String(+(hi - lo).toPrecision(5));
    const img = new ImageData(nx, ny), px = img.data, off = s.z * nx * ny, b = base(), zones = v.zones?.data;
    for (let i = 0; i < nx * ny; i++) {
      const g = b ? 255 * Math.min(1, Math.max(0, (b.data[off + i] - lo) / (hi - lo || 1))) : 0;
      let r = g, gg = g, bb = g;
      const zc = zones?.[off + i];
      const tint = s.zoneMode !== 'fill' ? null : v.label?.data[off + i] ? LESION : ZONES[zc]?.[1];
      if (tint) { r = 0.7 * r + 0.3 * tint[0]; gg = 0.7 * gg + 0.3 * tint[1]; bb = 0.7 * bb + 0.3 * tint[2]; }
      const d = det.data[off + i];
      if (d > 0 && s.opacity > 0) {
        const c = heat(d), a = s.opacity;
        r = (1 - a) * r + a * c[0]; gg = (1 - a) * gg + a * c[1]; bb = (1 - a) * bb + a * c[2];
      }
      px[4 * i] = r; px[4 * i + 1] = gg; px[4 * i + 2] = bb; px[4 * i + 3] = 255;
    }
    const small = Object.assign(document.createElement('canvas'), { width: nx, height: ny });
    small.getContext('2d').putImageData(img, 0, 0);
    const g = canvas.getContext('2d');
    g.imageSmoothingEnabled = false;
    g.drawImage(small, 0, 0, canvas.width, canvas.height);
    if (s.zoneMode === 'outline') {
      g.lineWidth = 2;
      const masks = [[zones, ZONES], [v.label?.data, { 1: ['lesion', LESION] }]];
      for (const [mask, codes] of masks) {
        if (!mask) continue;
        for (const [code, p] of outlinePaths(mask, nx, ny, s.z, canvas.width / nx, canvas.height / ny, codes)) {
          g.strokeStyle = `rgb(${codes[code][1].join(',')})`;
          g.stroke(p);
        }
      }
    }
    range.max = String(nz - 1); range.value = String(s.z);
    let mx = 0;
    for (let i = 0; i < nx * ny; i++) mx = Math.max(mx, det.data[off + i]);
    const sp = det.spacing, pos = worldOf(det, 0, 0, s.z), D = det.direction;
    const ax = [0, 1, 2].reduce((best, r) => (Math.abs(D[6 + r]) > Math.abs(D[6 + best]) ? r : best), 0);
    info.textContent = `slice ${s.z + 1} / ${nz} · position ${'LPS'[ax]} ${pos[ax].toFixed(2)} mm · spacing ${sp.map((x) => +x.toFixed(3)).join(' × ')} mm`
      + ` · ${nx} × ${ny} voxels · max likelihood on this slice ${mx.toFixed(3)}`;
    Object.assign(canvas.dataset, { slice: String(s.z), nz: String(nz), nx: String(nx), ny: String(ny), case: s.key, channel: s.channel });
  }

  async function show(key) {
    const ticket = ++s.ticket; // a case chosen while another loads wins
    status.textContent = '';
    info.textContent = `loading ${key}…`;
    try {
      if (!s.cache.has(key)) {
        const c = cases.find((x) => x.key === key);
        const det = await load(ctx, c.file);
        const vols = { det };
        for (const kind of ['t2w', 'adc', 'hbv', 'zones', 'label']) {
          const f = volumeFile(files, key, kind);
          if (!f) continue;
          const v = await load(ctx, f);
          if (v.dims.join() !== det.dims.join()) { status.textContent += `${f}: ${v.dims.join('×')} voxels, not on the detection map's grid ${det.dims.join('×')}: not shown. `; continue; }
          vols[kind] = v;
        }
        s.cache.set(key, vols);
      }
      if (ticket !== s.ticket) return;
      if (key !== s.key) s.win = {}; // each case's own percentile window
      s.vols = s.cache.get(key);
      s.key = key;
      const [nx, ny, nz] = s.vols.det.dims, [sx, sy] = s.vols.det.spacing;
      const k = DISPLAY / Math.max(nx * sx, ny * sy);
      canvas.width = Math.max(1, Math.round(nx * sx * k)); canvas.height = Math.max(1, Math.round(ny * sy * k));
      // start at the slice holding the map's maximum (as the PNG overlay), else the middle
      let best = 0, at = Math.floor(nz / 2);
      s.vols.det.data.forEach((d, i) => { if (d > best) { best = d; at = Math.floor(i / (nx * ny)); } });
      s.z = at;
      for (const o of channel.options) o.disabled = !s.vols[o.value];
      if (!s.vols[s.channel]) s.channel = CHANNELS.map(([c]) => c).find((c) => s.vols[c]) ?? 't2w';
      channel.value = s.channel;
      if (!CHANNELS.some(([c]) => s.vols[c])) status.textContent += 'this run holds no scan for this case (volumes/): the detection map is shown alone. ';
      const codes = s.vols.zones ? [...new Set(s.vols.zones.data)].filter((c) => ZONES[c]).sort() : [];
      const lesion = !!s.vols.label?.data.some((x) => x > 0); // a negative case's empty label is not listed
      legends.replaceChildren(heatLegend(), ...(codes.length || lesion ? [zoneLegend(codes, lesion)] : []));
      draw();
    } catch (e) {
      status.textContent = e.message;
      info.textContent = '';
    }
  }

  const step = (dz) => { if (s.vols) { s.z += dz; draw(); } };
  canvas.addEventListener('wheel', (e) => { e.preventDefault(); step(Math.sign(e.deltaY)); }, { passive: false });
  root.addEventListener('keydown', (e) => {
    const dz = { ArrowUp: 1, ArrowRight: 1, ArrowDown: -1, ArrowLeft: -1, PageUp: 5, PageDown: -5, Home: -1e9, End: 1e9 }[e.key];
    if (dz === undefined || e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement) return;
    e.preventDefault();
    step(dz);
  });
  range.addEventListener('input', () => { s.z = Number(range.value); draw(); });
  channel.addEventListener('change', () => { s.channel = channel.value; draw(); });
  opacity.addEventListener('input', () => { s.opacity = Number(opacity.value); draw(); });
  zoneMode.addEventListener('change', () => { s.zoneMode = zoneMode.value; draw(); });
  caseSel.addEventListener('change', () => show(caseSel.value));
  const typed = () => {
    const L = Number(level.value), W = Number(width.value);
    if (Number.isFinite(L) && Number.isFinite(W) && W > 0) { s.win[s.channel] = [L - W / 2, L + W / 2]; draw(); }
  };
  level.addEventListener('change', typed);
  width.addEventListener('change', typed);
  dragWindowLevel(canvas, root, s, windowOf, draw);
  hoverValues(canvas, hover, s);
  if (cases.length) show(cases[0].key);
  return root;
}

/** Drag on the image: left/right scales the window width, up/down moves the level. */
function dragWindowLevel(canvas, root, s, windowOf, draw) {
  let drag = null;
  canvas.addEventListener('pointerdown', (e) => {
    root.focus({ preventScroll: true });
    if (e.button !== 0 || !s.vols) return;
    const [lo, hi] = windowOf();
    drag = { x: e.clientX, y: e.clientY, L: (lo + hi) / 2, W: hi - lo || 1 };
    canvas.setPointerCapture(e.pointerId);
  });
  canvas.addEventListener('pointermove', (e) => {
    if (!drag) return;
    const W = drag.W * Math.exp((e.clientX - drag.x) / 150), L = drag.L - ((e.clientY - drag.y) / 300) * drag.W;
    s.win[s.channel] = [L - W / 2, L + W / 2];
    draw();
  });
  const end = () => { drag = null; };
  canvas.addEventListener('pointerup', end);
  canvas.addEventListener('pointercancel', end);
}

/** The voxel under the pointer: index, scan value, likelihood and zone. */
function hoverValues(canvas, out, s) {
  canvas.addEventListener('pointermove', (e) => {
    const v = s.vols;
    if (!v) return;
    const [nx, ny] = v.det.dims, r = canvas.getBoundingClientRect();
    const x = Math.floor(((e.clientX - r.left) / r.width) * nx), y = Math.floor(((e.clientY - r.top) / r.height) * ny);
    if (x < 0 || y < 0 || x >= nx || y >= ny) return;
    const i = (s.z * ny + y) * nx + x, b = v[s.channel], zc = v.zones?.data[i];
    out.textContent = `voxel (${x}, ${y}, ${s.z})` + (b ? ` · ${s.channel.toUpperCase()} ${+b.data[i].toPrecision(5)}` : '')
      + ` · likelihood ${v.det.data[i].toFixed(3)}` + (ZONES[zc] ? ` · ${ZONES[zc][0]}` : '') + (v.label?.data[i] ? ' · csPCa lesion (label)' : '');
  });
}
