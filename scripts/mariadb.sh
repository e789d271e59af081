#!/usr/bin/env bash
# Provisions a private MariaDB server for `make run` / `make test`: Debian's mariadb-server,
# its own data directory inside the project, listening on loopback only (a free port is picked
# and remembered in DIR/port), so it never touches a system-wide server.
#
#   scripts/mariadb.sh start DIR               install if missing, initialise DIR, start, create the fsdir user
#   scripts/mariadb.sh stop DIR                stop the server started from DIR
#   scripts/mariadb.sh reset DIR               stop and delete DIR (throwaway test servers)
#   scripts/mariadb.sh apply DIR DB [--seed]   create DB, apply sql/schema.sql and sql/migrations/*.sql in
#                                              name order, load sql/seed-demo.sql when accounts is empty
#   scripts/mariadb.sh server DIR              connection string without a database (tests create their own)
#   scripts/mariadb.sh connection-string DIR DB
#   scripts/mariadb.sh sql DIR DB STATEMENT    run one statement as root (benchmarks shaping their data)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
user=fsdir
password=fsdir

die() { echo "$(basename "$0"): $*" >&2; exit 1; }
# shellcheck source=scripts/apt-install.sh
. "$(dirname "$0")/apt-install.sh"

find_bin() {
  local name bindir
  for name in "$@"; do
    for bindir in /usr/sbin /usr/bin /usr/local/sbin /usr/local/bin; do
      [ -x "$bindir/$name" ] && { echo "$bindir/$name"; return 0; }
    done
  done
  return 1
}

ensure_installed() {
  if find_bin mariadbd mysqld >/dev/null && find_bin mariadb mysql >/dev/null; then return 0; fi
  apt_install mariadb.sh "MariaDB is not installed" mariadb-server mariadb-client
}

abs() { mkdir -p "$1" && (cd "$1" && pwd); }

running() {
  local dir=$1
  [ -f "$dir/mariadb.pid" ] && kill -0 "$(cat "$dir/mariadb.pid")" 2>/dev/null
}

client() {
  local dir=$1; shift
  "$(find_bin mariadb mysql)" --no-defaults --socket="$dir/mariadb.sock" -uroot "$@"
}

free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return 0; fi
  done
  die "no free loopback port found"
}

start() {
  local dir; dir=$(abs "$1")
  ensure_installed
  if running "$dir"; then return 0; fi
  local os_user; os_user=$(id -un)
  if [ ! -d "$dir/data/mysql" ]; then
    rm -rf "$dir/data"
    "$(find_bin mariadb-install-db mysql_install_db)" --no-defaults --datadir="$dir/data" \
      --user="$os_user" --auth-root-authentication-method=normal --skip-test-db >"$dir/install.log" 2>&1 \
      || { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
  fi
  # A restart keeps the remembered port when it is still free, so clients' connection strings stay valid.
  local port
  if [ -f "$dir/port" ] && ! (exec 3<>"/dev/tcp/127.0.0.1/$(cat "$dir/port")") 2>/dev/null; then
    port=$(cat "$dir/port")
  else
    port=$(free_port)
  fi
  echo "$port" > "$dir/port"
  # Loopback only; no binary log (triggers need no extra privilege); relaxed flushing is fine for a
  # development/test server whose data is demo or throwaway.
  "$(find_bin mariadbd mysqld)" --no-defaults --datadir="$dir/data" --user="$os_user" \
    --socket="$dir/mariadb.sock" --pid-file="$dir/mariadb.pid" --log-error="$dir/error.log" \
    --bind-address=127.0.0.1 --port="$port" --skip-name-resolve --skip-log-bin \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 --max-connections=500 \
    >/dev/null 2>&1 &
  for _ in $(seq 1 100); do
    if client "$dir" -e 'SELECT 1' >/dev/null 2>&1; then break; fi
    sleep 0.2
  done
  client "$dir" -e 'SELECT 1' >/dev/null 2>&1 || { tail -20 "$dir/error.log" >&2 || true; die "server in $dir did not start"; }
  client "$dir" <<SQL
CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO '$user'@'127.0.0.1' WITH GRANT OPTION;
SQL
  echo "mariadb.sh: MariaDB running on 127.0.0.1:$port (data in $dir)" >&2
}

stop() {
  local dir=$1
  [ -d "$dir" ] || return 0
  dir=$(abs "$dir")
  if running "$dir"; then
    local pid; pid=$(cat "$dir/mariadb.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
}

apply() {
  local dir; dir=$(abs "$1"); local db=$2; local seed=${3:-}
  client "$dir" -e "CREATE DATABASE IF NOT EXISTS \`$db\` CHARACTER SET utf8mb4"
  client "$dir" "$db" < "$here/sql/schema.sql"
  for file in "$here"/sql/migrations/*.sql; do client "$dir" "$db" < "$file"; done
  if [ "$seed" = "--seed" ] && [ "$(client "$dir" -N "$db" -e 'SELECT COUNT(*) FROM accounts')" = "0" ]; then
    client "$dir" "$db" < "$here/sql/seed-demo.sql"
    echo "mariadb.sh: demo data loaded into $db" >&2
  fi
}

server() {
  local dir; dir=$(abs "$1")
  [ -f "$dir/port" ] || die "no server in $dir: run start first"
  echo "Server=127.0.0.1;Port=$(cat "$dir/port");User ID=$user;Password=$password"
}

# scripts/galera.sh sources this file for its helpers; only a direct run dispatches a command.
[ "${BASH_SOURCE[0]}" = "$0" ] || return 0

cmd=${1:-}; shift || true
case "$cmd" in
  start) start "$@" ;;
  stop) stop "$@" ;;
  reset) stop "$1"; rm -rf "$1" ;;
  apply) apply "$@" ;;
  server) server "$@" ;;
  connection-string) echo "$(server "$1");Database=$2" ;;
  sql) client "$(abs "$1")" "$2" -e "$3" ;;
  *) die "usage: $0 start|stop|reset|apply|server|connection-string|sql DIR [DB] [STATEMENT]" ;;
esac
