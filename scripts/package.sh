#!/usr/bin/env bash
# Builds the Debian package with Debian's own tooling (debian/, dh, dh_installsystemd) from the files git
# tracks (plus new ones it does not ignore), in a scratch copy, so nothing is written outside the project.
#
#   scripts/package.sh ensure        install debhelper, lintian, systemd (systemd-analyze), fakeroot when missing
#   scripts/package.sh build [DIR]   dist/fsdirectory_<version>_amd64.deb (or DIR/...)
#
# Like scripts/mariadb.sh: the tools are installed when run as root; otherwise the apt-get line is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

tools="debhelper lintian systemd fakeroot dpkg-dev man-db"
die() { echo "package.sh: $*" >&2; exit 1; }
# shellcheck source=scripts/apt-install.sh
. "$(dirname "$0")/apt-install.sh"

ensure() {
  if command -v dh >/dev/null && command -v lintian >/dev/null && command -v systemd-analyze >/dev/null \
     && command -v fakeroot >/dev/null && command -v dpkg-buildpackage >/dev/null && command -v man >/dev/null; then
    return 0
  fi
  # shellcheck disable=SC2086
  apt_install package.sh "packaging needs Debian's tools" $tools
}

build() {
  local out=${1:-dist}
  ensure
  local version
  version=$(dpkg-parsechangelog -S Version)
  local scratch=.data/package
  rm -rf "$scratch"
  mkdir -p "$scratch/fsdirectory-$version" "$out"
  git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf - | tar -xf - -C "$scratch/fsdirectory-$version"
  (cd "$scratch/fsdirectory-$version" && dpkg-buildpackage -us -uc -b --no-pre-clean >&2)
  cp "$scratch/fsdirectory_${version}_amd64.deb" "$out/"
  echo "$out/fsdirectory_${version}_amd64.deb"
}

case "${1:-}" in
  ensure) ensure ;;
  build) shift; build "$@" ;;
  *) die "usage: $0 ensure | build [DIR]" ;;
esac
