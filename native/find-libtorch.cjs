// Finds libtorch: $LIBTORCH (a folder with include/ and lib/), then a Python `torch` package,
// then Debian's libtorch-dev. Used by binding.gyp and by install.js. Never downloads anything.
//
// A Python PyTorch built with CUDA (torch.version.cuda set) gives a CUDA build: its CUDA libraries
// (torch_cuda, c10_cuda) are linked too, the addon is compiled with that PyTorch's C++ ABI
// (torch._C._GLIBCXX_USE_CXX11_ABI) and C++ standard, PAPERLAB_CUDA_BUILD is defined, and when the
// CUDA runtime headers are found (CUDA_HOME, the toolkit beside nvcc, or the nvidia-* wheels)
// PAPERLAB_CUDA_HEADERS too (the CUDA caching allocator's counters). Overrides: PAPERLAB_CUDA=0
// builds for the CPU even with a CUDA PyTorch; PAPERLAB_CXX_STD=c++20 picks the standard.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

function candidate(root, inc, lib, source, extra = {}) {
  const api = path.join(inc, 'torch/csrc/api/include');
  const ok = fs.existsSync(path.join(inc, 'ATen/ATen.h')) && fs.existsSync(api) &&
    fs.existsSync(lib) && fs.readdirSync(lib).some((f) => f.startsWith('libtorch_cpu'));
  return ok ? { root, include: [inc, api], lib, source, cuda: null, cudaInclude: null, cxx11abi: true, ...extra } : null;
}

// One Python call: where torch is, its CUDA version, its ABI, and CUDA header folders to try.
const PROBE = `
import json, os, sys, torch
d = os.path.dirname(torch.__file__)
inc = []
try:
    from torch.utils.cpp_extension import CUDA_HOME
    if CUDA_HOME: inc.append(os.path.join(CUDA_HOME, 'include'))
except Exception:
    pass
for sp in sys.path:
    for sub in ('nvidia/cuda_runtime/include', 'nvidia/cu13/include', 'nvidia/cu12/include'):
        inc.append(os.path.join(sp, sub))
inc += ['/usr/local/cuda/include', '/usr/include']
print(json.dumps({'dir': d, 'version': torch.__version__, 'cuda': torch.version.cuda,
  'abi': bool(getattr(torch._C, '_GLIBCXX_USE_CXX11_ABI', True)), 'cudaInclude': inc}))
`;

function fromPython(py) {
  let info;
  try {
    info = JSON.parse(execFileSync(py, ['-c', PROBE], { stdio: ['ignore', 'pipe', 'ignore'], timeout: 120000 }).toString().trim());
  } catch { return null; /* no torch for this python */ }
  const dir = info.dir;
  const cuda = process.env.PAPERLAB_CUDA === '0' ? null : info.cuda || null;
  const lib = path.join(dir, 'lib');
  const hasCudaLibs = cuda && fs.existsSync(lib) && fs.readdirSync(lib).some((f) => f.startsWith('libtorch_cuda'));
  const cudaInclude = hasCudaLibs ? (info.cudaInclude.find((p) => fs.existsSync(path.join(p, 'cuda_runtime_api.h'))) ?? null) : null;
  return candidate(dir, path.join(dir, 'include'), lib, `python torch ${info.version} (${py})`,
    { cuda: hasCudaLibs ? cuda : null, cudaInclude, cxx11abi: info.abi, torchVersion: info.version });
}

let memo;
function find() {
  if (memo !== undefined) return memo;
  memo = findUncached();
  return memo;
}
function findUncached() {
  const env = process.env.LIBTORCH;
  if (env) {
    const c = candidate(env, path.join(env, 'include'), path.join(env, 'lib'), 'LIBTORCH');
    if (c) return c;
    throw new Error(`LIBTORCH=${env} does not hold include/ATen/ATen.h and lib/libtorch_cpu.*`);
  }
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    const c = fromPython(py);
    if (c) return c;
  }
  const deb = candidate('/usr', '/usr/include', '/usr/lib/x86_64-linux-gnu', 'Debian libtorch-dev');
  if (deb) return deb;
  const debArm = candidate('/usr', '/usr/include', '/usr/lib/aarch64-linux-gnu', 'Debian libtorch-dev');
  if (debArm) return debArm;
  return null;
}

/** What binding.gyp asks for: include dirs, defines, link flags and the C++ standard. */
function gyp(found, what) {
  const cuda = Boolean(found.cuda);
  switch (what) {
    case 'include': return [...found.include, ...(found.cudaInclude ? [found.cudaInclude] : [])].join(' ');
    case 'lib': return found.lib;
    case 'defines': return [`_GLIBCXX_USE_CXX11_ABI=${found.cxx11abi ? 1 : 0}`,
      ...(cuda ? ['PAPERLAB_CUDA_BUILD'] : []), ...(found.cudaInclude ? ['PAPERLAB_CUDA_HEADERS'] : []), ...ncclDefines(found)].join(' ');
    case 'libs': return cuda ? '-ltorch_cuda -lc10_cuda' : '';
    case 'std': return `-std=${process.env.PAPERLAB_CXX_STD || 'c++17'}`;
    default: return JSON.stringify(found, null, 2) + '\n';
  }
}

const HOW = [
  'paperlab needs libtorch (the C++ core of PyTorch) and none was found.',
  'Get it one of these ways, then run `npm install` again:',
  '  - Debian/Ubuntu:  sudo apt-get install -y libtorch-dev',
  '  - set LIBTORCH to an unpacked libtorch folder (with include/ and lib/)',
  '  - or have a Python with PyTorch installed (`python3 -c "import torch"` must work)',
].join('\n');

// USE_C10D_NCCL (native/distributed.cpp's ProcessGroupNCCL) only for a CUDA libtorch that ships the
// c10d NCCL header and whose nccl.h is reachable; PAPERLAB_NCCL=0 turns it off. Never on Debian's CPU libtorch.
function ncclDefines(found) {
  if (process.env.PAPERLAB_NCCL === '0') return [];
  const cuda = fs.readdirSync(found.lib).some((f) => f.startsWith('libtorch_cuda'));
  const header = found.include.some((d) => fs.existsSync(path.join(d, 'torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp')));
  const nccl = [...found.include, '/usr/include', path.join(process.env.CUDA_HOME || '/usr/local/cuda', 'include')]
    .some((d) => fs.existsSync(path.join(d, 'nccl.h')));
  return cuda && header && nccl ? ['USE_C10D_NCCL'] : [];
}

module.exports = { find, gyp, HOW, ncclDefines };

if (require.main === module) {
  let found;
  try { found = find(); } catch (e) { process.stderr.write(e.message + '\n'); process.exit(1); }
  if (!found) { process.stderr.write(HOW + '\n'); process.exit(1); }
  process.stdout.write(gyp(found, process.argv[2]));
}
