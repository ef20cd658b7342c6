// Seed-robustness probe for the §8.3 ablation: runs runAblation with JSON overrides and prints
// per-seed rows and paired differences. Usage: node --import tsx scripts/nowcast/probe.ts '{"seeds":[0,1,2]}'
import { runAblation, ablateDefaults, acceptance, type AblateOptions } from '../../src/modules/nowcast/experiments.ts';

const over = JSON.parse(process.argv[2] ?? '{}') as Partial<AblateOptions> & { mode?: 'quick' | 'full'; benchOver?: Partial<AblateOptions['bench']> };
const o = { ...ablateDefaults(over.mode ?? 'quick'), ...over } as AblateOptions;
if (over.benchOver) o.bench = { ...o.bench, ...over.benchOver };
const r = runAblation(o);
for (const row of r.rows) console.log(`${row.config.padEnd(24)} seed ${row.seed}: core ${row.coreMIoU.toFixed(4)} transfer ${row.transferMIoU.toFixed(4)} dP ${row.temporalChange.toFixed(4)}`);
console.log(JSON.stringify(r.references));
for (const t of r.table) console.log(`MEAN ${t.config.padEnd(24)} core ${t.coreMIoU.toFixed(4)} transfer ${t.transferMIoU.toFixed(4)} dP ${t.temporalChange.toFixed(4)}`);
for (const [k, v] of Object.entries(acceptance(r))) console.log(`${v.pass ? 'PASS' : 'FAIL'} ${k}: ${v.detail}`);
console.log(`seconds ${r.seconds}`);
