#!/usr/bin/env bash
# The dialplan answer with call limits against the same answer without, end to end and in the same run
# (BENCHMARKS.md, "Account call limits"): two instances of the real service (Release) on one database, one with
# Limits:Enabled=true, where every account and reseller has maxchannels and cps set, so an IP-authenticated call's
# answer carries limit_ignore_transfer and a limit per limit. tools/TlsBench posts the real tech-prefix capture
# from a closed loop of workers, kept alive or on a new connection per fetch (as mod_xml_curl). Rounds are
# interleaved; a figure is the median round, the ratio the median of the same-round ratios; server CPU per
# request is read from /proc/PID/stat around each run.
#
#   scripts/limits-bench.sh [SECONDS] [ROUNDS] [WORKERS]      defaults: 5 s, 5 rounds, 8 workers
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-5}
workers=${3:-8}
dir=.data/limits-bench
db=fsdir_limits_bench
form=../shared/fixtures/freeswitch/dialplan-acl-authed-tech-prefix.form

scripts/mariadb.sh start "$dir/db" >/dev/null
scripts/mariadb.sh apply "$dir/db" "$db" --seed >/dev/null
connection="$(scripts/mariadb.sh connection-string "$dir/db" "$db")"
scripts/mariadb.sh sql "$dir/db" "$db" "$(cat scripts/bench-call-rule.sql)" >/dev/null
# Every account limited, resellers included: the worst case, four limit actions.
scripts/mariadb.sh sql "$dir/db" "$db" "UPDATE accounts SET maxchannels = 500, cps = 50" >/dev/null
dotnet build src/FsDirectory -c Release --nologo -v quiet >/dev/null
dotnet build tools/TlsBench -c Release --nologo -v quiet >/dev/null

# Below 32768, where Linux picks no ephemeral port: the load makes thousands of client connections.
off=$(( 20000 + RANDOM % 12000 )); on=$(( off + 1 ))
start() { # PORT ENABLED LOG
  ConnectionStrings__Default="$connection" Logging__LogLevel__Default=Warning Limits__Enabled="$2" \
    dotnet src/FsDirectory/bin/Release/net10.0/FsDirectory.dll --urls "http://127.0.0.1:$1" >"$3" 2>&1 &
}
start "$off" false "$dir/off.log"; without=$!
start "$on" true "$dir/on.log"; with=$!
trap 'kill $without $with 2>/dev/null || true; scripts/mariadb.sh stop "$dir/db" >/dev/null' EXIT
for port in "$off" "$on"; do
  for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.2; done
done
answer() { curl -fs --data-binary "@$form" "http://127.0.0.1:$1/freeswitch"; }
answer "$on" | grep -q 'application="limit"' || { echo "limits-bench: the answer with limits carries no limit action" >&2; exit 1; }
! answer "$off" | grep -q 'application="limit"' || { echo "limits-bench: the answer without limits carries one" >&2; exit 1; }
echo "limit actions per answer: $(answer "$on" | grep -c 'application="limit"')"

run() { # PORT PID NEW -> "requests/s cpu_us_per_request errors"
  dotnet tools/TlsBench/bin/Release/net10.0/TlsBench.dll --url "http://127.0.0.1:$1" --form "$form" --new "$3" \
    --seconds "$seconds" --workers "$workers" --pid "$2"
}
median() { sort -n | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }

run "$off" "$without" false >/dev/null; run "$on" "$with" false >/dev/null
echo "| connection | without req/s | with req/s | with/without (req/s) | without CPU µs/req | with CPU µs/req | with/without (CPU) | errors |"
echo "|---|---|---|---|---|---|---|---|"
for fresh in false true; do
  rm -f "$dir"/{a,b,ac,bc,r,rc}; errors=0
  for round in $(seq 1 "$rounds"); do
    # Alternate which goes first, so neither always runs on a warmer or quieter machine.
    if (( round % 2 )); then
      read -r a ac ae < <(run "$off" "$without" "$fresh"); read -r b bc be < <(run "$on" "$with" "$fresh")
    else
      read -r b bc be < <(run "$on" "$with" "$fresh"); read -r a ac ae < <(run "$off" "$without" "$fresh")
    fi
    echo "$a" >> "$dir/a"; echo "$b" >> "$dir/b"; echo "$ac" >> "$dir/ac"; echo "$bc" >> "$dir/bc"
    awk -v a="$a" -v b="$b" 'BEGIN { printf "%.3f\n", b / a }' >> "$dir/r"
    awk -v a="$ac" -v b="$bc" 'BEGIN { printf "%.3f\n", b / a }' >> "$dir/rc"
    errors=$(( errors + ae + be ))
  done
  label=$([ "$fresh" = true ] && echo "new per request" || echo "keep-alive")
  echo "| $label | $(median < "$dir/a") | $(median < "$dir/b") | $(median < "$dir/r") | $(median < "$dir/ac") | $(median < "$dir/bc") | $(median < "$dir/rc") | $errors |"
done
