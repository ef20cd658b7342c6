"""The reference side of BenchHelper.referenceServer / interleave: after the caller has printed its
hello line, answer each stdin line `<name> <reps>` by running fns[name] reps times and printing a
JSON list of the milliseconds of each run. An empty line or end of input stops it. Each block
starts after SETTLE_S, so the caller's BLAS threads (OpenBLAS spins ~0.1 s after its last call)
are idle before anything is timed; BenchHelper.interleave waits the same before its own blocks."""
import json, sys, time

SETTLE_S = 0.25


def answer(fns):
    for line in sys.stdin:
        if not line.strip(): break
        name, reps = line.split()
        time.sleep(SETTLE_S)
        ts = []
        for _ in range(int(reps)):
            s = time.perf_counter(); fns[name](); ts.append((time.perf_counter() - s) * 1000)
        print(json.dumps(ts), flush=True)
