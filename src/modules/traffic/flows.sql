-- Trajectory flow graphs from points at scale (ours; the in-memory path of flows.ts gives the same
-- rows, see src/modules/traffic/README.md): nearest-seed cell assignment through a
-- 3×3 bucket neighbourhood, transitions between consecutive points of the same object within
-- :maxGap seconds, aggregated per time slice into (slice, src, dst, moves, objects).
--
-- Inputs
--   pts(vid, ts, x, y)        points in local metres, ts numeric seconds (cleaned: one row per
--                             (vid, ts); trips split where ts - prev_ts > :maxGap)
--   seeds(seed_id, sx, sy)    cell seeds (the Voronoi generators), same metres
-- Parameters (substituted as text by paperlab; written CAST('<number>' AS DOUBLE))
--   :B      bucket size, must be >= the coverage radius (max nearest-seed distance) so that the
--           nearest seed is always in the 3×3 neighbourhood of a point's bucket
--   :t0     start of slice 0 (seconds)   :slice  slice length (seconds)   :maxGap  max gap (s)
--
-- Dialect notes (the statement itself is portable; only the surroundings change)
--   DuckDB 1.x   runs as is (paperlab runs it through @duckdb/node-api). Timestamps: epoch(ts).
--   Spark SQL 3.x  runs as is (min_by, lag, floor exist). Timestamps: unix_timestamp(ts).
--                  Add /*+ BROADCAST(s) */ after the SELECT of pc so that seed_b is broadcast.
--   Trino        runs as is. Timestamps: to_unixtime(ts). The small build side (seed_b) is
--                replicated automatically.
--   `by` is reserved in some dialects, hence `by_`. Partition the input by day (and optionally by a
--   coarse spatial tile with a one-bucket margin) so that PARTITION BY vid stays within a day,
--   and write the result as Parquet partitioned by date.
--   Nearest-seed ties (two seeds at exactly the same distance) are resolved arbitrarily by
--   min_by; paperlab's in-memory path takes the lowest seed id. With real-valued coordinates
--   exact ties do not occur in practice.
WITH offs(dx, dy) AS (VALUES (-1,-1),(-1,0),(-1,1),(0,-1),(0,0),(0,1),(1,-1),(1,0),(1,1)),
seed_b AS (
  SELECT s.seed_id, s.sx, s.sy,
         CAST(floor(s.sx / :B) AS BIGINT) + o.dx AS bx,
         CAST(floor(s.sy / :B) AS BIGINT) + o.dy AS by_
  FROM seeds s CROSS JOIN offs o),
pc AS (
  SELECT p.vid, p.ts,
         min_by(s.seed_id, (p.x - s.sx) * (p.x - s.sx) + (p.y - s.sy) * (p.y - s.sy)) AS cell
  FROM pts p JOIN seed_b s
    ON s.bx = CAST(floor(p.x / :B) AS BIGINT) AND s.by_ = CAST(floor(p.y / :B) AS BIGINT)
  GROUP BY p.vid, p.ts),
tr AS (
  SELECT vid, ts, cell,
         lag(cell) OVER (PARTITION BY vid ORDER BY ts) AS prev_cell,
         lag(ts)   OVER (PARTITION BY vid ORDER BY ts) AS prev_ts
  FROM pc)
SELECT CAST(floor((ts - :t0) / :slice) AS INT) AS slice, prev_cell AS src, cell AS dst,
       count(*) AS moves, count(DISTINCT vid) AS objects
FROM tr
WHERE prev_cell IS NOT NULL AND cell <> prev_cell AND ts - prev_ts <= :maxGap
GROUP BY 1, 2, 3;
