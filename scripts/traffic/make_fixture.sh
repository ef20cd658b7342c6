#!/usr/bin/env bash
# Rebuilds the SUMO FCD test fixture test/fixtures/traffic/sumo_fcd.xml.gz with the demo scenario
# (scripts/traffic/sumo_scenario.sh) at a low probe penetration (12 %) and a 30 s sampling period,
# so that the gzipped XML stays around 1 MB. Takes a few minutes on one core.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${1:-$(mktemp -d)}
bash "$HERE/sumo_scenario.sh" "$WORK" 0.12 30
mkdir -p "$ROOT/test/fixtures/traffic"
gzip -9 -c "$WORK/fcd.xml" > "$ROOT/test/fixtures/traffic/sumo_fcd.xml.gz"
ls -l "$ROOT/test/fixtures/traffic/sumo_fcd.xml.gz"
