#!/usr/bin/env bash
# Sustained load on loopback against the real service and a private MariaDB (see BENCHMARKS.md,
# "Reliability load run"): SECONDS at RATE requests/s, then the same again with MariaDB stopped from
# a third to two thirds of the run. Prints RSS before, between and after the runs.
#
#   scripts/load-run.sh [SECONDS] [RATE]        defaults: 60 s, 500 requests/s
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
seconds=${1:-60}
rate=${2:-500}
dir=.data/load-run
db=fsdir_load
log=$dir/service.log

scripts/mariadb.sh start "$dir"
scripts/mariadb.sh apply "$dir" "$db" --seed
dotnet build src/FsDirectory -c Release --nologo -v quiet >/dev/null
dotnet build tools/LoadRun -c Release --nologo -v quiet >/dev/null

port=$(( 20000 + RANDOM % 30000 ))
ConnectionStrings__Default="$(scripts/mariadb.sh connection-string "$dir" "$db")" \
  dotnet src/FsDirectory/bin/Release/net10.0/FsDirectory.dll --urls "http://127.0.0.1:$port" >"$log" 2>&1 &
service=$!
trap 'kill $service 2>/dev/null || true; scripts/mariadb.sh stop "$dir"' EXIT
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done

rss() { awk '/VmRSS/ {printf "%.1f MB", $2/1024}' "/proc/$service/status"; }
load() { dotnet tools/LoadRun/bin/Release/net10.0/LoadRun.dll --url "http://127.0.0.1:$port" --seconds "$seconds" --rate "$rate" --fixtures ../shared/fixtures/freeswitch; }

# Warm-up, so the first run's RSS is measured after JIT and pool growth.
dotnet tools/LoadRun/bin/Release/net10.0/LoadRun.dll --url "http://127.0.0.1:$port" --seconds 5 --rate "$rate" --fixtures ../shared/fixtures/freeswitch >/dev/null
echo "RSS after warm-up: $(rss)"
echo "== run 1: database up"
load
echo "RSS after run 1: $(rss)"

echo "== run 2: MariaDB stopped at $((seconds / 3)) s, started again at $((2 * seconds / 3)) s"
( sleep $((seconds / 3)); scripts/mariadb.sh stop "$dir"; echo "   [$(date +%T)] MariaDB stopped";
  sleep $((seconds / 3)); scripts/mariadb.sh start "$dir" 2>/dev/null; echo "   [$(date +%T)] MariaDB started" ) &
outage=$!
load
wait $outage
echo "RSS after run 2: $(rss)"
echo "readiness: $(curl -s "http://127.0.0.1:$port/health/ready")"
echo "reload failures logged during the outage: $(grep -c 'Snapshot reload failed' "$log" || true)"
if grep -q -e 'Contoso-1001-secret' -e 'a1-hash' "$log"; then echo "SECRET FOUND IN SERVICE LOG"; exit 1; fi
echo "service log checked: no password or a1-hash"
