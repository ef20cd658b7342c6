// Small helpers shared by the dashboard's scripts: element builder, API calls, number format.
export const h = (tag, attrs = {}, ...kids) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'html') el.innerHTML = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid !== null && kid !== undefined && kid !== false) el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
};
// The server's per-start token (index.html carries it; only this origin can read it): every request
// that changes something sends it back, as JSON from this origin (see src/server/security.ts).
export const TOKEN = document.querySelector('meta[name="paperlab-token"]')?.getAttribute('content') ?? '';
export const api = async (url, opts = {}) => {
  if (opts.method && opts.method !== 'GET') {
    opts = { ...opts, credentials: 'same-origin', headers: { ...(opts.headers || {}), 'content-type': 'application/json', 'x-paperlab-token': TOKEN }, body: opts.body ?? '{}' };
  }
  const r = await fetch(url, opts);
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
  return body;
};
export const fmt = (v) => v === null || v === undefined ? '—' : typeof v === 'number' ? (Number.isInteger(v) ? String(v) : Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3 ? v.toExponential(3) : v.toPrecision(4)) : typeof v === 'object' ? JSON.stringify(v) : String(v);
export const statusEl = (s) => h('span', { class: `status-${s}`, 'data-testid': 'status' }, s);
