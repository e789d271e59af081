#!/usr/bin/env bash
# `make cluster`: the scale-out topology on one machine. A three-node MariaDB Galera cluster on
# 127.0.0.11-13 (scripts/galera.sh) with the schema, migrations and demo data, and two FsDirectory
# instances on different nodes, each listing every node with its own first, both pushing to the
# same Event Socket node (a FreeSWITCH on this machine, if there is one). `make stop` stops it all.
#
#   scripts/cluster.sh start | stop | status
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$here/.data/cluster
database=fsdirectory
config=${CONFIG:-Release}
event_socket=${EVENT_SOCKET:-127.0.0.1:8021}
event_socket_password=${EVENT_SOCKET_PASSWORD:-ClueCon}
ports=(8081 8082)

galera() { "$here/scripts/galera.sh" "$@"; }

# No curl on a bare machine: one HTTP/1.0 request through bash's /dev/tcp.
ready() {
  local reply
  reply=$( (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf 'GET /health/ready HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 && head -1 <&3) 2>/dev/null) || return 1
  [[ "$reply" == *" 200 "* ]]
}

instance_running() { [ -f "$dir/instance$1.pid" ] && kill -0 "$(cat "$dir/instance$1.pid")" 2>/dev/null; }

start() {
  mkdir -p "$dir"
  galera start "$dir/galera" 127.0.0 3407 4567
  galera apply "$dir/galera" "$database" --seed
  local i
  for i in 0 1; do
    local n=$((i + 1))
    instance_running "$n" && continue
    ConnectionStrings__Default="$(galera server "$dir/galera" "$n");Database=$database" \
    Cluster__InstanceName="instance-$n" \
    EventSocket__Nodes__0__Address="$event_socket" EventSocket__Nodes__0__Password="$event_socket_password" \
      nohup dotnet "$here/src/FsDirectory/bin/$config/net10.0/FsDirectory.dll" --urls "http://127.0.0.1:${ports[$i]}" \
      --contentRoot "$here/src/FsDirectory" >"$dir/instance$n.log" 2>&1 &
    echo $! > "$dir/instance$n.pid"
  done
  for i in 0 1; do
    for _ in $(seq 1 150); do
      ready "${ports[$i]}" && break
      sleep 0.2
    done
    ready "${ports[$i]}" || { tail -20 "$dir/instance$((i + 1)).log" >&2; echo "cluster.sh: instance $((i + 1)) did not become ready" >&2; exit 1; }
  done
  cat <<EOF

FsDirectory scale-out demo is running:
  Galera nodes   127.0.0.11, 127.0.0.12, 127.0.0.13 (port 3407), data in .data/cluster/galera
  instance-1     http://127.0.0.1:${ports[0]}   (database nodes 127.0.0.11, then .12, .13)
  instance-2     http://127.0.0.1:${ports[1]}   (database nodes 127.0.0.12, then .13, .11)
  Event Socket   $event_socket (both instances; only the lease holder pushes)

  curl -s http://127.0.0.1:${ports[0]}/api/status     # lease holder, instances, database node
  scripts/galera.sh status .data/cluster/galera
  make stop                                      # stops the instances and the cluster
EOF
}

stop() {
  local n pid
  for n in 1 2; do
    if instance_running "$n"; then
      pid=$(cat "$dir/instance$n.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$dir/instance$n.pid"
  done
  [ -d "$dir/galera" ] && galera stop "$dir/galera"
  return 0
}

status() {
  local n
  for n in 1 2; do
    if instance_running "$n"; then echo "instance-$n running (http://127.0.0.1:${ports[$((n - 1))]})"; else echo "instance-$n stopped"; fi
  done
  [ -d "$dir/galera" ] && galera status "$dir/galera"
  return 0
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
