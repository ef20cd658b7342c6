// Module discovery: every src/modules/<name>/index.ts registers itself when imported. Surfaces
// call loadModules() and then ask the registry; no surface names a module.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const loaded = new Set<string>();

/** Module folder names present (whether loaded or not). */
export function moduleNames(): string[] {
  return fs.readdirSync(here, { withFileTypes: true })
    .filter((e) => e.isDirectory() && fs.existsSync(path.join(here, e.name, 'index.ts')))
    .map((e) => e.name)
    .sort();
}

/** Imports module folders (all, or only `only`) so they register. Idempotent. */
export async function loadModules(only?: string[]): Promise<void> {
  for (const name of moduleNames()) {
    if (only && !only.includes(name)) continue;
    if (loaded.has(name)) continue;
    loaded.add(name);
    await import(pathToFileURL(path.join(here, name, 'index.ts')).href);
  }
}
