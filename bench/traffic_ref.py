# Straightforward NumPy/PyTorch reference for the traffic bench (paperlab's traffic module):
#  points: csv module -> numpy, sort by (object, t), nearest seed by brute force (torch.cdist,
#          chunked), transitions within the gap, aggregation with np.unique  (seeds are given:
#          the reference does no partitioning, i.e. it does less work than paperlab's pipeline)
#  change-points: optimal partitioning with the same L2 cost and penalty, O(T^2) without pruning
import csv, json, time
import numpy as np

def points_flows(cfg):
    t0 = time.perf_counter()
    ids, ts, xs, ys = {}, [], [], []
    obj = []
    with open(cfg['csv'], newline='') as f:
        r = csv.reader(f)
        next(r)
        for row in r:
            k = ids.setdefault(row[0], len(ids))
            obj.append(k); ts.append(float(row[1])); xs.append(float(row[2])); ys.append(float(row[3]))
    obj = np.array(obj, dtype=np.int64); t = np.array(ts); x = np.array(xs); y = np.array(ys)
    t_read = time.perf_counter() - t0
    order = np.lexsort((t, obj))
    obj, t, x, y = obj[order], t[order], x[order], y[order]
    sx = np.array(cfg['sx']); sy = np.array(cfg['sy'])
    seeds = torch.tensor(np.stack([sx, sy], 1))
    cell = np.empty(len(x), dtype=np.int64)
    P = torch.tensor(np.stack([x, y], 1))
    for s in range(0, len(x), 200000):
        cell[s:s + 200000] = torch.cdist(P[s:s + 200000], seeds).argmin(1).numpy()
    same = (obj[1:] == obj[:-1]) & (t[1:] - t[:-1] <= cfg['maxGap']) & (cell[1:] != cell[:-1])
    sl = np.floor((t[1:][same] - cfg['t0']) / cfg['slice']).astype(np.int64)
    N = len(sx)
    key = (sl * N + cell[:-1][same]) * N + cell[1:][same]
    uk, moves = np.unique(key, return_counts=True)
    return {'rows': int(len(uk)), 'moves': int(moves.sum()), 'ms': (time.perf_counter() - t0) * 1000, 'read_ms': t_read * 1000}

def opt_partition(X, beta, min_size=2):
    T = X.shape[0]
    S = np.vstack([np.zeros((1, X.shape[1])), np.cumsum(X, 0)])
    Q = np.concatenate([[0.0], np.cumsum((X * X).sum(1))])
    F = np.full(T + 1, np.inf); F[0] = -beta; last = np.zeros(T + 1, dtype=np.int64)
    for t in range(min_size, T + 1):
        s = np.arange(0, t - min_size + 1)
        s = s[(s == 0) | (s >= min_size)]
        seg = S[t] - S[s]
        c = Q[t] - Q[s] - (seg * seg).sum(1) / (t - s)
        v = F[s] + np.maximum(c, 0) + beta
        i = int(np.argmin(v)); F[t] = v[i]; last[t] = s[i]
    cps = []; t = T
    while last[t] > 0:
        cps.append(int(last[t])); t = int(last[t])
    return sorted(cps)

def changepoints(cfg):
    X = np.array(cfg['X']).reshape(cfg['T'], cfg['d'])
    ms = bench(lambda: opt_partition(X, cfg['beta']), warmup=1, reps=3)
    return {'ms': ms, 'cps': opt_partition(X, cfg['beta'])}
