#!/usr/bin/env bash
# HTTPS against plain HTTP, in the same run (BENCHMARKS.md, "HTTPS"): the real service (Release) on loopback with
# an ECDSA P-256 server certificate from scripts/certs.sh, and tools/TlsBench posting the real
# directory and dialplan captures. Over HTTPS the switch certificate is required and presented, as on a real
# switch. "new per request": a new connection and a full TLS handshake for every fetch, as mod_xml_curl makes
# (a new curl handle per fetch: it resumes no session, and neither does the client here); "keep-alive": one
# connection per worker. Rounds are interleaved; each figure is the median round, the ratio the median of the
# same-round ratios. Server CPU per request is read from /proc/PID/stat around each run.
#
# A second table puts the service's handshake beside OpenSSL's own server on the same certificates (openssl
# s_time: one new, never resumed, handshake after another, switch certificate presented): the part of a new
# HTTPS connection that is the system's OpenSSL, not the service. A third runs the shipped local HAProxy
# (freeswitch-conf/haproxy/fsdirectory.cfg) in front of each instance, as on a switch host: curl (libcurl, as
# mod_xml_curl) opens a new plain connection to it for every fetch, and HAProxy keeps its connections to the
# instance, over HTTPS with the switch certificate (`ssl verify required ca-file ... crt ...` added to its
# server lines) or over plain HTTP.
#
#   scripts/tls-bench.sh [SECONDS] [ROUNDS] [WORKERS]      defaults: 5 s, 3 rounds, 8 workers
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-5}
rounds=${2:-3}
workers=${3:-8}
dir=.data/tls-bench
db=fsdir_tls_bench
fixtures=../shared/fixtures/freeswitch

scripts/mariadb.sh start "$dir/db" >/dev/null
scripts/mariadb.sh apply "$dir/db" "$db" --seed >/dev/null
scripts/mariadb.sh sql "$dir/db" "$db" "$(cat scripts/bench-call-rule.sql)" >/dev/null
scripts/certs.sh "$dir/certs" localhost 127.0.0.1 switch1 >/dev/null
dotnet build src/FsDirectory -c Release --nologo -v quiet >/dev/null
dotnet build tools/TlsBench -c Release --nologo -v quiet >/dev/null
scripts/haproxy.sh ensure

# Two instances on one database: plain HTTP as FreeSWITCH uses it today, and HTTPS with switch certificates required.
# Below 32768, where Linux picks no ephemeral port: the load makes thousands of client connections.
http=$(( 20000 + RANDOM % 12000 )); https=$(( http + 1 ))
connection="$(scripts/mariadb.sh connection-string "$dir/db" "$db")"
ConnectionStrings__Default="$connection" Logging__LogLevel__Default=Warning \
  dotnet src/FsDirectory/bin/Release/net10.0/FsDirectory.dll --urls "http://127.0.0.1:$http" >"$dir/plain.log" 2>&1 &
plain=$!
ConnectionStrings__Default="$connection" Logging__LogLevel__Default=Warning \
Https__CertificatePath="$dir/certs/server.pem" Https__KeyPath="$dir/certs/server.key" \
FreeSwitch__Access__ClientCertificate=Required FreeSwitch__Access__TrustedCaFile="$dir/certs/ca.pem" \
  dotnet src/FsDirectory/bin/Release/net10.0/FsDirectory.dll --urls "https://127.0.0.1:$https" >"$dir/https.log" 2>&1 &
tls=$!
reference_port=$(( https + 1 ))
openssl s_server -accept "127.0.0.1:$reference_port" -cert "$dir/certs/server.pem" -key "$dir/certs/server.key" \
  -CAfile "$dir/certs/ca.pem" -Verify 2 -www -quiet >/dev/null 2>&1 &
reference=$!
trap 'kill $plain $tls $reference $(cat "$dir"/haproxy-*.pid) 2>/dev/null || true; rm -f "$dir"/haproxy-*.pid; scripts/mariadb.sh stop "$dir/db" >/dev/null' EXIT
# The shipped balancer twice: to the plain instance, and over HTTPS (switch certificate presented) to the other.
cat "$dir/certs/switch1.pem" "$dir/certs/switch1.key" > "$dir/switch1-with-key.pem"
sed -E "s|^( +server .*)$|\1 ssl verify required ca-file $PWD/$dir/certs/ca.pem crt $PWD/$dir/switch1-with-key.pem|" \
  freeswitch-conf/haproxy/fsdirectory.cfg > "$dir/fsdirectory-tls.cfg"
lb_plain=$(( https + 2 )); lb_tls=$(( https + 3 ))
balancer() { # PORT BACKEND CONFIG
  FSDIR_LB_BIND="127.0.0.1:$1" FSDIR_BACKEND_1="127.0.0.1:$2" FSDIR_BACKEND_2="127.0.0.1:$2" \
    /usr/sbin/haproxy -D -p "$dir/haproxy-$1.pid" -f "$3"
}
balancer "$lb_plain" "$http" freeswitch-conf/haproxy/fsdirectory.cfg
balancer "$lb_tls" "$https" "$dir/fsdirectory-tls.cfg"
for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$http/health/ready" >/dev/null && break; sleep 0.2; done
for _ in $(seq 1 150); do curl -fs --cacert "$dir/certs/ca.pem" "https://127.0.0.1:$https/health/ready" >/dev/null && break; sleep 0.2; done

# run FORM NEW SCHEME PORT PID -> "requests/s cpu_us_per_request errors"
run() {
  dotnet tools/TlsBench/bin/Release/net10.0/TlsBench.dll --url "$3://127.0.0.1:$4" --form "$fixtures/$1.form" --new "$2" \
    --seconds "$seconds" --workers "$workers" --pid "$5" --ca "$dir/certs/ca.pem" \
    --cert "$dir/certs/switch1.pem" --key "$dir/certs/switch1.key"
}

median() { sort -n | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }

# Warm-up: JIT and pools, both schemes.
run directory-sip_auth-register false http "$http" "$plain" >/dev/null
run directory-sip_auth-register true https "$https" "$tls" >/dev/null

echo "| capture | connection | plain req/s | HTTPS req/s | HTTPS/plain | plain server CPU µs/req | HTTPS server CPU µs/req | errors |"
echo "|---|---|---|---|---|---|---|---|"
for form in directory-sip_auth-register dialplan-acl-authed-tech-prefix; do
  for fresh in true false; do
    rm -f "$dir"/{plain,tls,ratios,plaincpu,tlscpu}; errors=0
    for _ in $(seq 1 "$rounds"); do
      read -r p pc pe < <(run "$form" "$fresh" http "$http" "$plain")
      read -r t tc te < <(run "$form" "$fresh" https "$https" "$tls")
      echo "$p" >> "$dir/plain"; echo "$t" >> "$dir/tls"; echo "$pc" >> "$dir/plaincpu"; echo "$tc" >> "$dir/tlscpu"
      awk -v p="$p" -v t="$t" 'BEGIN { printf "%.2f\n", t / p }' >> "$dir/ratios"
      errors=$(( errors + pe + te ))
    done
    label=$([ "$fresh" = true ] && echo "new per request" || echo "keep-alive")
    echo "| ${form%%-*} | $label | $(median < "$dir/plain") | $(median < "$dir/tls") | $(median < "$dir/ratios") | $(median < "$dir/plaincpu") | $(median < "$dir/tlscpu") | $errors |"
  done
done

# handshakes PORT PID PATH -> "handshakes/s cpu_us_per_handshake" (the server's CPU from /proc, clock ticks of 10 ms)
handshakes() {
  local before after count
  before=$(awk '{ print $14 + $15 }' "/proc/$2/stat")
  count=$(openssl s_time -connect "127.0.0.1:$1" -new -time "$seconds" -www "$3" -CAfile "$dir/certs/ca.pem" \
    -cert "$dir/certs/switch1.pem" -key "$dir/certs/switch1.key" 2>/dev/null | awk '/connections in [0-9]+ real seconds/ { print $1 }')
  after=$(awk '{ print $14 + $15 }' "/proc/$2/stat")
  echo "$(( count / seconds )) $(( (after - before) * 10000 / count ))"
}

echo
echo "| server (new handshake each time, client certificate presented) | handshakes/s | server CPU µs/handshake |"
echo "|---|---|---|"
rm -f "$dir"/{service,reference,servicecpu,referencecpu}
for _ in $(seq 1 "$rounds"); do
  read -r n c < <(handshakes "$https" "$tls" /health/live); echo "$n" >> "$dir/service"; echo "$c" >> "$dir/servicecpu"
  read -r n c < <(handshakes "$reference_port" "$reference" /); echo "$n" >> "$dir/reference"; echo "$c" >> "$dir/referencecpu"
done
echo "| FsDirectory (Kestrel), GET /health/live | $(median < "$dir/service") | $(median < "$dir/servicecpu") |"
echo "| openssl s_server -www (the same OpenSSL, no application) | $(median < "$dir/reference") | $(median < "$dir/referencecpu") |"

# through PORT PID FORM -> "fetches/s service_cpu_us haproxy_cpu_us failures": curl, 4 at a time, a new plain
# connection to the balancer for every fetch (HTTP/1.1, Connection: close), as mod_xml_curl's single binding makes.
through() {
  local urls="$dir/urls-$1" count=$(( seconds * 300 )) before lb_before after lb_after start end codes
  for _ in $(seq 1 "$count"); do printf 'url = "http://127.0.0.1:%s/freeswitch"\noutput = "/dev/null"\n' "$1"; done > "$urls"
  before=$(awk '{ print $14 + $15 }' "/proc/$2/stat"); lb_before=$(awk '{ print $14 + $15 }' "/proc/$(cat "$dir/haproxy-$1.pid")/stat")
  start=$(date +%s%N)
  codes=$(curl -s --no-progress-meter -Z --parallel-max 4 --http1.1 -H "Connection: close" -H "User-Agent: freeswitch-xml/1.0" \
    --data-binary "@$fixtures/$3.form" -w "%{http_code}\n" -K "$urls" | grep -vc '^200$' || true)
  end=$(date +%s%N)
  after=$(awk '{ print $14 + $15 }' "/proc/$2/stat"); lb_after=$(awk '{ print $14 + $15 }' "/proc/$(cat "$dir/haproxy-$1.pid")/stat")
  echo "$(( count * 1000000000 / (end - start) )) $(( (after - before) * 10000 / count )) $(( (lb_after - lb_before) * 10000 / count )) $codes"
}

echo
echo "| capture, through the local HAProxy | plain req/s | HTTPS req/s | HTTPS/plain | plain: service / HAProxy CPU µs/req | HTTPS: service / HAProxy CPU µs/req | failures |"
echo "|---|---|---|---|---|---|---|"
for form in directory-sip_auth-register dialplan-acl-authed-tech-prefix; do
  through "$lb_plain" "$plain" "$form" >/dev/null; through "$lb_tls" "$tls" "$form" >/dev/null
  rm -f "$dir"/{lp,lt,lratios,lpc,lph,ltc,lth}; failures=0
  for _ in $(seq 1 "$rounds"); do
    read -r p pc ph pf < <(through "$lb_plain" "$plain" "$form")
    read -r t tc th tf < <(through "$lb_tls" "$tls" "$form")
    echo "$p" >> "$dir/lp"; echo "$t" >> "$dir/lt"; echo "$pc" >> "$dir/lpc"; echo "$ph" >> "$dir/lph"; echo "$tc" >> "$dir/ltc"; echo "$th" >> "$dir/lth"
    awk -v p="$p" -v t="$t" 'BEGIN { printf "%.2f\n", t / p }' >> "$dir/lratios"
    failures=$(( failures + pf + tf ))
  done
  echo "| ${form%%-*} | $(median < "$dir/lp") | $(median < "$dir/lt") | $(median < "$dir/lratios") | $(median < "$dir/lpc") / $(median < "$dir/lph") | $(median < "$dir/ltc") / $(median < "$dir/lth") | $failures |"
done
