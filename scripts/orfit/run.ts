import '../../src/modules/orfit/index.ts';
import { runCommand } from '../../src/core/runner.ts';
const [cmd, json] = process.argv.slice(2);
const t0 = Date.now();
const r = await runCommand('orfit', cmd!, JSON.parse(json ?? '{}'), { root: '/tmp/orfit-runs' });
console.log(JSON.stringify(r.summary, null, 1).slice(0, 3000));
console.log(r.run.status, r.run.dir ?? '', (Date.now() - t0) / 1000, 's');
