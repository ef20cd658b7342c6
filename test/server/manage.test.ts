// Run tables (issue #25, item 1): tags, notes, search and sort in the run store; deleting a run
// removes its folder and its index row together, and a crash between the two steps is finished at
// the next opening. Uploads (item 2): the content sniffer behind POST /api/uploads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { RunStore, TRASH } from '../../src/core/runs.ts';
import { sniffKind, displayName } from '../../src/server/uploads.ts';

const fresh = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pl-manage-'));

test('tags and notes are stored (index and run.json), searched, and kept across openings', () => {
  const root = fresh();
  const s = new RunStore(root);
  const a = s.create('demo', 'fit-line', { lr: 0.1 }, 0);
  const b = s.create('orfit', 'stream-csv', { file: 'abc_special.csv' }, 1);
  s.update(a.id, { status: 'done' });
  s.update(b.id, { status: 'failed' });
  s.annotate(a.id, { tags: ['baseline', ' baseline ', 'lr-sweep', ''], notes: 'first try; 100% sure' });
  s.close();
  const t = new RunStore(root);
  const got = t.get(a.id);
  assert.deepEqual(got.tags, ['baseline', 'lr-sweep']);
  assert.equal(got.notes, 'first try; 100% sure');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(got.dir, 'run.json'), 'utf8')).tags, ['baseline', 'lr-sweep']);
  const ids = (f: Parameters<RunStore['list']>[0]) => t.list(f).map((r) => r.id);
  assert.deepEqual(ids({ text: 'LR-SWEEP' }), [a.id]);
  assert.deepEqual(ids({ text: 'abc_special' }), [b.id]);
  assert.deepEqual(ids({ text: '100%' }), [a.id]);
  assert.deepEqual(ids({ text: '%' }), [a.id], 'a % is searched literally');
  assert.deepEqual(ids({ text: 'c_s' }), [b.id], 'an _ is searched literally');
  assert.deepEqual(ids({ sort: 'module', desc: false }), [a.id, b.id]);
  assert.deepEqual(ids({ sort: 'module' }), [b.id, a.id]);
  assert.deepEqual(ids({ sort: 'status', desc: false }), [a.id, b.id]);
  assert.throws(() => t.list({ sort: 'params; drop table runs' as never }), /cannot sort runs by/);
  t.close();
});

test('delete removes the folder and the row; a running run is refused', () => {
  const root = fresh();
  const s = new RunStore(root);
  const r = s.create('demo', 'fit-line', {}, 0);
  assert.throws(() => s.delete(r.id), /running/);
  s.update(r.id, { status: 'done' });
  fs.writeFileSync(path.join(r.dir, 'big.bin'), Buffer.alloc(1000));
  s.delete(r.id);
  assert.equal(fs.existsSync(r.dir), false);
  assert.equal(s.list().length, 0);
  assert.throws(() => s.get(r.id), /no run/);
  assert.deepEqual(fs.readdirSync(path.join(root, TRASH)), []);
  s.close();
});

test('a crash between the rename and the row deletion leaves no row without folder once the store reopens', () => {
  const root = fresh();
  const s = new RunStore(root);
  const keep = s.create('demo', 'fit-line', {}, 0);
  const r = s.create('demo', 'fit-line', {}, 1);
  s.update(keep.id, { status: 'done' });
  s.update(r.id, { status: 'done' });
  assert.throws(() => s.delete(r.id, { afterRename: () => { throw new Error('crash'); } }), /crash/);
  // the folder is out of the store's runs (in its trash), its row not yet deleted
  assert.equal(fs.existsSync(r.dir), false);
  assert.ok(fs.existsSync(path.join(root, TRASH, r.id)));
  s.close();
  const t = new RunStore(root);
  assert.deepEqual(t.list().map((x) => x.id), [keep.id], 'the interrupted deletion is finished');
  assert.equal(fs.existsSync(path.join(root, TRASH, r.id)), false);
  assert.ok(fs.existsSync(keep.dir));
  for (const x of t.list()) assert.ok(fs.existsSync(x.dir), `row ${x.id} has its folder`);
  const dirs = fs.readdirSync(root).filter((f) => !f.startsWith('index.sqlite') && !f.startsWith('.'));
  assert.deepEqual(dirs, [keep.id], 'no folder without a row');
  t.close();
});

test('staged inputs move into the new run\'s inputs/ folder and the parameter points there', () => {
  const root = fresh();
  const staged = path.join(root, 'staged-x.csv');
  fs.writeFileSync(staged, 'a,y\n1,2\n');
  const s = new RunStore(root);
  const r = s.create('orfit', 'stream-csv', { file: staged, target: 'y' }, 0, false, null, { file: staged });
  assert.equal(r.params.file, path.join(r.dir, 'inputs', 'staged-x.csv'));
  assert.equal(fs.readFileSync(r.params.file as string, 'utf8'), 'a,y\n1,2\n');
  assert.equal(fs.existsSync(staged), false);
  assert.equal(s.get(r.id).params.file, r.params.file);
  s.close();
});

test('uploads are typed by their content, not their name', () => {
  const nifti = Buffer.alloc(352);
  nifti.writeInt32LE(348, 0);
  nifti.write('n+1\0', 344, 'latin1');
  const st = Buffer.from('{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(st.length));
  const cases: [Buffer, string | null][] = [
    [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]), 'png'],
    [Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0]), 'jpeg'],
    [Buffer.concat([Buffer.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(100)]), 'hdf5'],
    [nifti, 'nifti'],
    [zlib.gzipSync(Buffer.concat([nifti, Buffer.alloc(5000)])), 'nifti-gz'],
    [zlib.gzipSync(Buffer.from('a,b\n1,2\n')), null],
    [Buffer.from('ObjectType = Image\nNDims = 3\nElementDataFile = LOCAL\n\0\0\x01'), 'mha'],
    [Buffer.from('x,y\n1,2\n3,4\n'), 'csv'],
    [Buffer.from('{"a": [1, 2]}'), 'json'],
    [Buffer.from('{"a": [1, 2'), null],
    [Buffer.concat([len, st, Buffer.alloc(4)]), 'safetensors'],
    [Buffer.from([0x50, 0x4b, 0x03, 0x04, 0, 0, 0]), 'zip'],
    [Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]), null],
    [Buffer.alloc(0), null],
  ];
  for (const [b, kind] of cases) assert.equal(sniffKind(b), kind, `${b.subarray(0, 8).toString('hex')}`);
  assert.equal(displayName('../../etc/passwd'), 'passwd');
  assert.equal(displayName('..'), 'upload');
  assert.equal(displayName('C:\\x\\my photo<1>.png'), 'my photo_1_.png');
});

test('staged uploads no run took within a day are swept when the server starts; fresh ones stay', async () => {
  const { createApp } = await import('../../src/server/app.ts');
  const root = fresh();
  const staging = path.join(root, '.uploads');
  fs.mkdirSync(staging);
  const old = path.join(staging, 'old.csv');
  const recent = path.join(staging, 'recent.csv');
  fs.writeFileSync(old, 'a\n1\n');
  fs.writeFileSync(recent, 'a\n1\n');
  const twoDaysAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000);
  fs.utimesSync(old, twoDaysAgo, twoDaysAgo);
  const app = createApp({ root, cwd: root });
  try {
    assert.deepEqual(fs.readdirSync(staging), ['recent.csv']);
  } finally { app.shutdown(); }
});

test('when the index refuses the row deletion, the folder returns to its place (row and folder stay together)', async () => {
  const { default: Database } = await import('better-sqlite3');
  const root = fresh();
  const s = new RunStore(root);
  const r = s.create('demo', 'fit-line', {}, 0);
  s.update(r.id, { status: 'done' });
  const other = new Database(path.join(root, 'index.sqlite'));
  other.exec("CREATE TRIGGER refuse BEFORE DELETE ON runs BEGIN SELECT RAISE(ABORT, 'refused'); END");
  try {
    assert.throws(() => s.delete(r.id), /index/);
    assert.ok(fs.existsSync(path.join(r.dir, 'params.json')), 'the folder is back');
    assert.equal(s.get(r.id).id, r.id);
  } finally {
    other.exec('DROP TRIGGER refuse');
    other.close();
  }
  s.delete(r.id);
  assert.equal(fs.existsSync(r.dir), false);
  s.close();
});
