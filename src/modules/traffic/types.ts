// Shared data shapes of the traffic module: a columnar point table (typed arrays, ~36 B/point)
// and a sparse flow series (COO per slice): the time-evolving flow graph of the paper, one directed
// weighted graph per slice over a fixed vertex set (the cells).

/** Canonical point table, columnar. Geometry is always local metres (see ingest.project). */
export interface PointTable {
  n: number;
  /** object index into `ids` */
  obj: Int32Array;
  ids: string[];
  /** seconds (epoch or seconds-from-midnight) */
  t: Float64Array;
  /** local metres */
  x: Float64Array;
  y: Float64Array;
  /** m/s, NaN when absent */
  speed?: Float64Array;
  /** set when the input was lon/lat: origin of the equirectangular projection */
  geo: { lon0: number; lat0: number } | null;
  /** source description for messages */
  source?: string;
}

/** Sorted, cleaned points with trip ids (S1 output). Rows are sorted by (object, t). */
export interface TripTable extends PointTable {
  trip: Int32Array;
  nTrips: number;
  /** counts of what cleaning removed: nothing is dropped silently */
  dropped: { duplicates: number; speed: number };
}

/** Sparse per-slice flow table, rows sorted by (slice, src, dst). */
export interface FlowTable {
  slice: Int32Array;
  src: Int32Array;
  dst: Int32Array;
  moves: Float64Array;
  objects: Float64Array;
}

export interface FlowSeries extends FlowTable {
  /** number of slices */
  T: number;
  /** number of cells (fixed vertex set) */
  N: number;
  /** start time of slice 0 (seconds) and slice length */
  t0: number;
  sliceS: number;
}

export function flowRows(f: FlowTable): number { return f.slice.length; }

/** Growable typed array (amortised doubling) for streaming ingest. */
export class GrowF64 {
  a: Float64Array; n = 0;
  constructor(cap = 1024) { this.a = new Float64Array(cap); }
  push(v: number): void {
    if (this.n === this.a.length) { const b = new Float64Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  finish(): Float64Array { return this.a.slice(0, this.n); }
}
export class GrowI32 {
  a: Int32Array; n = 0;
  constructor(cap = 1024) { this.a = new Int32Array(cap); }
  push(v: number): void {
    if (this.n === this.a.length) { const b = new Int32Array(this.a.length * 2); b.set(this.a); this.a = b; }
    this.a[this.n++] = v;
  }
  finish(): Int32Array { return this.a.slice(0, this.n); }
}
