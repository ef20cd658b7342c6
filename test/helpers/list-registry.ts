// Loads every module's registration and describes every command (what `paperlab list --json`,
// --help and the dashboard's forms need), printing the result as JSON. Run under
// test/helpers/record-imports.mjs to see what that loads.
import { loadModules, moduleNames, loadErrors } from '../../src/modules/index.ts';
import { listModules, describeParams, paramsJsonSchema } from '../../src/core/registry.ts';

await loadModules(undefined, false);
const modules = listModules().map((m) => ({
  name: m.name,
  commands: m.commands.map((c) => ({ name: c.name, params: describeParams(c), schema: paramsJsonSchema(c) })),
}));
process.stdout.write(JSON.stringify({ names: moduleNames(), errors: Object.fromEntries(loadErrors), modules }));
