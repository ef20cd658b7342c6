// Command-line values → parameter values, by the parameter's description in the registry (what
// its zod schema says): numbers, comma lists, JSON objects, `null` for nullable parameters, and
// keywords such as 'auto' beside numbers. zod validates the result.
import { UsageError, type ParamInfo } from '../core/registry.ts';

export function parseValue(p: ParamInfo, v: string): unknown {
  const num = (s: string) => {
    const n = Number(s);
    if (s.trim() === '' || !Number.isFinite(n)) throw new UsageError(`parameter '${p.name}': expected a number${p.keywords ? ` or ${p.keywords.join(', ')}` : ''}, got '${s}'`);
    return n;
  };
  if (p.nullable && v === 'null') return null;
  if (p.keywords?.includes(v)) return v;
  if (p.type === 'number' || p.type === 'integer') return num(v);
  if (p.type === 'array') {
    const parts = v.split(',').map((s) => s.trim()).filter((s) => s !== '');
    return p.itemType === 'number' || p.itemType === 'integer' ? parts.map(num) : parts;
  }
  if (p.type === 'object') {
    try { return JSON.parse(v); } catch { throw new UsageError(`parameter '${p.name}': expected JSON, got '${v}'`); }
  }
  return v;
}

/** The value placeholder in --help: `<number>`, `<a,b,…>`, `<number|auto>`, `<choice>`. */
export function placeholder(p: ParamInfo): string {
  if (p.type === 'array') return 'a,b,…';
  if (p.choices) return 'choice';
  return [p.type, ...(p.keywords ?? []), ...(p.nullable ? ['null'] : [])].join('|');
}
