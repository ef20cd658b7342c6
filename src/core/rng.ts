// Seeded random numbers for data generation (xoshiro128**, seeded through splitmix32).
// Tensor-side randomness (init, dropout, randn) uses libtorch's generator, seeded by manualSeed.

export class Rng {
  private s0: number; private s1: number; private s2: number; private s3: number;
  private spare: number | null = null;
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
