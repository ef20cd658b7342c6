// The compiled package: dist/ mirrors src/ (scripts/build.js; npm test builds it first), runs on
// plain node without tsx, finds its files (addon, data, model, SQL, scripts) through
// import.meta.url the same as src/, and `npm pack` ships exactly what that needs.
// scripts/pack-test.sh installs the real tarball into an empty folder (CI, after the tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { distState } from '../../scripts/build.js';

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { files: string[]; exports: Record<string, string | { types: string; default: string }> };
const modules = fs.readdirSync('src/modules', { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();

test('dist/ is built, fresh, and mirrors src/ (every .ts has its .js and .d.ts, every other file is copied)', () => {
  assert.equal(distState(), 'fresh');
  const walk = (d: string): string[] => fs.readdirSync(d, { withFileTypes: true })
    .flatMap((e) => e.isDirectory() ? walk(path.join(d, e.name)) : [path.join(d, e.name)]);
  for (const f of walk('src')) {
    const rel = path.relative('src', f);
    const outs = rel.endsWith('.ts') ? [rel.replace(/\.ts$/, '.js'), rel.replace(/\.ts$/, '.d.ts')] : [rel];
    for (const o of outs) assert.ok(fs.existsSync(path.join('dist', o)), `dist/${o} is missing`);
  }
});

test('the compiled code runs on plain node and finds its files through import.meta.url', () => {
  const probe = `
    const out = {};
    const dist = (p) => new URL('./dist/' + p, 'file://' + process.cwd() + '/').href;
    out.addon = (await import(dist('core/torch/native.js'))).ADDON_PATH;
    out.digits = (await import(dist('core/dynamics/loaders.js'))).DIGITS_PATH;
    out.reproducibility = (await import(dist('modules/reproducibility/index.js'))).DEFAULT_DATA;
    out.flowsSql = (await import(dist('modules/traffic/flows.js'))).FLOWS_SQL_PATH;
    out.sumo = (await import(dist('modules/traffic/index.js'))).SUMO_SCENARIO_SCRIPT;
    out.model = (await import(dist('modules/cartoon/apply.js'))).SHIPPED_MODEL;
    const { moduleNames, loadModules, loadErrors } = await import(dist('modules/index.js'));
    await loadModules(undefined, false);
    out.modules = moduleNames(); out.loadErrors = Object.fromEntries(loadErrors);
    out.sum = (await import(dist('index.js'))).torch.tensor([1, 2, 3]).sum().item();
    console.log(JSON.stringify(out));`;
  // no tsx: a .ts import anywhere in dist/ would fail here
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Record<string, unknown>;
  for (const k of ['addon', 'digits', 'reproducibility', 'flowsSql', 'sumo', 'model']) {
    const f = out[k] as string;
    assert.ok(fs.existsSync(f), `${k}: ${f} does not exist`);
    assert.ok(!path.relative(process.cwd(), f).startsWith('src'), `${k} points into src/: ${f}`);
    assert.ok(!path.relative(process.cwd(), f).startsWith('test'), `${k} points into test/ (not shipped): ${f}`);
  }
  assert.deepEqual(out.modules, modules);
  assert.deepEqual(out.loadErrors, {});
  assert.equal(out.sum, 6);
});

test('exports: ".", "./server" and one "./<module>" per module folder, each with its types', () => {
  const target = (key: string) => {
    const pattern = pkg.exports[key] ?? pkg.exports['./*'];
    assert.ok(pattern && typeof pattern === 'object', `no export for ${key}`);
    const name = key.slice(2);
    return { js: pattern.default.replace('*', name), types: pattern.types.replace('*', name) };
  };
  for (const key of ['.', './server', ...modules.map((m) => `./${m}`)]) {
    const t = target(key);
    assert.ok(fs.existsSync(t.js), `${key}: ${t.js} is missing`);
    assert.ok(fs.existsSync(t.types), `${key}: ${t.types} is missing`);
  }
});

test('npm pack ships dist, the launcher, the addon sources, web/, data/ and nothing of src/ or test/', () => {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const files = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
  const need = ['package.json', 'README.md', 'bin/paperlab.js', 'binding.gyp', 'native/addon.cpp', 'native/install.js', 'native/find-libtorch.cjs',
    'web/index.html', 'web/app.js', 'web/style.css', 'data/digits.csv.gz', 'scripts/traffic/sumo_scenario.sh',
    'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'dist/server/worker.js', 'dist/modules/traffic/flows.sql',
    'dist/modules/cartoon/assets/cartooner-small.safetensors', ...modules.map((m) => `dist/modules/${m}/index.js`)];
  for (const f of need) assert.ok(files.has(f), `the package lacks ${f}`);
  for (const f of files) {
    assert.ok(!/^(src|test|bench|build|node_modules)\//.test(f), `the package should not ship ${f}`);
    assert.ok(!/^dist\/\.(tsbuildinfo|built)$/.test(f), `the package should not ship ${f}`);
  }
});
