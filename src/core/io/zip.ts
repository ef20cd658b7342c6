// Zip archives as torch.save writes them (PyTorch's miniz writer: records stored uncompressed and
// 64-byte aligned, zip64 for large files): the central directory is read and each stored record is
// returned as a view of the input, without copying (fflate's unzipSync copied 72 MB in 1.6 s);
// deflated records are inflated with fflate, bounded against zip bombs. Errors name the file.
import { inflateSync } from 'fflate';
import { InputFileError } from '../errors.ts';

/** Compressed records may expand this much at most (torch.save stores them uncompressed). */
const MAX_EXPANSION = 64;

export function readZip(input: Uint8Array, file: string): Record<string, Uint8Array> {
  const b = new Uint8Array(input.buffer, input.byteOffset, input.byteLength); // (a Buffer's slice() would be a view)
  const fail = (what: string): never => { throw new InputFileError(`${file}: the zip archive is truncated or corrupt (${what})`, { file }); };
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (o: number) => (o + 2 <= b.byteLength ? dv.getUint16(o, true) : fail(`read past the end at ${o}`));
  const u32 = (o: number) => (o + 4 <= b.byteLength ? dv.getUint32(o, true) : fail(`read past the end at ${o}`));
  const u64 = (o: number) => {
    const v = o + 8 <= b.byteLength ? dv.getBigUint64(o, true) : fail(`read past the end at ${o}`);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? fail('a zip64 size is absurd') : Number(v);
  };
  // end of central directory: the last PK\5\6 within 64 KiB + 22 bytes of the end
  let eocd = -1;
  for (let o = b.byteLength - 22; o >= Math.max(0, b.byteLength - 22 - 0xffff); o--) {
    if (dv.getUint32(o, true) === 0x06054b50) { eocd = o; break; }
  }
  if (eocd < 0) fail('no end-of-central-directory record');
  let count = u16(eocd + 10), cdOffset = u32(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || u32(loc) !== 0x07064b50) fail('no zip64 locator');
    const z = u64(loc + 8);
    if (u32(z) !== 0x06064b50) fail('no zip64 end-of-central-directory record');
    count = u64(z + 32);
    cdOffset = u64(z + 48);
  }
  const out: Record<string, Uint8Array> = {};
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (u32(p) !== 0x02014b50) fail(`central directory entry ${i} has a bad signature`);
    const method = u16(p + 10), nameLen = u16(p + 28), extraLen = u16(p + 30), commentLen = u16(p + 32);
    let csize = u32(p + 20), usize = u32(p + 24), local = u32(p + 42);
    if (p + 46 + nameLen > b.byteLength) fail(`central directory entry ${i} runs past the end`);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
    // zip64 extra field (id 1): the fields that are 0xffffffff above, in order usize, csize, offset
    for (let e = p + 46 + nameLen; e + 4 <= p + 46 + nameLen + extraLen;) {
      const id = u16(e), len = u16(e + 2);
      if (id === 1) {
        let q = e + 4;
        if (usize === 0xffffffff) { usize = u64(q); q += 8; }
        if (csize === 0xffffffff) { csize = u64(q); q += 8; }
        if (local === 0xffffffff) local = u64(q);
      }
      e += 4 + len;
    }
    if (u32(local) !== 0x04034b50) fail(`record ${name.slice(0, 100)} has no local header`);
    const start = local + 30 + u16(local + 26) + u16(local + 28);
    if (start + csize > b.byteLength) fail(`record ${name.slice(0, 100)} runs past the end`);
    const data = b.subarray(start, start + csize);
    if (method === 0) {
      out[name] = data;
    } else if (method === 8) {
      if (usize > MAX_EXPANSION * csize + (1 << 20)) {
        throw new InputFileError(`${file}: record ${name.slice(0, 100)} would expand ${csize} bytes to ${usize}; not loaded`, { file });
      }
      try { out[name] = inflateSync(data, { out: new Uint8Array(usize) }); } catch (e) { fail(`record ${name.slice(0, 100)}: ${(e as Error).message}`); }
    } else {
      fail(`record ${name.slice(0, 100)} uses compression method ${method}`);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}
