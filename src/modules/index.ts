// Module discovery. Each src/modules/<name>/commands.ts registers the module's commands (zod
// schemas, descriptions, and a `run` that imports the implementation only when the command runs),
// so listing modules, --help and the dashboard's forms load no engine (libtorch, DuckDB, sharp,
// vega). Surfaces call loadModules() and then ask the registry; no surface names a module.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const self = fileURLToPath(import.meta.url);
const here = path.dirname(self);
/** '.ts' from source (tsx), '.js' from the compiled package. */
const ext = path.extname(self);
const loaded = new Set<string>();

/** The file that registers module `name`: commands.<ext>. */
function entry(name: string): string | null {
  const f = path.join(here, name, `commands${ext}`);
  return fs.existsSync(f) ? f : null;
}

/** Module folder names present (whether loaded or not). */
export function moduleNames(): string[] {
  return fs.readdirSync(here, { withFileTypes: true })
    .filter((e) => e.isDirectory() && entry(e.name) !== null)
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
      await import(pathToFileURL(entry(name)!).href);
    } catch (e) {
      const msg = (e as Error)?.message ?? String(e);
      loadErrors.set(name, msg);
      if (only) throw new Error(`module '${name}' failed to load: ${msg}`);
      if (warn) process.stderr.write(`paperlab: module '${name}' failed to load and is skipped: ${msg}\n`);
    }
  }
}
