// Key-mapping tables: how an official implementation names a model's weights versus paperlab's
// names for the same tensors. A module keeps its tables in its own weights.ts and lists them in its
// ModuleSpec (`weightMaps`), so `paperlab convert --map <module>/<table>` and the module's own
// loaders apply the same table. Pure TS (no engine).
import { InputFileError } from '../errors.ts';

export interface KeyMap {
  /** short name, e.g. 'starter-kit' (addressed as '<module>/<name>') */
  name: string;
  /** whose names these are, and how sure the table is (a guess says so) */
  description: string;
  /** first matching rule renames the key (String.replace with the rule's pattern); unmatched keys are kept */
  rules: ReadonlyArray<readonly [RegExp, string]>;
  /** keys left out (loss buffers, heads paperlab does not have, …) */
  drop?: readonly RegExp[];
}

/** Applies a key map; two keys mapped to one name is an error naming both. */
export function applyKeyMap<T>(sd: Record<string, T>, map: KeyMap, file = '<state dict>'): Record<string, T> {
  const out: Record<string, T> = {};
  const from: Record<string, string> = {};
  for (const [k, v] of Object.entries(sd)) {
    if (map.drop?.some((re) => re.test(k))) continue;
    const rule = map.rules.find(([re]) => re.test(k));
    const name = rule ? k.replace(rule[0], rule[1]) : k;
    if (name in out) throw new InputFileError(`${file}: key map '${map.name}' maps both '${from[name]}' and '${k}' to '${name}'`, { file });
    out[name] = v;
    from[name] = k;
  }
  return out;
}

/** Wrappers whose prefix a checkpoint's keys may carry (DataParallel, Lightning, torch.compile). */
const WRAPPERS = ['module.', 'model.', 'net.', '_orig_mod.'];

/**
 * Strips `prefix` from the keys that have it and drops the others; with prefix 'auto', strips
 * wrapper prefixes (module., model., net., _orig_mod.) that every key shares, repeatedly.
 */
export function stripPrefix<T>(sd: Record<string, T>, prefix: string | 'auto', file = '<state dict>'): Record<string, T> {
  if (prefix !== 'auto') {
    const keys = Object.keys(sd).filter((k) => k.startsWith(prefix));
    if (!keys.length) {
      const heads = [...new Set(Object.keys(sd).map((k) => k.split('.')[0] + '.'))].slice(0, 8);
      throw new InputFileError(`${file}: no key starts with '${prefix}' (keys start with ${heads.join(', ') || '(none)'})`, { file });
    }
    return Object.fromEntries(keys.map((k) => [k.slice(prefix.length), sd[k]!]));
  }
  let cur = sd;
  for (;;) {
    const keys = Object.keys(cur);
    const w = WRAPPERS.find((p) => keys.length > 0 && keys.every((k) => k.startsWith(p)));
    if (!w) return cur;
    cur = Object.fromEntries(keys.map((k) => [k.slice(w.length), cur[k]!]));
  }
}
