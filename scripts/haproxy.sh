#!/usr/bin/env bash
# Debian's HAProxy for the high-availability tests, which run the shipped freeswitch-conf/haproxy/fsdirectory.cfg
# in front of two real instances. Like scripts/chromium.sh: installed when missing and run as root; otherwise the
# one apt-get command to run is printed and the script fails, so `make test` fails too (the tests never skip).
# Only the binary is used: the tests start their own haproxy on free loopback ports; the package's service is not
# needed (and on a machine that is not a switch host it can stay disabled).
#
#   scripts/haproxy.sh ensure
#
# FSDIR_HAPROXY names another binary (default /usr/sbin/haproxy); the tests read the same variable.
set -euo pipefail

haproxy=${FSDIR_HAPROXY:-/usr/sbin/haproxy}

die() { echo "haproxy.sh: $*" >&2; exit 1; }
# shellcheck source=scripts/apt-install.sh
. "$(dirname "$0")/apt-install.sh"

ensure() {
  if [ -x "$haproxy" ]; then return 0; fi
  apt_install haproxy.sh "the high-availability tests need HAProxy ($haproxy)" haproxy
  [ -x "$haproxy" ] || die "installed haproxy, but $haproxy is still missing (FSDIR_HAPROXY points elsewhere?)"
}

case "${1:-}" in
  ensure) ensure ;;
  *) die "usage: $0 ensure" ;;
esac
