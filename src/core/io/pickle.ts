// A safe unpickler: reads Python pickles (protocols 0–5) as torch.save and pickle.dump of lists,
// dicts and numpy arrays write them, and runs no code. A GLOBAL/STACK_GLOBAL/INST resolves only
// through an allowlist (pickle-globals.ts) of pure-TS constructors; any other name stops the load
// with an InputFileError naming the file and the global, before anything is called.
//
// API (stable: other modules read their pickles through it)
//   unpickle(bytes, { file, globals?, persistentLoad? }) → unknown
//     file            named in every error message ("x.pth: …")
//     globals         the families the pickle may name besides plain containers:
//                     'torch' (tensors, storages, dtypes, torch.Size, Parameter),
//                     'numpy' (arrays and scalars; dtypes float16/32/64, int8–64, uint8–64, bool),
//                     one of them or a list; default none (plain containers only)
//     persistentLoad  called with each persistent id (BINPERSID/PERSID); without it a persistent
//                     id is an error. torch.save's ids are ['storage', <storage type>, key, location, numel]:
//                     storageTypeOf(id[1]) gives the type (pth.ts does this).
//   Python values come back as:
//     None → null, bool → boolean, int → number (bigint beyond 2^53), float → number, str → string,
//     bytes/bytearray → Uint8Array, list/tuple/set → Array, dict/OrderedDict → plain object
//     (keys as String(key), in insertion order), numpy array → NdArray ({kind:'ndarray', dtype,
//     shape, data} C-contiguous, ndarray.ts), numpy scalar → number/bigint/boolean,
//     torch tensor → TorchTensorRef (storage view; materialize() makes an NdArray).
//   Limits: every length must fit in the bytes left (else "truncated"); integers beyond 64 bytes,
//   out-of-band buffers (protocol 5 NEXT_BUFFER) and extension codes (EXT1/2/4) are refused.
import { InputFileError } from '../errors.ts';
import { allowedGlobals, PickleDataError, PyCallable, PICKLE_BUILD, type GlobalSet } from './pickle-globals.ts';

export { materialize, storageTypeOf, type TorchTensorRef, type TorchStorageType, type GlobalSet } from './pickle-globals.ts';
export type { NdArray, NdDtype, NdData } from './ndarray.ts';

export interface UnpickleOptions {
  file: string;
  globals?: GlobalSet | readonly GlobalSet[];
  persistentLoad?: (pid: unknown) => unknown;
  /**
   * how Python 2 byte strings (STRING, BINSTRING, SHORT_BINSTRING) load, as pickle.load's
   * `encoding`: 'utf8' (default) decodes them to strings; 'bytes' keeps them as Uint8Array
   * (needed for Python 2 pickles of numpy arrays, e.g. the CIFAR-10 python release). As dict keys,
   * bytes become their latin1 text (b'data' → "data").
   */
  encoding?: 'utf8' | 'bytes';
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const UTF8_LAX = new TextDecoder('utf-8');
const LATIN1 = new TextDecoder('latin1');
const MAX_INT_BYTES = 64;

/** Shows a name from the file safely: printable ASCII only, at most 100 characters. */
const shown = (s: string): string => s.replace(/[^\x20-\x7e]/g, '?').slice(0, 100);

class Machine {
  pos = 0;
  stack: unknown[] = [];
  marks: number[] = [];
  memo = new Map<number, unknown>();
  dicts = new WeakSet<object>();
  done = false;
  constructor(readonly buf: Uint8Array, readonly o: UnpickleOptions, readonly globals: Map<string, PyCallable>, readonly families: string) {}

  fail(msg: string): never {
    throw new InputFileError(`${this.o.file}: ${msg} (pickle byte ${this.pos})`, { file: this.o.file });
  }
  need(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || this.pos + n > this.buf.byteLength) {
      this.fail(`pickle truncated or corrupt: needs ${n} bytes, ${this.buf.byteLength - this.pos} left`);
    }
  }
  u8(): number { this.need(1); return this.buf[this.pos++]!; }
  view(n: number): DataView { this.need(n); const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, n); this.pos += n; return v; }
  u16(): number { return this.view(2).getUint16(0, true); }
  u32(): number { return this.view(4).getUint32(0, true); }
  i32(): number { return this.view(4).getInt32(0, true); }
  u64(): number {
    const v = this.view(8).getBigUint64(0, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`pickle length ${v} is absurd`);
    return Number(v);
  }
  bytes(n: number): Uint8Array { this.need(n); const b = this.buf.slice(this.pos, this.pos + n); this.pos += n; return b; }
  line(): string {
    const end = this.buf.indexOf(0x0a, this.pos);
    if (end < 0) this.fail('pickle truncated: a text field has no end of line');
    const s = LATIN1.decode(this.buf.subarray(this.pos, end));
    this.pos = end + 1;
    return s.endsWith('\r') ? s.slice(0, -1) : s;
  }
  text(n: number): string {
    const b = this.bytes(n);
    try { return UTF8.decode(b); } catch { return this.fail('pickle string is not valid UTF-8'); }
  }

  push(v: unknown): void { this.stack.push(v); }
  pop(): unknown {
    if (this.stack.length === 0 || this.stack.length <= (this.marks.at(-1) ?? -1)) this.fail('pickle corrupt: stack underflow');
    return this.stack.pop();
  }
  top(): unknown {
    if (this.stack.length === 0) this.fail('pickle corrupt: stack underflow');
    return this.stack[this.stack.length - 1];
  }
  popMark(): unknown[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail('pickle corrupt: no MARK');
    return this.stack.splice(m);
  }
  memoGet(i: number): void {
    if (!this.memo.has(i)) this.fail(`pickle corrupt: memo entry ${i} is missing`);
    this.push(this.memo.get(i));
  }

  newDict(): Record<string, unknown> { const d = {}; this.dicts.add(d); return d; }
  setItems(d: unknown, kv: unknown[]): void {
    if (typeof d !== 'object' || d === null || !this.dicts.has(d) && !isDictLike(d)) this.fail('pickle sets items on something that is not a dict');
    if (kv.length % 2) this.fail('pickle corrupt: odd number of dict items');
    for (let i = 0; i < kv.length; i += 2) {
      const k = kv[i] instanceof Uint8Array ? LATIN1.decode(kv[i] as Uint8Array) : String(kv[i]);
      Object.defineProperty(d, k, { value: kv[i + 1], enumerable: true, writable: true, configurable: true });
    }
  }
  append(l: unknown, items: unknown[]): void {
    if (!Array.isArray(l)) this.fail('pickle appends to something that is not a list');
    for (const x of items) l.push(x);
  }

  global(module: string, name: string): void {
    const full = `${module}.${name}`;
    const g = this.globals.get(full);
    if (!g) this.fail(`pickle names ${shown(full)}, which paperlab does not load (only ${this.families})`);
    this.push(g);
  }
  call(f: unknown, args: unknown, op: string): void {
    if (!(f instanceof PyCallable)) this.fail(`pickle corrupt: ${op} calls something that is not an allowed global`);
    if (!Array.isArray(args)) this.fail(`pickle corrupt: ${op} arguments are not a tuple`);
    try {
      const v = f.fn(args);
      if (isDictLike(v)) this.dicts.add(v as object);
      this.push(v);
    } catch (e) {
      if (e instanceof PickleDataError) this.fail(`${f.name}: ${e.message}`);
      throw e;
    }
  }
  build(): void {
    const state = this.pop();
    const obj = this.top() as Record<PropertyKey, unknown> | null;
    const b = obj?.[PICKLE_BUILD];
    if (typeof b === 'function') {
      try { b(state); } catch (e) { if (e instanceof PickleDataError) this.fail(e.message); throw e; }
    } else if (!(typeof obj === 'object' && obj !== null && this.dicts.has(obj))) {
      this.fail('pickle corrupt: BUILD on an object that takes no state');
    }
  }
  long(n: number): number | bigint {
    if (n > MAX_INT_BYTES) this.fail(`pickle integer of ${n} bytes is beyond what paperlab reads`);
    const b = this.bytes(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    if (n > 0 && b[n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    return pyInt(v);
  }
  persistent(pid: unknown): void {
    if (!this.o.persistentLoad) this.fail('pickle has a persistent id and no loader was given');
    try {
      this.push(this.o.persistentLoad(pid));
    } catch (e) {
      if (e instanceof PickleDataError) this.fail(e.message);
      throw e;
    }
  }
}

const isDictLike = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getOwnPropertyDescriptor(v, PICKLE_BUILD) !== undefined && !('kind' in v);

function pyInt(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

function textInt(m: Machine, s: string): number | bigint | boolean {
  if (s === '00') return false;
  if (s === '01') return true;
  const t = s.endsWith('L') ? s.slice(0, -1) : s;
  if (!/^[-+]?\d{1,200}$/.test(t)) m.fail('pickle corrupt: a text integer is malformed');
  return pyInt(BigInt(t));
}

/** Python's string-literal escapes (protocol 0 STRING / UNICODE fields). */
function unescape(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[\\'"nrt0])/g, (_, e: string) => {
    if (e[0] === 'x' || e[0] === 'u' || e[0] === 'U') return String.fromCodePoint(parseInt(e.slice(1), 16));
    return ({ n: '\n', r: '\r', t: '\t', 0: '\0' } as Record<string, string>)[e] ?? e;
  });
}

type Op = (m: Machine) => void;
const OPS: Record<string, Op> = {
  '(': (m) => { m.marks.push(m.stack.length); },
  '.': (m) => { m.done = true; },
  '0': (m) => { m.pop(); },
  '1': (m) => { m.popMark(); },
  '2': (m) => { m.push(m.top()); },
  'F': (m) => { const v = Number(m.line()); m.push(v); },
  'I': (m) => { m.push(textInt(m, m.line())); },
  'J': (m) => { m.push(m.i32()); },
  'K': (m) => { m.push(m.u8()); },
  'L': (m) => { m.push(textInt(m, m.line())); },
  'M': (m) => { m.push(m.u16()); },
  'N': (m) => { m.push(null); },
  'P': (m) => { m.persistent(m.line()); },
  'Q': (m) => { m.persistent(m.pop()); },
  'R': (m) => { const args = m.pop(); m.call(m.pop(), args, 'REDUCE'); },
  'S': (m) => { const l = unescape(m.line().slice(1, -1)); m.push(m.o.encoding === 'bytes' ? Uint8Array.from(l, (c) => c.charCodeAt(0) & 0xff) : l); },
  'T': (m) => { const b = m.bytes(m.i32()); m.push(m.o.encoding === 'bytes' ? b : UTF8_LAX.decode(b)); },
  'U': (m) => { const b = m.bytes(m.u8()); m.push(m.o.encoding === 'bytes' ? b : UTF8_LAX.decode(b)); },
  'V': (m) => { m.push(m.line().replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, a, b) => String.fromCodePoint(parseInt(a ?? b, 16)))); },
  'X': (m) => { m.push(m.text(m.u32())); },
  'a': (m) => { const v = m.pop(); m.append(m.top(), [v]); },
  'b': (m) => { m.build(); },
  'c': (m) => { const mod = m.line(); m.global(mod, m.line()); },
  'd': (m) => { const kv = m.popMark(); const d = m.newDict(); m.setItems(d, kv); m.push(d); },
  '}': (m) => { m.push(m.newDict()); },
  'e': (m) => { const items = m.popMark(); m.append(m.top(), items); },
  'g': (m) => { m.memoGet(Number(m.line())); },
  'h': (m) => { m.memoGet(m.u8()); },
  'i': (m) => { const mod = m.line(); const name = m.line(); const args = m.popMark(); m.global(mod, name); m.call(m.pop(), args, 'INST'); },
  'j': (m) => { m.memoGet(m.u32()); },
  'l': (m) => { m.push(m.popMark()); },
  ']': (m) => { m.push([]); },
  'o': (m) => { const [cls, ...args] = m.popMark(); m.call(cls, args, 'OBJ'); },
  'p': (m) => { m.memo.set(Number(m.line()), m.top()); },
  'q': (m) => { m.memo.set(m.u8(), m.top()); },
  'r': (m) => { m.memo.set(m.u32(), m.top()); },
  's': (m) => { const v = m.pop(); const k = m.pop(); m.setItems(m.top(), [k, v]); },
  't': (m) => { m.push(m.popMark()); },
  ')': (m) => { m.push([]); },
  'u': (m) => { const kv = m.popMark(); m.setItems(m.top(), kv); },
  'G': (m) => { m.push(m.view(8).getFloat64(0, false)); },
  '\x80': (m) => { const p = m.u8(); if (p > 5) m.fail(`pickle protocol ${p} is newer than paperlab reads (0–5)`); },
  '\x81': (m) => { const args = m.pop(); m.call(m.pop(), args, 'NEWOBJ'); },
  '\x82': (m) => m.fail('pickle uses the extension registry (EXT1), which paperlab does not load'),
  '\x83': (m) => m.fail('pickle uses the extension registry (EXT2), which paperlab does not load'),
  '\x84': (m) => m.fail('pickle uses the extension registry (EXT4), which paperlab does not load'),
  '\x85': (m) => { m.push([m.pop()]); },
  '\x86': (m) => { const b = m.pop(); m.push([m.pop(), b]); },
  '\x87': (m) => { const c = m.pop(); const b = m.pop(); m.push([m.pop(), b, c]); },
  '\x88': (m) => { m.push(true); },
  '\x89': (m) => { m.push(false); },
  '\x8a': (m) => { m.push(m.long(m.u8())); },
  '\x8b': (m) => { m.push(m.long(m.i32())); },
  'B': (m) => { m.push(m.bytes(m.u32())); },
  'C': (m) => { m.push(m.bytes(m.u8())); },
  '\x8c': (m) => { m.push(m.text(m.u8())); },
  '\x8d': (m) => { m.push(m.text(m.u64())); },
  '\x8e': (m) => { m.push(m.bytes(m.u64())); },
  '\x8f': (m) => { m.push([]); },
  '\x90': (m) => { const items = m.popMark(); m.append(m.top(), items); },
  '\x91': (m) => { m.push(m.popMark()); },
  '\x92': (m) => {
    const kw = m.pop();
    const args = m.pop();
    if (kw && typeof kw === 'object' && Object.keys(kw).length) m.fail('pickle corrupt: NEWOBJ_EX with keyword arguments');
    m.call(m.pop(), args, 'NEWOBJ_EX');
  },
  '\x93': (m: Machine) => {
    const name = m.pop();
    const mod = m.pop();
    if (typeof mod !== 'string' || typeof name !== 'string') m.fail('pickle corrupt: STACK_GLOBAL names are not strings');
    m.global(mod, name);
  },
  '\x94': (m) => { m.memo.set(m.memo.size, m.top()); },
  '\x95': (m) => { m.need(m.u64()); },
  '\x96': (m) => { m.push(m.bytes(m.u64())); },
  '\x97': (m) => m.fail('pickle uses an out-of-band buffer (protocol 5 NEXT_BUFFER), which paperlab does not load'),
  '\x98': () => {},
};

/** Unpickles `bytes` safely (see the top of this file). Throws InputFileError naming opts.file. */
export function unpickle(input: Uint8Array, opts: UnpickleOptions): unknown {
  const bytes = new Uint8Array(input.buffer, input.byteOffset, input.byteLength); // (a Buffer's slice() would be a view)
  const sets: GlobalSet[] = opts.globals === undefined ? [] : typeof opts.globals === 'string' ? [opts.globals] : [...opts.globals];
  const families = ['tensors, storages'.repeat(sets.includes('torch') ? 1 : 0), 'numpy arrays'.repeat(sets.includes('numpy') ? 1 : 0), 'plain containers']
    .filter(Boolean).join(', ').replace(/, ([^,]*)$/, ' and $1');
  const m: Machine = new Machine(bytes, opts, allowedGlobals(sets), families);
  while (!m.done) {
    if (m.pos >= bytes.byteLength) m.fail('pickle truncated: ends before its STOP');
    const code = String.fromCharCode(bytes[m.pos]!);
    const op = OPS[code];
    if (!op) m.fail(`pickle corrupt: unknown opcode 0x${bytes[m.pos]!.toString(16)}`);
    m.pos++;
    op(m);
  }
  if (m.stack.length !== 1) m.fail('pickle corrupt: STOP with the stack not holding one value');
  return m.stack[0];
}
