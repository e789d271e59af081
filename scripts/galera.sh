#!/usr/bin/env bash
# A local three-node MariaDB Galera cluster on loopback, for `make cluster` and the cluster tests:
# Debian's mariadb-server (which brings galera-4 and rsync), one loopback address per node and the
# same ports on each, as separate hosts would have them, so one MySqlConnector `Port` serves a
# multi-host connection string. Data, sockets and logs live in DIR/node1..3.
#
#   scripts/galera.sh start DIR [PREFIX [PORT [GROUP_PORT]]]
#        nodes at PREFIX.11, PREFIX.12, PREFIX.13 (default 127.0.0), SQL on PORT (3407), group
#        communication on GROUP_PORT (4567), IST on GROUP_PORT+1, rsync SST on GROUP_PORT+2;
#        a restart reuses the addresses and ports remembered in DIR/cluster.env
#   scripts/galera.sh stop DIR                  stop every node (3, 2, then 1, so node 1 can bootstrap again)
#   scripts/galera.sh stop-node DIR N           stop node N (a clean leave); start-node DIR N rejoins it
#   scripts/galera.sh isolate-node DIR N 0|1    cut node N off the group (gmcast.isolate): it turns non-primary
#   scripts/galera.sh reset DIR                 stop and delete DIR
#   scripts/galera.sh apply DIR DB [--seed]     schema, migrations (and demo seed) through node 1; Galera replicates them
#   scripts/galera.sh server DIR [N]            connection string naming all three nodes, node N (1) first
#   scripts/galera.sh node-server DIR N         connection string for node N alone
#   scripts/galera.sh status DIR                one line per node: address, state, cluster size
set -euo pipefail
# shellcheck source=scripts/mariadb.sh
source "$(dirname "$0")/mariadb.sh"

provider=/usr/lib/galera/libgalera_smm.so

load_env() {
  local dir=$1
  [ -f "$dir/cluster.env" ] || die "no cluster in $dir: run start first"
  # shellcheck disable=SC1091
  source "$dir/cluster.env"
}

node_addr() { echo "$PREFIX.$((10 + $1))"; }
node_dir() { echo "$1/node$2"; }

node_client() {
  local dir=$1 n=$2; shift 2
  "$(find_bin mariadb mysql)" --no-defaults --socket="$(node_dir "$dir" "$n")/mariadb.sock" -uroot "$@"
}

# The server's own pid file appears only after a joiner's state transfer, so the pid is kept from the start.
node_pid() { cat "$(node_dir "$1" "$2")/server.pid" 2>/dev/null || true; }

node_running() {
  local pid; pid=$(node_pid "$1" "$2")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

node_state() { node_client "$1" "$2" -N -e "SHOW STATUS LIKE 'wsrep_local_state_comment'" 2>/dev/null | awk '{print $2}'; }

# rsync SST started by root drops to `nobody` and cannot write a root-owned data directory, so a
# root caller runs the nodes as Debian's `mysql` user, which owns their directories.
os_user() { if [ "$(id -u)" -eq 0 ] && id mysql >/dev/null 2>&1; then echo mysql; else id -un; fi; }

start_node() {
  local dir=$1 n=$2 bootstrap=${3:-}
  local d addr user cluster
  d=$(node_dir "$dir" "$n"); addr=$(node_addr "$n"); user=$(os_user)
  node_running "$dir" "$n" && return 0
  mkdir -p "$d"
  if [ ! -d "$d/data/mysql" ]; then
    rm -rf "$d/data"
    chown "$user" "$d"
    "$(find_bin mariadb-install-db mysql_install_db)" --no-defaults --datadir="$d/data" --user="$user" \
      --auth-root-authentication-method=normal --skip-test-db >"$d/install.log" 2>&1 \
      || { cat "$d/install.log" >&2; die "mariadb-install-db failed for node $n"; }
  fi
  chown -R "$user" "$d"
  cluster="gcomm://$(node_addr 1):$GROUP_PORT,$(node_addr 2):$GROUP_PORT,$(node_addr 3):$GROUP_PORT"
  local extra=()
  if [ "$bootstrap" = "--bootstrap" ]; then
    extra+=(--wsrep-new-cluster)
    # Whichever node stopped last may bootstrap; a dev cluster stopped with `stop` always ends with node 1.
    [ -f "$d/data/grastate.dat" ] && sed -i 's/^safe_to_bootstrap: 0/safe_to_bootstrap: 1/' "$d/data/grastate.dat"
  fi
  "$(find_bin mariadbd mysqld)" --no-defaults --datadir="$d/data" --user="$user" \
    --socket="$d/mariadb.sock" --pid-file="$d/mariadb.pid" --log-error="$d/error.log" \
    --bind-address="$addr" --port="$PORT" --skip-name-resolve --skip-log-bin \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-buffer-pool-size=64M --innodb-flush-log-at-trx-commit=2 --max-connections=300 \
    --binlog-format=ROW --default-storage-engine=InnoDB --innodb-autoinc-lock-mode=2 \
    --wsrep-on=ON --wsrep-provider="$provider" --wsrep-cluster-name=fsdirectory \
    --wsrep-cluster-address="$cluster" --wsrep-node-name="node$n" \
    --wsrep-node-address="$addr:$GROUP_PORT" --wsrep-node-incoming-address="$addr:$PORT" \
    --wsrep-sst-method=rsync --wsrep-sst-receive-address="$addr:$((GROUP_PORT + 2))" \
    --wsrep-provider-options="gmcast.listen_addr=tcp://$addr:$GROUP_PORT;ist.recv_addr=$addr:$((GROUP_PORT + 1));gcache.size=32M" \
    "${extra[@]}" >/dev/null 2>&1 &
  echo $! > "$d/server.pid"
  # A joiner copies the whole data directory from a donor first (SST), so give it time.
  for _ in $(seq 1 600); do
    [ "$(node_state "$dir" "$n")" = "Synced" ] && return 0
    node_running "$dir" "$n" || break
    sleep 0.2
  done
  [ "$(node_state "$dir" "$n")" = "Synced" ] || { grep -E '\[ERROR\]' "$d/error.log" | tail -5 >&2 || true; die "node $n ($addr) did not reach Synced (log: $d/error.log)"; }
}

start() {
  local dir; dir=$(abs "$1")
  ensure_installed
  [ -f "$provider" ] || die "$provider is missing: apt-get install -y galera-4"
  if [ ! -f "$dir/cluster.env" ]; then
    printf 'PREFIX=%s\nPORT=%s\nGROUP_PORT=%s\n' "${2:-127.0.0}" "${3:-3407}" "${4:-4567}" > "$dir/cluster.env"
  fi
  load_env "$dir"
  chmod 755 "$dir"
  local n any=
  for n in 1 2 3; do node_running "$dir" "$n" && any=1; done
  for n in 1 2 3; do
    if [ -z "$any" ] && [ "$n" = 1 ]; then start_node "$dir" 1 --bootstrap; else start_node "$dir" "$n"; fi
    any=1
  done
  node_client "$dir" 1 <<SQL
CREATE USER IF NOT EXISTS '$user'@'%' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO '$user'@'%' WITH GRANT OPTION;
SQL
  echo "galera.sh: 3-node Galera cluster on $(node_addr 1), $(node_addr 2), $(node_addr 3) port $PORT (data in $dir)" >&2
}

stop_node() {
  local dir=$1 n=$2 pid
  node_running "$dir" "$n" || return 0
  pid=$(node_pid "$dir" "$n")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}

stop() {
  local dir=$1
  [ -f "$dir/cluster.env" ] || return 0
  load_env "$dir"
  stop_node "$dir" 3; stop_node "$dir" 2; stop_node "$dir" 1
}

isolate_node() {
  local dir=$1 n=$2 on=$3
  load_env "$dir"
  node_client "$dir" "$n" -e "SET GLOBAL wsrep_provider_options='gmcast.isolate=$on'"
}

apply_cluster() {
  local dir=$1 db=$2 seed=${3:-}
  load_env "$dir"
  node_client "$dir" 1 -e "CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4"
  node_client "$dir" 1 "$db" < "$here/sql/schema.sql"
  local file
  for file in "$here"/sql/migrations/*.sql; do node_client "$dir" 1 "$db" < "$file"; done
  if [ "$seed" = "--seed" ] && [ "$(node_client "$dir" 1 -N "$db" -e 'SELECT COUNT(*) FROM accounts')" = "0" ]; then
    node_client "$dir" 1 "$db" < "$here/sql/seed-demo.sql"
    echo "galera.sh: demo data loaded into $db" >&2
  fi
}

status() {
  local dir=$1 n
  load_env "$dir"
  for n in 1 2 3; do
    if node_running "$dir" "$n"; then
      echo "node$n $(node_addr "$n"):$PORT $(node_state "$dir" "$n") size=$(node_client "$dir" "$n" -N -e "SHOW STATUS LIKE 'wsrep_cluster_size'" | awk '{print $2}')"
    else
      echo "node$n $(node_addr "$n"):$PORT stopped"
    fi
  done
}

cmd=${1:-}; shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  stop-node) load_env "$1"; stop_node "$1" "$2" ;;
  start-node) load_env "$1"; start_node "$(abs "$1")" "$2" ;;
  isolate-node) isolate_node "$@" ;;
  reset) stop "$1"; rm -rf "$1" ;;
  apply) apply_cluster "$@" ;;
  server) load_env "$1"; first=${2:-1}
    echo "Server=$(node_addr "$first"),$(node_addr $((first % 3 + 1))),$(node_addr $(((first + 1) % 3 + 1)));Port=$PORT;User ID=$user;Password=$password" ;;
  node-server) load_env "$1"; echo "Server=$(node_addr "$2");Port=$PORT;User ID=$user;Password=$password" ;;
  status) status "$@" ;;
  *) die "usage: $0 start|stop|stop-node|start-node|isolate-node|reset|apply|server|node-server|status DIR ..." ;;
esac
