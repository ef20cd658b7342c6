#!/usr/bin/env node
// paperlab CLI launcher: runs the compiled dist/cli/main.js (`npm run build`; npm install builds it).
// PAPERLAB_DEV=1 (`npm run dev -- <args>`) runs src/ through tsx instead, for a developer editing it;
// in a checkout whose dist/ is missing it does that too, after a one-line hint.
// --threads goes into PAPERLAB_THREADS before libtorch/OpenBLAS load
// (src/core/torch/native.ts turns it into OPENBLAS_NUM_THREADS and libtorch's pool).
// `--version` needs none of the engine: answer before the modules load.
import fs from 'node:fs';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version + '\n');
  process.exit(0);
}
const i = process.argv.indexOf('--threads');
if (i > 0 && process.argv[i + 1]) process.env.PAPERLAB_THREADS = process.argv[i + 1];

const compiled = new URL('../dist/cli/main.js', import.meta.url);
const source = new URL('../src/cli/main.ts', import.meta.url);
let fromSource = process.env.PAPERLAB_DEV === '1';
if (!fromSource && fs.existsSync(source)) {
  // a checkout: say when dist/ does not match src/ (scripts/build.js knows what "matches" means)
  const { distState } = await import('../scripts/build.js');
  const state = distState();
  if (state === 'missing' || !fs.existsSync(compiled)) {
    process.stderr.write('paperlab: dist/ is not built (npm run build); running src/ through tsx\n');
    fromSource = true;
  } else if (state === 'stale') {
    process.stderr.write('paperlab: src/ changed after the last build; running dist/ as built (npm run build, or npm run dev -- <args> for src/)\n');
  }
}
if (fromSource) {
  let register;
  try { ({ register } = await import('tsx/esm/api')); } catch {
    process.stderr.write('paperlab: running from src/ needs the dev dependency tsx (npm install in the checkout)\n');
    process.exit(1);
  }
  register();
  await import(source.href);
} else {
  if (!fs.existsSync(compiled)) {
    process.stderr.write(`paperlab: ${decodeURIComponent(compiled.pathname)} is missing: this install is incomplete (reinstall paperlab)\n`);
    process.exit(1);
  }
  await import(compiled.href);
}
