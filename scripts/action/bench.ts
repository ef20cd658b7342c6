// Runs bench/action.bench.ts without touching bench/results.json (prints the rows).
import { BenchHelper } from '../../bench/helper.ts';
import run from '../../bench/action.bench.ts';
const h = new BenchHelper();
console.log(h.machine);
await run(h);
