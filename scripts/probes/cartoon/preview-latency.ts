// Probe (one-off): latency of the dashboard's live preview of `cartoon apply` through the server
// (POST /api/preview/cartoon/apply, one preview worker), on a photo uploaded as a browser would:
// the first request (worker start, model load, photo read, colour map), then ticks that change
// stroke / abstraction / hue (model or classic). Gave the numbers in src/modules/cartoon/README.md.
//
//   node --import tsx scripts/probes/cartoon/preview-latency.ts PHOTO [TICKS]
//   env: PAPERLAB_PREVIEW_THREADS (default min(4, cores))
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../../src/server/main.ts';

const photo = process.argv[2]!;
const ticks = Number(process.argv[3] ?? 6);
const srv = await startServer({ port: 0, root: fs.mkdtempSync(path.join(os.tmpdir(), 'pl-prevlat-')), cwd: path.dirname(path.resolve(photo)) });
const headers = { 'content-type': 'application/json', 'x-paperlab-token': srv.token };
try {
  const up = await fetch(`${srv.url}/api/uploads?module=cartoon&command=apply&param=input&name=${path.basename(photo)}`, {
    method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream' }, body: fs.readFileSync(photo),
  });
  const { upload } = await up.json() as { upload: string };
  for (const classic of [false, true]) {
    const times: number[] = [];
    for (let i = 0; i <= ticks; i++) {
      const params = { classic, stroke: 1 + (i % 5), abstraction: 1 + ((i * 2) % 5), hueShift: (i * 30) % 180 };
      const t0 = performance.now();
      const r = await fetch(`${srv.url}/api/preview/cartoon/apply`, { method: 'POST', headers, body: JSON.stringify({ upload, params }) });
      if (!r.ok) throw new Error(await r.text());
      await r.arrayBuffer();
      times.push(performance.now() - t0);
    }
    const rest = times.slice(1).sort((a, b) => a - b);
    console.log(`${classic ? 'classic' : 'model  '}: first ${times[0]!.toFixed(0)} ms; ticks median ${rest[rest.length >> 1]!.toFixed(0)} ms (min ${rest[0]!.toFixed(0)}, max ${rest.at(-1)!.toFixed(0)}, n ${rest.length})`);
  }
} finally { await srv.close(); }
