// The safe unpickler on pickles written by Python's own pickle module (protocols 0–5) and numpy,
// hand-made malicious pickles (nothing runs), and truncated / corrupted streams (clear errors).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { unpickle, type NdArray } from '../../src/core/io/pickle.ts';
import { InputFileError } from '../../src/core/errors.ts';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'pl-pickle-'));
const py = (code: string, cwd: string) => execFileSync('/usr/bin/python3', ['-c', code], { cwd, stdio: ['ignore', 'pipe', 'inherit'] });

const PLAIN_PY = `
import pickle, collections
v = {'none': None, 't': True, 'f': False, 'small': 7, 'neg': -300, 'i32': 70000, 'big': 2**70, 'nbig': -2**63,
     'x': 1.5, 'tiny': -2.5e-300, 's': 'héllo ✓', 'b': b'\\x00\\xffab', 'list': [1, [2, 3], []], 'tup': (1, 'a', (2.0,)),
     'set': {5}, 'od': collections.OrderedDict([('z', 1), ('a', 2)]), 'intkeys': {0: 'zero', 10: 'ten'}, 'ba': bytearray(b'xy')}
v['shared'] = v['list']
for p in range(6):
    open('plain%d.pkl' % p, 'wb').write(pickle.dumps(v, protocol=p))
`;

test('plain containers from Python pickle protocols 0–5 come back as JS values', () => {
  const dir = tmp();
  py(PLAIN_PY, dir);
  for (let p = 0; p <= 5; p++) {
    const file = path.join(dir, `plain${p}.pkl`);
    const v = unpickle(fs.readFileSync(file), { file }) as Record<string, any>;
    assert.equal(v.none, null);
    assert.equal(v.t, true); assert.equal(v.f, false);
    assert.equal(v.small, 7); assert.equal(v.neg, -300); assert.equal(v.i32, 70000);
    assert.equal(v.big, 2n ** 70n, `protocol ${p}`); assert.equal(v.nbig, -(2n ** 63n));
    assert.equal(v.x, 1.5); assert.equal(v.tiny, -2.5e-300);
    assert.equal(v.s, 'héllo ✓', `protocol ${p}`);
    assert.deepEqual([...v.b], [0, 255, 97, 98], `protocol ${p}`);
    assert.deepEqual(v.list, [1, [2, 3], []]);
    assert.deepEqual(v.tup, [1, 'a', [2]]);
    assert.deepEqual(v.set, [5]);
    assert.deepEqual(Object.entries(v.od), [['z', 1], ['a', 2]]);
    assert.deepEqual(v.intkeys, { 0: 'zero', 10: 'ten' });
    assert.deepEqual([...v.ba], [120, 121], `protocol ${p}`);
    assert.equal(v.shared, v.list, `protocol ${p}: the memo shares one object`);
  }
});

const NUMPY_PY = `
import pickle, numpy as np
a = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 8
arrs = {'f64': a, 'f32': a.astype(np.float32), 'f16': a.astype(np.float16), 'i8': (a * 8 - 5).astype(np.int8),
        'i16': (a * -100).astype(np.int16), 'i32': (a * 1e6).astype(np.int32), 'i64': (a * 8).astype(np.int64) - 2**40,
        'u8': (a * 8).astype(np.uint8), 'b': (a * 8).astype(np.int64) % 3 == 0, 'fortran': np.asfortranarray(a.astype(np.float32)),
        'be': a.astype('>f4'), 'empty': np.zeros((0, 3), np.float32),
        'label': np.int64(4), 'score': np.float32(0.25), 'flag': np.bool_(True)}
ann = [{'frame_dir': 'S001C001P001R001A001', 'label': 3, 'img_shape': (1080, 1920), 'total_frames': 2,
        'keypoint': (a[:, :2, :2] * 10).astype(np.float16), 'keypoint_score': a[0].astype(np.float32)}]
for p in (2, 3, 4, 5):
    open('np%d.pkl' % p, 'wb').write(pickle.dumps(arrs, protocol=p))
    open('ann%d.pkl' % p, 'wb').write(pickle.dumps({'split': {'xsub_train': ['S001C001P001R001A001']}, 'annotations': ann}, protocol=p))
`;

test('numpy arrays (every dtype, Fortran order, big-endian, empty) and scalars, protocols 2–5', () => {
  const dir = tmp();
  py(NUMPY_PY, dir);
  const base = Array.from({ length: 24 }, (_, i) => i / 8);
  for (const p of [2, 3, 4, 5]) {
    const file = path.join(dir, `np${p}.pkl`);
    const v = unpickle(fs.readFileSync(file), { file, globals: 'numpy' }) as Record<string, NdArray>;
    const get = (k: string) => { const a = v[k]!; assert.equal(a.kind, 'ndarray'); return a; };
    assert.deepEqual(get('f64').shape, [2, 3, 4]);
    assert.equal(get('f64').dtype, 'float64');
    assert.deepEqual([...get('f64').data as Float64Array], base);
    assert.deepEqual([...get('f32').data as Float32Array], base);
    assert.deepEqual([...get('fortran').data as Float32Array], base, `protocol ${p}: Fortran order comes back in C order`);
    assert.deepEqual([...get('be').data as Float32Array], base, `protocol ${p}: big-endian is swapped`);
    assert.equal(get('f16').dtype, 'float16');
    assert.equal((get('f16').data as Uint16Array)[8], 0x3c00, 'float16 1.0 keeps its bit pattern');
    assert.deepEqual([...get('i8').data as Int8Array].slice(0, 3), [-5, -4, -3]);
    assert.deepEqual([...get('i16').data as Int16Array].slice(0, 3), [0, -12, -25]);
    assert.equal((get('i32').data as Int32Array)[23], Math.trunc(23 / 8 * 1e6));
    assert.equal((get('i64').data as BigInt64Array)[1], 1n - 2n ** 40n);
    assert.deepEqual([...get('u8').data as Uint8Array].slice(0, 3), [0, 1, 2]);
    assert.deepEqual([...get('b').data as Uint8Array].slice(0, 4), [1, 0, 0, 1]);
    assert.deepEqual(get('empty').shape, [0, 3]);
    assert.equal(v.label as unknown, 4); assert.equal(v.score as unknown, 0.25); assert.equal(v.flag as unknown, true);

    const annFile = path.join(dir, `ann${p}.pkl`);
    const ann = unpickle(fs.readFileSync(annFile), { file: annFile, globals: ['numpy'] }) as any;
    assert.deepEqual(ann.split.xsub_train, ['S001C001P001R001A001']);
    assert.deepEqual(ann.annotations[0].img_shape, [1080, 1920]);
    assert.deepEqual(ann.annotations[0].keypoint.shape, [2, 2, 2]);
    assert.equal(ann.annotations[0].keypoint.dtype, 'float16');
  }
  // without the numpy family the same file is refused, naming the global
  const file = path.join(dir, 'np4.pkl');
  assert.throws(() => unpickle(fs.readFileSync(file), { file }), (e: Error) => e instanceof InputFileError && /np4\.pkl: pickle names numpy\.\S+, which paperlab does not load/.test(e.message));
});

const enc = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

test('a malicious pickle naming os.system is refused and nothing runs', () => {
  const dir = tmp();
  const marker = path.join(dir, 'PWNED');
  const cmd = `touch ${marker}`;
  const u8 = (n: number) => String.fromCharCode(n);
  const variants: Record<string, Uint8Array> = {
    // protocol 0: GLOBAL 'os system', MARK, STRING, TUPLE, REDUCE, STOP
    global: enc(`cos\nsystem\n(S'${cmd}'\ntR.`),
    // protocol 4: STACK_GLOBAL
    stackGlobal: enc(`\x80\x04\x8c\x02os\x8c\x06system\x93\x8c${u8(cmd.length)}${cmd}\x85R.`),
    // INST
    inst: enc(`(S'${cmd}'\nios\nsystem\n.`),
    // posix.system, subprocess and builtins.eval through REDUCE
    posix: enc(`cposix\nsystem\n(S'${cmd}'\ntR.`),
    evalb: enc(`cbuiltins\neval\n(S'__import__("os").system("${cmd}")'\ntR.`),
  };
  // Python confirms the first one is a working exploit (run in a throwaway folder)
  const check = tmp();
  fs.writeFileSync(path.join(check, 'evil.pkl'), variants.global!);
  py(`import pickle; pickle.loads(open('evil.pkl','rb').read().replace(b'${marker}', b'${path.join(check, 'PWNED')}'))`, check);
  assert.ok(fs.existsSync(path.join(check, 'PWNED')), 'the hand-made pickle really runs os.system under Python');

  for (const [name, bytes] of Object.entries(variants)) {
    const file = path.join(dir, `${name}.pth`);
    assert.throws(() => unpickle(bytes, { file, globals: ['torch', 'numpy'] }), (e: Error) => {
      assert.ok(e instanceof InputFileError, name);
      assert.match(e.message, new RegExp(`${name}\\.pth: pickle names (os|posix|builtins)\\.(system|eval), which paperlab does not load \\(only tensors, storages`));
      return true;
    });
  }
  assert.equal(fs.existsSync(marker), false);
});

test('every truncation and many corruptions of a real pickle give an InputFileError naming the file', () => {
  const dir = tmp();
  py(NUMPY_PY, dir);
  const full = fs.readFileSync(path.join(dir, 'ann4.pkl'));
  for (let n = 0; n < full.byteLength; n++) {
    assert.throws(() => unpickle(full.subarray(0, n), { file: 'cut.pkl', globals: 'numpy' }),
      (e: Error) => e instanceof InputFileError && e.message.startsWith('cut.pkl: ') && /pickle/.test(e.message), `prefix of ${n} bytes`);
  }
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 400; i++) {
    const bad = Uint8Array.from(full);
    bad[Math.floor(rand() * bad.length)] = Math.floor(rand() * 256);
    try {
      unpickle(bad, { file: 'flip.pkl', globals: 'numpy' });
    } catch (e) {
      assert.ok(e instanceof InputFileError && e.message.startsWith('flip.pkl: '), `flip ${i}: ${(e as Error).message}`);
    }
  }
});

test('absurd lengths, deep integers and out-of-band buffers are refused', () => {
  const cases: Array<[string, Uint8Array, RegExp]> = [
    ['binbytes8', Uint8Array.from([0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x2e]), /truncated|absurd/],
    ['binunicode', Uint8Array.from([0x80, 2, 0x58, 0xff, 0xff, 0xff, 0x7f, 0x2e]), /truncated/],
    ['long4', Uint8Array.from([0x80, 2, 0x8b, 0, 0, 0, 1, 0x2e]), /integer of 16777216 bytes/],
    ['frame', Uint8Array.from([0x80, 4, 0x95, 0, 0, 0, 0, 0, 1, 0, 0, 0x2e]), /truncated/],
    ['nextbuffer', Uint8Array.from([0x80, 5, 0x97, 0x2e]), /out-of-band/],
    ['ext', Uint8Array.from([0x80, 2, 0x82, 1, 0x2e]), /extension registry/],
    ['memo', enc('\x80\x02h\x05.'), /memo entry 5 is missing/],
    ['persid', enc('\x80\x02K\x01Q.'), /persistent id and no loader/],
    ['proto', Uint8Array.from([0x80, 9, 0x4e, 0x2e]), /protocol 9/],
    ['underflow', enc('\x80\x02R.'), /stack underflow/],
  ];
  for (const [name, bytes, re] of cases) {
    assert.throws(() => unpickle(bytes, { file: `${name}.pkl` }), (e: Error) => e instanceof InputFileError && e.message.startsWith(`${name}.pkl: `) && re.test(e.message), name);
  }
});

test("Python 2 byte strings: decoded by default, kept as bytes with encoding 'bytes' (pickle.load(f, encoding='bytes')); bytes dict keys become text", () => {
  // protocol 2 as Python 2 writes {'k': 'ab\xff'}: SHORT_BINSTRING key and value; and protocol 0 STRING
  const p2 = Uint8Array.from([0x80, 2, 0x7d, 0x71, 0, 0x55, 1, 0x6b, 0x71, 1, 0x55, 3, 0x61, 0x62, 0xff, 0x71, 2, 0x73, 0x2e]);
  assert.deepEqual(unpickle(p2, { file: 'p2.pkl' }), { k: 'ab\ufffd' });
  const asBytes = unpickle(p2, { file: 'p2.pkl', encoding: 'bytes' }) as Record<string, unknown>;
  assert.deepEqual(Object.keys(asBytes), ['k']);
  assert.deepEqual(asBytes.k, Uint8Array.from([0x61, 0x62, 0xff]));
  const p0 = new TextEncoder().encode("S'a\\xffb'\np0\n.");
  assert.deepEqual(unpickle(p0, { file: 'p0.pkl', encoding: 'bytes' }), Uint8Array.from([0x61, 0xff, 0x62]));
});
