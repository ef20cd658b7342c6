// The slice viewer's browser-side readers (web/viewers/volumes.js, plain ESM with DecompressionStream)
// run in Node on the real-data fixtures and match the module's TypeScript readers voxel for voxel:
// nibabel-written .nii.gz labels and zonal masks, picai_eval's .nii.gz test maps, zlib-compressed
// MET_SHORT and uncompressed MET_FLOAT .mha, an uncompressed .nii; both byte orders of both formats
// (big-endian files built here byte by byte); and each corrupt twin fails naming the file and key.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { readMetaImage } from '../../src/modules/prostate/metaimage.ts';
import { readNifti } from '../../src/modules/prostate/nifti.ts';
import type { Volume } from '../../src/modules/prostate/volume.ts';
import { loadCase, resolveSource } from '../../src/modules/prostate/picai.ts';
import { writeViewerVolumes } from '../../src/modules/prostate/viewer-volumes.ts';

interface JsVolume { dims: number[]; spacing: number[]; origin: number[]; direction: number[]; elementType: string; data: ArrayLike<number> }
interface VolumesModule {
  parseVolume(bytes: Uint8Array, file: string): Promise<JsVolume>;
  worldOf(v: JsVolume, i: number, j: number, k: number): number[];
  percentiles(data: ArrayLike<number>, p?: number, q?: number): [number, number];
}
const js = await import(pathToFileURL(path.resolve('web/viewers/volumes.js')).href) as VolumesModule;

const F = 'test/fixtures/prostate';
const read = (f: string) => new Uint8Array(fs.readFileSync(f));

function assertSame(file: string, a: JsVolume, b: Volume): void {
  assert.deepEqual(a.dims, b.dims, `${file}: dims`);
  assert.equal(a.elementType, b.elementType, `${file}: element type`);
  for (const [k, x, y] of [['spacing', a.spacing, b.spacing], ['origin', a.origin, b.origin], ['direction', a.direction, b.direction]] as const) {
    assert.equal(x.length, y.length);
    x.forEach((v, i) => assert.ok(Math.abs(v - y[i]!) <= 1e-5 * Math.max(1, Math.abs(y[i]!)), `${file}: ${k}[${i}] ${v} vs ${y[i]}`));
  }
  assert.equal(a.data.length, b.data.length);
  for (let i = 0; i < b.data.length; i++) if (!Object.is(a.data[i], b.data[i])) assert.fail(`${file}: voxel ${i} is ${a.data[i]} in the browser reader, ${b.data[i]} in the TS reader`);
}

const fixtures = () => {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const f = path.join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (/\.(mha|nii|nii\.gz)$/.test(e.name)) out.push(f);
    }
  };
  for (const d of ['release', 'picai_eval', 'mixed']) walk(path.join(F, d));
  return out;
};

test('browser reader = TS readers on every .mha / .nii / .nii.gz fixture (nibabel, picai_eval, the MHA writer)', async () => {
  const files = fixtures();
  const kinds = { mhaZlib: 0, mhaRaw: 0, niiGz: 0, nii: 0 };
  for (const f of files) {
    const bytes = read(f);
    const ts = /\.mha$/.test(f) ? readMetaImage(f) : readNifti(f);
    assertSame(f, await js.parseVolume(bytes, f), ts);
    if (/\.mha$/.test(f)) kinds[/CompressedData = True/.test(Buffer.from(bytes.subarray(0, 400)).toString('latin1')) ? 'mhaZlib' : 'mhaRaw']++;
    else kinds[/\.gz$/.test(f) ? 'niiGz' : 'nii']++;
  }
  // every kind is exercised (the release's zlib MET_SHORT images, nibabel's labels, the bare .nii and raw .mha of mixed/)
  for (const [k, n] of Object.entries(kinds)) assert.ok(n >= 3, `${k}: only ${n} fixture(s)`);
  // a Yuan23 zonal mask holds both zones; world positions follow the geometry
  const zf = path.join(F, 'release/picai_labels/anatomical_delineations/zonal_pz_tz/AI/Yuan23/10000_1000000.nii.gz');
  const z = await js.parseVolume(read(zf), zf);
  assert.deepEqual([...new Set(Array.from(z.data))].sort(), [0, 1, 2]);
  const w = js.worldOf(z, 1, 2, 3), ts = readNifti(zf);
  const D = ts.direction, s = ts.spacing;
  const expect = [0, 1, 2].map((r) => ts.origin[r]! + D[r]! * s[0] + D[3 + r]! * s[1] * 2 + D[6 + r]! * s[2] * 3);
  w.forEach((v, i) => assert.ok(Math.abs(v - expect[i]!) < 1e-4));
});

/** A NIfTI-1 header + data written field by field in the given byte order (sform only). */
type Put = (dv: DataView, off: number, i: number) => void;
function niftiBytes(le: boolean, dims: [number, number, number], code: number, bitpix: number, put: Put): Uint8Array {
  const n = dims[0] * dims[1] * dims[2];
  const buf = new ArrayBuffer(352 + n * (bitpix / 8));
  const dv = new DataView(buf);
  dv.setInt32(0, 348, le);
  [3, ...dims, 1, 1, 1, 1].forEach((d, i) => dv.setInt16(40 + 2 * i, d, le));
  dv.setInt16(70, code, le); dv.setInt16(72, bitpix, le);
  [1, 0.5, 0.6, 3, 1, 1, 1, 1].forEach((p, i) => dv.setFloat32(76 + 4 * i, p, le));
  dv.setFloat32(108, 352, le); dv.setFloat32(112, 1, le);
  dv.setInt16(254, 1, le);
  const srow = [[0.5, 0, 0, -10], [0, 0.6, 0, 20], [0, 0, 3, 5]];
  srow.forEach((r, i) => r.forEach((v, c) => dv.setFloat32(280 + 16 * i + 4 * c, v, le)));
  [0x6e, 0x2b, 0x31, 0].forEach((b, i) => dv.setUint8(344 + i, b));
  for (let i = 0; i < n; i++) put(dv, 352 + i * (bitpix / 8), i);
  return new Uint8Array(buf);
}

test('both byte orders: big- and little-endian NIfTI (int16, uint16, float32, float64) and MetaImage read alike', async (t) => {
  const tmp = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'pl-slices-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const dims: [number, number, number] = [5, 4, 3];
  const value = (i: number) => (i * 37) % 251 - 100;
  const types = [[4, 16, 'setInt16'], [512, 16, 'setUint16'], [16, 32, 'setFloat32'], [64, 64, 'setFloat64'], [2, 8, 'setUint8']] as const;
  for (const [code, bitpix, setter] of types) {
    const vals: JsVolume[] = [];
    for (const le of [true, false]) {
      const bytes = niftiBytes(le, dims, code, bitpix, (dv, off, i) => {
        const v = setter === 'setUint16' || setter === 'setUint8' ? Math.abs(value(i)) : setter.startsWith('setFloat') ? value(i) + 0.25 : value(i);
        if (setter === 'setUint8') dv.setUint8(off, v); else dv[setter](off, v, le);
      });
      const f = path.join(tmp, `be${le ? 'le' : 'be'}-${code}.nii`);
      fs.writeFileSync(f, bytes);
      const v = await js.parseVolume(bytes, f);
      assertSame(f, v, readNifti(f));
      vals.push(v);
    }
    assert.deepEqual(Array.from(vals[0]!.data), Array.from(vals[1]!.data), `datatype ${code}: LE and BE differ`);
  }
  // MetaImage with BinaryDataByteOrderMSB = True
  const n = 60, payload = new DataView(new ArrayBuffer(2 * n));
  for (let i = 0; i < n; i++) payload.setInt16(2 * i, value(i), false);
  const head = 'ObjectType = Image\nNDims = 3\nBinaryData = True\nBinaryDataByteOrderMSB = True\nCompressedData = False\n'
    + 'ElementSpacing = 0.5 0.5 3\nOffset = 1 2 3\nDimSize = 5 4 3\nElementType = MET_SHORT\nElementDataFile = LOCAL\n';
  const mha = new Uint8Array([...Buffer.from(head, 'latin1'), ...new Uint8Array(payload.buffer)]);
  const f = path.join(tmp, 'msb.mha');
  fs.writeFileSync(f, mha);
  const v = await js.parseVolume(mha, f);
  assertSame(f, v, readMetaImage(f));
  assert.deepEqual(Array.from(v.data), Array.from({ length: n }, (_, i) => value(i)));
});

test('corrupt twins: each fails naming the file and the header key', async () => {
  const cases: [string, RegExp][] = [
    ['corrupt/dimsize_t2w.mha', /dimsize_t2w\.mha: 'DimSize': expected 3 number/],
    ['corrupt/truncated_t2w.mha', /truncated_t2w\.mha: 'CompressedDataSize': .*truncated/],
    ['corrupt/truncated.nii.gz', /truncated\.nii\.gz: 'gzip': cannot gunzip/],
    ['corrupt/badmagic.nii', /badmagic\.nii: 'magic': not a NIfTI-1 file/],
  ];
  for (const [rel, re] of cases) {
    const f = path.join(F, rel);
    await assert.rejects(js.parseVolume(read(f), f), (e: Error) => { assert.equal(e.name, 'VolumeFormatError'); assert.match(e.message, re); return true; });
  }
  // a zlib payload cut inside (no CompressedDataSize to notice it first)
  const good = read(path.join(F, 'release/images/10000/10000_1000000_t2w.mha'));
  const text = Buffer.from(good).toString('latin1');
  const at = text.indexOf('ElementDataFile = LOCAL\n') + 'ElementDataFile = LOCAL\n'.length;
  const head = text.slice(0, at).replace(/CompressedDataSize = \d+\n/, '');
  const cut = new Uint8Array([...Buffer.from(head, 'latin1'), ...good.subarray(at, at + 200)]);
  await assert.rejects(js.parseVolume(cut, 'cut.mha'), /cut\.mha: 'CompressedData': zlib payload cannot be inflated/);
  await assert.rejects(js.parseVolume(new Uint8Array(10), 'x.png'), /x\.png: unknown image extension/);
  await assert.rejects(js.parseVolume(new TextEncoder().encode('hello\n'), 'h.mha'), /h\.mha: header line 1 is not 'Key = Value'/);
});

test('detect\'s volumes/ (writeViewerVolumes) on a release case: ADC/HBV resampled onto the T2W grid, Yuan23 zones, read by the browser reader', async (t) => {
  const tmp = fs.mkdtempSync(path.join((await import('node:os')).tmpdir(), 'pl-slices-vol-'));
  t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const c = loadCase(resolveSource(`${F}/release/images`, `${F}/release/picai_labels`), '10000_1000000');
  assert.notDeepEqual(c.adc.dims, c.t2w.dims, 'the fixture\'s ADC lies on its own (coarser) grid');
  for (const format of ['mha', 'nii.gz'] as const) {
    const files = writeViewerVolumes(tmp, c, format);
    const kinds = ['t2w', 'adc', 'hbv', 'zones', ...(c.label ? ['label'] : [])];
    assert.deepEqual(files.map((f) => path.basename(f)), kinds.map((k) => `10000_1000000_${k}.${format}`));
    const [t2, adc, hbv, zones] = await Promise.all(files.map((f) => js.parseVolume(read(f), f)));
    for (const v of [adc!, hbv!, zones!]) {
      assert.deepEqual(v.dims, c.t2w.dims);
      v.spacing.forEach((x, i) => assert.ok(Math.abs(x - c.t2w.spacing[i]!) < 1e-5));
      v.origin.forEach((x, i) => assert.ok(Math.abs(x - c.t2w.origin[i]!) < 1e-4));
    }
    assert.deepEqual(Array.from(t2!.data), Array.from(c.t2w.data), 'T2W as read');
    assert.equal(t2!.elementType, c.t2w.elementType);
    assert.deepEqual(Array.from(zones!.data), Array.from(c.zones!.data), 'Yuan23 codes 1 = PZ, 2 = TZ kept');
    // the resampled ADC keeps the ADC's range (linear interpolation), not the T2W's
    let lo = Infinity, hi = -Infinity;
    for (const x of Array.from(c.adc.data)) { lo = Math.min(lo, x); hi = Math.max(hi, x); }
    assert.ok(Array.from(adc!.data).every((x) => x >= lo - 1e-3 && x <= hi + 1e-3));
  }
  // only a whole-gland mask: code 3 wherever it is non-zero
  const gland = writeViewerVolumes(path.join(tmp, 'gland'), { ...c, zones: null, gland: c.zones, label: null }, 'mha').at(-1)!;
  const g = await js.parseVolume(read(gland), gland);
  assert.deepEqual(Array.from(g.data), Array.from(c.zones!.data, (v) => (v ? 3 : 0)));
  // a positive case's lesion label (binarised ISUP grades) travels too
  const pos = loadCase(resolveSource(`${F}/release/images`, `${F}/release/picai_labels`), '10002_1000002');
  assert.ok(pos.label, 'the fixture case 10002_1000002 has an expert lesion label');
  const lab = writeViewerVolumes(path.join(tmp, 'pos'), pos, 'nii.gz').at(-1)!;
  assert.match(lab, /10002_1000002_label\.nii\.gz$/);
  const l = await js.parseVolume(read(lab), lab);
  assert.deepEqual(Array.from(l.data), Array.from(pos.label.data));
  assert.ok(Array.from(l.data).some((v) => v === 1));
});

test('percentiles: the 1st and 99th of a ramp', () => {
  const ramp = Float32Array.from({ length: 1001 }, (_, i) => i);
  assert.deepEqual(js.percentiles(ramp), [10, 990]);
});
