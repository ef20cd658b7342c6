// Listing modules and commands, --help and the dashboard's forms need only each command's schema:
// no module implementation, no libtorch addon, no DuckDB, SQLite, sharp or vega (issue #19). Each
// module's commands.ts registers schemas whose `run` imports the implementation when it runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

const HEAVY = /\/core\/torch\/|\/core\/runner\.|\/core\/plots\.|\/node_modules\/(vega[^/]*|sharp|@duckdb|better-sqlite3|hyparquet|h5wasm|nifti-reader-js|d3-delaunay)\//;

function recordImports(args: string[]): { stdout: string; loaded: string[] } {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pl-imports-')), 'imports.txt');
  fs.writeFileSync(log, '');
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/helpers/record-imports.mjs', ...args], {
    encoding: 'utf8', env: { ...process.env, PAPERLAB_IMPORT_LOG: log },
  });
  assert.equal(r.status, 0, r.stderr);
  return { stdout: r.stdout, loaded: fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

test('the registry lists every module and command with its schema without loading the engine or any implementation', () => {
  const { stdout, loaded } = recordImports(['test/helpers/list-registry.ts']);
  const out = JSON.parse(stdout) as {
    names: string[];
    errors: Record<string, string>;
    modules: { name: string; commands: { name: string; params: unknown[]; schema: { type?: string } }[] }[];
  };
  assert.deepEqual(out.errors, {});
  assert.deepEqual(out.modules.map((m) => m.name).sort(), out.names);
  assert.ok(out.names.length >= 10, `modules: ${out.names.join(', ')}`);
  for (const m of out.modules) {
    assert.ok(m.commands.length > 0, `${m.name} registers no command`);
    for (const c of m.commands) assert.equal(c.schema.type, 'object', `${m.name} ${c.name}`);
  }
  assert.ok(loaded.some((u) => u.includes('/src/modules/demo/commands.ts')), 'the recorder saw the registrations');
  const heavy = loaded.filter((u) => HEAVY.test(u) || u.startsWith('dlopen '));
  assert.deepEqual(heavy, [], 'listing loaded the engine or a heavy library');
  const impl = loaded.filter((u) => /\/src\/modules\/[^/]+\/(?!(commands|config)\.ts$).+$/.test(u));
  assert.deepEqual(impl, [], 'listing loaded a module implementation (only commands.ts and config.ts may load)');
});

test('--help of a module and of a command loads no engine; running the command does', () => {
  for (const args of [['demo', '--help'], ['demo', 'fit-line', '--help'], ['list'], ['convert', '--help']]) {
    const { loaded } = recordImports(['src/cli/main.ts', ...args]);
    assert.deepEqual(loaded.filter((u) => HEAVY.test(u) || u.startsWith('dlopen ')), [], `paperlab ${args.join(' ')}`);
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'pl-lazy-'));
  const { loaded } = recordImports(['src/cli/main.ts', 'demo', 'fit-line', '--epochs', '2', '--quiet', '--out', home]);
  assert.ok(loaded.some((u) => u.startsWith('dlopen ') && u.includes('paperlab_torch.node')), 'running a command loads the addon (the recorder works)');
});
