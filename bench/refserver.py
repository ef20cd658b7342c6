"""The reference side of BenchHelper.referenceServer / interleave: after the caller has printed its
hello line, answer each stdin line `<name> <reps>` by running fns[name] reps times and printing a
JSON list of the milliseconds of each run. An empty line or end of input stops it. (The pause that
lets the other side's threads settle before each block is BenchHelper.interleave's.)"""
import json, sys, time


def answer(fns):
    for line in sys.stdin:
        if not line.strip(): break
        name, reps = line.split()
        ts = []
        for _ in range(int(reps)):
            s = time.perf_counter(); fns[name](); ts.append((time.perf_counter() - s) * 1000)
        print(json.dumps(ts), flush=True)
