// Seeded random numbers for data generation (xoshiro128**, seeded through splitmix32).
// Tensor-side randomness (init, dropout, randn) uses libtorch's generator, seeded by manualSeed.
// A generator's whole state (state()/setState(), Rng.fromState) is a small JSON object, so a
// checkpoint carries it and a resumed run draws exactly the numbers it would have drawn.

/** The whole state of an Rng: JSON as is (the spare normal is a double; JSON keeps doubles exactly). */
export interface RngState {
  readonly kind: 'xoshiro128**';
  /** the seed the stream started from (a label: the stream continues from `s`) */
  readonly seed: number;
  /** the four 32-bit state words, as unsigned integers */
  readonly s: readonly [number, number, number, number];
  /** the second normal of the last Box–Muller pair, not yet returned (null: none) */
  readonly spare: number | null;
}

export class Rng {
  private s0: number; private s1: number; private s2: number; private s3: number;
  private spare: number | null = null;
  /** the seed this stream started from (setState sets it from the state) */
  readonly seed: number;

  constructor(seed = 0) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    this.seed = seed;
    let x = (Math.floor(seed) ^ 0x9e3779b9) >>> 0;
    const hi = Math.floor(seed / 4294967296) >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x ^ hi;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** uniform 32-bit unsigned integer */
  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 ^= this.s0; this.s3 ^= this.s1; this.s1 ^= this.s2; this.s0 ^= this.s3;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    this.s0 >>>= 0; this.s1 >>>= 0;
    return r;
  }

  /** The generator's whole state, to store (JSON) and give back to setState / Rng.fromState. */
  state(): RngState {
    return { kind: 'xoshiro128**', seed: this.seed, s: [this.s0, this.s1, this.s2, this.s3], spare: this.spare };
  }

  /** Continues from a state() taken earlier (of this or any Rng): the same numbers follow. */
  setState(st: RngState): this {
    const bad = (why: string) => new Error(`Rng.setState: ${why}`);
    if (!st || typeof st !== 'object') throw bad('expected the object state() returned');
    if (st.kind !== 'xoshiro128**') throw bad(`kind '${String(st.kind)}' is not 'xoshiro128**'`);
    const w = st.s;
    if (!Array.isArray(w) || w.length !== 4 || !w.every((x) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff)) throw bad('s must be four unsigned 32-bit integers');
    if ((w[0] | w[1] | w[2] | w[3]) === 0) throw bad('s is all zero (not a xoshiro state)');
    if (st.spare !== null && !Number.isFinite(st.spare)) throw bad('spare must be a finite number or null');
    if (!Number.isFinite(st.seed)) throw bad('seed must be a finite number');
    [this.s0, this.s1, this.s2, this.s3] = w;
    this.spare = st.spare;
    (this as { seed: number }).seed = st.seed;
    return this;
  }

  /** A generator that continues from `st` (a state() taken earlier). */
  static fromState(st: RngState): Rng { return new Rng(st.seed).setState(st); }

  /**
   * uniform in [0, 1) from one 32-bit draw (u32 / 2³², 2³² distinct values): the kind of float a
   * mulberry32 / xorshift32 generator gives, at half the cost of random().
   */
  random32(): number { return this.nextU32() / 4294967296; }

  /** uniform in [0, 1) with 53 random bits */
  random(): number {
    const a = this.nextU32() >>> 5, b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  uniform(lo = 0, hi = 1): number { return lo + (hi - lo) * this.random(); }

  /** integer in [lo, hi) */
  int(lo: number, hi: number): number {
    if (!(hi > lo)) throw new Error(`Rng.int: empty range [${lo}, ${hi})`);
    return lo + Math.floor(this.random() * (hi - lo));
  }

  /** standard normal (Box–Muller, polar form) */
  normal(mean = 0, std = 1): number {
    if (this.spare !== null) { const s = this.spare; this.spare = null; return mean + std * s; }
    let u: number, v: number, s: number;
    do { u = 2 * this.random() - 1; v = 2 * this.random() - 1; s = u * u + v * v; } while (s >= 1 || s === 0);
    const m = Math.sqrt(-2 * Math.log(s) / s);
    this.spare = v * m;
    return mean + std * u * m;
  }

  /** Float64Array of n standard normals */
  normals(n: number, mean = 0, std = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.normal(mean, std);
    return out;
  }

  uniforms(n: number, lo = 0, hi = 1): Float64Array {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uniform(lo, hi);
    return out;
  }

  bernoulli(p: number): boolean { return this.random() < p; }

  /** Fisher–Yates shuffle in place */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      const t = a[i]!; a[i] = a[j]!; a[j] = t;
    }
    return a;
  }

  /** a random permutation of 0..n-1 */
  permutation(n: number): number[] { return this.shuffle(Array.from({ length: n }, (_, i) => i)); }

  choice<T>(a: readonly T[]): T {
    if (a.length === 0) throw new Error('Rng.choice: empty array');
    return a[Math.floor(this.random() * a.length)]!;
  }

  /** an independent child stream (for per-worker or per-seed streams) */
  fork(salt: number): Rng { return new Rng((this.nextU32() * 4096 + (salt & 4095)) % 9007199254740991); }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
