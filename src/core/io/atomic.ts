// Atomic file writes: write a temp file beside the target, fsync, rename. A run killed mid-write
// leaves either the old file or the new one, never half of one; a write that fails (a full disk, a
// read-only store) removes its temp file and throws one error naming the path.
import fs from 'node:fs';
import path from 'node:path';
import { fileError, readFileError, parseJson } from '../errors.ts';

let counter = 0;

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp-${process.pid}-${counter++}`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(tmp, 'w');
    try {
      writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (e) {
    try { fs.rmSync(tmp, { force: true }); } catch { /* the store may be read-only: nothing was made */ }
    throw fileError(file, 'write', e);
  }
}

/** write(2) may write less than asked when the disk fills: go on until all is written or it fails. */
function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length;) {
    const n = fs.writeSync(fd, data, off, data.length - off);
    if (n <= 0) throw Object.assign(new Error('short write'), { code: 'EIO' });
    off += n;
  }
}

export function writeJsonAtomic(file: string, value: unknown): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n');
}

/**
 * Appends text to a file, all or nothing: a failed append (a full disk) cuts the file back to its
 * length before, so a metrics table never keeps half a row.
 */
export function appendAtomic(file: string, text: string): void {
  let fd: number | undefined;
  let size = 0;
  try {
    fd = fs.openSync(file, 'a');
    size = fs.fstatSync(fd).size;
    writeAll(fd, Buffer.from(text));
  } catch (e) {
    if (fd !== undefined) { try { fs.ftruncateSync(fd, size); } catch { /* nothing more to undo */ } }
    throw fileError(file, 'append to', e);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Reads and parses a JSON file; errors name the file (NotFoundError when missing, InputFileError when unreadable or not JSON). */
export function readJson<T = unknown>(file: string): T {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw readFileError(file, e);
  }
  return parseJson<T>(text, file);
}
