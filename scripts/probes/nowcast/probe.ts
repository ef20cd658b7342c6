// Probe (one-off, not maintained): seed robustness of the ablation (src/modules/nowcast/ablation.ts).
// Runs runAblation with JSON overrides of a mode's preset and prints per-seed rows, the 3-seed
// means, the checks and per-group transfer IoU.
// Usage: node --import tsx scripts/probes/nowcast/probe.ts '{"mode":"quick","seeds":[0,1,2]}'
import { runAblation, ablateDefaults, acceptance, type AblateOptions } from '../../../src/modules/nowcast/ablation.ts';

const over = JSON.parse(process.argv[2] ?? '{}') as Partial<AblateOptions> & { mode?: 'quick' | 'full'; benchOver?: Partial<AblateOptions['bench']> };
const o = { ...ablateDefaults(over.mode ?? 'quick'), ...over } as AblateOptions;
if (over.benchOver) o.bench = { ...o.bench, ...over.benchOver };
const r = runAblation(o);
for (const row of r.rows) console.log(`${row.config.padEnd(24)} seed ${row.seed}: core ${row.coreMIoU.toFixed(4)} transfer ${row.transferMIoU.toFixed(4)} dP ${row.temporalChange.toFixed(4)}`);
console.log(JSON.stringify(r.references));
for (const t of r.table) console.log(`MEAN ${t.config.padEnd(24)} core ${t.coreMIoU.toFixed(4)} transfer ${t.transferMIoU.toFixed(4)} dP ${t.temporalChange.toFixed(4)}`);
for (const [k, v] of Object.entries(acceptance(r))) console.log(`${v.pass ? 'PASS' : 'FAIL'} ${k}: ${v.detail}`);
console.log(`seconds ${r.seconds}`);
// per-group transfer IoU: new regions in training years, core regions in the shifted year, new regions in the shifted year
const groups: Record<string, (cell: string) => boolean> = {
  'new regions 2019/20': (c) => /roxi_00(08|09|10)\/20(19|20)/.test(c),
  'core regions 2021': (c) => c.endsWith('/2021') && !/roxi_00(08|09|10)/.test(c),
  'new regions 2021': (c) => /roxi_00(08|09|10)\/2021/.test(c),
};
for (const row of r.rows) {
  const parts = Object.entries(groups).map(([g, f]) => {
    const v = Object.entries(row.perCell).filter(([c]) => f(c)).map(([, x]) => x);
    return `${g} ${(v.reduce((a, b) => a + b, 0) / Math.max(1, v.length)).toFixed(4)} (${v.length})`;
  });
  console.log(`GROUPS ${row.config.padEnd(24)} seed ${row.seed}: ${parts.join(', ')}`);
}
