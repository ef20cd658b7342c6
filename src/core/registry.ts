// The module registry: every module registers its commands here with a zod parameter schema.
// The CLI, the server API and the dashboard are generated from it; no surface imports a module.
import { z } from 'zod';
import type { RunContext } from './context.ts';
import type { KeyMap } from './io/keymap.ts';
import { UsageError, NotFoundError } from './errors.ts';

export { UsageError, NotFoundError };

export type ParamSchema = z.ZodObject<z.ZodRawShape>;

/**
 * How the dashboard plots one column of a command's metrics table: plain data, declared next to the
 * command in commands.ts/config.ts (listing must not load the implementation).
 */
export interface MetricSpec {
  /** the column of the metrics table */
  name: string;
  /** the metrics table that holds the column (ctx.metrics.log(row, table)); default "metrics" */
  table?: string;
  /** human-readable axis title, e.g. "sharpness λ₁" */
  label: string;
  unit?: string;
  /** the column plotted on x: 'step', 'epoch', 'time', 'eta' or another column of the same table */
  x: 'step' | 'epoch' | 'time' | 'eta' | (string & {});
  scale: 'linear' | 'log';
  /** metrics with the same group share one panel (default: the metric's own name) */
  group?: string;
  /** the column(s) whose values split the rows into separate lines (e.g. 'run', 'eta', ['method', 'run']) */
  series?: string | readonly string[];
  /** a horizontal reference line y = numerator / <column of the row> or / <parameter> (e.g. 2/η) */
  reference?: { label: string; numerator: number; column?: string; param?: string };
}

const metricSpec = z.object({
  name: z.string().min(1), table: z.string().regex(/^[a-z0-9_-]+$/i).optional(), label: z.string().min(1), unit: z.string().optional(),
  x: z.string().min(1), scale: z.enum(['linear', 'log']), group: z.string().optional(), series: z.union([z.string(), z.array(z.string())]).optional(),
  reference: z.object({ label: z.string(), numerator: z.number(), column: z.string().optional(), param: z.string().optional() }).strict().optional(),
}).strict();

/** What a preview may use (the dashboard's preview worker sets it). */
export interface PreviewContext {
  /** the largest preview image, in pixels (PreviewSpec.maxPixels) */
  maxPixels: number;
}

/**
 * A live preview of a command on one input file, for the dashboard's controls (POST
 * /api/preview/<module>/<command>): rendered at a bounded size in one long-lived worker, no run
 * created. Declared in commands.ts next to the command; `render` imports the implementation.
 */
export interface PreviewSpec<S extends ParamSchema = ParamSchema> {
  /** the input path parameter the server fills with a file it chose (a staged upload, or `runFile` of a run); never a client's path */
  input: keyof z.infer<S> & string;
  /** the file in a finished run's folder that holds that input as the run read it (e.g. 'photo.png') */
  runFile: string;
  /** pixel budget of a preview image */
  maxPixels: number;
  /** the preview as PNG bytes; params are validated by the command's schema */
  render(params: z.infer<S>, ctx: PreviewContext): Promise<Uint8Array>;
}

export interface CommandSpec<S extends ParamSchema = ParamSchema> {
  /** kebab-case command name: `paperlab <module> <name>` */
  name: string;
  /** one line for --help and the dashboard */
  description: string;
  /**
   * parameters with defaults; `.describe()` texts become help texts. A parameter that names a file
   * or folder says so with `.meta({ path: 'input' | 'output' })` (see src/core/paths.ts): the
   * dashboard confines such paths to the folders it may read and write.
   */
  params: S;
  /** parameters that may be given positionally on the CLI, in order (e.g. an input file) */
  positional?: (keyof z.infer<S> & string)[];
  /** the command can continue from its last checkpoint (ctx.checkpoints.latest()) */
  resumable?: boolean;
  /** small enough to run in seconds with the defaults: the dashboard's embedded defaults */
  quick?: boolean;
  /** the columns of its metrics tables worth a panel on the run page and in compare */
  metrics?: readonly MetricSpec[];
  /** a live preview of the command on one input (the dashboard's controls) */
  preview?: PreviewSpec<S>;
  /** the work. Whatever it returns (a JSON-able object) is stored as the run's summary. */
  run(params: z.infer<S>, ctx: RunContext): Promise<Record<string, unknown> | void> | Record<string, unknown> | void;
}

export interface ModuleSpec {
  /** kebab-case module name, as in `paperlab <module>` */
  name: string;
  title: string;
  description: string;
  /** the paper(s) the module implements */
  papers?: string[];
  commands: CommandSpec<any>[];
  /** the CLI also offers these commands at the top level (`paperlab convert` ≡ `paperlab tools convert`) */
  topLevel?: boolean;
  /**
   * key-mapping tables from official implementations' weight names to this module's (imported
   * when asked for: `paperlab convert --map <module>/<table>`, the module's own loaders)
   */
  weightMaps?: () => Promise<readonly KeyMap[]>;
}

/** Typed helper so that `run` sees the schema's inferred parameter type. */
export function defineCommand<S extends ParamSchema>(spec: CommandSpec<S>): CommandSpec<S> {
  return spec;
}

const NAME = /^[a-z][a-z0-9-]*$/;
/** Options every command has (CLI globals): parameters may not use these names. */
export const RESERVED = ['seed', 'out', 'threads', 'json', 'events', 'quiet', 'help'];
const modules = new Map<string, ModuleSpec>();

export function registerModule(spec: ModuleSpec): void {
  if (!NAME.test(spec.name)) throw new Error(`module name '${spec.name}' must be kebab-case`);
  if (modules.has(spec.name)) throw new Error(`module '${spec.name}' is registered twice`);
  const seen = new Set<string>();
  for (const c of spec.commands) {
    if (!NAME.test(c.name)) throw new Error(`${spec.name}: command name '${c.name}' must be kebab-case`);
    if (seen.has(c.name)) throw new Error(`${spec.name}: command '${c.name}' is registered twice`);
    seen.add(c.name);
    for (const p of Object.keys(c.params.shape)) {
      if (RESERVED.includes(p)) throw new Error(`${spec.name} ${c.name}: parameter '${p}' clashes with the global option --${p}; rename it`);
    }
    for (const p of c.positional ?? []) {
      if (!(p in c.params.shape)) throw new Error(`${spec.name} ${c.name}: positional '${p}' is not a parameter`);
    }
    checkMetrics(spec.name, c);
    if (c.preview && !(c.preview.input in c.params.shape)) throw new Error(`${spec.name} ${c.name}: preview input '${c.preview.input}' is not a parameter`);
  }
  modules.set(spec.name, spec);
}

function checkMetrics(mod: string, c: CommandSpec): void {
  const seen = new Set<string>();
  for (const m of c.metrics ?? []) {
    const r = metricSpec.safeParse(m);
    if (!r.success) throw new Error(`${mod} ${c.name}: metric '${m.name}': ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const key = `${m.table ?? 'metrics'}.${m.name}`;
    if (seen.has(key)) throw new Error(`${mod} ${c.name}: metric '${key}' is declared twice`);
    seen.add(key);
    const param = m.reference?.param;
    if (param !== undefined && !(param in c.params.shape)) throw new Error(`${mod} ${c.name}: metric '${m.name}': reference parameter '${param}' is not a parameter`);
  }
}

/** A command's metric declarations with the defaults filled in (table 'metrics', group = name). */
export function describeMetrics(c: CommandSpec): (MetricSpec & { table: string; group: string })[] {
  return (c.metrics ?? []).map((m) => ({ ...m, table: m.table ?? 'metrics', group: m.group ?? m.name }));
}

/** A module's key map '<table>' (for `--map <module>/<table>`); errors list the tables there are. */
export async function getWeightMap(ref: string): Promise<KeyMap> {
  const [mod, table] = ref.split('/');
  const maps = mod && modules.has(mod) ? await modules.get(mod)!.weightMaps?.() ?? [] : [];
  const hit = maps.find((m) => m.name === table);
  if (hit) return hit;
  const all: string[] = [];
  for (const m of modules.values()) for (const t of await m.weightMaps?.() ?? []) all.push(`${m.name}/${t.name}`);
  throw new UsageError(`unknown key map '${ref}'. Key maps: ${all.join(', ') || '(none)'}`);
}

export function listModules(): ModuleSpec[] {
  return [...modules.values()];
}

export function getModule(name: string): ModuleSpec {
  const m = modules.get(name);
  if (!m) {
    throw new NotFoundError(`unknown module '${name}'. Valid modules: ${[...modules.keys()].join(', ') || '(none)'}`);
  }
  return m;
}

export function getCommand(module: string, command: string): CommandSpec {
  const m = getModule(module);
  const c = m.commands.find((x) => x.name === command);
  if (!c) {
    throw new NotFoundError(`unknown command '${command}' for module '${module}'. Valid commands: ${m.commands.map((x) => x.name).join(', ')}`);
  }
  return c;
}

/**
 * Validates raw parameters (from CLI flags, a web form or JSON) against a command's schema.
 * Unknown parameters are rejected with the list of valid ones.
 */
export function validateParams(cmd: CommandSpec, raw: Record<string, unknown>, where = `${cmd.name}`): Record<string, unknown> {
  const known = Object.keys(cmd.params.shape);
  for (const k of Object.keys(raw)) {
    if (!known.includes(k)) {
      throw new UsageError(`${where}: unknown parameter '${k}'. Valid parameters: ${known.join(', ') || '(none)'}`);
    }
  }
  const r = cmd.params.strict().safeParse(raw);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => `parameter '${i.path.join('.') || '?'}': ${i.message}`);
    throw new UsageError(`${where}: ${msgs.join('; ')}`);
  }
  return r.data as Record<string, unknown>;
}

export interface ParamInfo {
  name: string;
  type: 'number' | 'integer' | 'string' | 'boolean' | 'array' | 'object' | 'unknown';
  itemType?: string;
  description?: string;
  default?: unknown;
  choices?: unknown[];
  /** array parameters: the values each item may take */
  itemChoices?: unknown[];
  /** a number that may also be one of these words (e.g. 'auto') */
  keywords?: string[];
  /** null is a valid value (given as `null` on the command line) */
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  required: boolean;
  /** the parameter names a file or folder the command reads ('input') or writes ('output') */
  path?: 'input' | 'output';
  /** path: the value is a comma-separated list of paths */
  pathList?: boolean;
  /** path: 'scheme:<path>' values, the path after the scheme (e.g. 'ntu:<folder>') */
  pathSchemes?: string[];
  /** path: values matching this regular expression are not paths (e.g. 'synthetic') */
  notPath?: string;
}

/** JSON Schema of a command's parameters (what the server and the dashboard form use). */
export function paramsJsonSchema(cmd: CommandSpec): Record<string, unknown> {
  return z.toJSONSchema(cmd.params, { unrepresentable: 'any', io: 'input' }) as Record<string, unknown>;
}

/** A flat description of each parameter, for help texts and forms. */
export function describeParams(cmd: CommandSpec): ParamInfo[] {
  const js = paramsJsonSchema(cmd) as { properties?: Record<string, any>; required?: string[] };
  const out: ParamInfo[] = [];
  for (const [name, p0] of Object.entries(js.properties ?? {})) {
    const { branches, nullable } = flatten(p0);
    const p = branches.find((b) => b.const === undefined) ?? branches[0] ?? {};
    const consts = branches.filter((b) => b.const !== undefined).map((b) => b.const);
    const info: ParamInfo = {
      name,
      type: typeOf(p),
      description: p0.description ?? p.description,
      default: p0.default ?? p.default,
      required: (js.required ?? []).includes(name) && p0.default === undefined,
      ...pathMeta(p0, p),
    };
    if (nullable) info.nullable = true;
    if (p.items) {
      const items = flatten(p.items).branches[0] ?? {};
      info.itemType = typeOf(items);
      if (items.enum) info.itemChoices = items.enum;
    }
    if (p.enum) info.choices = p.enum;
    else if (consts.length && branches.length === consts.length) info.choices = consts;
    else if (consts.length) info.keywords = consts.map(String);
    const min = p.minimum ?? p.exclusiveMinimum, max = p.maximum ?? p.exclusiveMaximum;
    // zod's .int() says ±MAX_SAFE_INTEGER: not a bound a user set.
    if (min !== undefined && min !== Number.MIN_SAFE_INTEGER) info.minimum = min;
    if (max !== undefined && max !== Number.MAX_SAFE_INTEGER) info.maximum = max;
    out.push(info);
  }
  return out;
}

/**
 * The alternatives of a JSON-schema property with `null` taken out: zod writes a nullable as
 * `type: [T, "null"]` or `anyOf: [{…}, {type: "null"}]`, a union as `anyOf`, a literal as `const`.
 */
function flatten(p: Record<string, any>): { branches: Record<string, any>[]; nullable: boolean } {
  let nullable = false;
  const branches: Record<string, any>[] = [];
  const visit = (q: Record<string, any>) => {
    if (Array.isArray(q.anyOf ?? q.oneOf)) { for (const b of q.anyOf ?? q.oneOf) visit(b); return; }
    if (Array.isArray(q.type)) {
      const types = (q.type as string[]).filter((t) => t !== 'null');
      if (types.length < q.type.length) nullable = true;
      for (const t of types) branches.push({ ...q, type: t });
      return;
    }
    if (q.type === 'null') { nullable = true; return; }
    branches.push(q);
  };
  visit(p);
  // A number-or-keyword union ("auto") is a number for forms and the CLI; zod still validates.
  branches.sort((a, b) => Number(a.const !== undefined) - Number(b.const !== undefined));
  return { branches, nullable };
}

function typeOf(p: Record<string, any>): ParamInfo['type'] {
  return (['number', 'integer', 'string', 'boolean', 'array', 'object'].includes(p.type) ? p.type : 'unknown') as ParamInfo['type'];
}

function pathMeta(...ps: Record<string, any>[]): Pick<ParamInfo, 'path' | 'pathList' | 'pathSchemes' | 'notPath'> {
  const get = (k: string) => ps.map((p) => p[k]).find((v) => v !== undefined);
  const kind = get('path');
  if (kind === undefined) return {};
  if (kind !== 'input' && kind !== 'output') throw new Error(`parameter meta 'path' must be 'input' or 'output', got '${kind}'`);
  const out: ReturnType<typeof pathMeta> = { path: kind };
  if (get('pathList')) out.pathList = true;
  if (get('pathSchemes')) out.pathSchemes = get('pathSchemes');
  if (get('notPath')) out.notPath = get('notPath');
  return out;
}
