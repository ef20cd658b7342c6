#!/usr/bin/env node
// paperlab CLI launcher. --threads goes into PAPERLAB_THREADS before libtorch/OpenBLAS load
// (src/core/torch/native.ts turns it into OPENBLAS_NUM_THREADS and libtorch's pool).
const i = process.argv.indexOf('--threads');
if (i > 0 && process.argv[i + 1]) process.env.PAPERLAB_THREADS = process.argv[i + 1];
const { register } = await import('tsx/esm/api');
register();
await import('../src/cli/main.ts');
