// Viewers: interactive pictures on a run page, chosen by the run's module/command and its files
// (a slice viewer for volumes, a map for traffic cells, …). Each viewer module exports
//   match(run, files) -> boolean      whether it has something to show for this run
//   mount(run, files, ctx) -> Element  the viewer; ctx.fileUrl(name) is the URL of a run file
// and is listed in VIEWERS below. The run page mounts every viewer that matches, once the run has
// files, and mounts it again when the file list changes.
import * as cartoon from './cartoon.js';
import * as traffic from './traffic.js';
import * as skeleton from './skeleton.js';
import * as slices from './slices.js';
const VIEWERS = [cartoon, traffic, skeleton, slices];

const fileUrl = (run) => (name) => `/api/runs/${encodeURIComponent(run.id)}/files/${name.split('/').map(encodeURIComponent).join('/')}`;

/** The viewers that have something to show for this run, mounted. */
export async function viewersFor(run, files) {
  const out = [];
  for (const v of VIEWERS) {
    if (!v.match(run, files)) continue;
    try {
      out.push(await v.mount(run, files, { fileUrl: fileUrl(run) }));
    } catch (e) {
      out.push(Object.assign(document.createElement('div'), { className: 'error', textContent: `${v.name ?? 'viewer'}: ${e.message}` }));
    }
  }
  return out;
}
