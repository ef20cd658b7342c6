#!/usr/bin/env node
// `npm run build`: compiles src/ into dist/ (JavaScript and .d.ts, tsconfig.build.json) and copies
// the other files of src/ (flows.sql, the shipped cartoon model, module READMEs) beside them, so
// that dist/X mirrors src/X at the same depth and every import.meta.url-relative path (build/,
// web/, data/, package.json) resolves the same from both. Files in dist/ whose source is gone are
// removed. Does nothing when dist/ is up to date (`--force` compiles anyway, `--clean` starts from
// an empty dist/: `npm pack` uses it). bin/paperlab.js and scripts/test.js ask distState() first.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SRC = path.join(ROOT, 'src');
const DIST = path.join(ROOT, 'dist');
/** Written after a complete build, with the build's start time as its mtime. */
const STAMP = path.join(DIST, '.built');
/** Besides src/, what the output depends on. */
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.js'].map((f) => path.join(ROOT, f));

/** src file -> its dist file (x.ts -> x.js; any other file keeps its name). */
const outOf = (rel) => rel.endsWith('.ts') && !rel.endsWith('.d.ts') ? rel.slice(0, -3) + '.js' : rel;

function walk(dir, onFile, onDir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) { onDir?.(p); walk(p, onFile, onDir); } else if (e.isFile()) onFile(p);
  }
}

/**
 * 'fresh', 'stale' (a file or folder under src/, or a build input, changed after the last build;
 * a folder's time covers files added, removed or renamed in it; or an output is missing),
 * 'missing' (never built) or 'nosrc' (an installed package: dist/ is all there is).
 */
export function distState() {
  if (!fs.existsSync(SRC)) return 'nosrc';
  let built;
  try { built = fs.statSync(STAMP).mtimeMs; } catch { return 'missing'; }
  for (const f of INPUTS) if (fs.existsSync(f) && fs.statSync(f).mtimeMs > built) return 'stale';
  if (fs.statSync(SRC).mtimeMs > built) return 'stale';
  let stale = false;
  try {
    walk(SRC, (f) => {
      if (fs.statSync(f).mtimeMs > built || !fs.existsSync(path.join(DIST, outOf(path.relative(SRC, f))))) throw stale = true;
    }, (d) => { if (fs.statSync(d).mtimeMs > built) throw stale = true; });
  } catch (e) { if (e !== true) throw e; }
  return stale ? 'stale' : 'fresh';
}

/** Compiles and copies; returns false (after printing tsc's errors) when the compiler fails. `quiet`: say nothing when there is nothing to do. */
export function build({ force = false, clean = false, quiet = false } = {}) {
  if (!fs.existsSync(SRC)) throw new Error('paperlab: no src/ to build (an installed package ships dist/ built)');
  if (!force && !clean && distState() === 'fresh') {
    if (!quiet) console.log('paperlab: dist/ is up to date');
    return true;
  }
  const t0 = Date.now();
  if (clean) fs.rmSync(DIST, { recursive: true, force: true });
  fs.rmSync(STAMP, { force: true });
  let tsc;
  try { tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc'); } catch {
    console.error('paperlab: building dist/ needs the dev dependency typescript (npm install, without --omit=dev)');
    return false;
  }
  // incremental: an unchanged tree compiles in about a third of the time (dist/.tsbuildinfo)
  const r = spawnSync(process.execPath, [tsc, '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) { console.error(`paperlab: tsc failed (status ${r.status ?? r.signal}); dist/ is incomplete`); return false; }
  // the other files of src/, copied when new or changed
  const want = new Set();
  walk(SRC, (f) => {
    const rel = path.relative(SRC, f);
    want.add(outOf(rel));
    if (rel.endsWith('.ts')) return;
    const to = path.join(DIST, rel);
    const a = fs.statSync(f);
    const b = fs.existsSync(to) ? fs.statSync(to) : null;
    if (b && b.size === a.size && b.mtimeMs >= a.mtimeMs) return;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    fs.copyFileSync(f, to);
  });
  // outputs whose source was removed or renamed (x.js, x.d.ts of a gone x.ts; a gone asset)
  const orphans = [];
  walk(DIST, (f) => {
    const rel = path.relative(DIST, f);
    if (rel === '.tsbuildinfo') return;
    const js = rel.endsWith('.d.ts') ? rel.slice(0, -5) + '.js' : rel;
    if (!want.has(js)) orphans.push(f);
  });
  for (const f of orphans) fs.rmSync(f);
  const dirs = [];
  walk(DIST, () => {}, (d) => dirs.push(d));
  for (const d of dirs.reverse()) if (fs.readdirSync(d).length === 0) fs.rmdirSync(d);
  fs.writeFileSync(STAMP, `built ${new Date(t0).toISOString()}\n`);
  fs.utimesSync(STAMP, new Date(t0), new Date(t0)); // an edit made while tsc ran makes the next check stale
  console.log(`paperlab: built dist/ in ${((Date.now() - t0) / 1000).toFixed(1)} s${orphans.length ? ` (removed ${orphans.length} stale files)` : ''}`);
  return true;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const ok = build({ force: args.includes('--force'), clean: args.includes('--clean'), quiet: args.includes('--quiet') });
  process.exit(ok ? 0 : 1);
}
