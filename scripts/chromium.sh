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
# shellcheck source=scripts/apt-install.sh
. "$(dirname "$0")/apt-install.sh"

present() { [ -x "$chromium" ] && [ -x "$driver" ]; }

ensure() {
  if present; then return 0; fi
  # shellcheck disable=SC2086
  apt_install chromium.sh "the browser tests need Chromium ($chromium) and chromedriver ($driver)" $packages
  present || die "installed $packages, but $chromium or $driver is still missing (FSDIR_CHROMIUM / FSDIR_CHROMEDRIVER point elsewhere?)"
}

case "${1:-}" in
  ensure) ensure ;;
  *) die "usage: $0 ensure" ;;
esac
