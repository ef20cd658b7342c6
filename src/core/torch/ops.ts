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
function tid(x: unknown): unknown {
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
function passThrough(r: unknown): unknown { return r; }

/** The JS caller of op handle h: converts where the schema has tensors, and the result by its return mode. */
function caller(h: number): (...args: unknown[]) => any {
  const [kinds, ret] = native.opInfo(h);
  const pos: number[] = [];
  const conv: ((x: unknown) => unknown)[] = [];
  for (let i = 0; i < kinds.length; i++) {
    const k = kinds[i];
    const c = k === 'T' || k === 'O' ? tid : k === 'L' || k === 'M' ? tids : k === 'S' ? scalarArg : null;
    if (c) { pos.push(i); conv.push(c); }
  }
  const post = ret === 1 ? one : ret === 2 || ret === 3 ? many : passThrough;
  const call = native.call;
  const p0 = pos[0] ?? -1, p1 = pos[1] ?? -1;
  const c0 = conv[0]!, c1 = conv[1]!;
  // The common shapes without a loop: (Tensor, ...) and (Tensor, Tensor, ...).
  if (pos.length === 1 && p0 === 0) return (...a: unknown[]) => { a[0] = c0(a[0]); return post(call(h, ...a)); };
  if (pos.length === 2 && p0 === 0 && p1 === 1) {
    return (...a: unknown[]) => { a[0] = c0(a[0]); if (a.length > 1) a[1] = c1(a[1]); return post(call(h, ...a)); };
  }
  return (...a: unknown[]) => {
    for (let j = 0; j < pos.length; j++) { const i = pos[j]!; if (i < a.length) a[i] = conv[j]!(a[i]); }
    return post(call(h, ...a));
  };
}

/** Resolves an aten operator once ("conv2d", "add.Tensor", "aten::mm") and returns a caller. */
export function op(qualified: string): (...args: unknown[]) => any {
  return caller(resolve(qualified));
}

/** The libtorch schema string of an operator, for error messages and docs. */
export function opSchema(qualified: string): string {
  return native.opSchema(resolve(qualified));
}

/** Like op(), but resolved on first call (so a missing operator fails only where it is used). */
export function lazy(qualified: string): (...args: unknown[]) => any {
  let f: ((...args: unknown[]) => any) | null = null;
  return (...args: unknown[]) => (f ??= caller(resolve(qualified)))(...args);
}
