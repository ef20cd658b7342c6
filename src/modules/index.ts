// Module discovery: every src/modules/<name>/index.ts registers itself when imported. Surfaces
// call loadModules() and then ask the registry; no surface names a module.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
// '.ts' from src/ (tsx), '.js' from the compiled dist/: module entry files have the same extension.
const INDEX = 'index' + path.extname(fileURLToPath(import.meta.url));
const loaded = new Set<string>();

/** Module folder names present (whether loaded or not). */
export function moduleNames(): string[] {
  return fs.readdirSync(here, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(here, e.name, INDEX)))
    .map((e) => e.name)
    .sort();
}

/** Modules that failed to load, with the reason (the others still work). */
export const loadErrors = new Map<string, string>();

/**
 * Imports module folders (all, or only `only`) so they register. Idempotent. A module that fails
 * to load is reported (loadErrors, and on stderr when `warn`) and skipped; when it was named in
 * `only`, the error is thrown.
 */
export async function loadModules(only?: string[], warn = true): Promise<void> {
  for (const name of moduleNames()) {
    if (only && !only.includes(name)) continue;
    if (loaded.has(name)) continue;
    loaded.add(name);
    try {
      await import(pathToFileURL(path.join(here, name, INDEX)).href);
    } catch (e) {
      const msg = (e as Error)?.message ?? String(e);
      loadErrors.set(name, msg);
      if (only) throw new Error(`module '${name}' failed to load: ${msg}`);
      if (warn) process.stderr.write(`paperlab: module '${name}' failed to load and is skipped: ${msg}\n`);
    }
  }
}
