// I/O: MetaImage and NIfTI round trips (bit-exact), hand-built headers as ITK/nibabel write them,
// truncated/inconsistent files, PI-CAI layout and marksheet, resampling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { zlibSync, gzipSync } from 'fflate';
import { readMetaImage, writeMetaImage, parseMetaHeader } from '../../../src/modules/prostate/metaimage.ts';
import { readNifti, writeNifti } from '../../../src/modules/prostate/nifti.ts';
import { makeVolume, allocate, resample, respacedGrid, type ElementType, type Volume } from '../../../src/modules/prostate/volume.ts';
import { readMarksheet, loadCase, listCases, makeFolds, parseCaseKey, LAYOUT, writeImage } from '../../../src/modules/prostate/picai.ts';
import { writePhantomDataset } from '../../../src/modules/prostate/phantoms.ts';
import { prepareCase } from '../../../src/modules/prostate/preprocess.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prostate-io-'));
const TYPES: ElementType[] = ['uint8', 'int8', 'uint16', 'int16', 'uint32', 'int32', 'float32', 'float64'];

function sample(type: ElementType, dims: [number, number, number]): Volume {
  const n = dims[0] * dims[1] * dims[2];
  const data = allocate(type, n);
  const extremes: Record<ElementType, [number, number]> = {
    uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767], uint32: [0, 4294967295],
    int32: [-2147483648, 2147483647], float32: [-3.4e38, 3.4e38], float64: [-1.7e308, Number.MIN_VALUE],
  };
  for (let i = 0; i < n; i++) data[i] = type.startsWith('float') ? Math.sin(i * 1.7) * 1000.123 : (i * 7919) % 120;
  data[0] = extremes[type][0]; data[n - 1] = extremes[type][1];
  // a direction with an oblique axis, spacing/origin with long decimals
  const a = 0.1, c = Math.cos(a), s = Math.sin(a);
  return makeVolume(dims, { data, spacing: [0.5000000123, 0.3421052631578947, 3.6], origin: [-103.25391, 81.0000001, -17.333333333333332], direction: [c, s, 0, -s, c, 0, 0, 0, 1], meta: { '0008|0070': 'SIEMENS', '0010|1010': '073Y', PSA_REPORT: 'nan', PSAD_REPORT: '0.12' } });
}

function sameBits(a: Volume, b: Volume) {
  assert.equal(b.elementType, a.elementType);
  assert.deepEqual(b.dims, a.dims);
  assert.deepEqual(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength), Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength));
}

test('MetaImage round trip is bit-exact for every element type, compressed and not, .mha and .mhd', () => {
  for (const type of TYPES) {
    const v = sample(type, [5, 4, 3]);
    for (const compress of [true, false]) {
      for (const ext of ['mha', 'mhd']) {
        const f = path.join(tmp, `rt_${type}_${compress}.${ext}`);
        writeMetaImage(f, v, { compress });
        const r = readMetaImage(f);
        sameBits(v, r);
        assert.deepEqual(r.spacing, v.spacing, `${type} spacing`);
        assert.deepEqual(r.origin, v.origin);
        assert.deepEqual(r.direction, v.direction);
        for (const [k, val] of Object.entries(v.meta)) assert.equal(r.meta[k], val, `meta ${k}`);
        if (compress && ext === 'mha') {
          const bytes = fs.readFileSync(f);
          const h = parseMetaHeader(bytes, f);
          assert.equal(Number(h.fields.CompressedDataSize), bytes.length - h.dataStart, 'CompressedDataSize = payload bytes');
          assert.equal(bytes[h.dataStart], 0x78, 'zlib stream header');
        }
      }
    }
  }
});

test('MetaImage as ITK writes it (hand-built header, DICOM tags, zlib payload, big-endian .mhd)', () => {
  const vals = Int16Array.from({ length: 2 * 3 * 2 }, (_, i) => i * 100 - 500);
  const z = zlibSync(new Uint8Array(vals.buffer));
  const header = ['ObjectType = Image', 'NDims = 3', 'BinaryData = True', 'BinaryDataByteOrderMSB = False', 'CompressedData = True',
    `CompressedDataSize = ${z.length}`, 'TransformMatrix = 1 0 0 0 1 0 0 0 1', 'Offset = -90.5 -80.25 10', 'CenterOfRotation = 0 0 0',
    'AnatomicalOrientation = RAI', 'ElementSpacing = 0.5 0.5 3', 'DimSize = 2 3 2', '0008|0060 = MR', '0010|1010 = 061Y',
    'PROSTATE_VOLUME_REPORT = nan', 'ElementType = MET_SHORT', 'ElementDataFile = LOCAL'].join('\n') + '\n';
  const f = path.join(tmp, 'itk.mha');
  fs.writeFileSync(f, Buffer.concat([Buffer.from(header), Buffer.from(z)]));
  const v = readMetaImage(f);
  assert.deepEqual(Array.from(v.data), Array.from(vals));
  assert.deepEqual(v.origin, [-90.5, -80.25, 10]);
  assert.equal(v.meta['0008|0060'], 'MR');
  assert.equal(v.meta.PROSTATE_VOLUME_REPORT, 'nan');
  assert.equal(v.meta.AnatomicalOrientation, 'RAI');
  // big-endian raw payload in a separate file, legacy ElementSize / ElementByteOrderMSB keys
  const be = Buffer.alloc(vals.length * 2);
  vals.forEach((x, i) => be.writeInt16BE(x, 2 * i));
  fs.writeFileSync(path.join(tmp, 'be.raw'), be);
  fs.writeFileSync(path.join(tmp, 'be.mhd'), 'ObjectType = Image\nNDims = 3\nDimSize = 2 3 2\nElementSize = 1 1 2\nElementByteOrderMSB = True\nElementType = MET_SHORT\nElementDataFile = be.raw\n');
  const b = readMetaImage(path.join(tmp, 'be.mhd'));
  assert.deepEqual(Array.from(b.data), Array.from(vals));
  assert.deepEqual(b.spacing, [1, 1, 2]);
});

test('truncated or inconsistent MetaImage files fail with the file and the key', () => {
  const v = sample('int16', [6, 5, 4]);
  const good = path.join(tmp, 'good.mha');
  writeMetaImage(good, v);
  const bytes = fs.readFileSync(good);
  const cut = path.join(tmp, 'cut.mha');
  fs.writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
  assert.throws(() => readMetaImage(cut), (e: Error) => e.message.includes(cut) && e.message.includes('CompressedDataSize') && /truncated/.test(e.message));
  // header cut before ElementDataFile
  const h = parseMetaHeader(bytes, good);
  fs.writeFileSync(cut, bytes.subarray(0, h.dataStart - 30));
  assert.throws(() => readMetaImage(cut), (e: Error) => e.message.includes(cut) && /ElementDataFile|Key = Value/.test(e.message));
  // raw payload too short
  const raw = path.join(tmp, 'raw.mha');
  writeMetaImage(raw, v, { compress: false });
  const rb = fs.readFileSync(raw);
  fs.writeFileSync(cut, rb.subarray(0, rb.length - 2));
  assert.throws(() => readMetaImage(cut), (e: Error) => e.message.includes(cut) && e.message.includes("'DimSize'") && /truncated/.test(e.message));
  // inconsistent headers
  const text = rb.toString('latin1');
  const bad = (from: string, to: string, key: string) => {
    fs.writeFileSync(cut, Buffer.from(text.replace(from, to), 'latin1'));
    assert.throws(() => readMetaImage(cut), (e: Error) => e.message.includes(cut) && e.message.includes(`'${key}'`), `${key}`);
  };
  bad('ElementType = MET_SHORT', 'ElementType = MET_LONG_LONG', 'ElementType');
  bad('DimSize = 6 5 4', 'DimSize = 6 5', 'DimSize');
  bad('NDims = 3', 'NDims = 5', 'NDims');
  bad('ElementSpacing = ', 'ElementSpacing = x ', 'ElementSpacing');
  bad('DimSize = 6 5 4', 'DimSize = 6 5 40', 'DimSize');
  assert.throws(() => readMetaImage(path.join(tmp, 'nope.mha')), /nope\.mha: no such file/);
});

test('NIfTI-1 round trip (.nii and .nii.gz) is bit-exact with geometry kept to float32 precision', () => {
  for (const type of TYPES) {
    const v = sample(type, [4, 3, 5]);
    for (const ext of ['nii', 'nii.gz']) {
      const f = path.join(tmp, `rt_${type}.${ext}`);
      writeNifti(f, v);
      const r = readNifti(f);
      sameBits(v, r);
      const f32 = (x: number) => Math.fround(x);
      r.spacing.forEach((s, i) => assert.equal(s, f32(v.spacing[i]!)));
      r.origin.forEach((o, i) => assert.ok(Math.abs(o - v.origin[i]!) <= 1e-5 * Math.abs(v.origin[i]!) + 1e-6, `origin ${i}`));
      r.direction.forEach((d, i) => assert.ok(Math.abs(d - v.direction[i]!) < 1e-6, `direction ${i}`));
    }
  }
});

test('NIfTI: qform-only and scaled files as other tools write them; truncation and bad headers are named', () => {
  // hand-built header: qform_code 1 with a 90° rotation about z, sform_code 0, scl_slope 2, inter 1
  const hdr = Buffer.alloc(352);
  hdr.writeInt32LE(348, 0);
  [3, 2, 2, 1, 1, 1, 1, 1].forEach((d, i) => hdr.writeInt16LE(d, 40 + 2 * i));
  hdr.writeInt16LE(4, 70); hdr.writeInt16LE(16, 72);
  [1, 0.7, 0.8, 2.5].forEach((p, i) => hdr.writeFloatLE(p, 76 + 4 * i));
  hdr.writeFloatLE(352, 108); hdr.writeFloatLE(2, 112); hdr.writeFloatLE(1, 116);
  hdr.writeInt16LE(1, 252); hdr.writeInt16LE(0, 254);
  // quaternion of a 90° rotation about z: (a, b, c, d) = (cos45°, 0, 0, sin45°)
  hdr.writeFloatLE(0, 256); hdr.writeFloatLE(0, 260); hdr.writeFloatLE(Math.SQRT1_2, 264);
  hdr.writeFloatLE(10, 268); hdr.writeFloatLE(20, 272); hdr.writeFloatLE(30, 276);
  hdr.write('n+1\0', 344, 'latin1');
  const data = Buffer.alloc(8);
  [1, 2, 3, 4].forEach((x, i) => data.writeInt16LE(x, 2 * i));
  const f = path.join(tmp, 'q.nii.gz');
  fs.writeFileSync(f, gzipSync(Buffer.concat([hdr, data])));
  const v = readNifti(f);
  assert.deepEqual(Array.from(v.data), [3, 5, 7, 9]);
  assert.ok(Math.abs(v.spacing[0] - 0.7) < 1e-6 && Math.abs(v.spacing[2] - 2.5) < 1e-6);
  // RAS x-axis rotated onto +y → in LPS the x index axis points to −y; origin (10,20,30) RAS → (−10,−20,30) LPS
  const D = v.direction;
  assert.ok(Math.abs(D[0]!) < 1e-6 && Math.abs(D[1]! + 1) < 1e-6, `x axis ${D.slice(0, 3)}`);
  assert.deepEqual(v.origin.map((x) => Math.round(x)), [-10, -20, 30]);
  // truncations
  const good = path.join(tmp, 'good.nii.gz');
  writeNifti(good, sample('float32', [4, 4, 4]));
  const gz = fs.readFileSync(good);
  const cut = path.join(tmp, 'cut.nii.gz');
  fs.writeFileSync(cut, gz.subarray(0, gz.length - 20));
  assert.throws(() => readNifti(cut), (e: Error) => e.message.includes(cut) && /gzip|vox_offset/.test(e.message));
  const plain = path.join(tmp, 'plain.nii');
  writeNifti(plain, sample('float32', [4, 4, 4]));
  const pb = fs.readFileSync(plain);
  fs.writeFileSync(cut, pb.subarray(0, 352 + 100));
  assert.throws(() => readNifti(cut), (e: Error) => e.message.includes(cut) && e.message.includes("'vox_offset'") && /truncated/.test(e.message));
  fs.writeFileSync(cut, pb.subarray(0, 200));
  assert.throws(() => readNifti(cut), (e: Error) => e.message.includes(cut) && e.message.includes("'sizeof_hdr'"));
  const bad = Buffer.from(pb); bad.writeInt16LE(1234, 70);
  fs.writeFileSync(cut, bad);
  assert.throws(() => readNifti(cut), (e: Error) => e.message.includes("'datatype'") && e.message.includes('1234'));
});

test('PI-CAI layout from phantoms: cases, labels on the T2W grid, marksheet, patient-grouped folds; label dims are checked', () => {
  const root = path.join(tmp, 'picai');
  const r = writePhantomDataset(root, { cases: 8, dims: [32, 32, 8], seed: 3, positiveRate: 0.6 });
  assert.deepEqual(listCases(root), [...r.keys].sort());
  const c = loadCase(root, r.keys[0]!);
  assert.deepEqual(c.label!.dims, c.t2w.dims);
  assert.deepEqual(c.adc.dims, [16, 16, 8], 'ADC on a coarser grid');
  const isups = new Set(Array.from(c.labelRaw!.data).filter((x) => x > 0));
  for (const v of isups) assert.ok(v >= 2 && v <= 5, `ISUP ${v}`);
  const ms = readMarksheet(path.join(root, LAYOUT.marksheet));
  assert.equal(ms.length, 8);
  for (const row of ms) {
    const key = `${row.patient_id}_${row.study_id}`;
    const lab = loadCase(root, key).label!;
    const pos = Array.from(lab.data).some((x) => x > 0);
    assert.equal(row.case_csPCa, pos ? 'YES' : 'NO', key);
  }
  // folds: no patient in two folds
  const folds = makeFolds(r.keys, 3, 1);
  const where = new Map<string, number>();
  folds.forEach((f, i) => f.forEach((k) => {
    const p = parseCaseKey(k).patientId;
    assert.ok(!where.has(p) || where.get(p) === i, `patient ${p} in two folds`);
    where.set(p, i);
  }));
  // a label on the wrong grid is named
  const wrong = makeVolume([10, 10, 8], { data: new Uint8Array(800) });
  writeImage(path.join(root, LAYOUT.lesionsExpert, `${r.keys[1]}.nii.gz`), wrong);
  assert.throws(() => loadCase(root, r.keys[1]!), (e: Error) => e.message.includes(`${r.keys[1]}.nii.gz`) && e.message.includes("'dim'"));
});

test('marksheet: parse by header name, quoted multi-lesion cells, N/A, missing columns, leading index column', () => {
  const f = path.join(tmp, 'marksheet.csv');
  fs.writeFileSync(f, ',patient_id,study_id,psa,lesion_GS,lesion_ISUP,case_ISUP,case_csPCa\n0,10000,1000000,7.2,"4+3,0+0","3,0",3,YES\n1,10001,1000001,,N/A,N/A,,NO\n');
  const rows = readMarksheet(f);
  assert.deepEqual(rows[0]!.lesion_GS, ['4+3', '0+0']);
  assert.deepEqual(rows[0]!.lesion_ISUP, [3, 0]);
  assert.equal(rows[0]!.psa, 7.2);
  assert.equal(rows[1]!.psa, null);
  assert.deepEqual(rows[1]!.lesion_ISUP, [null]);
  assert.equal(rows[1]!.center, undefined);
  fs.writeFileSync(f, 'patient_id,study_id,case_csPCa\n1,2,MAYBE\n');
  assert.throws(() => readMarksheet(f), /case_csPCa must be YES or NO/);
});

test('resampling: identity is exact, a linear ramp is reproduced, labels stay labels, 3.6×0.3×0.3 phantoms reach 3.0×0.5×0.5', () => {
  const dims: [number, number, number] = [8, 6, 4];
  const ramp = new Float32Array(8 * 6 * 4);
  for (let k = 0; k < 4; k++) for (let j = 0; j < 6; j++) for (let i = 0; i < 8; i++) ramp[i + 8 * j + 48 * k] = 2 * i - j + 3 * k;
  const v = makeVolume(dims, { data: ramp, spacing: [1, 1, 2], origin: [5, -3, 0] });
  assert.deepEqual(Array.from(resample(v, v, 'linear').data), Array.from(ramp));
  // shift by half a voxel in x: values at the interior move by exactly 1 (= 2 per voxel × 0.5)
  const g = {
    dims: [6, 6, 4] as [number, number, number], spacing: [1, 1, 2] as [number, number, number],
    origin: [5.5, -3, 0] as [number, number, number], direction: v.direction,
  };
  const r = resample(v, g, 'linear');
  for (let i = 0; i < 6; i++) assert.ok(Math.abs(r.data[i]! - (2 * i + 1)) < 1e-5);
  const lab = makeVolume(dims, { data: Uint8Array.from(ramp, (x) => (x > 10 ? 2 : 0)), spacing: [1, 1, 2], origin: [5, -3, 0] });
  const rl = resample(lab, respacedGrid(lab, [0.5, 0.5, 1]), 'nearest');
  assert.ok(Array.from(rl.data).every((x) => x === 0 || x === 2));
  // anisotropic phantom variant
  const root = path.join(tmp, 'aniso');
  const ds = writePhantomDataset(root, { cases: 1, dims: [40, 40, 10], spacing: [0.3, 0.3, 3.6], seed: 2 });
  const p = prepareCase(loadCase(root, ds.keys[0]!));
  assert.deepEqual(p.grid.spacing, [0.5, 0.5, 3.0]);
  assert.deepEqual(p.shape, [12, 24, 24]);
  assert.equal(p.images[0].length, 12 * 24 * 24);
  // a NaN voxel is named with the case and the sequence
  const lc = loadCase(root, ds.keys[0]!);
  lc.adc.data[5] = NaN;
  assert.throws(() => prepareCase(lc), new RegExp(`case ${ds.keys[0]}: adc image holds NaN at voxel 5`));
});
