// Path parameters and where the dashboard lets them point.
//
// A module marks each parameter that names a file or folder in its zod schema:
//   z.string().meta({ path: 'output' })                       a file/folder the command writes
//   z.string().meta({ path: 'input' })                        a file/folder the command reads
//   .meta({ path: 'input', pathList: true })                  comma-separated paths
//   .meta({ path: 'input', pathSchemes: ['ntu', 'penn'] })     'ntu:<path>' — the path follows the scheme
//   .meta({ path: 'input', notPath: '^synthetic(:|$)' })       values matching this regex are not paths
// An empty value is never a path (it means "the default", which the module keeps inside the run folder).
//
// The CLI applies no policy: a local user on their own shell may read and write anywhere. Runs
// started by the dashboard are confined (PathPolicy): outputs go into the run folder (relative
// paths resolve there) or into a folder given with `paperlab serve --allow-dir`; inputs come from
// the allowed folders (by default the folder `serve` started in) or the run store. Symlinks are
// resolved before the check. The server checks before it starts a run (a refusal is a 400 and
// creates nothing) and hands the policy to the run's worker, whose runner applies it again when the
// run starts (RunOptions.pathPolicy): that is where a relative output becomes a path in the run folder.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError, NotFoundError } from './errors.ts';
import type { ParamInfo } from './registry.ts';

export type PathKind = 'input' | 'output';

export interface PathPolicy {
  /** where relative input paths resolve (the folder `serve` started in) */
  base: string;
  /** folders inputs may come from (real paths) */
  inputs: string[];
  /** folders outputs may go to besides the run folder (real paths) */
  outputs: string[];
}

interface Item { raw: string; prefix: string; path: string | null }

/** The paths inside one parameter value, and how to put the value back together with new paths. */
export function splitPathValue(info: Pick<ParamInfo, 'pathList' | 'pathSchemes' | 'notPath'>, value: string): Item[] {
  if (value.trim() === '') return [];
  const raws = info.pathList ? value.split(',').map((s) => s.trim()).filter((s) => s !== '') : [value];
  const not = info.notPath ? new RegExp(info.notPath) : null;
  return raws.map((raw) => {
    if (not?.test(raw)) return { raw, prefix: '', path: null };
    const scheme = (info.pathSchemes ?? []).find((s) => raw.startsWith(s + ':'));
    if (scheme) return { raw, prefix: scheme + ':', path: raw.slice(scheme.length + 1) };
    return { raw, prefix: '', path: raw };
  });
}

function joinItems(info: Pick<ParamInfo, 'pathList'>, items: Item[], original: string): string {
  if (!items.length) return original;
  return items.map((it) => (it.path === null ? it.raw : it.prefix + it.path)).join(info.pathList ? ',' : '');
}

const isInside = (p: string, dir: string) => p === dir || p.startsWith(dir.endsWith(path.sep) ? dir : dir + path.sep);

/**
 * The real path of `abs` (absolute, normalised): symlinks resolved for the part that exists, the
 * rest appended. A dangling symlink on the way is refused (writing through it would create its target).
 */
export function realPathOf(abs: string): string | null {
  const rest: string[] = [];
  let cur = abs;
  for (;;) {
    try {
      return path.join(fs.realpathSync(cur), ...rest.reverse());
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return null;
      try { fs.lstatSync(cur); return null; } catch { /* really absent: go up */ }
      const up = path.dirname(cur);
      if (up === cur) return abs;
      rest.push(path.basename(cur));
      cur = up;
    }
  }
}

/** Real paths of folders (for a policy): each must exist and be a folder. */
export function realFolders(dirs: string[], what: string): string[] {
  return dirs.map((d) => {
    let r: string;
    try { r = fs.realpathSync(path.resolve(d)); } catch { throw new NotFoundError(`${what} '${d}' does not exist`); }
    if (!fs.statSync(r).isDirectory()) throw new UsageError(`${what} '${d}' is not a folder`);
    return r;
  });
}

/**
 * Applies the policy to a command's validated parameters. Returns the parameters with every path
 * absolute: inputs resolved against policy.base, relative outputs inside `runDir` (left relative
 * when the run folder does not exist yet: the server's check before a run starts). Throws
 * a UsageError naming the parameter for anything outside the allowed folders.
 */
export function confinePaths(params: Record<string, unknown>, infos: ParamInfo[], policy: PathPolicy, runDir?: string): Record<string, unknown> {
  const out = { ...params };
  const runReal = runDir ? realPathOf(path.resolve(runDir)) : null;
  for (const info of infos) {
    if (!info.path) continue;
    const value = params[info.name];
    if (typeof value !== 'string') continue;
    const items = splitPathValue(info, value);
    for (const it of items) {
      if (it.path === null) continue;
      const given = it.path;
      if (given.includes('\0')) throw new UsageError(`parameter '${info.name}': the path contains a NUL byte`);
      if (info.path === 'output') {
        if (!path.isAbsolute(given)) {
          const norm = path.normalize(given);
          if (norm === '..' || norm.startsWith('..' + path.sep)) throw refused(info, given, 'output', policy);
          if (!runDir) continue; // inside the run folder once it exists; checked again then
          it.path = path.join(runDir, norm);
        } else it.path = path.normalize(given);
        const real = realPathOf(it.path);
        const roots = [...(runReal ? [runReal] : []), ...policy.outputs];
        if (real === null || !roots.some((r) => isInside(real, r))) throw refused(info, given, 'output', policy);
      } else {
        it.path = path.resolve(policy.base, given);
        const real = realPathOf(it.path);
        if (real === null || !policy.inputs.some((r) => isInside(real, r))) throw refused(info, given, 'input', policy);
      }
    }
    out[info.name] = joinItems(info, items, value);
  }
  return out;
}

function refused(info: ParamInfo, given: string, kind: PathKind, policy: PathPolicy): UsageError {
  const where = kind === 'output'
    ? `the dashboard writes only inside the run folder (give a relative path)${policy.outputs.length ? ` or inside ${policy.outputs.join(', ')}` : '; allow more folders with paperlab serve --allow-dir'}`
    : `the dashboard reads only inside ${policy.inputs.join(', ')} (allow more folders with paperlab serve --allow-dir)`;
  return new UsageError(`parameter '${info.name}': ${kind} path '${given}' is refused: ${where}`);
}
