// Writes a large synthetic GPS CSV (object_id,t,lon,lat) in a streaming way, for out-of-core
// measurements: `node --import tsx scripts/traffic/big_csv.ts OUT.csv SIZE_MB [seed]`.
// Vehicles drive straight trips between jittered cells of a 6×6 grid (1.2 km spacing, about
// Brisbane), sampled every 15 s; the destination pattern changes at 06:00, 10:00, 15:00 and 19:00.
// Rows are written vehicle by vehicle (the readers do not rely on any order). Memory is O(1).
import fs from 'node:fs';
import { Rng } from '../../src/core/rng.ts';

const [out, sizeArg, seedArg] = process.argv.slice(2);
if (!out || !sizeArg) { console.error('usage: big_csv.ts OUT.csv SIZE_MB [seed]'); process.exit(2); }
const target = Number(sizeArg) * 1e6;
const rng = new Rng(Number(seedArg ?? 1));
const G = 6, S = 1200, R = 6_371_008.8, lon0 = 153.02, lat0 = -27.47;
const kx = 180 / Math.PI / (R * Math.cos((lat0 * Math.PI) / 180)), ky = 180 / Math.PI / R;
const day0 = 1_700_006_400; // an epoch midnight
const bounds = [0, 6, 10, 15, 19, 24].map((h) => h * 3600);
const fd = fs.openSync(out, 'w');
let bytes = 0, rows = 0, buf: string[] = [];
const flush = () => { const s = buf.join(''); fs.writeSync(fd, s); bytes += Buffer.byteLength(s); buf = []; };
buf.push('object_id,t,lon,lat\n');
for (let v = 0; bytes < target; v++) {
  const id = `veh${v}`;
  let t = rng.uniform(0, 3 * 3600);
  let cell = rng.int(0, G * G);
  while (t < 86400 - 600) {
    const regime = bounds.findIndex((b) => b > t) - 1;
    // regime r prefers destinations in band r of the grid (structure change), plus uniform noise
    const dst = rng.random() < 0.6 ? ((regime * 7 + rng.int(0, G)) % (G * G)) : rng.int(0, G * G);
    const ax = (cell % G) * S + rng.uniform(-300, 300), ay = Math.floor(cell / G) * S + rng.uniform(-300, 300);
    const bx = (dst % G) * S + rng.uniform(-300, 300), by = Math.floor(dst / G) * S + rng.uniform(-300, 300);
    const dur = Math.max(30, Math.hypot(bx - ax, by - ay) / 10);
    for (let s = 0; s <= dur; s += 15) {
      const f = s / dur;
      const x = ax + f * (bx - ax) + 5 * rng.normal(), y = ay + f * (by - ay) + 5 * rng.normal();
      buf.push(`${id},${Math.round(day0 + t + s)},${(lon0 + x * kx).toFixed(7)},${(lat0 + y * ky).toFixed(7)}\n`);
      rows++;
    }
    if (buf.length > 100_000) flush();
    cell = dst;
    t += dur + rng.uniform(300, 5400); // parked between trips (gap > maxGapS: a new trip)
  }
}
flush();
fs.closeSync(fd);
console.log(JSON.stringify({ file: out, bytes, rows }));
