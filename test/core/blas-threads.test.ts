// The engine's BLAS threading policy (native/blas.cpp): small products run on fewer BLAS threads
// than setNumThreads asked, large ones on all. So a small product gives the same bytes at 1 and at
// 2 threads (OpenBLAS alone does not promise that: threaded, its float32 gemm and gemv round
// differently here). Off with PAPERLAB_BLAS_THREADS=blas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as torch from '../../src/core/torch/index.ts';
import { native } from '../../src/core/torch/native.ts';

const child = fileURLToPath(new URL('./blas-child.ts', import.meta.url));
interface Out { parts: Record<string, string>; policy: boolean; threads: number; narrowed: number }
function run(threads: number, env: Record<string, string> = {}): Out {
  const out = execFileSync(process.execPath, ['--import', 'tsx', child, String(threads)], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
  return JSON.parse(out.trim().split('\n').pop()!) as Out;
}
// The policy needs OpenBLAS's pthread build; Debian's libtorch uses it with libopenblas0-pthread.
const policy = native.blasStats().policy;

test('small products run on one BLAS thread at 2 threads: the same bytes as at 1 thread', { skip: !policy && 'BLAS is not OpenBLAS' }, () => {
  const two = run(2), one = run(1), blas = run(2, { PAPERLAB_BLAS_THREADS: 'blas' });
  assert.equal(two.policy, true);
  assert.equal(two.threads, 2);
  assert.equal(one.narrowed, 0);
  assert.equal(blas.policy, false);
  assert.equal(blas.narrowed, 0);
  const small = Object.keys(two.parts).filter((k) => k.startsWith('small'));
  // per dtype: 2 small gemm shapes threaded by OpenBLAS x 3 layouts, 2 small gemv shapes x 2, the HVP's mms
  assert.ok(two.narrowed >= 2 * (2 * 3 + 2 * 2), `narrowed ${two.narrowed}`);
  assert.ok(small.length >= 30 && Object.keys(two.parts).length > small.length);
  for (const k of small) assert.equal(two.parts[k], one.parts[k], k);
});

test('the policy narrows only below its sizes, and never at one thread', { skip: !policy && 'BLAS is not OpenBLAS' }, () => {
  const was = torch.getNumThreads();
  const narrowedBy = (f: () => void) => { const n0 = native.blasStats().narrowed; torch.scope(f); return native.blasStats().narrowed - n0; };
  const o = { dtype: 'float64' as const };
  try {
    torch.setNumThreads(2);
    assert.equal(native.blasStats().threads, 2);
    assert.equal(narrowedBy(() => { torch.randn([256, 32], o).matmul(torch.randn([32, 64], o)); }), 1);   // 524,288 multiply-adds
    assert.equal(narrowedBy(() => { torch.randn([256, 128], o).matmul(torch.randn([128, 64], o)); }), 0); // 2^21: two threads
    assert.equal(narrowedBy(() => { torch.randn([100, 784], o).mv(torch.randn([784], o)); }), 1);          // 627 KB of matrix
    assert.equal(narrowedBy(() => { torch.randn([784, 784], o).mv(torch.randn([784], o)); }), 0);          // 4.9 MB
    torch.setNumThreads(1);
    assert.equal(native.blasStats().threads, 1);
    assert.equal(narrowedBy(() => { torch.randn([256, 32], o).matmul(torch.randn([32, 64], o)); }), 0);
  } finally {
    torch.setNumThreads(was);
  }
});
