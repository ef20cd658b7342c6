#!/usr/bin/env bash
# Builds the SUMO demo scenario of the traffic module (README.md): an 11×11 grid city (4 km × 4 km) near
# Brisbane with a geo-reference, five demand phases (night / AM peak eastbound / midday / PM peak
# westbound / evening; ground truth 06:00, 10:00, 15:00, 19:00), simulates one day and writes
# floating car data (lon/lat) as XML and CSV. Optionally runs `paperlab traffic analyze` on it.
#
#   scripts/traffic/sumo_scenario.sh OUTDIR [PROBABILITY] [PERIOD_S] [--analyze]
#
# Needs Debian `sumo` and `sumo-tools` 1.15 (apt-get install -y sumo sumo-tools).
# Defaults: probe penetration 0.5, sampling period 15 s (≈ 300 k points, 46 MB).
# The checked-in test fixture used PROBABILITY=0.12 PERIOD_S=30 and is gzipped.
set -euo pipefail
OUT=${1:?usage: sumo_scenario.sh OUTDIR [PROBABILITY] [PERIOD_S] [--analyze]}
PROB=${2:-0.5}
PERIOD=${3:-15}
ANALYZE=${4:-}
command -v sumo >/dev/null || { echo "sumo is not installed: apt-get install -y sumo sumo-tools" >&2; exit 2; }
export SUMO_HOME=${SUMO_HOME:-/usr/share/sumo}
[ -f "$SUMO_HOME/tools/randomTrips.py" ] || { echo "SUMO_HOME=$SUMO_HOME has no tools/randomTrips.py (install sumo-tools)" >&2; exit 2; }
# paperlab's folder (a checkout, or the installed package, which ships this script)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd); cd "$OUT"

# 1. network: 11×11 junctions, 400 m blocks, 2 lanes, 50 km/h, guessed traffic lights
netgenerate --grid --grid.number 11 --grid.length 400 --default.lanenumber 2 \
  --default.speed 13.89 --tls.guess true -o grid.net.xml
# netgenerate writes no projection: add a UTM zone 56S reference so that --fcd-output.geo works
python3 - <<'PY'
import re
s = open('grid.net.xml').read()
s = re.sub(r'netOffset="[^"]*"', 'netOffset="-500000.00,-6960000.00"', s, count=1)
s = re.sub(r'projParameter="[^"]*"', 'projParameter="+proj=utm +zone=56 +south +ellps=WGS84 +datum=WGS84 +units=m +no_defs"', s, count=1)
open('grid.net.xml', 'w').write(s)
PY

# 2. demand: one randomTrips call per phase
RT="python3 $SUMO_HOME/tools/randomTrips.py -n grid.net.xml --fringe-factor 3 --min-distance 1000 --validate"
$RT -b 0     -e 21600 -p 20 --angle-factor 1            --prefix night_ -s 11 -o trips_night.xml
$RT -b 21600 -e 36000 -p 2  --angle 90  --angle-factor 8 --prefix am_    -s 12 -o trips_am.xml
$RT -b 36000 -e 54000 -p 5  --angle-factor 1            --prefix mid_   -s 13 -o trips_mid.xml
$RT -b 54000 -e 68400 -p 2  --angle 270 --angle-factor 8 --prefix pm_    -s 14 -o trips_pm.xml
$RT -b 68400 -e 86400 -p 10 --angle-factor 1            --prefix eve_   -s 15 -o trips_eve.xml

# 3. simulate one day (+ 1 h to drain) and export probe vehicles' positions as lon/lat
sumo -n grid.net.xml -r trips_night.xml,trips_am.xml,trips_mid.xml,trips_pm.xml,trips_eve.xml \
  -b 0 -e 90000 --fcd-output fcd.xml --fcd-output.geo \
  --device.fcd.probability "$PROB" --device.fcd.period "$PERIOD" --device.fcd.deterministic \
  --seed 7 --no-step-log --duration-log.statistics --time-to-teleport 300 --ignore-route-errors
python3 "$SUMO_HOME/tools/xml/xml2csv.py" fcd.xml -s , -o fcd.csv
echo "truth: 21600,36000,54000,68400 s (06:00, 10:00, 15:00, 19:00)" > truth.txt
ls -l fcd.xml fcd.csv

if [ "$ANALYZE" = "--analyze" ]; then
  node "${PAPERLAB_ROOT:-$ROOT}/bin/paperlab.js" traffic analyze fcd.xml --format fcd --truth 06:00,10:00,15:00,19:00 --out "$OUT/run"
fi
