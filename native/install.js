// `npm install` hook: find libtorch (or stop with one message saying how to get it), then build the addon.
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { find, HOW } = require('./find-libtorch.cjs');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let found;
try {
  found = find();
} catch (e) {
  console.error('\n' + e.message + '\n');
  process.exit(1);
}
if (!found) {
  console.error('\n' + HOW + '\n');
  process.exit(1);
}
console.log(`paperlab: building the libtorch addon against ${found.source} (${found.lib})`);
const gypJs = process.env.npm_config_node_gyp;
const [cmd, args] = gypJs && fs.existsSync(gypJs)
  ? [process.execPath, [gypJs, 'rebuild']]
  : ['npx', ['--no-install', 'node-gyp', 'rebuild']];
const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, JOBS: '1' } });
process.exit(r.status ?? 1);
