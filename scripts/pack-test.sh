#!/usr/bin/env bash
# The package as a user gets it: `npm pack` (prepack builds dist/ from clean), then the tarball is
# installed into an empty folder as a dependency: its install script builds the addon there against
# this machine's libtorch, and no dev dependency (tsx, typescript) is installed. Then: the CLI
# (`paperlab --version`, `list`, `demo fit-line`), the typed API from plain node and from tsc, and
# the dashboard (its page, the vega files, a run in a compiled worker). CI runs it after the tests.
# PACK_TEST_KEEP=1 keeps the folder. Needs the registry (the dependencies are resolved afresh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WORK=$(mktemp -d "${TMPDIR:-/tmp}/paperlab-pack.XXXXXX")
ok=0
finish() { if [ "$ok" = 1 ] && [ "${PACK_TEST_KEEP:-}" != 1 ]; then rm -rf "$WORK"; else echo "pack-test: files kept in $WORK"; fi; }
trap finish EXIT
t0=$(date +%s)
step() { echo "pack-test: $* ($(( $(date +%s) - t0 )) s)"; }

step "npm pack"
npm pack --pack-destination "$WORK" --silent >/dev/null
TGZ=$(cd "$WORK" && ls paperlab-*.tgz)
ls -l "$WORK/$TGZ"

# A consumer project. allowScripts is the consumer's to give (npm reads only the root
# package.json): paperlab's own install script (the addon) and better-sqlite3's; a tarball is
# named by its absolute file: path (from the registry it would be "paperlab"). With
# --strict-allow-scripts (npm >= 11.16) an install script not covered fails the install, so this
# list is what a consumer needs once npm enforces it.
mkdir "$WORK/app"
cd "$WORK/app"
cat > package.json <<EOF
{
  "name": "paperlab-pack-test",
  "private": true,
  "type": "module",
  "allowScripts": { "file:$WORK/$TGZ": true, "better-sqlite3": true }
}
EOF
strict=()
[ "$(npm config get strict-allow-scripts 2>/dev/null)" = false ] && strict=(--strict-allow-scripts)
step "npm install ../$TGZ ${strict[*]}"
if ! npm install --no-audit --no-fund --prefer-offline "${strict[@]}" "../$TGZ" > "$WORK/install.log" 2>&1; then
  tail -40 "$WORK/install.log"; echo "pack-test: npm install failed"; exit 1
fi
grep -v '^gyp info' "$WORK/install.log"
if grep -qi 'allowScripts\|install-scripts' "$WORK/install.log"; then echo "pack-test: npm warned about install scripts"; exit 1; fi
[ -e node_modules/tsx ] && { echo "pack-test: tsx was installed: a dev dependency leaked into dependencies"; exit 1; }
[ -f node_modules/paperlab/build/Release/paperlab_torch.node ] || { echo "pack-test: the addon was not built"; exit 1; }

export PAPERLAB_HOME="$WORK/runs" PAPERLAB_THREADS="${PAPERLAB_THREADS:-1}"
step "npx paperlab --version"
[ "$(npx --no-install paperlab --version)" = "$(node -p "require('$ROOT/package.json').version")" ]
step "npx paperlab list"
npx --no-install paperlab list | tee "$WORK/list.txt"
for m in $(ls "$ROOT/src/modules" | grep -v '\.ts$'); do grep -q "^$m — " "$WORK/list.txt" || { echo "pack-test: list lacks $m"; exit 1; }; done
step "npx paperlab demo fit-line --epochs 50"
npx --no-install paperlab demo fit-line --epochs 50 --json --quiet > "$WORK/fit.json"
node -e "
  const r = JSON.parse(require('fs').readFileSync('$WORK/fit.json', 'utf8'));
  if (!r.id || typeof r.summary?.a !== 'number') throw new Error('no run summary: ' + JSON.stringify(r));
  console.log('fit-line:', r.id, JSON.stringify(r.summary));"

step "the typed API from plain node"
node --input-type=module -e "
  import { torch, listModules, loadModules, runCommand } from 'paperlab';
  import { fitLineCommand, fitLine } from 'paperlab/demo';
  const s = torch.tensor([1, 2, 3]).sum().item();
  if (s !== 6 || fitLineCommand.name !== 'fit-line' || typeof fitLine !== 'function') throw new Error('API: ' + s + ' ' + fitLineCommand.name);
  await loadModules(['orfit']);
  console.log('modules loaded:', listModules().map((m) => m.name).join(', '));
  const r = await runCommand('demo', 'fit-line', { epochs: 5 }, { root: process.env.PAPERLAB_HOME });
  console.log('runCommand:', r.run.status);"

step "the types from tsc (strict, NodeNext, no allowImportingTsExtensions)"
cat > tsconfig.json <<EOF
{ "compilerOptions": { "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true,
  "noEmit": true, "typeRoots": ["$ROOT/node_modules/@types"], "types": ["node"] }, "files": ["use.ts"] }
EOF
cat > use.ts <<'EOF'
import { torch, runCommand, type RunResult, type CommandSpec } from 'paperlab';
import { fitLineCommand } from 'paperlab/demo';
import { startServer, type Served } from 'paperlab/server';
const t: torch.Tensor = torch.tensor([1, 2, 3]);
const r: Promise<RunResult> = runCommand('demo', 'fit-line', { epochs: 3 });
const c: CommandSpec = fitLineCommand;
const s: () => Promise<Served> = startServer;
// @ts-expect-error: a command's name is a string
const n: number = fitLineCommand.name;
void t; void r; void c; void s; void n;
EOF
node "$ROOT/node_modules/typescript/bin/tsc" -p .

step "npx paperlab serve: page, vega, a run in a compiled worker"
node --input-type=module -e "
  import { spawn } from 'node:child_process';
  const port = 20000 + Math.floor(Math.random() * 20000), base = 'http://127.0.0.1:' + port;
  const child = spawn('node_modules/.bin/paperlab', ['serve', '--port', String(port), '--out', process.env.PAPERLAB_HOME], { stdio: ['ignore', 'inherit', 'inherit'] });
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  try {
    let html;
    for (let i = 0; i < 240 && !html; i++) { try { html = await (await fetch(base + '/')).text(); } catch { await sleep(250); } }
    const token = /name=\"paperlab-token\" content=\"([^\"]+)\"/.exec(html ?? '')?.[1];
    if (!token) throw new Error('no page from ' + base);
    for (const f of ['vega.min.js', 'vega-lite.min.js']) {
      const v = await fetch(base + '/vendor/' + f);
      if (v.status !== 200) throw new Error('/vendor/' + f + ': ' + v.status);
    }
    const res = await fetch(base + '/api/runs', { method: 'POST', body: JSON.stringify({ module: 'demo', command: 'fit-line', params: { epochs: 20 } }),
      headers: { origin: base, 'content-type': 'application/json', 'x-paperlab-token': token } });
    if (res.status !== 201) throw new Error('POST /api/runs: ' + res.status + ' ' + await res.text());
    const { id } = await res.json();
    let run;
    for (let i = 0; i < 240; i++) { run = await (await fetch(base + '/api/runs/' + id)).json(); if (run.status !== 'running') break; await sleep(250); }
    if (run.status !== 'done') throw new Error('dashboard run: ' + JSON.stringify(run));
    console.log('dashboard run', id, run.status);
  } finally { child.kill('SIGTERM'); }"

ok=1
step "passed"
