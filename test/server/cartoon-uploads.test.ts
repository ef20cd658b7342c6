// Issue #25: `cartoon apply` claims PNG/JPEG/WebP/TIFF, so a browser upload of a WebP (RIFF....WEBP)
// or TIFF (II*\0 / MM\0*) photo is accepted by content, a name that claims another kind is 415,
// and the run really reads the file (sharp decodes both): its cartoon and photo.png have the size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { startServer, type Served } from '../../src/server/main.ts';
import { sniffKind } from '../../src/server/uploads.ts';

const tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'pl-cupl-')));
const FIXTURE = path.resolve('test/fixtures/cartoon/coffee.png'); // 96×64, CC0 (LICENSE.md there)
let srv: Served;
let webp: Buffer;
let tiff: Buffer;

const headers = (extra: Record<string, string> = {}) => ({ 'x-paperlab-token': srv.token, ...extra });
const upload = (data: Buffer, name: string) => fetch(`${srv.url}/api/uploads?module=cartoon&command=apply&param=input&name=${encodeURIComponent(name)}`, {
  method: 'POST', headers: headers({ 'content-type': 'application/octet-stream' }), body: data,
});

before(async () => {
  webp = await sharp(FIXTURE).webp({ lossless: true }).toBuffer();
  tiff = await sharp(FIXTURE).tiff({ compression: 'lzw' }).toBuffer(); // sharp's default is JPEG-in-TIFF (lossy)
  srv = await startServer({ port: 0, root: path.join(tmp, 'runs'), cwd: tmp });
});
after(async () => { await srv.close(); });

test('sniffKind: WebP by RIFF....WEBP, TIFF by either byte order; other RIFF files are none of the kinds', () => {
  assert.equal(sniffKind(webp), 'webp');
  assert.equal(sniffKind(tiff), 'tiff');
  assert.deepEqual([...tiff.subarray(0, 4)], [0x49, 0x49, 0x2a, 0x00]); // sharp writes little-endian ('II')
  const bigEndian = Buffer.concat([Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8]), Buffer.alloc(32)]);
  assert.equal(sniffKind(bigEndian), 'tiff');
  const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.from([36, 0, 0, 0]), Buffer.from('WAVEfmt '), Buffer.alloc(24)]);
  assert.equal(sniffKind(wav), null);
  assert.equal(sniffKind(Buffer.from([0x49, 0x49, 0x2b, 0x00, 1, 2, 3])), null); // BigTIFF-like, not accepted
});

test('uploads: WebP and TIFF photos are accepted for cartoon apply; a name claiming another kind is 415', async () => {
  for (const [data, name, kind, ext] of [[webp, 'cat.webp', 'webp', '.webp'], [tiff, 'cat.tif', 'tiff', '.tif'], [tiff, 'cat.tiff', 'tiff', '.tif'], [webp, 'noext', 'webp', '.webp']] as const) {
    const r = await upload(data, name);
    const body = await r.json() as { upload: string; kind: string };
    assert.equal(r.status, 201, JSON.stringify(body));
    assert.equal(body.kind, kind);
    assert.ok(body.upload.endsWith(`-input${ext}`), body.upload);
  }
  const png = await sharp(FIXTURE).png().toBuffer();
  const wav = Buffer.concat([Buffer.from('RIFF'), Buffer.from([36, 0, 0, 0]), Buffer.from('WAVEfmt '), Buffer.alloc(24)]);
  for (const [data, name, msg] of [[png, 'x.webp', /named \.webp but its content is png/], [webp, 'x.tif', /named \.tif but its content is webp/],
    [tiff, 'x.png', /named \.png but its content is tiff/], [wav, 'x.webp', /content is none of/]] as const) {
    const r = await upload(data, name);
    const body = await r.json() as { error: string };
    assert.equal(r.status, 415, `${name}: ${JSON.stringify(body)}`);
    assert.match(body.error, /parameter 'input'/);
    assert.match(body.error, msg);
  }
});

test('cartoon apply reads an uploaded WebP and TIFF (sharp decodes both): cartoon and photo.png at the photo\'s size', async () => {
  for (const [data, name] of [[webp, 'cat.webp'], [tiff, 'cat.tiff']] as const) {
    const up = await (await upload(data, name)).json() as { upload: string };
    const r = await fetch(`${srv.url}/api/runs`, { method: 'POST', headers: headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ module: 'cartoon', command: 'apply', params: { classic: true }, uploads: { input: up.upload } }) });
    const { id } = await r.json() as { id: string };
    assert.equal(r.status, 201);
    let info: { status: string; active: boolean; error: string | null; files: string[]; summary: Record<string, number> | null };
    const deadline = Date.now() + 180_000;
    do {
      await new Promise((res) => setTimeout(res, 250));
      info = await (await fetch(`${srv.url}/api/runs/${id}`)).json() as typeof info;
    } while ((info.status === 'running' || info.active) && Date.now() < deadline);
    assert.equal(info.status, 'done', `${name}: ${info.error}`);
    assert.deepEqual([info.summary?.width, info.summary?.height], [96, 64]);
    for (const f of ['photo.png', 'cartoon.png']) {
      const img = Buffer.from(await (await fetch(`${srv.url}/api/runs/${id}/files/${f}`)).arrayBuffer());
      const m = await sharp(img).metadata();
      assert.deepEqual([m.format, m.width, m.height], ['png', 96, 64], `${name}: ${f}`);
    }
    // the photo the run read is the uploaded one (lossless WebP, TIFF): within rounding of the fixture
    const photo = await sharp(Buffer.from(await (await fetch(`${srv.url}/api/runs/${id}/files/photo.png`)).arrayBuffer())).removeAlpha().raw().toBuffer();
    const want = await sharp(FIXTURE).removeAlpha().raw().toBuffer();
    let err = 0;
    for (let i = 0; i < want.length; i++) err = Math.max(err, Math.abs(photo[i]! - want[i]!));
    assert.ok(err <= 1, `${name}: photo.png differs from the fixture by ${err}`);
  }
});
