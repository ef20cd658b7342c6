// Probe (one-off): the offsets diagnostic over seeds 1–5, learned vs frozen-at-zero offsets on the
// blob task; prints epochs, nTrain, seed, learned, frozen, margin, mean |Δ|, milliseconds per seed.
// Usage (from the repository root): node --import tsx scripts/probes/action/blobsweep.ts <epochs> <nTrain>
import { offsetAblation } from '../../../src/modules/action/index.ts';
const [ep, n] = [Number(process.argv[2]), Number(process.argv[3])];
for (const seed of [1, 2, 3, 4, 5]) {
  const t0 = Date.now();
  const r = await offsetAblation(n, 64, ep, seed);
  console.log(ep, n, seed, r.learned.toFixed(3), r.frozen.toFixed(3), r.margin.toFixed(3), r.offsets.meanAbs[0]!.toFixed(3), Date.now() - t0);
}
