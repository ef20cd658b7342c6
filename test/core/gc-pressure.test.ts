// Tensors made inside scope() are freed by the scope's exit, so their bytes are not reported to V8
// as external memory (native/addon.cpp, reportNow): reporting them made every training step of a
// model with a few MB of transient tensors run a full "external memory pressure" Mark-Compact GC.
// Tensors that leave scope management (keep(), returned from the outermost scope, or made outside
// any scope) are still reported, so the GC keeps pace with tensors nobody disposes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import * as torch from '../../src/core/torch/index.ts';

/** Major (Mark-Compact) GCs while fn runs, counted once the observer has delivered them. */
async function majorGcs(fn: () => void): Promise<number> {
  let n = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) n++;
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((r) => setTimeout(r, 50));
  obs.disconnect();
  return n;
}

test('scoped transient tensors (120 MB a step, 50 steps) cause no external-memory-pressure GCs', async () => {
  const x = torch.zeros([1 << 20]).keep(); // 4 MB
  const gcs = await majorGcs(() => {
    for (let i = 0; i < 50; i++) torch.scope(() => { let y = x; for (let k = 0; k < 30; k++) y = y.add(1); y.sum().item(); });
  });
  x.dispose();
  assert.ok(gcs <= 2, `${gcs} major GCs during 50 scoped steps`);
});

test('tensors outside scope management (unscoped, kept, escaping) are still reported: dropping them drives the GC', async () => {
  const x = torch.zeros([1 << 20]).keep(); // 4 MB
  for (const how of ['unscoped', 'kept', 'escaping'] as const) {
    let n = 0;
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) n++;
    });
    obs.observe({ entryTypes: ['gc'] });
    for (let i = 0; i < 20; i++) {
      // 30 × 4 MB per step that nobody disposes: only the GC (and the finalizers, which run when the
      // event loop turns) can free them
      for (let k = 0; k < 30; k++) {
        if (how === 'unscoped') x.add(1);
        else if (how === 'kept') torch.scope(() => { x.add(1).keep(); });
        else torch.scope(() => x.add(1));
      }
      await new Promise((r) => setImmediate(r));
    }
    await new Promise((r) => setTimeout(r, 50));
    obs.disconnect();
    assert.ok(n >= 5, `${how}: ${n} major GCs while 2.4 GB of dropped tensors were made (want ≥ 5)`);
  }
  x.dispose();
});
