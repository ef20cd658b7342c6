#!/usr/bin/python3
"""Writes test/fixtures/traffic/ruptures_parity.json: what ruptures itself returns on small signals,
for test/modules/traffic/ruptures.test.ts to compare against (costs l2/l1/normal/rbf, searches
Pelt/Dynp/Binseg/Window, several penalties, counts, min_size and jump).

Run:  /usr/bin/python3 scripts/traffic/ruptures_parity.py <ruptures checkout>/src
Tool: ruptures' pure-Python sources (github.com/deepcharles/ruptures, commit ee1c8ff8 of 2026-05-26)
      on Debian's numpy 1.24 and scipy 1.10; the compiled KernelCPD helpers are not needed and are
      stubbed, so no build of ruptures is required.
"""
import json
import os
import sys
import types

import numpy as np

sys.path.insert(0, sys.argv[1])
for name, attrs in [('ruptures.utils._utils.convert_path_matrix', ['from_path_matrix_to_bkps_list']),
                    ('ruptures.detection._detection.ekcpd', ['ekcpd_cosine', 'ekcpd_Gaussian', 'ekcpd_L2', 'ekcpd_pelt_cosine', 'ekcpd_pelt_Gaussian', 'ekcpd_pelt_L2']),
                    ('ruptures.version', [])]:
    m = types.ModuleType(name)
    for a in attrs:
        setattr(m, a, lambda *x, **k: None)
    m.version = 'ee1c8ff'
    sys.modules[name] = m
import warnings  # noqa: E402
warnings.simplefilter('ignore')
import ruptures as rpt  # noqa: E402

rng = np.random.RandomState(23)
signals = {
    'mean1d': np.r_[np.zeros(20), 3 * np.ones(20), -1 * np.ones(20)] + 0.8 * rng.randn(60),
    'mean2d': np.c_[np.r_[np.zeros(15), 2 * np.ones(20), np.zeros(15)], np.r_[np.zeros(35), 3 * np.ones(15)]] + 0.7 * rng.randn(50, 2),
    'var1d': np.r_[rng.randn(30), 4 * rng.randn(30)],
    'noise1d': rng.randn(40),
}
PENS = {'l2': [2.0, 10.0, 40.0], 'l1': [1.0, 5.0, 20.0], 'rbf': [0.5, 2.0, 6.0], 'normal': [5.0, 20.0, 60.0]}
cases = []
for sname, x in signals.items():
    n = x.shape[0]
    for model in ['l2', 'l1', 'rbf', 'normal']:
        for min_size, jump in [(2, 1), (3, 2), (2, 5)]:
            for pen in PENS[model]:
                for algo, kw in [('pelt', {}), ('binseg', {}), ('window', {'width': 10})]:
                    est = getattr(rpt, algo.capitalize())(model=model, min_size=min_size, jump=jump, **kw).fit(x)
                    cases.append({'signal': sname, 'cost': model, 'search': algo, 'minSize': min_size, 'jump': jump, **kw, 'pen': pen, 'bkps': [int(b) for b in est.predict(pen=pen)]})
            for k in [1, 2, 3]:
                for algo, kw in [('dynp', {}), ('binseg', {}), ('window', {'width': 10})]:
                    try:
                        est = getattr(rpt, algo.capitalize())(model=model, min_size=min_size, jump=jump, **kw).fit(x)
                        bk = [int(b) for b in est.predict(n_bkps=k)]
                    except Exception as e:  # BadSegmentationParameters: no segmentation exists
                        bk = type(e).__name__
                    cases.append({'signal': sname, 'cost': model, 'search': algo, 'minSize': min_size, 'jump': jump, **kw, 'nBkps': k, 'bkps': bk})
    for model in ['l2', 'l1', 'rbf', 'normal']:
        c = rpt.costs.cost_factory(model).fit(x)
        for a, b in [(0, n), (0, 10), (5, 17), (n - 9, n)]:
            cases.append({'signal': sname, 'cost': model, 'segment': [a, b], 'value': float(c.error(a, b))})
        if model == 'rbf':
            cases.append({'signal': sname, 'cost': 'rbf', 'gamma': float(c.gamma)})
out = {'ruptures': 'ee1c8ff8a548d54c641b2bb471562165931f31c7', 'signals': {k: v.reshape(v.shape[0], -1).tolist() for k, v in signals.items()}, 'cases': cases}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'test', 'fixtures', 'traffic', 'ruptures_parity.json')
with open(path, 'w') as f:
    json.dump(out, f, separators=(',', ':'))
print(len(cases), 'cases ->', path)
