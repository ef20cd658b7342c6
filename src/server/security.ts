// What keeps the dashboard answering only its own page (issue #26):
//  - Host: every request must name the address the server bound (127.0.0.1:PORT, localhost:PORT,
//    [::1]:PORT as fits the bound host). A DNS-rebinding page reaches us under its own name and is
//    refused, on every route, static files included.
//  - State-changing requests (any method but GET/HEAD under /api): Origin, when sent, must be this
//    server's own origin; Sec-Fetch-Site, when sent, must be same-origin or none; the per-server
//    token (X-Paperlab-Token, compared in constant time) must match; the body must be JSON
//    (Content-Type: application/json, which a cross-site page cannot send without a preflight we
//    never answer; an upload to /api/uploads is the one raw application/octet-stream body, with its own
//    size limit and content check: uploads.ts). The page gets the token from index.html (<meta name="paperlab-token">): only a
//    same-origin reader can see it. Refusals are 403 (415 for a wrong content type on an otherwise
//    good request) and happen before any body is read, so they create nothing.
//  - Files: run artifacts are served only when every path component below the run folder is a real
//    folder or a regular file (no symlinks, even ones pointing inside); web/ and vendor files only
//    when their real path stays in their folder.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TOKEN_HEADER = 'x-paperlab-token';
export const TOKEN_META = 'paperlab-token';

export function newToken(): string {
  return crypto.randomBytes(32).toString('base64url');
}

/** A constant-time check of a presented token against the server's (hashed first: equal lengths). */
export function tokenChecker(token: string): (presented: string | undefined) => boolean {
  const want = crypto.createHash('sha256').update(token).digest();
  return (presented) => presented !== undefined && crypto.timingSafeEqual(crypto.createHash('sha256').update(presented).digest(), want);
}

/** Host header values (lower case) under which a server bound to `host`:`port` may be reached. */
export function allowedHosts(host: string, port: number): string[] {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const bracket = (a: string) => (a.includes(':') ? `[${a}]` : a);
  let names: string[];
  if (h === '127.0.0.1') names = ['127.0.0.1', 'localhost'];
  else if (h === '::1') names = ['[::1]', 'localhost'];
  else if (h === 'localhost') names = ['localhost', '127.0.0.1', '[::1]'];
  else if (h === '0.0.0.0' || h === '::') {
    // every interface: the loopback names, this machine's name and each interface address
    const addrs = Object.values(os.networkInterfaces()).flatMap((l) => l ?? []).map((a) => a.address).filter((a) => !a.includes('%'));
    names = ['localhost', '127.0.0.1', '[::1]', os.hostname().toLowerCase(), ...addrs.map((a) => bracket(a.toLowerCase()))];
  } else names = [bracket(h)];
  return [...new Set(names.flatMap((n) => (port === 80 ? [`${n}:${port}`, n] : [`${n}:${port}`])))];
}

/** The media type of a Content-Type header, lower case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type SafeRead = { ok: true; data: Buffer; file: string } | { ok: false; status: 400 | 404 };

/**
 * Reads `rel` (a '/'-separated relative path) inside `dir` only if `dir` is a real folder and every
 * component below it is a real folder or, for the last, a regular file: a symlink anywhere (even one
 * pointing inside) is refused, and the final open does not follow one (O_NOFOLLOW).
 */
export function readRegularFileInside(dir: string, rel: string): SafeRead {
  if (!rel || rel.includes('\0') || rel.includes('\\') || rel.startsWith('/')) return { ok: false, status: 400 };
  const parts = rel.split('/');
  if (parts.some((p) => p === '' || p === '.' || p === '..')) return { ok: false, status: 400 };
  const top = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (!top?.isDirectory()) return { ok: false, status: 404 };
  let cur = dir;
  for (let i = 0; i < parts.length; i++) {
    cur = path.join(cur, parts[i]!);
    const st = fs.lstatSync(cur, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) return { ok: false, status: 404 };
    if (i < parts.length - 1 ? !st.isDirectory() : !st.isFile()) return { ok: false, status: 404 };
  }
  let fd: number;
  try { fd = fs.openSync(cur, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW); } catch { return { ok: false, status: 404 }; }
  try {
    if (!fs.fstatSync(fd).isFile()) return { ok: false, status: 404 };
    return { ok: true, data: fs.readFileSync(fd), file: cur };
  } finally {
    fs.closeSync(fd);
  }
}

/** The real path of `file` if it is a regular file whose real path lies inside `dir`'s real path, else null. */
export function realFileInside(dir: string, file: string): string | null {
  try {
    const d = fs.realpathSync(dir);
    const real = fs.realpathSync(file);
    if (!real.startsWith(d + path.sep)) return null;
    return fs.statSync(real).isFile() ? real : null;
  } catch {
    return null;
  }
}
