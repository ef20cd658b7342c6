// Operator handles and their JS callers (issue #27 item 6): an aten operator is resolved once by
// name and overload; its caller turns Tensor arguments into the engine's ids and result ids into
// Tensors where the operator's schema has them, decided once per operator from the schema (the
// addon's opInfo), not per call by inspecting values. Re-exported from tensor.ts.
import { native } from './native.ts';
import { Tensor } from './tensor.ts';

const handles = new Map<string, number>();

function resolve(qualified: string): number {
  let h = handles.get(qualified);
  if (h === undefined) {
    const name = qualified.replace(/^aten::/, '');
    const dot = name.indexOf('.');
    h = native.op(dot < 0 ? name : name.slice(0, dot), dot < 0 ? '' : name.slice(dot + 1));
    handles.set(qualified, h);
  }
  return h;
}

// ---- argument and result conversion, per op from its schema (native opInfo)
const NOT_TENSOR = Object.freeze({ notATensor: true });
/** A Tensor argument: its id (-1 once disposed: the addon says so); anything else is refused there. */
export function tid(x: unknown): unknown {
  return x instanceof Tensor ? x._id : x == null ? x : NOT_TENSOR;
}
function tids(x: unknown): unknown {
  return Array.isArray(x) ? x.map(tid) : x;
}
/** A Scalar argument may be a one-element tensor: [id] */
function scalarArg(x: unknown): unknown {
  return x instanceof Tensor ? [x._id] : x;
}
export function one(r: unknown): Tensor | null {
  return r === null ? null : Tensor._wrap(r as number);
}
function many(r: unknown): (Tensor | null)[] {
  const a = r as (number | null)[];
  const out: (Tensor | null)[] = new Array(a.length);
  for (let i = 0; i < a.length; i++) { const id = a[i]!; out[i] = id === null ? null : Tensor._wrap(id); }
  return out;
}

/** Per operator, from its schema: where tensors go (and how: 0 Tensor, 1 Tensor list, 2 Scalar) and the return mode. */
interface Plan { h: number; n: number; pos: number[]; codes: number[]; ret: number }
function plan(h: number): Plan {
  const [kinds, ret] = native.opInfo(h);
  const pos: number[] = [], codes: number[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const k = kinds[i];
    const c = k === 'T' || k === 'O' ? 0 : k === 'L' || k === 'M' ? 1 : k === 'S' ? 2 : -1;
    if (c >= 0) { pos.push(i); codes.push(c); }
  }
  return { h, n: kinds.length, pos, codes, ret };
}
const call = native.call;
/** The generic call: a is the caller's own array, converted in place and spread once into the addon. */
function invoke(p: Plan, a: unknown[]): any {
  const pos = p.pos;
  for (let j = 0; j < pos.length; j++) {
    const i = pos[j]!;
    if (i >= a.length) break;
    const x = a[i], c = p.codes[j];
    a[i] = c === 0 ? tid(x) : c === 1 ? tids(x) : scalarArg(x);
  }
  const r = call(p.h, ...a);
  const ret = p.ret;
  if (ret === 1) return r === null ? null : Tensor._wrap(r as number);
  return ret === 2 || ret === 3 ? many(r) : r;
}

/**
 * The op's own caller, compiled once from its plan (issue #27 item 6): a function of exactly the
 * schema's arguments, each converted inline as its kind says, that calls the addon with them and
 * wraps the result. One shared generic caller saw every op's argument shapes (its property loads
 * went megamorphic) and paid a rest array and a spread call per op. Semantics are the generic
 * caller's: an argument not given is passed as undefined (the addon's default), and more arguments
 * than the schema has go through invoke() (which lets the addon say so).
 */
function compile(p: Plan): (...args: unknown[]) => any {
  const params = Array.from({ length: p.n }, (_, i) => `a${i}`);
  const args = params.map((a, i) => {
    const j = p.pos.indexOf(i);
    const c = j < 0 ? -1 : p.codes[j];
    return c === 0 ? `(${a} instanceof T ? ${a}._id : ${a} == null ? ${a} : NOT)`
      : c === 1 ? `tids(${a})` : c === 2 ? `(${a} instanceof T ? [${a}._id] : ${a})` : a;
  });
  const ret = p.ret === 1 ? 'r === null ? null : wrap(r)' : p.ret === 2 || p.ret === 3 ? 'many(r)' : 'r';
  const body = `return function op(${params.join(', ')}) {
  if (arguments.length > ${p.n}) return slow(Array.prototype.slice.call(arguments));
  const r = call(${[String(p.h), ...args].join(', ')});
  return ${ret};
};`;
  const make = new Function('T', 'NOT', 'tids', 'wrap', 'many', 'call', 'slow', body) as (...x: unknown[]) => (...args: unknown[]) => any;
  return make(Tensor, NOT_TENSOR, tids, (id: number) => Tensor._wrap(id), many, call, (a: unknown[]) => invoke(p, a));
}

/** Resolves an aten operator once ("conv2d", "add.Tensor", "aten::mm") and returns a caller. */
export function op(qualified: string): (...args: unknown[]) => any {
  return compile(plan(resolve(qualified)));
}

/** The libtorch schema string of an operator, for error messages and docs. */
export function opSchema(qualified: string): string {
  return native.opSchema(resolve(qualified));
}

/**
 * Like op(), but resolved on first call (so a missing operator fails only where it is used). Each
 * lazy op is its own function (new Function), not one shared closure, for the reason compile() gives.
 */
export function lazy(qualified: string): (...args: unknown[]) => any {
  let f: ((...args: unknown[]) => any) | null = null;
  const get = () => (f ??= compile(plan(resolve(qualified))));
  return (new Function('get', 'return function lazyOp(...a) { return get()(...a); };') as (g: typeof get) => (...args: unknown[]) => any)(get);
}
