// Finds libtorch: $LIBTORCH (a folder with include/ and lib/), then a Python `torch` package,
// then Debian's libtorch-dev. Used by binding.gyp and by install.js. Never downloads anything.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

function candidate(root, inc, lib, source) {
  const api = path.join(inc, 'torch/csrc/api/include');
  const ok = fs.existsSync(path.join(inc, 'ATen/ATen.h')) && fs.existsSync(api) &&
    fs.existsSync(lib) && fs.readdirSync(lib).some((f) => f.startsWith('libtorch_cpu'));
  return ok ? { root, include: [inc, api], lib, source } : null;
}

function find() {
  const env = process.env.LIBTORCH;
  if (env) {
    const c = candidate(env, path.join(env, 'include'), path.join(env, 'lib'), 'LIBTORCH');
    if (c) return c;
    throw new Error(`LIBTORCH=${env} does not hold include/ATen/ATen.h and lib/libtorch_cpu.*`);
  }
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean)) {
    try {
      const dir = execFileSync(py, ['-c', 'import torch, os; print(os.path.dirname(torch.__file__))'], {
        stdio: ['ignore', 'pipe', 'ignore'], timeout: 60000,
      }).toString().trim();
      const c = dir && candidate(dir, path.join(dir, 'include'), path.join(dir, 'lib'), `python torch (${py})`);
      if (c) return c;
    } catch { /* no torch for this python */ }
  }
  const deb = candidate('/usr', '/usr/include', '/usr/lib/x86_64-linux-gnu', 'Debian libtorch-dev');
  if (deb) return deb;
  const debArm = candidate('/usr', '/usr/include', '/usr/lib/aarch64-linux-gnu', 'Debian libtorch-dev');
  if (debArm) return debArm;
  return null;
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

module.exports = { find, HOW, ncclDefines };

if (require.main === module) {
  const what = process.argv[2];
  let found;
  try { found = find(); } catch (e) { process.stderr.write(e.message + '\n'); process.exit(1); }
  if (!found) { process.stderr.write(HOW + '\n'); process.exit(1); }
  if (what === 'include') process.stdout.write(found.include.join(' '));
  else if (what === 'lib') process.stdout.write(found.lib);
  else if (what === 'defines') process.stdout.write(ncclDefines(found).join(' '));
  else process.stdout.write(JSON.stringify(found, null, 2) + '\n');
}
