// Module-resolution hook for record-imports.mjs (runs on node's loader thread).
import fs from 'node:fs';

export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (process.env.PAPERLAB_IMPORT_LOG) fs.appendFileSync(process.env.PAPERLAB_IMPORT_LOG, `${r.url}\n`);
  return r;
}
