// Browser uploads for path parameters marked .meta({ path: 'input' }), and the run-table actions
// (tags/notes, delete). An upload is a raw body (application/octet-stream) to
// POST /api/uploads?module=&command=&param=&name=: size-limited (413), its type checked by content
// (magic bytes; 415 naming the parameter when the content is none of the known kinds or not the
// kind its name claims), staged in <store>/.uploads/ under a name the server chooses. The client's
// file name is only shown (sanitised), never used as a path. POST /api/runs with
// `uploads: { <param>: <upload id> }` moves the staged file into the new run's inputs/ folder and
// points the parameter at it (RunStore.create).
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { Hono, Env } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCommand, describeParams } from '../core/registry.ts';
import type { RunStore } from '../core/runs.ts';
import { UsageError, NotFoundError } from '../core/errors.ts';
import { isPlainObject } from './security.ts';

export const UPLOAD_ROUTE = '/api/uploads';
export const UPLOADS = '.uploads';
export const DEFAULT_MAX_UPLOAD = 64 * 1024 * 1024;

export type FileKind = 'png' | 'jpeg' | 'webp' | 'tiff' | 'hdf5' | 'nifti' | 'nifti-gz' | 'mha' | 'csv' | 'json' | 'safetensors' | 'zip';
const EXT_OF: Record<FileKind, string> = {
  png: '.png', jpeg: '.jpg', webp: '.webp', tiff: '.tif', hdf5: '.h5', nifti: '.nii', 'nifti-gz': '.nii.gz', mha: '.mha', csv: '.csv', json: '.json', safetensors: '.safetensors', zip: '.zip',
};
// What a file's name claims (longest suffix first): a claim the content contradicts is refused.
const CLAIMS: [string, FileKind[]][] = [
  ['.nii.gz', ['nifti-gz']], ['.png', ['png']], ['.jpg', ['jpeg']], ['.jpeg', ['jpeg']], ['.webp', ['webp']], ['.tif', ['tiff']], ['.tiff', ['tiff']], ['.h5', ['hdf5']], ['.hdf5', ['hdf5']],
  ['.nii', ['nifti']], ['.mha', ['mha']], ['.mhd', ['mha']], ['.csv', ['csv']], ['.json', ['json']], ['.safetensors', ['safetensors']],
  ['.pth', ['zip']], ['.pt', ['zip']], ['.zip', ['zip']],
];

const isNiftiHeader = (b: Buffer) => b.length >= 348 && (b.readInt32LE(0) === 348 || b.readInt32BE(0) === 348)
  && ['n+1\0', 'ni1\0'].includes(b.subarray(344, 348).toString('latin1'));

/** The kind of a file from its first bytes, or null when it is none of the kinds uploads accept. */
export function sniffKind(b: Buffer): FileKind | null {
  const starts = (sig: number[], at = 0) => sig.every((x, i) => b[at + i] === x);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  // WebP: a RIFF container ('RIFF', little-endian size, 'WEBP'); TIFF: byte order 'II' or 'MM' then 42
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  if (starts([0x49, 0x49, 0x2a, 0x00]) || starts([0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  const hdf = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
  if ([0, 512, 1024, 2048].some((at) => starts(hdf, at))) return 'hdf5';
  if (starts([0x50, 0x4b, 0x03, 0x04])) return 'zip';
  if (isNiftiHeader(b)) return 'nifti';
  if (starts([0x1f, 0x8b])) {
    let head: Buffer;
    try { head = zlib.gunzipSync(b.subarray(0, 4096), { finishFlush: zlib.constants.Z_SYNC_FLUSH }); } catch { return null; }
    return isNiftiHeader(head) ? 'nifti-gz' : null;
  }
  if (b.length > 10) {
    const n = Number(b.readBigUInt64LE(0));
    if (n > 1 && 8 + n <= b.length && b[8] === 0x7b) {
      try { if (isPlainObject(JSON.parse(b.subarray(8, 8 + n).toString('utf8')))) return 'safetensors'; } catch { /* not safetensors */ }
    }
  }
  return sniffText(b);
}

function sniffText(b: Buffer): FileKind | null {
  // MetaImage: a text header of `Key = value` lines (ObjectType / NDims first) before the raw data.
  if (/^(ObjectType|NDims)\s*=/.test(b.subarray(0, 64).toString('latin1'))) return 'mha';
  if (b.length === 0 || b.includes(0)) return null;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(b.subarray(0, 1 << 16), { stream: true }); // a character cut at the end is not an error
  if (text.includes('\uFFFD')) return null;
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) { try { JSON.parse(b.toString('utf8')); return 'json'; } catch { return null; } }
  // CSV: text without control characters but tabs and line ends
  const controls = [...t.slice(0, 4096)].some((ch) => ch.charCodeAt(0) < 32 && !'\t\r\n'.includes(ch));
  return controls ? null : 'csv';
}

/** The name shown for an upload: the last component, printable, at most 100 characters. */
export function displayName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const clean = base.replace(/[^\w.\- ()]+/g, '_').replace(/^\.+/, '').slice(0, 100);
  return clean || 'upload';
}

/** The path parameters a command takes as input files (not lists, not 'scheme:<path>' values). */
function uploadable(module: string, command: string): Set<string> {
  return new Set(describeParams(getCommand(module, command)).filter((p) => p.path === 'input' && !p.pathList && !p.pathSchemes).map((p) => p.name));
}

const STALE_MS = 24 * 3600 * 1000;
/** Staged uploads no run took within a day are removed when the server starts. */
function sweepStale(staging: string): void {
  let names: string[];
  try { names = fs.readdirSync(staging); } catch { return; }
  for (const n of names) {
    const f = path.join(staging, n);
    try { if (Date.now() - fs.lstatSync(f).mtimeMs > STALE_MS) fs.rmSync(f, { force: true }); } catch { /* read-only store: kept */ }
  }
}

export function registerUploadRoutes<E extends Env>(app: Hono<E>, store: RunStore, maxUpload: number): void {
  const staging = path.join(store.root, UPLOADS);
  sweepStale(staging);
  app.post(UPLOAD_ROUTE, bodyLimit({ maxSize: maxUpload, onError: (c) => c.json({ error: `upload over ${maxUpload} bytes` }, 413) }), async (c) => {
    const q = c.req.query();
    if (!q.module || !q.command || !q.param) return c.json({ error: 'give module, command and param in the query' }, 400);
    if (!uploadable(q.module, q.command).has(q.param)) return c.json({ error: `parameter '${q.param}' of ${q.module} ${q.command} takes no file` }, 400);
    const data = Buffer.from(await c.req.arrayBuffer());
    const name = displayName(q.name ?? '');
    const kind = sniffKind(data);
    if (!kind) return c.json({ error: `parameter '${q.param}': the file's content is none of ${Object.keys(EXT_OF).join(', ')}` }, 415);
    const lower = name.toLowerCase();
    const claim = CLAIMS.find(([ext]) => lower.endsWith(ext));
    if (claim && !claim[1].includes(kind)) return c.json({ error: `parameter '${q.param}': the file is named ${claim[0]} but its content is ${kind}` }, 415);
    fs.mkdirSync(staging, { recursive: true });
    const id = `${crypto.randomBytes(16).toString('hex')}-${q.param.replace(/[^\w-]/g, '_')}${EXT_OF[kind]}`;
    fs.writeFileSync(path.join(staging, id), data, { flag: 'wx' });
    return c.json({ upload: id, name, kind, bytes: data.length }, 201);
  });
}

/** The form of an upload id (the name the server gave a staged file). */
export const UPLOAD_ID = /^[0-9a-f]{32}-[\w-]+(\.[a-z]+){1,2}$/;

/**
 * The staged files a new run takes (POST /api/runs body.uploads): parameter -> staged file. Each
 * parameter must be an input path of the command and each id a staged upload of this store.
 */
export function stagedInputs(store: RunStore, module: string, command: string, uploads: unknown): Record<string, string> {
  if (uploads === undefined) return {};
  if (!isPlainObject(uploads)) throw new UsageError('uploads must be a JSON object {parameter: upload id}');
  const allowed = uploadable(module, command);
  const out: Record<string, string> = {};
  for (const [param, id] of Object.entries(uploads)) {
    if (!allowed.has(param)) throw new UsageError(`parameter '${param}' of ${module} ${command} takes no file`);
    if (typeof id !== 'string' || !UPLOAD_ID.test(id)) throw new UsageError(`parameter '${param}': bad upload id`);
    const file = path.join(store.root, UPLOADS, id);
    if (!fs.lstatSync(file, { throwIfNoEntry: false })?.isFile()) throw new NotFoundError(`parameter '${param}': no upload '${id}' (upload it again)`);
    out[param] = file;
  }
  return out;
}
