// `npm run bench [name…]`: runs bench/*.bench.ts (or the named ones) in one process and writes
// bench/results.json. Threads default to 2 (this machine's cores) for us and the reference alike.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BenchHelper, RESULTS, type BenchFn } from './helper.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = fs.readdirSync(here).filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.bench\.ts$/, '')));
if (!files.length) { console.error(`no benchmarks match ${only.join(', ')}`); process.exit(2); }
const h = new BenchHelper();
console.log(`paperlab bench — ${h.machine}`);
let failed = 0;
for (const f of files) {
  console.log(`\n# ${f}`);
  try {
    const mod = (await import(pathToFileURL(path.join(here, f)).href)) as { default: BenchFn };
    await mod.default(h);
  } catch (e) {
    failed++;
    console.error(`  ${f} failed: ${(e as Error).stack ?? e}`);
  }
}
h.save();
console.log(`\n${h.rows.length} rows written to ${path.relative(process.cwd(), RESULTS)}${failed ? `; ${failed} benchmark file(s) failed` : ''}`);
process.exitCode = failed ? 1 : 0;
