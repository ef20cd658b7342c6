// DuckDB plumbing of the out-of-core path (disk.ts): streamed result chunks, column batches
// appended as data chunks, and the ingest Builder that appends rows to DuckDB.
import type { DuckDBAppender, DuckDBConnection, DuckDBDataChunk, DuckDBResult, DuckDBType } from '@duckdb/node-api';
import { Builder } from './ingest.ts';
import type { PointTable } from './types.ts';

export type Duck = typeof import('@duckdb/node-api');

/**
 * The chunks of a streamed result, fetching the next one while the caller works on the current one
 * (DuckDB produces on its own thread meanwhile). A pending fetch is settled before the generator
 * ends, so closing the connection afterwards is safe.
 */
export async function* chunks(res: DuckDBResult): AsyncGenerator<DuckDBDataChunk> {
  let next = res.fetchChunk();
  next.catch(() => {});
  try {
    for (;;) {
      const c = await next;
      if (!c || c.rowCount === 0) return;
      next = res.fetchChunk();
      next.catch(() => {});
      yield c;
    }
  } finally {
    await next.catch(() => null);
  }
}

/** Column batches appended to DuckDB as data chunks. */
export class Batch {
  readonly cols: unknown[][]; n = 0;
  constructor(private readonly duck: Duck, private readonly app: DuckDBAppender, private readonly types: DuckDBType[], readonly cap: number) {
    this.cols = types.map(() => new Array(cap));
  }
  /** call after filling row `n` of every column */
  next(): void { if (++this.n === this.cap) this.flush(); }
  flush(): void {
    const n = this.n; if (n === 0) return;
    const c = this.duck.DuckDBDataChunk.create(this.types, n);
    for (let j = 0; j < this.types.length; j++) c.setColumnValues(j, (n === this.cap ? this.cols[j]! : this.cols[j]!.slice(0, n)) as never);
    this.app.appendDataChunk(c);
    this.n = 0;
  }
  close(): void { this.flush(); this.app.closeSync(); }
}

/** The ingest Builder that appends rows to DuckDB instead of typed arrays. */
export class DiskBuilder extends Builder {
  private batch!: Batch;
  n = 0;
  x0 = Infinity; x1 = -Infinity; y0 = Infinity; y1 = -Infinity;
  firstOut: { i: number; x: number; y: number } | null = null;
  constructor(
    file: string,
    lenient: boolean,
    private readonly duck: Duck,
    private readonly con: DuckDBConnection,
    private readonly chunkRows: number,
  ) {
    super(file, lenient);
  }
  async open(): Promise<void> {
    await this.con.run('CREATE OR REPLACE TABLE raw (id VARCHAR, t DOUBLE, x DOUBLE, y DOUBLE)');
    const { VARCHAR, DOUBLE } = this.duck;
    this.batch = new Batch(this.duck, await this.con.createAppender('raw'), [VARCHAR, DOUBLE, DOUBLE, DOUBLE], this.chunkRows);
  }
  override async reset(): Promise<void> {
    await super.reset();
    if (this.batch) { this.batch.n = 0; this.batch.close(); }
    this.n = 0; this.x0 = this.y0 = Infinity; this.x1 = this.y1 = -Infinity; this.firstOut = null;
    await this.open();
  }
  override add(id: string, t: number, x: number, y: number): void {
    // speed is validated by addRow (bad speeds are errors / counted) but not stored: no later stage uses it
    const b = this.batch, k = b.n;
    b.cols[0]![k] = id; b.cols[1]![k] = t; b.cols[2]![k] = x; b.cols[3]![k] = y;
    if (x < this.x0) this.x0 = x; if (x > this.x1) this.x1 = x; if (y < this.y0) this.y0 = y; if (y > this.y1) this.y1 = y;
    if (!this.firstOut && (Math.abs(y) > 90 || Math.abs(x) > 180)) this.firstOut = { i: this.n, x, y };
    this.n++;
    b.next();
  }
  override get kept(): number { return this.n; }
  override finish(): PointTable { throw new Error('DiskBuilder keeps its points in DuckDB'); }
  close(): void { this.batch.close(); }
}
