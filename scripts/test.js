#!/usr/bin/env node
// The test command: every test/**/*.test.ts through node's test runner (with tsx), two files at a
// time, one libtorch thread each (CI has two cores). `npm test -- test/core` runs a subset.
// The CLI and dashboard tests spawn bin/paperlab.js, which runs the compiled dist/: it is built
// first when missing or older than src/.
// Tiers: `npm test` runs test/ without test/acceptance (deterministic known-answer and structural
// tests, under 5 minutes on 2 cores); `npm run test:acceptance` runs the multi-seed acceptance
// experiments in test/acceptance (each file states its seeds and intervals). Naming a folder or file
// runs exactly that.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { build } from './build.js';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = [];
const ACCEPTANCE = path.join('test', 'acceptance');
const walk = (p, top) => {
  if (!fs.existsSync(p)) return;
  if (!top && path.normalize(p) === ACCEPTANCE && !roots.length) return;
  if (fs.statSync(p).isFile()) { if (p.endsWith('.test.ts')) files.push(p); return; }
  for (const e of fs.readdirSync(p).sort()) walk(path.join(p, e), false);
};
for (const r of roots.length ? roots : ['test']) walk(r, true);
if (!files.length) { console.error('no test files found'); process.exit(1); }
if (!build({ quiet: true })) process.exit(1);
const env = { ...process.env, PAPERLAB_THREADS: process.env.PAPERLAB_THREADS ?? '1', OPENBLAS_NUM_THREADS: process.env.OPENBLAS_NUM_THREADS ?? '1' };
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files], { stdio: 'inherit', env });
process.exit(r.status ?? 1);
