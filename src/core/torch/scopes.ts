// Who frees a tensor, kept in JS (issue #27 item 6). The engine keeps each tensor in a slot of a
// C++ table (native/addon.cpp, "tensor slots"); a JS Tensor is a plain object holding the slot's
// id. A tensor made inside scope() goes into that scope's list, and the scope's end frees the whole
// list in one native call (freeSlots), less what the scope returns (moved to the enclosing scope).
// A tensor that outlives every scope (made outside one, kept, or returned from the outermost one)
// gets then, and only then, a finalizer on its JS object (the addon's escape(): an N-API finalizer,
// which the scavenger handles; a FinalizationRegistry's cells wait for a full mark-compact and let
// 100,000+ one-element tensors pile up), so the garbage collector frees what nobody disposed; the
// hot path inside a scope pays one array push.
import { native } from './native.ts';

/** What the scopes need of a tensor: its id (-1 once freed) and whether it escaped every scope. */
export interface Held {
  _id: number;
  _esc: boolean;
}

/** The open scopes, innermost last: the tensors made in each. */
export const scopeStack: Held[][] = [];

/** The tensor outlives every scope: the GC frees it unless dispose() does first. */
export function escape(t: Held): void {
  if (t._esc || t._id < 0) return;
  t._esc = true;
  native.escape(t, t._id);
}

/** Frees a tensor now (dispose()); a second call is a no-op. */
export function release(t: Held): void {
  const id = t._id;
  if (id < 0) return;
  t._id = -1;
  t._esc = false;
  native.free(id); // detaches the finalizer of an escaped tensor too
}

/** A new tensor joins the innermost scope, or escapes when none is open. */
export function adopt(t: Held): void {
  const n = scopeStack.length;
  if (n > 0) scopeStack[n - 1]!.push(t);
  else escape(t);
}

export function openScope(): Held[] {
  const items: Held[] = [];
  scopeStack.push(items);
  return items;
}

let ids = new Int32Array(1024);

/**
 * Ends the scope whose list is `items`: frees its tensors except those in `keep` (they move to the
 * enclosing scope, or escape), those that escaped already (keep()) and those disposed already.
 * Returns how many were freed.
 */
export function closeScope(items: Held[], keep: readonly Held[]): number {
  while (scopeStack.length > 0 && scopeStack.pop() !== items) { /* inner scopes left open by a throw */ }
  const parent = scopeStack.length > 0 ? scopeStack[scopeStack.length - 1]! : null;
  const keepSet = keep.length > 8 ? new Set(keep) : null;
  let n = 0;
  for (const t of items) {
    const id = t._id;
    if (id < 0 || t._esc) continue;
    if (keep.length > 0 && (keepSet ? keepSet.has(t) : keep.includes(t))) {
      if (parent) parent.push(t);
      else escape(t);
      continue;
    }
    if (n === ids.length) { const b = new Int32Array(n * 2); b.set(ids); ids = b; }
    ids[n++] = id;
    t._id = -1;
  }
  return n > 0 ? native.freeSlots(ids, n) : 0;
}
