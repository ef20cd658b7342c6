#!/usr/bin/env node
// paperlab CLI launcher. --threads goes into PAPERLAB_THREADS before libtorch/OpenBLAS load
// (src/core/torch/native.ts turns it into OPENBLAS_NUM_THREADS and libtorch's pool).
// `--version` needs none of the engine: answer before the TypeScript loader and the modules load.
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  const { readFileSync } = await import('node:fs');
  process.stdout.write(JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version + '\n');
  process.exit(0);
}
const i = process.argv.indexOf('--threads');
if (i > 0 && process.argv[i + 1]) process.env.PAPERLAB_THREADS = process.argv[i + 1];
const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');
