// `node --import ./test/helpers/record-imports.mjs …`: appends the URL of every module the process
// resolves (ESM imports, tsx included) to the file named by $PAPERLAB_IMPORT_LOG, and every native
// library it opens (process.dlopen: our libtorch addon, sharp, DuckDB, SQLite) as `dlopen <file>`.
// Used to check what a command loads without running it (test/core/lazy.test.ts).
import fs from 'node:fs';
import { register } from 'node:module';

const log = process.env.PAPERLAB_IMPORT_LOG;
if (log) {
  register('./record-imports-hooks.mjs', import.meta.url);
  const dlopen = process.dlopen;
  process.dlopen = function (module, file, ...rest) {
    fs.appendFileSync(log, `dlopen ${file}\n`);
    return dlopen.call(this, module, file, ...rest);
  };
}
