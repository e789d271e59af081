# Sourced by the provisioning scripts: installs Debian packages the way `make` does for everything it needs.
# As root they are installed (first run only); otherwise the one apt-get line to run is printed and the
# calling script fails, so `make test` fails too (nothing is ever skipped).
#
#   apt_install NAME "what they are for" PACKAGE...

apt_install() {
  local name=$1 purpose=$2
  shift 2
  if [ "$(id -u)" -ne 0 ]; then
    echo "$name: $purpose. Run: sudo apt-get update && sudo apt-get install -y --no-install-recommends $*" >&2
    exit 1
  fi
  echo "$name: installing Debian's $* (first run only)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
