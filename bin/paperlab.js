#!/usr/bin/env node
// paperlab CLI launcher. Thread settings must be in the environment before libtorch/OpenBLAS load.
const i = process.argv.indexOf('--threads');
if (i > 0 && process.argv[i + 1]) process.env.PAPERLAB_THREADS = process.argv[i + 1];
if (process.env.PAPERLAB_THREADS && !process.env.OPENBLAS_NUM_THREADS) process.env.OPENBLAS_NUM_THREADS = process.env.PAPERLAB_THREADS;
const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');
