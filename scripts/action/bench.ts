// Runs bench/action.bench.ts (one training step and one inference forward, ours vs PyTorch) without
// touching bench/results.json: prints the machine and the rows. Needs python3 with torch.
// Usage (from the repository root): node --import tsx scripts/action/bench.ts
import { BenchHelper } from '../../bench/helper.ts';
import run from '../../bench/action.bench.ts';
const h = new BenchHelper();
console.log(h.machine);
await run(h);
