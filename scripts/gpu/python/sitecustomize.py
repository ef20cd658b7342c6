# Loaded by every reference Python the GPU bench starts (scripts/gpu/bench.ts puts this folder first
# on PYTHONPATH): the unchanged CPU references of bench/*_ref.py and bench/*.bench.ts then build
# their tensors and modules on CUDA (torch.set_default_device, PyTorch 2.0+), and their clocks
# (time.perf_counter, time.process_time) wait for the GPU first (torch.cuda.synchronize), so a timed
# step includes its kernels, as our side's timing does.
import os
import time

if os.environ.get('PAPERLAB_BENCH_DEVICE', 'cuda').startswith('cuda'):
    try:
        import torch
        if torch.cuda.is_available():
            torch.set_default_device(os.environ.get('PAPERLAB_BENCH_DEVICE', 'cuda'))
            _perf = time.perf_counter

            def _synced():
                torch.cuda.synchronize()
                return _perf()

            time.perf_counter = _synced
            time.process_time = _synced  # (CPU time means nothing for GPU work: wall time, synchronized)
    except Exception as e:  # a reference without torch still runs
        print(f'sitecustomize: no CUDA defaults ({e})', file=os.sys.stderr)
