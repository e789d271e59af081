#!/usr/bin/env bash
# Debian's headless Chromium and chromedriver for the admin console's browser tests. Like scripts/mariadb.sh:
# installed when missing and run as root; otherwise the one apt-get command to run is printed and the script
# fails, so `make test` fails too (the browser tests never skip).
#
#   scripts/chromium.sh ensure
#
# FSDIR_CHROMIUM and FSDIR_CHROMEDRIVER name other binaries (defaults /usr/bin/chromium, /usr/bin/chromedriver);
# the tests read the same variables.
set -euo pipefail

chromium=${FSDIR_CHROMIUM:-/usr/bin/chromium}
driver=${FSDIR_CHROMEDRIVER:-/usr/bin/chromedriver}
packages="chromium chromium-driver"

die() { echo "chromium.sh: $*" >&2; exit 1; }

present() { [ -x "$chromium" ] && [ -x "$driver" ]; }

ensure() {
  if present; then return 0; fi
  if [ "$(id -u)" -ne 0 ]; then
    die "the browser tests need Chromium ($chromium) and chromedriver ($driver). Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $packages"
  fi
  echo "chromium.sh: installing Debian's $packages (first run only)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $packages >/dev/null
  present || die "installed $packages, but $chromium or $driver is still missing (FSDIR_CHROMIUM / FSDIR_CHROMEDRIVER point elsewhere?)"
}

case "${1:-}" in
  ensure) ensure ;;
  *) die "usage: $0 ensure" ;;
esac
