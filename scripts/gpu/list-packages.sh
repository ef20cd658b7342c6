#!/usr/bin/env bash
# Writes scripts/gpu/packages.txt: the npm packages test/gpu and the GPU bench load (recorded by
# test/helpers/record-imports.mjs during a CPU dry run of test/gpu and an import of the DL benches),
# closed over their package.json dependencies (CommonJS requires are not recorded), plus what the
# check needs besides (node-addon-api's headers, esbuild's and sharp's platform packages).
# Run from the repository root on the development machine: bash scripts/gpu/list-packages.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
log=$(mktemp); trap 'rm -f "$log" /tmp/paperlab-bench-imports.mts' EXIT
PAPERLAB_GPU_TEST_DEVICE=cpu PAPERLAB_IMPORT_LOG="$log" node --import ./test/helpers/record-imports.mjs --import tsx --test test/gpu/*.test.ts > /dev/null
echo "for (const m of ['nowcast', 'prostate', 'action', 'cartoon']) await import('$(pwd)/bench/' + m + '.bench.ts');" > /tmp/paperlab-bench-imports.mts
PAPERLAB_IMPORT_LOG="$log" node --import ./test/helpers/record-imports.mjs --import tsx /tmp/paperlab-bench-imports.mts
nm=$(readlink -f node_modules)
node - "$log" "$nm" > scripts/gpu/packages.txt <<'JS'
const fs = require('fs'), path = require('path');
const [log, nm] = process.argv.slice(2);
const seen = new Set(['node-addon-api', '@esbuild/linux-x64', '@img/sharp-libvips-linux-x64']);
for (const m of fs.readFileSync(log, 'utf8').matchAll(/node_modules\/((@[^/]+\/)?[^/]+)/g)) seen.add(m[1]);
const todo = [...seen];
while (todo.length) {
  const p = todo.pop();
  let pj; try { pj = JSON.parse(fs.readFileSync(path.join(nm, p, 'package.json'), 'utf8')); } catch { continue; }
  for (const d of Object.keys({ ...pj.dependencies, ...pj.optionalDependencies })) {
    if (!seen.has(d) && fs.existsSync(path.join(nm, d))) { seen.add(d); todo.push(d); }
  }
}
console.log('# npm packages scripts/gpu/check.sh needs (written by scripts/gpu/list-packages.sh)');
for (const p of [...seen].sort()) if (fs.existsSync(path.join(nm, p))) console.log(p);
JS
cat scripts/gpu/packages.txt
