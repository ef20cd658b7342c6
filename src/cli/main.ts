// `paperlab`: the CLI, generated from the module registry. No module is named here.
import fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { loadModules, moduleNames } from '../modules/index.ts';
import { listModules, getModule, describeParams, describeMetrics, type CommandSpec, type ModuleSpec } from '../core/registry.ts';
import type { ProgressFactory, RunEvent } from '../core/runner.ts';
import type { RunStatus } from '../core/runs.ts';
import type { Progress } from '../core/context.ts';
import { parseValue, placeholder } from './params.ts';

// Listing, --help and --version load no engine: the runner (libtorch) and the run store (SQLite)
// are imported when a command runs or a run is looked up.
const runner = () => import('../core/runner.ts');
async function openStore(out?: string) {
  const { RunStore, defaultRoot } = await import('../core/runs.ts');
  return new RunStore(out ?? defaultRoot());
}
import { PaperlabError, NotFoundError, RunInterrupted, UsageError, exitCodeOf } from '../core/errors.ts';

const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/_/g, '-').toLowerCase();

interface GlobalOpts { seed: string; out?: string; threads?: string; device?: string; json?: boolean; events?: boolean; quiet?: boolean }

function addGlobal(c: Command): Command {
  return c
    .option('--seed <n>', 'random seed (data, init, dropout)', '0')
    .option('--out <dir>', 'run store folder (default $PAPERLAB_HOME or ./runs)')
    .option('--threads <n>', 'CPU threads for libtorch and OpenBLAS')
    .option('--device <d>', 'cpu, cuda, cuda:N or auto (CUDA when present; default $PAPERLAB_DEVICE or auto)')
    .option('--nproc <n>', 'data-parallel worker processes on this machine (like torchrun --nproc-per-node; default 1)')
    .option('--json', 'print the run summary as JSON')
    .option('--events', 'stream run events as JSON lines on stdout (for the dashboard)')
    .option('--quiet', 'no progress bars or log lines');
}

function barFactory(quiet: boolean): ProgressFactory | undefined {
  if (quiet) return undefined;
  if (process.stderr.isTTY) {
    const multi = new cliProgress.MultiBar({
      stream: process.stderr, clearOnComplete: false, hideCursor: true,
      format: ' {label} |{bar}| {percentage}% {value}/{total} eta {eta_formatted} {info}',
    }, cliProgress.Presets.shades_classic);
    return {
      create(total, label): Progress {
        const b = multi.create(total, 0, { label, info: '' });
        const fmt = (i?: Record<string, number | string>) => ({ label, info: i ? Object.entries(i).map(([k, v]) => `${k}=${typeof v === 'number' ? v.toPrecision(4) : v}`).join(' ') : '' });
        return { tick: (n = 1, i) => b.increment(n, fmt(i)), update: (v, i) => b.update(v, fmt(i)), done: () => b.update(total) };
      },
      stop: () => multi.stop(),
    };
  }
  // Not a terminal: a line every ~5 s or 25 %.
  return {
    create(total, label): Progress {
      let value = 0, lastT = Date.now(), lastQ = -1;
      const show = () => {
        const q = Math.floor((4 * value) / Math.max(1, total));
        if (Date.now() - lastT > 5000 || q !== lastQ) { lastT = Date.now(); lastQ = q; process.stderr.write(`${label}: ${value}/${total}\n`); }
      };
      return { tick: (n = 1) => { value += n; show(); }, update: (v) => { value = v; show(); }, done: () => { value = total; show(); } };
    },
  };
}

async function execute(mod: string, cmd: CommandSpec, raw: Record<string, unknown>, g: GlobalOpts, resumeId?: string): Promise<void> {
  const ac = new AbortController();
  let hits = 0;
  const onSig = () => {
    hits++;
    if (hits > 1) process.exit(130);
    process.stderr.write('\ninterrupting (Ctrl-C again to quit at once)…\n');
    ac.abort();
  };
  process.on('SIGINT', onSig);
  process.on('SIGTERM', onSig);
  // Under the dashboard, the parent holds our stdin: when it goes away, stop cleanly.
  if (g.events) { process.stdin.on('end', () => ac.abort()); process.stdin.on('error', () => ac.abort()); process.stdin.resume(); }
  const onEvent = g.events ? (e: RunEvent) => { process.stdout.write(JSON.stringify(e) + '\n'); } : undefined;
  const opts = {
    root: g.out, seed: Number(g.seed), device: g.device, signal: ac.signal, onEvent,
    progress: g.events ? undefined : barFactory(Boolean(g.quiet)), echoLog: !g.quiet && !g.events,
  };
  try {
    const { runCommand, resumeRun } = await runner();
    const r = resumeId ? await resumeRun(resumeId, opts) : await runCommand(mod, cmd.name, raw, opts);
    if (g.json) process.stdout.write(JSON.stringify({ id: r.run.id, dir: r.run.dir, summary: r.summary }, null, 2) + '\n');
    else if (!g.events) {
      process.stderr.write(`\nrun ${r.run.id} done → ${r.run.dir}\n`);
      if (r.summary) process.stdout.write(JSON.stringify(r.summary, null, 2) + '\n');
    }
  } finally {
    process.off('SIGINT', onSig);
    process.off('SIGTERM', onSig);
    if (g.events) process.stdin.pause();
  }
}

/**
 * Every module as a command; the parameters (options) only of the module this invocation names:
 * describing a command's parameters compiles its zod schema to JSON Schema, which `list` and the
 * top-level --help do not need.
 */
function addModuleCommands(program: Command, invoked: string | undefined): void {
  for (const m of listModules()) {
    try {
      if (m.name === invoked) addModule(program, m);
      else program.command(m.name).description(m.title + ' — ' + m.description);
    } catch (e) {
      process.stderr.write(`paperlab: module '${m.name}' has a command the CLI cannot express, skipped: ${(e as Error).message}\n`);
    }
  }
}

function addModule(program: Command, m: ModuleSpec): void {
  {
    const mc = program.command(m.name).description(m.title + ' — ' + m.description);
    for (const c of m.commands) {
      const params = describeParams(c);
      const positional = c.positional ?? [];
      const sc = addGlobal(mc.command(c.name).description(c.description));
      for (const p of positional) sc.argument(`[${p}]`, params.find((x) => x.name === p)?.description ?? p);
      const attr = new Map<string, string>(); // commander attribute name → parameter name
      for (const p of params) {
        const flag = `--${kebab(p.name)}`;
        const help = [p.description ?? '', p.itemChoices ? `(any of: ${p.itemChoices.join(', ')})` : '', p.default !== undefined ? `(default: ${JSON.stringify(p.default)})` : '', p.required ? '(required)' : ''].filter(Boolean).join(' ');
        if (p.type === 'boolean') {
          const opt = new Option(flag, help);
          attr.set(opt.attributeName(), p.name);
          sc.addOption(opt);
          sc.addOption(new Option(`--no-${kebab(p.name)}`).hideHelp());
        } else {
          const o = new Option(`${flag} <${placeholder(p)}>`, help);
          if (p.choices) o.choices([...p.choices.map(String), ...(p.nullable ? ['null'] : [])]);
          attr.set(o.attributeName(), p.name);
          sc.addOption(o);
        }
      }
      sc.action(async (...args: unknown[]) => {
        const command = args[args.length - 1] as Command;
        const flags = command.opts() as Record<string, unknown>;
        const raw: Record<string, unknown> = {};
        positional.forEach((name, i) => { if (args[i] !== undefined) raw[name] = args[i]; });
        for (const [a, name] of attr) {
          const v = flags[a];
          if (v === undefined) continue;
          const p = params.find((x) => x.name === name)!;
          raw[name] = typeof v === 'string' ? parseValue(p, v) : v;
        }
        for (const name of positional) if (typeof raw[name] === 'string') raw[name] = parseValue(params.find((x) => x.name === name)!, raw[name] as string);
        await execute(m.name, c, raw, flags as unknown as GlobalOpts);
      });
    }
  }
}

function addRunsCommands(program: Command): void {
  const runs = program.command('runs').description('list, show, resume and compare stored runs');
  runs.command('list').description('list runs (newest first)')
    .option('--module <name>').option('--command <name>').option('--status <status>').option('--limit <n>', 'at most n runs', '50')
    .option('--out <dir>', 'run store folder').option('--json', 'as JSON')
    .action(async (o) => {
      const store = await openStore(o.out);
      const rows = store.list({ module: o.module, command: o.command, status: o.status as RunStatus, limit: Number(o.limit) });
      store.close();
      if (o.json) { process.stdout.write(JSON.stringify(rows, null, 2) + '\n'); return; }
      if (!rows.length) { process.stdout.write('no runs\n'); return; }
      for (const r of rows) {
        process.stdout.write(`${r.id}  ${r.status.padEnd(11)} ${r.module} ${r.command}  seed=${r.seed}${r.error ? '  ' + r.error.slice(0, 80) : ''}\n`);
      }
    });
  runs.command('show <id>').description('a run\'s record, parameters, summary and files')
    .option('--out <dir>', 'run store folder')
    .action(async (id, o) => {
      const store = await openStore(o.out);
      const r = store.get(id);
      process.stdout.write(JSON.stringify({ ...r, files: store.files(r.id) }, null, 2) + '\n');
      store.close();
    });
  addGlobal(runs.command('resume <id>').description('continue an interrupted run from its last checkpoint'))
    .action(async (id, o) => {
      const store = await openStore(o.out);
      const r = store.get(id);
      store.close();
      await loadModules([r.module]);
      await execute(r.module, getModule(r.module).commands.find((c) => c.name === r.command)!, {}, o, r.id);
    });
  runs.command('compare <ids...>').description('parameters that differ and summaries side by side')
    .option('--out <dir>', 'run store folder')
    .action(async (ids: string[], o) => {
      const store = await openStore(o.out);
      const rs = ids.map((id) => store.get(id));
      store.close();
      const keys = [...new Set(rs.flatMap((r) => Object.keys(r.params)))];
      const diff = keys.filter((k) => new Set(rs.map((r) => JSON.stringify(r.params[k]))).size > 1);
      process.stdout.write(JSON.stringify({
        runs: rs.map((r) => ({ id: r.id, module: r.module, command: r.command, status: r.status, seed: r.seed })),
        differingParams: Object.fromEntries(diff.map((k) => [k, rs.map((r) => r.params[k])])),
        summaries: rs.map((r) => r.summary),
      }, null, 2) + '\n');
    });
}

/**
 * `--nproc N` (N > 1): this process becomes the launcher (core/distributed/launch.ts) and runs the
 * same command line, without --nproc, as N workers with the torchrun variables set. A process
 * that already has WORLD_SIZE (a worker, or one started by torchrun or a scheduler) runs the command.
 */
async function launchWorkers(argv: string[]): Promise<number | null> {
  const { takeNproc, launch } = await import('../core/distributed/launch.ts');
  const { nproc, rest } = takeNproc(argv.slice(2));
  if (nproc === null) return null;
  if (!Number.isInteger(nproc) || nproc < 1) throw new UsageError(`--nproc must be a positive integer, got ${nproc}`);
  if (nproc === 1 || process.env.WORLD_SIZE) { argv.splice(2, argv.length - 2, ...rest); return null; }
  // torchrun's default: one thread per worker unless told otherwise
  const env = process.env.PAPERLAB_THREADS ? {} : { PAPERLAB_THREADS: '1' };
  const r = await launch({ nproc, command: process.execPath, args: [...process.execArgv, process.argv[1]!, ...rest], env });
  if (r.codes[0] !== 0 && r.codes[0]! > 128) await failOrphanRun(rest, r.pids[0]!, r.codes);
  return r.code;
}

/** Rank 0 was killed before it could mark its run: mark it failed (the run store is rank 0's). */
async function failOrphanRun(args: string[], pid: number, codes: number[]): Promise<void> {
  const i = args.indexOf('--out');
  try {
    const store = await openStore(i >= 0 ? args[i + 1] : undefined);
    for (const r of store.list({ status: 'running', limit: 20 })) {
      if (r.pid === pid) store.end(r.id, { status: 'failed', error: `rank 0 was killed (exit codes by rank: ${codes.join(', ')})`, finished: new Date().toISOString() });
    }
    store.close();
  } catch { /* no store to fix */ }
}

export async function main(argv: string[]): Promise<number> {
  const launched = await launchWorkers(argv);
  if (launched !== null) return launched;
  const program = new Command('paperlab')
    .description('Ten recent machine-learning papers as one toolkit on libtorch')
    .showSuggestionAfterError(true)
    .exitOverride();
  const first = argv[2];
  const mods = moduleNames();
  const builtins = ['list', 'runs', 'serve', 'help', 'version', '--help', '-h', '--version', '-V'];
  if (first && !first.startsWith('-') && !builtins.includes(first) && !mods.includes(first)) {
    // a command of a top-level module (`paperlab convert` ≡ `paperlab tools convert`)
    await loadModules(undefined, false);
    const tops = listModules().filter((m) => m.topLevel);
    const host = tops.find((m) => m.commands.some((c) => c.name === first));
    if (!host) {
      const topCmds = tops.flatMap((m) => m.commands.map((c) => c.name));
      throw new NotFoundError(`unknown module or command '${first}'. Modules: ${mods.join(', ')}. Commands: list, runs, serve${topCmds.map((c) => ', ' + c).join('')}`);
    }
    argv.splice(2, 0, host.name);
    return main(argv);
  }
  // Load only what this invocation needs (all for list/help).
  if (first !== 'runs') await loadModules(first && mods.includes(first) ? [first] : undefined);
  program.version(JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  program.command('list').description('modules and their commands').option('--json', 'as JSON').action((o) => {
    const ms = listModules();
    if (o.json) {
      const commands = (m: ModuleSpec) => m.commands.map((c) => ({
        name: c.name, description: c.description, params: describeParams(c), metrics: describeMetrics(c),
      }));
      process.stdout.write(JSON.stringify(ms.map((m) => ({ name: m.name, title: m.title, commands: commands(m) })), null, 2) + '\n');
      return;
    }
    for (const m of ms) {
      process.stdout.write(`${m.name} — ${m.title}\n`);
      for (const c of m.commands) process.stdout.write(`  paperlab ${m.topLevel ? '' : m.name + ' '}${c.name}${c.quick ? ' (quick)' : ''}: ${c.description}\n`);
    }
  });
  program.command('serve').description('start the dashboard on http://127.0.0.1:<port>')
    .option('--port <n>', 'port', '8787').option('--host <addr>', 'bind address', '127.0.0.1').option('--out <dir>', 'run store folder')
    .option('--allow-dir <dir>', 'a folder runs started from the dashboard may read and write (repeatable, or a comma list; default: they read from this folder and the run store, and write only into their run folder)',
      (v: string, prev: string[]) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)], [] as string[])
    .option('--max-upload-mb <n>', 'largest file a browser may upload for an input parameter, in MiB', '64')
    .action(async (o) => {
      const { startServer } = await import('../server/main.ts');
      const mb = Number(o.maxUploadMb);
      if (!(mb > 0)) throw new UsageError(`--max-upload-mb must be a positive number, got '${o.maxUploadMb}'`);
      await startServer({ port: Number(o.port), host: o.host, root: o.out, allowDirs: o.allowDir, maxUpload: Math.round(mb * 1024 * 1024) });
    });
  addRunsCommands(program);
  addModuleCommands(program, first);
  // Our own messages (with the valid choices) replace commander's terse ones for unknown names.
  const quietUnknown = { writeErr: (t: string) => { if (!/unknown (option|command)/.test(t)) process.stderr.write(t); } };
  const walk = (c: Command) => { c.exitOverride(); c.configureOutput(quietUnknown); c.commands.forEach(walk); };
  walk(program);
  await program.parseAsync(argv);
  return 0;
}

function unknownOptionHelp(e: CommanderError, argv: string[]): string {
  const [mod, cmd] = [argv[2], argv[3]];
  try {
    const c = getModule(mod!).commands.find((x) => x.name === cmd);
    if (c) return `${e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ')}. Valid parameters for ${mod} ${cmd}: ${describeParams(c).map((p) => '--' + kebab(p.name)).join(', ')}, and --seed, --out, --threads, --device, --nproc, --json, --events, --quiet`;
  } catch { /* fall through */ }
  return e.message;
}

// `paperlab list | head`: a reader that closes the pipe early is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

try {
  process.exitCode = await main(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') process.exitCode = 0;
    else {
      if (e.code === 'commander.unknownOption') process.stderr.write(`paperlab: ${unknownOptionHelp(e, process.argv)}\n`);
      else if (e.code === 'commander.unknownCommand' && process.argv[2]) {
        try {
          const m = getModule(process.argv[2]);
          process.stderr.write(`paperlab: unknown command '${process.argv[3]}' for module '${m.name}'. Valid commands: ${m.commands.map((c) => c.name).join(', ')}\n`);
        } catch { /* commander already printed */ }
      }
      // an unknown command is not found (3), like an unknown module; other commander errors are usage (2)
      process.exitCode = e.code === 'commander.unknownCommand' ? 3 : 2;
    }
  } else if (e instanceof PaperlabError) {
    // usage 2, not found 3, input file 4, conflict 5, interrupted 130 (errors.ts): no stack
    process.stderr.write(e instanceof RunInterrupted ? 'paperlab: run interrupted; its checkpoints are kept (paperlab runs list)\n' : `paperlab: ${e.message}\n`);
    process.exitCode = exitCodeOf(e);
  } else {
    process.stderr.write(`paperlab: ${(e as Error)?.message ?? e}\n`);
    if (process.env.PAPERLAB_DEBUG) process.stderr.write(`${(e as Error)?.stack}\n`);
    process.exitCode = 1;
  }
}
