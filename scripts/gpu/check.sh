#!/usr/bin/env bash
# The GPU check (docs/gpu.md): on a machine with a CUDA PyTorch (python3 -c "import torch" with
# torch.version.cuda set), builds the addon against that PyTorch, runs test/gpu/*.test.ts and the GPU
# bench (each DL module's train step, ours against the same step in that PyTorch, same run), and
# writes everything into $OUT:
#   $OUT/summary.txt        one line per step: ok / FAILED (rc) / skipped, and seconds
#   $OUT/check.log          every step's output
#   $OUT/env.txt            nvidia-smi, PyTorch, compiler, Node
#   $OUT/torch-version.json what the built addon reports (GPU name, CUDA versions)
#   $OUT/gpu-tests.tap      the GPU tests (node:test TAP)
#   $OUT/gpu-bench.json     the bench rows ({ rows: [...] } like bench/results.json), GPU named
# Node: the machine's own if it is 20+, else .gpu/node-linux-x64.tar.gz (scripts/gpu/pack-node.sh);
# npm packages: node_modules if usable, else .gpu/node_modules.tar.gz. No network is used.
# Every step is time-boxed and a failed step does not stop the next ones; the whole run stays
# under 10 minutes (CHECK_BUDGET_S, default 560). Usage: OUT=/some/dir bash scripts/gpu/check.sh
# (default OUT=./gpu-out); PAPERLAB_GPU_SKIP_BUILD=1 keeps an addon already built there.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
OUT="${OUT:-$ROOT/gpu-out}"
mkdir -p "$OUT"
LOG="$OUT/check.log"
SUMMARY="$OUT/summary.txt"
: > "$LOG"; : > "$SUMMARY"
T0=$(date +%s)
log() { echo "[$(date -u +%H:%M:%S) +$(( $(date +%s) - T0 ))s] $*" | tee -a "$LOG"; }

# The whole check ends by T0 + CHECK_BUDGET_S (default 560 s: the device tool stops a command at
# 600 s); each step's time box is also cut to what is left.
DEADLINE=$(( T0 + ${CHECK_BUDGET_S:-560} ))

# step NAME SECONDS COMMAND...: runs COMMAND time-boxed, logs it, records the outcome, never exits
step() {
  local name="$1" secs="$2"; shift 2
  local s=$(date +%s) rc=0
  local left=$(( DEADLINE - s - 5 ))
  if [ "$left" -lt 15 ]; then skip "$name" "no time left in the ${CHECK_BUDGET_S:-560}s budget"; return 0; fi
  [ "$secs" -gt "$left" ] && secs=$left
  log "== $name (time box ${secs}s)"
  timeout --kill-after=10 "$secs" "$@" >> "$LOG" 2>&1 || rc=$?
  local d=$(( $(date +%s) - s ))
  if [ "$rc" -eq 0 ]; then echo "ok       $name (${d}s)" >> "$SUMMARY"; log "   ok (${d}s)"
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then echo "TIMEOUT  $name (${d}s)" >> "$SUMMARY"; log "   TIMEOUT after ${d}s"
  else echo "FAILED   $name (rc $rc, ${d}s)" >> "$SUMMARY"; log "   FAILED rc=$rc (${d}s)"; fi
  return 0
}
skip() { echo "skipped  $1 ($2)" >> "$SUMMARY"; log "== $1: skipped ($2)"; }

# the Python with PyTorch: the first of $PYTHON, python3, python, /usr/bin/python3 whose torch has
# CUDA, else the first with any torch
PY=""
for cand in ${PYTHON:-} python3 python /usr/local/bin/python3 /usr/bin/python3; do
  c=$(command -v "$cand" 2>/dev/null) || continue
  if "$c" -c 'import torch, sys; sys.exit(0 if torch.version.cuda else 1)' 2>/dev/null; then PY="$c"; break; fi
  if [ -z "$PY" ] && "$c" -c 'import torch' 2>/dev/null; then PY="$c"; fi
done
PY="${PY:-python3}"
export PYTHON="$PY" PAPERLAB_PYTHON="$PY"
export PAPERLAB_THREADS="${PAPERLAB_THREADS:-8}"

# ---------------------------------------------------------------- 1. the machine
{
  echo "date: $(date -u)"; echo "host: $(hostname)"; echo "cpus: $(nproc)"
  nvidia-smi 2>&1 || echo "nvidia-smi: not available"
  echo "python: $PY"
  "$PY" -c 'import torch, sys; print("python", sys.version.split()[0]); print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available()); print("gpu", torch.cuda.get_device_name(0) if torch.cuda.is_available() else None); print("cxx11abi", torch._C._GLIBCXX_USE_CXX11_ABI)' 2>&1 || echo "python torch: not importable"
  g++ --version 2>&1 | head -1 || echo "g++: missing"
  command -v nvcc >/dev/null && nvcc --version | tail -2
} > "$OUT/env.txt" 2>&1 || true
log "machine: $(grep -E '^(torch|gpu)' "$OUT/env.txt" | tr '\n' ' ')"

# ---------------------------------------------------------------- 2. Node 20 and the npm packages
NODE_DIR=""
if command -v node >/dev/null && node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' 2>/dev/null; then
  NODE_DIR="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
  log "node: the machine's $(node --version) ($NODE_DIR)"
fi
if [ -f .gpu/node-linux-x64.tar.gz ] && { [ -z "$NODE_DIR" ] || [ ! -f "$NODE_DIR/include/node/node_api.h" ]; }; then
  mkdir -p .gpu/node && tar xzf .gpu/node-linux-x64.tar.gz -C .gpu/node
  if [ -z "$NODE_DIR" ]; then NODE_DIR="$ROOT/.gpu/node"; export PATH="$NODE_DIR/bin:$PATH"; log "node: $(node --version) from .gpu/node-linux-x64.tar.gz"; fi
  NODE_HEADERS="$ROOT/.gpu/node/include/node"
else
  NODE_HEADERS="${NODE_DIR:+$NODE_DIR/include/node}"
fi
if ! command -v node >/dev/null; then
  skip "everything else" "no Node 20 here and no .gpu/node-linux-x64.tar.gz (run scripts/gpu/pack-node.sh where there is a network, carry .gpu)"
  cat "$SUMMARY"; exit 1
fi
if [ ! -e node_modules/tsx ] || [ ! -e node_modules/node-addon-api ]; then
  if [ -f .gpu/node_modules.tar.gz ]; then
    [ -L node_modules ] && rm -f node_modules
    mkdir -p node_modules && tar xzf .gpu/node_modules.tar.gz -C node_modules
    log "npm packages: from .gpu/node_modules.tar.gz ($(ls node_modules | wc -l) entries)"
  else
    log "npm packages: node_modules unusable and no .gpu/node_modules.tar.gz"
  fi
fi

# ---------------------------------------------------------------- 3. the addon against this PyTorch
# g++ directly (binding.gyp's two sources and flags): no node-gyp, no network. Flags from native/find-libtorch.cjs,
# which links torch_cuda/c10_cuda and takes PyTorch's C++ ABI when its torch has CUDA.
build_addon() {
  local std="$1"
  local inc defs libs lib napi
  inc=$(PAPERLAB_CXX_STD="$std" node native/find-libtorch.cjs include)
  defs=$(node native/find-libtorch.cjs defines)
  libs=$(node native/find-libtorch.cjs libs)
  lib=$(node native/find-libtorch.cjs lib)
  napi=$(node -p "require('node-addon-api').include_dir")
  node native/find-libtorch.cjs json
  mkdir -p build/Release
  local args=(-shared -fPIC "-std=$std" -O2 -fexceptions -frtti -Wno-unused-parameter -Wno-deprecated-declarations
    -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -DUSE_C10D_GLOO -DBUILDING_NODE_EXTENSION -I"$NODE_HEADERS" -I"$napi"
    -idirafter "$PWD/native/gloo-shim")
  for i in $inc; do args+=(-I"$i"); done
  for d in $defs; do args+=(-D"$d"); done
  args+=(native/addon.cpp native/distributed.cpp -o build/Release/paperlab_torch.node -L"$lib" -Wl,-rpath,"$lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -lc10)
  for l in $libs; do args+=("$l"); done
  args+=(-Wl,--as-needed -ldl)
  echo "g++ ${args[*]}"
  g++ "${args[@]}"
}
if [ -n "${PAPERLAB_GPU_SKIP_BUILD:-}" ] && [ -f build/Release/paperlab_torch.node ]; then
  skip "build addon" "PAPERLAB_GPU_SKIP_BUILD: using build/Release/paperlab_torch.node as it is"
elif [ -z "${NODE_HEADERS:-}" ] || [ ! -f "$NODE_HEADERS/node_api.h" ]; then
  skip "build addon" "no Node headers (node_api.h): carry .gpu/node-linux-x64.tar.gz"
else
  export -f build_addon; export NODE_HEADERS
  # one file against PyTorch 2.x's headers: ~1.5–3 min on a 16-core machine (one core compiles)
  step "build addon (C++17)" 300 bash -c 'build_addon c++17'
  # a compile error (not a time-out) may be a newer PyTorch needing C++20
  if grep -q "^FAILED   build addon" "$SUMMARY"; then step "build addon (C++20)" 300 bash -c 'build_addon c++20'; fi
fi
step "addon loads; torchVersion" 60 node --import tsx -e "
  const t = await import('./src/core/torch/index.ts');
  const v = t.torchVersion();
  const out = { ...v, config: undefined, cudaAvailable: t.cuda.isAvailable(), deviceCount: t.cuda.deviceCount() };
  (await import('node:fs')).writeFileSync('$OUT/torch-version.json', JSON.stringify(out, null, 2));
  console.log(JSON.stringify(out));
  if (!v.cuda) process.exit(3);"

# ---------------------------------------------------------------- 4. the GPU tests
step "test/gpu" 150 bash -c "node --import tsx --test --test-reporter=tap --test-concurrency=1 test/gpu/*.test.ts > '$OUT/gpu-tests.tap' 2>&1; rc=\$?; tail -12 '$OUT/gpu-tests.tap'; exit \$rc"
# and the device tests that run everywhere, now with CUDA present
step "test/core device, half, amp" 90 bash -c "node --import tsx --test --test-reporter=tap test/core/device.test.ts test/core/half.test.ts test/core/amp.test.ts > '$OUT/core-tests.tap' 2>&1; rc=\$?; tail -12 '$OUT/core-tests.tap'; exit \$rc"

# ---------------------------------------------------------------- 5. the GPU bench
step "GPU bench" 240 node bin/run-ts.js scripts/gpu/bench.ts "$OUT/gpu-bench.json"

log "done in $(( $(date +%s) - T0 ))s"
cat "$SUMMARY" | tee -a "$LOG"
